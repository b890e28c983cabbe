"""The paper broker on real prices, on SQLite and PostgreSQL.

- Bundled closes (investment_app/sample_data): a market order fills at the last close × (1 + 5 bp), read
  straight from the CSV; commission worked out by hand; the account and positions are the ledger's.
- Real 2018 SPY OHLCV bars (tests/resources/ohlcv_spy_gspc_2018.csv): an order is placed "as of" a day by
  storing the bars up to it, then the next bars are stored and ``match_open_orders`` runs; fill days and prices
  are worked out by hand from the CSV rows (the rules are in broker/paper.py's docstring).
- Partial fills (10 % of each day's real volume), day orders expiring, idempotency, cancel, and bad orders
  that write nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from investment_app.broker.base import BrokerError, OrderRequest
from investment_app.broker.paper import PaperBroker, PaperConfig
from investment_app.db import get_engine
from investment_app.marketdata.bundled import SPY_PRICES_CSV, STOCK_PRICES_CSV
from investment_app.marketdata.store import load_bars
from investment_app.models.market import Symbol
from investment_app.models.portfolio import Account
from investment_app.models.trading import BrokerFill, BrokerOrder
from investment_app.models.user import Role
from investment_app.services import accounts, portfolios
from tests.two_stocks import CASH, PASSWORD, QUANTITY, two_stocks

SPY_OHLCV = Path(__file__).resolve().parent.parent / "resources" / "ohlcv_spy_gspc_2018.csv"
FIRST = dt.date(2018, 1, 2)
END = dt.date(2018, 2, 28)
SPY_NAME = "SPDR S&P 500 ETF Trust"
BUY, SELL = D("1.0005"), D("0.9995")


@pytest.fixture(scope="module")
def spy() -> pd.DataFrame:
    """SPY's 2018 bars from the CSV, indexed by date."""
    frame = pd.read_csv(SPY_OHLCV)
    frame = frame[frame["symbol"] == "SPY"].assign(date=lambda f: pd.to_datetime(f["date"]).dt.date)
    return frame.set_index("date")


def store(url: str, spy: pd.DataFrame, last: dt.date) -> None:
    """Store SPY's bars from FIRST to ``last`` (those already stored are kept)."""
    bars = spy.loc[FIRST:last].reset_index().assign(adj_close=lambda f: f["close"], source="test")
    symbol = pd.DataFrame(
        [{"symbol": "SPY", "name": SPY_NAME, "gics_sector": "", "gics_sub_industry": "", "asset_class": "etf"}]
    )
    load_bars(get_engine(url), symbol, bars)


def account_of(db: Session, portfolio_id: int) -> int:
    return db.exec(select(Account.id).where(Account.portfolio_id == portfolio_id)).one()


@contextmanager
def paper_account(url: str) -> Iterator[tuple[Session, PaperBroker]]:
    """A new owner's empty portfolio and the paper broker on its Main account (SPY known, no prices stored yet)."""
    with Session(get_engine(url), expire_on_commit=False) as db:
        db.add(Symbol(symbol="SPY", name=SPY_NAME))
        accounts.create_user(db, "trader@example.com", PASSWORD, role=Role.ANALYST)
        pid = portfolios.create(db, accounts.acting_as(db, "trader@example.com"), "Paper").id
        db.commit()
        yield db, PaperBroker(db, pid, account_of(db, pid))


@pytest.fixture
def paper(db_url: str) -> Iterator[tuple[Session, PaperBroker]]:
    with paper_account(db_url) as ready:
        yield ready


def place(url: str, spy: pd.DataFrame, db: Session, broker: PaperBroker, on: dt.date, request: OrderRequest):
    """Store the bars up to ``on``, submit, commit: the order is placed as of ``on``'s close."""
    store(url, spy, on)
    state = broker.submit(request)
    db.commit()
    return state


def gtc(key: str, side: str, kind: str, quantity: int = 100, **prices: D) -> OrderRequest:
    return OrderRequest(key, "SPY", side, quantity=D(quantity), order_type=kind, time_in_force="gtc", **prices)


def slipped(price: float, factor: D) -> D:
    """price × (1 ± 5 bp) rounded half up to 4 decimals: the documented convention, in decimal arithmetic."""
    return (D(str(price)) * factor).quantize(D("0.0001"), ROUND_HALF_UP)


def counts(db: Session) -> tuple[int, int]:
    return tuple(db.exec(select(func.count()).select_from(t)).one() for t in (BrokerOrder, BrokerFill))


def last_close(csv: Path, symbol: str) -> tuple[dt.date, float]:
    """The symbol's last non-missing close in a bundled CSV."""
    series = pd.read_csv(csv, usecols=["date", symbol]).dropna().iloc[-1]
    return dt.date.fromisoformat(series["date"]), float(series[symbol])


# --- bundled prices ---------------------------------------------------------------------------------------------


def test_market_orders_fill_at_the_last_bundled_close_with_slippage_and_commission(db_url: str) -> None:
    day, close = last_close(STOCK_PRICES_CSV, "AAPL")
    with two_stocks(db_url, other=False) as (db, _, pid):
        broker = PaperBroker(db, pid, account_of(db, pid), PaperConfig(commission_bps=10.0, commission_min=1.0))
        bought = broker.submit(OrderRequest("aapl-buy", "AAPL", "buy", quantity=D(10)))
        sold = broker.submit(OrderRequest("aapl-sell", "aapl", "sell", quantity=D(1)))
        db.commit()
        (buy,), (sell,) = broker.fills("aapl-buy"), broker.fills("aapl-sell")
    assert (bought.status, bought.filled_quantity, bought.average_price) == ("filled", D(10), buy.price)
    assert sold.status == "filled" and bought.broker_order_id.startswith("paper-")
    assert buy.trade_date == sell.trade_date == day == dt.date(2024, 11, 29)
    assert (buy.price, sell.price) == (slipped(close, BUY), slipped(close, SELL))
    # close 237.3300 → buy 237.4487: 10 × 237.4487 × 10 bp = 2.374487 → 2.37; the sell's 0.237 is below the 1.00 minimum
    assert (buy.quantity, buy.commission, sell.commission) == (D(10), D("2.37"), D("1.00"))
    assert buy.key == f"{day.isoformat()}:1"


def test_a_notional_order_buys_fractional_shares_at_the_reference_close(db_url: str) -> None:
    day, close = last_close(SPY_PRICES_CSV, "SPY")
    with two_stocks(db_url, other=False) as (db, _, pid):
        broker = PaperBroker(db, pid, account_of(db, pid))
        state = broker.submit(OrderRequest("spy-1000", "SPY", "buy", notional=D(1000)))
        db.commit()
        (fill,) = broker.fills("spy-1000")
    # quantity = 1000 / close, rounded down to 10⁻⁶ share
    expected = int(1000 / close * 1e6) / 1e6
    assert state.quantity == fill.quantity and float(fill.quantity) == pytest.approx(expected, abs=1e-9)
    assert fill.quantity != fill.quantity.to_integral_value() and fill.trade_date == day
    assert fill.price == slipped(close, BUY)


def test_account_and_positions_come_from_the_ledger_at_the_latest_closes(db_url: str) -> None:
    closes = {s: last_close(STOCK_PRICES_CSV, s)[1] for s in QUANTITY}
    with two_stocks(db_url, other=False) as (db, _, pid):
        broker = PaperBroker(db, pid, account_of(db, pid))
        broker.submit(OrderRequest("not-booked", "AAPL", "buy", quantity=D(5)))
        db.commit()
        info, held = broker.account(), broker.positions()
        clock, asset, unknown = broker.clock(), broker.asset("aapl"), broker.asset("ZZZZ")
    # 100,000 deposited − 200 × 38 − 300 × 98 = 63,000; the unbooked fill changes nothing (the ledger is the book)
    assert CASH == 63_000 and info.cash == info.buying_power == D("63000.00")
    assert [(p.symbol, p.quantity, p.average_price) for p in held] == [("AAPL", 200, D(38)), ("JPM", 300, D(98))]
    assert [float(p.market_value) for p in held] == [pytest.approx(QUANTITY[s] * closes[s], abs=0.005) for s in closes]
    assert float(info.equity) == pytest.approx(63_000 + sum(QUANTITY[s] * closes[s] for s in closes), abs=0.01)
    assert clock.is_open and asset.tradable and asset.fractionable and unknown is None


# --- later bars (SPY 2018 OHLCV) ------------------------------------------------------------------------------


LATER_BAR_CASES = [
    # (placed on, order, the condition that fills or triggers it, its first day after placement, and the price,
    # all read from the CSV rows of ``spy``)
    pytest.param(
        dt.date(2018, 2, 5),
        gtc("limit-buy", "buy", "limit", limit_price=D(262)),
        lambda s: s["low"] <= 262,
        dt.date(2018, 2, 6),
        lambda s: slipped(min(s.loc[dt.date(2018, 2, 6), "open"], 262), BUY),  # open 259.94 → 260.0700
        id="buy limit: first low ≤ L, at min(open, L) slipped",
    ),
    pytest.param(
        dt.date(2018, 2, 9),
        gtc("limit-sell", "sell", "limit", limit_price=D(275)),
        lambda s: s["high"] >= 275,
        dt.date(2018, 2, 16),
        lambda s: D(275),  # high 275.32 ≥ 275, max(open 272.32, 275) = 275; 275 × 0.9995 is floored at the limit
        id="sell limit: first high ≥ L, never below L",
    ),
    pytest.param(
        dt.date(2018, 2, 1),
        gtc("stop-sell", "sell", "stop", stop_price=D(265)),
        lambda s: s["low"] <= 265,
        dt.date(2018, 2, 5),
        lambda s: slipped(265, SELL),  # low 263.31 ≤ 265, open 273.45 → min(open, S) = 265 → 264.8675
        id="sell stop: first low ≤ S, at min(open, S) slipped",
    ),
    pytest.param(
        dt.date(2018, 2, 5),
        gtc("stop-sell-gap", "sell", "stop", stop_price=D(262)),
        lambda s: s["low"] <= 262,
        dt.date(2018, 2, 6),
        lambda s: slipped(s.loc[dt.date(2018, 2, 6), "open"], SELL),  # gaps down to 259.94 → 259.8100
        id="sell stop: a gap fills at the open",
    ),
    pytest.param(
        dt.date(2018, 2, 9),
        gtc("stop-buy", "buy", "stop", stop_price=D(275)),
        lambda s: s["high"] >= 275,
        dt.date(2018, 2, 16),
        lambda s: slipped(275, BUY),  # high 275.32 ≥ 275, open 272.32 → 275 → 275.1375
        id="buy stop: first high ≥ S, at max(open, S) slipped",
    ),
    pytest.param(
        dt.date(2018, 2, 9),
        gtc("stop-limit", "buy", "stop_limit", stop_price=D(270), limit_price=D(271)),
        lambda s: s["high"] >= 270,
        dt.date(2018, 2, 14),
        lambda s: slipped(270, BUY),  # high 270.00 ≥ 270, open 264.31 → triggered at 270 ≤ 271 → 270.135
        id="buy stop-limit: fills at the trigger when the limit allows",
    ),
]


@pytest.mark.parametrize(("placed", "request_", "condition", "day", "price"), LATER_BAR_CASES)
def test_orders_fill_on_later_bars_on_the_day_and_at_the_price_worked_out_from_the_csv(
    db_url, paper, spy, placed, request_, condition, day, price
) -> None:
    later = spy.loc[placed + dt.timedelta(days=1) : END]
    assert later.index[condition(later)][0] == day
    db, broker = paper
    state = place(db_url, spy, db, broker, placed, request_)
    assert (state.status, state.filled_quantity) == ("new", 0)  # not marketable at the placement close
    store(db_url, spy, END)
    new = broker.match_open_orders()
    db.commit()
    assert [(f.trade_date, f.quantity) for f in new] == [(day, D(100))]
    assert new[0].price == price(spy)
    assert broker.fills(request_.client_order_id) == new
    done = broker.order(request_.client_order_id)
    assert (done.status, done.filled_quantity, done.average_price) == ("filled", D(100), new[0].price)
    assert broker.match_open_orders() == []  # a second run finds nothing new


def test_a_stop_limit_gapping_past_its_limit_rests_as_a_limit_order_across_runs(db_url, paper, spy) -> None:
    db, broker = paper
    request = gtc("gap", "buy", "stop_limit", stop_price=D("270.5"), limit_price=D(271))
    place(db_url, spy, db, broker, dt.date(2018, 2, 9), request)
    # 2018-02-15: high 273.04 ≥ 270.5 triggers, but it opened at 271.57 > 271: no fill on the trigger bar;
    # 2018-02-16: low 272.27 > 271
    assert spy.loc[dt.date(2018, 2, 15), "open"] > 271 and spy.loc[dt.date(2018, 2, 16), "low"] > 271
    store(db_url, spy, dt.date(2018, 2, 16))
    assert broker.match_open_orders() == [] and broker.order("gap").status == "new"
    db.commit()
    # 2018-02-20: low 270.50 ≤ 271 as a limit buy, at min(open 272.03, 271) = 271 (271 × 1.0005 capped at 271)
    store(db_url, spy, END)
    (fill,) = broker.match_open_orders()
    db.commit()
    assert (fill.trade_date, fill.price) == (dt.date(2018, 2, 20), D(271))


def test_a_gtc_order_larger_than_a_tenth_of_volume_fills_over_several_days(db_url, paper, spy) -> None:
    db, broker = paper
    placed = dt.date(2018, 1, 31)
    state = place(db_url, spy, db, broker, placed, gtc("big", "buy", "market", quantity=25_000_000))
    assert state.status == "partially_filled"
    store(db_url, spy, END)
    first = broker.match_open_orders(through=dt.date(2018, 2, 1))
    rest = broker.match_open_orders()
    db.commit()
    fills = broker.fills("big")
    assert fills[1:] == first + rest and len(first) == 1
    # each day fills min(remaining, ⌊10 % of its real volume⌋): 11,894,813 + 9,010,247 + the last 4,094,940
    expected, left = [], 25_000_000
    for day, volume in spy.loc[placed:END, "volume"].items():
        take = min(left, volume // 10)
        expected.append((day, D(int(take))))
        left -= take
        if not left:
            break
    assert [(f.trade_date, f.quantity) for f in fills] == expected
    assert [q for _, q in expected] == [D(11_894_813), D(9_010_247), D(4_094_940)]
    # the placement day at its close (281.90 × 1.0005 = 282.04095 → 282.0410), then each later day at its open
    opens = [spy.loc[placed, "close"], *spy.loc[[f.trade_date for f in fills[1:]], "open"]]
    assert [f.price for f in fills] == [slipped(p, BUY) for p in opens]
    assert fills[0].price == D("282.0410")
    assert [f.key for f in fills] == ["2018-01-31:1", "2018-02-01:2", "2018-02-02:3"]
    done = broker.order("big")
    average = sum(f.quantity * f.price for f in fills) / 25_000_000
    assert (done.status, done.filled_quantity) == ("filled", D(25_000_000))
    assert abs(done.average_price - average) <= D("0.0000005")


def test_a_day_order_expires_with_what_its_placement_bar_did_not_fill(db_url, paper, spy) -> None:
    db, broker = paper
    placed = dt.date(2018, 1, 31)
    big = OrderRequest("day-big", "SPY", "buy", quantity=D(25_000_000))
    state = place(db_url, spy, db, broker, placed, big)
    far = broker.submit(OrderRequest("day-far", "SPY", "buy", quantity=D(5), order_type="limit", limit_price=D(200)))
    db.commit()
    # 10 % of 118,948,131 shares traded on 2018-01-31 = 11,894,813 fill; the rest expires
    assert (state.status, state.filled_quantity) == ("expired", D(11_894_813))
    assert "13105187 not filled on 2018-01-31" in state.message
    assert (far.status, far.filled_quantity, broker.fills("day-far")) == ("expired", 0, [])
    store(db_url, spy, END)
    assert broker.match_open_orders() == [] and len(broker.fills("day-big")) == 1


# --- idempotency, cancel, bad orders ----------------------------------------------------------------------------


def test_the_same_client_order_id_places_one_order_and_one_set_of_fills(db_url, paper, spy) -> None:
    db, broker = paper
    request = OrderRequest("once", "SPY", "buy", quantity=D(7))
    first = place(db_url, spy, db, broker, dt.date(2018, 1, 31), request)
    again = broker.submit(request)
    db.commit()
    assert first == again and first.status == "filled"
    assert counts(db) == (1, 1) and len(broker.fills("once")) == 1


def test_a_pending_row_written_before_sending_becomes_the_order(db_url, paper, spy) -> None:
    db, broker = paper
    store(db_url, spy, dt.date(2018, 1, 31))
    row = BrokerOrder(
        portfolio_id=broker.portfolio_id,
        account_id=broker.account_id,
        client_order_id="p1-0",
        symbol="SPY",
        side="buy",
        quantity=D(3),
    )
    db.add(row)
    db.commit()
    assert broker.order("p1-0") is None and broker.orders() == []  # the broker never received it
    state = broker.submit(OrderRequest("p1-0", "SPY", "buy", quantity=D(3)))
    db.commit()
    assert counts(db) == (1, 1)
    assert (state.broker_order_id, state.status, row.placed_on) == (f"paper-{row.id}", "filled", dt.date(2018, 1, 31))


def test_cancel_closes_an_open_order_and_later_bars_leave_it_alone(db_url, paper, spy) -> None:
    db, broker = paper
    place(db_url, spy, db, broker, dt.date(2018, 1, 31), gtc("resting", "buy", "limit", limit_price=D(262)))
    assert [o.client_order_id for o in broker.orders(open_only=True)] == ["resting"]
    canceled = broker.cancel("resting")
    db.commit()
    assert canceled.status == "canceled" and broker.orders(open_only=True) == []
    store(db_url, spy, END)  # 2018-02-06's low 258.70 would have filled it
    assert broker.match_open_orders() == [] and broker.fills("resting") == []
    again = broker.cancel("resting")
    assert again.status == "canceled" and "already canceled" in again.message
    with pytest.raises(BrokerError) as unknown:
        broker.cancel("never-sent")
    assert unknown.value.code == "not_found"


BAD_ORDERS = [
    (
        OrderRequest("t", "SPY", "buy", quantity=D(1), order_type="trailing_stop", trail_percent=D(2)),
        "does not support trailing_stop orders",
    ),
    (
        OrderRequest("b", "SPY", "buy", quantity=D(1), order_class="bracket", take_profit=D(300)),
        "does not support bracket orders",
    ),
    (
        OrderRequest("o", "SPY", "sell", quantity=D(1), order_class="oco", stop_loss=D(250)),
        "does not support oco orders",
    ),
    (OrderRequest("u", "ZZZZ", "buy", quantity=D(1)), "ZZZZ has no stored prices"),
    (OrderRequest("z", "SPY", "buy", quantity=D(0)), "quantity must be a finite number above 0"),
    (OrderRequest("n", "SPY", "buy", notional=D(-5)), "notional must be a finite number above 0"),
    (OrderRequest("2", "SPY", "buy", quantity=D(1), notional=D(100)), "not both"),
    (OrderRequest("l", "SPY", "buy", quantity=D(1), order_type="limit"), "needs limit_price"),
    (OrderRequest("f", "SPY", "buy", quantity=D("0.0000001")), "more than 6 decimals"),
    (OrderRequest("s", "SPY", "short", quantity=D(1)), "side must be buy or sell"),
]


def test_bad_orders_raise_a_clear_error_and_write_nothing(db_url, paper, spy) -> None:
    db, broker = paper
    store(db_url, spy, dt.date(2018, 1, 31))
    for request, message in BAD_ORDERS:
        with pytest.raises(BrokerError, match=message) as refused:
            broker.submit(request)
        assert refused.value.code == "invalid_order" and not refused.value.retryable
    db.commit()
    assert counts(db) == (0, 0)


def test_a_key_used_by_another_portfolio_is_refused(db_url, spy) -> None:
    with paper_account(db_url) as (db, broker):
        store(db_url, spy, dt.date(2018, 1, 31))
        broker.submit(OrderRequest("shared", "SPY", "buy", quantity=D(1)))
        db.commit()
        viewer = accounts.acting_as(db, "trader@example.com")
        other = portfolios.create(db, viewer, "Other").id
        db.commit()
        with pytest.raises(BrokerError, match="already names another order"):
            PaperBroker(db, other, account_of(db, other)).submit(OrderRequest("shared", "SPY", "buy", quantity=D(1)))
        assert counts(db) == (1, 1)
