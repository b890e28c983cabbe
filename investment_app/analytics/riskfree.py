"""The risk-free rate per period, from a published annual yield or as given by the caller.

Convention: the rate earned over the period that ends on date d is set by the yield published on the last
date strictly before d (the yield known when the period began); per period it is (1 + y)^(1 / ppy) − 1, the
rate that compounds to y over a year (quantstats ``utils.to_excess_returns`` with ``nperiods``). Yields are
annual decimals (0.0139 = 1.39 %); unpublished days (NaN) are skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.metrics import TRADING_DAYS, date_index, dated_values


def _published(yields: pd.Series) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The dates and values of the yields that were published (NaN dropped), in date order."""
    if not isinstance(yields, pd.Series) or yields.count() == 0:
        raise AnalyticsError("the yield series has no values")
    values, dates = dated_values(yields.dropna(), "yields")
    return dates, values


def per_period(
    yields: pd.Series, dates: pd.Index | pd.Series | list, periods_per_year: int = TRADING_DAYS
) -> tuple[np.ndarray, str | None]:
    """The per-period risk-free rate on each of ``dates`` and a warning, or None, about stale values.

    rate_d = (1 + y_{d'})^(1 / periods_per_year) − 1 where d' is the last published date before d. Dates after
    the series' last date use its last value and the warning says how many; a date with no earlier yield
    raises AnalyticsError. The series' ``name`` names it in messages.
    """
    published, values = _published(yields)
    wanted = date_index(pd.Index(dates), "dates").to_numpy()
    name = yields.name or "the yield series"
    position = np.searchsorted(published.to_numpy(), wanted, side="left") - 1
    if (position < 0).any():
        first = pd.Timestamp(wanted[position < 0].min()).date()
        raise AnalyticsError(
            f"{name} starts {published[0].date()}; {int((position < 0).sum()):,} dates (from {first}) have no "
            "earlier yield"
        )
    rates = (1.0 + values[position]) ** (1.0 / periods_per_year) - 1.0
    stale = int(np.count_nonzero(wanted > published[-1].to_datetime64()))
    warning = (
        f"{name} ends {published[-1].date()}; {stale:,} later days use its last value {values[-1]:.2%}"
        if stale
        else None
    )
    return rates, warning


def on_dates(risk_free: float | pd.Series, dates: pd.DatetimeIndex) -> float | np.ndarray:
    """A constant per-period rate as it is, or a per-period rate Series taken on each of ``dates``.

    AnalyticsError when the constant is not finite or the Series lacks (or has NaN on) any of the dates.
    """
    if not isinstance(risk_free, pd.Series):
        rate = float(risk_free)
        if not np.isfinite(rate):
            raise AnalyticsError(f"the risk-free rate must be a finite number (got {risk_free})")
        return rate
    values, rate_dates = dated_values(risk_free.dropna(), "risk-free rates")
    taken = pd.Series(values, index=rate_dates).reindex(dates).to_numpy()
    missing = np.isnan(taken)
    if missing.any():
        raise AnalyticsError(
            f"the risk-free rate is missing on {int(missing.sum()):,} of {len(dates):,} dates "
            f"(first {dates[missing][0].date()})"
        )
    return taken
