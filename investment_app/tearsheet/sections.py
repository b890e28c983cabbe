"""The tearsheet's outline: which sections, in which order, holding which charts and tables.

Both renderers walk the same list, so the HTML page and the PDF always show the same content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from investment_app.tearsheet import charts, tables
from investment_app.tearsheet.formatting import MISSING
from investment_app.tearsheet.model import TearsheetData
from investment_app.tearsheet.svg import Chart
from investment_app.tearsheet.tables import Table

DISCLAIMER = "Past performance does not guarantee future results."


@dataclass(frozen=True)
class Stack:
    """Charts shown one below the other in one grid column."""

    charts: tuple[Chart, ...]


@dataclass(frozen=True)
class Notes:
    """A bulleted list of plain sentences (warnings, conventions, data source)."""

    items: tuple[str, ...]


Block = Chart | Table | Stack | Notes


@dataclass(frozen=True)
class Section:
    """A headed part of the tearsheet; ``columns`` = 2 puts its blocks side by side on wide screens."""

    anchor: str
    title: str
    blocks: tuple[Block, ...]
    columns: int = 1


def build_sections(data: TearsheetData) -> list[Section]:
    """Summary, monthly returns, distribution and rolling risk, drawdowns, VaR, stress, then holdings and notes
    when there are any."""
    performance = Stack((charts.equity_chart(data), charts.drawdown_chart(data)))
    risk_charts = (charts.histogram_chart(data), *charts.rolling_charts(data))
    sections = [
        Section("summary", "Summary", (tables.metrics_table(data), performance), columns=2),
        Section("monthly", "Monthly returns (%)", (tables.monthly_table(data),)),
        Section("distribution", "Return distribution and rolling risk", risk_charts, columns=2),
        Section("drawdowns", "Worst drawdowns", (tables.drawdowns_table(data),)),
        Section("var", "Value at risk", (tables.var_table(data),)),
        Section("stress", "Stress tests", (tables.stress_table(data),)),
    ]
    if data.holdings is not None:
        sections.append(Section("holdings", "Holdings", (tables.holdings_table(data),)))
    if data.notes:
        sections.append(Section("notes", "Notes", (Notes(tuple(data.notes)),)))
    return sections


def period_text(data: TearsheetData) -> str:
    """Period and generation time in UTC: "2014-01-02 – 2024-12-31 · generated 2025-01-05 14:03 UTC"."""
    moment = data.generated_at
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{data.start.isoformat()} {MISSING} {data.end.isoformat()} · generated {moment:%Y-%m-%d %H:%M} UTC"
