"""Risk: VaR and CVaR by four methods, each holding's contribution, correlations and concentration."""

from __future__ import annotations

import plotly.graph_objects as go
import reflex as rx

from investment_app.analytics.catalogue import VAR_METHODS
from investment_app.analytics.risk import METHODS
from investment_app.auth.viewer import Viewer
from investment_app.components import charts
from investment_app.components.analysis import analysis_page, tile_grid
from investment_app.components.layout import app_page, plot, section
from investment_app.components.numbers import money, pct
from investment_app.components.tables import RIGHT, WIDE_ONLY, header, scroll_table
from investment_app.db import session_scope
from investment_app.services import risk as service
from investment_app.state import AnalysisState, authorized

ROUTE = "/risk"
COLUMNS = ((0.95, 1), (0.99, 1), (0.95, 10), (0.99, 10))


def _compute(viewer: Viewer, portfolio_id: int, lookback: str) -> service.RiskReport:
    with session_scope() as db:
        return service.risk(db, viewer, portfolio_id, lookback)


def _loss(fraction: float | None, value: float) -> str:
    return "n/a" if fraction is None else f"{pct(fraction).lstrip('+')} · {money(fraction * value)}"


def _var_rows(report: service.RiskReport) -> list[dict[str, str]]:
    cells = {(v.method, v.confidence, v.horizon_days): v for v in report.var}
    rows = []
    for method in METHODS:
        row = {"method": VAR_METHODS[method]}
        for i, key in enumerate(COLUMNS):
            v = cells[(method, *key)]
            row[f"var{i}"], row[f"cvar{i}"] = _loss(v.var, report.total_value), _loss(v.cvar, report.total_value)
        rows.append(row)
    return rows


def _tiles(report: service.RiskReport) -> list[dict[str, str]]:
    hist = next(v for v in report.var if (v.method, v.confidence, v.horizon_days) == ("historical", 0.95, 1))
    c = report.concentration
    largest = c.largest.index[0] if len(c.largest) else "—"
    rows = [
        ("1-day VaR 95% (historical)", money(hist.var * report.total_value), pct(hist.var).lstrip("+")),
        ("1-day CVaR 95% (historical)", money(hist.cvar * report.total_value), pct(hist.cvar).lstrip("+")),
        ("Portfolio beta", f"{report.portfolio_beta:.2f}", "value-weighted beta of the holdings"),
        ("Largest position", str(largest), pct(float(c.largest.iloc[0]), 1).lstrip("+") if len(c.largest) else ""),
        ("Herfindahl index", f"{c.herfindahl:.3f}", "Σ weight²"),
        ("Effective holdings", f"{c.effective_holdings:.1f}", "1 / Herfindahl"),
    ]
    return [{"label": a, "value": b, "note": n, "tone": "gray"} for a, b, n in rows]


def _contribution_rows(report: service.RiskReport) -> list[dict[str, str]]:
    return [
        {
            "symbol": c.symbol,
            "sector": c.sector,
            "weight": pct(c.weight, 1).lstrip("+"),
            "beta": f"{c.beta:.2f}",
            "marginal": pct(c.marginal_var).lstrip("+"),
            "component": money(c.component_var * report.total_value),
            "share": pct(c.share, 1).lstrip("+"),
        }
        for c in report.contributions
    ]


class RiskState(AnalysisState):
    """The risk report as display data."""

    lookback: str = "2Y"
    basis: str = ""
    tiles: list[dict[str, str]] = []
    var_rows: list[dict[str, str]] = []
    contributions: list[dict[str, str]] = []
    heatmap: go.Figure = go.Figure()
    rolling: go.Figure = go.Figure()
    sectors: go.Figure = go.Figure()
    shares: go.Figure = go.Figure()

    @rx.event
    @authorized()
    def load(self, viewer: Viewer):
        if self._choose(viewer):
            return RiskState.compute
        return None

    @rx.event
    @authorized()
    def select(self, viewer: Viewer, portfolio_id: str):
        self.selected = portfolio_id
        return RiskState.compute

    @rx.event
    @authorized()
    def set_lookback(self, viewer: Viewer, lookback: str | list[str]):
        if isinstance(lookback, str) and lookback in service.LOOKBACKS:
            self.lookback = lookback
            return RiskState.compute
        return None

    @rx.event(background=True)
    @authorized(background=True)
    async def compute(self, viewer: Viewer):
        portfolio_id, lookback = int(self.selected), self.lookback
        results = await self._staged([("Measuring risk", lambda: _compute(viewer, portfolio_id, lookback))])
        if results is None:
            return
        report = results[0]
        async with self:
            self._apply(report)

    def _apply(self, report: service.RiskReport) -> None:
        self.basis = (
            f"Today's holdings ({money(report.total_value)} with cash) over {report.days:,} trading days, "
            f"{report.start} to {report.end}. VaR and CVaR are losses not exceeded with the stated confidence."
        )
        self.tiles = _tiles(report)
        self.var_rows = _var_rows(report)
        self.contributions = _contribution_rows(report)
        corr = report.correlation
        self.heatmap = charts.correlation_heatmap(list(corr.index), corr.round(3).to_numpy().tolist())
        rolling = report.rolling_correlation
        self.rolling = charts.lines_chart(
            rolling.index.strftime("%Y-%m-%d").tolist(),
            {f"{service.ROLLING_WINDOW}-day correlation to the benchmark": rolling.round(4).tolist()},
            "Correlation",
            ".2f",
        )
        sectors = report.concentration.sector_weights
        self.sectors = charts.bars_chart(list(sectors.index), sectors.round(4).tolist(), "Weight", ".0%")
        self.shares = charts.bars_chart(
            [c.symbol for c in report.contributions], [c.share for c in report.contributions], "Share of VaR", ".0%"
        )


def var_table() -> rx.Component:
    def cell(r: rx.Var, i: int) -> rx.Component:
        return rx.table.cell(
            rx.text(r[f"var{i}"]),
            rx.text("CVaR ", r[f"cvar{i}"], size="1", color_scheme="gray"),
            style=RIGHT,
        )

    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(rx.table.cell(rx.text(r["method"], weight="medium")), *[cell(r, i) for i in range(4)])

    headers = [header("Method")] + [header(f"{c:.0%} · {h} day{'s' if h > 1 else ''}", True) for c, h in COLUMNS]
    return section(
        "Value at risk",
        scroll_table(headers, rx.foreach(RiskState.var_rows, row)),
        rx.text(
            "Historical: the empirical quantile of past returns; parametric: a normal fit; Cornish-Fisher: "
            "the normal quantile corrected for skew and fat tails (unreliable when kurtosis is very high); "
            "Monte Carlo: 100,000 simulated paths of past days drawn at random. 10-day figures compound 10 "
            "daily returns.",
            size="1",
            color_scheme="gray",
        ),
    )


def contributions_table() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(r["symbol"], weight="medium"), rx.text(r["sector"], size="1", color_scheme="gray")),
            rx.table.cell(r["weight"], style=RIGHT),
            rx.table.cell(r["beta"], style=RIGHT, **WIDE_ONLY),
            rx.table.cell(r["marginal"], style=RIGHT, **WIDE_ONLY),
            rx.table.cell(r["component"], style=RIGHT),
            rx.table.cell(r["share"], style=RIGHT),
        )

    return section(
        "Contributions to VaR",
        rx.text(
            "1-day 95% parametric VaR split by holding (Euler): component = weight × marginal VaR; the "
            "components add up to the portfolio's VaR.",
            size="1",
            color_scheme="gray",
        ),
        scroll_table(
            [
                header("Holding"),
                header("Weight", True),
                header("Beta", True, wide_only=True),
                header("Marginal VaR", True, wide_only=True),
                header("Component", True),
                header("Share", True),
            ],
            rx.foreach(RiskState.contributions, row),
        ),
        plot(RiskState.shares),
    )


def chart(title: str, note: str, figure: rx.Var) -> rx.Component:
    return section(
        title,
        plot(figure),
        note=note,
    )


@app_page(ROUTE, "Risk", on_load=RiskState.load)
def risk_page() -> rx.Component:
    lookback = rx.segmented_control.root(
        *[rx.segmented_control.item(k, value=k) for k in service.LOOKBACKS],
        value=RiskState.lookback,
        on_change=RiskState.set_lookback,
        size="1",
        aria_label="Lookback",
    )
    return analysis_page(
        RiskState,
        ROUTE,
        section("Summary", tile_grid(RiskState.tiles), note=RiskState.basis),
        var_table(),
        contributions_table(),
        rx.grid(
            chart(
                "Correlation",
                "Daily returns over the lookback, similar holdings next to each other.",
                RiskState.heatmap,
            ),
            chart("Sector weights", "Share of the invested value by GICS sector.", RiskState.sectors),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="3",
            width="100%",
        ),
        chart("Rolling correlation", "The portfolio's daily returns against the benchmark's.", RiskState.rolling),
        controls=(lookback,),
    )
