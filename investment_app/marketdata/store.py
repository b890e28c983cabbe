"""The price store: idempotent bulk loads of symbols and daily bars, and the reads analytics need.

A load inserts what is missing and keeps every existing row: a (symbol, date) already stored is
never overwritten or duplicated. Everything happens in one transaction, so a failed load leaves
the store as it was. SQLite gets one executemany of ``INSERT ... ON CONFLICT DO NOTHING``;
PostgreSQL gets a binary COPY into a temporary table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from psycopg import sql
from sqlalchemy import Connection, Date, Engine, Table, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from investment_app.marketdata import series
from investment_app.models.market import DailyBar, Symbol

SYMBOL_TABLE: Table = Symbol.__table__
BAR_TABLE: Table = DailyBar.__table__


@dataclass(frozen=True)
class LoadReport:
    """What a load did: rows inserted, bars already present (kept as they were), wall time."""

    symbols_added: int
    bars_added: int
    bars_skipped: int
    seconds: float


def load_bars(engine: Engine, symbols_frame: pd.DataFrame, bars_frame: pd.DataFrame) -> LoadReport:
    """Insert the symbols and bars that are not stored yet, in one transaction.

    The frames' columns are a subset of the ``symbol`` / ``daily_bar`` columns; columns left out
    are stored as NULL. Bars need a stored or loaded symbol (foreign key); a violated constraint
    raises SQLAlchemy's IntegrityError on both backends and nothing is stored.
    """
    start = time.perf_counter()
    insert_missing = _copy_insert_missing if engine.dialect.name == "postgresql" else _executemany_insert_missing
    with engine.begin() as conn:
        symbols_added = insert_missing(conn, SYMBOL_TABLE, symbols_frame)
        bars_added = insert_missing(conn, BAR_TABLE, bars_frame)
        if bars_added:
            series.rebuild(conn, bars_frame["symbol"].unique())
    return LoadReport(
        symbols_added=symbols_added,
        bars_added=bars_added,
        bars_skipped=len(bars_frame) - bars_added,
        seconds=time.perf_counter() - start,
    )


def _python_columns(frame: pd.DataFrame) -> list[list]:
    """The frame's columns as lists of plain Python values, missing values as None."""
    return [frame[name].astype(object).where(frame[name].notna(), None).tolist() for name in frame.columns]


def _executemany_insert_missing(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """SQLite: one executemany of INSERT ... ON CONFLICT DO NOTHING; returns the rows inserted.

    Dates are bound as ISO text, the format SQLAlchemy stores SQLite dates in.
    """
    if frame.empty:
        return 0
    statement = (
        sqlite_insert(table).on_conflict_do_nothing().compile(dialect=conn.dialect, column_keys=list(frame.columns))
    )
    iso_dates = {
        column.name: pd.to_datetime(frame[column.name]).dt.strftime("%Y-%m-%d")
        for column in table.columns
        if column.name in frame.columns and isinstance(column.type, Date)
    }
    ordered = frame.assign(**iso_dates)[list(statement.positiontup)]
    return conn.exec_driver_sql(statement.string, list(zip(*_python_columns(ordered), strict=True))).rowcount


def _copy_insert_missing(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """PostgreSQL: binary COPY into a temporary table, then INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
    if frame.empty:
        return 0
    driver_connection = conn.connection.driver_connection
    staging = sql.Identifier(f"staging_{table.name}")
    target = sql.Identifier(table.name)
    columns = sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    create = sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(staging, target)
    conn.exec_driver_sql(create.as_string(driver_connection))
    with driver_connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT {} FROM {} LIMIT 0").format(columns, staging))
        type_oids = [column.type_code for column in cursor.description]
        with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(staging, columns)) as copy:
            copy.set_types(type_oids)
            for row in zip(*_python_columns(frame), strict=True):
                copy.write_row(row)
    insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
        target, columns, columns, staging
    )
    return conn.exec_driver_sql(insert.as_string(driver_connection)).rowcount


def count_bars(engine: Engine, source: str | None = None) -> int:
    """How many daily bars are stored, optionally only those from ``source``."""
    query = select(func.count()).select_from(BAR_TABLE)
    if source is not None:
        query = query.where(BAR_TABLE.c.source == source)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def latest_bar_date(engine: Engine) -> dt.date | None:
    """The most recent date with a stored bar, or None when the store is empty."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(BAR_TABLE.c.date))).scalar_one()


def price_frame(
    engine: Engine,
    symbols: Sequence[str],
    start: dt.date | None = None,
    end: dt.date | None = None,
    field: str = "adj_close",
) -> pd.DataFrame:
    """Closes as a frame: rows on a DatetimeIndex named ``date``, one column per requested symbol.

    ``field`` is ``adj_close`` (total return: splits and dividends) or ``close`` (split-adjusted only).
    ``start`` and ``end`` are inclusive. Gaps stay NaN (nothing is filled); a symbol without bars
    in the range is an all-NaN column.
    """
    value = BAR_TABLE.c[field]
    query = select(BAR_TABLE.c.date, BAR_TABLE.c.symbol, value.label("value")).where(
        BAR_TABLE.c.symbol.in_(list(symbols))
    )
    if start is not None:
        query = query.where(BAR_TABLE.c.date >= start)
    if end is not None:
        query = query.where(BAR_TABLE.c.date <= end)
    with engine.connect() as conn:
        long = pd.read_sql(query, conn)
    long["date"] = pd.to_datetime(long["date"])
    wide = long.pivot(index="date", columns="symbol", values="value").reindex(columns=list(symbols))
    wide.columns.name = None
    return wide.sort_index()
