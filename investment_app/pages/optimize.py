"""Optimization lab: universe, estimators, objective and constraints in; weights, figures against the current
portfolio, the efficient frontier, risk contributions and trades out; saved runs and the target allocation."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import reflex as rx

from investment_app.analytics.black_litterman import EXAMPLES
from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.hrp import LINKAGE_METHODS
from investment_app.auth.viewer import Viewer
from investment_app.components import charts
from investment_app.components.analysis import analysis_page, tile_grid
from investment_app.components.layout import app_page, plot, section, titled_card
from investment_app.components.numbers import money, pct, quantity, tone
from investment_app.components.tables import RIGHT, WIDE_ONLY, header, scroll_table
from investment_app.db import session_scope
from investment_app.models.optimization import TargetAllocation
from investment_app.models.user import Role
from investment_app.services import optimization as service
from investment_app.services.errors import InvalidInput
from investment_app.state import AnalysisState, authorized

ROUTE = "/optimize"
NOWRAP = {"white_space": "nowrap"}
TOP_WEIGHTS = 5
PERCENT_FIELDS = {
    "risk_free_rate": "Risk-free rate",
    "target_return": "Target return",
    "target_volatility": "Target volatility",
    "min_weight": "Min weight",
    "max_weight": "Max weight",
    "max_sector": "Max per sector",
    "cash_reserve": "Cash reserve",
    "max_turnover": "Max turnover",
}
FIGURES = {
    "expected_return": "Expected return",
    "volatility": "Volatility",
    "sharpe": "Sharpe ratio",
    "cvar": "1-day CVaR 95%",
}
GRID = {"columns": rx.breakpoints(initial="1", sm="2", lg="3"), "spacing": "3", "width": "100%"}


def _parsed(
    form: dict, name: str, label: str, scale: float = 1.0, kind: type = float, default: float | None = None
) -> float | int | None:
    """The field as a number, ``default`` when empty; ``scale`` 0.01 turns a percentage into a decimal."""
    text = str(form.get(name, "")).replace(",", "").strip()
    if not text:
        return default
    try:
        return kind(text) * scale if scale != 1.0 else kind(text)
    except ValueError:
        raise InvalidInput(f"{label}: {text!r} is not a {'whole ' if kind is int else ''}number.") from None


def _request(form: dict, include_holdings: bool) -> service.Request:
    """The form as a request (percentages become decimals); InvalidInput names the field."""
    floors, caps = service.sector_limits(str(form.get("sector_limits", "")))
    percent = {name: _parsed(form, name, label, 0.01) for name, label in PERCENT_FIELDS.items()}
    return service.Request(
        include_holdings=include_holdings,
        symbols=tuple(s for s in re.split(r"[\s,;]+", str(form.get("symbols", "")).upper()) if s),
        years=_parsed(form, "years", "Lookback", kind=int, default=5),
        returns_model=str(form.get("returns_model") or "mean_historical"),
        risk_model=str(form.get("risk_model") or "sample"),
        objective=str(form.get("objective") or "max_sharpe"),
        risk_free_rate=percent["risk_free_rate"] or 0.0,
        target_return=percent["target_return"],
        target_volatility=percent["target_volatility"],
        risk_aversion=_parsed(form, "risk_aversion", "Risk aversion", default=1.0),
        linkage=str(form.get("linkage") or "single"),
        min_weight=percent["min_weight"] or 0.0,
        max_weight=percent["max_weight"],
        max_sector=percent["max_sector"],
        sector_floors=floors,
        sector_caps=caps,
        cash_reserve=percent["cash_reserve"] or 0.0,
        max_holdings=_parsed(form, "max_holdings", "Max holdings", kind=int),
        max_turnover=percent["max_turnover"],
        cost_bps=_parsed(form, "cost_bps", "Transaction cost", default=0.0),
        l2_gamma=_parsed(form, "l2_gamma", "L2 gamma", default=0.0),
        views=str(form.get("views", "")),
        market_caps=str(form.get("market_caps", "")),
    )


def _plain(value: float, digits: int = 2) -> str:
    """A percentage without the + sign."""
    return pct(value, digits).lstrip("+")


def _figure(key: str, value: float) -> str:
    """A Sharpe ratio with two decimals, any other figure as a percentage."""
    return f"{value:.2f}" if key == "sharpe" else _plain(value)


def _tiles(o: service.Outcome) -> list[dict[str, str]]:
    now = o.current
    return [
        {
            "label": label,
            "value": _figure(key, getattr(o.figures, key)),
            "note": f"current: {_figure(key, getattr(now, key)) if now else '—'}",
            "tone": "gray",
        }
        for key, label in FIGURES.items()
    ]


def _weight_rows(o: service.Outcome) -> list[dict[str, str]]:
    """Every symbol held now or after, largest target weight first, then cash."""
    table = (
        o.result.weights.to_frame("weight")
        .assign(current=o.current_weights, sector=o.sectors)
        .query("weight != 0 or current != 0")
        .sort_values(["weight", "current"], ascending=False)
    )
    table.loc["Cash"] = (o.result.cash, o.current_cash, "")
    return [
        {
            "symbol": str(symbol),
            "sector": str(row.sector),
            "weight": _plain(row.weight, 1),
            "current": _plain(row.current, 1),
            "change": pct(row.weight - row.current, 1),
            "tone": tone(round(row.weight - row.current, 3)),
        }
        for symbol, row in table.iterrows()
    ]


def _hover(title: str, point, weights: pd.Series) -> str:
    """'<b>title</b><br>return …, volatility …, Sharpe …<br>AAPL 30% · WMT 25% · … +2 more'."""
    held = weights[weights.abs() > 5e-4].sort_values(ascending=False)
    listed = " · ".join(f"{s} {_plain(w, 0)}" for s, w in held.head(TOP_WEIGHTS).items())
    more = f" · +{len(held) - TOP_WEIGHTS} more" if len(held) > TOP_WEIGHTS else ""
    return (
        f"<b>{title}</b><br>return {_plain(point.expected_return, 1)}, volatility {_plain(point.volatility, 1)}, "
        f"Sharpe {point.sharpe:.2f}<br>{listed}{more}"
    )


def _frontier_figure(o: service.Outcome) -> go.Figure:
    """The frontier with the assets, the optimised, current, max-Sharpe and min-volatility portfolios and the CML."""
    curve = [(p.volatility, p.expected_return, _hover("Efficient portfolio", p, p.weights)) for p in o.frontier]
    assets = [(str(s), row.volatility, row.expected_return) for s, row in o.assets.iterrows()]
    named = {
        "Optimised": (o.result, o.result.weights),
        "Current": (o.current, o.current_weights),
        "Max Sharpe": (o.max_sharpe, o.max_sharpe and o.max_sharpe.weights),
        "Min volatility": (o.min_volatility, o.min_volatility.weights),
    }
    marks = {n: (p.volatility, p.expected_return, _hover(n, p, w)) for n, (p, w) in named.items() if p is not None}
    cml = None
    if o.max_sharpe is not None:
        rf, end = o.request.risk_free_rate, 1.05 * max(p.volatility for p in o.frontier)
        cml = [(0.0, rf), (end, rf + o.max_sharpe.sharpe * end)]
    return charts.frontier_chart(curve, assets, marks, cml)


def _trade_rows(o: service.Outcome) -> list[dict[str, str]]:
    """The orders, sells first, as display rows."""
    return [
        {
            "symbol": str(symbol),
            "side": row.side,
            "quantity": quantity(abs(row.quantity)),
            "price": money(row.price),
            "value": money(row.value),
            "cost": money(row.cost),
            "tone": "green" if row.side == "buy" else "red",
        }
        for symbol, row in o.trades.orders.iterrows()
    ]


def _trade_summary(o: service.Outcome) -> str:
    """What is allocated, bought, sold and left in cash."""
    t = o.trades
    return (
        f"{money(o.total_value)} (holdings and cash) in whole shares at the {o.as_of} closes: "
        f"buy {money(t.buy_value)}, sell {money(t.sell_value)}, estimated costs {money(t.cost)}; "
        f"{money(o.allocation.leftover)} stays in cash."
    )


def _heading(o: service.Outcome, prefix: str = "") -> str:
    """What the figures are: objective, universe size and lookback."""
    r = o.request
    return (
        f"{prefix}{service.OBJECTIVES[r.objective]} on {len(o.assets)} symbols, {r.years}-year lookback to {o.as_of}; "
        "below each figure, the current portfolio's."
    )


def _run_row(r: service.RunRow) -> dict[str, str]:
    """A saved run as a display row."""
    f = r.figures
    return {
        "id": str(r.id),
        "name": r.name,
        "objective": service.OBJECTIVES.get(r.objective, r.objective),
        "created": r.created,
        "figures": f"{_plain(f.expected_return, 1)} · {_plain(f.volatility, 1)} · {f.sharpe:.2f}",
        "data": r.data_version,
    }


def _target_note(t: TargetAllocation | None) -> str:
    """One line on the portfolio's target allocation."""
    if t is None:
        return "No target allocation yet: save a run, then apply it."
    held = sum(1 for w in t.weights.values() if w)
    return (
        f"Target allocation: {held} assets and {_plain(t.cash_reserve, 1)} cash, from {t.source} run #{t.run_id}, "
        f"set {t.updated_at:%Y-%m-%d %H:%M} UTC."
    )


def _comparison_rows(c: service.Comparison) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Two runs' weights and figures side by side as display rows."""
    weights = [
        {"symbol": str(s), "a": _plain(row.a, 1), "b": _plain(row.b, 1), "change": pct(row.change, 1)}
        for s, row in c.weights.iterrows()
    ]
    figures = [
        {"label": label, "a": _figure(key, c.figures.at[key, "a"]), "b": _figure(key, c.figures.at[key, "b"])}
        for key, label in {**FIGURES, "cash": "Cash"}.items()
    ]
    return weights, figures


def _load(viewer: Viewer, portfolio_id: int, request: service.Request) -> service.Universe:
    """The request resolved on the portfolio (the database step of a run)."""
    with session_scope() as db:
        return service.load(db, viewer, portfolio_id, request)


def _saved(viewer: Viewer, portfolio_id: int) -> tuple[list[service.RunRow], TargetAllocation | None]:
    """The viewer's saved runs on the portfolio and its target allocation."""
    with session_scope() as db:
        return service.list_runs(db, viewer, portfolio_id), service.target(db, viewer, portfolio_id)


def _save(viewer: Viewer, portfolio_id: int, request: service.Request, name: str) -> int:
    """Save the outcome shown (recomputed from the cache); an analytics error is reported, nothing saved."""
    with session_scope() as db:
        try:
            outcome = service.run(db, viewer, portfolio_id, request)
        except AnalyticsError as exc:
            raise InvalidInput(str(exc)) from exc
        return service.save(db, viewer, portfolio_id, request, outcome, name)


def _rerun(viewer: Viewer, run_id: int) -> tuple[service.Outcome, int, str]:
    """A saved run on today's data, its portfolio and its name."""
    with session_scope() as db:
        saved = service.get_run(db, viewer, run_id)
        return service.rerun(db, viewer, run_id), int(saved.portfolio_id or 0), saved.name


def _compare(viewer: Viewer, a: int, b: int) -> service.Comparison:
    """Two of the viewer's saved runs side by side."""
    with session_scope() as db:
        return service.compare(service.get_run(db, viewer, a), service.get_run(db, viewer, b))


def _apply(viewer: Viewer, run_id: int) -> None:
    """Make a saved run the portfolio's target allocation."""
    with session_scope() as db:
        service.apply_target(db, viewer, run_id)


class OptimizeState(AnalysisState):
    """The lab's form choices that change the form, the shown outcome as display data, and the saved runs."""

    objective: str = "max_sharpe"
    include_holdings: bool = True
    can_change: bool = False
    has_result: bool = False
    heading: str = ""
    tiles: list[dict[str, str]] = []
    weights: list[dict[str, str]] = []
    frontier: go.Figure = go.Figure()
    contributions: go.Figure = go.Figure()
    trades: list[dict[str, str]] = []
    trade_summary: str = ""
    notes: list[str] = []
    run_name: str = ""
    saved_id: str = ""
    runs: list[dict[str, str]] = []
    compare_a: str = ""
    compare_b: str = ""
    comparison_title: str = ""
    comparison: list[dict[str, str]] = []
    comparison_figures: list[dict[str, str]] = []
    target_note: str = ""
    _request: service.Request = service.Request()
    _shown: service.Request | None = None
    _shown_portfolio: int = 0

    def _refresh(self, viewer: Viewer) -> None:
        """Saved runs, the target allocation and whether the viewer may save and apply (owner, analyst or admin)."""
        runs, target = _saved(viewer, int(self.selected))
        self.runs = [_run_row(r) for r in runs]
        self.target_note = _target_note(target)
        self.can_change = self.selected_is_mine and viewer.role.allows(Role.ANALYST)

    def _clear(self) -> None:
        self.has_result, self._shown, self.saved_id = False, None, ""
        self.comparison, self.comparison_figures, self.comparison_title = [], [], ""
        self.compare_a = self.compare_b = ""

    def _display(self, o: service.Outcome, portfolio_id: int, heading: str) -> None:
        self.has_result, self._shown, self._shown_portfolio = True, o.request, portfolio_id
        self.heading = heading
        self.tiles = _tiles(o)
        self.weights = _weight_rows(o)
        self.frontier = _frontier_figure(o)
        shares = o.result.risk_contributions.sort_values(ascending=False)
        shares = shares[shares.abs() > 1e-6]
        self.contributions = charts.bars_chart(list(shares.index), shares.round(4).tolist(), "Share of variance", ".0%")
        self.trades = _trade_rows(o)
        self.trade_summary = _trade_summary(o)
        self.notes = list(o.notes)
        self.objective = o.request.objective
        self.run_name = f"{service.OBJECTIVES[o.request.objective]} · {o.as_of}"
        self.saved_id = ""

    @rx.event
    @authorized()
    def load(self, viewer: Viewer):
        if self._choose(viewer):
            self._refresh(viewer)
            return OptimizeState.compute
        return None

    @rx.event
    @authorized()
    def select(self, viewer: Viewer, portfolio_id: str):
        self.selected = portfolio_id
        self._clear()
        self._refresh(viewer)
        return OptimizeState.compute

    @rx.event
    @authorized()
    def set_objective(self, viewer: Viewer, objective: str) -> None:
        if objective in service.OBJECTIVES:
            self.objective = objective

    @rx.event
    @authorized()
    def set_include_holdings(self, viewer: Viewer, value: bool) -> None:
        self.include_holdings = bool(value)

    @rx.event
    @authorized()
    def submit(self, viewer: Viewer, form: dict):
        """Validate the form, then optimise in the background."""
        try:
            request = _request(form, self.include_holdings)
            request.check()
        except InvalidInput as exc:
            self.error = str(exc)
            return None
        self._request = request
        return OptimizeState.compute

    @rx.event(background=True)
    @authorized(background=True)
    async def compute(self, viewer: Viewer):
        portfolio_id, request = int(self.selected), self._request
        universe: list[service.Universe] = []
        results = await self._staged(
            [
                ("Loading prices", lambda: universe.append(_load(viewer, portfolio_id, request))),
                ("Optimising, tracing the frontier and the trades", lambda: service.solve(universe[0])),
            ]
        )
        if results is None:
            return
        outcome = results[1]
        async with self:
            self._display(outcome, portfolio_id, _heading(outcome))

    @rx.event
    @authorized()
    def cancel(self, viewer: Viewer) -> None:
        """Drop the running computation's result (it finishes in its thread, unseen)."""
        self._generation += 1
        self.running, self.progress, self.stage = False, 0, ""

    @rx.event
    @authorized()
    async def save_run(self, viewer: Viewer, form: dict):
        """Save the outcome shown under the name typed (the server checks the viewer may change the portfolio)."""
        if self._shown is None:
            return rx.toast.error("Run an optimization first.")
        name = str(form.get("run_name", ""))
        run_id = await asyncio.to_thread(_save, viewer, self._shown_portfolio, self._shown, name)
        self._refresh(viewer)
        self.saved_id = str(run_id)
        return rx.toast.success(f"Saved run {name!r}.")

    @rx.event
    @authorized()
    def apply_target(self, viewer: Viewer, run_id: str):
        _apply(viewer, int(run_id))
        self._refresh(viewer)
        return rx.toast.success("Target allocation set: the rebalancer will work towards these weights.")

    @rx.event(background=True)
    @authorized(background=True)
    async def rerun(self, viewer: Viewer, run_id: str):
        results = await self._staged([("Re-running on today's data", lambda: _rerun(viewer, int(run_id)))])
        if results is None:
            return
        outcome, portfolio_id, name = results[0]
        async with self:
            self._request = outcome.request
            self._display(outcome, portfolio_id, _heading(outcome, f"Re-run of {name!r} on today's data: "))

    @rx.event
    @authorized()
    def set_compare_a(self, viewer: Viewer, value: str) -> None:
        self.compare_a = value

    @rx.event
    @authorized()
    def set_compare_b(self, viewer: Viewer, value: str) -> None:
        self.compare_b = value

    @rx.event
    @authorized()
    def compare(self, viewer: Viewer):
        if not (self.compare_a and self.compare_b):
            return rx.toast.error("Choose two saved runs to compare.")
        result = _compare(viewer, int(self.compare_a), int(self.compare_b))
        self.comparison, self.comparison_figures = _comparison_rows(result)
        self.comparison_title = f"{result.names[0]} (A) and {result.names[1]} (B)"
        return None


def _labelled(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    """A control with its label above and an optional grey hint below."""
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        spacing="1",
        width="100%",
        min_width="0",
    )


def _choice(name: str, options: dict[str, str], default: str, **props) -> rx.Component:
    """A select of ``options`` (value → label) submitted as ``name``."""
    return rx.select.root(
        rx.select.trigger(width="100%"),
        rx.select.content(*[rx.select.item(label, value=key) for key, label in options.items()]),
        name=name,
        default_value=default,
        **props,
    )


def _number_input(name: str, default: str = "", **props) -> rx.Component:
    """A number input submitted as ``name`` (any step unless given)."""
    props = {"step": "any", **props}
    return rx.input(name=name, default_value=default, type="number", width="100%", aria_label=name, **props)


def _percent(name: str, label: str, default: str = "", hint: str = "", placeholder: str = "none") -> rx.Component:
    """A labelled number input for a percentage."""
    return _labelled(f"{label} (%)", _number_input(name, default, placeholder=placeholder), hint)


def universe_fields() -> rx.Component:
    """Holdings toggle, extra symbols and lookback."""
    return rx.grid(
        _labelled(
            "Holdings",
            rx.hstack(
                rx.switch(
                    checked=OptimizeState.include_holdings,
                    on_change=OptimizeState.set_include_holdings,
                    aria_label="Include the holdings",
                ),
                rx.text("Include the current holdings", size="2"),
                align="center",
            ),
        ),
        _labelled(
            "Extra symbols",
            rx.input(name="symbols", placeholder="e.g. BAC, T, SPY", width="100%", aria_label="symbols"),
            "Any symbol in the price store, comma-separated.",
        ),
        _labelled("Lookback (years)", _number_input("years", "5", min=1, max=service.MAX_YEARS, step=1)),
        **GRID,
    )


def estimator_fields() -> rx.Component:
    """Returns model, risk model and risk-free rate."""
    return rx.grid(
        _labelled("Expected returns", _choice("returns_model", service.RETURN_MODELS, "mean_historical")),
        _labelled("Risk model", _choice("risk_model", service.RISK_MODELS, "sample")),
        _percent("risk_free_rate", "Risk-free rate", "0", placeholder="0"),
        **GRID,
    )


def objective_fields() -> rx.Component:
    """The objective, and only the parameters it uses."""
    objective = OptimizeState.objective
    return rx.vstack(
        rx.grid(
            _labelled(
                "Optimise for",
                _choice(
                    "objective",
                    service.OBJECTIVES,
                    "max_sharpe",
                    value=objective,
                    on_change=OptimizeState.set_objective,
                ),
            ),
            rx.cond(objective == "efficient_return", _percent("target_return", "Target return", "15")),
            rx.cond(objective == "efficient_risk", _percent("target_volatility", "Target volatility", "20")),
            rx.cond(
                objective == "max_quadratic_utility",
                _labelled("Risk aversion δ", _number_input("risk_aversion", "1", min=0)),
            ),
            rx.cond(
                objective == "hrp",
                _labelled("Linkage", _choice("linkage", {m: m for m in LINKAGE_METHODS}, "single")),
            ),
            **GRID,
        ),
        rx.cond(
            objective == "black_litterman",
            _labelled(
                "Views (one per line)",
                rx.text_area(name="views", placeholder="AAPL 10% @ 60%", width="100%", aria_label="views"),
                f"Absolute or relative, with a confidence (Idzorek): {EXAMPLES}. The benchmark sets the risk aversion.",
            ),
        ),
        rx.cond(
            objective == "black_litterman",
            _labelled(
                "Market caps (optional)",
                rx.input(
                    name="market_caps", placeholder="AAPL=2.9T, MA=410B, …", width="100%", aria_label="market caps"
                ),
                "The prior's weights: every symbol's market cap, or leave empty for equal weights.",
            ),
        ),
        width="100%",
        spacing="3",
    )


def constraint_fields() -> rx.Component:
    """Bounds, sectors, cash, holdings, turnover and costs, folded away until needed."""
    return rx.el.details(
        rx.el.summary(
            rx.text("Constraints: bounds, sectors, cash, holdings, turnover, costs", as_="span", size="2"),
            cursor="pointer",
        ),
        rx.vstack(
            rx.grid(
                _percent("min_weight", "Min weight", "0", "Below 0 allows shorts.", placeholder="0"),
                _percent("max_weight", "Max weight"),
                _percent("max_sector", "Max per sector", hint="GICS sectors."),
                _percent("cash_reserve", "Cash reserve", "0", placeholder="0"),
                _labelled("Max holdings", _number_input("max_holdings", placeholder="none", min=1, step=1)),
                _percent("max_turnover", "Max turnover", hint="Σ|new − current weight|."),
                _labelled("Transaction cost (bps)", _number_input("cost_bps", "0", min=0)),
                _labelled("L2 regularisation γ", _number_input("l2_gamma", "0", min=0)),
                **GRID,
            ),
            _labelled(
                "Sector and group floors and caps (one per line; a group of your own lists its symbols)",
                rx.text_area(
                    name="sector_limits",
                    placeholder="Information Technology <= 30%\nEnergy >= 5%\nBig tech (AAPL, GOOG, AMZN) <= 40%",
                    width="100%",
                    aria_label="sector limits",
                ),
            ),
            spacing="3",
            width="100%",
            padding_top="0.75rem",
        ),
        width="100%",
    )


def settings_form() -> rx.Component:
    """The lab's form: universe, estimators, objective, constraints, then run or cancel."""

    def part(title: str, body: rx.Component) -> rx.Component:
        return rx.vstack(rx.heading(title, size="3"), body, spacing="2", width="100%")

    return titled_card(
        "Settings",
        "Choose the universe, how to estimate returns and risk, the objective and the constraints.",
        rx.form(
            rx.vstack(
                part("Universe", universe_fields()),
                part("Estimators", estimator_fields()),
                part("Objective", objective_fields()),
                constraint_fields(),
                rx.hstack(
                    rx.button("Run optimization", type="submit", loading=OptimizeState.running),
                    rx.cond(
                        OptimizeState.running,
                        rx.button("Cancel", type="button", variant="soft", on_click=OptimizeState.cancel),
                    ),
                    spacing="2",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=OptimizeState.submit,
            width="100%",
        ),
    )


def weights_table() -> rx.Component:
    """Target against current weight per symbol and cash."""

    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(r["symbol"], weight="medium"), rx.text(r["sector"], size="1", color_scheme="gray")),
            rx.table.cell(rx.text(r["weight"], weight="bold"), style=RIGHT),
            rx.table.cell(r["current"], style=RIGHT),
            rx.table.cell(r["change"], style=RIGHT, color=rx.color(r["tone"], 11)),
        )

    return section(
        "Weights",
        scroll_table(
            [header("Symbol"), header("Weight", True), header("Current", True), header("Change", True)],
            rx.foreach(OptimizeState.weights, row),
        ),
        note="Fractions of the portfolio's total value, cash included.",
    )


def trades_table() -> rx.Component:
    """The orders from today's holdings to the optimised ones."""

    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(r["symbol"], weight="medium")),
            rx.table.cell(rx.badge(r["side"], color_scheme=r["tone"], variant="soft")),
            rx.table.cell(r["quantity"], style=RIGHT),
            rx.table.cell(r["price"], style=RIGHT, **WIDE_ONLY),
            rx.table.cell(r["value"], style=RIGHT),
            rx.table.cell(r["cost"], style=RIGHT, **WIDE_ONLY),
        )

    return section(
        "Trades",
        rx.text(OptimizeState.trade_summary, size="2"),
        scroll_table(
            [
                header("Symbol"),
                header("Side"),
                header("Shares", True),
                header("Price", True, wide_only=True),
                header("Value", True),
                header("Cost", True, wide_only=True),
            ],
            rx.foreach(OptimizeState.trades, row),
        ),
    )


def save_panel() -> rx.Component:
    """Save the shown run and apply it as target (owners with the analyst role only)."""
    return rx.cond(
        OptimizeState.can_change,
        section(
            "Save",
            rx.form(
                rx.hstack(
                    rx.input(
                        name="run_name",
                        default_value=OptimizeState.run_name,
                        key=OptimizeState.run_name,  # a new outcome remounts the field with its suggested name
                        aria_label="Run name",
                        flex="1",
                        min_width="12rem",
                    ),
                    rx.button("Save run", type="submit"),
                    rx.cond(
                        OptimizeState.saved_id != "",
                        rx.button(
                            "Apply as target allocation",
                            type="button",
                            variant="soft",
                            on_click=OptimizeState.apply_target(OptimizeState.saved_id),
                        ),
                    ),
                    wrap="wrap",
                    spacing="2",
                    width="100%",
                ),
                on_submit=OptimizeState.save_run,
                reset_on_submit=False,
                width="100%",
            ),
            note="A saved run keeps the request, the result and the price data's version; applying it makes its "
            "weights the portfolio's target allocation for rebalancing.",
        ),
    )


def results() -> rx.Component:
    """Everything shown for one outcome."""
    return rx.cond(
        OptimizeState.has_result,
        rx.vstack(
            section("Performance", tile_grid(OptimizeState.tiles), note=OptimizeState.heading),
            rx.grid(
                weights_table(),
                section(
                    "Risk contributions",
                    plot(OptimizeState.contributions),
                    note="Each asset's share of the portfolio's variance: wᵢ(Σw)ᵢ / wᵀΣw.",
                ),
                columns=rx.breakpoints(initial="1", lg="2"),
                spacing="3",
                width="100%",
            ),
            section(
                "Efficient frontier",
                plot(OptimizeState.frontier, "440px"),
                note="50 efficient portfolios under the same constraints and estimates; hover a point for its "
                "weights. The dashed line is the capital market line from the risk-free rate.",
            ),
            trades_table(),
            section("Notes", rx.foreach(OptimizeState.notes, lambda n: rx.text(n, size="2"))),
            save_panel(),
            spacing="3",
            width="100%",
        ),
    )


def runs_table() -> rx.Component:
    """The target allocation, saved runs with re-run and apply, and the comparison of two."""

    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.text(r["name"], weight="medium"),
                rx.text(r["objective"], " · ", r["figures"], size="1", color_scheme="gray"),
            ),
            rx.table.cell(
                rx.text(r["created"], white_space="nowrap"),
                rx.text(r["data"], size="1", color_scheme="gray"),
                **WIDE_ONLY,
            ),
            rx.table.cell(
                rx.flex(
                    rx.button("Re-run", size="1", variant="soft", on_click=OptimizeState.rerun(r["id"]), **NOWRAP),
                    rx.cond(
                        OptimizeState.can_change,
                        rx.button(
                            "Apply", size="1", variant="soft", on_click=OptimizeState.apply_target(r["id"]), **NOWRAP
                        ),
                    ),
                    direction=rx.breakpoints(initial="column", sm="row"),
                    gap="1",
                ),
            ),
        )

    def pick(value: rx.Var, on_change: rx.EventHandler, label: str) -> rx.Component:
        return rx.select.root(
            rx.select.trigger(placeholder=label, min_width="10rem"),
            rx.select.content(rx.foreach(OptimizeState.runs, lambda r: rx.select.item(r["name"], value=r["id"]))),
            value=value,
            on_change=on_change,
        )

    return section(
        "Saved runs",
        rx.text(OptimizeState.target_note, size="2"),
        rx.cond(
            OptimizeState.runs.length() > 0,
            rx.vstack(
                scroll_table(
                    [header("Run · return · volatility · Sharpe"), header("Saved on data", wide_only=True), ""],
                    rx.foreach(OptimizeState.runs, row),
                ),
                rx.hstack(
                    pick(OptimizeState.compare_a, OptimizeState.set_compare_a, "Run A"),
                    pick(OptimizeState.compare_b, OptimizeState.set_compare_b, "Run B"),
                    rx.button("Compare", variant="soft", on_click=OptimizeState.compare),
                    wrap="wrap",
                    spacing="2",
                ),
                rx.cond(OptimizeState.comparison_title != "", comparison()),
                spacing="3",
                width="100%",
            ),
        ),
    )


def comparison() -> rx.Component:
    """Figures, then weights, of runs A and B."""

    def row(key: str) -> Callable[[rx.Var], rx.Component]:
        return lambda r: rx.table.row(
            rx.table.cell(rx.text(r[key], weight="medium")),
            rx.table.cell(r["a"], style=RIGHT),
            rx.table.cell(r["b"], style=RIGHT),
            rx.table.cell(r["change"] if key == "symbol" else "", style=RIGHT),
        )

    return rx.vstack(
        rx.text(OptimizeState.comparison_title, size="2", weight="medium"),
        scroll_table(
            [header(""), header("A", True), header("B", True), header("B − A", True)],
            rx.fragment(
                rx.foreach(OptimizeState.comparison_figures, row("label")),
                rx.foreach(OptimizeState.comparison, row("symbol")),
            ),
        ),
        width="100%",
        spacing="2",
    )


@app_page(ROUTE, "Optimization lab", on_load=OptimizeState.load)
def optimize_page() -> rx.Component:
    """The Optimization lab inside the analysis frame."""
    return analysis_page(OptimizeState, ROUTE, settings_form(), results(), runs_table())
