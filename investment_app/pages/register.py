"""Registration page: create the account, then sign in straight away."""

from __future__ import annotations

import reflex as rx

from investment_app.auth import sessions
from investment_app.components.layout import auth_card, error_callout, field
from investment_app.db import session_scope
from investment_app.pages.signin import open_session
from investment_app.services import accounts
from investment_app.services.errors import InvalidInput, ServiceError
from investment_app.state import AppState


class RegisterState(AppState):
    """The registration form."""

    error: str = ""
    busy: bool = False

    @rx.event
    def register(self, form: dict):
        """Validate everything, create the user (one transaction) and open a session."""
        self.busy = True
        try:
            if form.get("password", "") != form.get("confirm", ""):
                raise InvalidInput("The two passwords differ.")
            with session_scope() as db:
                user = accounts.create_user(db, form.get("email", ""), form.get("password", ""), form.get("name", ""))
                ticket = sessions.issue_ticket(db, user.id)
        except ServiceError as exc:
            self.error, self.busy = str(exc), False
            return None
        self.error = ""
        return open_session(ticket)


@rx.page(route="/register", title="Create account · Investment App")
def register() -> rx.Component:
    return auth_card(
        "Create your account",
        "Free, open source, and your data stays on your server.",
        error_callout(RegisterState.error),
        rx.form(
            rx.vstack(
                field("Name", "name", placeholder="Ada Lovelace", auto_complete="name"),
                field("E-mail", "email", "email", placeholder="you@example.com", auto_complete="email", required=True),
                field("Password", "password", "password", auto_complete="new-password", required=True),
                rx.text(
                    "At least 10 characters, mixing letters with digits or symbols.", size="1", color_scheme="gray"
                ),
                field("Repeat password", "confirm", "password", auto_complete="new-password", required=True),
                rx.button(
                    "Create account",
                    type="submit",
                    size="3",
                    width="100%",
                    loading=RegisterState.busy,
                    disabled=~rx.State.is_hydrated,
                    id="register-submit",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=RegisterState.register,
            width="100%",
        ),
        rx.text("Already have an account? ", rx.link("Sign in", href="/signin"), size="2"),
    )
