"""US Treasury yields bundled with the app (see sample_data/NOTICE.md): the risk-free rate's source.

``treasury_yield_curves_daily_1990_2017.csv`` (from zipline) holds constant-maturity yields as annual decimals
(0.0783 = 7.83 %), one row per ``Time Period`` (midnight UTC timestamps of the exchange date), 1990-01-02 to
2017-03-29; a tenor left empty on a day was not published.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from investment_app.marketdata.bundled import SAMPLE_DATA_DIR

TREASURY_CSV = SAMPLE_DATA_DIR / "treasury_yield_curves_daily_1990_2017.csv"
THREE_MONTH_NAME = "3-month Treasury"


@lru_cache(maxsize=1)
def _three_month() -> pd.Series:
    """The parsed 3-month column (read once per process)."""
    table = pd.read_csv(TREASURY_CSV, usecols=["Time Period", "3month"]).dropna()
    dates = pd.to_datetime(table["Time Period"], utc=True).dt.date
    return pd.Series(table["3month"].to_numpy(dtype=float), index=pd.Index(dates, name="date"), name=THREE_MONTH_NAME)


def three_month_yield() -> pd.Series:
    """The 3-month constant-maturity yield (annual decimal) by exchange date (``datetime.date``), NaN dropped.

    Sorted by date; named "3-month Treasury" (``riskfree.per_period`` quotes the name). A copy of the cached
    series, so a caller may change it.
    """
    return _three_month().copy()
