"""Shared base State: who is signed in, resolved on the server for every guarded event.

The browser holds only an HttpOnly session cookie. Reflex passes the websocket handshake's
Cookie header to the backend (never back to the browser), so every guarded handler reads it,
resolves the session in the database, checks the role, and only then loads data.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
from collections.abc import Callable, Sequence
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar

import reflex as rx

from investment_app import live
from investment_app.analytics.errors import AnalyticsError
from investment_app.auth import sessions
from investment_app.auth.viewer import Viewer
from investment_app.db import session_scope
from investment_app.models.user import Role
from investment_app.services import accounts, alerts, portfolios
from investment_app.services.errors import InvalidInput, NoTransactions, ServiceError
from investment_app.services.portfolios import PortfolioRow

SIGN_IN_ROUTE = "/signin"
T = TypeVar("T")


def _cookie_token(cookie_header: str) -> str | None:
    try:
        jar = SimpleCookie(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(sessions.COOKIE_NAME)
    return morsel.value if morsel else None


def full_page_load(url: str) -> rx.event.EventSpec:
    """Navigate the whole page (not the client-side router), e.g. to an /api route that sets a cookie."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


class AppState(rx.State):
    """The signed-in user as the pages show it; authorization never relies on these vars."""

    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    open_alerts: int = 0
    """The badge: the viewer's open alerts (refreshed on every guarded event, pushed when one fires)."""
    _user_id: int = 0

    def _resolve(self) -> tuple[Viewer | None, int]:
        """The viewer and their open alerts (the badge); records this tab's user for pushed alerts."""
        token = _cookie_token(self.router.headers.raw_headers.get("cookie", ""))
        with session_scope() as db:
            viewer = sessions.resolve(db, token)
            badge = alerts.open_count(db, viewer.user_id) if viewer else 0
        live.register(self.router.session.client_token, viewer.user_id if viewer else 0)
        return viewer, badge

    def _show(self, viewer: Viewer | None, badge: int = 0) -> None:
        """Mirror the viewer into the public vars; forget every loaded var when the user changes."""
        user_id = viewer.user_id if viewer else 0
        if user_id != self._user_id:
            self._get_root_state().reset()
            self._user_id = user_id
        self.user_email = viewer.email if viewer else ""
        self.user_name = viewer.display_name if viewer else ""
        self.user_role = viewer.role.value if viewer else ""
        self.open_alerts = badge

    def _to_sign_in(self) -> rx.event.EventSpec:
        path = self.router.url.path or "/"
        target = SIGN_IN_ROUTE if path.startswith(SIGN_IN_ROUTE) else f"{SIGN_IN_ROUTE}?next={path}"
        return rx.redirect(target, replace=True)

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == Role.ADMIN.value

    @rx.var
    def can_edit(self) -> bool:
        return self.user_role in (Role.ADMIN.value, Role.ANALYST.value)

    @rx.var
    def initials(self) -> str:
        words = (self.user_name or self.user_email).replace("@", " ").split()
        return "".join(w[0] for w in words[:2]).upper() or "?"


def authorized(role: Role = Role.VIEWER, background: bool = False) -> Callable:
    """Decorate a State event handler so it runs only for a signed-in user with at least ``role``.

    The handler receives the resolved ``Viewer`` as its first argument after ``self``. Without a
    valid session the visitor is sent to sign in; with too low a role nothing runs and a toast
    says why. A ServiceError raised by the handler becomes an error toast. Async handlers resolve
    the viewer in a worker thread, so the event loop never waits on the database. ``background``
    marks a handler declared with ``@rx.event(background=True)``: the guard then takes the state's
    lock to record the viewer, and the handler takes it again for its own changes.
    """

    def decorate(handler: Callable) -> Callable:
        def admit(self: AppState, viewer: Viewer | None, badge: int):
            self._show(viewer, badge)
            if viewer is None:
                return self._to_sign_in()
            if not viewer.role.allows(role):
                return [rx.redirect("/"), rx.toast.error(f"This page needs the {role.value} role.")]
            return None

        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def wrapper(self: AppState, *args: Any, **kwargs: Any):
                viewer, badge = await asyncio.to_thread(self._resolve)
                async with self if background else contextlib.nullcontext():
                    refusal = admit(self, viewer, badge)
                if refusal is not None:
                    return refusal
                try:
                    return await handler(self, viewer, *args, **kwargs)
                except ServiceError as exc:
                    return rx.toast.error(str(exc))

        else:

            @functools.wraps(handler)
            def wrapper(self: AppState, *args: Any, **kwargs: Any):
                viewer, badge = self._resolve()
                if (refusal := admit(self, viewer, badge)) is not None:
                    return refusal
                try:
                    return handler(self, viewer, *args, **kwargs)
                except ServiceError as exc:
                    return rx.toast.error(str(exc))

        params = list(inspect.signature(handler).parameters.values())
        wrapper.__signature__ = inspect.Signature([params[0], *params[2:]])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {k: v for k, v in handler.__annotations__.items() if k != "viewer"}
        wrapper.required_role = role  # type: ignore[attr-defined]
        return wrapper

    return decorate


class SessionState(AppState):
    """Page guards shared by every page in the shell."""

    @rx.event
    @authorized()
    def require_sign_in(self, viewer: Viewer) -> None:
        """on_load of pages that need nothing but a signed-in user."""

    @rx.event
    @authorized()
    def sign_out(self, viewer: Viewer):
        """Revoke this session on the server, forget every loaded var, then clear the cookie."""
        with session_scope() as db:
            accounts.sign_out(db, viewer)
        self._show(None)
        return full_page_load("/api/auth/logout")


class PortfolioState(AppState):
    """The portfolio the ledger pages show; shared by them, so a choice carries from page to page."""

    portfolios: list[PortfolioRow] = []
    selected: str = ""
    loading: bool = False
    empty: bool = False

    def _choose(self, viewer: Viewer) -> bool:
        """Load the viewer's portfolios and keep ``?p=<id>``, else the current choice, else the first."""
        with session_scope() as db:
            self.portfolios = portfolios.list_portfolios(db, viewer)
        ids = [str(p.id) for p in self.portfolios]
        wanted = self.router.url.query_parameters.get("p", self.selected)
        self.selected = wanted if wanted in ids else (ids[0] if ids else "")
        return bool(self.selected)

    async def _computed(self, viewer: Viewer, compute: Callable[[Viewer, int], T]) -> T | None:
        """``compute`` for the selected portfolio, run off the event loop; None (``empty``) without transactions."""
        self.loading, self.empty = True, False
        try:
            return await asyncio.to_thread(compute, viewer, int(self.selected))
        except InvalidInput:
            self.empty = True
            return None
        finally:
            self.loading = False

    @rx.var
    def selected_is_mine(self) -> bool:
        return any(p.mine for p in self.portfolios if str(p.id) == self.selected)


class AnalysisState(PortfolioState):
    """Shared by the analysis pages: one computation at a time in a background event, with progress.

    A page's background handler calls ``_staged`` with its steps; a newer run (another portfolio or
    other parameters) supersedes an older one, whose results are then dropped.
    """

    running: bool = False
    progress: int = 0
    stage: str = ""
    error: str = ""
    _generation: int = 0

    async def _staged(self, steps: Sequence[tuple[str, Callable[[], Any]]]) -> list[Any] | None:
        """Run ``steps`` (label, work) one after the other off the event loop; their results, or None
        when superseded, when the portfolio has no transactions (``empty``) or on an error (``error``)."""
        async with self:
            self._generation += 1
            generation = self._generation
            self.running, self.progress, self.stage, self.error, self.empty = True, 0, "", "", False
        results: list[Any] = []
        try:
            for done, (label, work) in enumerate(steps):
                async with self:
                    if self._generation != generation:
                        return None
                    self.stage, self.progress = label, round(100 * done / len(steps))
                results.append(await asyncio.to_thread(work))
        except NoTransactions:
            async with self:
                self.empty = True
            return None
        except (ServiceError, AnalyticsError) as exc:
            async with self:
                self.error = str(exc)
            return None
        finally:
            async with self:
                if self._generation == generation:
                    self.running, self.progress = False, 100
        async with self:
            return results if self._generation == generation else None
