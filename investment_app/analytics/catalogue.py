"""How each metric of ``summary.METRIC_KEYS`` is named and shown: label, kind of number, group.

Kinds: "pct" (a return: a signed percentage), "share" (a fraction that is never a gain or a loss, such as a
volatility: an unsigned percentage), "ratio" (a plain number with two decimals).
"""

from __future__ import annotations

from typing import NamedTuple


class MetricInfo(NamedTuple):
    label: str
    kind: str
    group: str


CATALOGUE: dict[str, MetricInfo] = {
    "total_return": MetricInfo("Total return", "pct", "Return"),
    "annual_return": MetricInfo("Annual return (CAGR)", "pct", "Return"),
    "best_day": MetricInfo("Best day", "pct", "Return"),
    "worst_day": MetricInfo("Worst day", "pct", "Return"),
    "best_month": MetricInfo("Best month", "pct", "Return"),
    "worst_month": MetricInfo("Worst month", "pct", "Return"),
    "best_year": MetricInfo("Best year", "pct", "Return"),
    "worst_year": MetricInfo("Worst year", "pct", "Return"),
    "win_rate": MetricInfo("Winning days", "share", "Return"),
    "annual_volatility": MetricInfo("Annual volatility", "share", "Risk"),
    "downside_risk": MetricInfo("Downside risk", "share", "Risk"),
    "max_drawdown": MetricInfo("Max drawdown", "pct", "Risk"),
    "ulcer_index": MetricInfo("Ulcer index", "ratio", "Risk"),
    "skew": MetricInfo("Skew", "ratio", "Risk"),
    "kurtosis": MetricInfo("Excess kurtosis", "ratio", "Risk"),
    "tail_ratio": MetricInfo("Tail ratio", "ratio", "Risk"),
    "sharpe": MetricInfo("Sharpe", "ratio", "Risk-adjusted"),
    "sortino": MetricInfo("Sortino", "ratio", "Risk-adjusted"),
    "calmar": MetricInfo("Calmar", "ratio", "Risk-adjusted"),
    "omega": MetricInfo("Omega", "ratio", "Risk-adjusted"),
    "alpha": MetricInfo("Alpha (annual)", "pct", "Against the benchmark"),
    "beta": MetricInfo("Beta", "ratio", "Against the benchmark"),
    "r_squared": MetricInfo("R²", "ratio", "Against the benchmark"),
    "tracking_error": MetricInfo("Tracking error", "share", "Against the benchmark"),
    "information_ratio": MetricInfo("Information ratio", "ratio", "Against the benchmark"),
    "treynor": MetricInfo("Treynor", "ratio", "Against the benchmark"),
    "up_capture": MetricInfo("Up capture", "ratio", "Against the benchmark"),
    "down_capture": MetricInfo("Down capture", "ratio", "Against the benchmark"),
}

VAR_METHODS: dict[str, str] = {
    "historical": "Historical",
    "parametric": "Parametric (normal)",
    "cornish_fisher": "Cornish-Fisher",
    "monte_carlo": "Monte Carlo",
}
"""Display names of ``risk.METHODS``."""
