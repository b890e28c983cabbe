"""Who is calling an API route: the session cookie resolved on the server, plus role checks."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request

from investment_app.auth import sessions
from investment_app.auth.viewer import Viewer
from investment_app.db import session_scope
from investment_app.models.user import Role


def client_ip(request: Request) -> str:
    """The peer address of the request."""
    return request.client.host if request.client else ""


def current_viewer(request: Request) -> Viewer | None:
    """The signed-in viewer, or None (unknown, expired or revoked session)."""
    with session_scope() as db:
        return sessions.resolve(db, request.cookies.get(sessions.COOKIE_NAME))


def require_role(role: Role) -> Callable[[Request], Viewer]:
    """A FastAPI dependency: 401 without a live session, 403 below ``role``."""

    def dependency(request: Request) -> Viewer:
        viewer = current_viewer(request)
        if viewer is None:
            raise HTTPException(status_code=401, detail="Sign in first.")
        if not viewer.role.allows(role):
            raise HTTPException(status_code=403, detail=f"This needs the {role.value} role.")
        return viewer

    return dependency
