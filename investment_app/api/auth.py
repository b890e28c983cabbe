"""The only routes that touch the session cookie: ticket → HttpOnly cookie, and sign-out.

Sign-in itself runs in a Reflex event (form, validation, rate limit); it ends by sending the
browser here with a single-use ticket, because only an HTTP response can set an HttpOnly cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from investment_app.api.viewer import client_ip, current_viewer
from investment_app.auth import sessions
from investment_app.auth.viewer import Viewer
from investment_app.db import session_scope
from investment_app.services import accounts
from investment_app.settings import get_settings

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _safe_next(target: str) -> str:
    """Only same-site relative paths; anything else goes to the dashboard (no open redirect)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


@router.get("/session", include_in_schema=False)
def open_session(request: Request, ticket: str = "", next: str = "/") -> RedirectResponse:
    """Exchange a sign-in ticket for the session cookie and go on to ``next``."""
    with session_scope() as db:
        token = accounts.open_session(db, ticket, client_ip(request), request.headers.get("user-agent", ""))
    if token is None:
        return RedirectResponse("/signin?error=expired", status_code=303)
    response = RedirectResponse(_safe_next(next), status_code=303)
    settings = get_settings()
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


@router.get("/logout", include_in_schema=False)
def logout(viewer: Annotated[Viewer | None, Depends(current_viewer)]) -> RedirectResponse:
    """Revoke the session (if still live), clear the cookie and show the sign-in page."""
    if viewer is not None:
        with session_scope() as db:
            accounts.sign_out(db, viewer)
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    response.delete_cookie(sessions.COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response
