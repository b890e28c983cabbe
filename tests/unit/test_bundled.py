"""The bundled dataset read into tidy frames: complete, typed, never filled."""

from __future__ import annotations

import datetime as dt

from investment_app.marketdata.bundled import (
    BAR_COLUMNS,
    SYMBOL_COLUMNS,
    bundled_bar_count,
    bundled_bars,
    bundled_symbols,
)


def test_symbols_are_19_stocks_and_spy() -> None:
    symbols = bundled_symbols()

    assert list(symbols.columns) == SYMBOL_COLUMNS
    assert len(symbols) == 20 and symbols["symbol"].is_unique
    assert symbols.notna().all().all()
    spy = symbols.set_index("symbol").loc["SPY"]
    assert (spy["name"], spy["asset_class"], spy["gics_sector"]) == ("SPDR S&P 500 ETF Trust", "etf", "")
    stocks = symbols[symbols["symbol"] != "SPY"]
    assert (stocks["asset_class"] == "equity").all()
    assert (stocks["gics_sector"] != "").all() and (stocks["name"] != "").all()


def test_bars_are_tidy_and_complete() -> None:
    bars = bundled_bars()

    assert list(bars.columns) == BAR_COLUMNS
    assert len(bars) == bundled_bar_count()
    assert not bars.isna().any().any()
    assert {type(day) for day in bars["date"]} == {dt.date}
    assert set(bars["symbol"]) == set(bundled_symbols()["symbol"])
    assert not bars.duplicated(["symbol", "date"]).any()
    assert (bars["close"] == bars["adj_close"]).all() and (bars["source"] == "bundled").all()


def test_missing_values_are_dropped_not_filled() -> None:
    bars = bundled_bars()
    first_day = bars.groupby("symbol")["date"].min()

    assert first_day["BABA"] == dt.date(2014, 9, 19)
    assert first_day["SPY"] == dt.date(1993, 1, 29)
    assert first_day["AAPL"] == dt.date(1990, 1, 2)
