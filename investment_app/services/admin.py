"""Admin use cases: list users, change roles, deactivate and reactivate accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from investment_app.auth import sessions
from investment_app.auth.viewer import Viewer
from investment_app.models.user import Role, User
from investment_app.services import audit
from investment_app.services.errors import InvalidInput


@dataclass(frozen=True)
class UserRow:
    """A user as listed on the admin page."""

    id: int
    email: str
    display_name: str
    role: str
    active: bool
    created: str


def list_users(db: Session, viewer: Viewer) -> list[UserRow]:
    """All users, oldest first (admins only)."""
    viewer.require(Role.ADMIN)
    users = db.exec(select(User).order_by(col(User.id))).all()
    return [
        UserRow(u.id, u.email, u.display_name, u.role.value, u.is_active, u.created_at.strftime("%Y-%m-%d"))
        for u in users
    ]


def _target(db: Session, viewer: Viewer, user_id: int) -> User:
    viewer.require(Role.ADMIN)
    user = db.get(User, user_id)
    if user is None:
        raise InvalidInput(f"No user with id {user_id}.")
    if user.id == viewer.user_id:
        raise InvalidInput("You cannot change your own role or status; ask another admin.")
    return user


def set_role(db: Session, viewer: Viewer, user_id: int, role: str) -> None:
    """Give a user another role (admins only, never their own)."""
    try:
        new_role = Role(role)
    except ValueError:
        raise InvalidInput(f"Unknown role {role!r}; use admin, analyst or viewer.") from None
    user = _target(db, viewer, user_id)
    audit.record(
        db, viewer, "user.role", "user", user.id, before={"role": user.role.value}, after={"role": new_role.value}
    )
    user.role = new_role
    db.add(user)


def set_active(db: Session, viewer: Viewer, user_id: int, active: bool) -> None:
    """Deactivate (and sign out everywhere) or reactivate a user (admins only)."""
    user = _target(db, viewer, user_id)
    audit.record(
        db, viewer, "user.active", "user", user.id, before={"active": user.is_active}, after={"active": active}
    )
    user.is_active = active
    db.add(user)
    if not active:
        sessions.revoke_all(db, user.id)
