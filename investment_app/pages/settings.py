"""Settings: profile, password, and the sessions that can use this account."""

from __future__ import annotations

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page, error_callout, field, sign_out_button, titled_card
from investment_app.db import session_scope
from investment_app.services import accounts
from investment_app.services.accounts import SessionRow
from investment_app.services.errors import InvalidInput, ServiceError
from investment_app.state import AppState, authorized, full_page_load


class SettingsState(AppState):
    """The settings page's view data and forms."""

    sessions: list[SessionRow] = []
    password_error: str = ""
    profile_error: str = ""

    def _reload_sessions(self, viewer: Viewer) -> None:
        with session_scope() as db:
            self.sessions = accounts.list_sessions(db, viewer)

    @rx.event
    @authorized()
    def load(self, viewer: Viewer) -> None:
        self.password_error = self.profile_error = ""
        self._reload_sessions(viewer)

    @rx.event
    @authorized()
    def save_profile(self, viewer: Viewer, form: dict):
        try:
            with session_scope() as db:
                accounts.update_profile(db, viewer, form.get("display_name", ""))
        except ServiceError as exc:
            self.profile_error = str(exc)
            return None
        self.profile_error, self.user_name = "", form["display_name"].strip()
        return rx.toast.success("Profile saved.")

    @rx.event
    @authorized()
    def change_password(self, viewer: Viewer, form: dict):
        try:
            if form.get("new", "") != form.get("confirm", ""):
                raise InvalidInput("The two new passwords differ.")
            with session_scope() as db:
                ended = accounts.change_password(db, viewer, form.get("current", ""), form.get("new", ""))
        except ServiceError as exc:
            self.password_error = str(exc)
            return None
        self.password_error = ""
        self._reload_sessions(viewer)
        return rx.toast.success(f"Password changed; {ended} other session(s) signed out.")

    @rx.event
    @authorized()
    def revoke(self, viewer: Viewer, session_id: str):
        with session_scope() as db:
            accounts.revoke_session(db, viewer, session_id)
        if session_id == viewer.session_id:
            return full_page_load("/api/auth/logout")
        self._reload_sessions(viewer)
        return rx.toast.success("Session signed out.")

    @rx.event
    @authorized()
    def sign_out_everywhere(self, viewer: Viewer):
        with session_scope() as db:
            accounts.sign_out_everywhere(db, viewer)
        return full_page_load("/api/auth/logout")


def profile_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            error_callout(SettingsState.profile_error),
            rx.text("E-mail: ", rx.text.strong(AppState.user_email), size="2"),
            field("Display name", "display_name", default_value=AppState.user_name, required=True),
            rx.button("Save profile", type="submit"),
            spacing="3",
            width="100%",
            align="start",
        ),
        on_submit=SettingsState.save_profile,
        width="100%",
    )


def password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            error_callout(SettingsState.password_error),
            field("Current password", "current", "password", auto_complete="current-password", required=True),
            field("New password", "new", "password", auto_complete="new-password", required=True),
            field("Repeat new password", "confirm", "password", auto_complete="new-password", required=True),
            rx.button("Change password", type="submit"),
            spacing="3",
            width="100%",
            align="start",
        ),
        on_submit=SettingsState.change_password,
        reset_on_submit=True,
        id="password-form",
        width="100%",
    )


def session_row(s: SessionRow) -> rx.Component:
    return rx.hstack(
        rx.icon("monitor-smartphone", size=20),
        rx.vstack(
            rx.hstack(
                rx.text(s.device, weight="medium"),
                rx.cond(s.current, rx.badge("this device", color_scheme="green")),
                spacing="2",
                align="center",
            ),
            rx.text(s.ip, " · signed in ", s.created, " · last used ", s.last_seen, size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.button("Sign out", size="1", variant="soft", color_scheme="red", on_click=SettingsState.revoke(s.id)),
        align="center",
        width="100%",
        padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


@app_page("/settings", "Settings", on_load=SettingsState.load)
def settings() -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("bell", size=16), "Notifications: alert e-mails, quiet hours, reports", align="center"),
            href="/settings/notifications",
        ),
        rx.link(
            rx.hstack(rx.icon("plug", size=16), "Brokers: Alpaca connections for trading", align="center"),
            href="/settings/brokers",
        ),
        titled_card("Profile", "How you appear in the app.", profile_form()),
        titled_card("Password", "Changing it signs out your other sessions.", password_form()),
        titled_card(
            "Sessions",
            "Every browser signed in to your account. Sign out the ones you do not recognise.",
            rx.vstack(rx.foreach(SettingsState.sessions, session_row), width="100%", spacing="0"),
            rx.hstack(
                rx.button(
                    "Sign out everywhere",
                    color_scheme="red",
                    on_click=SettingsState.sign_out_everywhere,
                    id="sign-out-everywhere",
                ),
                sign_out_button(),
                spacing="3",
                wrap="wrap",
            ),
        ),
        spacing="4",
        width="100%",
    )
