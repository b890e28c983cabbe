"""Users, their roles, server-side sessions and sign-in bookkeeping."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp
from investment_app.models.column_types import enum_column


class Role(enum.StrEnum):
    """What a user may do: admin > analyst > viewer."""

    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "analyst": 1, "admin": 2}[self.value]

    def allows(self, required: Role) -> bool:
        """True when this role has at least the rights of ``required``."""
        return self.rank >= required.rank


class User(SQLModel, table=True):
    """A person who signs in. E-mail addresses are stored lower-cased and are unique."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    role: Role = Field(default=Role.ANALYST, sa_column=enum_column(Role, "user_role"))
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp(default_now=True)
    password_changed_at: datetime = timestamp(default_now=True)


class AuthSession(SQLModel, table=True):
    """A server-side sign-in session; the browser holds only the random token in an HttpOnly cookie.

    ``id`` is the keyed hash of that token, so a database leak does not leak usable cookies.
    """

    __tablename__ = "auth_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    created_at: datetime = timestamp(default_now=True)
    last_seen_at: datetime = timestamp(default_now=True)
    expires_at: datetime = timestamp()
    revoked_at: datetime | None = timestamp(nullable=True)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)


class LoginTicket(SQLModel, table=True):
    """A single-use, short-lived ticket that turns a verified sign-in into a session cookie."""

    __tablename__ = "login_ticket"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    expires_at: datetime = timestamp()


class LoginFailure(SQLModel, table=True):
    """One failed sign-in, kept for the rate limit (per account and per client address)."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(max_length=64, index=True)
    at: datetime = timestamp(default_now=True, index=True)
