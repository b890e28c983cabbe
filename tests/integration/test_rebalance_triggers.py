"""The rebalance job on real bundled prices: a drift trigger stores a plan waiting for approval, or in automatic
mode executes it through the paper broker; the cooldown holds the next run; a deposit since the last run plans
buys only; the job function runs under the job runner."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from investment_app.models import Transaction, TxSource
from investment_app.models.rebalance import RebalancePlan, RebalanceSettings
from investment_app.services import rebalance, rebalance_triggers, targets, transactions
from jobs import rebalance as rebalance_jobs
from tests.two_stocks import two_stocks

TARGET = {"AAPL": 0.40, "JPM": 0.30, "SPY": 0.28}
NOW = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)


@pytest.fixture
def watched(db_url):
    with two_stocks(db_url) as (db, viewer, pid):
        targets.set_target(db, viewer, pid, targets.TargetInput("symbols", TARGET, 0.02))
        rebalance.update_settings(db, viewer, pid, {"drift_threshold": 0.05, "cooldown_days": 7})
        db.commit()
        yield db, viewer, pid


def test_drift_above_the_threshold_stores_a_plan_for_approval_then_the_cooldown_holds(watched) -> None:
    db, viewer, pid = watched
    drift = targets.drift_report(db, viewer, pid).total
    assert drift > 0.05  # 28 % SPY missing, among others: far above 5 %
    [outcome] = rebalance_triggers.run_triggers(db, NOW)
    assert (outcome.fired, outcome.kind, outcome.executed) == (True, "threshold", False)
    assert f"total drift {drift:.1%}" in outcome.reasons[0]
    plan = db.get(RebalancePlan, outcome.plan_id)
    assert (plan.status, plan.trigger) == ("proposed", "threshold")

    [held] = rebalance_triggers.run_triggers(db, NOW + dt.timedelta(days=3))
    assert not held.fired and held.plan_id is None
    [again] = rebalance_triggers.run_triggers(db, NOW + dt.timedelta(days=7))
    assert again.fired
    assert db.get(RebalancePlan, outcome.plan_id).status == "superseded"


def test_automatic_mode_executes_through_the_paper_broker(watched) -> None:
    db, viewer, pid = watched
    rebalance.update_settings(db, viewer, pid, {"mode": "auto"})
    db.commit()
    [outcome] = rebalance_triggers.run_triggers(db, NOW)
    plan = db.get(RebalancePlan, outcome.plan_id)
    assert outcome.executed and plan.status == "executed"
    booked = db.exec(select(Transaction).where(Transaction.source == TxSource.BROKER)).all()
    assert len(booked) == len(plan.trades) == 3


def test_a_deposit_since_the_last_run_buys_underweights_only(watched) -> None:
    db, viewer, pid = watched
    rebalance.update_settings(db, viewer, pid, {"drift_threshold": None, "cash_flow": True, "cooldown_days": 0})
    s = db.get(RebalanceSettings, pid)
    s.last_run_at = datetime(2024, 11, 1, tzinfo=UTC)
    db.add(s)
    db.commit()
    deposit = b"date,type,symbol,quantity,price,fees,amount\n2024-11-26,deposit,,,,,20000\n"
    transactions.import_csv(db, viewer, pid, deposit)
    db.commit()
    [outcome] = rebalance_triggers.run_triggers(db, NOW)
    assert outcome.kind == "cash_flow" and "deposit of $20,000.00 since the last run" in outcome.reasons
    plan = db.get(RebalancePlan, outcome.plan_id)
    assert {t["side"] for t in plan.trades} == {"buy"}


def test_the_job_function_checks_every_portfolio(watched, db_url) -> None:
    assert rebalance_jobs.check_triggers(db_url) == 1
    assert rebalance_jobs.sync_orders(db_url) == 0
