"""Performance metrics of a simple-return series, vectorized, following empyrical's definitions.

Every function takes a 1-D float array of simple returns without NaN (callers drop or report gaps)
and, where it annualises, ``periods_per_year`` (252 for daily data). Rates such as the risk-free
rate are per period: a constant or an array aligned with the returns. Each docstring gives the
formula; tests compare each one with empyrical-reloaded (and quantstats where the two agree) on
real bundled returns. ``float_values``, ``date_index`` and ``dated_values`` turn pandas input into
those arrays (or refuse it with AnalyticsError); ``drawdown_periods`` is the one metric that works on dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as dtypes

from investment_app.analytics.errors import AnalyticsError

TRADING_DAYS = 252


def total_return(r: np.ndarray) -> float:
    """Π(1 + r) − 1 (empyrical ``cum_returns_final``)."""
    return float(np.prod(1.0 + r) - 1.0)


def annual_return(r: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float:
    """CAGR over the number of periods: (1 + total)^(periods_per_year / n) − 1 (empyrical)."""
    return float((1.0 + total_return(r)) ** (periods_per_year / len(r)) - 1.0)


def annual_volatility(r: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float:
    """Sample standard deviation (ddof = 1) × √periods_per_year."""
    return float(np.std(r, ddof=1) * np.sqrt(periods_per_year))


def sharpe(r: np.ndarray, risk_free: float | np.ndarray = 0.0, periods_per_year: int = TRADING_DAYS) -> float:
    """mean(r − rf) / std(r − rf, ddof = 1) × √periods_per_year."""
    excess = r - risk_free
    return float(np.mean(excess) / np.std(excess, ddof=1) * np.sqrt(periods_per_year))


def downside_risk(r: np.ndarray, required_return: float = 0.0, periods_per_year: int = TRADING_DAYS) -> float:
    """√(mean(min(r − required, 0)²)) × √periods_per_year: the mean runs over all periods (empyrical)."""
    shortfall = np.minimum(r - required_return, 0.0)
    return float(np.sqrt(np.mean(shortfall**2)) * np.sqrt(periods_per_year))


def sortino(r: np.ndarray, required_return: float = 0.0, periods_per_year: int = TRADING_DAYS) -> float:
    """mean(r − required) × periods_per_year / downside_risk (empyrical)."""
    return float(np.mean(r - required_return) * periods_per_year / downside_risk(r, required_return, periods_per_year))


def drawdowns(r: np.ndarray) -> np.ndarray:
    """Drawdown after each period: wealth / running peak − 1, the peak starting at the initial 1."""
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    return (wealth / np.maximum.accumulate(wealth) - 1.0)[1:]


def max_drawdown(r: np.ndarray) -> float:
    """The deepest drawdown, a negative number (empyrical)."""
    return float(min(drawdowns(r).min(), 0.0))


def calmar(r: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float | None:
    """annual_return / |max_drawdown|; None without a drawdown."""
    depth = max_drawdown(r)
    return None if depth == 0 else annual_return(r, periods_per_year) / abs(depth)


def omega(
    r: np.ndarray,
    risk_free: float | np.ndarray = 0.0,
    required_return: float = 0.0,
    periods_per_year: int = TRADING_DAYS,
) -> float | None:
    """Σ gains over the threshold / Σ losses under it; threshold = (1 + required)^(1/ppy) − 1 (empyrical)."""
    threshold = (1.0 + required_return) ** (1.0 / periods_per_year) - 1.0
    excess = r - risk_free - threshold
    losses = -excess[excess < 0].sum()
    return None if losses <= 0 else float(excess[excess > 0].sum() / losses)


def tail_ratio(r: np.ndarray) -> float:
    """|95th percentile| / |5th percentile| (empyrical)."""
    return float(abs(np.percentile(r, 95)) / abs(np.percentile(r, 5)))


def skew(r: np.ndarray) -> float:
    """Sample skewness, bias-corrected (pandas' and quantstats' definition)."""
    n, centred = len(r), r - r.mean()
    g1 = np.mean(centred**3) / np.mean(centred**2) ** 1.5
    return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))


def kurtosis(r: np.ndarray) -> float:
    """Sample excess kurtosis, bias-corrected (pandas' and quantstats' definition)."""
    n, centred = len(r), r - r.mean()
    g2 = np.mean(centred**4) / np.mean(centred**2) ** 2 - 3.0
    return float((n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6.0))


def alpha_beta(
    r: np.ndarray, b: np.ndarray, risk_free: float | np.ndarray = 0.0, periods_per_year: int = TRADING_DAYS
) -> tuple[float, float]:
    """β = cov(r − rf, b − rf) / var(b − rf); α = (1 + mean(r − rf − β(b − rf)))^ppy − 1 (empyrical).

    β regresses excess on excess returns (CAPM); empyrical's ``beta`` ignores rf, the same for a constant rf.
    """
    y, x = r - risk_free, b - risk_free
    xc = x - x.mean()
    beta = float(np.sum(xc * (y - y.mean())) / np.sum(xc**2))
    return float((1.0 + np.mean(y - beta * x)) ** periods_per_year - 1.0), beta


def r_squared(r: np.ndarray, b: np.ndarray) -> float:
    """Share of the variance explained by the benchmark: corr(r, b)²."""
    return float(np.corrcoef(r, b)[0, 1] ** 2)


def tracking_error(r: np.ndarray, b: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float:
    """std(r − b, ddof = 1) × √periods_per_year."""
    return float(np.std(r - b, ddof=1) * np.sqrt(periods_per_year))


def information_ratio(r: np.ndarray, b: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float:
    """Annualised active return over tracking error: mean(r − b) / std(r − b, ddof = 1) × √ppy
    (empyrical's ``excess_sharpe`` × √ppy)."""
    active = r - b
    return float(np.mean(active) / np.std(active, ddof=1) * np.sqrt(periods_per_year))


def capture(r: np.ndarray, b: np.ndarray, up: bool, periods_per_year: int = TRADING_DAYS) -> float:
    """Up (down) capture: annual_return(r) / annual_return(b) over the periods where b > 0 (b < 0) (empyrical)."""
    mask = b > 0 if up else b < 0
    return annual_return(r[mask], periods_per_year) / annual_return(b[mask], periods_per_year)


def treynor(
    r: np.ndarray, b: np.ndarray, risk_free: float | np.ndarray = 0.0, periods_per_year: int = TRADING_DAYS
) -> float | None:
    """Treynor ratio (Treynor 1965): (annual_return(r) − annual_return(rf)) / β; None when β = 0.

    Both returns are CAGRs over the same periods; β is ``alpha_beta``'s (excess on excess returns).
    quantstats' ``treynor_ratio`` divides the total (not annualised) return minus an annual rf by the beta of
    raw returns: the two agree exactly on a one-year sample (n = periods_per_year) with rf = 0.
    """
    rf = np.broadcast_to(np.asarray(risk_free, dtype=float), r.shape)
    beta = alpha_beta(r, b, risk_free, periods_per_year)[1]
    return None if beta == 0 else (annual_return(r, periods_per_year) - annual_return(rf, periods_per_year)) / beta


def ulcer_index(r: np.ndarray) -> float:
    """Ulcer index (Martin & McCann 1989): √(mean(drawdown²)), drawdowns as decimals from ``drawdowns``.

    The mean runs over all n periods, as in Martin's definition; quantstats divides the sum by n − 1, so
    ours = quantstats × √((n − 1) / n).
    """
    return float(np.sqrt(np.mean(drawdowns(r) ** 2)))


def win_rate(r: np.ndarray) -> float | None:
    """#(r > 0) / #(r ≠ 0): the share of non-zero periods that gained (quantstats ``win_rate``).

    None when every return is zero (quantstats returns 0.0 with a warning).
    """
    active = np.count_nonzero(r)
    return None if active == 0 else float(np.count_nonzero(r > 0) / active)


def best(r: np.ndarray) -> float:
    """The highest single-period return, max(r) (quantstats ``best`` without aggregation)."""
    return float(np.max(r))


def worst(r: np.ndarray) -> float:
    """The lowest single-period return, min(r) (quantstats ``worst`` without aggregation)."""
    return float(np.min(r))


def float_values(values: pd.Series, what: str = "returns") -> np.ndarray:
    """The values as a float64 array; AnalyticsError unless they are numbers (booleans are not)."""
    kind = values.dtype
    if not dtypes.is_numeric_dtype(kind) or dtypes.is_bool_dtype(kind) or dtypes.is_complex_dtype(kind):
        raise AnalyticsError(f"{what} must be real numbers (got values of type {kind})")
    return values.to_numpy(dtype=float, na_value=np.nan)


def date_index(index: pd.Index, what: str = "returns") -> pd.DatetimeIndex:
    """A timezone-naive nanosecond DatetimeIndex from dates, datetimes or ISO date strings; AnalyticsError else."""
    if not isinstance(index, pd.DatetimeIndex):
        if dtypes.infer_dtype(index) not in ("date", "datetime", "datetime64", "string", "empty"):
            raise AnalyticsError(f"{what} need a date index (got {index.dtype} labels)")
        try:
            index = pd.DatetimeIndex(pd.to_datetime(index))
        except (ValueError, TypeError) as error:
            raise AnalyticsError(f"{what} have labels that are not dates: {error}") from error
    return (index.tz_localize(None) if index.tz is not None else index).as_unit("ns")


def dated_values(series: pd.Series, what: str = "returns") -> tuple[np.ndarray, pd.DatetimeIndex]:
    """The values (float64) and dates of a Series, in date order.

    AnalyticsError when it is not a Series, a value is not a finite number (NaN included: callers drop or
    report gaps first) or the labels are not distinct dates.
    """
    if not isinstance(series, pd.Series):
        raise AnalyticsError(f"{what} must be a pandas Series (got {type(series).__name__})")
    values, dates = float_values(series, what), date_index(series.index, what)
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise AnalyticsError(f"{what} contain {bad:,} missing or infinite values; drop the gaps first")
    if dates.hasnans:
        raise AnalyticsError(f"{what} have labels that are not dates (NaT)")
    if not dates.is_monotonic_increasing:
        order = np.argsort(dates.to_numpy(), kind="stable")
        values, dates = values[order], dates[order]
    if dates.has_duplicates:
        raise AnalyticsError(f"{what} have {int(dates.duplicated().sum()):,} duplicate dates")
    return values, dates


@dataclass(frozen=True)
class DrawdownPeriod:
    """One drawdown: from a peak of wealth down to its trough and back to the peak (recovery).

    ``depth`` is trough wealth / peak wealth − 1 (negative); day counts are calendar days.
    """

    peak: dt.date
    trough: dt.date
    recovery: dt.date | None
    depth: float
    duration_days: int
    days_to_trough: int
    days_to_recover: int | None

    def as_dict(self) -> dict[str, object]:
        """JSON-safe fields: ISO date strings (recovery None while open), the depth and the day counts."""
        return {
            "peak": self.peak.isoformat(),
            "trough": self.trough.isoformat(),
            "recovery": None if self.recovery is None else self.recovery.isoformat(),
            "depth": self.depth,
            "duration_days": self.duration_days,
            "days_to_trough": self.days_to_trough,
            "days_to_recover": self.days_to_recover,
        }


def _underwater_spans(dd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (first day below the peak) and end (first day back at it, n if open) of each drawdown."""
    edges = np.diff(np.concatenate(([0], (dd < 0).astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def drawdown_periods(returns: pd.Series, top: int = 5) -> list[DrawdownPeriod]:
    """The ``top`` deepest drawdowns of a return series with a date index, deepest first (ties: earliest).

    Wealth W_t = Π(1 + r) starts at 1.0 before the first date (as ``drawdowns``). A drawdown starts on the
    first day with W below its running high; its peak is the day before (the first date when the loss
    starts on day one, since the returns carry no earlier date); the trough is the first day of its lowest
    wealth; the recovery is the first day W is back at the peak (exact comparison, like empyrical), None if
    still open. duration_days runs peak → recovery (→ the last date while open), days_to_trough peak → trough,
    days_to_recover trough → recovery. quantstats' ``drawdown_details`` instead reports the first and the last
    day under water (start = our peak's next day, end = our recovery's previous day) and counts them
    inclusively: its ``days`` = (end − start) + 1. The series may not hold NaN (``dated_values``).
    """
    if top < 1:
        raise AnalyticsError(f"top must be at least 1 (got {top})")
    r, dates = dated_values(returns)
    dd = drawdowns(r)
    starts, ends = _underwater_spans(dd)
    if len(starts) == 0:
        return []
    depths = np.minimum.reduceat(dd, starts)
    return [_period(dates, dd, starts[i], ends[i]) for i in np.argsort(depths, kind="stable")[:top]]


def _period(dates: pd.DatetimeIndex, dd: np.ndarray, start: int, end: int) -> DrawdownPeriod:
    """The DrawdownPeriod spanning positions ``start`` (first day under water) to ``end`` (recovery or n)."""
    trough = start + int(np.argmin(dd[start:end]))
    peak_day, trough_day = dates[max(start - 1, 0)].date(), dates[trough].date()
    recovery_day = dates[end].date() if end < len(dd) else None
    until = dates[-1].date() if recovery_day is None else recovery_day
    return DrawdownPeriod(
        peak=peak_day,
        trough=trough_day,
        recovery=recovery_day,
        depth=float(dd[trough]),
        duration_days=(until - peak_day).days,
        days_to_trough=(trough_day - peak_day).days,
        days_to_recover=None if recovery_day is None else (recovery_day - trough_day).days,
    )
