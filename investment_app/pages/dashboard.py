"""Dashboard: value, gains, the three returns by period, charts, allocation, holdings, recent activity."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import plotly.graph_objects as go
import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components import charts
from investment_app.components.layout import app_page, chart_card
from investment_app.components.numbers import money, pct, quantity, signed_money, tone
from investment_app.components.portfolio_picker import empty_state, portfolio_picker
from investment_app.components.tables import WIDE_ONLY, scroll_table
from investment_app.db import session_scope
from investment_app.ledger.performance import EXPLAIN, PERIODS, PeriodResult, breakdown
from investment_app.pages.rebalance import drift_table, drift_view
from investment_app.services import dashboard as dashboard_service
from investment_app.services import performance, rebalance, targets
from investment_app.services.errors import InvalidInput
from investment_app.state import PortfolioState, authorized

SORTABLE = {"symbol": "Symbol", "value": "Value", "weight": "Weight", "day_change": "Day", "unrealized": "Gain"}
DRIFT_ROWS = 4


def _compute(viewer: Viewer, portfolio_id: int) -> dashboard_service.Dashboard:
    with session_scope() as db:
        return dashboard_service.dashboard(db, viewer, portfolio_id)


def _drift(viewer: Viewer, portfolio_id: int) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The drift card: total drift against the threshold and the largest drifts; nothing without a target (or
    when the target cannot be compared yet, which the rebalance page explains)."""
    with session_scope() as db:
        try:
            report = targets.drift_report(db, viewer, portfolio_id)
        except InvalidInput:
            return {}, []
        if report is None:
            return {}, []
        settings = rebalance.settings_for(db, portfolio_id)
    return drift_view(report, settings, top=DRIFT_ROWS)


def _trace(viewer: Viewer, portfolio_id: int, period: str, custom: tuple[str, str]) -> list[dict[str, str]]:
    with session_scope() as db:
        snap = performance.snapshot(db, viewer, portfolio_id)
        periods = {p.label: (p.start, p.end) for p in performance.periods(db, viewer, portfolio_id)}
    start, end = periods.get(period) or tuple(map(dt.date.fromisoformat, custom))
    frame = breakdown(snap.valuation, start, end)
    return [
        {
            "date": day.date().isoformat(),
            "value": money(row.total),
            "flow": money(row.net_flow) if row.net_flow else "",
            "return": pct(row.daily_return, 3),
            "twr": pct(row.twr_to_date),
        }
        for day, row in zip(frame.index, frame.itertuples(), strict=True)
    ]


def _custom(viewer: Viewer, portfolio_id: int, start: dt.date, end: dt.date) -> PeriodResult:
    with session_scope() as db:
        return performance.performance(db, viewer, portfolio_id, start, end)


def _period_row(p: PeriodResult) -> dict[str, str]:
    """One period's figures as display strings."""
    return {
        "twr": pct(p.twr),
        "mwr": pct(p.mwr),
        "simple": pct(p.simple_return),
        "bench": pct(p.benchmark_twr),
        "twr_tone": tone(p.twr),
        "range": f"{p.start} → {p.end}",
        "start": money(p.start_value),
        "end": money(p.end_value),
        "flows": money(p.net_flows),
    }


class DashboardState(PortfolioState):
    """The dashboard's view data (display strings; the numbers stay on the server)."""

    cards: dict[str, str] = {}
    tones: dict[str, str] = {}
    period: str = "MAX"
    returns: dict[str, dict[str, str]] = {}
    holdings: list[dict[str, str]] = []
    sort_by: str = "value"
    sort_desc: bool = True
    recent: list[dict[str, str]] = []
    warnings: list[str] = []
    value_figure: go.Figure = go.Figure()
    growth_figure: go.Figure = go.Figure()
    holding_figure: go.Figure = go.Figure()
    sector_figure: go.Figure = go.Figure()
    trace_rows: list[dict[str, str]] = []
    drift: dict[str, str] = {}
    drift_rows: list[dict[str, str]] = []
    _raw_holdings: list[dict] = []

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
        await self._refresh(viewer)

    async def _refresh(self, viewer: Viewer) -> None:
        data = await self._computed(viewer, _compute)
        if data is not None:
            self._apply(data)
        self.drift, self.drift_rows = await asyncio.to_thread(_drift, viewer, int(self.selected))

    def _apply(self, data: dashboard_service.Dashboard) -> None:
        s = data.summary
        self.cards = {
            "value": money(s.total_value),
            "as_of": s.as_of,
            "day": signed_money(s.day_change),
            "day_pct": pct(s.day_change_pct),
            "gain": signed_money(s.total_gain),
            "realized": signed_money(s.realized),
            "unrealized": signed_money(s.unrealized),
            "income": money(s.income),
            "cash": money(s.cash),
            "flows": money(s.net_flows),
            "benchmark": data.benchmark,
        }
        self.tones = {"day": tone(s.day_change), "gain": tone(s.total_gain)}
        self.warnings = s.warnings
        self.returns = {p.label: _period_row(p) for p in data.periods}
        self._raw_holdings = [dataclasses.asdict(h) for h in data.holdings]
        self._sort()
        self.recent = data.recent
        series = data.series
        self.value_figure = charts.value_chart(series.dates, series.value, series.invested)
        self.growth_figure = charts.growth_chart(series.dates, series.growth, series.benchmark_growth, data.benchmark)
        self.holding_figure = charts.allocation_chart(
            [h.symbol for h in data.holdings] + ["Cash"], [h.value for h in data.holdings] + [max(s.cash, 0.0)]
        )
        self.sector_figure = charts.allocation_chart(list(data.sectors), [max(v, 0.0) for v in data.sectors.values()])

    def _sort(self) -> None:
        rows = sorted(self._raw_holdings, key=lambda h: h[self.sort_by], reverse=self.sort_desc)
        self.holdings = [
            {
                "symbol": h["symbol"],
                "name": h["name"],
                "quantity": quantity(h["quantity"]),
                "price": money(h["price"]),
                "value": money(h["value"]),
                "weight": pct(h["weight"], 1).lstrip("+"),
                "day": signed_money(h["day_change"]),
                "day_pct": pct(h["day_change_pct"]),
                "gain": signed_money(h["unrealized"]),
                "gain_pct": pct(h["unrealized_pct"]),
                "day_tone": tone(h["day_change"]),
                "gain_tone": tone(h["unrealized"]),
                "stale": "yes" if h["stale"] else "",
            }
            for h in rows
        ]

    @rx.event
    @authorized()
    def sort(self, viewer: Viewer, column: str) -> None:
        """Sort the holdings table."""
        if column in SORTABLE:
            self.sort_desc = not self.sort_desc if column == self.sort_by else column != "symbol"
            self.sort_by = column
            self._sort()

    @rx.event
    @authorized()
    def set_period(self, viewer: Viewer, period: str | list[str]) -> None:
        self.period = period if isinstance(period, str) and period in self.returns else "MAX"

    @rx.event
    @authorized()
    async def custom_range(self, viewer: Viewer, form: dict):
        """Returns over a range the user typed; shown as the CUSTOM period."""
        try:
            start, end = (dt.date.fromisoformat(form.get(k, "")) for k in ("start", "end"))
        except ValueError:
            return rx.toast.error("Enter both dates of the range.")
        if start > end:
            return rx.toast.error("The range must start before it ends.")
        result = await asyncio.to_thread(_custom, viewer, int(self.selected), start, end)
        self.returns = {**self.returns, "CUSTOM": _period_row(result)}
        self.period = "CUSTOM"
        return None

    @rx.event
    @authorized()
    async def open_trace(self, viewer: Viewer):
        """The per-day breakdown behind the selected period's TWR."""
        custom = self.returns.get("CUSTOM", {}).get("range", " → ").split(" → ")
        self.trace_rows = await asyncio.to_thread(_trace, viewer, int(self.selected), self.period, tuple(custom))


def card(title: str, value: rx.Var, *lines: rx.Component, color: rx.Var | str = "gray") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(title, size="2", color_scheme="gray"),
            rx.heading(value, size="6", color_scheme=color, trim="both"),
            *lines,
            spacing="1",
        ),
        width="100%",
    )


def summary_cards() -> rx.Component:
    c = DashboardState.cards
    return rx.grid(
        card("Total value", c["value"], rx.text("as of ", c["as_of"], size="1", color_scheme="gray")),
        card(
            "Day change",
            c["day"],
            rx.text(c["day_pct"], size="1", color_scheme="gray"),
            color=DashboardState.tones["day"],
        ),
        card(
            "Total gain",
            c["gain"],
            rx.text(
                "realized ",
                c["realized"],
                " · unrealized ",
                c["unrealized"],
                " · income ",
                c["income"],
                size="1",
                color_scheme="gray",
            ),
            color=DashboardState.tones["gain"],
        ),
        card("Cash", c["cash"], rx.text("net deposits ", c["flows"], size="1", color_scheme="gray")),
        columns=rx.breakpoints(initial="1", xs="2", lg="4"),
        spacing="3",
        width="100%",
    )


def _return_figure(label: str, key: str, explain: str) -> rx.Component:
    r = DashboardState.returns[DashboardState.period]
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.heading(r[key], size="6", color_scheme=rx.cond(key == "twr", r["twr_tone"], "gray")),
        rx.text(explain, size="1", color_scheme="gray"),
        spacing="1",
        align="start",
        width="100%",
    )


def trace_dialog() -> rx.Component:
    cell = {"padding": "4px 8px", "text_align": "right"}
    return rx.dialog.root(
        rx.dialog.trigger(rx.button("Trace the numbers", variant="soft", size="1", on_click=DashboardState.open_trace)),
        rx.dialog.content(
            rx.dialog.title("Per-day breakdown · ", DashboardState.period),
            rx.dialog.description(
                "Value at the close, external flow (at the start of the day), daily return "
                "V_t / (V_t−1 + flow) − 1, and the linked time-weighted return so far.",
                size="2",
            ),
            rx.scroll_area(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in ("Date", "Value", "Flow", "Return", "TWR to date")
                            ]
                        )
                    ),
                    rx.table.body(
                        rx.foreach(
                            DashboardState.trace_rows,
                            lambda r: rx.table.row(
                                rx.table.cell(r["date"]),
                                rx.table.cell(r["value"], style=cell),
                                rx.table.cell(r["flow"], style=cell),
                                rx.table.cell(r["return"], style=cell),
                                rx.table.cell(r["twr"], style=cell),
                            ),
                        )
                    ),
                    size="1",
                    width="100%",
                ),
                type="auto",
                scrollbars="vertical",
                style={"height": "60vh"},
            ),
            rx.dialog.close(rx.button("Close", variant="soft", margin_top="1rem")),
            max_width="720px",
        ),
    )


def returns_card() -> rx.Component:
    r = DashboardState.returns[DashboardState.period]
    return rx.card(
        rx.vstack(
            rx.heading("Returns", size="4"),
            rx.segmented_control.root(
                *[rx.segmented_control.item(p, value=p) for p in PERIODS],
                value=DashboardState.period,
                on_change=DashboardState.set_period,
                size="1",
                width="100%",
                max_width="28rem",
            ),
            rx.form(
                rx.hstack(
                    rx.input(name="start", type="date", size="1", aria_label="Custom range start"),
                    rx.input(name="end", type="date", size="1", aria_label="Custom range end"),
                    rx.button("Custom range", size="1", variant="soft", type="submit"),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                ),
                on_submit=DashboardState.custom_range,
            ),
            rx.text(
                r["range"],
                " · start ",
                r["start"],
                " · end ",
                r["end"],
                " · net flows ",
                r["flows"],
                size="1",
                color_scheme="gray",
            ),
            rx.grid(
                _return_figure("Time-weighted (TWR)", "twr", EXPLAIN["twr"]),
                _return_figure("Money-weighted (XIRR, a year)", "mwr", EXPLAIN["mwr"]),
                _return_figure("Simple", "simple", EXPLAIN["simple_return"]),
                columns=rx.breakpoints(initial="1", sm="3"),
                spacing="4",
                width="100%",
            ),
            rx.hstack(
                rx.text(
                    DashboardState.cards["benchmark"],
                    " (total return) over the same dates: ",
                    rx.text.strong(r["bench"]),
                    size="2",
                ),
                rx.spacer(),
                trace_dialog(),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _sort_header(column: str) -> rx.Component:
    arrow = rx.cond(DashboardState.sort_by == column, rx.cond(DashboardState.sort_desc, " ↓", " ↑"), "")
    return rx.table.column_header_cell(
        rx.link(
            SORTABLE[column],
            arrow,
            on_click=DashboardState.sort(column),
            cursor="pointer",
            underline="none",
            color_scheme="gray",
        ),
        text_align="left" if column == "symbol" else "right",
        white_space="nowrap",
        **(WIDE_ONLY if column in ("weight", "day_change") else {}),
    )


def drift_card() -> rx.Component:
    """Drift from the target allocation, when the portfolio has one."""
    d = DashboardState.drift
    return rx.cond(
        d.contains("total"),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Drift from target", size="4"),
                    rx.spacer(),
                    rx.link("Rebalance", href="/rebalance", size="2"),
                    width="100%",
                    align="center",
                ),
                rx.hstack(
                    rx.heading(d["total"], size="6", color_scheme=d["tone"], id="dashboard-drift"),
                    rx.text("total drift · threshold ", d["threshold"], size="2", color_scheme="gray"),
                    rx.cond(d["over"] != "", rx.badge("above threshold", color_scheme="orange")),
                    align="center",
                    wrap="wrap",
                ),
                drift_table(DashboardState.drift_rows),
                spacing="2",
                width="100%",
            ),
            width="100%",
        ),
    )


def holding_row(h: rx.Var) -> rx.Component:
    right = {"text_align": "right", "white_space": "nowrap"}
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(h["symbol"], weight="bold"),
                    rx.cond(h["stale"] != "", rx.badge("stale price", color_scheme="orange")),
                ),
                rx.text(h["quantity"], " × ", h["price"], size="1", color_scheme="gray", white_space="nowrap"),
                spacing="0",
            )
        ),
        rx.table.cell(h["value"], style=right),
        rx.table.cell(h["weight"], style=right, **WIDE_ONLY),
        rx.table.cell(
            rx.text(h["day"], color_scheme=h["day_tone"]),
            rx.text(h["day_pct"], size="1", color_scheme="gray"),
            style=right,
            **WIDE_ONLY,
        ),
        rx.table.cell(
            rx.text(h["gain"], color_scheme=h["gain_tone"]),
            rx.text(h["gain_pct"], size="1", color_scheme="gray"),
            style=right,
        ),
    )


def holdings_table() -> rx.Component:
    return rx.card(
        rx.heading("Holdings", size="4", margin_bottom="0.5rem"),
        scroll_table([_sort_header(c) for c in SORTABLE], rx.foreach(DashboardState.holdings, holding_row)),
        width="100%",
    )


def recent_list() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.heading("Recent transactions", size="4"),
            rx.spacer(),
            rx.link("All transactions", href="/transactions", size="2"),
            width="100%",
            align="center",
        ),
        rx.vstack(
            rx.foreach(
                DashboardState.recent,
                lambda t: rx.hstack(
                    rx.badge(t["type"], variant="soft"),
                    rx.text(t["symbol"], weight="bold"),
                    rx.text(t["detail"], size="2"),
                    rx.spacer(),
                    rx.text(t["date"], size="1", color_scheme="gray"),
                    width="100%",
                    align="center",
                    border_bottom=f"1px solid {rx.color('gray', 4)}",
                    padding_y="6px",
                ),
            ),
            width="100%",
            spacing="0",
            margin_top="0.5rem",
        ),
        width="100%",
    )


@app_page("/", "Dashboard", on_load=DashboardState.load)
def dashboard() -> rx.Component:
    return rx.vstack(
        portfolio_picker(
            DashboardState.select,
            rx.cond(DashboardState.loading, rx.spinner()),
            rx.link("Manage portfolios", href="/portfolios", size="2"),
        ),
        rx.cond(
            DashboardState.empty | (DashboardState.selected == ""),
            empty_state(),
            rx.vstack(
                rx.foreach(
                    DashboardState.warnings,
                    lambda w: rx.callout(w, icon="triangle-alert", color_scheme="orange", width="100%"),
                ),
                summary_cards(),
                drift_card(),
                rx.cond(DashboardState.returns.contains(DashboardState.period), returns_card()),
                rx.grid(
                    chart_card(
                        "Value",
                        [("Value", DashboardState.value_figure), ("vs benchmark", DashboardState.growth_figure)],
                    ),
                    chart_card(
                        "Allocation",
                        [("Holdings", DashboardState.holding_figure), ("Sectors", DashboardState.sector_figure)],
                    ),
                    columns=rx.breakpoints(initial="1", lg="2"),
                    spacing="3",
                    width="100%",
                ),
                holdings_table(),
                recent_list(),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )
