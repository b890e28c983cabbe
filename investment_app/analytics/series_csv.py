"""Reading series from a CSV file: dates in the first column, one series per further column.

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


def _text(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise AnalyticsError(f"{path}: no such file") from exc
    except pd.errors.EmptyDataError as exc:
        raise AnalyticsError(f"{path} is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise AnalyticsError(f"{path} is not a readable CSV file: {exc}") from exc
    if frame.shape[1] < 2:
        raise AnalyticsError(f"{path} must have a date column and at least one series column")
    if frame.empty:
        raise AnalyticsError(f"{path} has a header but no rows")
    return frame


def _where(frame: pd.DataFrame, row: int, column: int) -> str:
    return f"line {row + 2}, column {frame.columns[column]!r}: {frame.iat[row, column]!r}"


def read_table(path: str | Path, kind: str = "values") -> pd.DataFrame:
    """The file's columns as floats indexed by date (sorted); ``kind="prices"`` also refuses prices ≤ 0."""
    path = Path(path)
    text = _text(path)
    dates = pd.to_datetime(text.iloc[:, 0].str.strip(), errors="coerce", format="mixed")
    if dates.isna().any():
        raise AnalyticsError(f"{path} {_where(text, int(np.flatnonzero(dates.isna())[0]), 0)} is not a date")
    cells = text.iloc[:, 1:].apply(lambda c: c.str.strip())
    values = cells.apply(lambda c: pd.to_numeric(c.replace("", np.nan), errors="coerce"))
    bad = (values.isna() & (cells != "")).to_numpy() | np.isinf(values.to_numpy())
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise AnalyticsError(f"{path} {_where(text, row, column + 1)} is not a number")
    table = pd.DataFrame(values.to_numpy(float), index=pd.DatetimeIndex(dates), columns=text.columns[1:].map(str))
    if table.index.has_duplicates:
        raise AnalyticsError(f"{path} has the date {table.index[table.index.duplicated()][0].date()} more than once")
    table = table.sort_index()
    if kind == "prices" and (table <= 0).any().any():
        column = table.columns[(table <= 0).any()][0]
        day = table.index[table[column] <= 0][0].date()
        raise AnalyticsError(f"{path}: the price of {column} on {day} is not positive")
    return table


def read_series(path: str | Path, kind: str = "returns") -> pd.Series:
    """The file's one series indexed by date: returns as given, or prices (``kind="prices"``) turned into returns."""
    table = read_table(path, "prices" if kind == "prices" else "values")
    if table.shape[1] != 1:
        raise AnalyticsError(
            f"{path} must have a date column and exactly one series column (series columns: {', '.join(table.columns)})"
        )
    series = table.iloc[:, 0]
    if kind == "returns":
        if (series <= -1).any():
            raise AnalyticsError(f"{path}: a return of −100% or less on {series.index[series <= -1][0].date()}")
        return series
    return series.dropna().pct_change().iloc[1:]
