"""Rebalance: the portfolio's target allocation (typed in, or set by the optimization lab), its drift, how it is
rebalanced (triggers, mode, broker, bands, costs, tax options, limits), and plans: plan now, edit quantities,
approve or reject, execute through the paper broker or Alpaca.

Percent inputs are typed in percent (5 = 5 %) and handed to the services as fractions. Drift is Betterment's:
d_i = w_i − t_i per position (shown in percentage points) and the total ½ Σ |d| (services.targets).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import plotly.graph_objects as go
import reflex as rx

from investment_app.analytics.rebalance import CASH
from investment_app.auth.viewer import Viewer
from investment_app.components import charts
from investment_app.components.analysis import tile_grid
from investment_app.components.layout import app_page, error_callout, field, field_row, plot, section
from investment_app.components.numbers import money, pct, quantity, tone
from investment_app.components.portfolio_picker import empty_state, portfolio_picker
from investment_app.components.tables import RIGHT, WIDE_ONLY, header, scroll_table
from investment_app.db import session_scope
from investment_app.models.rebalance import PlanStatus, RebalancePlan, RebalanceSettings
from investment_app.models.user import Role
from investment_app.services import brokers, execution, optimization, rebalance, targets
from investment_app.services.brokers import ConnectionRow
from investment_app.services.errors import InvalidInput, ServiceError
from investment_app.services.targets import DriftReport, TargetInput
from investment_app.state import PortfolioState, authorized

T = TypeVar("T")
NONE = "none"
BASIS_LABELS = {"symbols": "Symbols", "sectors": "GICS sectors"}
CALENDAR_LABELS = {
    "none": "Off",
    "weekly": "Weekly",
    "monthly": "Monthly",
    "quarterly": "Quarterly",
    "yearly": "Yearly",
}
MODE_LABELS = {"approve": "Wait for my approval", "auto": "Execute automatically"}
BROKER_LABELS = {"paper": "Paper (built in)", "alpaca": "Alpaca"}
LOT_LABELS = {"hifo": "HIFO (highest cost first)", "loss_first": "Loss lots first"}
PERCENT_LABELS = {
    "drift_threshold": "Total drift above (%)",
    "position_threshold": "A position off by more than (pp)",
    "band": "Tolerance band (± pp)",
    "tlh_threshold": "Harvest a lot losing more than (%)",
    "max_position_weight": "Max position (% of value)",
    "max_daily_loss": "Max daily loss (% of value)",
}
AMOUNT_LABELS = {
    "commission_bps": "Commission (bps)",
    "spread_bps": "Spread (bps)",
    "min_trade_value": "Minimum trade ($)",
    "tlh_min_loss": "Minimum harvested loss ($)",
    "max_order_value": "Max order value ($)",
}
STATUS_COLOR = {
    "proposed": "blue",
    "approved": "green",
    "rejected": "red",
    "executing": "orange",
    "executed": "teal",
    "failed": "red",
    "superseded": "gray",
}
FIELDSET = {"border": "none", "padding": "0", "margin": "0", "min_width": "0"}
"""A fieldset that only groups (it disables its controls for readers)."""
PAIR = re.compile(r"^\s*([A-Za-z0-9.\-]+)\s*(?:→|->|=>|=|:|,|\s)\s*([A-Za-z0-9.\-]+)\s*$")


# --- form input → service arguments -------------------------------------------------------------------------------


def number(raw: Any, label: str) -> float | None:
    """A typed number (thousands separators allowed); None when blank; InvalidInput naming ``label`` otherwise."""
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("−", "-")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{label} must be a number; got {text!r}.") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{label} must be a finite number; got {text!r}.")
    return value


def percent(raw: Any, label: str) -> float | None:
    """A number typed in percent as a fraction: "5" → 0.05; None when blank."""
    value = number(raw, label)
    return None if value is None else value / 100


def target_input(form: dict[str, Any], basis: str) -> TargetInput:
    """The target typed in the form: rows ``name-<id>`` / ``weight-<id>`` (in %) and ``cash_reserve`` (in %).
    Blank rows are skipped; a name without a weight (or the reverse) is refused."""
    weights: dict[str, float] = {}
    for key in (k for k in form if k.startswith("name-")):
        name = str(form[key]).strip()
        raw = form.get("weight-" + key.removeprefix("name-"), "")
        if not name and not str(raw).strip():
            continue
        if not name:
            raise InvalidInput(f"A row has the weight {str(raw).strip()} % but no symbol or sector.")
        value = percent(raw, f"The weight of {name}")
        if value is None:
            raise InvalidInput(f"Give {name} a weight in percent.")
        if name in weights:
            raise InvalidInput(f"{name} appears more than once in the target.")
        weights[name] = value
    return TargetInput(basis, weights, percent(form.get("cash_reserve"), "The cash reserve") or 0.0)


def replacements(text: str) -> dict[str, str]:
    """``SYMBOL→REPLACEMENT`` lines (also ``->``, ``=``, ``:`` or a space) as a mapping; a bad line is named."""
    pairs: dict[str, str] = {}
    for n, line in enumerate(str(text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = PAIR.match(line)
        if match is None:
            raise InvalidInput(f"Replacements, line {n}: write SYMBOL→REPLACEMENT (got {line.strip()!r}).")
        pairs[match[1].upper()] = match[2].upper()
    return pairs


def identical_groups(text: str) -> list[list[str]]:
    """One group of substantially identical symbols per line, comma separated."""
    return [[s.strip() for s in line.split(",") if s.strip()] for line in str(text or "").splitlines() if line.strip()]


def settings_changes(form: dict[str, Any]) -> dict[str, Any]:
    """Every rebalancing setting from the settings form (percent fields as fractions, blank optional ones off)."""
    changes: dict[str, Any] = {name: percent(form.get(name), label) for name, label in PERCENT_LABELS.items()}
    changes |= {name: number(form.get(name), label) for name, label in AMOUNT_LABELS.items()}
    changes |= {name: str(form.get(name, "")) for name in rebalance.CHOICES}
    changes |= {name: bool(form.get(name)) for name in rebalance.SWITCHES}
    cooldown = number(form.get("cooldown_days"), "The cooldown (days)")
    if cooldown is None or cooldown != int(cooldown):
        raise InvalidInput("The cooldown must be a whole number of days.")
    connection = str(form.get("connection_id", ""))
    changes["cooldown_days"] = int(cooldown)
    changes["connection_id"] = int(connection) if connection.isdigit() else None
    changes["replacements"] = replacements(str(form.get("replacements", "")))
    return changes


def edited_quantities(form: dict[str, Any], planned: list[str]) -> dict[int, float]:
    """Trade row → new quantity for the ``qty-<row>`` inputs that differ from the planned quantities."""
    changed: dict[int, float] = {}
    for row, before in enumerate(planned):
        value = number(form.get(f"qty-{row}"), f"The quantity of trade #{row + 1}")
        if value is None:
            raise InvalidInput(f"Give trade #{row + 1} a quantity (0 drops it).")
        if not math.isclose(value, float(before), rel_tol=0, abs_tol=1e-9):
            changed[row] = value
    return changed


# --- display ------------------------------------------------------------------------------------------------------


def weight(value: float) -> str:
    """A weight as an unsigned percentage: 0.1234 → "12.34%"."""
    return pct(value).lstrip("+")


def points(value: float) -> str:
    """A difference of weights in percentage points: 0.0123 → "+1.23 pp"."""
    return pct(value).replace("%", " pp")


def _typed(value: float | None, scale: float = 1.0) -> str:
    """A stored number as the form shows it (``scale`` 100 for percent): 0.05 → "5"; None → ""."""
    return "" if value is None else f"{value * scale:.10g}"


def drift_view(report: DriftReport, s: RebalanceSettings, top: int | None = None) -> tuple[dict, list[dict]]:
    """The drift's headline ({"total", "threshold", "as_of", "tone", "over"}: the total against the settings'
    drift threshold) and its rows, largest |drift| first, orange when outside the tolerance band."""
    threshold, band = s.drift_threshold, s.band
    over = threshold is not None and report.total > threshold
    head = {
        "total": weight(report.total),
        "threshold": weight(threshold) if threshold is not None else "off",
        "as_of": report.as_of.isoformat(),
        "tone": "orange" if over else "green",
        "over": "yes" if over else "",
    }
    rows = [
        {
            "symbol": "Cash" if r.symbol == CASH else r.symbol,
            "weight": weight(r.weight),
            "target": weight(r.target),
            "drift": points(r.drift),
            "tone": "orange" if band is not None and abs(r.drift) > band else "gray",
        }
        for r in report.rows[:top]
    ]
    return head, rows


def weights_figure(report: DriftReport) -> go.Figure:
    """Current against target weight of each position and cash, as grouped horizontal bars."""
    rows = sorted(report.rows, key=lambda r: (r.symbol == CASH, -max(r.target, r.weight)))
    labels = ["Cash" if r.symbol == CASH else r.symbol for r in rows]
    bars = [("Current", [r.weight for r in rows], charts.PALETTE[0]), ("Target", [r.target for r in rows], "#d97706")]
    fig = go.Figure(
        [
            go.Bar(
                y=labels,
                x=values,
                name=name,
                orientation="h",
                marker_color=colour,
                hovertemplate=f"%{{y}} {name.lower()}: %{{x:.2%}}<extra></extra>",
            )
            for name, values, colour in bars
        ]
    )
    fig.update_layout(
        barmode="group",
        margin=dict(l=10, r=10, t=10, b=10),
        height=max(240, 40 * len(rows) + 110),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(size=12),
        xaxis=dict(title="Weight (% of portfolio value)", tickformat=".0%", gridcolor="rgba(128,128,128,0.15)"),
        yaxis=dict(title="Position", autorange="reversed"),
    )
    return fig


def settings_view(s: RebalanceSettings, groups: list[list[str]]) -> dict[str, str]:
    """The stored settings as the form's default values (percent fields in percent)."""
    view = {name: _typed(getattr(s, name), 100) for name in PERCENT_LABELS}
    view |= {name: _typed(getattr(s, name)) for name in AMOUNT_LABELS}
    view |= {name: str(getattr(s, name)) for name in rebalance.CHOICES}
    view |= {name: "yes" if getattr(s, name) else "" for name in rebalance.SWITCHES}
    view["cooldown_days"] = str(s.cooldown_days)
    view["connection_id"] = str(s.connection_id) if s.connection_id else NONE
    view["replacements"] = "\n".join(f"{a}→{b}" for a, b in sorted(s.replacements.items()))
    view["groups"] = "\n".join(", ".join(g) for g in groups)
    return view


def _tile(label: str, value: str, note: str = "", color: str = "gray") -> dict[str, str]:
    return {"label": label, "value": value, "note": note, "tone": color}


def _figures(plan: RebalancePlan) -> list[dict[str, str]]:
    s = plan.summary
    short, long = s["realized_short_term"], s["realized_long_term"]
    return [
        _tile("Drift", f"{weight(s['drift_before'])} → {weight(s['drift_after'])}", "before → after"),
        _tile("Estimated costs", money(s["costs"]), "commission + half the spread"),
        _tile("Turnover", weight(s["turnover"]), "value traded ÷ (2 × portfolio value)"),
        _tile("Cash after", money(s["cash_after"])),
        _tile("Realized short-term", money(short), "lots held a year or less", tone(short)),
        _tile("Realized long-term", money(long), "lots held over a year", tone(long)),
    ]


def _trade_rows(plan: RebalancePlan) -> list[dict[str, str]]:
    return [
        {
            "row": str(i),
            "side": t["side"],
            "symbol": t["symbol"],
            "quantity": quantity(t["quantity"]),
            "typed": f"{t['quantity']:.10g}",
            "price": money(t["price"]),
            "value": money(t["value"]),
            "cost": money(t["est_cost"]),
            "reason": t["reason"].replace("-", " "),
        }
        for i, t in enumerate(plan.trades)
    ]


def _weight_rows(plan: RebalancePlan) -> list[dict[str, str]]:
    s = plan.summary
    names = sorted(set(s["before"]) | set(s["target"]), key=lambda n: (n == CASH, -s["target"].get(n, 0.0), n))
    return [
        {
            "symbol": "Cash" if n == CASH else n,
            "before": weight(s["before"].get(n, 0.0)),
            "after": weight(s["after"].get(n, 0.0)),
            "target": weight(s["target"].get(n, 0.0)),
        }
        for n in names
    ]


def _decided(plan: RebalancePlan, owner: str) -> str:
    """Who decided: only the portfolio's owner may decide a plan, so a decision is the owner's."""
    if plan.decided_at is None:
        return ""
    return f"{owner}, {plan.decided_at:%Y-%m-%d %H:%M} UTC"


def plan_view(plan: RebalancePlan, owner: str) -> dict[str, Any]:
    """A plan as the page shows it."""
    return {
        "head": {
            "id": str(plan.id),
            "status": plan.status,
            "trigger": plan.trigger,
            "price_date": plan.price_date,
            "broker": plan.broker,
            "created": f"{plan.created_at:%Y-%m-%d %H:%M}",
            "decided": _decided(plan, owner),
            "note": plan.note,
        },
        "trades": _trade_rows(plan),
        "weights": _weight_rows(plan),
        "figures": _figures(plan),
        "notes": list(plan.summary.get("notes", [])),
        "blocked": list(plan.summary.get("blocked_buys", [])),
        "planned": [f"{t['quantity']:.10g}" for t in plan.trades],
    }


def history_row(plan: RebalancePlan, owner: str) -> dict[str, str]:
    return {
        "id": str(plan.id),
        "created": f"{plan.created_at:%Y-%m-%d %H:%M}",
        "trigger": plan.trigger,
        "status": plan.status,
        "decided": owner if plan.decided_at is not None else "",
    }


def report_text(r: execution.ExecutionReport) -> str:
    """One line on what an execution did."""
    return (
        f"Plan #{r.plan_id} is {r.status}: {r.sent} order(s) sent, {r.filled} filled, {r.open} still open, "
        f"{len(r.rejected)} rejected; {r.booked} fill(s) booked in the ledger."
    )


# --- service calls (run in a worker thread) -------------------------------------------------------------------------


def _in_session(call: Callable[..., T], viewer: Viewer, *args: Any, **kwargs: Any) -> T:
    """``call(db, viewer, *args, **kwargs)`` in one transaction (committed, or rolled back on an error)."""
    with session_scope() as db:
        return call(db, viewer, *args, **kwargs)


@dataclass(frozen=True)
class Overview:
    """Everything the page shows for one portfolio."""

    target: dict[str, Any] | None
    drift: DriftReport | None
    drift_error: str
    settings: RebalanceSettings
    groups: list[list[str]]
    connections: list[ConnectionRow]
    plans: list[RebalancePlan]


def _overview(viewer: Viewer, portfolio_id: int) -> Overview:
    with session_scope() as db:
        target = targets.target_json(optimization.target(db, viewer, portfolio_id))  # the read check
        try:
            report, error = targets.drift_report(db, viewer, portfolio_id), ""
        except InvalidInput as exc:
            report, error = None, str(exc)
        return Overview(
            target,
            report,
            error,
            rebalance.settings_for(db, portfolio_id),
            list(rebalance.identical_groups(db, viewer.user_id).values()),
            brokers.list_connections(db, viewer),
            rebalance.list_plans(db, viewer, portfolio_id),
        )


def _save_settings(db, viewer: Viewer, portfolio_id: int, changes: dict[str, Any], groups: list[list[str]]) -> None:
    """The portfolio's settings and the viewer's identical groups, both or neither."""
    rebalance.update_settings(db, viewer, portfolio_id, changes)
    rebalance.set_identical_groups(db, viewer, groups)


def _plan(db, viewer: Viewer, plan_id: int) -> RebalancePlan:
    return rebalance.get_plan(db, viewer, plan_id)


class RebalanceState(PortfolioState):
    """The rebalance page's view data (display strings; the numbers stay on the server)."""

    can_change: bool = False
    owner: str = ""
    target_rows: list[dict[str, str]] = []
    basis: str = "symbols"
    cash_reserve: str = ""
    target_source: str = ""
    target_version: int = 0
    target_error: str = ""
    drift: dict[str, str] = {}
    drift_rows: list[dict[str, str]] = []
    drift_figure: go.Figure = go.Figure()
    drift_error: str = ""
    settings: dict[str, str] = {}
    connections: list[ConnectionRow] = []
    settings_version: int = 0
    settings_error: str = ""
    plan: dict[str, str] = {}
    plan_trades: list[dict[str, str]] = []
    plan_weights: list[dict[str, str]] = []
    plan_figures: list[dict[str, str]] = []
    plan_notes: list[str] = []
    plan_blocked: list[str] = []
    plan_version: int = 0
    plan_error: str = ""
    decision_note: str = ""
    exec_broker: str = "paper"
    exec_report: str = ""
    exec_rejected: list[str] = []
    history: list[dict[str, str]] = []
    _planned: list[str] = []
    _next_row: int = 0

    @rx.event
    @authorized()
    async def load(self, viewer: Viewer):
        """Show the chosen portfolio (``?p=<id>``, the current choice, else the first)."""
        if self._choose(viewer):
            await self._refresh(viewer)

    @rx.event
    @authorized()
    async def select(self, viewer: Viewer, portfolio_id: str):
        self.selected = portfolio_id
        self.exec_report, self.exec_rejected = "", []
        await self._refresh(viewer)

    async def _refresh(self, viewer: Viewer, plan_id: int | None = None) -> None:
        """Reload everything for the selected portfolio; show plan ``plan_id`` (default: the latest)."""
        self.loading = True
        try:
            data = await asyncio.to_thread(_overview, viewer, int(self.selected))
        finally:
            self.loading = False
        row = next((p for p in self.portfolios if str(p.id) == self.selected), None)
        self.owner = row.owner if row else ""
        self.can_change = self.selected_is_mine and viewer.role.allows(Role.ANALYST)
        self.target_error = self.settings_error = self.plan_error = ""
        self._show_target(data.target)
        self._show_drift(data.drift, data.drift_error, data.settings)
        self.settings = settings_view(data.settings, data.groups)
        self.connections = data.connections
        self.settings_version += 1
        self.history = [history_row(p, self.owner) for p in data.plans]
        shown = next((p for p in data.plans if p.id == plan_id), data.plans[0] if data.plans else None)
        self._show_plan(shown, data.settings.broker)

    def _rows(self, pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
        """Editable target rows (name, weight typed in %) with fresh ids, so their inputs start from these values."""
        start, self._next_row = self._next_row, self._next_row + len(pairs)
        return [{"id": str(start + i), "name": name, "weight": w} for i, (name, w) in enumerate(pairs)]

    def _show_target(self, target: dict[str, Any] | None) -> None:
        self.target_version += 1
        if target is None:
            self.basis, self.cash_reserve, self.target_source = "symbols", "", ""
            self.target_rows = self._rows([("", "")])
            return
        kept = sorted((kv for kv in target["weights"].items() if kv[1]), key=lambda kv: -kv[1])
        self.basis, self.cash_reserve = target["basis"], _typed(target["cash_reserve"], 100)
        self.target_rows = self._rows([(name, _typed(w, 100)) for name, w in kept])
        self.target_source = (
            f"optimization run #{target['run']}" if target["source"] == "optimization" else target["source"]
        )

    def _show_drift(self, report: DriftReport | None, error: str, settings: RebalanceSettings) -> None:
        self.drift_error = error
        if report is None:
            self.drift, self.drift_rows, self.drift_figure = {}, [], go.Figure()
            return
        self.drift, self.drift_rows = drift_view(report, settings)
        self.drift_figure = weights_figure(report)

    def _show_plan(self, plan: RebalancePlan | None, broker: str) -> None:
        self.plan_version += 1
        if plan is None:
            self.plan, self.plan_trades, self.plan_weights, self.plan_figures = {}, [], [], []
            self.plan_notes, self.plan_blocked, self._planned = [], [], []
            return
        view = plan_view(plan, self.owner)
        self.plan, self.plan_trades, self.plan_weights = view["head"], view["trades"], view["weights"]
        self.plan_figures, self.plan_notes, self.plan_blocked = view["figures"], view["notes"], view["blocked"]
        self._planned = view["planned"]
        self.exec_broker = plan.broker if plan.status == PlanStatus.EXECUTING.value else broker

    # --- target ---

    @rx.event
    @authorized()
    def set_basis(self, viewer: Viewer, basis: str | list[str]) -> None:
        self.basis = basis if isinstance(basis, str) and basis in BASIS_LABELS else "symbols"

    @rx.event
    @authorized()
    def add_row(self, viewer: Viewer) -> None:
        self.target_rows = [*self.target_rows, *self._rows([("", "")])]

    @rx.event
    @authorized()
    def remove_row(self, viewer: Viewer, row_id: str) -> None:
        self.target_rows = [r for r in self.target_rows if r["id"] != row_id]

    @rx.event
    @authorized()
    async def save_target(self, viewer: Viewer, form: dict):
        try:
            inp = target_input(form, self.basis)
            await asyncio.to_thread(_in_session, targets.set_target, viewer, int(self.selected), inp)
        except ServiceError as exc:
            self.target_error = str(exc)
            return None
        await self._refresh(viewer)
        return rx.toast.success("Target saved.")

    @rx.event
    @authorized()
    async def clear_target(self, viewer: Viewer):
        await asyncio.to_thread(_in_session, targets.clear_target, viewer, int(self.selected))
        await self._refresh(viewer)
        return rx.toast.success("Target removed: nothing will be rebalanced until you set one.")

    # --- settings ---

    @rx.event
    @authorized()
    async def save_settings(self, viewer: Viewer, form: dict):
        try:
            changes = settings_changes(form)
            groups = identical_groups(str(form.get("groups", "")))
            await asyncio.to_thread(_in_session, _save_settings, viewer, int(self.selected), changes, groups)
        except ServiceError as exc:
            self.settings_error = str(exc)
            return None
        await self._refresh(viewer, int(self.plan.get("id", 0) or 0))
        return rx.toast.success("Rebalancing settings saved.")

    # --- plans ---

    @rx.event
    @authorized()
    async def plan_now(self, viewer: Viewer, form: dict):
        try:
            amount = number(form.get("flow"), "The deposit or withdrawal")
            flow = rebalance.Flow(amount) if amount else None
            plan = await asyncio.to_thread(_in_session, rebalance.create_plan, viewer, int(self.selected), flow=flow)
        except ServiceError as exc:
            self.plan_error = str(exc)
            return None
        self.exec_report, self.exec_rejected = "", []
        await self._refresh(viewer, plan.id)
        return rx.toast.success(f"Plan #{plan.id} proposed with {len(plan.trades)} trade(s).")

    @rx.event
    @authorized()
    async def show_plan(self, viewer: Viewer, plan_id: str):
        plan = await asyncio.to_thread(_in_session, _plan, viewer, int(plan_id))
        self.plan_error, self.exec_report, self.exec_rejected = "", "", []
        self._show_plan(plan, self.settings.get("broker", "paper"))

    @rx.event
    @authorized()
    async def save_edits(self, viewer: Viewer, form: dict):
        plan_id = int(self.plan["id"])
        try:
            changed = edited_quantities(form, self._planned)
            if not changed:
                return rx.toast.info("No quantity was changed.")
            await asyncio.to_thread(_in_session, rebalance.edit_plan, viewer, plan_id, changed)
        except ServiceError as exc:
            self.plan_error = str(exc)
            return None
        await self._refresh(viewer, plan_id)
        return rx.toast.success(f"Plan #{plan_id} updated.")

    @rx.event
    @authorized()
    def set_note(self, viewer: Viewer, note: str) -> None:
        self.decision_note = note[:500]

    @rx.event
    @authorized()
    async def decide(self, viewer: Viewer, approve: bool):
        plan_id = int(self.plan["id"])
        try:
            await asyncio.to_thread(_in_session, rebalance.decide, viewer, plan_id, approve, self.decision_note)
        except ServiceError as exc:
            self.plan_error = str(exc)
            return None
        self.decision_note = ""
        await self._refresh(viewer, plan_id)
        return rx.toast.success(f"Plan #{plan_id} {'approved' if approve else 'rejected'}.")

    @rx.event
    @authorized()
    def set_exec_broker(self, viewer: Viewer, broker: str) -> None:
        self.exec_broker = broker if broker in BROKER_LABELS else "paper"

    @rx.event
    @authorized()
    async def execute(self, viewer: Viewer):
        plan_id = int(self.plan["id"])
        try:
            report = await asyncio.to_thread(_in_session, execution.execute_plan, viewer, plan_id, self.exec_broker)
        except ServiceError as exc:
            self.plan_error = str(exc)
            return None
        await self._refresh(viewer, plan_id)
        self.exec_report, self.exec_rejected = report_text(report), report.rejected
        return rx.toast.success(f"Plan #{plan_id}: {report.filled} order(s) filled.")


# --- components -----------------------------------------------------------------------------------------------------

S = RebalanceState


def _choice(label: str, name: str, options: dict[str, str], default: rx.Var) -> rx.Component:
    """A labelled select of ``options`` (value → label) for a form."""
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", aria_label=label),
            rx.select.content(*[rx.select.item(text, value=value) for value, text in options.items()]),
            name=name,
            default_value=default,
            size="3",
        ),
        spacing="1",
        width="100%",
    )


def _check(label: str, name: str) -> rx.Component:
    return rx.checkbox(label, name=name, default_checked=S.settings[name] != "", size="2")


def status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, *STATUS_COLOR.items(), "gray"), variant="soft")


def drift_table(rows: rx.Var) -> rx.Component:
    """Per-position weight, target and drift (pp)."""
    return scroll_table(
        [header("Position"), header("Weight", right=True), header("Target", right=True), header("Drift", right=True)],
        rx.foreach(
            rows,
            lambda r: rx.table.row(
                rx.table.cell(rx.text(r["symbol"], weight="bold")),
                rx.table.cell(r["weight"], style=RIGHT),
                rx.table.cell(r["target"], style=RIGHT),
                rx.table.cell(rx.text(r["drift"], color_scheme=r["tone"]), style=RIGHT),
            ),
        ),
    )


def drift_card() -> rx.Component:
    d = S.drift
    return section(
        "Drift from target",
        rx.cond(
            S.drift.contains("total"),
            rx.vstack(
                rx.hstack(
                    rx.heading(d["total"], size="7", color_scheme=d["tone"], id="drift-total"),
                    rx.text("total drift (½ Σ |weight − target|) · threshold ", d["threshold"], size="2"),
                    rx.cond(d["over"] != "", rx.badge("above threshold", color_scheme="orange")),
                    align="center",
                    wrap="wrap",
                    spacing="3",
                ),
                rx.grid(
                    drift_table(S.drift_rows),
                    plot(S.drift_figure),
                    columns=rx.breakpoints(initial="1", lg="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.text(
                    "Drift = weight − target, in percentage points; orange outside the tolerance band.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="3",
                width="100%",
            ),
            rx.callout(
                rx.cond(S.drift_error != "", S.drift_error, "No target allocation yet: set one below."),
                icon="info",
                width="100%",
            ),
        ),
        note=rx.cond(S.drift.contains("as_of"), "On the prices of " + d["as_of"].to(str), ""),
    )


def _target_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.input(
                name="name-" + r["id"],
                default_value=r["name"],
                placeholder=rx.cond(S.basis == "sectors", "Information Technology", "AAPL"),
                aria_label="Symbol or sector",
                size="2",
                width="100%",
                min_width="8rem",
            )
        ),
        rx.table.cell(
            rx.input(
                name="weight-" + r["id"],
                default_value=r["weight"],
                placeholder="25",
                input_mode="decimal",
                aria_label="Weight (%)",
                size="2",
                width="6rem",
            )
        ),
        rx.table.cell(
            rx.cond(
                S.can_change,
                rx.icon_button(
                    rx.icon("x", size=14),
                    type="button",
                    variant="ghost",
                    color_scheme="gray",
                    on_click=S.remove_row(r["id"]),
                    aria_label="Remove row",
                ),
            )
        ),
        key=r["id"],
    )


def target_card() -> rx.Component:
    return section(
        "Target allocation",
        rx.text(
            "Weights in percent of the portfolio's value; with the cash reserve they add up to 100 %. Or let the ",
            rx.link("optimization lab", href="/optimize"),
            " set them.",
            size="2",
        ),
        rx.form(
            rx.el.fieldset(
                rx.vstack(
                    rx.segmented_control.root(
                        *[rx.segmented_control.item(label, value=v) for v, label in BASIS_LABELS.items()],
                        value=S.basis,
                        on_change=S.set_basis,
                        size="1",
                    ),
                    scroll_table(
                        [rx.cond(S.basis == "sectors", "GICS sector", "Symbol"), "Weight (%)", ""],
                        rx.foreach(S.target_rows, _target_row),
                        max_width="30rem",
                    ),
                    rx.cond(
                        S.can_change,
                        rx.button(
                            rx.icon("plus", size=14), "Add row", type="button", variant="soft", on_click=S.add_row
                        ),
                    ),
                    rx.box(
                        field("Cash reserve (%)", "cash_reserve", default_value=S.cash_reserve, input_mode="decimal"),
                        max_width="12rem",
                    ),
                    error_callout(S.target_error),
                    rx.cond(
                        S.can_change,
                        rx.hstack(
                            rx.button("Save target", type="submit", id="save-target"),
                            rx.cond(
                                S.target_source != "",
                                rx.button(
                                    "Remove target",
                                    type="button",
                                    variant="soft",
                                    color_scheme="red",
                                    on_click=S.clear_target,
                                ),
                            ),
                            spacing="2",
                            wrap="wrap",
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                disabled=~S.can_change,
                style=FIELDSET,
            ),
            on_submit=S.save_target,
            key=S.target_version,
            width="100%",
        ),
        note=rx.cond(S.target_source != "", "Source: " + S.target_source, "No target yet."),
    )


def _setting(name: str) -> rx.Component:
    """The labelled input of a percent or amount setting, starting from the stored value."""
    label = PERCENT_LABELS.get(name) or AMOUNT_LABELS.get(name) or "Cooldown (days)"
    return field(label, name, default_value=S.settings[name], input_mode="decimal")


def _connection_choice() -> rx.Component:
    return rx.vstack(
        rx.text("Alpaca connection", size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", aria_label="Alpaca connection"),
            rx.select.content(
                rx.select.item("None", value=NONE),
                rx.foreach(S.connections, lambda c: rx.select.item(c.name, value=c.id.to_string())),
            ),
            name="connection_id",
            default_value=S.settings["connection_id"],
            size="3",
        ),
        rx.link("Manage connections", href="/settings/brokers", size="1"),
        spacing="1",
        width="100%",
    )


def settings_form() -> rx.Component:
    s = S.settings
    return rx.form(
        rx.el.fieldset(
            rx.vstack(
                rx.heading("Triggers", size="3"),
                field_row(
                    _choice("Calendar", "calendar", CALENDAR_LABELS, s["calendar"]),
                    *[_setting(n) for n in ("drift_threshold", "position_threshold", "cooldown_days")],
                ),
                _check("Rebalance on deposits and withdrawals (cash flow)", "cash_flow"),
                rx.text("A blank threshold is off.", size="1", color_scheme="gray"),
                rx.heading("Execution", size="3"),
                field_row(
                    _choice("Mode", "mode", MODE_LABELS, s["mode"]),
                    _choice("Broker", "broker", BROKER_LABELS, s["broker"]),
                    _connection_choice(),
                ),
                rx.heading("Trades and costs", size="3"),
                field_row(*[_setting(n) for n in ("band", "commission_bps", "spread_bps", "min_trade_value")]),
                _check("Fractional shares (otherwise whole shares)", "fractional"),
                rx.heading("Taxes", size="3"),
                field_row(
                    _choice("Lots to sell", "lot_method", LOT_LABELS, s["lot_method"]),
                    *[_setting(n) for n in ("tlh_threshold", "tlh_min_loss")],
                ),
                _check("Avoid selling lots with a short-term gain", "avoid_short_term_gains"),
                field_row(
                    _text_area(
                        "Harvest replacements",
                        "replacements",
                        "VOO→IVV",
                        "One SYMBOL→REPLACEMENT per line: what is bought after a harvested loss.",
                    ),
                    _text_area(
                        "Substantially identical groups",
                        "groups",
                        "SPY, IVV, VOO",
                        "One group per line, comma separated; the wash-sale rule treats a group as one symbol "
                        "across all your portfolios.",
                    ),
                ),
                rx.heading("Limits (checked before any order leaves)", size="3"),
                field_row(*[_setting(n) for n in ("max_position_weight", "max_order_value", "max_daily_loss")]),
                error_callout(S.settings_error),
                rx.cond(S.can_change, rx.button("Save settings", type="submit", id="save-settings")),
                spacing="3",
                width="100%",
            ),
            disabled=~S.can_change,
            style=FIELDSET,
        ),
        on_submit=S.save_settings,
        key=S.settings_version,
        width="100%",
    )


def _text_area(label: str, name: str, placeholder: str, hint: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.text_area(
            name=name, id=name, default_value=S.settings[name], placeholder=placeholder, rows="3", width="100%"
        ),
        rx.text(hint, size="1", color_scheme="gray"),
        spacing="1",
        width="100%",
    )


def _trade_row(t: rx.Var) -> rx.Component:
    editable = S.can_change & (S.plan["status"] == "proposed")
    return rx.table.row(
        rx.table.cell(rx.badge(t["side"], color_scheme=rx.cond(t["side"] == "buy", "green", "red"), variant="soft")),
        rx.table.cell(rx.text(t["symbol"], weight="bold")),
        rx.table.cell(
            rx.cond(
                editable,
                rx.input(
                    name="qty-" + t["row"],
                    default_value=t["typed"],
                    key=S.plan_version.to_string() + "-" + t["row"],
                    input_mode="decimal",
                    aria_label="Quantity of " + t["symbol"],
                    size="1",
                    width="6rem",
                    text_align="right",
                ),
                t["quantity"],
            ),
            style=RIGHT,
        ),
        rx.table.cell(t["price"], style=RIGHT, **WIDE_ONLY),
        rx.table.cell(t["value"], style=RIGHT),
        rx.table.cell(t["cost"], style=RIGHT, **WIDE_ONLY),
        rx.table.cell(t["reason"], **WIDE_ONLY),
    )


def trades_table() -> rx.Component:
    table = scroll_table(
        [
            header("Side"),
            header("Symbol"),
            header("Quantity", right=True),
            header("Price", right=True, wide_only=True),
            header("Value", right=True),
            header("Est. cost", right=True, wide_only=True),
            header("Reason", wide_only=True),
        ],
        rx.foreach(S.plan_trades, _trade_row),
    )
    return rx.form(
        rx.vstack(
            table,
            rx.cond(
                S.can_change & (S.plan["status"] == "proposed") & (S.plan_trades.length() > 0),
                rx.hstack(
                    rx.button("Save edits", type="submit", variant="soft", id="save-edits"),
                    rx.text("A quantity of 0 drops the trade; sells can only be reduced.", size="1", color="gray"),
                    align="center",
                    wrap="wrap",
                ),
            ),
            width="100%",
            spacing="2",
        ),
        on_submit=S.save_edits,
        width="100%",
    )


def weights_table() -> rx.Component:
    return scroll_table(
        [header("Position"), header("Before", right=True), header("After", right=True), header("Target", right=True)],
        rx.foreach(
            S.plan_weights,
            lambda w: rx.table.row(
                rx.table.cell(rx.text(w["symbol"], weight="bold")),
                rx.table.cell(w["before"], style=RIGHT),
                rx.table.cell(w["after"], style=RIGHT),
                rx.table.cell(w["target"], style=RIGHT),
            ),
        ),
    )


def decision_bar() -> rx.Component:
    """Approve or reject a proposed plan (with a note)."""
    return rx.cond(
        S.can_change & (S.plan["status"] == "proposed"),
        rx.flex(
            rx.input(
                placeholder="Note (optional)",
                default_value=S.decision_note,
                key=S.plan_version,
                on_blur=S.set_note,
                aria_label="Decision note",
                max_length=500,
                flex="1 1 12rem",
            ),
            rx.button("Approve", color_scheme="green", on_click=S.decide(True), id="approve-plan"),
            rx.button("Reject", color_scheme="red", variant="soft", on_click=S.decide(False), id="reject-plan"),
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
    )


def execute_bar() -> rx.Component:
    """Send an approved plan (or resume an executing one) through the chosen broker, after a confirmation."""
    confirm = rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Execute", id="execute-plan")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Execute plan #", S.plan["id"], "?"),
            rx.alert_dialog.description(
                "Its orders go to the ", S.exec_broker, " broker now, sells first. Fills are booked in the ledger."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Not now", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Send the orders", on_click=S.execute, id="confirm-execute")),
                justify="end",
                spacing="2",
                margin_top="1rem",
            ),
        ),
    )
    return rx.cond(
        S.can_change & ((S.plan["status"] == "approved") | (S.plan["status"] == "executing")),
        rx.hstack(
            rx.text("Through", size="2"),
            rx.select.root(
                rx.select.trigger(aria_label="Broker"),
                rx.select.content(*[rx.select.item(label, value=v) for v, label in BROKER_LABELS.items()]),
                value=S.exec_broker,
                on_change=S.set_exec_broker,
            ),
            confirm,
            align="center",
            wrap="wrap",
            spacing="2",
        ),
    )


def plan_details() -> rx.Component:
    p = S.plan
    return rx.vstack(
        rx.hstack(
            rx.heading("Plan #", p["id"], size="4"),
            status_badge(p["status"]),
            rx.text("trigger ", p["trigger"], " · prices of ", p["price_date"], " · ", p["broker"], size="2"),
            align="center",
            wrap="wrap",
            spacing="2",
        ),
        rx.cond(
            p["decided"] != "",
            rx.text("Decided by ", p["decided"], rx.cond(p["note"] != "", " · " + p["note"].to(str), ""), size="1"),
        ),
        tile_grid(S.plan_figures),
        rx.foreach(S.plan_notes, lambda n: rx.callout(n, icon="info", size="1", width="100%")),
        rx.cond(
            S.plan_blocked.length() > 0,
            rx.callout(
                "Buys blocked by the wash-sale rule (a loss sale within 30 days): " + S.plan_blocked.join(", "),
                icon="ban",
                color_scheme="orange",
                size="1",
                width="100%",
            ),
        ),
        rx.heading("Trades", size="3"),
        rx.cond(S.plan_trades.length() > 0, trades_table(), rx.text("No trades: within the bands.", size="2")),
        rx.heading("Weights before and after", size="3"),
        weights_table(),
        decision_bar(),
        execute_bar(),
        rx.cond(
            S.exec_report != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("send")),
                rx.callout.text(S.exec_report),
                rx.foreach(S.exec_rejected, lambda r: rx.callout.text(r, size="1")),
                color_scheme="green",
                width="100%",
                id="execution-report",
            ),
        ),
        spacing="3",
        width="100%",
        id="plan",
    )


def plan_now_form() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.box(
                field(
                    "Deposit (+) or withdrawal (−) to plan for", "flow", placeholder="optional", input_mode="decimal"
                ),
                flex="1 1 14rem",
            ),
            rx.button("Plan now", type="submit", size="3", id="plan-now"),
            spacing="3",
            align="end",
            wrap="wrap",
            width="100%",
        ),
        on_submit=S.plan_now,
        width="100%",
    )


def history_table() -> rx.Component:
    return scroll_table(
        [header("Plan"), header("Created"), header("Trigger", wide_only=True), header("Status"), header("Decided by")],
        rx.foreach(
            S.history,
            lambda h: rx.table.row(
                rx.table.cell(rx.link("#", h["id"], on_click=S.show_plan(h["id"]), cursor="pointer")),
                rx.table.cell(h["created"], white_space="nowrap"),
                rx.table.cell(h["trigger"], **WIDE_ONLY),
                rx.table.cell(status_badge(h["status"])),
                rx.table.cell(h["decided"]),
            ),
        ),
    )


def plans_tab() -> rx.Component:
    return rx.vstack(
        rx.cond(S.can_change, section("Plan", plan_now_form(), note="Trades back to the target within the bands.")),
        error_callout(S.plan_error),
        rx.cond(
            S.plan.contains("id"),
            rx.card(plan_details(), width="100%"),
            rx.callout("No plan yet for this portfolio.", icon="info", width="100%"),
        ),
        rx.cond(S.history.length() > 0, section("Plan history", history_table())),
        spacing="3",
        width="100%",
    )


@app_page("/rebalance", "Rebalance", on_load=RebalanceState.load)
def rebalance_page() -> rx.Component:
    return rx.vstack(
        portfolio_picker(
            S.select, rx.cond(S.loading, rx.spinner()), rx.link("Orders", href="/orders", size="2", id="to-orders")
        ),
        rx.cond(
            S.selected == "",
            empty_state(),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Target & drift", value="target"),
                    rx.tabs.trigger("Plan", value="plan"),
                    rx.tabs.trigger("Settings", value="settings"),
                ),
                rx.tabs.content(
                    rx.vstack(drift_card(), target_card(), spacing="3", width="100%", padding_top="1rem"),
                    value="target",
                ),
                rx.tabs.content(rx.box(plans_tab(), padding_top="1rem", width="100%"), value="plan"),
                rx.tabs.content(
                    rx.box(
                        section(
                            "Rebalancing settings", settings_form(), note="How and when this portfolio is rebalanced."
                        ),
                        padding_top="1rem",
                        width="100%",
                    ),
                    value="settings",
                ),
                default_value="target",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )
