"""Settings · Notifications: the alert e-mail address (confirmed by a link), which severities are e-mailed,
quiet hours, and the tearsheet reports e-mailed daily, weekly or monthly."""

from __future__ import annotations

import asyncio

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page, error_callout, field, field_row, titled_card
from investment_app.db import session_scope
from investment_app.mail.smtp import DeliveryFailed
from investment_app.services import notifications, portfolios, reports
from investment_app.services.errors import ServiceError
from investment_app.services.reports import SubscriptionRow
from investment_app.state import AppState, authorized

SEVERITIES = list(notifications.SEVERITIES)
FREQUENCIES = ["daily", "weekly", "monthly"]


def _send_confirmation(viewer: Viewer) -> str:
    with session_scope() as db:
        return notifications.send_confirmation(db, viewer)


class NotificationsState(AppState):
    """The notification settings page."""

    email: str = ""
    confirmed: bool = False
    severities: list[str] = []
    quiet_start: str = ""
    quiet_end: str = ""
    timezone: str = "UTC"
    critical_bypasses_quiet: bool = True
    error: str = ""
    subscriptions: list[SubscriptionRow] = []
    portfolio_options: list[list[str]] = []
    recipients: list[str] = []
    report_error: str = ""

    def _reload(self, viewer: Viewer) -> None:
        with session_scope() as db:
            view = notifications.view(db, viewer)
            self.subscriptions = reports.list_subscriptions(db, viewer)
            self.portfolio_options = [[str(p.id), p.name] for p in portfolios.list_portfolios(db, viewer)]
        self.email, self.confirmed, self.severities = view.email, view.confirmed, view.severities
        self.quiet_start, self.quiet_end, self.timezone = view.quiet_start, view.quiet_end, view.timezone
        self.critical_bypasses_quiet = view.critical_bypasses_quiet
        self.recipients = sorted({viewer.email, *([view.email] if view.confirmed else [])})

    @rx.event
    @authorized()
    def load(self, viewer: Viewer) -> None:
        self.error = self.report_error = ""
        self._reload(viewer)

    @rx.event
    @authorized()
    def save(self, viewer: Viewer, form: dict):
        try:
            with session_scope() as db:
                notifications.update(
                    db,
                    viewer,
                    email=str(form.get("alert-email", "")),
                    severities=[s for s in SEVERITIES if form.get(f"sev-{s}")],
                    quiet_start=str(form.get("quiet-start", "")),
                    quiet_end=str(form.get("quiet-end", "")),
                    timezone=str(form.get("timezone", "") or "UTC"),
                    critical_bypasses_quiet=bool(form.get("critical-bypass")),
                )
        except ServiceError as exc:
            self.error = str(exc)
            return None
        self.error = ""
        self._reload(viewer)
        return rx.toast.success("Notification settings saved.")

    @rx.event
    @authorized()
    async def send_confirmation(self, viewer: Viewer):
        """Send the link off the event loop (an unreachable mail server must not stall the page's worker)."""
        try:
            address = await asyncio.to_thread(_send_confirmation, viewer)
        except (DeliveryFailed, ValueError) as exc:
            return rx.toast.error(f"The confirmation e-mail could not be sent: {exc}")
        return rx.toast.success(f"Confirmation link sent to {address}.")

    @rx.event
    @authorized()
    def subscribe(self, viewer: Viewer, form: dict):
        portfolio = str(form.get("report-portfolio", ""))
        try:
            if not portfolio.isdigit():
                raise ServiceError("Choose a portfolio for the report.")
            with session_scope() as db:
                reports.subscribe(
                    db, viewer, int(portfolio), str(form.get("frequency", "")), str(form.get("recipient", "")) or None
                )
        except ServiceError as exc:
            self.report_error = str(exc)
            return None
        self.report_error = ""
        self._reload(viewer)
        return rx.toast.success("Report subscribed.")

    @rx.event
    @authorized()
    def unsubscribe(self, viewer: Viewer, subscription_id: int):
        with session_scope() as db:
            reports.unsubscribe(db, viewer, subscription_id)
        self._reload(viewer)
        return rx.toast.success("Report stopped.")


def email_card() -> rx.Component:
    s = NotificationsState
    status = rx.cond(
        s.confirmed,
        rx.badge("confirmed", color_scheme="green"),
        rx.hstack(
            rx.badge("not confirmed: no alert e-mails yet", color_scheme="orange"),
            rx.button("Send confirmation link", size="1", variant="soft", on_click=s.send_confirmation),
            wrap="wrap",
        ),
    )
    checks = [rx.checkbox(sev, name=f"sev-{sev}", default_checked=s.severities.contains(sev)) for sev in SEVERITIES]
    return titled_card(
        "Alert e-mails",
        "Alerts always appear in the app. These settings decide which of them are also e-mailed, and when.",
        rx.form(
            rx.vstack(
                field("Address", "alert-email", "email", default_value=s.email, key=s.email, required=True),
                status,
                rx.text("Severities to e-mail", size="2", weight="medium"),
                rx.hstack(*checks, wrap="wrap", spacing="4", key=s.severities.join(",")),
                field_row(
                    field("Quiet from", "quiet-start", "time", default_value=s.quiet_start, key=s.quiet_start),
                    field("until", "quiet-end", "time", default_value=s.quiet_end, key=s.quiet_end),
                    field(
                        "Time zone", "timezone", default_value=s.timezone, key=s.timezone, placeholder="Europe/Paris"
                    ),
                ),
                rx.checkbox(
                    "Critical alerts ignore quiet hours",
                    name="critical-bypass",
                    default_checked=s.critical_bypasses_quiet,
                    key=s.critical_bypasses_quiet.to_string(),
                ),
                rx.text("E-mails that fall in quiet hours are sent when they end.", size="1", color_scheme="gray"),
                error_callout(s.error),
                rx.button("Save", type="submit", size="3", id="save-notifications"),
                spacing="3",
                width="100%",
            ),
            on_submit=s.save,
            width="100%",
        ),
    )


def subscription_row(sub: SubscriptionRow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(sub.portfolio, " · ", sub.frequency, weight="medium"),
            rx.text(sub.recipient, rx.cond(sub.active, "", " · stopped"), size="1", color_scheme="gray"),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            sub.active,
            rx.button(
                "Stop", size="1", variant="soft", color_scheme="red", on_click=NotificationsState.unsubscribe(sub.id)
            ),
        ),
        width="100%",
        align="center",
    )


def reports_card() -> rx.Component:
    s = NotificationsState
    return titled_card(
        "Tearsheet reports",
        "An e-mail with the summary in the body and the tearsheet attached as HTML and PDF, for the period just ended.",
        rx.vstack(rx.foreach(s.subscriptions, subscription_row), width="100%", spacing="2", id="subscriptions"),
        rx.form(
            rx.flex(
                rx.select.root(
                    rx.select.trigger(placeholder="Portfolio"),
                    rx.select.content(rx.foreach(s.portfolio_options, lambda o: rx.select.item(o[1], value=o[0]))),
                    name="report-portfolio",
                    size="2",
                ),
                rx.select(FREQUENCIES, name="frequency", default_value="weekly", size="2"),
                rx.select(s.recipients, name="recipient", default_value=s.user_email, size="2"),
                rx.button("Subscribe", type="submit", size="2", id="subscribe-report"),
                gap="2",
                wrap="wrap",
            ),
            on_submit=s.subscribe,
            width="100%",
        ),
        error_callout(s.report_error),
    )


@app_page("/settings/notifications", "Notifications", on_load=NotificationsState.load)
def notifications_page() -> rx.Component:
    return rx.vstack(email_card(), reports_card(), width="100%", spacing="4")
