"""Settings · Brokers: the user's Alpaca connections (paper or live keys, sealed at rest, shown only by the key id's
last four characters), added and deleted here; a portfolio picks one on Rebalance → Settings.

The key id and secret reach the server once, as the submitted form, and go straight to the service: they are never
kept in a State var (the form is remounted empty after a successful submit)."""

from __future__ import annotations

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page, error_callout, field, field_row, titled_card
from investment_app.db import session_scope
from investment_app.services import brokers
from investment_app.services.brokers import ConnectionRow
from investment_app.services.errors import ServiceError
from investment_app.state import AppState, authorized


class BrokersState(AppState):
    """The viewer's broker connections (no key material beyond the hint)."""

    connections: list[ConnectionRow] = []
    error: str = ""
    form_version: int = 0

    def _reload(self, viewer: Viewer) -> None:
        with session_scope() as db:
            self.connections = brokers.list_connections(db, viewer)

    @rx.event
    @authorized()
    def load(self, viewer: Viewer) -> None:
        self.error = ""
        self._reload(viewer)

    @rx.event
    @authorized()
    def add(self, viewer: Viewer, form: dict):
        try:
            with session_scope() as db:
                row = brokers.add_connection(
                    db,
                    viewer,
                    name=str(form.get("name", "")),
                    key_id=str(form.get("key_id", "")),
                    secret=str(form.get("secret", "")),
                    live=bool(form.get("live")),
                    url_override=str(form.get("url", "")),
                )
        except ServiceError as exc:
            self.error = str(exc)
            return None
        self.error = ""
        self.form_version += 1  # a fresh, empty form: the keys leave the page
        self._reload(viewer)
        return rx.toast.success(f"Connection {row.name!r} added.")

    @rx.event
    @authorized()
    def delete(self, viewer: Viewer, connection_id: int):
        with session_scope() as db:
            brokers.delete_connection(db, viewer, connection_id)
        self._reload(viewer)
        return rx.toast.success("Connection deleted; portfolios that used it now trade on paper.")


def delete_button(c: ConnectionRow) -> rx.Component:
    """Delete, after a confirmation."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.icon_button(rx.icon("trash-2", size=16), variant="ghost", color_scheme="red", aria_label="Delete")
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete connection ", c.name, "?"),
            rx.alert_dialog.description(
                "Its keys are erased. Portfolios that trade through it fall back to the paper broker."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=BrokersState.delete(c.id), id="confirm-delete")
                ),
                justify="end",
                spacing="2",
                margin_top="1rem",
            ),
        ),
    )


def connection_row(c: ConnectionRow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.text(c.name, weight="medium"),
                rx.badge(rx.cond(c.live, "live", "paper"), color_scheme=rx.cond(c.live, "red", "blue")),
                align="center",
                wrap="wrap",
            ),
            rx.text(
                "Key …",
                c.key_hint,
                rx.cond(c.url_override != "", " · " + c.url_override, " · Alpaca's API"),
                " · added ",
                c.created,
                size="1",
                color_scheme="gray",
                word_break="break-all",
            ),
            spacing="1",
            min_width="0",
            flex="1",
        ),
        delete_button(c),
        align="center",
        width="100%",
        padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="connection",
    )


def add_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field_row(
                field("Name", "name", placeholder="My Alpaca paper account", max_length=120, required=True),
                field("API key id", "key_id", auto_complete="off", spell_check=False, required=True),
                field("API secret", "secret", "password", auto_complete="new-password", required=True),
            ),
            field("API URL (optional)", "url", "url", placeholder="leave blank for Alpaca's own (paper or live)"),
            rx.checkbox("Live trading keys (real money)", name="live", id="live"),
            rx.callout(
                "Keys are encrypted at rest and never sent back to the browser; only the key id's last four "
                "characters are shown.",
                icon="lock",
                size="1",
                width="100%",
            ),
            error_callout(BrokersState.error),
            rx.button("Add connection", type="submit", size="3", id="add-connection"),
            spacing="3",
            width="100%",
        ),
        on_submit=BrokersState.add,
        key=BrokersState.form_version,
        id="connection-form",
        width="100%",
    )


@app_page("/settings/brokers", "Brokers", on_load=BrokersState.load)
def brokers_page() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=16), "Settings", align="center"), href="/settings", size="2"),
        titled_card(
            "Alpaca connections",
            "A portfolio trades through one of these when its rebalancing settings choose Alpaca.",
            rx.cond(
                BrokersState.connections.length() > 0,
                rx.vstack(rx.foreach(BrokersState.connections, connection_row), width="100%", spacing="0"),
                rx.text("No connections yet: portfolios trade on the built-in paper broker.", size="2"),
            ),
        ),
        titled_card("Add a connection", "Paste the keys from your Alpaca dashboard.", add_form()),
        spacing="4",
        width="100%",
    )
