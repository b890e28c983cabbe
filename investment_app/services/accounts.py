"""Account use cases: register, sign in, profile, password, sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, select

from investment_app.auth import ratelimit, sessions
from investment_app.auth.passwords import dummy_verify, hash_password, password_problem, verify_password
from investment_app.auth.viewer import Viewer
from investment_app.models._time import utcnow
from investment_app.models.user import Role, User
from investment_app.services import audit
from investment_app.services.errors import InvalidInput, RateLimited
from investment_app.settings import get_settings

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
BAD_CREDENTIALS = "E-mail or password is incorrect."
LOCKED = "Too many failed sign-ins. Wait a few minutes and try again."


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased; raises InvalidInput when it is not an e-mail address."""
    email = (email or "").strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("Enter a valid e-mail address, like name@example.com.")
    return email


def _user_by_email(db: Session, email: str) -> User | None:
    return db.exec(select(User).where(User.email == email)).first()


def create_user(
    db: Session,
    email: str,
    password: str,
    display_name: str = "",
    role: Role | None = None,
    actor: Viewer | None = None,
) -> User:
    """Validate everything, then add the user and its audit record (nothing is written on error)."""
    email = normalize_email(email)
    problem = password_problem(password, email)
    if problem:
        raise InvalidInput(problem)
    if _user_by_email(db, email) is not None:
        raise InvalidInput("An account with this e-mail already exists. Sign in instead.")
    role = role or Role(get_settings().default_role)
    user = User(
        email=email,
        display_name=display_name.strip()[:120] or email.split("@")[0],
        password_hash=hash_password(password),
        role=role,
    )
    db.add(user)
    db.flush()
    audit.record(db, actor, "user.create", "user", user.id, after={"email": email, "role": role.value})
    return user


def sign_in(db: Session, email: str, password: str, ip: str) -> str:
    """Check the credentials under the rate limit; returns a single-use ticket for the cookie route.

    A wrong password and an unknown account get the same message and take the same time.
    """
    try:
        email = normalize_email(email)
    except InvalidInput:
        raise InvalidInput(BAD_CREDENTIALS) from None
    if ratelimit.is_limited(db, email, ip):
        raise RateLimited(LOCKED)
    user = _user_by_email(db, email)
    if user is None:
        dummy_verify(password)
    if user is None or not verify_password(user.password_hash, password) or not user.is_active:
        ratelimit.record_failure(db, email, ip)
        raise InvalidInput(BAD_CREDENTIALS)
    ratelimit.clear_account(db, email)
    return sessions.issue_ticket(db, user.id)


def open_session(db: Session, ticket: str, ip: str, user_agent: str) -> str | None:
    """Redeem a sign-in ticket for a session token (audited), or None when the ticket is not valid."""
    token = sessions.redeem_ticket(db, ticket, ip, user_agent)
    viewer = sessions.resolve(db, token)
    if viewer is not None:
        audit.record(db, viewer, "session.create", "session", viewer.session_id[:12], ip=ip)
    return token


def sign_out(db: Session, viewer: Viewer) -> None:
    """End the viewer's current session."""
    if sessions.revoke(db, viewer.user_id, viewer.session_id):
        audit.record(db, viewer, "session.end", "session", viewer.session_id[:12])


def acting_as(db: Session, email: str) -> Viewer:
    """The viewer a command-line call acts for (the shell is trusted; roles and ownership still apply)."""
    user = _user_by_email(db, normalize_email(email))
    if user is None or not user.is_active:
        raise InvalidInput(f"No active user with e-mail {email}.")
    return Viewer(user.id, user.email, user.display_name, user.role, session_id="cli")


def viewer_for(db: Session, user_id: int, session_id: str) -> Viewer | None:
    """The viewer a background job acts for on a user's behalf (None when the user is gone or inactive)."""
    user = db.get(User, user_id)
    return Viewer(user.id, user.email, user.display_name, user.role, session_id) if user and user.is_active else None


def update_profile(db: Session, viewer: Viewer, display_name: str) -> None:
    """Change the viewer's display name."""
    name = display_name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("Display name must be 1 to 120 characters.")
    user = db.get(User, viewer.user_id)
    audit.record(
        db,
        viewer,
        "user.profile",
        "user",
        viewer.user_id,
        before={"display_name": user.display_name},
        after={"display_name": name},
    )
    user.display_name = name
    db.add(user)


def change_password(db: Session, viewer: Viewer, current: str, new: str) -> int:
    """Change the viewer's password and sign out their other sessions; returns how many ended."""
    user = db.get(User, viewer.user_id)
    if not verify_password(user.password_hash, current):
        raise InvalidInput("Current password is incorrect.")
    problem = password_problem(new, user.email)
    if problem:
        raise InvalidInput(problem)
    if new == current:
        raise InvalidInput("New password must differ from the current one.")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    db.add(user)
    ended = sessions.revoke_all(db, user.id, keep=viewer.session_id)
    audit.record(db, viewer, "user.password", "user", user.id, after={"other_sessions_revoked": ended})
    return ended


@dataclass(frozen=True)
class SessionRow:
    """One of the viewer's live sessions, as listed on the settings page."""

    id: str
    created: str
    last_seen: str
    ip: str
    device: str
    current: bool


def list_sessions(db: Session, viewer: Viewer) -> list[SessionRow]:
    """The viewer's own live sessions."""
    return [
        SessionRow(
            row.id,
            row.created_at.strftime("%Y-%m-%d %H:%M"),
            row.last_seen_at.strftime("%Y-%m-%d %H:%M"),
            row.ip or "unknown",
            _device(row.user_agent),
            row.id == viewer.session_id,
        )
        for row in sessions.live_sessions(db, viewer.user_id)
    ]


def _device(user_agent: str) -> str:
    """A short description of a browser from its user agent."""
    ua = user_agent.lower()
    browser = next(
        (
            name
            for key, name in (("edg/", "Edge"), ("firefox", "Firefox"), ("chrom", "Chrome"), ("safari", "Safari"))
            if key in ua
        ),
        "Browser",
    )
    system = next(
        (
            name
            for key, name in (
                ("iphone", "iPhone"),
                ("android", "Android"),
                ("mac os", "macOS"),
                ("windows", "Windows"),
                ("linux", "Linux"),
            )
            if key in ua
        ),
        "",
    )
    return f"{browser} on {system}" if system else browser


def revoke_session(db: Session, viewer: Viewer, session_id: str) -> bool:
    """Sign out one of the viewer's own sessions."""
    ended = sessions.revoke(db, viewer.user_id, session_id)
    if ended:
        audit.record(db, viewer, "session.revoke", "session", session_id[:12])
    return ended


def sign_out_everywhere(db: Session, viewer: Viewer) -> int:
    """Revoke every session of the viewer, this one included."""
    ended = sessions.revoke_all(db, viewer.user_id)
    audit.record(db, viewer, "session.revoke_all", "user", viewer.user_id, after={"sessions": ended})
    return ended
