"""Signed unsubscribe tokens: one report subscription, optionally an expiry, no sign-in needed.

Format ``v1.<subscription id>.<expiry as Unix seconds, or "-" for never>.<signature>``, where the signature is
HMAC-SHA256 (RFC 2104) keyed with SECRET_KEY over ``"unsubscribe.v1:<id>:<expiry>"`` in URL-safe base64
without padding (RFC 4648 §5). The purpose prefix keeps these signatures apart from any other use of the key.
Verification recomputes the signature and compares it in constant time (``hmac.compare_digest``) before
looking at the expiry, so a forged token learns nothing about it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime

VERSION = "v1"
PURPOSE = "unsubscribe.v1"
NEVER = "-"
_TOKEN = re.compile(r"v1\.([1-9][0-9]{0,18})\.(-|[0-9]{1,12})\.([A-Za-z0-9_-]{43})")


class InvalidToken(Exception):
    """The token is malformed, was not signed with this key, or has expired; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"unsubscribe link refused: {reason}")


def _signature(secret_key: str, subscription_id: int, expiry: str) -> str:
    """URL-safe base64 of HMAC-SHA256(secret_key, "unsubscribe.v1:<id>:<expiry>")."""
    if not secret_key:
        raise ValueError("SECRET_KEY is empty: unsubscribe tokens cannot be signed")
    mac = hmac.new(secret_key.encode(), f"{PURPOSE}:{subscription_id}:{expiry}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


def make_unsubscribe_token(subscription_id: int, secret_key: str, expires_at: datetime | None = None) -> str:
    """A token for ``subscription_id`` (a positive int) valid until ``expires_at`` (aware), or forever if None."""
    if isinstance(subscription_id, bool) or not isinstance(subscription_id, int) or subscription_id <= 0:
        raise ValueError(f"subscription id must be a positive integer; got {subscription_id!r}")
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware (UTC)")
    expiry = NEVER if expires_at is None else str(int(expires_at.timestamp()))
    return f"{VERSION}.{subscription_id}.{expiry}.{_signature(secret_key, subscription_id, expiry)}"


def read_unsubscribe_token(token: str, secret_key: str, now: datetime | None = None) -> int:
    """The subscription id a valid token names; ``InvalidToken`` if malformed, tampered with or expired."""
    match = _TOKEN.fullmatch(token.strip()) if isinstance(token, str) else None
    if match is None:
        raise InvalidToken("malformed token")
    subscription_id, expiry, signature = int(match[1]), match[2], match[3]
    if not hmac.compare_digest(signature, _signature(secret_key, subscription_id, expiry)):
        raise InvalidToken("bad signature")
    moment = now or datetime.now(UTC)
    if expiry != NEVER and moment.timestamp() >= int(expiry):
        raise InvalidToken("expired")
    return subscription_id
