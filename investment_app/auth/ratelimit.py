"""Rate limit on failed sign-ins, per account and per client address, shared by all workers.

Failures live in the database (``login_failure``), so every worker and process sees the
same counts. An account is locked after LOGIN_MAX_FAILURES failures within
LOGIN_WINDOW_MINUTES; an address after four times that many (several people may share one).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from investment_app.models._time import utcnow
from investment_app.models.user import LoginFailure
from investment_app.settings import get_settings

ADDRESS_FACTOR = 4


def _window() -> timedelta:
    return timedelta(minutes=get_settings().login_window_minutes)


def _failures(db: Session, column, value: str) -> int:
    since = utcnow() - _window()
    stmt = select(func.count()).select_from(LoginFailure).where(column == value, col(LoginFailure.at) >= since)
    return db.exec(stmt).one()


def is_limited(db: Session, email: str, ip: str) -> bool:
    """True when the account or the address has used up its failures for the window."""
    limit = get_settings().login_max_failures
    return _failures(db, col(LoginFailure.email), email) >= limit or (
        bool(ip) and _failures(db, col(LoginFailure.ip), ip) >= limit * ADDRESS_FACTOR
    )


def record_failure(db: Session, email: str, ip: str) -> None:
    """Count one failure and forget the ones older than the window."""
    db.add(LoginFailure(email=email, ip=ip[:64], at=utcnow()))
    db.exec(delete(LoginFailure).where(col(LoginFailure.at) < utcnow() - _window()))  # type: ignore[call-overload]


def clear_account(db: Session, email: str) -> None:
    """Forget an account's failures after a successful sign-in."""
    db.exec(delete(LoginFailure).where(col(LoginFailure.email) == email))  # type: ignore[call-overload]
