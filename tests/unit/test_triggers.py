"""Rebalancing triggers: calendar periods worked out by hand on a calendar (ISO weeks across year ends, quarter
ends), thresholds on hand-built drifts (strict >, cash excluded from the position test), cash flows, cooldown."""

import datetime as dt

import pandas as pd
import pytest

from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.rebalance import Drift
from investment_app.analytics.triggers import TriggerCheck, calendar_due, check_triggers

D = dt.date
UTC = dt.UTC


@pytest.mark.parametrize(
    ("last", "today", "due"),
    [
        (D(2020, 12, 31), D(2021, 1, 3), False),  # Thu and Sun of ISO week 2020-W53: a new calendar year, same week
        (D(2020, 12, 31), D(2021, 1, 4), True),  # Monday of 2021-W01
        (D(2019, 12, 29), D(2019, 12, 30), True),  # Sun 2019-W52 → Mon 2020-W01 (ISO year 2020 starts in December)
        (D(2019, 12, 30), D(2020, 1, 5), False),  # both in 2020-W01
        (D(2024, 3, 4), D(2024, 3, 10), False),  # Monday to Sunday
        (D(2024, 3, 10), D(2024, 3, 11), True),  # Sunday to Monday
        (D(2024, 3, 11), D(2024, 3, 4), False),  # a last run in the future is not a reason to run
    ],
)
def test_weekly_is_due_in_a_new_iso_week(last, today, due) -> None:
    assert calendar_due("weekly", last, today) is due


@pytest.mark.parametrize(
    ("calendar", "last", "today", "due"),
    [
        ("monthly", D(2024, 1, 31), D(2024, 2, 1), True),
        ("monthly", D(2024, 1, 1), D(2024, 1, 31), False),
        ("monthly", D(2023, 12, 31), D(2024, 1, 1), True),
        ("quarterly", D(2024, 3, 31), D(2024, 4, 1), True),  # Q1 → Q2
        ("quarterly", D(2024, 1, 1), D(2024, 3, 31), False),  # first and last day of Q1
        ("quarterly", D(2024, 4, 1), D(2024, 6, 30), False),
        ("quarterly", D(2024, 6, 30), D(2024, 7, 1), True),
        ("quarterly", D(2024, 12, 31), D(2025, 1, 1), True),  # Q4 → next year's Q1
        ("quarterly", D(2024, 10, 1), D(2025, 9, 30), True),  # Q4 2024 → Q3 2025: a lower quarter number, later
        ("yearly", D(2024, 1, 1), D(2024, 12, 31), False),
        ("yearly", D(2024, 12, 31), D(2025, 1, 1), True),
    ],
)
def test_calendar_periods(calendar, last, today, due) -> None:
    assert calendar_due(calendar, last, today) is due


@pytest.mark.parametrize("calendar", ["weekly", "monthly", "quarterly", "yearly"])
def test_the_first_run_is_due_and_none_never_is(calendar) -> None:
    assert calendar_due(calendar, None, D(2024, 5, 5)) is True
    assert calendar_due("none", None, D(2024, 5, 5)) is False
    assert calendar_due("none", D(2020, 1, 1), D(2024, 5, 5)) is False


def test_an_unknown_calendar_is_refused_by_name() -> None:
    with pytest.raises(AnalyticsError, match="unknown rebalancing calendar 'daily'"):
        calendar_due("daily", None, D(2024, 5, 5))


# Hand-built drift: AAPL +7.1 pp, JPM −3.0 pp, cash −4.1 pp → total ½ (7.1 + 3.0 + 4.1) = 7.1 %.
DRIFT = Drift(pd.Series({"AAPL": 0.071, "JPM": -0.03, "CASH": -0.041}), 0.071)
NOW = dt.datetime(2024, 5, 15, 22, 0, tzinfo=UTC)
LAST = dt.datetime(2024, 5, 1, 22, 0, tzinfo=UTC)


def check(drift=DRIFT, calendar="none", last=LAST, now=NOW, total=None, position=None, flow=False, net=0.0, cool=0):
    return check_triggers(drift, calendar, last, now, total, position, flow, net, cool)


def test_nothing_met_nothing_fires() -> None:
    assert check(total=0.10, position=0.10) == TriggerCheck(False, (), "", None)


def test_total_and_position_thresholds_with_their_reasons() -> None:
    out = check(total=0.05)
    assert out == TriggerCheck(True, ("total drift 7.1% > 5.0%",), "threshold", None)
    out = check(position=0.025)
    assert out.reasons == ("AAPL off target by 7.1 pp > 2.5 pp", "JPM off target by 3.0 pp > 2.5 pp")
    assert out.kind == "threshold"


def test_a_drift_exactly_at_its_threshold_does_not_fire() -> None:
    at = Drift(pd.Series({"AAPL": 0.05, "JPM": -0.05, "CASH": 0.0}), 0.05)
    assert check(at, total=0.05, position=0.05).fired is False
    # Just above: one decimal would print "5.0% > 5.0%", so the reason shows as many decimals as tell them apart.
    assert check(at, total=0.0499, position=0.04999).reasons == (
        "total drift 5.00% > 4.99%",
        "AAPL off target by 5.000 pp > 4.999 pp",
        "JPM off target by 5.000 pp > 4.999 pp",
    )


def test_cash_is_not_a_position() -> None:
    cash_heavy = Drift(pd.Series({"AAPL": -0.03, "JPM": -0.06, "CASH": 0.09}), 0.09)
    assert check(cash_heavy, position=0.07).fired is False  # cash is 9 pp off, no symbol more than 6 pp
    assert check(cash_heavy, position=0.05).reasons == ("JPM off target by 6.0 pp > 5.0 pp",)


def test_calendar_trigger() -> None:
    out = check(calendar="monthly", total=0.10)
    assert out == TriggerCheck(False, (), "", None)  # 1 May → 15 May: same month
    out = check(calendar="monthly", now=dt.datetime(2024, 6, 1, 0, 5, tzinfo=UTC))
    assert out == TriggerCheck(True, ("monthly rebalance due",), "calendar", None)
    assert check(calendar="quarterly", last=None).reasons == ("quarterly rebalance due",)


def test_calendar_days_are_utc_days() -> None:
    # 31 March 23:30 in New York (UTC−4 then) is 1 April 03:30 UTC: the last run was already in Q2.
    new_york = dt.timezone(dt.timedelta(hours=-4))
    last = dt.datetime(2024, 3, 31, 23, 30, tzinfo=new_york)
    assert check(calendar="quarterly", last=last, now=dt.datetime(2024, 4, 2, tzinfo=UTC)).fired is False
    naive = dt.datetime(2024, 3, 31, 23, 30)  # taken as UTC: Q1
    assert check(calendar="quarterly", last=naive, now=dt.datetime(2024, 4, 2, tzinfo=UTC)).fired is True


@pytest.mark.parametrize(
    ("net", "reason"),
    [
        (10_000.0, "deposit of $10,000.00 since the last run"),
        (-2_500.5, "withdrawal of $2,500.50 since the last run"),
        (0.006, "deposit of $0.01 since the last run"),
        (0.004, None),  # rounds to 0 cents
        (0.0, None),
    ],
)
def test_cash_flow_trigger(net, reason) -> None:
    out = check(flow=True, net=net)
    assert out == (TriggerCheck(True, (reason,), "cash_flow", None) if reason else TriggerCheck(False, (), "", None))
    assert check(flow=False, net=net).fired is False  # the trigger is off


def test_every_reason_is_listed_and_threshold_comes_first() -> None:
    out = check(calendar="monthly", last=dt.datetime(2024, 4, 30, tzinfo=UTC), total=0.05, flow=True, net=-100.0)
    assert out.reasons == (
        "total drift 7.1% > 5.0%",
        "monthly rebalance due",
        "withdrawal of $100.00 since the last run",
    )
    assert out.kind == "threshold"
    out = check(calendar="monthly", last=dt.datetime(2024, 4, 30, tzinfo=UTC), flow=True, net=-100.0)
    assert out.kind == "calendar"


def test_cooldown_blocks_until_its_last_day_and_reports_it() -> None:
    last = dt.datetime(2024, 5, 1, 15, 0, tzinfo=UTC)  # + 7 days → the cooldown ends on 8 May
    late_on_the_7th = dt.datetime(2024, 5, 7, 23, 59, tzinfo=UTC)
    blocked = check(last=last, now=late_on_the_7th, total=0.05, cool=7)
    assert blocked == TriggerCheck(False, ("total drift 7.1% > 5.0%",), "", D(2024, 5, 8))
    early_on_the_8th = dt.datetime(2024, 5, 8, 0, 1, tzinfo=UTC)  # the cooldown ends today: it no longer blocks
    assert check(last=last, now=early_on_the_8th, total=0.05, cool=7).fired is True


def test_cooldown_reports_only_what_it_blocked() -> None:
    assert check(last=LAST, now=LAST, total=0.10, cool=7) == TriggerCheck(False, (), "", None)
    assert check(last=LAST, now=LAST, total=0.05, cool=0).fired is True  # no cooldown: the same day may run again
    assert check(last=None, total=0.05, cool=30).fired is True  # never run: no cooldown


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total": -0.01}, "thresholds must be finite and ≥ 0"),
        ({"position": float("nan")}, "thresholds must be finite and ≥ 0"),
        ({"cool": -1}, "cooldown must be 0 days or more"),
        ({"net": float("inf"), "flow": True}, "net cash flow since the last run must be a finite amount"),
        ({"calendar": "fortnightly"}, "unknown rebalancing calendar 'fortnightly'"),
    ],
)
def test_bad_settings_are_refused(kwargs, message) -> None:
    with pytest.raises(AnalyticsError, match=message):
        check(**kwargs)
