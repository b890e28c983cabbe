"""Password hashing (argon2id) and strength rules."""

from argon2 import PasswordHasher, extract_parameters
from argon2.low_level import Type

from investment_app.auth.passwords import hash_password, needs_rehash, password_problem, verify_password


def test_hash_is_argon2id_with_memory_hard_parameters():
    hashed = hash_password("correct horse 42")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    extracted = extract_parameters(hashed)
    assert extracted.type is Type.ID and extracted.memory_cost == 19 * 1024 and extracted.time_cost == 2


def test_verify_accepts_the_right_password_only():
    hashed = hash_password("correct horse 42")
    assert verify_password(hashed, "correct horse 42")
    assert not verify_password(hashed, "correct horse 43")
    assert not verify_password("not-a-hash", "correct horse 42")


def test_salted_hashes_differ_for_the_same_password():
    assert hash_password("same password 1") != hash_password("same password 1")


def test_weaker_parameters_need_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("old password 1")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("new password 1"))


def test_password_rules_name_the_problem():
    assert "at least 10" in password_problem("short1")
    assert "mix" in password_problem("onlyletterslong")
    assert "repetitive" in password_problem("a" * 16 + "b" * 4)
    assert "common" in password_problem("password123")
    assert "e-mail" in password_problem("alice-rocks-2024", "alice@example.com")
    assert password_problem("correct horse 42", "bob@example.com") is None
    assert password_problem("averylongpassphrasewithoutdigits") is None
