"""The tearsheet's input: numbers computed elsewhere, held in plain dataclasses and checked on construction.

The renderers only format and draw; they compute no metric. Every check below raises
``AnalyticsError`` (or ``InsufficientData``) naming the field, so a bad builder fails loudly instead of
printing "nan" on a page a user downloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError, InsufficientData

MetricKind = Literal["pct", "ratio", "number", "days", "date", "int"]
METRIC_KINDS = ("pct", "ratio", "number", "days", "date", "int")
MetricValue = float | int | date | None
ROLLING_COLUMNS = ("volatility", "sharpe", "beta")
MONTHLY_COLUMNS = (*range(1, 13), "Year")


@dataclass(frozen=True)
class MetricRow:
    """One line of the metrics table; ``None`` renders as "–" with ``reason`` as tooltip and footnote."""

    label: str
    value: MetricValue
    benchmark: MetricValue = None
    kind: MetricKind = "number"
    reason: str | None = None


@dataclass(frozen=True)
class DrawdownRow:
    """One drawdown period: depth is a negative fraction, ``recovery`` is None while still under water."""

    peak: date
    trough: date
    recovery: date | None
    depth: float
    days: int


@dataclass(frozen=True)
class VarRow:
    """Value at risk and expected shortfall as returns over ``horizon_days`` (a loss is negative)."""

    method: str
    confidence: float
    horizon_days: int
    var: float
    cvar: float | None = None


@dataclass(frozen=True)
class StressRow:
    """A historical or hypothetical scenario: returns as fractions, ``pnl`` in the report currency."""

    scenario: str
    start: date | None
    end: date | None
    portfolio: float
    benchmark: float | None = None
    pnl: float | None = None


@dataclass(frozen=True)
class HoldingRow:
    """A position: weight and contribution to the period return, both fractions."""

    symbol: str
    weight: float
    contribution: float | None = None


@dataclass(frozen=True, eq=False)
class TearsheetData:
    """Everything one tearsheet shows; series are indexed by a sorted DatetimeIndex.

    ``equity`` and ``benchmark_equity`` are growth of 1, ``drawdown`` is wealth / running peak − 1 (≤ 0),
    ``monthly_returns`` has one row per year and the columns 1…12 and "Year" (NaN = no data, a blank cell),
    ``rolling`` holds any of the columns "volatility", "sharpe", "beta" over ``rolling_window`` periods
    (NaN before the window fills).
    """

    title: str
    subtitle: str
    generated_at: datetime
    start: date
    end: date
    metrics: list[MetricRow]
    equity: pd.Series
    drawdown: pd.Series
    daily_returns: pd.Series
    monthly_returns: pd.DataFrame
    benchmark_equity: pd.Series | None = None
    benchmark_returns: pd.Series | None = None
    rolling: pd.DataFrame | None = None
    rolling_window: int = 126
    drawdowns: list[DrawdownRow] = field(default_factory=list)
    var: list[VarRow] = field(default_factory=list)
    stress: list[StressRow] = field(default_factory=list)
    holdings: list[HoldingRow] | None = None
    notes: list[str] = field(default_factory=list)
    portfolio_name: str = "Portfolio"
    benchmark_name: str = "Benchmark"
    currency: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise AnalyticsError(f"tearsheet period ends ({self.end}) before it starts ({self.start})")
        _check_series("equity curve", self.equity, minimum=2)
        _check_series("drawdown series", self.drawdown, minimum=2)
        _check_series("daily returns", self.daily_returns, minimum=2)
        if (self.equity.to_numpy() < 0).any():
            raise AnalyticsError("equity curve has negative wealth; it must be growth of 1 (≥ 0)")
        if (self.drawdown.to_numpy() > 1e-12).any():
            raise AnalyticsError("drawdown series has positive values; drawdowns are ≤ 0")
        if self.benchmark_equity is not None:
            _check_series("benchmark equity curve", self.benchmark_equity, minimum=2)
        if self.benchmark_returns is not None:
            _check_series("benchmark daily returns", self.benchmark_returns, minimum=2)
        _check_monthly(self.monthly_returns)
        _check_rolling(self.rolling, self.rolling_window)
        _check_metric_kinds(self.metrics)
        _check_finite_fields(self)

    @property
    def has_benchmark(self) -> bool:
        """True when a benchmark curve was supplied (the benchmark columns and legends are shown)."""
        return self.benchmark_equity is not None


def _check_series(what: str, series: pd.Series, minimum: int, allow_nan: bool = False) -> None:
    """A Series on a sorted, unique DatetimeIndex with at least ``minimum`` finite values."""
    if not isinstance(series, pd.Series) or not isinstance(series.index, pd.DatetimeIndex):
        raise AnalyticsError(f"{what} must be a pandas Series on a DatetimeIndex")
    if not (series.index.is_monotonic_increasing and series.index.is_unique):
        raise AnalyticsError(f"{what} dates must be unique and in increasing order")
    values = series.to_numpy(dtype=float)
    finite = np.isfinite(values)
    if np.isinf(values).any() or (not allow_nan and not finite.all()):
        raise AnalyticsError(f"{what} has {int((~finite).sum())} NaN or infinite values")
    if finite.sum() < minimum:
        raise InsufficientData(what, minimum, int(finite.sum()))


def _check_monthly(table: pd.DataFrame) -> None:
    """Columns 1…12 and "Year", integer years as index, no infinite value (NaN marks a month without data)."""
    if not isinstance(table, pd.DataFrame) or tuple(table.columns) != MONTHLY_COLUMNS:
        raise AnalyticsError('monthly returns need the columns 1…12 and "Year", in that order')
    if np.isinf(table.to_numpy(dtype=float)).any():
        raise AnalyticsError("monthly returns contain infinite values")


def _check_rolling(table: pd.DataFrame | None, window: int) -> None:
    """Known columns on a DatetimeIndex, a positive window, and at least one value per column."""
    if table is None:
        return
    unknown = set(table.columns) - set(ROLLING_COLUMNS)
    if unknown:
        raise AnalyticsError(f"rolling metrics has unknown columns {sorted(map(str, unknown))}")
    if window < 2:
        raise AnalyticsError(f"rolling window must be at least 2 periods (got {window})")
    for column in table.columns:
        _check_series(f"rolling {column}", table[column], minimum=2, allow_nan=True)


def _check_metric_kinds(metrics: list[MetricRow]) -> None:
    """A known kind; dates for kind "date", numbers for every other kind."""
    for metric in metrics:
        if metric.kind not in METRIC_KINDS:
            raise AnalyticsError(f"metric {metric.label!r} has unknown kind {metric.kind!r}")
        for value in (metric.value, metric.benchmark):
            is_date = isinstance(value, date)
            if value is not None and is_date != (metric.kind == "date"):
                raise AnalyticsError(f"metric {metric.label!r} of kind {metric.kind!r} cannot show {value!r}")


def _check_finite_fields(data: TearsheetData) -> None:
    """No NaN or infinity hides in a table row: a missing value must be None (with a reason for metrics)."""
    floats = [(f"metric {m.label!r}", v) for m in data.metrics for v in (m.value, m.benchmark)]
    floats += [(f"drawdown from {d.peak}", d.depth) for d in data.drawdowns]
    floats += [(f"VaR row {v.method!r}", x) for v in data.var for x in (v.confidence, v.var, v.cvar)]
    floats += [(f"stress scenario {s.scenario!r}", x) for s in data.stress for x in (s.portfolio, s.benchmark, s.pnl)]
    floats += [(f"holding {h.symbol!r}", x) for h in data.holdings or [] for x in (h.weight, h.contribution)]
    bad = [what for what, x in floats if isinstance(x, float) and not np.isfinite(x)]
    if bad:
        raise AnalyticsError(f"{bad[0]} is NaN or infinite; pass None (and a reason) for a missing value")
