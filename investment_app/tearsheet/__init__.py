"""Tearsheet: one self-contained HTML page and an A4 PDF of a return series against a benchmark.

The builder (elsewhere) fills ``TearsheetData`` with numbers computed by ``investment_app.analytics``; this
package only formats and draws them: ``render_html(data)`` and ``render_pdf(data)``.
"""

from investment_app.tearsheet.html import render_html
from investment_app.tearsheet.model import DrawdownRow, HoldingRow, MetricRow, StressRow, TearsheetData, VarRow
from investment_app.tearsheet.pdf import render_pdf

__all__ = [
    "DrawdownRow",
    "HoldingRow",
    "MetricRow",
    "StressRow",
    "TearsheetData",
    "VarRow",
    "render_html",
    "render_pdf",
]
