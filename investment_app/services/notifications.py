"""A user's notification settings: the alert e-mail address (confirmed by a signed link), which severities go
by e-mail, and quiet hours; and the decision, for one alert, whether to e-mail it now, later or not at all."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session

from investment_app.auth import signing
from investment_app.auth.viewer import Viewer
from investment_app.mail.smtp import SmtpConfig, send_message
from investment_app.models._time import as_utc, utcnow
from investment_app.models.alerts import NotificationSettings, Severity
from investment_app.models.user import User
from investment_app.services import audit
from investment_app.services.accounts import normalize_email
from investment_app.services.errors import InvalidInput
from investment_app.settings import get_settings

CONFIRM_PURPOSE = "confirm-email.v1"
CONFIRM_HOURS = 48
CONFIRM_EVERY = timedelta(minutes=5)
"""At most one confirmation e-mail per user this often (the address is whatever the user typed)."""
SEVERITIES = tuple(s.value for s in Severity)
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True)
class NotificationView:
    """The settings as the page shows them."""

    email: str
    confirmed: bool
    severities: list[str]
    quiet_start: str
    quiet_end: str
    timezone: str
    critical_bypasses_quiet: bool


def settings_row(db: Session, user_id: int) -> NotificationSettings:
    """The stored settings, or the defaults (login address, not confirmed) when there are none yet."""
    row = db.get(NotificationSettings, user_id)
    if row is None:
        user = db.get(User, user_id)
        row = NotificationSettings(user_id=user_id, email=user.email if user else "")
    return row


def view(db: Session, viewer: Viewer) -> NotificationView:
    """The viewer's own settings."""
    row = settings_row(db, viewer.user_id)
    return NotificationView(
        email=row.email,
        confirmed=row.email_confirmed_at is not None,
        severities=[s for s in SEVERITIES if s in row.email_severities],
        quiet_start=row.quiet_start or "",
        quiet_end=row.quiet_end or "",
        timezone=row.timezone,
        critical_bypasses_quiet=row.critical_bypasses_quiet,
    )


def _clock(value: str, field: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not _CLOCK.fullmatch(value):
        raise InvalidInput(f"{field} must be a time like 22:00; got {value!r}.")
    return value


def _zone(name: str) -> str:
    name = (name or "UTC").strip()
    if name != "UTC" and name not in available_timezones():
        raise InvalidInput(f"Unknown time zone {name!r}; use a name like Europe/Paris or America/New_York.")
    return name


def update(
    db: Session,
    viewer: Viewer,
    *,
    email: str,
    severities: list[str],
    quiet_start: str = "",
    quiet_end: str = "",
    timezone: str = "UTC",
    critical_bypasses_quiet: bool = True,
) -> NotificationView:
    """Validate everything, then save (audited); a new address must be confirmed again."""
    address = normalize_email(email)
    unknown = sorted(set(severities) - set(SEVERITIES))
    if unknown:
        raise InvalidInput(f"Unknown severity {', '.join(unknown)}; expected some of {', '.join(SEVERITIES)}.")
    start, end = _clock(quiet_start, "Quiet hours start"), _clock(quiet_end, "Quiet hours end")
    if (start is None) != (end is None):
        raise InvalidInput("Give both ends of the quiet hours, or neither.")
    if start is not None and start == end:
        raise InvalidInput("Quiet hours must not start and end at the same time.")
    row = settings_row(db, viewer.user_id)
    before = view(db, viewer).__dict__
    if address != row.email:
        row.email, row.email_confirmed_at = address, None
    row.email_severities = [s for s in SEVERITIES if s in severities]
    row.quiet_start, row.quiet_end = start, end
    row.timezone = _zone(timezone)
    row.critical_bypasses_quiet = critical_bypasses_quiet
    row.updated_at = utcnow()
    db.add(row)
    db.flush()
    after = view(db, viewer)
    audit.record(db, viewer, "notifications.update", "user", viewer.user_id, before=before, after=after.__dict__)
    return after


def confirmation_token(user_id: int, email: str, now: datetime | None = None) -> str:
    """A link token binding the user to this address, valid CONFIRM_HOURS."""
    expires = (now or utcnow()) + timedelta(hours=CONFIRM_HOURS)
    return signing.sign(CONFIRM_PURPOSE, [str(user_id), email], get_settings().secret_key, expires)


def send_confirmation(db: Session, viewer: Viewer, smtp: SmtpConfig | None = None) -> str:
    """E-mail the confirmation link to the viewer's alert address (at most once per CONFIRM_EVERY); the address."""
    row = settings_row(db, viewer.user_id)
    now = utcnow()
    if row.confirmation_sent_at is not None and now - as_utc(row.confirmation_sent_at) < CONFIRM_EVERY:
        raise InvalidInput("A confirmation link was sent a moment ago; wait a few minutes before asking again.")
    settings = get_settings()
    link = f"{settings.public_url}/api/v1/notifications/confirm?token={confirmation_token(viewer.user_id, row.email)}"
    message = EmailMessage()
    message["Subject"] = "Confirm your alert e-mail address"
    message["From"] = settings.smtp_from
    message["To"] = row.email
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"Open this link within {CONFIRM_HOURS} hours to receive alert e-mails at {row.email}:\n\n{link}\n\n"
        "If you did not ask for this, ignore this message: nothing will be sent to this address."
    )
    send_message(message, smtp or SmtpConfig.from_settings(settings))
    row.confirmation_sent_at = now
    db.add(row)
    return row.email


def confirm(db: Session, token: str, now: datetime | None = None) -> str:
    """Mark the address in ``token`` confirmed, if it is still the user's alert address; returns it."""
    try:
        user_id, email = signing.verify(CONFIRM_PURPOSE, token, get_settings().secret_key, 2, now)
    except signing.BadToken as exc:
        raise InvalidInput(f"This confirmation link is not valid ({exc.reason}).") from exc
    row = settings_row(db, int(user_id))
    if row.email != email:
        raise InvalidInput("This link confirms an address that is no longer your alert address.")
    if row.email_confirmed_at is None:
        row.email_confirmed_at = now or utcnow()
        db.add(row)
        audit.record(db, None, "notifications.confirm", "user", user_id, after={"email": email})
    return email


def quiet_until(moment: datetime, start: str | None, end: str | None, zone: str) -> datetime | None:
    """The end of the quiet window ``moment`` falls in (aware UTC), or None when outside it or no window.

    The window runs from ``start`` to ``end`` local wall-clock time in ``zone`` and may cross midnight (22:00 to
    07:00). Its end is the next ``end`` local time after ``moment``, computed on the local calendar, so a window
    ending at 07:00 ends at 07:00 local time on either side of a daylight-saving change.
    """
    if not start or not end:
        return None
    try:
        tz = ZoneInfo(zone)
    except ZoneInfoNotFoundError:
        return None
    local = moment.astimezone(tz)
    begin, finish, now = time.fromisoformat(start), time.fromisoformat(end), local.time()
    inside = begin <= now < finish if begin < finish else now >= begin or now < finish
    if not inside:
        return None
    day = local.date() if now < finish else local.date() + timedelta(days=1)
    return datetime.combine(day, finish, tzinfo=tz).astimezone(moment.tzinfo)


@dataclass(frozen=True)
class EmailDecision:
    """What to do with an alert's e-mail: status pending (send now), deferred (at ``due``) or skipped (why)."""

    status: str
    due: datetime | None = None
    reason: str = ""


def decide(row: NotificationSettings, severity: str, now: datetime) -> EmailDecision:
    """Whether an alert of ``severity`` raised at ``now`` is e-mailed to ``row``'s address now, later or not."""
    if row.email_confirmed_at is None:
        return EmailDecision("skipped", reason=f"{row.email} is not confirmed")
    if severity not in row.email_severities:
        return EmailDecision("skipped", reason=f"{severity} alerts are not e-mailed")
    if severity == Severity.CRITICAL and row.critical_bypasses_quiet:
        return EmailDecision("pending")
    due = quiet_until(now, row.quiet_start, row.quiet_end, row.timezone)
    return EmailDecision("pending") if due is None else EmailDecision("deferred", due=due)
