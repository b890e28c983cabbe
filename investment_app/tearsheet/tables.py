"""The tearsheet's tables as formatted cells, shared by the HTML and the PDF renderer.

A cell carries its text, a tone ("neg"/"pos" colours the number), an optional background and an optional
footnote number (a missing value's reason: a tooltip in HTML, a numbered note in both).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from investment_app.tearsheet import palette
from investment_app.tearsheet.formatting import MISSING, format_value, number, percent, tone
from investment_app.tearsheet.model import MetricKind, MetricValue, TearsheetData

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Cell:
    """One formatted table cell."""

    text: str
    tone: str = ""
    fill: str = ""
    note: int | None = None
    title: str = ""


@dataclass(frozen=True)
class Table:
    """Column headers, rows of cells (the first column is the row label), footnotes numbered from 1.

    ``caption`` is shown only where the section heading does not already say what the table is;
    ``empty`` replaces a table without rows.
    """

    headers: list[str]
    rows: list[list[Cell]]
    empty: str
    caption: str = ""
    footnotes: list[str] = field(default_factory=list)
    heatmap: bool = False


def value_cell(value: MetricValue, kind: MetricKind = "pct", positive: bool = True) -> Cell:
    """A formatted value coloured by its sign (green only when ``positive``)."""
    return Cell(format_value(value, kind), tone(value, kind, positive))


def metrics_table(data: TearsheetData) -> Table:
    """Metric | portfolio | benchmark; negatives red (a positive number is not always good: volatility)."""
    notes: list[str] = []
    rows = []
    for metric in data.metrics:
        values = [metric.value, metric.benchmark] if data.has_benchmark else [metric.value]
        note = None
        if metric.reason and any(v is None for v in values):
            if metric.reason not in notes:
                notes.append(metric.reason)
            note = notes.index(metric.reason) + 1
        cells = [
            Cell(MISSING, note=note, title=metric.reason or "") if v is None else value_cell(v, metric.kind, False)
            for v in values
        ]
        rows.append([Cell(metric.label), *cells])
    headers = ["Metric", data.portfolio_name] + ([data.benchmark_name] if data.has_benchmark else [])
    return Table(headers, rows, "No metrics were computed.", "Key metrics", notes)


def drawdowns_table(data: TearsheetData) -> Table:
    """Worst drawdowns: peak, trough, recovery (or "not recovered"), depth and length in days."""
    rows = [
        [
            Cell(d.peak.isoformat()),
            Cell(d.trough.isoformat()),
            Cell(d.recovery.isoformat() if d.recovery else "not recovered"),
            value_cell(d.depth),
            Cell(number(d.days, 0)),
        ]
        for d in data.drawdowns
    ]
    return Table(["Peak", "Trough", "Recovery", "Depth", "Days"], rows, "No drawdown in the period.")


def monthly_table(data: TearsheetData) -> Table:
    """Year × month returns in percent (2 decimals), cells shaded red → green; NaN is a blank cell.

    Months and the full-year column get their own colour scale (a year moves more than a month).
    """
    table = data.monthly_returns
    values = table.to_numpy(dtype=float)
    months, years = values[:, :12], values[:, 12:]
    fills = np.hstack(
        [
            palette.diverging_fill(months, palette.heat_limit(months)),
            palette.diverging_fill(years, palette.heat_limit(years)),
        ]
    )
    rows = [
        [Cell(str(year))]
        + [
            Cell(number(v * 100.0) if np.isfinite(v) else "", fill=fill)
            for v, fill in zip(row_values, row_fills, strict=True)
        ]
        for year, row_values, row_fills in zip(table.index, values, fills, strict=True)
    ]
    headers = ["Year", *MONTHS, "Total"]
    return Table(headers, rows, "No month in the period.", heatmap=True)


def var_table(data: TearsheetData) -> Table:
    """Method, confidence, horizon, VaR and CVaR (expected shortfall) as returns."""
    rows = [
        [
            Cell(v.method),
            Cell(percent(v.confidence)),
            Cell(number(v.horizon_days, 0)),
            value_cell(v.var, positive=False),
            value_cell(v.cvar, positive=False),
        ]
        for v in data.var
    ]
    headers = ["Method", "Confidence", "Horizon (days)", "VaR", "CVaR"]
    return Table(headers, rows, "Value at risk was not computed.")


def stress_table(data: TearsheetData) -> Table:
    """Scenario, its dates, portfolio return, and the benchmark return and P&L when any scenario has them."""
    with_benchmark = any(s.benchmark is not None for s in data.stress)
    with_pnl = any(s.pnl is not None for s in data.stress)
    rows = [
        [
            Cell(s.scenario),
            Cell(s.start.isoformat() if s.start else MISSING),
            Cell(s.end.isoformat() if s.end else MISSING),
            value_cell(s.portfolio),
        ]
        + ([value_cell(s.benchmark)] if with_benchmark else [])
        + ([value_cell(s.pnl, "number")] if with_pnl else [])
        for s in data.stress
    ]
    headers = ["Scenario", "Start", "End", data.portfolio_name]
    headers += ([data.benchmark_name] if with_benchmark else []) + ([pnl_header(data.currency)] if with_pnl else [])
    return Table(headers, rows, "No stress scenario was run.")


def pnl_header(currency: str) -> str:
    """ "P&L (USD)", or "P&L" without a currency."""
    return f"P&L ({currency})" if currency else "P&L"


def holdings_table(data: TearsheetData) -> Table:
    """Symbol, weight and contribution to return, largest weight first."""
    holdings = sorted(data.holdings or [], key=lambda h: -abs(h.weight))
    rows = [[Cell(h.symbol), value_cell(h.weight, positive=False), value_cell(h.contribution)] for h in holdings]
    return Table(["Symbol", "Weight", "Contribution"], rows, "No holdings.")
