"""Server-side sessions: created from a single-use ticket, expiring, revocable.

The browser holds only a random token in an HttpOnly cookie; the database stores its keyed
hash (``token_id``). A session ends at ``expires_at``, after SESSION_IDLE_HOURS without use,
when revoked, or when its user is deactivated.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from investment_app.auth.tokens import new_token, token_id
from investment_app.auth.viewer import Viewer
from investment_app.models._time import as_utc, utcnow
from investment_app.models.user import AuthSession, LoginTicket, User
from investment_app.settings import get_settings

COOKIE_NAME = "inv_session"
TICKET_TTL = timedelta(minutes=2)
_TOUCH_EVERY = timedelta(minutes=1)


def issue_ticket(db: Session, user_id: int) -> str:
    """A single-use ticket, valid two minutes, that the cookie route exchanges for a session."""
    raw = new_token()
    db.add(LoginTicket(id=token_id(raw), user_id=user_id, expires_at=utcnow() + TICKET_TTL))
    return raw


def redeem_ticket(db: Session, raw_ticket: str, ip: str = "", user_agent: str = "") -> str | None:
    """Consume a ticket and open a session; returns the raw session token, or None."""
    ticket = db.get(LoginTicket, token_id(raw_ticket)) if raw_ticket else None
    if ticket is None:
        return None
    db.delete(ticket)
    user = db.get(User, ticket.user_id)
    if as_utc(ticket.expires_at) < utcnow() or user is None or not user.is_active:
        return None
    raw = new_token()
    now = utcnow()
    db.add(
        AuthSession(
            id=token_id(raw),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=get_settings().session_hours),
            ip=ip[:64],
            user_agent=user_agent[:255],
        )
    )
    return raw


def is_live(row: AuthSession, now: datetime) -> bool:
    """True when the session is neither revoked, expired, nor idle too long."""
    idle = timedelta(hours=get_settings().session_idle_hours)
    return row.revoked_at is None and as_utc(row.expires_at) > now and as_utc(row.last_seen_at) + idle > now


def resolve(db: Session, raw_token: str | None) -> Viewer | None:
    """The viewer behind a session token, or None when the token is unknown, expired or revoked."""
    if not raw_token:
        return None
    row = db.get(AuthSession, token_id(raw_token))
    now = utcnow()
    if row is None or not is_live(row, now):
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if now - as_utc(row.last_seen_at) > _TOUCH_EVERY:
        row.last_seen_at = now
        db.add(row)
    return Viewer(user.id, user.email, user.display_name, user.role, row.id)


def revoke(db: Session, user_id: int, session_id: str) -> bool:
    """Revoke one of the user's sessions; False when it is not theirs or already ended."""
    row = db.get(AuthSession, session_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    db.add(row)
    return True


def revoke_all(db: Session, user_id: int, keep: str | None = None) -> int:
    """Revoke every live session of the user (except ``keep``); returns how many."""
    stmt = (
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    if keep:
        stmt = stmt.where(col(AuthSession.id) != keep)
    return db.exec(stmt).rowcount  # type: ignore[call-overload]


def live_sessions(db: Session, user_id: int) -> list[AuthSession]:
    """The user's sessions that can still be used, newest first."""
    now = utcnow()
    rows = db.exec(
        select(AuthSession)
        .where(AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))
        .order_by(col(AuthSession.last_seen_at).desc())
    ).all()
    return [row for row in rows if is_live(row, now)]
