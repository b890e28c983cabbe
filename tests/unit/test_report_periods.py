"""Report periods: hand-worked dates (year ends, ISO week 53, the report hour), then a search by the definition.

Calendar facts used: 2026-11-16 is a Monday and starts ISO week 47 of 2026 (2026 begins on a Thursday, so its
week 1 starts on 2025-12-29 and it has 53 weeks, the last from 2026-12-28 to 2027-01-03); 2020 also has 53
weeks (2020-12-28 to 2021-01-03); 2024 is a leap year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from investment_app.services.errors import InvalidInput
from investment_app.services.reports import period_for


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("frequency", "now", "hour", "key", "start", "end"),
    [
        # daily: the previous day from the report hour on, the one before until then
        ("daily", "2026-11-21 06:00", 6, "2026-11-20", "2026-11-20", "2026-11-21"),
        ("daily", "2026-11-21 05:59:59", 6, "2026-11-19", "2026-11-19", "2026-11-20"),
        ("daily", "2026-11-21 00:00", 0, "2026-11-20", "2026-11-20", "2026-11-21"),
        ("daily", "2027-01-01 06:00", 6, "2026-12-31", "2026-12-31", "2027-01-01"),
        ("daily", "2027-01-01 05:00", 6, "2026-12-30", "2026-12-30", "2026-12-31"),
        ("daily", "2024-03-01 07:00", 6, "2024-02-29", "2024-02-29", "2024-03-01"),
        # weekly: Monday to Sunday, due on Monday at the report hour
        ("weekly", "2026-11-23 06:00", 6, "2026-W47", "2026-11-16", "2026-11-23"),
        ("weekly", "2026-11-23 05:00", 6, "2026-W46", "2026-11-09", "2026-11-16"),
        ("weekly", "2026-11-22 23:00", 6, "2026-W46", "2026-11-09", "2026-11-16"),
        ("weekly", "2026-11-29 12:00", 6, "2026-W47", "2026-11-16", "2026-11-23"),
        ("weekly", "2027-01-04 06:00", 6, "2026-W53", "2026-12-28", "2027-01-04"),
        ("weekly", "2021-01-04 12:00", 6, "2020-W53", "2020-12-28", "2021-01-04"),
        ("weekly", "2026-01-05 06:00", 6, "2026-W01", "2025-12-29", "2026-01-05"),  # ISO year 2026 begins in 2025
        # monthly: the previous calendar month, due on the 1st at the report hour
        ("monthly", "2026-12-01 06:00", 6, "2026-11", "2026-11-01", "2026-12-01"),
        ("monthly", "2026-12-01 05:00", 6, "2026-10", "2026-10-01", "2026-11-01"),
        ("monthly", "2027-01-01 06:00", 6, "2026-12", "2026-12-01", "2027-01-01"),
        ("monthly", "2027-01-01 05:00", 6, "2026-11", "2026-11-01", "2026-12-01"),
        ("monthly", "2024-03-15 00:00", 6, "2024-02", "2024-02-01", "2024-03-01"),
    ],
)
def test_hand_worked_periods(frequency, now, hour, key, start, end) -> None:
    period = period_for(frequency, at(now), hour)
    assert (period.key, period.start, period.end) == (key, at(start), at(end))
    assert period.last_day == (at(end) - timedelta(days=1)).date()


def test_now_in_another_time_zone_is_read_as_its_utc_instant() -> None:
    paris_morning = datetime(2026, 11, 21, 7, 30, tzinfo=timezone(timedelta(hours=2)))  # 05:30 UTC
    assert period_for("daily", paris_morning, 6).key == "2026-11-19"
    assert period_for("daily", paris_morning, 5).key == "2026-11-20"


def test_bad_input() -> None:
    with pytest.raises(InvalidInput, match="Unknown report frequency 'hourly'"):
        period_for("hourly", at("2026-11-21 06:00"), 6)
    with pytest.raises(InvalidInput, match="timezone-aware"):
        period_for("daily", datetime(2026, 11, 21, 6), 6)
    with pytest.raises(InvalidInput, match="0 to 23"):
        period_for("daily", at("2026-11-21 06:00"), 24)


@pytest.mark.parametrize(("frequency", "alias"), [("daily", "D"), ("weekly", "W-SUN"), ("monthly", "M")])
def test_the_due_period_is_the_latest_whose_due_time_has_passed(frequency: str, alias: str) -> None:
    """Against pandas periods, searched by the definition: due time = the period's end + the report hour; the
    due period is the latest one whose due time is not after ``now``."""
    rng = np.random.default_rng(7)
    seconds = rng.integers(0, 40 * 365 * 86400, 400)
    hours = rng.integers(0, 24, 400)
    for offset, hour in zip(seconds, hours, strict=True):
        now = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=int(offset))
        candidate = pd.Period(now.replace(tzinfo=None), alias)
        while (candidate + 1).start_time + pd.Timedelta(hours=int(hour)) > pd.Timestamp(now.replace(tzinfo=None)):
            candidate -= 1
        period = period_for(frequency, now, int(hour))
        assert period.start == candidate.start_time.tz_localize(UTC), (now, hour)
        assert period.end == (candidate + 1).start_time.tz_localize(UTC), (now, hour)
        if frequency == "weekly":
            year, week, _ = candidate.start_time.isocalendar()
            assert period.key == f"{year}-W{week:02d}"
