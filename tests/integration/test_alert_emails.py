"""Alert e-mails through a real SMTP server on loopback: the address is confirmed by the link it receives;
severities, quiet hours (deferred, then sent when they end) and critical alerts; a refusing server leaves the
e-mail failed with its answer and the next run sends it once; nothing is ever sent twice."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from httpx import ASGITransport, AsyncClient
from sqlmodel import Session, select

from investment_app.api import create_api
from investment_app.models.alerts import Alert
from investment_app.services import alert_mail, alert_rules, monitor, notifications
from investment_app.services.errors import InvalidInput
from investment_app.settings import get_settings
from tests.fakes.smtp import Inbox, free_port, smtp_servers
from tests.two_stocks import two_stocks

DAY = dt.date(2024, 11, 29)
ADDRESS = "alerts@example.com"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def inbox(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    port = free_port()
    for name, value in {
        "REFLEX_DB_URL": db_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": "Alerts <alerts@app.example.org>",
        "PUBLIC_URL": "https://invest.example.org",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    handler = Inbox()
    with smtp_servers() as start:
        start(handler, port=port)
        yield handler
    get_settings.cache_clear()


@pytest.fixture
def owner(db_url: str, inbox: Inbox):
    with two_stocks(db_url, other=False) as ready:
        yield ready


def _settings(db: Session, viewer, **kwargs) -> None:
    values = {"email": ADDRESS, "severities": ["high", "critical"], "quiet_start": "22:00", "quiet_end": "07:00"}
    notifications.update(db, viewer, **{**values, **kwargs})
    db.commit()


async def _confirm_through_the_link(db: Session, viewer, inbox: Inbox) -> None:
    notifications.send_confirmation(db, viewer)
    [message] = inbox.messages
    assert message["To"] == ADDRESS and message["Subject"] == "Confirm your alert e-mail address"
    link = re.search(r"https://invest\.example\.org(/api/v1/notifications/confirm\?token=\S+)", message.get_content())
    assert link, message.get_content()
    async with AsyncClient(transport=ASGITransport(app=create_api()), base_url="http://app") as client:
        forged = await client.get(link[1][:-3] + "abc")
        assert forged.status_code == 400 and "not valid" in forged.text
        answer = await client.get(link[1])
    assert answer.status_code == 200 and ADDRESS in answer.text
    inbox.messages.clear()


def _fire(db_url: str, db: Session, viewer, pid: int, severity: str, now: datetime) -> Alert:
    alert_rules.create(
        db, viewer, kind="concentration", portfolio_id=pid, params={"pct": 0.1}, severity=severity, email=True
    )
    db.commit()
    [alert_id] = monitor.check(db_url, as_of=DAY, now=now).fired
    return db.get(Alert, alert_id)


async def test_confirmed_address_gets_each_alert_once(owner, db_url, inbox) -> None:
    db, viewer, pid = owner
    _settings(db, viewer)
    await _confirm_through_the_link(db, viewer, inbox)
    alert = _fire(db_url, db, viewer, pid, "high", at("2024-11-30T12:00"))
    assert alert.email_status == "pending"
    assert alert_mail.send_alert_emails(db_url, now=at("2024-11-30T12:00")) == 1
    assert alert_mail.send_alert_emails(db_url, now=at("2024-11-30T12:01")) == 0
    [message] = inbox.messages
    assert message["To"] == ADDRESS and message["Subject"] == f"[HIGH] {alert.title}"
    assert "https://invest.example.org/alerts" in message.get_content()
    db.refresh(alert)
    assert alert.email_status == "sent" and alert.emailed_at is not None


async def test_quiet_hours_defer_until_they_end_but_not_critical(owner, db_url, inbox) -> None:
    db, viewer, pid = owner
    _settings(db, viewer, critical_bypasses_quiet=True)
    await _confirm_through_the_link(db, viewer, inbox)
    night = at("2024-11-30T23:00")
    alert = _fire(db_url, db, viewer, pid, "high", night)
    assert (alert.email_status, alert.email_due_at.replace(tzinfo=UTC)) == ("deferred", at("2024-12-01T07:00"))
    assert alert_mail.send_alert_emails(db_url, now=at("2024-12-01T06:59")) == 0
    assert alert_mail.send_alert_emails(db_url, now=at("2024-12-01T07:00")) == 1
    critical = _fire(db_url, db, viewer, pid, "critical", night)
    assert critical.email_status == "pending"
    assert alert_mail.send_alert_emails(db_url, now=night) == 1
    assert [m["Subject"][:10] for m in inbox.messages] == ["[HIGH] Two", "[CRITICAL]"]


def test_unconfirmed_or_unlisted_severity_is_not_emailed(owner, db_url, inbox) -> None:
    db, viewer, pid = owner
    _settings(db, viewer)
    alert = _fire(db_url, db, viewer, pid, "high", at("2024-11-30T12:00"))
    assert (alert.email_status, alert.email_error) == ("skipped", f"{ADDRESS} is not confirmed")
    assert alert_mail.send_alert_emails(db_url) == 0 and inbox.messages == []


async def test_a_refusing_server_fails_with_its_answer_then_sends_once(owner, db_url, inbox) -> None:
    db, viewer, pid = owner
    _settings(db, viewer)
    await _confirm_through_the_link(db, viewer, inbox)
    alert = _fire(db_url, db, viewer, pid, "high", at("2024-11-30T12:00"))
    inbox.refuse_data = "451 4.3.0 mailbox busy, try later"
    noon = at("2024-11-30T12:00")
    assert alert_mail.send_alert_emails(db_url, now=noon) == 0
    db.refresh(alert)
    assert alert.email_status == "failed" and "451" in alert.email_error and "mailbox busy" in alert.email_error
    inbox.refuse_data = None
    assert alert_mail.send_alert_emails(db_url, now=noon + dt.timedelta(minutes=4)) == 0  # backing off
    assert alert_mail.send_alert_emails(db_url, now=noon + dt.timedelta(minutes=5)) == 1
    assert alert_mail.send_alert_emails(db_url, now=noon + dt.timedelta(minutes=60)) == 0
    assert len(inbox.messages) == 1


def test_settings_are_validated_and_a_changed_address_must_be_confirmed_again(owner, db_url, inbox) -> None:
    db, viewer, _ = owner
    for kwargs, message in (
        ({"email": "not-an-address"}, "valid e-mail"),
        ({"severities": ["loud"]}, "Unknown severity loud"),
        ({"quiet_start": "25:00"}, "time like 22:00"),
        ({"quiet_end": ""}, "both ends"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
    ):
        with pytest.raises(InvalidInput, match=message):
            _settings(db, viewer, **kwargs)
        db.rollback()
    _settings(db, viewer)
    token = notifications.confirmation_token(viewer.user_id, ADDRESS)
    notifications.confirm(db, token)
    db.commit()
    assert notifications.view(db, viewer).confirmed
    _settings(db, viewer, email="new@example.com")
    assert not notifications.view(db, viewer).confirmed
    with pytest.raises(InvalidInput, match="no longer your alert address"):
        notifications.confirm(db, token)


async def test_settings_are_read_again_at_send_time(owner, db_url, inbox) -> None:
    """Deferred at night, then the address changes (unconfirmed): at the end of quiet hours it is not sent."""
    db, viewer, pid = owner
    _settings(db, viewer)
    await _confirm_through_the_link(db, viewer, inbox)
    alert = _fire(db_url, db, viewer, pid, "high", at("2024-11-30T23:00"))
    assert alert.email_status == "deferred"
    _settings(db, viewer, email="someone-else@example.com")
    assert alert_mail.send_alert_emails(db_url, now=at("2024-12-01T07:00")) == 0
    db.refresh(alert)
    assert (alert.email_status, alert.email_error) == ("skipped", "someone-else@example.com is not confirmed")
    assert inbox.messages == []


async def test_a_dead_sender_is_replaced_and_a_server_down_stops_the_batch(owner, db_url, inbox) -> None:
    db, viewer, pid = owner
    _settings(db, viewer)
    await _confirm_through_the_link(db, viewer, inbox)
    first = _fire(db_url, db, viewer, pid, "high", at("2024-11-30T12:00"))
    first.email_status, first.email_due_at = "sending", at("2024-11-30T12:15")  # claimed by a sender that died
    db.add(first)
    db.commit()
    assert alert_mail.send_alert_emails(db_url, now=at("2024-11-30T12:10")) == 0  # its claim still holds
    assert alert_mail.send_alert_emails(db_url, now=at("2024-11-30T12:15")) == 1  # lapsed: sent once
    assert len(inbox.messages) == 1

    alert_rules.create(
        db, viewer, kind="concentration", portfolio_id=pid, params={"pct": 0.2}, severity="high", email=True
    )
    alert_rules.create(
        db, viewer, kind="concentration", portfolio_id=pid, params={"pct": 0.3}, severity="high", email=True
    )
    db.commit()
    assert len(monitor.check(db_url, as_of=DAY, now=at("2024-11-30T13:00")).fired) == 2
    down = alert_mail.SmtpConfig(host="127.0.0.1", port=free_port(), security="none", timeout=2)
    assert alert_mail.send_alert_emails(db_url, now=at("2024-11-30T13:00"), smtp=down) == 0
    statuses = sorted(a.email_status for a in db.exec(select(Alert).where(Alert.id != first.id)).all())
    assert statuses == ["failed", "pending"]  # the batch stopped after the connection failed


def test_a_refused_address_is_retried_with_backoff_then_given_up(owner, db_url, inbox) -> None:
    db, viewer, pid = owner
    _settings(db, viewer)
    notifications.confirm(db, notifications.confirmation_token(viewer.user_id, ADDRESS))
    db.commit()
    alert = _fire(db_url, db, viewer, pid, "high", at("2024-11-30T12:00"))
    inbox.refuse_rcpt = "550 5.1.1 no such mailbox"
    moment, waits = at("2024-11-30T12:00"), []
    for _ in range(alert_mail.MAX_EMAIL_ATTEMPTS):
        assert alert_mail.send_alert_emails(db_url, now=moment) == 0
        db.refresh(alert)
        if alert.email_due_at is not None:
            waits.append(alert.email_due_at.replace(tzinfo=UTC) - moment)
            moment = alert.email_due_at.replace(tzinfo=UTC)
    assert [w.total_seconds() / 60 for w in waits] == [5, 10, 20, 40]
    assert alert.email_status == "undeliverable" and "550" in alert.email_error
    assert alert_mail.send_alert_emails(db_url, now=moment + dt.timedelta(days=1)) == 0


def test_a_rule_name_becomes_one_subject_line(owner, db_url, inbox) -> None:
    db, viewer, pid = owner
    row = alert_rules.create(
        db, viewer, kind="concentration", portfolio_id=pid, params={"pct": 0.1}, name="Too\r\nBcc: x@evil.test  big"
    )
    assert row.name == "Too Bcc: x@evil.test big"
