"""Reading one return or price series from a CSV file: dates in the first column, the series in the second.

A blank cell is a missing observation (kept as NaN for the caller to report); anything else that is
not a number, a date that does not parse, a repeated date or a non-positive price is refused with the
file's line number. Rows are put in date order. Prices become simple returns p_t / p_{t−1} − 1 between
consecutive available prices: a missing price is skipped, so the next return spans the gap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError


def _frame(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise AnalyticsError(f"{path}: no such file") from exc
    except pd.errors.EmptyDataError as exc:
        raise AnalyticsError(f"{path} is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise AnalyticsError(f"{path} is not a readable CSV file: {exc}") from exc
    if frame.shape[1] != 2:
        found = ", ".join(map(str, frame.columns[1:])) or "none"
        raise AnalyticsError(f"{path} must have a date column and exactly one series column (series columns: {found})")
    if frame.empty:
        raise AnalyticsError(f"{path} has a header but no rows")
    return frame


def _first_bad(mask: np.ndarray, frame: pd.DataFrame, column: int) -> str:
    row = int(np.flatnonzero(mask)[0])
    return f"line {row + 2}, column {frame.columns[column]!r}: {frame.iat[row, column]!r}"


def read_series(path: str | Path, kind: str = "returns") -> pd.Series:
    """The file's series indexed by date: returns as given, or prices (``kind="prices"``) turned into returns."""
    path = Path(path)
    frame = _frame(path)
    dates = pd.to_datetime(frame.iloc[:, 0].str.strip(), errors="coerce", format="mixed")
    if dates.isna().any():
        raise AnalyticsError(f"{path} {_first_bad(dates.isna().to_numpy(), frame, 0)} is not a date")
    text = frame.iloc[:, 1].str.strip()
    values = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    bad = (values.isna() & (text != "")) | np.isinf(values)
    if bad.any():
        raise AnalyticsError(f"{path} {_first_bad(bad.to_numpy(), frame, 1)} is not a number")
    series = pd.Series(values.to_numpy(float), index=pd.DatetimeIndex(dates), name=str(frame.columns[1]))
    repeated = series.index.duplicated()
    if repeated.any():
        raise AnalyticsError(f"{path} has the date {series.index[repeated][0].date()} more than once")
    series = series.sort_index()
    if kind == "returns":
        if (series <= -1).any():
            raise AnalyticsError(f"{path}: a return of −100% or less on {series.index[series <= -1][0].date()}")
        return series
    if (series <= 0).any():
        raise AnalyticsError(f"{path}: a price that is not positive on {series.index[series <= 0][0].date()}")
    prices = series.dropna()
    return prices.pct_change().iloc[1:]
