"""The Alpaca broker through the real alpaca-py SDK against the fake Alpaca trading API on loopback
(tests/fakes/alpaca_trading.py). Expected wire bodies are Alpaca's documented order JSON written out by hand;
money is worked out by hand from the fake's price, SPY's real close on 2018-12-31 (249.92, from
tests/resources/ohlcv_spy_gspc_2018.csv), and its starting cash of 100,000.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from investment_app.broker.alpaca import AlpacaBroker
from investment_app.broker.base import BrokerError, Fill, OrderRequest, Position
from tests.fakes.alpaca_server import API_KEY, SECRET_KEY
from tests.fakes.alpaca_trading import FakeTrading, alpaca_trading_fixture  # noqa: F401

SPY_CLOSE = D("249.92")
BY_CLIENT_ID = ("GET", "/v2/orders:by_client_order_id")
POST = ("POST", "/v2/orders")


def broker(fake: FakeTrading, secret: str = SECRET_KEY, timeout: float = 2.0) -> AlpacaBroker:
    return AlpacaBroker(API_KEY, secret, url_override=fake.server.url, timeout=timeout, backoff=0.01)


def calls(fake: FakeTrading) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.server.requests]


def buy(cid: str, quantity: str = "10", **fields: object) -> OrderRequest:
    return OrderRequest(cid, "SPY", "buy", quantity=D(quantity), **fields)


BASE = {"symbol": "SPY", "side": "buy", "time_in_force": "day"}
SHAPES = [  # (request, the JSON alpaca-py must send, status the fake gives it, legs)
    (buy("m-1"), {**BASE, "qty": 10.0, "type": "market", "client_order_id": "m-1"}, "filled", 0),
    (
        OrderRequest("n-1", "SPY", "buy", notional=D("1000")),
        {**BASE, "notional": 1000.0, "type": "market", "client_order_id": "n-1"},
        "filled",
        0,
    ),
    (buy("f-1", "0.5"), {**BASE, "qty": 0.5, "type": "market", "client_order_id": "f-1"}, "filled", 0),
    (
        buy("l-1", "3", order_type="limit", time_in_force="gtc", limit_price=D("240.50")),
        {**BASE, "qty": 3.0, "type": "limit", "time_in_force": "gtc", "limit_price": 240.5, "client_order_id": "l-1"},
        "new",
        0,
    ),
    (
        buy("s-1", "2", order_type="stop", stop_price=D("260")),
        {**BASE, "qty": 2.0, "type": "stop", "stop_price": 260.0, "client_order_id": "s-1"},
        "new",
        0,
    ),
    (
        buy("sl-1", "2", order_type="stop_limit", stop_price=D("260"), limit_price=D("261")),
        {
            **BASE,
            "qty": 2.0,
            "type": "stop_limit",
            "stop_price": 260.0,
            "limit_price": 261.0,
            "client_order_id": "sl-1",
        },
        "new",
        0,
    ),
    (
        OrderRequest("t-1", "SPY", "sell", quantity=D(4), order_type="trailing_stop", trail_percent=D("5")),
        {**BASE, "side": "sell", "qty": 4.0, "type": "trailing_stop", "trail_percent": 5.0, "client_order_id": "t-1"},
        "new",
        0,
    ),
    (
        buy("b-1", "5", order_class="bracket", take_profit=D("270"), stop_loss=D("230")),
        {
            **BASE,
            "qty": 5.0,
            "type": "market",
            "order_class": "bracket",
            "take_profit": {"limit_price": 270.0},
            "stop_loss": {"stop_price": 230.0},
            "client_order_id": "b-1",
        },
        "filled",
        2,
    ),
    (
        OrderRequest(
            "o-1",
            "SPY",
            "sell",
            quantity=D(10),
            order_type="limit",
            order_class="oco",
            take_profit=D(270),
            stop_loss=D(230),
        ),
        {
            **BASE,
            "side": "sell",
            "qty": 10.0,
            "type": "limit",
            "order_class": "oco",
            "take_profit": {"limit_price": 270.0},
            "stop_loss": {"stop_price": 230.0},
            "client_order_id": "o-1",
        },
        "new",
        1,
    ),
]


@pytest.mark.parametrize(("request_", "wire", "status", "legs"), SHAPES, ids=[s[0].client_order_id for s in SHAPES])
def test_every_order_type_and_class_goes_out_in_alpacas_shape(
    alpaca_trading: FakeTrading, request_: OrderRequest, wire: dict, status: str, legs: int
) -> None:
    alpaca_trading.hold("SPY", D(10), D(240))  # something to sell for the trailing stop and the OCO exit
    alpaca = broker(alpaca_trading)

    placed = alpaca.submit(request_)

    assert alpaca_trading.order_posts()[-1].body == wire
    assert (placed.client_order_id, placed.status, len(placed.legs)) == (request_.client_order_id, status, legs)
    assert alpaca.order(request_.client_order_id) == placed
    assert len(alpaca_trading.orders) == 1


def test_a_market_buy_moves_cash_position_and_equity_by_hand_figures(alpaca_trading: FakeTrading) -> None:
    alpaca = broker(alpaca_trading)

    placed = alpaca.submit(buy("m-1"))

    assert (placed.filled_quantity, placed.average_price) == (D(10), SPY_CLOSE)
    assert alpaca.positions() == [Position("SPY", D(10), SPY_CLOSE, D("2499.20"))]  # 10 × 249.92
    account = alpaca.account()
    assert (account.cash, account.buying_power, account.equity) == (D("97500.80"), D("97500.80"), D("100000"))
    alpaca_trading.prices["SPY"] = D("260")
    assert alpaca.positions()[0].market_value == D("2600")
    assert alpaca.account().equity == D("100100.80")  # 97,500.80 + 10 × 260


def test_partial_fills_come_back_as_one_cumulative_fill(alpaca_trading: FakeTrading) -> None:
    alpaca = broker(alpaca_trading)
    resting = alpaca.submit(buy("p-1", order_type="limit", limit_price=D("240")))  # below 249.92: rests
    assert (resting.status, alpaca.fills("p-1")) == ("new", [])
    assert alpaca.account().buying_power == D("97600")  # 100,000 − 10 × 240 reserved

    first = alpaca_trading.execute("p-1", D(4), D("239.50"))
    new_york_day = first.updated_at.astimezone(ZoneInfo("America/New_York")).date()
    assert alpaca.order("p-1").status == "partially_filled"
    assert alpaca.fills("p-1") == [Fill("p-1", "cumulative", "SPY", "buy", D(4), D("239.50"), D(0), new_york_day)]

    alpaca_trading.execute("p-1", D(6), D("240"))
    (fill,) = alpaca.fills("p-1")
    assert (fill.key, fill.quantity, fill.price) == ("cumulative", D(10), D("239.80"))  # (4×239.5 + 6×240) / 10
    assert alpaca.order("p-1").status == "filled"


def test_a_bracket_exit_fills_and_cancels_its_sibling(alpaca_trading: FakeTrading) -> None:
    alpaca = broker(alpaca_trading)
    entry = alpaca.submit(buy("b-1", "5", order_class="bracket", take_profit=D(270), stop_loss=D(230)))
    assert [leg.status for leg in entry.legs] == ["new", "held"]  # take-profit armed, stop-loss held

    alpaca_trading.execute("b-1", D(5), D(270), leg=0)

    after = alpaca.order("b-1")
    assert [(leg.side, leg.status) for leg in after.legs] == [("sell", "filled"), ("sell", "canceled")]
    fills = alpaca.fills("b-1")
    assert [(f.key, f.side, f.quantity, f.price) for f in fills] == [
        ("cumulative", "buy", D(5), SPY_CLOSE),
        (f"cumulative:{after.legs[0].broker_order_id}", "sell", D(5), D(270)),
    ]
    assert alpaca.positions() == []
    assert alpaca.account().cash == D("100100.40")  # 100,000 − 5 × 249.92 + 5 × 270


def test_orders_wait_as_accepted_while_the_market_is_closed(alpaca_trading: FakeTrading) -> None:
    alpaca_trading.market_open = False
    alpaca = broker(alpaca_trading)

    placed = alpaca.submit(buy("c-1"))

    assert (placed.status, placed.filled_quantity, alpaca.fills("c-1"), alpaca.positions()) == ("accepted", 0, [], [])


def test_the_clock_and_assets_are_read_as_the_fake_holds_them(alpaca_trading: FakeTrading) -> None:
    alpaca_trading.market_open = False
    alpaca_trading.next_open = dt.datetime(2019, 1, 2, 14, 30, tzinfo=dt.UTC)  # sent as 09:30-05:00
    alpaca_trading.next_close = dt.datetime(2019, 1, 2, 21, 0, tzinfo=dt.UTC)
    alpaca_trading.add_asset("BRK.A", D("326000"), exchange="NYSE", fractionable=False, shortable=True)
    alpaca = broker(alpaca_trading)

    clock = alpaca.clock()
    asset = alpaca.asset("BRK.A")

    assert (clock.is_open, clock.next_open, clock.next_close) == (
        False,
        dt.datetime(2019, 1, 2, 14, 30, tzinfo=dt.UTC),
        dt.datetime(2019, 1, 2, 21, 0, tzinfo=dt.UTC),
    )
    assert (asset.symbol, asset.tradable, asset.fractionable, asset.shortable) == ("BRK.A", True, False, True)
    assert asset.extra["exchange"] == "NYSE"
    assert alpaca.asset("NOPE") is None


def _wrong_secret(fake: FakeTrading) -> AlpacaBroker:
    return broker(fake, secret="not-the-secret-42")


ERRORS = [  # (what, set-up of the fake, request, code, retryable, text from Alpaca's answer)
    ("buying power", None, buy("e-1", "1000"), "insufficient_buying_power", False, "insufficient buying power"),
    ("unknown symbol", None, OrderRequest("e-2", "NOPE", "buy", quantity=D(1)), "invalid_order", False, "not found"),
    (
        "sell unheld",
        None,
        OrderRequest("e-3", "SPY", "sell", quantity=D(5)),
        "invalid_order",
        False,
        "insufficient qty",
    ),
    ("forbidden", (403, 1), buy("e-4"), "forbidden", False, "forbidden"),
    ("rate limit", (429, 50), buy("e-5"), "rate_limited", True, "rate limit exceeded"),
    ("server error", (500, 50), buy("e-6"), "unavailable", True, "internal server error"),
]


@pytest.mark.parametrize(("what", "fault", "request_", "code", "retryable", "text"), ERRORS, ids=[e[0] for e in ERRORS])
def test_each_alpaca_refusal_maps_to_its_broker_error(
    alpaca_trading: FakeTrading,
    what: str,
    fault: tuple[int, int] | None,
    request_: OrderRequest,
    code: str,
    retryable: bool,
    text: str,
) -> None:
    if fault:
        alpaca_trading.server.fail(fault[0], times=fault[1])

    with pytest.raises(BrokerError) as raised:
        broker(alpaca_trading).submit(request_)

    assert (raised.value.code, raised.value.retryable) == (code, retryable)
    assert text in str(raised.value)
    assert alpaca_trading.orders == []
    assert len(alpaca_trading.order_posts()) == (3 if retryable else 1)  # retryable: the bounded 3 attempts


def test_wrong_keys_are_unauthorized_and_never_appear_in_messages_or_logs(
    alpaca_trading: FakeTrading, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    with pytest.raises(BrokerError) as unauthorized:
        _wrong_secret(alpaca_trading).submit(buy("k-1"))
    alpaca_trading.server.fail(503, times=3)
    with pytest.raises(BrokerError) as unavailable:
        broker(alpaca_trading).account()

    assert (unauthorized.value.code, unavailable.value.code) == ("unauthorized", "unavailable")
    text = caplog.text + str(unauthorized.value) + str(unavailable.value)
    assert "not-the-secret-42" not in text and SECRET_KEY not in text and API_KEY not in text


def test_reads_are_retried_a_bounded_number_of_times(alpaca_trading: FakeTrading) -> None:
    alpaca_trading.server.fail(503, times=2)

    assert broker(alpaca_trading).account().cash == D(100_000)
    assert calls(alpaca_trading) == [("GET", "/v2/account")] * 3


def test_a_rate_limited_post_is_looked_up_then_posted_again_once(alpaca_trading: FakeTrading) -> None:
    alpaca_trading.server.fail(429)

    placed = broker(alpaca_trading).submit(buy("r-1"))

    assert placed.status == "filled"
    assert calls(alpaca_trading) == [POST, BY_CLIENT_ID, POST]  # the SDK's own 429 retry is off: no hidden POST
    assert len(alpaca_trading.orders) == 1


def test_a_timeout_after_acceptance_leaves_exactly_one_order(alpaca_trading: FakeTrading) -> None:
    alpaca_trading.server.delay(1.5)  # the order is placed at once, its answer held past the 0.3 s timeout

    placed = broker(alpaca_trading, timeout=0.3).submit(buy("d-1"))

    assert (placed.client_order_id, placed.status) == ("d-1", "filled")
    assert calls(alpaca_trading) == [POST, BY_CLIENT_ID]
    assert [o.client_order_id for o in alpaca_trading.orders] == ["d-1"]


def test_a_dropped_connection_after_acceptance_leaves_exactly_one_order(alpaca_trading: FakeTrading) -> None:
    alpaca_trading.server.drop_after_accept()

    placed = broker(alpaca_trading).submit(buy("x-1"))

    assert (placed.client_order_id, placed.filled_quantity) == ("x-1", D(10))
    assert calls(alpaca_trading) == [POST, BY_CLIENT_ID]
    assert [o.client_order_id for o in alpaca_trading.orders] == ["x-1"]
    assert alpaca_trading.positions["SPY"] == (D(10), SPY_CLOSE)


def test_when_the_lookup_fails_too_the_second_post_finds_the_first(alpaca_trading: FakeTrading) -> None:
    alpaca_trading.server.drop_after_accept()
    alpaca_trading.server.fail(503, times=3, after=1)  # the POST lands, then every lookup attempt fails

    placed = broker(alpaca_trading).submit(buy("x-2"))

    assert placed.client_order_id == "x-2"
    assert calls(alpaca_trading) == [POST, *[BY_CLIENT_ID] * 3, POST, BY_CLIENT_ID]  # 422 duplicate → fetched
    assert [o.client_order_id for o in alpaca_trading.orders] == ["x-2"]


def test_a_resubmitted_key_returns_the_same_order_and_a_reused_key_is_refused(alpaca_trading: FakeTrading) -> None:
    alpaca = broker(alpaca_trading)
    first = alpaca.submit(buy("i-1"))

    again = alpaca.submit(buy("i-1"))
    with pytest.raises(BrokerError) as reused:
        alpaca.submit(buy("i-1", "3"))

    assert again.broker_order_id == first.broker_order_id
    assert reused.value.code == "invalid_order" and "already names another order" in str(reused.value)
    assert len(alpaca_trading.orders) == 1


REFUSED = [  # orders Alpaca would refuse, caught before any request
    ("fractional stop", buy("z-1", "0.5", order_type="stop", stop_price=D(260))),
    ("fractional gtc", buy("z-2", "0.5", time_in_force="gtc")),
    ("fractional bracket", buy("z-3", "0.5", order_class="bracket", take_profit=D(270), stop_loss=D(230))),
    ("notional limit", OrderRequest("z-4", "SPY", "buy", notional=D(500), order_type="limit", limit_price=D(240))),
    ("limit without price", buy("z-5", order_type="limit")),
    ("market with a limit", buy("z-6", limit_price=D(240))),
    ("qty and notional", OrderRequest("z-7", "SPY", "buy", quantity=D(1), notional=D(100))),
    ("oco not limit", buy("z-8", order_class="oco", take_profit=D(270), stop_loss=D(230))),
    ("bracket without stop", buy("z-9", order_class="bracket", take_profit=D(270))),
    ("ten decimals", buy("z-10", "0.0000000001")),
    ("negative", buy("z-11", "-1")),
    ("unknown type", buy("z-12", order_type="market_on_close")),
]


@pytest.mark.parametrize(("what", "request_"), REFUSED, ids=[r[0] for r in REFUSED])
def test_orders_alpaca_would_refuse_are_refused_before_sending(
    alpaca_trading: FakeTrading, what: str, request_: OrderRequest
) -> None:
    with pytest.raises(BrokerError) as raised:
        broker(alpaca_trading).submit(request_)

    assert raised.value.code == "invalid_order" and not raised.value.retryable
    assert alpaca_trading.server.requests == []


def test_a_fractional_order_for_a_non_fractionable_asset_is_refused_before_posting(
    alpaca_trading: FakeTrading,
) -> None:
    alpaca_trading.add_asset("BRK.A", D("326000"), exchange="NYSE", fractionable=False)

    with pytest.raises(BrokerError) as raised:
        broker(alpaca_trading).submit(OrderRequest("q-1", "BRK.A", "buy", quantity=D("0.01")))

    assert raised.value.code == "invalid_order" and "not fractionable" in str(raised.value)
    assert calls(alpaca_trading) == [("GET", "/v2/assets/BRK.A")]  # asked about the asset, sent no order


def test_cancel_by_client_order_id(alpaca_trading: FakeTrading) -> None:
    alpaca = broker(alpaca_trading)
    alpaca.submit(buy("k-1", order_type="limit", limit_price=D(240)))
    alpaca.submit(buy("k-2"))

    canceled = alpaca.cancel("k-1")
    again = alpaca.cancel("k-1")  # Alpaca answers 422: already canceled, which is what was asked
    with pytest.raises(BrokerError) as filled:
        alpaca.cancel("k-2")
    with pytest.raises(BrokerError) as unknown:
        alpaca.cancel("never-sent")

    broker_id = canceled.broker_order_id
    assert ("DELETE", f"/v2/orders/{broker_id}") in calls(alpaca_trading)
    assert (canceled.status, again.status) == ("canceled", "canceled")
    assert filled.value.code == "invalid_order" and 'order is already in "filled" state' in str(filled.value)
    assert unknown.value.code == "not_found"
    assert alpaca.account().buying_power == D("97500.80")  # the canceled limit reserves nothing


def test_orders_and_unknown_order(alpaca_trading: FakeTrading) -> None:
    alpaca = broker(alpaca_trading)
    alpaca.submit(buy("a-1"))
    alpaca.submit(buy("a-2", order_type="limit", limit_price=D(240)))

    assert [o.client_order_id for o in alpaca.orders(open_only=True)] == ["a-2"]
    assert [o.client_order_id for o in alpaca.orders()] == ["a-2", "a-1"]  # newest first
    assert alpaca.order("never-sent") is None


def test_paper_and_live_keys_select_alpacas_paper_and_live_endpoints() -> None:
    paper = AlpacaBroker(API_KEY, SECRET_KEY, paper=True)
    live = AlpacaBroker(API_KEY, SECRET_KEY, paper=False)

    assert paper._client._base_url == "https://paper-api.alpaca.markets"  # Alpaca's documented trading hosts
    assert live._client._base_url == "https://api.alpaca.markets"
