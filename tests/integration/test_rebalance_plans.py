"""Rebalancing plans on the real bundled prices (tests/two_stocks.py: 200 AAPL and 300 JPM bought on 2019-01-03,
cash 63,000), worked out by hand from the bundled CSVs; wash sales across the owner's portfolios; editing,
approval and rejection with their audit; bad input that writes nothing."""

from __future__ import annotations

import math

import pytest
from sqlmodel import func, select

from investment_app.models.audit import AuditRecord
from investment_app.models.rebalance import RebalancePlan
from investment_app.services import accounts, portfolios, rebalance, targets, transactions
from investment_app.services.errors import Forbidden, InvalidInput
from tests.two_stocks import CASH, OTHER, PRICE, QUANTITY, bundled_closes, two_stocks

TARGET = {"AAPL": 0.40, "JPM": 0.30, "SPY": 0.28}
RESERVE = 0.02
K = 5 / 2 / 10_000  # default settings: no commission, 5 bp spread → cost rate 2.5 bp


@pytest.fixture
def setup(db_url):
    with two_stocks(db_url) as (db, viewer, pid):
        targets.set_target(db, viewer, pid, targets.TargetInput("symbols", TARGET, RESERVE))
        db.commit()
        yield db, viewer, pid


def _count(db, table) -> int:
    return db.exec(select(func.count()).select_from(table)).one()


def test_plan_trades_back_to_target_as_worked_out_from_the_csv(setup) -> None:
    db, viewer, pid = setup
    last = bundled_closes().iloc[-1]
    p = {s: float(last[s]) for s in ("AAPL", "JPM", "SPY")}
    value = QUANTITY["AAPL"] * p["AAPL"] + QUANTITY["JPM"] * p["JPM"] + CASH
    # JPM is 40 % (> 30 % + 5 % band): sell back to 30 %, rounded to the nearest share.
    sell_jpm = round((QUANTITY["JPM"] * p["JPM"] - 0.30 * value) / p["JPM"])
    cash = CASH + sell_jpm * p["JPM"] * (1 - K) - RESERVE * value
    # Buys, most underweight first (SPY at 0 %, then AAPL at 26 %), whole shares, each within the money left.
    buy_spy = min(math.floor(0.28 * value / p["SPY"]), math.floor(cash / (p["SPY"] * (1 + K))))
    cash -= buy_spy * p["SPY"] * (1 + K)
    gap_aapl = 0.40 * value - QUANTITY["AAPL"] * p["AAPL"]
    buy_aapl = math.floor(min(gap_aapl * (1 + K), cash) / (p["AAPL"] * (1 + K)))

    plan = rebalance.create_plan(db, viewer, pid)
    db.commit()
    trades = {(t["side"], t["symbol"]): t for t in plan.trades}
    assert {k: v["quantity"] for k, v in trades.items()} == {
        ("sell", "JPM"): sell_jpm,
        ("buy", "SPY"): buy_spy,
        ("buy", "AAPL"): buy_aapl,
    }
    assert plan.trades[0]["side"] == "sell"
    assert trades["buy", "SPY"]["price"] == pytest.approx(p["SPY"])
    # The one JPM lot was bought in 2019: long term; gain = q (p (1 − k) − 98).
    assert plan.summary["realized_long_term"] == pytest.approx(sell_jpm * (p["JPM"] * (1 - K) - PRICE["JPM"]))
    assert plan.summary["realized_short_term"] == 0
    assert plan.summary["costs"] == pytest.approx(sum(t["value"] for t in plan.trades) * K)
    assert plan.summary["before"]["JPM"] == pytest.approx(QUANTITY["JPM"] * p["JPM"] / value)
    assert all(abs(plan.summary["after"][s] - w) < 0.05 for s, w in TARGET.items())
    assert plan.summary["cash_after"] >= RESERVE * value - 1e-6
    assert rebalance.plan_json(db, plan)["trades"][0]["symbol"] == "JPM"


def test_a_loss_sale_in_another_portfolio_blocks_buying_it_back(setup) -> None:
    db, viewer, pid = setup
    last_day = bundled_closes().index[-1].date()
    other = portfolios.create(db, viewer, "Taxable two").id
    db.commit()
    spy = float(bundled_closes()["SPY"].iloc[-1])
    ledger = (
        "date,type,symbol,quantity,price,fees,amount\n"
        f"2024-01-02,deposit,,,,,100000\n2024-01-03,buy,SPY,10,{spy * 1.2:.2f},0,\n"
        f"{last_day - __import__('datetime').timedelta(days=10)},sell,SPY,10,{spy:.2f},0,\n"
    ).encode()
    transactions.import_csv(db, viewer, other, ledger)
    db.commit()
    plan = rebalance.create_plan(db, viewer, pid)
    assert "SPY" in plan.summary["blocked_buys"]
    assert all(t["symbol"] != "SPY" or t["side"] == "sell" for t in plan.trades)
    # Declared identical: MA and SPY in one group → MA is blocked too.
    rebalance.set_identical_groups(db, viewer, [["SPY", "MA"]])
    targets.set_target(db, viewer, pid, targets.TargetInput("symbols", {"AAPL": 0.4, "JPM": 0.3, "MA": 0.28}, RESERVE))
    db.commit()
    plan = rebalance.create_plan(db, viewer, pid)
    assert {"SPY", "MA"} <= set(plan.summary["blocked_buys"])
    assert all(t["symbol"] != "MA" for t in plan.trades)


def test_edit_approve_reject_are_audited_and_only_for_writers(setup) -> None:
    db, viewer, pid = setup
    plan = rebalance.create_plan(db, viewer, pid)
    db.commit()
    rows = {(t["side"], t["symbol"]): i for i, t in enumerate(plan.trades)}
    sell = plan.trades[rows["sell", "JPM"]]
    half = sell["quantity"] // 2
    edited = rebalance.edit_plan(db, viewer, plan.id, {rows["sell", "JPM"]: half, rows["buy", "SPY"]: 0})
    db.commit()
    assert [(t["side"], t["symbol"], t["quantity"]) for t in edited.trades if t["symbol"] == "JPM"] == [
        ("sell", "JPM", half)
    ]
    assert all(t["symbol"] != "SPY" for t in edited.trades)
    assert edited.summary["realized_long_term"] == pytest.approx(half * (sell["price"] * (1 - K) - PRICE["JPM"]))
    assert sum(lot["quantity"] for lot in edited.lots) == half

    with pytest.raises(InvalidInput, match="more than the 300 held"):
        rebalance.edit_plan(db, viewer, plan.id, {0: 301})
    with pytest.raises(InvalidInput, match="reduced, not raised"):
        rebalance.edit_plan(db, viewer, plan.id, {0: half + 1})

    other = accounts.acting_as(db, OTHER)
    with pytest.raises(Forbidden, match="No such plan"):
        rebalance.decide(db, other, plan.id, approve=True)
    rebalance.decide(db, viewer, plan.id, approve=True, note="looks right")
    db.commit()
    assert db.get(RebalancePlan, plan.id).status == "approved"
    stmt = select(AuditRecord.action).where(
        AuditRecord.entity == "rebalance_plan", AuditRecord.entity_id == str(plan.id)
    )
    actions = db.exec(stmt).all()
    assert actions == ["plan.create", "plan.edit", "plan.approve"]
    with pytest.raises(InvalidInput, match="only a proposed plan"):
        rebalance.decide(db, viewer, plan.id, approve=False)

    second = rebalance.create_plan(db, viewer, pid)
    rebalance.decide(db, viewer, second.id, approve=False, note="not now")
    db.commit()
    assert db.get(RebalancePlan, second.id).status == "rejected"


def test_bad_input_names_the_problem_and_writes_nothing(setup) -> None:
    db, viewer, pid = setup
    before = (_count(db, RebalancePlan), _count(db, AuditRecord))
    bare = portfolios.create(db, viewer, "No target")
    db.commit()
    transactions.import_csv(
        db, viewer, bare.id, b"date,type,symbol,quantity,price,fees,amount\n2024-01-02,deposit,,,,,1000\n"
    )
    db.commit()
    before = (_count(db, RebalancePlan), _count(db, AuditRecord))
    with pytest.raises(InvalidInput, match="has no target allocation"):
        rebalance.create_plan(db, viewer, bare.id)
    with pytest.raises(InvalidInput, match=r"withdrawal of 1,000,000\.00 is not less than"):
        rebalance.create_plan(db, viewer, pid, flow=rebalance.Flow(-1_000_000))
    with pytest.raises(InvalidInput, match="band must be between 0% and 100%"):
        rebalance.update_settings(db, viewer, pid, {"band": 1.5})
    with pytest.raises(InvalidInput, match=r"Unknown symbol.*NOPE"):
        rebalance.update_settings(db, viewer, pid, {"replacements": {"AAPL": "NOPE"}})
    with pytest.raises(InvalidInput, match="Choose the Alpaca connection"):
        rebalance.update_settings(db, viewer, pid, {"broker": "alpaca"})
    db.rollback()
    assert (_count(db, RebalancePlan), _count(db, AuditRecord)) == before
