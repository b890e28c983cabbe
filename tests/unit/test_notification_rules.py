"""Quiet hours, the e-mail decision and signed link tokens, against hand-worked times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from investment_app.auth import signing
from investment_app.models.alerts import NotificationSettings
from investment_app.services.notifications import decide, quiet_until

PARIS = "Europe/Paris"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "start", "end", "zone", "expected"),
    [
        # 22:00-07:00 Paris in winter (UTC+1): 23:30 local is 22:30 UTC; the window ends 07:00 local = 06:00 UTC.
        ("2026-01-10T22:30", "22:00", "07:00", PARIS, "2026-01-11T06:00"),
        # 03:00 local (02:00 UTC), same window: ends the same morning.
        ("2026-01-11T02:00", "22:00", "07:00", PARIS, "2026-01-11T06:00"),
        # 07:00 local exactly is outside (the end is exclusive); 21:59 local too.
        ("2026-01-11T06:00", "22:00", "07:00", PARIS, None),
        ("2026-01-10T20:59", "22:00", "07:00", PARIS, None),
        # Summer (UTC+2): 23:00 local = 21:00 UTC; ends 07:00 local = 05:00 UTC.
        ("2026-07-10T21:00", "22:00", "07:00", PARIS, "2026-07-11T05:00"),
        # Across the spring change (29 March 2026, 02:00 -> 03:00): 23:00 on the 28th is UTC+1 (22:00 UTC),
        # the window ends at 07:00 local on the 29th, which is UTC+2 = 05:00 UTC, not 06:00.
        ("2026-03-28T22:00", "22:00", "07:00", PARIS, "2026-03-29T05:00"),
        # A window inside one day (01:00-06:00 UTC).
        ("2026-05-05T03:00", "01:00", "06:00", "UTC", "2026-05-05T06:00"),
        ("2026-05-05T06:30", "01:00", "06:00", "UTC", None),
        # No window.
        ("2026-05-05T03:00", None, None, "UTC", None),
    ],
)
def test_quiet_until(moment: str, start: str | None, end: str | None, zone: str, expected: str | None) -> None:
    result = quiet_until(utc(moment), start, end, zone)
    assert result == (None if expected is None else utc(expected))


def _settings(**values: object) -> NotificationSettings:
    base = {
        "user_id": 1,
        "email": "a@example.com",
        "email_confirmed_at": utc("2026-01-01T00:00"),
        "email_severities": ["high", "critical"],
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "timezone": "UTC",
        "critical_bypasses_quiet": True,
    }
    return NotificationSettings(**{**base, **values})


def test_decide() -> None:
    night, day = utc("2026-01-10T23:00"), utc("2026-01-10T12:00")
    assert decide(_settings(), "high", day).status == "pending"
    deferred = decide(_settings(), "high", night)
    assert (deferred.status, deferred.due) == ("deferred", utc("2026-01-11T07:00"))
    assert decide(_settings(), "critical", night).status == "pending"
    assert decide(_settings(critical_bypasses_quiet=False), "critical", night).status == "deferred"
    low = decide(_settings(), "low", day)
    assert (low.status, low.reason) == ("skipped", "low alerts are not e-mailed")
    unconfirmed = decide(_settings(email_confirmed_at=None), "critical", day)
    assert (unconfirmed.status, unconfirmed.reason) == ("skipped", "a@example.com is not confirmed")


def test_signed_tokens_round_trip_and_refuse_tampering() -> None:
    now = utc("2026-01-10T12:00")
    token = signing.sign("p.v1", ["42", "a.b@example.com"], "key", now + timedelta(hours=1))
    assert signing.verify("p.v1", token, "key", 2, now) == ["42", "a.b@example.com"]
    with pytest.raises(signing.BadToken, match="expired"):
        signing.verify("p.v1", token, "key", 2, now + timedelta(hours=1))
    with pytest.raises(signing.BadToken, match="bad signature"):
        signing.verify("other.v1", token, "key", 2, now)  # another purpose
    with pytest.raises(signing.BadToken, match="bad signature"):
        signing.verify("p.v1", token, "another key", 2, now)
    fields = token.split(".")
    forged = ".".join([signing._b64(b"43"), *fields[1:]])
    with pytest.raises(signing.BadToken, match="bad signature"):
        signing.verify("p.v1", forged, "key", 2, now)
    with pytest.raises(signing.BadToken, match="malformed"):
        signing.verify("p.v1", "abc", "key", 2, now)
    forever = signing.sign("p.v1", ["x"], "key")
    assert signing.verify("p.v1", forever, "key", 1, now + timedelta(days=9999)) == ["x"]
