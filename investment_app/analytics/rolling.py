"""Rolling risk measures over a trailing window, for charts (pandas' rolling windows, no Python loop).

Each row uses the ``window`` returns ending on its date, with empyrical's definitions (``roll_annual_volatility``,
``roll_sharpe_ratio``, ``roll_beta``): volatility = std(r, ddof = 1) × √ppy; Sharpe = mean(r − rf) / std(r − rf)
× √ppy; β = cov(r − rf, b − rf) / var(b − rf) (empyrical's β ignores rf: the same for a constant rf). The first
window − 1 rows are NaN, and so is a Sharpe ratio (β) whose window has zero volatility (a flat benchmark): a gap
in the chart, not an infinity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.analytics.metrics import TRADING_DAYS, dated_values
from investment_app.analytics.riskfree import on_dates


def _clean(series: pd.Series, what: str) -> pd.Series:
    """A float Series on a date index in date order (``dated_values``: no NaN, distinct dates)."""
    values, dates = dated_values(series, what)
    return pd.Series(values, index=dates)


def _beta(excess: pd.Series, benchmark: pd.Series, rf: float | np.ndarray, window: int) -> pd.Series:
    """Rolling β of the excess returns on the benchmark's excess returns over their common dates."""
    common = excess.index.intersection(benchmark.index)
    if len(common) < window:
        raise InsufficientData("rolling beta on the dates shared with the benchmark", window, len(common))
    rf_common = rf if np.isscalar(rf) else rf[excess.index.get_indexer(common)]
    x, y = (benchmark.loc[common] - rf_common).rolling(window), excess.loc[common]
    variance = x.var()
    return (x.cov(y) / variance.where(variance > 0)).reindex(excess.index)


def rolling_metrics(
    returns: pd.Series,
    benchmark: pd.Series | None,
    window: int,
    risk_free: float | pd.Series = 0.0,
    periods_per_year: int = TRADING_DAYS,
) -> pd.DataFrame:
    """Rolling "volatility", "sharpe" and (with a benchmark) "beta" of ``returns`` on their dates.

    ``risk_free`` is a constant per-period rate or a per-period Series covering the dates. The benchmark's
    missing dates are left out of β (which is NaN on them); InsufficientData when fewer than ``window``
    returns (or common dates) exist.
    """
    if window < 2:
        raise AnalyticsError(f"the rolling window must be at least 2 periods (got {window})")
    r = _clean(returns, "returns")
    if len(r) < window:
        raise InsufficientData(f"rolling metrics over {window} periods", window, len(r))
    rf = on_dates(risk_free, r.index)
    excess = r - rf
    scale = np.sqrt(periods_per_year)
    spread = excess.rolling(window).std()
    table = {
        "volatility": r.rolling(window).std() * scale,
        "sharpe": excess.rolling(window).mean() / spread.where(spread > 0) * scale,
    }
    if benchmark is not None:
        table["beta"] = _beta(excess, _clean(benchmark.dropna(), "benchmark returns"), rf, window)
    return pd.DataFrame(table, index=r.index)
