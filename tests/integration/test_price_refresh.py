"""The price refresh on SQLite and PostgreSQL: from the bundled dataset, and from Alpaca through the real alpaca-py
SDK talking to a fake Alpaca server on loopback (tests/fakes/alpaca_server.py) that serves real 2018 bars.

Expected values are read here with the csv module from the bundled files and tests/resources, independently of the
pandas code under test; total returns across a dividend are worked out by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel import select as select_rows

from investment_app.db import get_engine, session_scope
from investment_app.marketdata.bundled import bundled_bars, bundled_symbols
from investment_app.marketdata.sources import AlpacaSource, BundledSource, SourceError, configured_source
from investment_app.marketdata.store import load_bars
from investment_app.models.job import JobRun
from investment_app.models.market import DailyBar, PriceSeries
from investment_app.services.price_refresh import Split, last_settled_session, refresh
from investment_app.settings import get_settings
from jobs import execute
from tests.fakes.alpaca_server import API_KEY, SECRET_KEY, FakeAlpaca, alpaca_server_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_CSVS = [
    ROOT / "investment_app" / "sample_data" / name
    for name in ("pypfopt_stock_prices_1990_2024.csv", "pypfopt_spy_prices_1993_2024.csv")
]
RESOURCE = ROOT / "tests" / "resources" / "ohlcv_spy_gspc_2018.csv"
D = dt.date.fromisoformat
CUT = D("2018-06-29")
END = D("2018-12-31")
OHLCV = ("open", "high", "low", "close", "volume")


def bundled_csv() -> dict[tuple[str, dt.date], float]:
    """Every non-empty close of the bundled files by (symbol, date)."""
    closes = {}
    for path in BUNDLED_CSVS:
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                day = D(row.pop("date"))
                closes.update({(symbol, day): float(value) for symbol, value in row.items() if value})
    return closes


def resource_csv() -> dict[tuple[str, dt.date], tuple[float, ...]]:
    """The 2018 OHLCV resource by (symbol, date)."""
    with open(RESOURCE, newline="") as handle:
        return {(r["symbol"], D(r["date"])): tuple(float(r[name]) for name in OHLCV) for r in csv.DictReader(handle)}


def stored(url: str) -> pd.DataFrame:
    """Every stored bar, indexed by (symbol, date)."""
    with get_engine(url).connect() as conn:
        frame = pd.read_sql(select(DailyBar.__table__), conn)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame.set_index(["symbol", "date"]).sort_index()


def series_counts(url: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return dict(conn.execute(select(PriceSeries.symbol, PriceSeries.count)).all())


# --- bundled source --------------------------------------------------------------------------------------------


def test_the_bundled_source_brings_exactly_the_bundled_bars_missing_after_a_cut(db_url: str) -> None:
    bars = bundled_bars()
    dates = pd.to_datetime(bars["date"])
    # SPY is cut half a year earlier than the stocks: two fetches, one per stored last date.
    kept = dates <= pd.Timestamp("2022-12-30")
    kept &= (bars["symbol"] != "SPY") | (dates <= pd.Timestamp("2022-06-30"))
    load_bars(get_engine(db_url), bundled_symbols(), bars[kept])

    report = refresh(db_url, BundledSource(), today=D("2024-12-31"))

    expected = bundled_csv()
    missing = {key for key in expected if key[1] > (D("2022-06-30") if key[0] == "SPY" else D("2022-12-30"))}
    added: dict[str, int] = {}
    for symbol, _day in missing:
        added[symbol] = added.get(symbol, 0) + 1
    assert report.source == "bundled" and report.rejected == () and report.splits == ()
    assert report.bars_added == {symbol: added.get(symbol, 0) for symbol in sorted(report.symbols)}
    assert report.total_added == len(missing) == sum(added.values())
    assert report.new_dates == tuple(sorted({day for _symbol, day in missing}))
    store = stored(db_url)
    assert dict(zip(store.index, store["close"], strict=True)) == expected
    assert (store["adj_close"] == store["close"]).all()
    assert set(store.loc[sorted(missing), "source"]) == {"bundled"}
    assert series_counts(db_url) == store.groupby(level="symbol").size().to_dict()

    again = refresh(db_url, BundledSource(), today=D("2024-12-31"))
    assert (again.total_added, again.new_dates, again.rejected) == (0, (), ())


def test_only_the_given_symbols_are_refreshed_and_an_unknown_one_is_refused(db_url: str) -> None:
    bars = bundled_bars()
    load_bars(get_engine(db_url), bundled_symbols(), bars[pd.to_datetime(bars["date"]) <= pd.Timestamp("2024-10-31")])
    before = len(stored(db_url))

    with pytest.raises(ValueError, match=r"unknown symbol\(s\) NOPE: add them to the price store first"):
        refresh(db_url, BundledSource(), today=D("2024-12-31"), symbols=["AAPL", "NOPE"])
    assert len(stored(db_url)) == before

    report = refresh(db_url, BundledSource(), today=D("2024-12-31"), symbols=["AAPL"])
    # AAPL has a close on each of the 20 trading days of 2024-11-01 .. 2024-11-29 in the bundled file.
    assert report.symbols == ("AAPL",) and report.bars_added == {"AAPL": 20}
    assert len(stored(db_url)) == before + 20


# --- Alpaca through alpaca-py and the fake server ----------------------------------------------------------------


def seed_first_half(url: str) -> None:
    """SPY and ^GSPC with their real bars up to CUT (adj_close = close)."""
    symbols = pd.DataFrame(
        {
            "symbol": ["SPY", "^GSPC"],
            "name": ["SPDR S&P 500 ETF Trust", "S&P 500 index"],
            "gics_sector": ["", ""],
            "gics_sub_industry": ["", ""],
            "asset_class": ["etf", "index"],
        }
    )
    rows = [(s, d, *values) for (s, d), values in resource_csv().items() if d <= CUT]
    bars = pd.DataFrame(rows, columns=["symbol", "date", *OHLCV])
    bars = bars.assign(adj_close=bars["close"], volume=bars["volume"].astype("int64"), source="seed")
    load_bars(get_engine(url), symbols, bars)


def alpaca(fake: FakeAlpaca, secret: str = SECRET_KEY) -> AlpacaSource:
    return AlpacaSource(API_KEY, secret, url=fake.url, retry_wait_seconds=0)


def new_keys(symbol: str | None = None) -> list[tuple[str, dt.date]]:
    return sorted(key for key in resource_csv() if key[1] > CUT and symbol in (None, key[0]))


def test_alpaca_bars_arrive_page_by_page_and_match_the_real_prices(db_url: str, alpaca_server: FakeAlpaca) -> None:
    seed_first_half(db_url)

    report = refresh(db_url, alpaca(alpaca_server), today=END)

    assert report.source == "alpaca" and report.rejected == () and report.splits == ()
    assert report.bars_added == {"SPY": 126, "^GSPC": 126}
    assert report.new_dates == tuple(day for symbol, day in new_keys("SPY"))
    store = stored(db_url)
    expected = resource_csv()
    new = store.loc[new_keys()]
    assert {key: tuple(row) for key, row in zip(new.index, new[list(OHLCV)].itertuples(index=False), strict=True)} == {
        key: expected[key] for key in new_keys()
    }
    # No corporate actions: adj_close is the close, up to the fake's 4-decimal rounding of adjusted prices: at
    # most 5e-5 / 2300 ≈ 2.2e-8 relative on ^GSPC, once on the anchor (the chain factor) and once on the bar.
    assert new["adj_close"].to_numpy() == pytest.approx(new["close"].to_numpy(), rel=5e-8)
    assert set(new["source"]) == {"alpaca"}
    assert series_counts(db_url) == {"SPY": 251, "^GSPC": 251}

    # Three adjustments (raw, split, all), each fetched from 10 days before the cut (for split ratios) in pages of
    # 40 of the 2 × 135 bars from 2018-06-19 to 2018-12-31: 7 pages each, the SDK following next_page_token.
    requests = alpaca_server.bar_requests()
    assert [r.query["adjustment"] for r in requests] == ["raw"] * 7 + ["split"] * 7 + ["all"] * 7
    assert [("page_token" in r.query) for r in requests[:7]] == [False] + [True] * 6
    assert {(r.query["symbols"], r.query["timeframe"], r.query["start"]) for r in requests} == {
        ("SPY,^GSPC", "1Day", "2018-06-19T04:00:00+00:00")
    }
    assert {r.headers["apca-api-key-id"] for r in requests} == {API_KEY}


def test_doctored_bars_from_alpaca_are_reported_and_only_the_good_ones_stored(
    db_url: str, alpaca_server: FakeAlpaca
) -> None:
    seed_first_half(db_url)
    alpaca_server.set_bar("SPY", D("2018-08-01"), high=279.0)  # real: high 282.13, low 280.13
    alpaca_server.add_bar("SPY", D("2018-09-14"), close=290.5)  # a second, different 2018-09-14 bar
    jump = 2785.679932 * 1.6  # ^GSPC 2018-10-10 at 1.6 × its real close, after 2880.340088 on 2018-10-09
    alpaca_server.set_bar("^GSPC", D("2018-10-10"), close=jump, high=jump)

    report = refresh(db_url, alpaca(alpaca_server), today=END)

    assert [bar.message for bar in report.rejected] == [
        "SPY 2018-08-01: high 279.0 is below low 280.13",
        "SPY 2018-09-14: date appears 2 times in the batch",
        "SPY 2018-09-14: date appears 2 times in the batch",
        f"^GSPC 2018-10-10: close {jump} is a +54.7 % move from the previous close 2880.340088 (limit ±50 %, no split)",
    ]
    assert report.bars_added == {"SPY": 124, "^GSPC": 125}
    store = stored(db_url)
    rejected = {("SPY", D("2018-08-01")), ("SPY", D("2018-09-14")), ("^GSPC", D("2018-10-10"))}
    assert rejected.isdisjoint(store.index)
    assert set(store.index) == {key for key in resource_csv() if key not in rejected}
    # The bar after the 10-10 jump (2728.370117) was judged against 10-09's close and stored as served.
    assert store.loc[("^GSPC", D("2018-10-11")), "close"] == 2728.370117


def test_a_split_declared_by_alpaca_explains_the_drop_and_keeps_total_returns(
    db_url: str, alpaca_server: FakeAlpaca
) -> None:
    seed_first_half(db_url)
    alpaca_server.split("SPY", D("2018-09-04"), 4)  # as if SPY had split 4-for-1 that day

    report = refresh(db_url, alpaca(alpaca_server), today=END)

    assert report.rejected == () and report.bars_added == {"SPY": 126, "^GSPC": 126}
    assert report.splits == (Split("SPY", D("2018-09-04"), 4.0),)
    spy = stored(db_url).loc["SPY"]
    real = {day: values[3] for (symbol, day), values in resource_csv().items() if symbol == "SPY"}
    # close is the price as traded: a quarter of the real one from the split on.
    assert spy.loc[D("2018-08-31"), "close"] == 290.31 and spy.loc[D("2018-09-04"), "close"] == 72.4525
    # adj_close is chained onto the stored series, so the split leaves no trace in it: it equals the real
    # (unsplit) closes, to the 4-decimal rounding of the served split-adjusted prices.
    after = [day for day in spy.index if day > CUT]
    assert spy.loc[after, "adj_close"].to_numpy() == pytest.approx([real[day] for day in after], rel=1e-6)


def test_an_undeclared_split_rejects_every_bar_from_it(db_url: str, alpaca_server: FakeAlpaca) -> None:
    seed_first_half(db_url)
    alpaca_server.split("SPY", D("2018-09-04"), 4)
    alpaca_server.splits.clear()  # raw prices drop 75 % but Alpaca's split-adjusted prices say nothing

    report = refresh(db_url, alpaca(alpaca_server), today=END)

    # 2018-09-04 .. 2018-12-31 are 82 trading days, each about 25 % of 290.31 (08-31, the last accepted close).
    assert len(report.rejected) == 82 and {bar.symbol for bar in report.rejected} == {"SPY"}
    assert report.rejected[0].message.startswith("SPY 2018-09-04: close 72.4525 is a -75.0 % move")
    assert report.bars_added == {"SPY": 126 - 82, "^GSPC": 126}


def test_a_dividend_is_a_total_return_in_adj_close(db_url: str, alpaca_server: FakeAlpaca) -> None:
    seed_first_half(db_url)
    alpaca_server.dividend("SPY", D("2018-09-21"), 1.3)  # a cash dividend declared in the fake

    refresh(db_url, alpaca(alpaca_server), today=END)

    spy = stored(db_url).loc["SPY"]
    adj, close = spy["adj_close"], spy["close"]
    # Ex-date total return: close(09-21) / (close(09-20) − dividend) − 1 = 291.99 / (293.58 − 1.3) − 1.
    assert adj[D("2018-09-21")] / adj[D("2018-09-20")] - 1 == pytest.approx(291.99 / (293.58 - 1.3) - 1, abs=1e-6)
    # Every other day's total return is the price return, including the first new day against the stored bar.
    days = list(spy.index)
    for previous, day in zip(days[days.index(CUT) :], days[days.index(CUT) + 1 :], strict=False):
        if day != D("2018-09-21"):
            assert adj[day] / adj[previous] == pytest.approx(close[day] / close[previous], rel=1e-6), day
    assert (close.loc[[d for d in days if d > CUT]] == [resource_csv()[("SPY", d)][3] for d in days if d > CUT]).all()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("wrong secret", "Alpaca data API answered HTTP 401: request is not authorized"),
        ((429, 10, 0), "Alpaca data API answered HTTP 429: rate limit exceeded"),
        ((500, 1, 0), "Alpaca data API answered HTTP 500: internal server error occurred"),
        ((500, 1, 9), "Alpaca data API answered HTTP 500: internal server error occurred"),  # while paging
    ],
)
def test_http_errors_are_clear_and_nothing_is_written(
    db_url: str, alpaca_server: FakeAlpaca, fault: object, message: str
) -> None:
    seed_first_half(db_url)
    before, series_before = stored(db_url), series_counts(db_url)
    source = alpaca(alpaca_server, secret="wrong-secret-123") if fault == "wrong secret" else alpaca(alpaca_server)
    if fault != "wrong secret":
        status, times, after = fault
        alpaca_server.fail(status, times=times, after=after)

    with pytest.raises(SourceError) as failure:
        refresh(db_url, source, today=END)

    assert str(failure.value) == message
    assert API_KEY not in str(failure.value) and SECRET_KEY not in str(failure.value)
    pd.testing.assert_frame_equal(stored(db_url), before)
    assert series_counts(db_url) == series_before


def test_a_passing_rate_limit_is_retried_by_the_sdk(db_url: str, alpaca_server: FakeAlpaca) -> None:
    seed_first_half(db_url)
    alpaca_server.fail(429, times=2, after=3)

    report = refresh(db_url, alpaca(alpaca_server), today=END)

    assert report.total_added == 252 and len(alpaca_server.bar_requests()) == 21 + 2


# --- configuration ---------------------------------------------------------------------------------------------


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set environment variables and re-read the settings; undone after the test."""

    def apply(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_configured_source_is_alpaca_only_with_both_keys(configure: Callable[..., None]) -> None:
    configure(ALPACA_API_KEY="", ALPACA_SECRET_KEY="")
    assert isinstance(configured_source(get_settings()), BundledSource)
    configure(ALPACA_API_KEY=API_KEY)
    assert isinstance(configured_source(get_settings()), BundledSource)
    configure(ALPACA_SECRET_KEY=SECRET_KEY, ALPACA_DATA_URL="http://127.0.0.1:9")
    source = configured_source(get_settings())
    assert isinstance(source, AlpacaSource) and source.name == "alpaca"


def test_the_last_settled_session_is_today_from_18h_new_york() -> None:
    # 2024-03-05 17:59 in New York (EST, UTC−5) is 22:59 UTC; 18:00 is 23:00 UTC.
    assert last_settled_session(dt.datetime(2024, 3, 5, 22, 59, tzinfo=dt.UTC)) == D("2024-03-04")
    assert last_settled_session(dt.datetime(2024, 3, 5, 23, 0, tzinfo=dt.UTC)) == D("2024-03-05")
    # 2024-07-01 02:00 UTC is 22:00 on 2024-06-30 in New York (EDT, UTC−4).
    assert last_settled_session(dt.datetime(2024, 7, 1, 2, 0, tzinfo=dt.UTC)) == D("2024-06-30")


# --- the job ---------------------------------------------------------------------------------------------------


PRICE_REFRESH_JOB_ID = "price_refresh"


def runs(url: str) -> list[JobRun]:
    with session_scope(url) as db:
        query = select_rows(JobRun).where(JobRun.job_id == PRICE_REFRESH_JOB_ID).order_by(col(JobRun.id))
        return list(db.exec(query).all())


def test_the_job_records_the_bars_added_and_logs_each_rejected_bar(
    db_url: str, alpaca_server: FakeAlpaca, configure: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    seed_first_half(db_url)
    configure(ALPACA_API_KEY=API_KEY, ALPACA_SECRET_KEY=SECRET_KEY, ALPACA_DATA_URL=alpaca_server.url)
    alpaca_server.set_bar("SPY", D("2018-08-01"), high=279.0)

    with caplog.at_level(logging.WARNING, logger="jobs.prices"):
        execute.run_job(PRICE_REFRESH_JOB_ID, url=db_url)

    [run] = runs(db_url)
    assert (run.status, run.items, run.error) == ("ok", 251, None)
    assert [r.getMessage() for r in caplog.records if r.name == "jobs.prices"] == [
        "price bar rejected: SPY 2018-08-01: high 279.0 is below low 280.13"
    ]
    with get_engine(db_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(DailyBar.__table__)).scalar_one() == 251 + 250


def test_a_failing_job_run_is_recorded_failed_without_the_keys(
    db_url: str, alpaca_server: FakeAlpaca, configure: Callable[..., None]
) -> None:
    seed_first_half(db_url)
    configure(ALPACA_API_KEY=API_KEY, ALPACA_SECRET_KEY="not-the-secret-42", ALPACA_DATA_URL=alpaca_server.url)
    before = stored(db_url)

    execute.run_job(PRICE_REFRESH_JOB_ID, url=db_url)

    [run] = runs(db_url)
    assert run.status == "failed" and run.items == 0
    assert run.error == "SourceError: Alpaca data API answered HTTP 401: request is not authorized"
    assert "not-the-secret-42" not in run.error and API_KEY not in run.error
    pd.testing.assert_frame_equal(stored(db_url), before)
