"""When a portfolio is due for a rebalance: calendar, drift threshold and cash-flow triggers, with a cooldown.

Conventions (pure: dates, timestamps and a ``rebalance.Drift`` in, a ``TriggerCheck`` out):
- Calendar: "weekly" is due once the ISO week (ISO year, week number) of ``today`` is later than the last run's,
  so 2020-12-31 (2020-W53) and 2021-01-03 (still 2020-W53) share a week; "monthly", "quarterly" (Q1 = Jan–Mar …)
  and "yearly" are due once ``today`` lies in a later calendar period. The first run (no last run) is due;
  "none" never is.
- Threshold (Betterment's drift, ``rebalance.drift``): fires when the total drift D = ½ Σ |d| > ``drift_threshold``
  or when max |d_i| over the symbols (cash excluded) > ``position_threshold``. Both are strict: a drift exactly at
  its threshold does not fire. A None threshold is off.
- Cash flow: fires when ``cash_flow`` is on and the net external flow since the last run, rounded to cents, is not
  zero. A deposit is invested by ``rebalance.deploy_cash`` (buys, most underweight first); a withdrawal is raised
  by ``rebalance.raise_cash`` (sells, most overweight first).
- Cooldown: nothing fires on a UTC calendar day before last_run's UTC day + ``cooldown_days`` (so a cooldown ending
  today no longer blocks, whatever the hour of the daily check). Naive timestamps are taken as UTC.
- ``kind`` is the first that fired of "threshold", "calendar" (both lead to a full ``rebalance.plan``) and
  "cash_flow" (the flow alone: ``deploy_cash`` or ``raise_cash``); ``reasons`` lists every condition met.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.rebalance import CASH, Drift

CALENDARS = ("none", "weekly", "monthly", "quarterly", "yearly")
KINDS = ("threshold", "calendar", "cash_flow")


@dataclass(frozen=True)
class TriggerCheck:
    """The outcome of one check: ``fired`` and its ``kind`` ("" when nothing fired), the conditions met (human
    strings), and the day the cooldown ends when it blocked them (None otherwise)."""

    fired: bool
    reasons: tuple[str, ...]
    kind: str
    blocked_by_cooldown: dt.date | None = None


def _period(calendar: str, day: dt.date) -> tuple[int, ...]:
    """The calendar period ``day`` lies in, as a comparable tuple."""
    if calendar == "weekly":
        iso = day.isocalendar()
        return iso.year, iso.week
    if calendar == "monthly":
        return day.year, day.month
    if calendar == "quarterly":
        return day.year, (day.month - 1) // 3
    return (day.year,)


def calendar_due(calendar: str, last_run: dt.date | None, today: dt.date) -> bool:
    """True when ``today`` lies in a later weekly/monthly/quarterly/yearly period than ``last_run`` (module doc)."""
    if calendar not in CALENDARS:
        raise AnalyticsError(f"unknown rebalancing calendar {calendar!r}; choose one of {', '.join(CALENDARS)}")
    if calendar == "none":
        return False
    return last_run is None or _period(calendar, today) > _period(calendar, last_run)


def _utc_day(ts: dt.datetime) -> dt.date:
    """The UTC calendar day of a timestamp (naive ones are UTC already)."""
    return (ts.astimezone(dt.UTC) if ts.tzinfo else ts).date()


def _check_inputs(total: float | None, position: float | None, cooldown_days: int, flow: float) -> None:
    """Refuse negative or non-finite thresholds, a negative cooldown and a non-finite flow."""
    thresholds = [x for x in (total, position) if x is not None]
    if not all(np.isfinite(x) and x >= 0 for x in thresholds):
        raise AnalyticsError("drift thresholds must be finite and ≥ 0 (or off)")
    if cooldown_days < 0:
        raise AnalyticsError(f"the cooldown must be 0 days or more (got {cooldown_days})")
    if not np.isfinite(flow):
        raise AnalyticsError("the net cash flow since the last run must be a finite amount")


def _above(value: float, limit: float, unit: str) -> str:
    """'6.2% > 5.0%': one decimal, more (up to four) while one would print the two numbers alike."""
    for digits in range(1, 5):
        a, b = f"{100 * value:.{digits}f}", f"{100 * limit:.{digits}f}"
        if a != b:
            break
    return f"{a}{unit} > {b}{unit}"


def _threshold_reasons(drift: Drift, total_limit: float | None, position_limit: float | None) -> list[str]:
    """'total drift 6.2% > 5.0%' and one 'AAPL off target by 7.1 pp > 5.0 pp' per symbol beyond, largest first."""
    reasons = []
    if total_limit is not None and drift.total > total_limit:
        reasons.append(f"total drift {_above(drift.total, total_limit, '%')}")
    if position_limit is not None:
        gaps = drift.by_symbol.drop(CASH, errors="ignore").abs()
        beyond = gaps[gaps > position_limit].sort_values(ascending=False, kind="stable")
        reasons += [f"{s} off target by {_above(g, position_limit, ' pp')}" for s, g in beyond.items()]
    return reasons


def _flow_reason(net_flow: float) -> str | None:
    """'deposit of $10,000.00 since the last run' (or a withdrawal); None when the flow rounds to 0 cents."""
    cents = round(net_flow, 2)
    if cents == 0:
        return None
    return f"{'deposit' if cents > 0 else 'withdrawal'} of ${abs(cents):,.2f} since the last run"


def check_triggers(
    drift: Drift,
    calendar: str,
    last_run: dt.datetime | None,
    now: dt.datetime,
    drift_threshold: float | None,
    position_threshold: float | None,
    cash_flow: bool,
    net_flow_since_last_run: float,
    cooldown_days: int,
) -> TriggerCheck:
    """Which triggers are met on ``now`` and whether the cooldown lets them fire (module doc)."""
    _check_inputs(drift_threshold, position_threshold, cooldown_days, net_flow_since_last_run)
    today = _utc_day(now)
    last_day = None if last_run is None else _utc_day(last_run)
    flow = _flow_reason(net_flow_since_last_run) if cash_flow else None
    met = {
        "threshold": _threshold_reasons(drift, drift_threshold, position_threshold),
        "calendar": [f"{calendar} rebalance due"] if calendar_due(calendar, last_day, today) else [],
        "cash_flow": [flow] if flow else [],
    }
    reasons = tuple(r for kind in KINDS for r in met[kind])
    if not reasons:
        return TriggerCheck(False, (), "")
    ends = None if last_day is None else last_day + dt.timedelta(days=cooldown_days)
    if ends is not None and today < ends:
        return TriggerCheck(False, reasons, "", blocked_by_cooldown=ends)
    return TriggerCheck(True, reasons, next(kind for kind in KINDS if met[kind]))
