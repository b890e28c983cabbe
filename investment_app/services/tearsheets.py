"""A portfolio's tearsheet: its daily time-weighted returns against its benchmark, with the risk,
stress and attribution of its current holdings. The same document is downloaded from the pages and
attached to the e-mailed reports."""

from __future__ import annotations

from sqlmodel import Session

from investment_app.auth.viewer import Viewer
from investment_app.services import analysis, attribution, risk, stress
from investment_app.tearsheet.build import build_tearsheet, var_rows
from investment_app.tearsheet.html import render_html
from investment_app.tearsheet.model import HoldingRow, StressRow, TearsheetData
from investment_app.tearsheet.pdf import render_pdf


def portfolio_tearsheet(db: Session, viewer: Viewer, portfolio_id: int) -> TearsheetData:
    """The tearsheet's data for a portfolio the viewer may read."""
    inputs = analysis.inputs(db, viewer, portfolio_id)
    report = risk.risk(db, viewer, portfolio_id)
    crises = stress.crises(db, viewer, portfolio_id)
    split = attribution.attribution(db, viewer, portfolio_id)
    weights = inputs.values / inputs.total_value
    return build_tearsheet(
        inputs.returns,
        inputs.benchmark,
        title=inputs.name,
        portfolio_name=inputs.name,
        benchmark_name=inputs.benchmark_symbol,
        var=var_rows(report.var),
        stress=[
            StressRow(c.name, c.start, c.end, c.portfolio_return, c.benchmark_return, c.portfolio_pnl) for c in crises
        ],
        holdings=[
            HoldingRow(str(symbol), float(weights.get(symbol, 0.0)), float(value))
            for symbol, value in split.contributions.items()
        ],
        notes=[
            "Returns are the portfolio's daily time-weighted returns (flows at the start of the day) on "
            f"{inputs.benchmark_symbol}'s trading days; the benchmark is its total return.",
            f"Value at risk is of today's holdings over {report.start} to {report.end} ({report.days} days).",
            "Stress scenarios replay today's holdings through each window; a holding without prices there "
            "moves with the benchmark times its beta.",
            f"Contributions run from {split.start} to {split.end} and add up to the time-weighted return.",
        ],
        currency="$",
    )


def html(db: Session, viewer: Viewer, portfolio_id: int) -> str:
    """The tearsheet as one self-contained HTML document."""
    return render_html(portfolio_tearsheet(db, viewer, portfolio_id))


def pdf(db: Session, viewer: Viewer, portfolio_id: int) -> bytes:
    """The tearsheet as a PDF."""
    return render_pdf(portfolio_tearsheet(db, viewer, portfolio_id))
