"""The rebalancing jobs: triggers checked daily after the price refresh, open orders synced every few minutes."""

from __future__ import annotations

import logging

from investment_app.db import session_scope
from investment_app.services import execution, rebalance_triggers

log = logging.getLogger(__name__)


def check_triggers(url: str | None = None) -> int:
    """Check every portfolio's rebalance triggers; returns how many fired."""
    with session_scope(url) as db:
        outcomes = rebalance_triggers.run_triggers(db)
    for o in outcomes:
        if o.fired or o.error:
            log.info("rebalance %s: %s %s %s", o.portfolio_id, o.kind or "error", "; ".join(o.reasons), o.error)
    return sum(o.fired for o in outcomes)


def sync_orders(url: str | None = None) -> int:
    """Match paper orders against new bars, bring every open order up to date, book fills; returns fills booked."""
    with session_scope(url) as db:
        report = execution.sync_open_orders(db)
    return report.booked
