"""Alert centre: fired alerts with filters (acknowledge, resolve), and the viewer's alert rules (create, switch
on and off, delete). Fired alerts also arrive on any open page as a toast and the badge (investment_app.live)."""

from __future__ import annotations

import math
from typing import Any

import reflex as rx

from investment_app.analytics.alert_rules import SYMBOL_KINDS
from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page, error_callout, field, field_row, titled_card
from investment_app.db import session_scope
from investment_app.models.alerts import Severity
from investment_app.services import alert_rules, alerts, portfolios
from investment_app.services.alert_rules import RuleRow
from investment_app.services.alerts import AlertRow, Filters
from investment_app.services.errors import InvalidInput, ServiceError
from investment_app.state import AppState, authorized

ANY = "any"
STATES = [ANY, "open", "acknowledged", "resolved"]
SEVERITIES = [s.value for s in Severity]
SEVERITY_COLOR = {"low": "gray", "medium": "blue", "high": "orange", "critical": "red"}
KIND_LABELS = {
    "price_cross": "Price crosses a level",
    "move": "Move over N days",
    "rsi": "RSI overbought / oversold",
    "ma_cross": "Moving-average crossover",
    "drawdown": "Portfolio drawdown",
    "daily_loss": "Portfolio daily loss",
    "var": "Portfolio 1-day VaR (95%)",
    "concentration": "Position weight (concentration)",
    "drift": "Drift from target",
}


class Param:
    """One input of the rule form: ``percent`` inputs are typed in % and stored as fractions."""

    def __init__(
        self,
        name: str,
        label: str,
        placeholder: str = "",
        percent: bool = False,
        whole: bool = False,
        choices: tuple[str, ...] = (),
    ) -> None:
        self.name, self.label, self.placeholder = name, label, placeholder
        self.percent, self.whole, self.choices = percent, whole, choices


PARAMS: dict[str, list[Param]] = {
    "price_cross": [
        Param("level", "Level", "150"),
        Param("direction", "Direction", choices=("either", "above", "below")),
    ],
    "move": [
        Param("pct", "Move (%)", "5", percent=True),
        Param("days", "Over days", "1", whole=True),
        Param("direction", "Direction", choices=("either", "up", "down")),
    ],
    "rsi": [
        Param("period", "Period", "14", whole=True),
        Param("upper", "Overbought above", "70"),
        Param("lower", "Oversold below", "30"),
        Param("zone", "Zone", choices=("either", "above", "below")),
    ],
    "ma_cross": [
        Param("fast", "Fast SMA (days)", "50", whole=True),
        Param("slow", "Slow SMA (days)", "200", whole=True),
        Param("direction", "Cross", choices=("either", "golden", "death")),
    ],
    "drawdown": [Param("pct", "Drawdown beyond (%)", "10", percent=True)],
    "daily_loss": [Param("pct", "Loss beyond (% of value)", "3", percent=True), Param("amount", "or amount", "5000")],
    "var": [
        Param("pct", "VaR above (% of value)", "2", percent=True),
        Param("lookback", "Lookback days", "250", whole=True),
    ],
    "concentration": [Param("pct", "Any position above (%)", "25", percent=True)],
    "drift": [Param("pp", "Drift above (pp)", "5"), Param("measure", "Measure", choices=("total", "position"))],
}


def _number(raw: str, param: Param) -> float | int:
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidInput(f"{param.label} must be a number; got {raw!r}.") from exc
    if not math.isfinite(value):
        raise InvalidInput(f"{param.label} must be a finite number; got {raw!r}.")
    if param.whole:
        if value != int(value):
            raise InvalidInput(f"{param.label} must be a whole number; got {raw!r}.")
        return int(value)
    return value / 100 if param.percent else value


def params_from_form(kind: str, form: dict[str, Any]) -> dict[str, Any]:
    """The rule's params from the form's ``p-<name>`` inputs; blanks are left to the defaults."""
    params: dict[str, Any] = {}
    for param in PARAMS.get(kind, []):
        raw = str(form.get(f"p-{param.name}", "")).strip().replace(",", "")
        if raw:
            params[param.name] = raw if param.choices else _number(raw, param)
    return params


def cooldown_minutes(form: dict[str, Any]) -> int:
    """The form's cooldown, typed in hours (default 24), in minutes."""
    raw = str(form.get("cooldown", "")).strip() or "24"
    return int(_number(raw, Param("cooldown", "Cooldown (hours)", whole=True))) * 60


class AlertsState(AppState):
    """The alert centre's view data."""

    rows: list[AlertRow] = []
    rules: list[RuleRow] = []
    portfolio_options: list[list[str]] = []
    state_filter: str = "open"
    severity_filter: str = ANY
    kind_filter: str = ANY
    portfolio_filter: str = ANY
    kind: str = "move"
    form_error: str = ""

    def _reload(self, viewer: Viewer) -> None:
        filters = Filters(
            state="" if self.state_filter == ANY else self.state_filter,
            severity="" if self.severity_filter == ANY else self.severity_filter,
            kind="" if self.kind_filter == ANY else self.kind_filter,
            portfolio_id=int(self.portfolio_filter) if self.portfolio_filter.isdigit() else None,
        )
        with session_scope() as db:
            self.rows = alerts.list_alerts(db, viewer, filters)
            self.rules = alert_rules.list_rules(db, viewer)
            self.portfolio_options = [[str(p.id), p.name] for p in portfolios.list_portfolios(db, viewer)]
            self.open_alerts = alerts.open_count(db, viewer.user_id)

    @rx.event
    @authorized()
    def load(self, viewer: Viewer) -> None:
        self.form_error = ""
        self._reload(viewer)

    @rx.event
    @authorized()
    def set_filter(self, viewer: Viewer, which: str, value: str) -> None:
        if which == "state" and value in STATES:
            self.state_filter = value
        elif which == "severity" and value in [ANY, *SEVERITIES]:
            self.severity_filter = value
        elif which == "kind" and value in [ANY, *KIND_LABELS]:
            self.kind_filter = value
        elif which == "portfolio":
            self.portfolio_filter = value if value.isdigit() else ANY
        self._reload(viewer)

    @rx.var
    def symbol_kind(self) -> bool:
        return self.kind in SYMBOL_KINDS

    @rx.event
    @authorized()
    def choose_kind(self, viewer: Viewer, kind: str) -> None:
        self.kind = kind if kind in KIND_LABELS else "move"
        self.form_error = ""

    @rx.event
    @authorized()
    def handle(self, viewer: Viewer, alert_id: int, action: str):
        with session_scope() as db:
            (alerts.acknowledge if action == "acknowledge" else alerts.resolve)(db, viewer, alert_id)
        self._reload(viewer)
        return rx.toast.success("Alert acknowledged." if action == "acknowledge" else "Alert resolved.")

    @rx.event
    @authorized()
    def create_rule(self, viewer: Viewer, form: dict):
        symbolic = self.kind in SYMBOL_KINDS
        try:
            portfolio = str(form.get("portfolio", "")).strip()
            with session_scope() as db:
                alert_rules.create(
                    db,
                    viewer,
                    kind=self.kind,
                    params=params_from_form(self.kind, form),
                    symbol=str(form.get("symbol", "")) if symbolic else None,
                    portfolio_id=None if symbolic or not portfolio.isdigit() else int(portfolio),
                    severity=str(form.get("severity", "") or "medium"),
                    cooldown_minutes=cooldown_minutes(form),
                    email=bool(form.get("email")),
                    name=str(form.get("name", "")),
                )
        except ServiceError as exc:
            self.form_error = str(exc)
            return None
        self.form_error = ""
        self._reload(viewer)
        return (
            [rx.toast.success("Alert rule created."), rx.reset_form("rule-form")]
            if hasattr(rx, "reset_form")
            else rx.toast.success("Alert rule created.")
        )

    @rx.event
    @authorized()
    def toggle_rule(self, viewer: Viewer, rule_id: int, enabled: bool) -> None:
        with session_scope() as db:
            alert_rules.set_enabled(db, viewer, rule_id, enabled)
        self._reload(viewer)

    @rx.event
    @authorized()
    def delete_rule(self, viewer: Viewer, rule_id: int):
        with session_scope() as db:
            alert_rules.delete(db, viewer, rule_id)
        self._reload(viewer)
        return rx.toast.success("Alert rule deleted.")


def severity_badge(severity: rx.Var) -> rx.Component:
    return rx.badge(
        severity,
        color_scheme=rx.match(severity, *SEVERITY_COLOR.items(), "gray"),
        variant="solid",
        size="1",
    )


def alert_card(a: AlertRow) -> rx.Component:
    actions = rx.hstack(
        rx.cond(
            a.state == "open",
            rx.button("Acknowledge", size="1", variant="soft", on_click=AlertsState.handle(a.id, "acknowledge")),
        ),
        rx.cond(
            a.state != "resolved",
            rx.button(
                "Resolve", size="1", variant="soft", color_scheme="green", on_click=AlertsState.handle(a.id, "resolve")
            ),
        ),
        spacing="2",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                severity_badge(a.severity),
                rx.badge(a.state, variant="soft", size="1"),
                rx.spacer(),
                rx.text(a.fired, " UTC", size="1", color_scheme="gray"),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.text(a.title, weight="medium"),
            rx.text(a.message, size="2", color_scheme="gray"),
            rx.cond(a.handled != "", rx.text(a.handled, size="1", color_scheme="gray")),
            rx.cond(a.email != "", rx.text("E-mail: ", a.email, size="1", color_scheme="gray")),
            actions,
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="alert-card",
    )


def _filter(label: str, which: str, value: rx.Var, options: list[str]) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.select(options, value=value, on_change=lambda v: AlertsState.set_filter(which, v), size="2"),
        spacing="1",
    )


def alert_list() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _filter("State", "state", AlertsState.state_filter, STATES),
            _filter("Severity", "severity", AlertsState.severity_filter, [ANY, *SEVERITIES]),
            _filter("Kind", "kind", AlertsState.kind_filter, [ANY, *KIND_LABELS]),
            rx.vstack(
                rx.text("Portfolio", size="1", color_scheme="gray"),
                rx.select.root(
                    rx.select.trigger(),
                    rx.select.content(
                        rx.select.item("any", value=ANY),
                        rx.foreach(AlertsState.portfolio_options, lambda o: rx.select.item(o[1], value=o[0])),
                    ),
                    value=AlertsState.portfolio_filter,
                    on_change=lambda v: AlertsState.set_filter("portfolio", v),
                    size="2",
                ),
                spacing="1",
            ),
            wrap="wrap",
            spacing="3",
        ),
        rx.cond(
            AlertsState.rows.length() > 0,
            rx.vstack(rx.foreach(AlertsState.rows, alert_card), width="100%", spacing="3", id="alert-list"),
            rx.callout("No alerts match these filters.", icon="bell-off", width="100%"),
        ),
        width="100%",
        spacing="4",
    )


def _choice(label: str, name: str, options: list[str], default: str = "") -> rx.Component:
    """A labelled select; the default is ``default`` or else the first option."""
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select(options, name=name, default_value=default or options[0], size="3", width="100%"),
        spacing="1",
        width="100%",
    )


def _param_input(param: Param) -> rx.Component:
    if param.choices:
        return _choice(param.label, f"p-{param.name}", list(param.choices))
    return field(param.label, f"p-{param.name}", placeholder=param.placeholder, input_mode="decimal")


def _params_block() -> rx.Component:
    blocks = [(kind, field_row(*[_param_input(p) for p in params])) for kind, params in PARAMS.items()]
    return rx.match(AlertsState.kind, *blocks, rx.fragment())


def rule_form() -> rx.Component:
    target = rx.cond(
        AlertsState.symbol_kind,
        field("Symbol", "symbol", placeholder="AAPL", max_length=16, text_transform="uppercase"),
        rx.vstack(
            rx.text("Portfolio", size="2", weight="medium"),
            rx.select.root(
                rx.select.trigger(placeholder="Choose a portfolio"),
                rx.select.content(
                    rx.foreach(AlertsState.portfolio_options, lambda o: rx.select.item(o[1], value=o[0]))
                ),
                name="portfolio",
                size="3",
            ),
            spacing="1",
        ),
    )
    return titled_card(
        "New rule",
        "Checked on every new day of prices. The cooldown stops one condition from alerting again too soon.",
        rx.form(
            rx.vstack(
                rx.vstack(
                    rx.text("Kind", size="2", weight="medium"),
                    rx.select.root(
                        rx.select.trigger(),
                        rx.select.content(*[rx.select.item(label, value=k) for k, label in KIND_LABELS.items()]),
                        value=AlertsState.kind,
                        on_change=AlertsState.choose_kind,
                        size="3",
                    ),
                    spacing="1",
                ),
                target,
                _params_block(),
                field_row(
                    _choice("Severity", "severity", SEVERITIES, "medium"),
                    field("Cooldown (hours)", "cooldown", placeholder="24", input_mode="numeric"),
                    field("Name (optional)", "name", max_length=120),
                ),
                rx.checkbox("Also e-mail me (as my notification settings say)", name="email", id="rule-email"),
                error_callout(AlertsState.form_error),
                rx.button("Create rule", type="submit", size="3", id="create-rule"),
                spacing="3",
                width="100%",
            ),
            on_submit=AlertsState.create_rule,
            id="rule-form",
            width="100%",
        ),
    )


def rule_card(r: RuleRow) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.hstack(severity_badge(r.severity), rx.text(r.name, weight="medium"), align="center", wrap="wrap"),
                rx.cond(r.name != r.condition, rx.text(r.condition, size="2", color_scheme="gray")),
                rx.text(
                    "Cooldown ",
                    r.cooldown,
                    rx.cond(r.email, " · e-mailed", ""),
                    rx.cond(r.last_fired != "", " · last fired " + r.last_fired + " UTC", ""),
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                min_width="0",
                flex="1",
            ),
            rx.switch(checked=r.enabled, on_change=lambda on: AlertsState.toggle_rule(r.id, on), aria_label="Enabled"),
            rx.icon_button(
                rx.icon("trash-2", size=16),
                variant="ghost",
                color_scheme="red",
                on_click=AlertsState.delete_rule(r.id),
                aria_label="Delete rule",
            ),
            align="center",
            width="100%",
        ),
        width="100%",
    )


def rules_section() -> rx.Component:
    return rx.vstack(
        rule_form(),
        rx.cond(
            AlertsState.rules.length() > 0,
            rx.vstack(rx.foreach(AlertsState.rules, rule_card), width="100%", spacing="2", id="rule-list"),
            rx.text("No rules yet.", color_scheme="gray"),
        ),
        width="100%",
        spacing="4",
    )


@app_page("/alerts", "Alerts", on_load=AlertsState.load)
def alerts_page() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Alerts", value="alerts"),
            rx.tabs.trigger("Rules", value="rules"),
        ),
        rx.tabs.content(alert_list(), value="alerts", padding_top="1rem"),
        rx.tabs.content(rules_section(), value="rules", padding_top="1rem"),
        default_value="alerts",
        width="100%",
    )
