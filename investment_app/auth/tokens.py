"""Random bearer tokens and their keyed hashes (what the database stores instead of the token)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from investment_app.settings import get_settings


def new_token() -> str:
    """A 256-bit random URL-safe token."""
    return secrets.token_urlsafe(32)


def token_id(token: str) -> str:
    """HMAC-SHA256 of ``token`` under SECRET_KEY, hex: the row id for a session or ticket."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
