"""Sign-in page: verify on the server, then trade a single-use ticket for the HttpOnly cookie."""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from investment_app.components.layout import auth_card, error_callout, field
from investment_app.db import session_scope
from investment_app.services import accounts
from investment_app.services.errors import ServiceError
from investment_app.state import AppState, full_page_load

NOTICES = {
    "expired": "Your sign-in link expired. Please sign in again.",
}


def open_session(ticket: str, next_path: str = "/") -> rx.event.EventSpec:
    """Send the browser to the route that sets the session cookie."""
    return full_page_load(f"/api/auth/session?ticket={quote(ticket)}&next={quote(next_path)}")


class SignInState(AppState):
    """The sign-in form."""

    error: str = ""
    notice: str = ""
    busy: bool = False

    @rx.event
    def on_load(self):
        """Go straight to the app when already signed in; otherwise show why we are here."""
        self.busy = False
        params = self.router.url.query_parameters
        self.error = NOTICES.get(params.get("error", ""), "")
        self.notice = "You are signed out." if params.get("signed_out") else ""
        viewer, badge = self._resolve()
        self._show(viewer, badge)
        if viewer is not None:
            return rx.redirect("/", replace=True)
        return None

    @rx.event
    def sign_in(self, form: dict):
        """Check the credentials (rate-limited, same message for any failure) and open a session."""
        self.busy, self.notice = True, ""
        try:
            with session_scope() as db:
                ticket = accounts.sign_in(
                    db, form.get("email", ""), form.get("password", ""), self.router.session.client_ip
                )
        except ServiceError as exc:
            self.error, self.busy = str(exc), False
            return None
        self.error = ""
        return open_session(ticket, self.router.url.query_parameters.get("next", "/"))


@rx.page(route="/signin", title="Sign in · Investment App", on_load=SignInState.on_load)
def signin() -> rx.Component:
    return auth_card(
        "Sign in",
        "Track, analyze and rebalance your portfolio.",
        rx.cond(SignInState.notice != "", rx.callout(SignInState.notice, icon="info", width="100%")),
        error_callout(SignInState.error),
        rx.form(
            rx.vstack(
                field(
                    "E-mail", "email", "email", placeholder="you@example.com", auto_complete="username", required=True
                ),
                field("Password", "password", "password", auto_complete="current-password", required=True),
                rx.button(
                    "Sign in",
                    type="submit",
                    size="3",
                    width="100%",
                    loading=SignInState.busy,
                    disabled=~rx.State.is_hydrated,
                    id="sign-in-submit",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=SignInState.sign_in,
            width="100%",
        ),
        rx.text("New here? ", rx.link("Create an account", href="/register"), size="2"),
    )
