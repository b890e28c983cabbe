"""Stress: the current holdings through real crises, and a shock the user defines."""

from __future__ import annotations

import reflex as rx

from investment_app.analytics.stress import StressResult
from investment_app.auth.viewer import Viewer
from investment_app.components.analysis import analysis_page
from investment_app.components.layout import app_page, section, titled_card
from investment_app.components.numbers import money, pct, signed_money, tone
from investment_app.components.tables import RIGHT, header, scroll_table
from investment_app.db import session_scope
from investment_app.services import analysis
from investment_app.services import stress as service
from investment_app.services.errors import InvalidInput
from investment_app.state import AnalysisState, authorized

ROUTE = "/stress"


def _crises(viewer: Viewer, portfolio_id: int) -> tuple[list[StressResult], list[str], list[str]]:
    with session_scope() as db:
        universe = analysis.universe(db)
        return service.crises(db, viewer, portfolio_id), sorted(set(universe)), list(universe.index)


def _shock(viewer: Viewer, portfolio_id: int, shocks: dict) -> StressResult:
    with session_scope() as db:
        return service.custom_shock(db, viewer, portfolio_id, **shocks)


def _scenario_row(r: StressResult) -> dict[str, str]:
    proxies = int(r.rows["proxy"].sum())
    return {
        "name": r.name,
        "window": f"{r.start} → {r.end}",
        "return": pct(r.portfolio_return),
        "pnl": signed_money(r.portfolio_pnl),
        "bench": pct(r.benchmark_return),
        "tone": tone(r.portfolio_pnl),
        "proxies": f"{proxies} by proxy" if proxies else "",
    }


def _holding_rows(r: StressResult) -> list[dict[str, str]]:
    return [
        {
            "symbol": str(symbol),
            "value": money(row.value),
            "return": pct(row["return"]),
            "pnl": signed_money(row.pnl),
            "tone": tone(row.pnl),
            "basis": f"proxy: β {row.beta:.2f} × benchmark" if row.proxy else (row.note or "own prices"),
        }
        for symbol, row in r.rows.iterrows()
    ]


def _percent(form: dict, name: str, label: str) -> float:
    text = str(form.get(name, "")).strip()
    try:
        return float(text) / 100 if text else 0.0
    except ValueError:
        raise InvalidInput(f"{label}: {text!r} is not a number.") from None


class StressState(AnalysisState):
    """Scenario results as display rows; the detail of the chosen one."""

    scenarios: list[dict[str, str]] = []
    chosen: str = ""
    detail_title: str = ""
    detail: list[dict[str, str]] = []
    sectors: list[str] = []
    symbols: list[str] = []
    _details: dict[str, list[dict[str, str]]] = {}

    @rx.event
    @authorized()
    def load(self, viewer: Viewer):
        if self._choose(viewer):
            return StressState.compute
        return None

    @rx.event
    @authorized()
    def select(self, viewer: Viewer, portfolio_id: str):
        self.selected = portfolio_id
        return StressState.compute

    @rx.event(background=True)
    @authorized(background=True)
    async def compute(self, viewer: Viewer):
        portfolio_id = int(self.selected)
        results = await self._staged([("Replaying the crises", lambda: _crises(viewer, portfolio_id))])
        if results is None:
            return
        scenarios, sectors, symbols = results[0]
        async with self:
            self.scenarios = [_scenario_row(r) for r in scenarios]
            self._details = {r.name: _holding_rows(r) for r in scenarios}
            self.sectors, self.symbols = sectors, symbols
            self._show_detail(scenarios[0].name if scenarios else "")

    def _show_detail(self, name: str) -> None:
        self.chosen, self.detail_title, self.detail = name, name, self._details.get(name, [])

    @rx.event
    @authorized()
    def choose(self, viewer: Viewer, name: str) -> None:
        """Show one scenario's holdings."""
        if name in self._details:
            self._show_detail(name)

    @rx.event(background=True)
    @authorized(background=True)
    async def run_shock(self, viewer: Viewer, form: dict):
        """Propagate the shock typed in the form to the holdings."""
        try:
            shocks = {
                "market": _percent(form, "market", "Market"),
                "sectors": {str(form.get("sector", "")): _percent(form, "sector_shock", "Sector")},
                "symbols": {str(form.get("symbol", "")): _percent(form, "symbol_shock", "Symbol")},
            }
        except InvalidInput as exc:
            async with self:
                self.error = str(exc)
            return
        portfolio_id = int(self.selected)
        results = await self._staged([("Propagating the shock", lambda: _shock(viewer, portfolio_id, shocks))])
        if results is None:
            return
        result = results[0]
        async with self:
            self._details = {**self._details, "Custom shock": _holding_rows(result)}
            self._show_detail("Custom shock")
            self.detail_title = (
                f"Custom shock: portfolio {pct(result.portfolio_return)} ({signed_money(result.portfolio_pnl)})"
            )


def scenarios_table() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.link(r["name"], on_click=StressState.choose(r["name"]), cursor="pointer"),
                rx.text(r["window"], size="1", color_scheme="gray"),
            ),
            rx.table.cell(r["return"], style=RIGHT, color=rx.color(r["tone"], 11)),
            rx.table.cell(r["pnl"], style=RIGHT, color=rx.color(r["tone"], 11)),
            rx.table.cell(r["bench"], style=RIGHT),
            rx.table.cell(r["proxies"], style={"white_space": "nowrap"}),
            bg=rx.cond(r["name"] == StressState.chosen, rx.color("accent", 3), "transparent"),
        )

    return titled_card(
        "Historical crises",
        "Today's holdings through each window at their own total-return prices; a holding that did not trade "
        "then moves with the benchmark times its beta. Choose a scenario to see its holdings.",
        scroll_table(
            [header("Scenario"), header("Portfolio", True), header("P&L", True), header("Benchmark", True), ""],
            rx.foreach(StressState.scenarios, row),
        ),
    )


def shock_form() -> rx.Component:
    def percent(name: str, label: str) -> rx.Component:
        return rx.input(name=name, type="number", step="any", placeholder="%", aria_label=label, width="6rem")

    def pick(name: str, items: rx.Var, placeholder: str) -> rx.Component:
        return rx.select.root(
            rx.select.trigger(placeholder=placeholder, width="12rem"),
            rx.select.content(rx.foreach(items, lambda s: rx.select.item(s, value=s))),
            name=name,
        )

    def line(label: str, *controls: rx.Component) -> rx.Component:
        return rx.hstack(rx.text(label, size="2", width="5rem"), *controls, align="center", wrap="wrap", spacing="2")

    return titled_card(
        "Custom shock",
        "Move the market, a sector or a symbol by a percentage (e.g. −20); each holding moves by its betas to "
        f"the shocked factors, estimated jointly over the last {service.BETA_YEARS} years.",
        rx.form(
            rx.vstack(
                line("Market", percent("market", "Market shock in percent")),
                line("Sector", pick("sector", StressState.sectors, "Sector"), percent("sector_shock", "Sector shock")),
                line("Symbol", pick("symbol", StressState.symbols, "Symbol"), percent("symbol_shock", "Symbol shock")),
                rx.button("Apply shock", type="submit", loading=StressState.running),
                spacing="3",
            ),
            on_submit=StressState.run_shock,
        ),
    )


def detail_table() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(r["symbol"], weight="medium")),
            rx.table.cell(r["value"], style=RIGHT),
            rx.table.cell(r["return"], style=RIGHT),
            rx.table.cell(r["pnl"], style=RIGHT, color=rx.color(r["tone"], 11)),
            rx.table.cell(rx.text(r["basis"], size="1", color_scheme="gray")),
        )

    return section(
        StressState.detail_title,
        scroll_table(
            [
                header("Holding"),
                header("Value", True),
                header("Return", True),
                header("P&L", True),
                header("Basis"),
            ],
            rx.foreach(StressState.detail, row),
        ),
        note="Worst contributors first.",
    )


@app_page(ROUTE, "Stress tests", on_load=StressState.load)
def stress_page() -> rx.Component:
    return analysis_page(
        StressState,
        ROUTE,
        scenarios_table(),
        rx.cond(StressState.detail.length() > 0, detail_table()),
        shock_form(),
    )
