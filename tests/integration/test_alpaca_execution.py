"""Execution through Alpaca: the real alpaca-py SDK against the fake Alpaca trading API on loopback, with the keys
stored sealed; a plan's orders placed once even when the connection drops after Alpaca accepted one; refusals
before anything is sent; cumulative fills booked as increases; positions reconciled with the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from investment_app.broker.base import OrderRequest
from investment_app.models import Transaction, TxSource
from investment_app.models.trading import BrokerConnection, BrokerOrder
from investment_app.services import brokers, execution, rebalance, targets
from investment_app.services.errors import InvalidInput
from tests.fakes.alpaca_server import API_KEY, SECRET_KEY
from tests.fakes.alpaca_trading import FakeTrading, alpaca_trading_fixture  # noqa: F401
from tests.two_stocks import CASH, QUANTITY, bundled_closes, two_stocks

TARGET = {"AAPL": 0.40, "JPM": 0.30, "SPY": 0.28}


@pytest.fixture
def linked(db_url, alpaca_trading: FakeTrading):
    """The two-stocks portfolio mirrored at the fake Alpaca (same shares and cash), trading through it."""
    last = bundled_closes().iloc[-1]
    for symbol in ("AAPL", "JPM", "SPY"):
        alpaca_trading.add_asset(symbol, Decimal(str(round(float(last[symbol]), 2))), fractionable=True)
    for symbol, qty in QUANTITY.items():
        alpaca_trading.hold(symbol, Decimal(qty), Decimal(38 if symbol == "AAPL" else 98))
    alpaca_trading.cash = Decimal(str(CASH))
    with two_stocks(db_url) as (db, viewer, pid):
        conn = brokers.add_connection(
            db, viewer, "Alpaca paper", API_KEY, SECRET_KEY, url_override=alpaca_trading.server.url
        )
        rebalance.update_settings(db, viewer, pid, {"broker": "alpaca", "connection_id": conn.id})
        targets.set_target(db, viewer, pid, targets.TargetInput("symbols", TARGET, 0.02))
        db.commit()
        yield db, viewer, pid, alpaca_trading


def _approved_plan(db, viewer, pid):
    plan = rebalance.create_plan(db, viewer, pid)
    rebalance.decide(db, viewer, plan.id, approve=True)
    db.commit()
    return plan


def test_keys_are_sealed_at_rest_and_never_listed(linked) -> None:
    db, viewer, _, _ = linked
    raw = db.connection().execute(text("SELECT key_id_encrypted, secret_encrypted, key_hint FROM broker_connection"))
    key_sealed, secret_sealed, hint = raw.one()
    assert API_KEY not in key_sealed and SECRET_KEY not in secret_sealed and hint == API_KEY[-4:]
    listed = brokers.list_connections(db, viewer)
    assert SECRET_KEY not in repr(listed) and API_KEY not in repr(listed)
    assert db.exec(select(func.count()).select_from(BrokerConnection)).one() == 1


def test_a_plan_executes_once_even_when_the_connection_drops_after_acceptance(linked) -> None:
    db, viewer, pid, fake = linked
    plan = _approved_plan(db, viewer, pid)
    fake.server.drop_after_accept()  # the first order reaches Alpaca, its answer never comes back
    report = execution.execute_plan(db, viewer, plan.id, "alpaca")
    assert (report.status, report.filled, report.rejected) == ("executed", len(plan.trades), [])
    keys = sorted(o.client_order_id for o in fake.orders)
    assert keys == sorted(f"p{plan.id}-{i}" for i in range(len(plan.trades)))  # one order per trade, no double
    booked = db.exec(select(Transaction).where(Transaction.source == TxSource.BROKER)).all()
    assert sorted((t.type.value, t.symbol, float(t.quantity)) for t in booked) == sorted(
        (t["side"], t["symbol"], t["quantity"]) for t in plan.trades
    )
    for tx in booked:
        assert tx.price == fake.prices[tx.symbol]  # Alpaca's fill price, not ours
    assert fake.positions["JPM"][0] == Decimal(QUANTITY["JPM"]) - Decimal(str(plan.trades[0]["quantity"]))


def test_refusals_before_sending_write_nothing(linked) -> None:
    db, viewer, pid, fake = linked
    plan = _approved_plan(db, viewer, pid)
    fake.market_open = False
    with pytest.raises(InvalidInput, match="the market is closed"):
        execution.execute_plan(db, viewer, plan.id, "alpaca")
    fake.market_open = True
    fake.hold("JPM", Decimal(10), Decimal(98))  # Alpaca holds fewer shares than the ledger
    with pytest.raises(InvalidInput, match="the broker holds only 10"):
        execution.execute_plan(db, viewer, plan.id, "alpaca")
    fake.hold("JPM", Decimal(QUANTITY["JPM"]), Decimal(98))
    fake.cash = Decimal(1000)
    with pytest.raises(InvalidInput, match=r"buying power is 1,000\.00"):
        execution.execute_plan(db, viewer, plan.id, "alpaca")
    assert fake.order_posts() == []
    assert db.exec(select(func.count()).select_from(BrokerOrder)).one() == 0


def test_partial_fills_are_booked_as_increases(linked) -> None:
    db, viewer, pid, fake = linked
    order = execution.place_order(
        db,
        viewer,
        pid,
        OrderRequest("", "SPY", "buy", Decimal(10), order_type="limit", time_in_force="gtc", limit_price=Decimal(100)),
    )
    assert order.status == "new"
    fake.execute(order.client_order_id, Decimal(4), Decimal("99.50"))
    execution.sync_open_orders(db, pid)
    fake.execute(order.client_order_id, Decimal(6), Decimal("100.00"))
    execution.sync_open_orders(db, pid)
    execution.sync_open_orders(db, pid)  # nothing new: nothing booked
    rows = db.exec(select(Transaction).where(Transaction.source == TxSource.BROKER)).all()
    assert [(t.quantity, t.price) for t in rows] == [(Decimal(4), Decimal("99.5")), (Decimal(6), Decimal(100))]
    assert db.get(BrokerOrder, order.id).status == "filled"


def test_reconciliation_shows_differences_and_adopts_the_broker_count_explicitly(linked) -> None:
    db, viewer, pid, fake = linked
    assert execution.reconcile(db, viewer, pid) == []
    fake.hold("AAPL", Decimal(205), Decimal(40))
    diffs = execution.reconcile(db, viewer, pid)
    assert [(d.symbol, d.ledger, d.broker, d.difference) for d in diffs] == [
        ("AAPL", Decimal(200), Decimal(205), Decimal(5))
    ]
    tx = execution.adopt_broker_position(db, viewer, pid, "AAPL")
    assert (tx.type.value, tx.quantity, tx.price) == ("transfer_in", Decimal(5), Decimal(40))
    assert execution.reconcile(db, viewer, pid) == []
    with pytest.raises(InvalidInput, match="agree on AAPL"):
        execution.adopt_broker_position(db, viewer, pid, "AAPL")
