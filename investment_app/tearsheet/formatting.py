"""How numbers read on the tearsheet: a real minus sign, thousands separators, fixed decimals.

Conventions: percentages ×100 with 2 decimals and "%" (0.1234 → "12.34%"), ratios and plain numbers with
2 decimals, integers and day counts with separators, dates ISO 8601, a missing value "–". A value that
rounds to zero never shows a sign ("0.00%", not "−0.00%").
"""

from __future__ import annotations

from datetime import date

import numpy as np

from investment_app.tearsheet.model import MetricKind, MetricValue

MINUS = "\u2212"
MISSING = "\u2013"
ASCII = str.maketrans(
    {MINUS: "-", MISSING: "-", "\u2014": "-", "\u2022": "-", "\u2265": ">=", "\u2264": "<=", "\u2026": "..."}
)


def number(value: float, decimals: int = 2, suffix: str = "") -> str:
    """``value`` with ``decimals`` places, "," thousands separators and "−" for negatives."""
    text = f"{round(value, decimals) + 0.0:,.{decimals}f}"
    return text.replace("-", MINUS) + suffix


def percent(value: float, decimals: int = 2) -> str:
    """A fraction as a percentage: 0.1234 → "12.34%"."""
    return number(value * 100.0, decimals, "%")


def format_value(value: MetricValue, kind: MetricKind) -> str:
    """One metric value by its kind; None → "–"."""
    if value is None:
        return MISSING
    if isinstance(value, date):
        return value.isoformat()
    if kind == "pct":
        return percent(float(value))
    if kind in ("int", "days"):
        return number(float(value), 0, " days" if kind == "days" else "")
    return number(float(value))


def tone(value: MetricValue, kind: MetricKind = "pct", positive: bool = True) -> str:
    """CSS class: "neg" for a number shown negative, "pos" for one shown positive when ``positive`` (else "")."""
    shown = 4 if kind == "pct" else 2  # the decimals displayed, as a fraction for percentages
    if not isinstance(value, int | float) or round(value, shown) == 0:
        return ""
    if value < 0:
        return "neg"
    return "pos" if positive else ""


def tick_labels(ticks: np.ndarray, step: float, kind: MetricKind) -> list[str]:
    """Axis labels with the decimals a 1, 2 or 5 × 10^k ``step`` needs: 0.05 as percent → "5%", 0.002 → "0.2%"."""
    scale = 100.0 if kind == "pct" else 1.0
    decimals = max(0, int(np.ceil(-np.log10(step * scale) - 1e-9)))
    suffix = "%" if kind == "pct" else ""
    return [number(t * scale, decimals, suffix) for t in ticks]
