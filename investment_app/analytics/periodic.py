"""Returns by calendar period: each month's and year's compounded return and the month-by-year table.

A period's return is Π(1 + r) − 1 over the returns dated in it (quantstats' ``monthly_returns`` and
``aggregate_returns(..., compounded=True)``; pandas' ``(1 + r).resample("ME").prod() − 1``). Only periods that
hold at least one return appear, so the first and last periods may be partial. Returns must carry a date
index and no NaN (``metrics.dated_values``); they are put in date order first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.analytics.metrics import dated_values

FREQS = ("M", "Y")
YEAR_COLUMN = "Year"


def _period_keys(dates: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """An increasing integer per calendar period: year × 12 + month − 1 for "M", the year for "Y"."""
    years = dates.year.to_numpy(dtype=np.int64)
    return years * 12 + dates.month.to_numpy(dtype=np.int64) - 1 if freq == "M" else years


def _compound_by(keys: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct sorted ``keys`` and Π(1 + r) − 1 over each run of equal keys (one reduceat, no loop)."""
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.multiply.reduceat(1.0 + r, starts) - 1.0


def period_returns(returns: pd.Series, freq: str) -> pd.Series:
    """Compounded return of each calendar month ("M") or year ("Y") with data, on a PeriodIndex.

    Formula: R_p = Π_{t in p}(1 + r_t) − 1. Best/worst month or year: ``.max()`` / ``.min()`` of the result
    (quantstats ``best(returns, "ME")`` / ``best(returns, "YE")`` and ``worst``; its "M" code stays daily).
    """
    if freq not in FREQS:
        raise AnalyticsError(f"freq must be one of {', '.join(FREQS)} (got {freq!r})")
    if len(returns) == 0:
        raise InsufficientData("period returns", 1, 0)
    r, dates = dated_values(returns)
    keys, values = _compound_by(_period_keys(dates, freq), r)
    epoch = 1970 * 12 if freq == "M" else 1970  # period ordinals count from January 1970
    return pd.Series(values, index=pd.PeriodIndex.from_ordinals(keys - epoch, freq=freq), name="return")


def monthly_table(months: pd.Series, years: pd.Series) -> pd.DataFrame:
    """The month-by-year table from ``period_returns(r, "M")`` and ``period_returns(r, "Y")``.

    Index: year (int); columns 1..12 and "Year" (the year's compounded return); NaN in a month without data
    (a blank cell; quantstats shows 0.0 there).
    """
    table = np.full((len(years), 13), np.nan)
    rows = np.searchsorted(years.index.year.to_numpy(), months.index.year.to_numpy())
    table[rows, months.index.month.to_numpy() - 1] = months.to_numpy()
    table[:, 12] = years.to_numpy()
    index = pd.Index(years.index.year.to_numpy(), name="year")
    return pd.DataFrame(table, index=index, columns=[*range(1, 13), YEAR_COLUMN])


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Compounded return of every calendar month in a year × month table (see ``monthly_table``)."""
    return monthly_table(period_returns(returns, "M"), period_returns(returns, "Y"))
