"""Alert e-mails: sending the ones that are due, each exactly once, on one SMTP connection per batch.

Each alert is claimed by one conditional UPDATE (status sending, with a claim that lapses after CLAIM_MINUTES, so
an e-mail whose sender died is sent by a later run), so two senders never both send it. At send time the owner's
settings are read again: an address changed (and not yet confirmed) since the alert fired, a severity no longer
e-mailed, quiet hours, or a deactivated account change the decision. A refused message is marked failed with the
server's answer and tried again after RETRY_MINUTES, doubling, up to MAX_EMAIL_ATTEMPTS (then undeliverable). When
the server cannot be reached or refuses the login, the batch stops: the rest stay due for the next run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import or_, update
from sqlmodel import col, select

from investment_app.db import session_scope
from investment_app.mail.smtp import DeliveryFailed, SmtpConfig, SmtpSession
from investment_app.models._time import as_utc, utcnow
from investment_app.models.alerts import Alert
from investment_app.models.user import User
from investment_app.services import notifications
from investment_app.settings import get_settings

CLAIM_MINUTES = 15
RETRY_MINUTES = 5
MAX_EMAIL_ATTEMPTS = 5
SERVER_DOWN = ("connection", "login", "starttls")
"""Failure stages after which no other message of the batch can get through."""


def message(alert: Alert, to: str) -> EmailMessage:
    """The alert as a plain-text e-mail with links to the alert centre and the notification settings."""
    settings = get_settings()
    email = EmailMessage()
    email["Subject"] = f"[{alert.severity.upper()}] {alert.title}"
    email["From"] = settings.smtp_from
    email["To"] = to
    domain = settings.smtp_from.rpartition("@")[2].strip(">") or "localhost"
    email["Message-ID"] = f"<alert.{alert.id}.{int(as_utc(alert.fired_at).timestamp())}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(
        f"{alert.message}\n\nSeverity: {alert.severity}\nAlert centre: {settings.public_url}/alerts\n\n"
        f"Change which alerts are e-mailed, or quiet hours: {settings.public_url}/settings/notifications\n"
    )
    return email


def _due(now: datetime):
    waiting = col(Alert.email_status).in_(["deferred", "failed", "sending"]) & (col(Alert.email_due_at) <= now)
    return or_(col(Alert.email_status) == "pending", waiting)


def _set(url: str | None, alert_id: int, **values: object) -> None:
    with session_scope(url) as db:
        db.exec(update(Alert).where(col(Alert.id) == alert_id).values(**values))  # type: ignore[call-overload]


def _claim(url: str | None, alert: Alert, now: datetime) -> str | None:
    """Take the alert for sending and decide again with today's settings; the address, or None (not ours, or
    no longer to be sent now: its status then says why)."""
    with session_scope(url) as db:
        claim = update(Alert).where(col(Alert.id) == alert.id, col(Alert.email_status) == alert.email_status)
        claimed = claim.values(email_status="sending", email_due_at=now + timedelta(minutes=CLAIM_MINUTES))
        if db.exec(claimed).rowcount != 1:  # type: ignore[call-overload]
            return None
        row = notifications.settings_row(db, alert.owner_id)
        user = db.get(User, alert.owner_id)
        decision = notifications.decide(row, alert.severity, now)
        if user is None or not user.is_active:
            decision = notifications.EmailDecision("skipped", reason="the account is deactivated")
    if decision.status == "pending":
        return row.email
    _set(url, alert.id or 0, email_status=decision.status, email_due_at=decision.due, email_error=decision.reason)
    return None


def _failed(url: str | None, alert: Alert, error: str, now: datetime) -> None:
    attempts = alert.email_attempts + 1
    final = attempts >= MAX_EMAIL_ATTEMPTS
    _set(
        url,
        alert.id or 0,
        email_status="undeliverable" if final else "failed",
        email_error=error,
        email_attempts=attempts,
        email_due_at=None if final else now + timedelta(minutes=RETRY_MINUTES * 2 ** (attempts - 1)),
    )


def send_alert_emails(url: str | None = None, now: datetime | None = None, smtp: SmtpConfig | None = None) -> int:
    """Send every alert e-mail that is due; how many were sent. With no SMTP_HOST (e-mail off) nothing is sent
    and the e-mails stay due."""
    if smtp is None and not get_settings().smtp_host:
        return 0
    now = now or utcnow()
    with session_scope(url) as db:
        waiting = list(db.exec(select(Alert).where(_due(now)).order_by(col(Alert.id))).all())
    sent = 0
    with SmtpSession(smtp or SmtpConfig.from_settings(get_settings())) as session:
        for alert in waiting:
            if (to := _claim(url, alert, now)) is None:
                continue
            try:
                session.send(message(alert, to))
            except DeliveryFailed as exc:
                _failed(url, alert, str(exc), now)
                if exc.stage in SERVER_DOWN:
                    break
                continue
            except (ValueError, TypeError) as exc:  # a message that cannot be built: never leave it claimed
                _failed(url, alert, f"{type(exc).__name__}: {exc}", now)
                continue
            _set(url, alert.id or 0, email_status="sent", emailed_at=now, email_error=None, email_due_at=None)
            sent += 1
    return sent
