"""A plan executed through the built-in paper broker on the real bundled prices: fills at the last close with the
paper slippage, booked once in the ledger with the plan's lots; idempotent re-runs; pre-trade refusals that send
and write nothing; single orders, cancel and sync; the CLI's JSON contract."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pandas as pd
import pytest
from sqlmodel import Session, func, select

from investment_app.broker.base import OrderRequest
from investment_app.db import get_engine
from investment_app.marketdata.store import load_bars
from investment_app.models import LotPick, Transaction, TxSource
from investment_app.models.audit import AuditRecord
from investment_app.models.rebalance import RebalancePlan
from investment_app.models.trading import BrokerFill, BrokerOrder
from investment_app.services import execution, holdings, rebalance, targets
from investment_app.services.errors import InvalidInput
from tests.conftest import run_cli
from tests.two_stocks import OWNER, QUANTITY, bundled_closes, two_stocks

TARGET = {"AAPL": 0.40, "JPM": 0.30, "SPY": 0.28}
SLIPPAGE = 5 / 10_000  # the paper broker's default slippage; fill prices are rounded to 4 decimals


@pytest.fixture
def planned(db_url):
    with two_stocks(db_url) as (db, viewer, pid):
        targets.set_target(db, viewer, pid, targets.TargetInput("symbols", TARGET, 0.02))
        plan = rebalance.create_plan(db, viewer, pid)
        db.commit()
        yield db, viewer, pid, plan


def _count(db: Session, table) -> int:
    return db.exec(select(func.count()).select_from(table)).one()


def _approved(db, viewer, plan):
    rebalance.decide(db, viewer, plan.id, approve=True)
    db.commit()
    return plan


def test_an_approved_plan_fills_through_the_paper_broker_into_the_ledger_once(planned) -> None:
    db, viewer, pid, plan = planned
    with pytest.raises(InvalidInput, match="only an approved plan"):
        execution.execute_plan(db, viewer, plan.id)
    _approved(db, viewer, plan)
    report = execution.execute_plan(db, viewer, plan.id)
    assert (report.filled, report.open, report.rejected, report.status) == (len(plan.trades), 0, [], "executed")

    last = bundled_closes().iloc[-1]
    booked = db.exec(select(Transaction).where(Transaction.source == TxSource.BROKER)).all()
    assert sorted((t.type.value, t.symbol, float(t.quantity)) for t in booked) == sorted(
        (t["side"], t["symbol"], t["quantity"]) for t in plan.trades
    )
    for tx in booked:
        sign = 1 if tx.type.value == "buy" else -1
        assert float(tx.price) == pytest.approx(float(last[tx.symbol]) * (1 + sign * SLIPPAGE), abs=5e-5)  # 4 decimals
    sell = next(t for t in booked if t.type.value == "sell")
    picks = db.exec(select(LotPick).where(LotPick.sell_id == sell.id)).all()
    assert [(p.lot_id, p.quantity) for p in picks] == [(plan.lots[0]["lot_id"], sell.quantity)]

    held = {h.symbol: h.quantity for h in holdings.holdings(db, viewer, pid).holdings}
    expected = dict(QUANTITY)
    for t in plan.trades:
        expected[t["symbol"]] = expected.get(t["symbol"], 0) + (t["quantity"] if t["side"] == "buy" else -t["quantity"])
    assert held == pytest.approx(expected)

    # Running it again (a retry, a restart) sends and books nothing more.
    counts = (_count(db, BrokerOrder), _count(db, BrokerFill), _count(db, Transaction))
    with pytest.raises(InvalidInput, match="is executed"):
        execution.execute_plan(db, viewer, plan.id)
    execution.sync_open_orders(db, pid)
    assert (_count(db, BrokerOrder), _count(db, BrokerFill), _count(db, Transaction)) == counts
    actions = set(db.exec(select(AuditRecord.action)).all())
    assert {"plan.execute", "order.submit", "order.fill", "plan.executed"} <= actions


def test_a_restart_between_writing_and_sending_places_each_order_once(planned, db_url) -> None:
    db, viewer, pid, plan = planned
    _approved(db, viewer, plan)
    portfolio = db.get(rebalance.Portfolio, pid)
    _, account, _ = execution.broker_for(db, portfolio, "paper")
    execution._write_orders(db, viewer, plan, account, "paper", None)  # the process dies here, before any send
    with Session(get_engine(db_url), expire_on_commit=False) as fresh:
        report = execution.execute_plan(fresh, viewer, plan.id)
    assert report.status == "executed"
    assert _count(db, BrokerOrder) == len(plan.trades)
    assert _count(db, Transaction) - 3 == len(plan.trades)  # the deposit and two buys of the ledger, plus one per trade


def test_pre_trade_refusals_send_and_write_nothing(planned) -> None:
    db, viewer, pid, plan = planned
    _approved(db, viewer, plan)
    before = (_count(db, BrokerOrder), _count(db, Transaction), _count(db, AuditRecord))
    biggest = max(t["value"] for t in plan.trades)
    rebalance.update_settings(db, viewer, pid, {"max_order_value": biggest / 2})
    db.commit()
    before = (_count(db, BrokerOrder), _count(db, Transaction), _count(db, AuditRecord))
    with pytest.raises(InvalidInput, match="above the maximum order value"):
        execution.execute_plan(db, viewer, plan.id)
    rebalance.update_settings(db, viewer, pid, {"max_order_value": None, "max_position_weight": 0.2})
    db.commit()
    before = (_count(db, BrokerOrder), _count(db, Transaction), _count(db, AuditRecord))
    with pytest.raises(InvalidInput, match=r"AAPL would weigh .* above the maximum position size of 20%"):
        execution.execute_plan(db, viewer, plan.id)
    db.rollback()
    assert (_count(db, BrokerOrder), _count(db, Transaction), _count(db, AuditRecord)) == before
    assert db.get(RebalancePlan, plan.id).status == "approved"


def test_a_plan_on_older_prices_is_refused_once_new_prices_arrive(planned, db_url) -> None:
    db, viewer, _, plan = planned
    _approved(db, viewer, plan)
    last = bundled_closes().index[-1].date()
    bar = pd.DataFrame(
        [{"symbol": "SPY", "date": last + dt.timedelta(days=3), "close": 600.0, "adj_close": 600.0, "source": "test"}]
    )
    symbol = pd.DataFrame(
        [{"symbol": "SPY", "name": "", "gics_sector": "", "gics_sub_industry": "", "asset_class": "etf"}]
    )
    load_bars(get_engine(db_url), symbol, bar)
    with pytest.raises(InvalidInput, match=f"computed on the prices of {last}; prices now go to"):
        execution.execute_plan(db, viewer, plan.id)
    assert _count(db, BrokerOrder) == 0


def test_single_orders_sell_limits_cancel_and_bad_input(planned) -> None:
    db, viewer, pid, _ = planned
    before = (_count(db, BrokerOrder), _count(db, Transaction))
    too_many = OrderRequest("", "AAPL", "sell", quantity=Decimal(201))
    with pytest.raises(InvalidInput, match="sell 201 AAPL is more than the 200 held"):
        execution.place_order(db, viewer, pid, too_many)
    with pytest.raises(InvalidInput, match="limit order needs a limit price"):
        execution.place_order(db, viewer, pid, OrderRequest("", "AAPL", "buy", Decimal(1), order_type="limit"))
    with pytest.raises(InvalidInput, match="either a quantity"):
        execution.place_order(db, viewer, pid, OrderRequest("", "AAPL", "buy"))
    assert (_count(db, BrokerOrder), _count(db, Transaction)) == before

    last = float(bundled_closes()["AAPL"].iloc[-1])
    low = OrderRequest(
        "",
        "AAPL",
        "buy",
        Decimal(5),
        order_type="limit",
        time_in_force="gtc",
        limit_price=Decimal(round(last * 0.5, 2)),
    )
    order = execution.place_order(db, viewer, pid, low)
    assert order.status == "new"
    assert [r.status for r in execution.list_orders(db, viewer, pid)] == ["new"]
    execution.cancel_order(db, viewer, order.id)
    assert db.get(BrokerOrder, order.id).status == "canceled"
    with pytest.raises(InvalidInput, match="only an open order"):
        execution.cancel_order(db, viewer, order.id)

    bought = execution.place_order(db, viewer, pid, OrderRequest("", "AAPL", "buy", notional=Decimal(1000)))
    assert bought.status == "filled"
    assert float(bought.filled_quantity) == pytest.approx(1000 / last, abs=1e-6)


def test_cli_plan_json_and_execute(db_url) -> None:
    with two_stocks(db_url) as (db, viewer, pid):
        targets.set_target(db, viewer, pid, targets.TargetInput("symbols", TARGET, 0.02))
        db.commit()
    out = run_cli("rebalance", "plan", "--user", OWNER, "--portfolio", "Two stocks", db_url=db_url)
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert {"id", "status", "trades", "lots", "before", "after", "realized_short_term", "costs"} <= set(plan)
    assert {t["symbol"] for t in plan["trades"]} == {"AAPL", "JPM", "SPY"}
    out = run_cli("rebalance", "execute", "--plan", str(plan["id"]), "--broker", "paper", db_url=db_url)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "executed"
    bad = run_cli("rebalance", "execute", "--plan", "999", db_url=db_url)
    assert bad.returncode == 2 and "No such plan" in bad.stderr
