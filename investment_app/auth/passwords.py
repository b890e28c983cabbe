"""Password hashing with argon2id (memory-hard) and password-strength rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's first recommended argon2id profile: m = 19 MiB, t = 2, p = 1.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

MIN_LENGTH = 10
_COMMON = frozenset(
    {
        "password",
        "passw0rd",
        "1234567890",
        "qwertyuiop",
        "letmein123",
        "iloveyou12",
        "administrator",
        "password12",
        "password123",
        "welcome123",
        "changeme123",
        "qwerty1234",
        "0987654321",
    }
)


def hash_password(password: str) -> str:
    """An argon2id hash in PHC format (the salt and the parameters travel inside it)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises on a malformed hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)


def dummy_verify(password: str) -> None:
    """Spend the time of a real verification, so unknown accounts cannot be told apart by timing."""
    verify_password(_DUMMY_HASH, password)


_DUMMY_HASH = _HASHER.hash("not-a-real-password")


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` is too weak, or None when it is acceptable.

    Rules: at least 10 characters; at least two kinds of character (letters, digits,
    symbols) unless 16 or more long; not a well-known password; not the e-mail's name.
    """
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters long."
    if len(password) > 1024:
        return "Password must be at most 1024 characters long."
    kinds = sum(
        (any(c.isalpha() for c in password), any(c.isdigit() for c in password), any(not c.isalnum() for c in password))
    )
    if kinds < 2 and len(password) < 16:
        return "Password must mix letters with digits or symbols (or be 16+ characters long)."
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) < 4:
        return "Password is too common or repetitive; choose another."
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        return "Password must not contain your e-mail name."
    return None
