"""The columnar price series read back exactly what daily_bar holds, stay current, and fall back to bars."""

import datetime as dt

import pandas as pd
from sqlalchemy import delete

from investment_app.db import get_engine
from investment_app.marketdata.bundled import bundled_symbols, load_bundled
from investment_app.marketdata.series import SERIES_TABLE, wide_frame
from investment_app.marketdata.store import load_bars, price_frame

SYMBOLS = ["AAPL", "META", "SPY"]


def test_series_equal_the_bars_and_follow_new_bars(db_url):
    load_bundled(db_url)
    engine = get_engine(db_url)
    for field in ("close", "adj_close"):
        expected = price_frame(engine, SYMBOLS, dt.date(2010, 1, 1), dt.date(2014, 12, 31), field=field)
        got = wide_frame(engine, SYMBOLS, dt.date(2010, 1, 1), dt.date(2014, 12, 31), field=field)
        pd.testing.assert_frame_equal(got, expected, check_freq=False)  # META's NaNs before its 2012 IPO included
    new_bar = pd.DataFrame(
        {
            "symbol": ["AAPL"],
            "date": [dt.date(2024, 12, 2)],
            "close": [239.59],
            "adj_close": [239.59],
            "source": ["test"],
        }
    )
    symbols = bundled_symbols()
    load_bars(engine, symbols[symbols["symbol"] == "AAPL"], new_bar)
    assert wide_frame(engine, ["AAPL"], field="close").iloc[-1, 0] == 239.59
    with engine.begin() as conn:
        conn.execute(delete(SERIES_TABLE).where(SERIES_TABLE.c.symbol == "SPY"))
    pd.testing.assert_frame_equal(wide_frame(engine, ["SPY"]), price_frame(engine, ["SPY"]), check_freq=False)
