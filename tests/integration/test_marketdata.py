"""The bundled dataset in the price store, on SQLite and PostgreSQL, checked against the CSV files.

Expected values are read here with the csv module, independently of the pandas loader.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from investment_app.db import get_engine
from investment_app.marketdata.bundled import bundled_bars, bundled_symbols, load_bundled
from investment_app.marketdata.store import latest_bar_date, load_bars, price_frame
from investment_app.models.market import DailyBar, Symbol

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "investment_app" / "sample_data"
PRICE_FILES = ("pypfopt_stock_prices_1990_2024.csv", "pypfopt_spy_prices_1993_2024.csv")


@lru_cache(maxsize=1)
def csv_closes() -> dict[tuple[str, dt.date], float]:
    """Every non-empty adjusted close of the bundled price files, keyed by (symbol, date)."""
    closes: dict[tuple[str, dt.date], float] = {}
    for name in PRICE_FILES:
        with open(SAMPLE_DATA / name, newline="") as handle:
            for row in csv.DictReader(handle):
                day = dt.date.fromisoformat(row.pop("date"))
                closes.update({(symbol, day): float(value) for symbol, value in row.items() if value.strip()})
    return closes


def csv_counts() -> dict[str, int]:
    """Non-empty values per symbol column."""
    counts: dict[str, int] = {}
    for symbol, _day in csv_closes():
        counts[symbol] = counts.get(symbol, 0) + 1
    return counts


def stored_closes(url: str) -> dict[tuple[str, dt.date], float]:
    """Every stored adj_close keyed by (symbol, date)."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(DailyBar.symbol, DailyBar.date, DailyBar.adj_close)).all()
    return {(symbol, day): adj_close for symbol, day, adj_close in rows}


def test_load_stores_every_csv_value_once(db_url: str) -> None:
    report = load_bundled(db_url)

    assert (report.symbols_added, report.bars_added, report.bars_skipped) == (20, len(csv_closes()), 0)
    with get_engine(db_url).connect() as conn:
        counts = dict(conn.execute(select(DailyBar.symbol, func.count()).group_by(DailyBar.symbol)).all())
        duplicates = conn.execute(
            select(DailyBar.symbol, DailyBar.date).group_by(DailyBar.symbol, DailyBar.date).having(func.count() > 1)
        ).all()
        aapl = conn.execute(select(DailyBar).where(DailyBar.symbol == "AAPL", DailyBar.date == dt.date(2020, 3, 16)))
        aapl = aapl.one()
    assert counts == csv_counts()
    assert duplicates == []
    assert stored_closes(db_url) == csv_closes()
    assert aapl.adj_close == aapl.close == csv_closes()[("AAPL", dt.date(2020, 3, 16))]
    assert (aapl.open, aapl.high, aapl.low, aapl.volume, aapl.source) == (None, None, None, None, "bundled")


def test_spot_values_match_the_csv_files(db_url: str) -> None:
    load_bundled(db_url)
    with open(SAMPLE_DATA / "pypfopt_spy_prices_1993_2024.csv", newline="") as handle:
        spy_2008_10_10 = float(next(row["SPY"] for row in csv.DictReader(handle) if row["date"] == "2008-10-10"))
    with open(SAMPLE_DATA / "pypfopt_stock_prices_1990_2024.csv", newline="") as handle:
        aapl_1999_12_31 = float(next(row["AAPL"] for row in csv.DictReader(handle) if row["date"] == "1999-12-31"))

    prices = price_frame(get_engine(db_url), ["AAPL", "SPY"], start=dt.date(1999, 12, 31), end=dt.date(2008, 10, 10))

    assert prices.loc["2008-10-10", "SPY"] == spy_2008_10_10
    assert prices.loc["1999-12-31", "AAPL"] == aapl_1999_12_31
    assert (prices.index.min().date(), prices.index.max().date()) == (dt.date(1999, 12, 31), dt.date(2008, 10, 10))
    assert latest_bar_date(get_engine(db_url)) == max(day for _symbol, day in csv_closes())


def test_sectors_match_the_sector_map(db_url: str) -> None:
    load_bundled(db_url)
    with open(SAMPLE_DATA / "sectors_gics.csv", newline="") as handle:
        sector_map = {row["ticker"]: row for row in csv.DictReader(handle)}
    with get_engine(db_url).connect() as conn:
        symbols = {row.symbol: row for row in conn.execute(select(Symbol)).all()}

    assert set(symbols) == set(csv_counts())
    for ticker in ("AAPL", "JPM", "XOM", "META"):
        assert symbols[ticker].gics_sector == sector_map[ticker]["gics_sector"]
        assert symbols[ticker].gics_sub_industry == sector_map[ticker]["gics_sub_industry"]
        assert symbols[ticker].asset_class == "equity"
    assert (symbols["SPY"].name, symbols["SPY"].asset_class, symbols["SPY"].gics_sector) == (
        "SPDR S&P 500 ETF Trust",
        "etf",
        "",
    )


def test_second_load_adds_nothing(db_url: str) -> None:
    load_bundled(db_url)

    reseed = load_bundled(db_url)
    full_reload = load_bars(get_engine(db_url), bundled_symbols(), bundled_bars())

    assert (reseed.symbols_added, reseed.bars_added) == (0, 0)
    assert (full_reload.symbols_added, full_reload.bars_added, full_reload.bars_skipped) == (0, 0, len(csv_closes()))
    assert stored_closes(db_url) == csv_closes()


def test_partial_store_gets_exactly_the_missing_rows_back(db_url: str) -> None:
    load_bundled(db_url)
    engine = get_engine(db_url)
    kept_key = ("AAPL", dt.date(2001, 1, 2))
    with engine.begin() as conn:
        conn.execute(
            delete(DailyBar).where(
                DailyBar.symbol == "AAPL", DailyBar.date >= dt.date(2000, 1, 1), DailyBar.date <= dt.date(2000, 12, 31)
            )
        )
        conn.execute(delete(DailyBar).where(DailyBar.symbol == "BABA"))
        conn.execute(delete(Symbol).where(Symbol.symbol == "SPY"))  # cascades to SPY's bars
        conn.execute(
            update(DailyBar)
            .where(DailyBar.symbol == kept_key[0], DailyBar.date == kept_key[1])
            .values(adj_close=-1.0, source="upload")
        )
    missing = set(csv_closes()) - set(stored_closes(db_url))

    report = load_bundled(db_url)

    aapl_2000 = sum(1 for symbol, day in csv_closes() if symbol == "AAPL" and day.year == 2000)
    assert len(missing) == csv_counts()["SPY"] + csv_counts()["BABA"] + aapl_2000
    assert (report.symbols_added, report.bars_added) == (1, len(missing))
    assert report.bars_skipped == len(csv_closes()) - len(missing)
    assert stored_closes(db_url) == {**csv_closes(), kept_key: -1.0}


def test_failed_load_leaves_the_store_unchanged(db_url: str) -> None:
    symbols = pd.DataFrame({"symbol": ["NEW"], "name": ["New Co"], "gics_sector": [""], "gics_sub_industry": [""]})
    bars = pd.DataFrame(
        {"symbol": ["NEW", "UNKNOWN"], "date": [dt.date(2024, 1, 2)] * 2, "close": [1.0, 2.0], "adj_close": [1.0, 2.0]}
    ).assign(source="upload")

    with pytest.raises(IntegrityError):
        load_bars(get_engine(db_url), symbols.assign(asset_class="equity"), bars)

    with get_engine(db_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Symbol)).scalar_one() == 0


def test_empty_store_has_no_latest_date(db_url: str) -> None:
    assert latest_bar_date(get_engine(db_url)) is None
