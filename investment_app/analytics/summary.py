"""The safe summary: every performance metric of a return series, each a finite number or None with the reason.

This is the contract the CLI, the API and the pages use. ``summarize`` never raises for a metric that cannot
be computed: its value is None and ``warnings[key]`` says why (too few observations, zero volatility, no
losses, no benchmark, ...; a final guard turns any non-finite result into None). It raises AnalyticsError only
for unusable input: not a Series, empty or all-NaN, values that are not finite numbers after NaN are dropped,
returns below −100 %, labels that are not distinct dates, a risk-free Series that misses a date.

Conventions: the metrics are ``metrics``' (empyrical's definitions); ``risk_free`` and ``required_return`` are
per-period rates. Sharpe, alpha, beta and Treynor use the returns in excess of ``risk_free``; sortino and
downside risk measure shortfall below ``required_return`` (empyrical's sortino ignores rf); omega's threshold is
risk_free + required_return. best/worst_day are single periods; months and years are calendar periods,
compounded (``periodic``). Benchmark metrics use the dates both series have (an inner join).

Minimum observations (``MIN_OBSERVATIONS``; 1 for every other metric): 2 for the dispersion and regression
measures (volatility, Sharpe, sortino, downside risk, calmar, omega, alpha, beta, Treynor, tracking error,
information ratio), 3 for skew and r², 4 for kurtosis, 20 for the tail ratio (its 5th and 95th percentiles).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from investment_app.analytics import metrics as m
from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.periodic import monthly_table, period_returns
from investment_app.analytics.riskfree import on_dates

RETURN_KEYS = (
    "total_return",
    "annual_return",
    "annual_volatility",
    "sharpe",
    "sortino",
    "downside_risk",
    "calmar",
    "omega",
    "max_drawdown",
    "tail_ratio",
    "skew",
    "kurtosis",
    "ulcer_index",
    "win_rate",
    "best_day",
    "worst_day",
    "best_month",
    "worst_month",
    "best_year",
    "worst_year",
)
BENCHMARK_KEYS = (
    "alpha",
    "beta",
    "r_squared",
    "information_ratio",
    "tracking_error",
    "treynor",
    "up_capture",
    "down_capture",
)
METRIC_KEYS = RETURN_KEYS + BENCHMARK_KEYS
MIN_OBSERVATIONS = {
    **dict.fromkeys(("annual_volatility", "sharpe", "sortino", "downside_risk", "calmar", "omega", "alpha", "beta"), 2),
    **dict.fromkeys(("treynor", "tracking_error", "information_ratio"), 2),
    "skew": 3,
    "r_squared": 3,
    "kurtosis": 4,
    "tail_ratio": 20,
}
TOP_DRAWDOWNS = 5
NO_OVERLAP = "benchmark has no dates in common with the returns"
ZERO_VOLATILITY = "volatility is zero"


@dataclass
class Summary:
    """The metrics of one return series: ``values`` holds every key of METRIC_KEYS (None ⇔ a reason in
    ``warnings``, whose "data" entry notes what was done to the input), the deepest drawdowns (deepest
    first) and the month-by-year table of ``periodic.monthly_table``."""

    values: dict[str, float | None]
    warnings: dict[str, str]
    drawdowns: list[m.DrawdownPeriod]
    monthly: pd.DataFrame
    observations: int
    start: dt.date
    end: dt.date
    periods_per_year: int
    benchmark_observations: int = 0
    dropped: int = 0

    def to_json(self) -> dict[str, object]:
        """Plain JSON types: the metric keys at the top level (float or None), max_drawdown_peak/trough/
        recovery (ISO dates or None) and max_drawdown_days, counts, ISO start/end, warnings, drawdowns
        (dicts) and monthly (one {"year", "months": 12 × float|None, "total"} per year)."""
        deepest = self.drawdowns[0].as_dict() if self.drawdowns else {}
        return {
            **self.values,
            **{f"max_drawdown_{part}": deepest.get(part) for part in ("peak", "trough", "recovery")},
            "max_drawdown_days": deepest.get("duration_days"),
            "observations": self.observations,
            "benchmark_observations": self.benchmark_observations,
            "dropped": self.dropped,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "periods_per_year": self.periods_per_year,
            "warnings": dict(self.warnings),
            "drawdowns": [period.as_dict() for period in self.drawdowns],
            "monthly": _monthly_json(self.monthly),
        }


def _monthly_json(table: pd.DataFrame) -> list[dict[str, object]]:
    """One dict per year of ``periodic.monthly_table``: NaN cells become None."""
    cells = table.to_numpy()
    plain = np.where(np.isnan(cells), None, cells).tolist()
    return [
        {"year": int(year), "months": row[:12], "total": row[12]} for year, row in zip(table.index, plain, strict=True)
    ]


class _Sheet:
    """Collects each metric's value, or None and the reason."""

    def __init__(self) -> None:
        self.values: dict[str, float | None] = {}
        self.warnings: dict[str, str] = {}

    def skip(self, key: str, reason: str) -> None:
        """Record no value for ``key`` and why."""
        self.values[key], self.warnings[key] = None, reason

    def put(self, key: str, has: int, compute: Callable[[], float | None], unless: str | None = None) -> None:
        """Record compute() unless ``has`` < MIN_OBSERVATIONS[key] or ``unless`` gives a reason;
        a result that is not a finite number is recorded as None."""
        needs = MIN_OBSERVATIONS.get(key, 1)
        if has < needs:
            self.skip(key, f"needs at least {needs} observations (has {has})")
        elif unless:
            self.skip(key, unless)
        else:
            value = compute()
            if value is None or not math.isfinite(value):
                self.skip(key, f"the result is not a finite number ({value})")
            else:
                self.values[key] = float(value)


def _return_metrics(
    sheet: _Sheet, r: np.ndarray, rf: float | np.ndarray, required: float, ppy: int, periods: dict[str, np.ndarray]
) -> None:
    """The metrics of the returns alone (RETURN_KEYS)."""
    n, flat = len(r), ZERO_VOLATILITY if np.ptp(r) == 0 else None
    hurdle = rf + required
    no_loss = None if (r - hurdle < 0).any() else "no returns below the risk-free rate plus the required return"
    sheet.put("total_return", n, lambda: m.total_return(r))
    sheet.put("annual_return", n, lambda: m.annual_return(r, ppy))
    sheet.put("annual_volatility", n, lambda: m.annual_volatility(r, ppy))
    sheet.put("sharpe", n, lambda: m.sharpe(r, rf, ppy), ZERO_VOLATILITY if np.ptp(r - rf) == 0 else None)
    shortfall = None if (r < required).any() else "no returns below the required return"
    sheet.put("sortino", n, lambda: m.sortino(r, required, ppy), shortfall)
    sheet.put("downside_risk", n, lambda: m.downside_risk(r, required, ppy))
    sheet.put("calmar", n, lambda: m.calmar(r, ppy), None if m.max_drawdown(r) < 0 else "no drawdown (no losses)")
    sheet.put("omega", n, lambda: m.omega(r, hurdle, 0.0, ppy), no_loss)
    sheet.put("max_drawdown", n, lambda: m.max_drawdown(r))
    tail = "the 5th percentile return is zero" if np.percentile(r, 5) == 0 else None
    sheet.put("tail_ratio", n, lambda: m.tail_ratio(r), tail)
    sheet.put("skew", n, lambda: m.skew(r), flat)
    sheet.put("kurtosis", n, lambda: m.kurtosis(r), flat)
    sheet.put("ulcer_index", n, lambda: m.ulcer_index(r))
    sheet.put("win_rate", n, lambda: m.win_rate(r), None if r.any() else "every return is zero")
    for name, values in periods.items():
        sheet.put(f"best_{name}", len(values), lambda v=values: m.best(v))
        sheet.put(f"worst_{name}", len(values), lambda v=values: m.worst(v))


def _benchmark_metrics(sheet: _Sheet, r: np.ndarray, b: np.ndarray, rf: float | np.ndarray, ppy: int) -> None:
    """The metrics against the benchmark (BENCHMARK_KEYS), on the common dates (n ≥ 1)."""
    n = len(r)
    flat_b = "benchmark volatility is zero" if np.ptp(b - rf) == 0 else None
    alpha, beta = m.alpha_beta(r, b, rf, ppy) if n >= 2 and not flat_b else (math.nan, math.nan)
    sheet.put("alpha", n, lambda: alpha, flat_b)
    sheet.put("beta", n, lambda: beta, flat_b)
    flat_r2 = "benchmark volatility is zero" if np.ptp(b) == 0 else ZERO_VOLATILITY if np.ptp(r) == 0 else None
    sheet.put("r_squared", n, lambda: m.r_squared(r, b), flat_r2)
    no_active = "tracking error is zero (the returns follow the benchmark)" if np.ptp(r - b) == 0 else None
    sheet.put("information_ratio", n, lambda: m.information_ratio(r, b, ppy), no_active)
    sheet.put("tracking_error", n, lambda: m.tracking_error(r, b, ppy))
    sheet.put("treynor", n, lambda: m.treynor(r, b, rf, ppy), flat_b or ("beta is zero" if beta == 0 else None))
    for key, up, moves in (("up_capture", True, b > 0), ("down_capture", False, b < 0)):
        reason = None if moves.any() else f"the benchmark has no {'up' if up else 'down'} periods"
        sheet.put(key, n, lambda up=up: m.capture(r, b, up, ppy), reason)


def _with_benchmark(
    sheet: _Sheet, r: np.ndarray, dates: pd.DatetimeIndex, benchmark: pd.Series, rf: float | np.ndarray, ppy: int
) -> tuple[int, str | None]:
    """Benchmark metrics on the dates both series have; the overlap size and a note on left-out dates."""
    if not isinstance(benchmark, pd.Series):
        raise AnalyticsError(f"benchmark returns must be a pandas Series (got {type(benchmark).__name__})")
    kept = benchmark.dropna()
    if len(kept) == 0:
        b_values, b_dates = np.empty(0), pd.DatetimeIndex([], dtype="datetime64[ns]")
    else:
        b_values, b_dates = m.dated_values(kept, "benchmark returns")
    _, ri, bi = np.intersect1d(dates.to_numpy(), b_dates.to_numpy(), assume_unique=True, return_indices=True)
    if len(ri) == 0:
        for key in BENCHMARK_KEYS:
            sheet.skip(key, NO_OVERLAP)
    else:
        _benchmark_metrics(sheet, r[ri], b_values[bi], rf if np.isscalar(rf) else rf[ri], ppy)
    left_out = len(r) - len(ri)
    note = (
        f"the benchmark metrics use the {len(ri):,} dates the returns share with the benchmark; "
        f"{left_out:,} return dates without a benchmark value were left out"
    )
    return len(ri), note if left_out else None


def _returns(returns: pd.Series) -> tuple[np.ndarray, pd.DatetimeIndex, int]:
    """The usable returns and their dates in date order, and how many NaN were dropped."""
    if not isinstance(returns, pd.Series):
        raise AnalyticsError(f"returns must be a pandas Series (got {type(returns).__name__})")
    kept = returns.dropna()
    if len(kept) == 0:
        raise AnalyticsError("returns are empty" if len(returns) == 0 else f"all {len(returns):,} returns are NaN")
    r, dates = m.dated_values(kept)
    ruin = int(np.count_nonzero(r < -1.0))
    if ruin:
        raise AnalyticsError(f"{ruin:,} returns are below −100 %; simple returns cannot lose more than everything")
    return r, dates, len(returns) - len(kept)


def summarize(
    returns: pd.Series,
    benchmark: pd.Series | None = None,
    *,
    risk_free: float | pd.Series = 0.0,
    periods_per_year: int = m.TRADING_DAYS,
    required_return: float = 0.0,
) -> Summary:
    """Every metric of METRIC_KEYS for simple ``returns`` on a date index (NaN dropped with a "data" note).

    ``benchmark``: simple returns on dates, aligned by an inner join; ``risk_free``: a per-period rate, constant
    or a Series covering the returns' dates; ``required_return``: per period (sortino, downside risk, omega).
    """
    if not isinstance(periods_per_year, int | np.integer) or periods_per_year < 1:
        raise AnalyticsError(f"periods_per_year must be a positive whole number (got {periods_per_year})")
    if not math.isfinite(required_return):
        raise AnalyticsError(f"required_return must be a finite number (got {required_return})")
    r, dates, dropped = _returns(returns)
    rf = on_dates(risk_free, dates)
    series = pd.Series(r, index=dates)
    months, years = period_returns(series, "M"), period_returns(series, "Y")
    sheet, notes = _Sheet(), []
    if dropped:
        notes.append(f"{dropped:,} missing returns (NaN) were dropped; the metrics use the other {len(r):,}")
    with np.errstate(all="ignore"):
        periods = {"day": r, "month": months.to_numpy(), "year": years.to_numpy()}
        _return_metrics(sheet, r, rf, required_return, periods_per_year, periods)
        if benchmark is None:
            for key in BENCHMARK_KEYS:
                sheet.skip(key, "no benchmark given")
            overlap = 0
        else:
            overlap, note = _with_benchmark(sheet, r, dates, benchmark, rf, periods_per_year)
            notes += [note] if note else []
    if notes:
        sheet.warnings["data"] = "; ".join(notes)
    return Summary(
        values={key: sheet.values[key] for key in METRIC_KEYS},
        warnings=sheet.warnings,
        drawdowns=m.drawdown_periods(series, TOP_DRAWDOWNS),
        monthly=monthly_table(months, years),
        observations=len(r),
        start=dates[0].date(),
        end=dates[-1].date(),
        periods_per_year=int(periods_per_year),
        benchmark_observations=overlap,
        dropped=dropped,
    )
