"""The triggered rebalance, run by the job runner: for every portfolio with a target and a trigger on, check the
triggers (``analytics.triggers``); when one fires, store a plan (a cash-flow trigger plans the flow alone) and,
in "auto" mode, approve it as the system and execute it. Each portfolio is its own transaction: one failing
portfolio is logged and does not stop the others."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from investment_app.analytics import triggers
from investment_app.analytics.errors import AnalyticsError
from investment_app.auth.viewer import Viewer
from investment_app.models import Portfolio
from investment_app.models._time import as_utc, utcnow
from investment_app.models.optimization import TargetAllocation
from investment_app.models.rebalance import RebalanceSettings
from investment_app.services import accounts, audit, execution, performance, rebalance, targets
from investment_app.services.errors import ServiceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TriggerOutcome:
    """What the check did for one portfolio."""

    portfolio_id: int
    fired: bool
    kind: str
    reasons: tuple[str, ...]
    plan_id: int | None = None
    executed: bool = False
    error: str = ""


def _net_flow_since(db: Session, owner: Viewer, portfolio_id: int, since: dt.datetime | None) -> float:
    """Deposits minus withdrawals dated after the day of ``since`` (0 without a last run)."""
    if since is None:
        return 0.0
    v = performance.snapshot(db, owner, portfolio_id).valuation
    after = v.dates > pd.Timestamp(as_utc(since).date())
    return float(np.sum(v.net_flow[after]))


def _check(db: Session, owner: Viewer, s: RebalanceSettings, now: dt.datetime) -> triggers.TriggerCheck:
    return triggers.check_triggers(
        targets.drift_report(db, owner, s.portfolio_id).drift,
        s.calendar,
        s.last_run_at and as_utc(s.last_run_at),
        now,
        s.drift_threshold,
        s.position_threshold,
        s.cash_flow,
        _net_flow_since(db, owner, s.portfolio_id, s.last_run_at) if s.cash_flow else 0.0,
        s.cooldown_days,
    )


def _act(
    db: Session, owner: Viewer, s: RebalanceSettings, check: triggers.TriggerCheck, now: dt.datetime
) -> TriggerOutcome:
    flow = None
    if check.kind == "cash_flow":
        flow = rebalance.Flow(_net_flow_since(db, owner, s.portfolio_id, s.last_run_at))
    plan = rebalance.create_plan(db, owner, s.portfolio_id, trigger=check.kind, flow=flow)
    s.last_run_at = now
    db.add(s)
    audit.record(db, None, "rebalance.trigger", "portfolio", s.portfolio_id, after={"reasons": list(check.reasons)})
    db.commit()
    executed = False
    if s.mode == "auto" and plan.trades:
        rebalance.decide(db, owner, plan.id, approve=True, note="approved automatically: " + "; ".join(check.reasons))
        db.commit()
        executed = bool(execution.execute_plan(db, owner, plan.id).sent)
    return TriggerOutcome(s.portfolio_id, True, check.kind, check.reasons, plan.id, executed)


def run_triggers(db: Session, now: dt.datetime | None = None) -> list[TriggerOutcome]:
    """Check every portfolio that has a target and rebalance settings; act on those whose trigger fired."""
    now = now or utcnow()
    stmt = (
        select(RebalanceSettings, Portfolio.owner_id)
        .join(Portfolio, col(Portfolio.id) == RebalanceSettings.portfolio_id)
        .join(TargetAllocation, col(TargetAllocation.portfolio_id) == RebalanceSettings.portfolio_id)
        .order_by(col(RebalanceSettings.portfolio_id))
    )
    outcomes = []
    for s, owner_id in db.exec(stmt).all():
        owner = accounts.viewer_for(db, owner_id, "rebalance")
        if owner is None:
            continue
        try:
            check = _check(db, owner, s, now)
            outcome = (
                _act(db, owner, s, check, now)
                if check.fired
                else TriggerOutcome(s.portfolio_id, False, "", check.reasons)
            )
        except (ServiceError, AnalyticsError) as exc:
            db.rollback()
            log.warning("rebalance trigger of portfolio %s: %s", s.portfolio_id, exc)
            outcome = TriggerOutcome(s.portfolio_id, False, "", (), error=str(exc))
        outcomes.append(outcome)
    return outcomes
