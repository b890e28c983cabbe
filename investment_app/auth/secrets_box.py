"""Secrets at rest (broker keys): Fernet (AES-128-CBC + HMAC-SHA256, the ``cryptography`` package) under a key
derived from SECRET_KEY with HKDF-SHA256 (info "investment-app secrets at rest"). Changing SECRET_KEY makes
stored secrets unreadable: they must be entered again."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"investment-app secrets at rest"


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted (SECRET_KEY changed, or the value was tampered with)."""


def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise ValueError("SECRET_KEY is empty")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def seal(plaintext: str, secret_key: str) -> str:
    """``plaintext`` encrypted and authenticated, as URL-safe text."""
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def unseal(token: str, secret_key: str) -> str:
    """The plaintext of a sealed value; SecretUnreadable when the key is wrong or the value was altered."""
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("a stored secret could not be decrypted; enter the broker keys again") from exc
