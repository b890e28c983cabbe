"""Signed, optionally expiring tokens for links in e-mails (e.g. confirming an address): no sign-in needed.

Format ``<field>.<field>…<expiry>.<signature>``: each field in URL-safe base64 without padding (RFC 4648 §5),
the expiry as Unix seconds or "-" for never, and the signature HMAC-SHA256 (RFC 2104) keyed with SECRET_KEY over
``"<purpose>:<the token up to the signature>"``. The purpose keeps one kind of token from passing as another.
Verification compares signatures in constant time before it looks at the expiry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

NEVER = "-"


class BadToken(Exception):
    """Malformed, not signed with this key for this purpose, or expired; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"link refused: {reason}")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _mac(purpose: str, body: str, secret_key: str) -> str:
    if not secret_key:
        raise ValueError("SECRET_KEY is empty: tokens cannot be signed")
    return _b64(hmac.new(secret_key.encode(), f"{purpose}:{body}".encode(), hashlib.sha256).digest())


def sign(purpose: str, fields: Sequence[str], secret_key: str, expires_at: datetime | None = None) -> str:
    """A token carrying ``fields`` for ``purpose``, valid until ``expires_at`` (aware) or forever."""
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware (UTC)")
    expiry = NEVER if expires_at is None else str(int(expires_at.timestamp()))
    body = ".".join([*(_b64(field.encode()) for field in fields), expiry])
    return f"{body}.{_mac(purpose, body, secret_key)}"


def verify(purpose: str, token: str, secret_key: str, count: int, now: datetime | None = None) -> list[str]:
    """The ``count`` fields of a valid token for ``purpose``; ``BadToken`` otherwise."""
    parts = token.strip().split(".") if isinstance(token, str) else []
    if len(parts) != count + 2:
        raise BadToken("malformed token")
    body, signature = ".".join(parts[:-1]), parts[-1]
    if not hmac.compare_digest(signature.encode(), _mac(purpose, body, secret_key).encode()):
        raise BadToken("bad signature")
    expiry = parts[-2]
    if expiry != NEVER and (not expiry.isdigit() or (now or datetime.now(UTC)).timestamp() >= int(expiry)):
        raise BadToken("expired")
    try:
        return [base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode() for part in parts[:count]]
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise BadToken("malformed token") from exc
