"""Performance: every metric of the portfolio over a period against its benchmark, with the charts."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import reflex as rx

from investment_app.analytics.catalogue import CATALOGUE
from investment_app.auth.viewer import Viewer
from investment_app.components import charts
from investment_app.components.analysis import analysis_page
from investment_app.components.layout import app_page, chart_card, plot, section
from investment_app.components.numbers import pct
from investment_app.components.tables import RIGHT, header, scroll_table
from investment_app.db import session_scope
from investment_app.services import attribution
from investment_app.services import metrics as service
from investment_app.state import AnalysisState, authorized

ROUTE = "/performance"
ROLLING = {"volatility": ("Volatility (annual)", ".0%"), "sharpe": ("Sharpe", ".2f"), "beta": ("Beta", ".2f")}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _compute(viewer: Viewer, portfolio_id: int, request: service.Request) -> service.MetricsReport:
    with session_scope() as db:
        return service.report(db, viewer, portfolio_id, request)


def _attribute(viewer: Viewer, portfolio_id: int, period: str) -> attribution.Attribution:
    with session_scope() as db:
        return attribution.attribution(db, viewer, portfolio_id, period)


def _sector_rows(a: attribution.Attribution) -> list[dict[str, str]]:
    table = a.sectors
    rows = [
        {
            "sector": str(sector),
            **{k: pct(float(row[k]), 2) for k in ("allocation", "selection", "interaction", "total")},
        }
        for sector, row in table.iterrows()
    ]
    totals = table.sum()
    return [*rows, {"sector": "Total", **{k: pct(float(totals[k]), 2) for k in totals.index}}]


def formatted(value: float | None, kind: str) -> str:
    """A metric for display: returns signed, shares and ratios unsigned (two decimals), a dash when missing."""
    if value is None or not math.isfinite(value):
        return "—"
    if kind == "share":
        return pct(value).lstrip("+")
    return pct(value) if kind == "pct" else f"{round(value, 2) + 0.0:,.2f}".replace("-", "−")


def _metric_rows(report: service.MetricsReport) -> list[dict[str, str]]:
    mine, theirs = report.summary, report.benchmark_summary
    return [
        {
            "group": info.group,
            "label": info.label,
            "value": formatted(mine.values.get(key), info.kind),
            "bench": formatted(theirs.values.get(key), info.kind) if key in theirs.values else "",
            "note": mine.warnings.get(key, ""),
        }
        for key, info in CATALOGUE.items()
    ]


def _heat(value: float) -> str:
    """A cell colour: green for gains, red for losses, stronger up to ±10% a month."""
    strength = min(abs(value) / 0.10, 1.0) * 0.55 + 0.08
    return f"rgba(22,163,74,{strength:.2f})" if value > 0 else f"rgba(220,38,38,{strength:.2f})"


def _monthly_rows(monthly: pd.DataFrame) -> list[dict]:
    rows = []
    for year, row in monthly.sort_index(ascending=False).iterrows():
        cells = [
            {"text": "" if pd.isna(v) else pct(v, 1), "bg": "transparent" if pd.isna(v) else _heat(v)}
            for v in row.to_numpy()
        ]
        rows.append({"year": str(year), "cells": cells})
    return rows


def _drawdown_rows(report: service.MetricsReport) -> list[dict[str, str]]:
    return [
        {
            "depth": pct(d.depth),
            "peak": d.peak.isoformat(),
            "trough": d.trough.isoformat(),
            "recovery": d.recovery.isoformat() if d.recovery else "not yet",
            "days": f"{d.duration_days:,}",
        }
        for d in report.summary.drawdowns
    ]


def _dates(index: pd.DatetimeIndex) -> list[str]:
    return index.strftime("%Y-%m-%d").tolist()


class PerformanceState(AnalysisState):
    """The chosen period, risk-free rate and window, and the report as display data."""

    period: str = "MAX"
    risk_free: str = "zero"
    window: str = "6M"
    metric_rows: list[dict[str, str]] = []
    monthly_rows: list[dict] = []
    drawdown_rows: list[dict[str, str]] = []
    notes: list[str] = []
    basis: str = ""
    sector_rows: list[dict[str, str]] = []
    attribution_note: str = ""
    contributions: go.Figure = go.Figure()
    growth: go.Figure = go.Figure()
    underwater: go.Figure = go.Figure()
    rolling_volatility: go.Figure = go.Figure()
    rolling_sharpe: go.Figure = go.Figure()
    rolling_beta: go.Figure = go.Figure()

    @rx.event
    @authorized()
    def load(self, viewer: Viewer):
        if self._choose(viewer):
            return PerformanceState.compute
        return None

    @rx.event
    @authorized()
    def select(self, viewer: Viewer, portfolio_id: str):
        self.selected = portfolio_id
        return PerformanceState.compute

    @rx.event
    @authorized()
    def choose(self, viewer: Viewer, field: str, value: str | list[str]):
        """Change the period, the risk-free rate or the rolling window, then recompute."""
        allowed = {"period": service.PERIODS, "risk_free": service.RISK_FREE, "window": service.WINDOWS}
        if field in allowed and isinstance(value, str) and value in allowed[field]:
            setattr(self, field, value)
            return PerformanceState.compute
        return None

    @rx.event(background=True)
    @authorized(background=True)
    async def compute(self, viewer: Viewer):
        portfolio_id = int(self.selected)
        request = service.Request(self.period, self.risk_free, self.window)
        results = await self._staged(
            [
                ("Computing the metrics", lambda: _compute(viewer, portfolio_id, request)),
                ("Attributing the return", lambda: _attribute(viewer, portfolio_id, request.period)),
            ]
        )
        if results is None:
            return
        async with self:
            self._apply(results[0])
            self._apply_attribution(results[1])

    def _apply_attribution(self, a: attribution.Attribution) -> None:
        self.sector_rows = _sector_rows(a)
        self.attribution_note = (
            f"{a.start} to {a.end}: time-weighted return {pct(a.total)}, split by holding (Carino-linked, the "
            f"contributions add up to it). Sector effects (Brinson-Fachler) against {a.benchmark_label}: {a.note}"
        )
        self.contributions = charts.bars_chart(
            list(a.contributions.index), a.contributions.round(5).tolist(), "Contribution to return", ".1%"
        )

    def _apply(self, report: service.MetricsReport) -> None:
        s = report.summary
        self.basis = (
            f"{s.observations:,} trading days, {s.start} to {s.end}, daily time-weighted returns against "
            f"{report.benchmark_symbol} (total return); risk-free rate {service.RISK_FREE[report.request.risk_free]}."
        )
        self.metric_rows = _metric_rows(report)
        self.monthly_rows = _monthly_rows(s.monthly)
        self.drawdown_rows = _drawdown_rows(report)
        self.notes = [n for n in (s.warnings.get("data"), report.risk_free_note, report.rolling_note) if n]
        dates = _dates(report.growth.index)
        self.growth = charts.growth_chart(
            dates,
            (report.growth["portfolio"] * 100).round(3).tolist(),
            (report.growth["benchmark"] * 100).round(3).tolist(),
            report.benchmark_symbol,
        )
        self.underwater = charts.lines_chart(dates, {"Drawdown": report.drawdown.round(5).tolist()}, "Drawdown", ".0%")
        rolling = report.rolling if report.rolling is not None else pd.DataFrame(columns=list(ROLLING))
        for column, (label, fmt) in ROLLING.items():
            values = rolling[column].round(4).tolist() if column in rolling else []
            figure = charts.lines_chart(_dates(rolling.index), {label: values}, label, fmt)
            setattr(self, f"rolling_{column}", figure)


def download(fmt: str) -> rx.Component:
    """A link that downloads the portfolio's tearsheet (the API checks the session and the portfolio)."""
    return rx.link(
        rx.button(rx.icon("download", size=14), f"Tearsheet {fmt.upper()}", variant="soft", size="1"),
        href="/api/v1/portfolios/" + PerformanceState.selected + f"/tearsheet.{fmt}",
        is_external=False,
        download=True,
    )


def controls() -> rx.Component:
    def segmented(field: str, options, value: rx.Var, label: str) -> rx.Component:
        return rx.segmented_control.root(
            *[rx.segmented_control.item(o, value=o) for o in options],
            value=value,
            on_change=lambda v: PerformanceState.choose(field, v),
            size="1",
            aria_label=label,
        )

    return rx.hstack(
        segmented("period", service.PERIODS, PerformanceState.period, "Period"),
        rx.select.root(
            rx.select.trigger(aria_label="Risk-free rate"),
            rx.select.content(*[rx.select.item(f"Risk-free {v}", value=k) for k, v in service.RISK_FREE.items()]),
            value=PerformanceState.risk_free,
            on_change=lambda v: PerformanceState.choose("risk_free", v),
            size="1",
        ),
        rx.spacer(),
        download("html"),
        download("pdf"),
        wrap="wrap",
        spacing="2",
        align="center",
        width="100%",
    )


def metrics_table() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.text(r["label"], weight="medium"),
                rx.cond(r["note"] != "", rx.text(r["note"], size="1", color_scheme="gray")),
            ),
            rx.table.cell(r["value"], style=RIGHT),
            rx.table.cell(r["bench"], style=RIGHT),
        )

    return section(
        "Metrics",
        scroll_table(
            [header("Metric"), header("Portfolio", True), header("Benchmark", True)],
            rx.foreach(PerformanceState.metric_rows, row),
        ),
        rx.foreach(PerformanceState.notes, lambda n: rx.text(n, size="1", color_scheme="amber")),
        note=PerformanceState.basis,
    )


def figure_card(title: str, figure: rx.Var) -> rx.Component:
    return section(title, plot(figure, "340px"))


def monthly_table() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.row_header_cell(r["year"]),
            rx.foreach(
                r["cells"].to(list[dict[str, str]]),
                lambda c: rx.table.cell(c["text"], style={**RIGHT, "background": c["bg"], "font_size": "12px"}),
            ),
        )

    return section(
        "Monthly returns",
        scroll_table(
            [header("Year"), *[header(m, True) for m in MONTHS], header("Year", True)],
            rx.foreach(PerformanceState.monthly_rows, row),
        ),
    )


def drawdowns_table() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(r["depth"], style=RIGHT),
            rx.table.cell(r["peak"]),
            rx.table.cell(r["trough"]),
            rx.table.cell(r["recovery"]),
            rx.table.cell(r["days"], style=RIGHT),
        )

    return section(
        "Worst drawdowns",
        scroll_table(
            [header("Depth", True), header("Peak"), header("Trough"), header("Recovered"), header("Days", True)],
            rx.foreach(PerformanceState.drawdown_rows, row),
        ),
    )


def attribution_card() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(r["sector"], weight="medium")),
            *[rx.table.cell(r[k], style=RIGHT) for k in ("allocation", "selection", "interaction", "total")],
        )

    return section(
        "Attribution",
        plot(PerformanceState.contributions),
        scroll_table(
            [
                header("Sector"),
                header("Allocation", True),
                header("Selection", True),
                header("Interaction", True),
                header("Total", True),
            ],
            rx.foreach(PerformanceState.sector_rows, row),
        ),
        note=PerformanceState.attribution_note,
    )


@app_page(ROUTE, "Performance", on_load=PerformanceState.load)
def performance_page() -> rx.Component:
    window = rx.segmented_control.root(
        *[rx.segmented_control.item(w, value=w) for w in service.WINDOWS],
        value=PerformanceState.window,
        on_change=lambda v: PerformanceState.choose("window", v),
        size="1",
        aria_label="Rolling window",
    )
    return analysis_page(
        PerformanceState,
        ROUTE,
        controls(),
        rx.grid(
            metrics_table(),
            rx.vstack(
                figure_card("Growth of 100", PerformanceState.growth),
                figure_card("Drawdown", PerformanceState.underwater),
                spacing="3",
                width="100%",
            ),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="3",
            width="100%",
        ),
        chart_card(
            "Rolling metrics",
            [
                ("Volatility", PerformanceState.rolling_volatility),
                ("Sharpe", PerformanceState.rolling_sharpe),
                ("Beta", PerformanceState.rolling_beta),
            ],
            window,
        ),
        monthly_table(),
        drawdowns_table(),
        attribution_card(),
    )
