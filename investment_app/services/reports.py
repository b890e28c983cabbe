"""Scheduled tearsheet reports: subscriptions, the period each report covers, and delivery by e-mail, once.

Periods (UTC). A report belongs to the last completed period: daily = the previous calendar day
("2026-11-20"), weekly = the previous ISO 8601 week, Monday to Sunday, keyed by its week-numbering year
("2026-W47"; 2026-12-28 to 2027-01-03 is "2026-W53"), monthly = the previous calendar month ("2026-11").
A period becomes due at REPORT_HOUR_UTC on the day after it ends; before that hour the period before it is
still the due one. A subscription is due for a period only if it was created (or re-activated) before the
period ended. The e-mail carries the portfolio's tearsheet on the latest prices when it is rendered.

Exactly once. A report is claimed by INSERTing its ReportDelivery row, whose idempotency key
"report:<subscription id>:<period>" is unique, in its own committed transaction (status "sending",
lease_until = now + LEASE): a duplicate key means another run has it, and this run skips it. A failed row, or
a "sending" row whose lease has run out (its sender died), is taken back with one conditional UPDATE ... WHERE
id, status and attempts are still what this run read, so of two concurrent runs only one gets it. Then the
tearsheet is rendered and sent, and the row marked sent. ``attempts`` counts claims (the INSERT is attempt
1, each take-back adds one), so a failed attempt leaves the row one attempt further on.

The one at-least-once window: the server has answered 250 to the message, and the process dies before
"sent" is committed. The row stays "sending"; once its lease has run out the next run sends it again, with
the same Message-ID (derived from the key), so the receiving side can tell it is the same message. SMTP has
no two-phase commit: after its 250 the server owns the message, which cannot be queried or recalled, and
recording "sent" before the 250 would turn this duplicate into a loss (RFC 1047 describes the window). The
lease (10 minutes) is far longer than one report's render and send (about a second, at most the SMTP timeout
of 30 s), so a live sender never loses its claim.

Failures. A refused or unreachable server (its answer: stage, code and text), or a tearsheet that cannot be
rendered, marks the row failed with the reason; the run carries on with the other reports, then raises
ReportsFailed, so the job runner records the run failed and tries again later. Every run retries the failed
rows of active subscriptions, whatever their period, until a row has had MAX_ATTEMPTS attempts.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy import Engine, and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from investment_app.analytics.errors import AnalyticsError
from investment_app.auth.viewer import Viewer
from investment_app.db import get_engine
from investment_app.mail import (
    DeliveryFailed,
    InvalidToken,
    SmtpConfig,
    SmtpSession,
    compose_report_email,
    make_unsubscribe_token,
    read_unsubscribe_token,
    report_message_id,
    send_message,
)
from investment_app.marketdata.price_book import shared_prices
from investment_app.models._time import as_utc, utcnow
from investment_app.models.portfolio import Portfolio, PortfolioShare
from investment_app.models.reports import ReportDelivery, ReportFrequency, ReportSubscription
from investment_app.models.user import User
from investment_app.services import accounts, audit, portfolios, tearsheets
from investment_app.services.errors import Forbidden, InvalidInput, ServiceError
from investment_app.settings import Settings, get_settings
from investment_app.tearsheet.model import TearsheetData

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
"""How long a claimed report stays with its sender before another run may take it back."""
MAX_ATTEMPTS = 5
"""Attempts after which a failed report is no longer retried (it stays failed, with its last error)."""
UNSUBSCRIBE_PATH = "/api/v1/reports/unsubscribe"
SENDING, SENT, FAILED = "sending", "sent", "failed"
DELIVERY = ReportDelivery.__table__
NO_SUBSCRIPTION = "No such report subscription, or it is not yours."


# --- periods ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One report period: its key, and [start, end) as UTC midnights."""

    key: str
    start: datetime
    end: datetime

    @property
    def last_day(self) -> date:
        """The period's last calendar day."""
        return (self.end - timedelta(days=1)).date()


def _frequency(value: str) -> ReportFrequency:
    try:
        return ReportFrequency(value)
    except ValueError:
        raise InvalidInput(f"Unknown report frequency {value!r}; use daily, weekly or monthly.") from None


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def period_for(frequency: str, now: datetime, report_hour: int) -> Period:
    """The last completed period as of ``now`` whose report is due (see the module's docstring).

    Shifting ``now`` back by ``report_hour`` hours gives the day D whose previous period is due: daily D − 1;
    weekly the ISO week before the one holding D; monthly the month before D's.
    """
    if now.tzinfo is None:
        raise InvalidInput("The time must be timezone-aware (UTC).")
    if not 0 <= report_hour <= 23:
        raise InvalidInput(f"The report hour must be 0 to 23; got {report_hour}.")
    kind = _frequency(frequency)
    day = (now.astimezone(UTC) - timedelta(hours=report_hour)).date()
    if kind is ReportFrequency.DAILY:
        first, after = day - timedelta(days=1), day
        key = first.isoformat()
    elif kind is ReportFrequency.WEEKLY:
        after = day - timedelta(days=day.weekday())
        first = after - timedelta(days=7)
        year, week, _ = first.isocalendar()
        key = f"{year}-W{week:02d}"
    else:
        after = day.replace(day=1)
        first = (after - timedelta(days=1)).replace(day=1)
        key = f"{first:%Y-%m}"
    return Period(key, _midnight(first), _midnight(after))


# --- subscriptions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionRow:
    """A report subscription as listed for its owner (and named on the unsubscribe page)."""

    id: int
    portfolio_id: int
    portfolio: str
    frequency: str
    recipient: str
    active: bool
    since: str
    """When it was created or last re-activated (ISO, UTC)."""


def _row(sub: ReportSubscription, portfolio_name: str) -> SubscriptionRow:
    return SubscriptionRow(
        sub.id or 0,
        sub.portfolio_id,
        portfolio_name,
        sub.frequency,
        sub.recipient,
        sub.active,
        as_utc(sub.created_at).isoformat(timespec="seconds"),
    )


def _snapshot(sub: ReportSubscription) -> dict:
    return {
        "portfolio_id": sub.portfolio_id,
        "frequency": sub.frequency,
        "recipient": sub.recipient,
        "owner_id": sub.owner_id,
        "active": sub.active,
    }


def subscribe(
    db: Session, viewer: Viewer, portfolio_id: int, frequency: str, recipient: str | None = None
) -> SubscriptionRow:
    """Subscribe ``recipient`` (default: the viewer's own address) to a portfolio the viewer can read.

    Subscribing again re-activates an ended subscription (and restarts its clock: it is due from the next
    period that ends); an active one of the viewer's is returned unchanged. Audited.
    """
    kind = _frequency(frequency)
    portfolio = portfolios.readable(db, viewer, portfolio_id)
    address = accounts.normalize_email(viewer.email if recipient is None else recipient)
    sub = db.exec(
        select(ReportSubscription).where(
            ReportSubscription.portfolio_id == portfolio_id,
            ReportSubscription.frequency == kind.value,
            ReportSubscription.recipient == address,
        )
    ).first()
    if sub is not None and sub.active:
        if sub.owner_id != viewer.user_id:
            raise InvalidInput(f"{address} already receives the {kind.value} report of {portfolio.name!r}.")
        return _row(sub, portfolio.name)
    before = None if sub is None else _snapshot(sub)
    sub = sub or ReportSubscription(
        owner_id=viewer.user_id, portfolio_id=portfolio_id, frequency=kind.value, recipient=address
    )
    sub.owner_id, sub.active, sub.created_at, sub.unsubscribed_at = viewer.user_id, True, utcnow(), None
    db.add(sub)
    db.flush()
    audit.record(db, viewer, "report.subscribe", "report_subscription", sub.id, before=before, after=_snapshot(sub))
    return _row(sub, portfolio.name)


def list_subscriptions(db: Session, viewer: Viewer) -> list[SubscriptionRow]:
    """The viewer's subscriptions, active and ended, by portfolio name, frequency and address."""
    rows = db.exec(
        select(ReportSubscription, Portfolio.name)
        .join(Portfolio, col(Portfolio.id) == ReportSubscription.portfolio_id)
        .where(ReportSubscription.owner_id == viewer.user_id)
        .order_by(col(Portfolio.name), col(ReportSubscription.frequency), col(ReportSubscription.recipient))
    ).all()
    return [_row(sub, name) for sub, name in rows]


def _end(db: Session, actor: Viewer | None, sub: ReportSubscription, via: str) -> SubscriptionRow:
    """Deactivate ``sub`` (audited) unless it already is; the row as it is now."""
    name = db.get(Portfolio, sub.portfolio_id).name
    if not sub.active:
        return _row(sub, name)
    before = _snapshot(sub)
    sub.active, sub.unsubscribed_at = False, utcnow()
    db.add(sub)
    audit.record(
        db,
        actor,
        "report.unsubscribe",
        "report_subscription",
        sub.id,
        before=before,
        after=_snapshot(sub) | {"via": via},
    )
    return _row(sub, name)


def unsubscribe(db: Session, viewer: Viewer, subscription_id: int) -> SubscriptionRow:
    """End one of the viewer's own subscriptions (idempotent, audited)."""
    sub = db.get(ReportSubscription, subscription_id)
    if sub is None or sub.owner_id != viewer.user_id:
        raise Forbidden(NO_SUBSCRIPTION)
    return _end(db, viewer, sub, "app")


def _by_token(db: Session, token: str) -> ReportSubscription:
    try:
        subscription_id = read_unsubscribe_token(token, get_settings().secret_key)
    except InvalidToken as exc:
        raise InvalidInput(f"This unsubscribe link is not valid ({exc.reason}).") from None
    sub = db.get(ReportSubscription, subscription_id)
    if sub is None:
        raise InvalidInput("This report no longer exists (its portfolio was deleted); nothing more will be sent.")
    return sub


def subscription_for_token(db: Session, token: str) -> SubscriptionRow:
    """The subscription a signed unsubscribe token names; InvalidInput with the reason when it is not valid."""
    sub = _by_token(db, token)
    return _row(sub, db.get(Portfolio, sub.portfolio_id).name)


def unsubscribe_by_token(db: Session, token: str) -> SubscriptionRow:
    """End the one subscription the token names, without sign-in: the signature is the authority.

    Idempotent; audited with no actor ("system"). A tampered or expired token raises InvalidInput, changing nothing.
    """
    return _end(db, None, _by_token(db, token), "link")


def unsubscribe_url(settings: Settings, subscription_id: int) -> str:
    """``{PUBLIC_URL}/api/v1/reports/unsubscribe?token=…`` with a token that never expires."""
    token = make_unsubscribe_token(subscription_id, settings.secret_key)
    return f"{settings.public_url}{UNSUBSCRIBE_PATH}?{urlencode({'token': token})}"


# --- delivery ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one report: sent, failed (``detail`` = the server's answer or the render error) or
    skipped (``detail`` says why: already sent, another run has it, given up)."""

    status: str
    subscription_id: int | None
    portfolio_id: int
    period: str
    recipient: str
    delivery_id: int | None = None
    attempts: int = 0
    message_id: str = ""
    detail: str = ""


@dataclass(frozen=True)
class DeliveryReport:
    """One run of ``send_due``."""

    now: datetime
    seconds: float
    sent: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain JSON-ready data: counts, then every outcome by status."""
        return {
            "now": self.now.isoformat(),
            "seconds": round(self.seconds, 3),
            "counts": {"sent": len(self.sent), "skipped": len(self.skipped), "failed": len(self.failed)},
            "sent": [asdict(o) for o in self.sent],
            "skipped": [asdict(o) for o in self.skipped],
            "failed": [asdict(o) for o in self.failed],
        }


class ReportsFailed(ServiceError):
    """Some reports were not delivered (each recorded failed, to be retried); the others were sent."""

    def __init__(self, failed: list[Outcome], report: DeliveryReport | None = None) -> None:
        self.failed = failed
        self.report = report
        sent = f" ({len(report.sent)} sent)" if report else ""
        reasons = "; ".join(f"{o.recipient}, {o.period}: {o.detail}" for o in failed[:3])
        more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
        super().__init__(f"{len(failed)} report(s) not delivered{sent}: {reasons}{more}")


@dataclass(frozen=True)
class _Due:
    """One report to send: a subscription and a period key."""

    subscription_id: int
    portfolio_id: int
    portfolio_name: str
    frequency: str
    recipient: str
    owner: Viewer
    period: str

    @property
    def key(self) -> str:
        return f"report:{self.subscription_id}:{self.period}"

    def outcome(self, status: str, **details: object) -> Outcome:
        return Outcome(status, self.subscription_id, self.portfolio_id, self.period, self.recipient, **details)


def _smtp(settings: Settings, smtp: SmtpConfig | None) -> SmtpConfig:
    """The given configuration, else the SMTP_* settings; InvalidInput when e-mail is not configured."""
    try:
        return smtp or SmtpConfig.from_settings(settings)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _check_public_url(settings: Settings) -> None:
    parts = urlsplit(settings.public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            f"PUBLIC_URL must be an absolute http(s) URL for the links in e-mails; got {parts.geturl()!r}"
        )


def _eligible():
    """Active subscriptions of active users who can still read the portfolio (owner or a share)."""
    return (
        select(ReportSubscription, User, Portfolio.name)
        .join(User, col(User.id) == ReportSubscription.owner_id)
        .join(Portfolio, col(Portfolio.id) == ReportSubscription.portfolio_id)
        .outerjoin(
            PortfolioShare,
            and_(
                col(PortfolioShare.portfolio_id) == ReportSubscription.portfolio_id,
                col(PortfolioShare.user_id) == ReportSubscription.owner_id,
            ),
        )
        .where(
            col(ReportSubscription.active),
            col(User.is_active),
            or_(col(Portfolio.owner_id) == ReportSubscription.owner_id, col(PortfolioShare.user_id).is_not(None)),
        )
    )


def _due_reports(db: Session, now: datetime, report_hour: int) -> list[_Due]:
    """This period's reports of every eligible subscription created before the period ended, plus the
    failed or stalled ("sending" past their lease: the claim decides) reports of earlier periods with attempts
    left; ordered by portfolio so the subscriptions of one portfolio share its tearsheet."""
    periods = {kind.value: period_for(kind.value, now, report_hour) for kind in ReportFrequency}
    rows = {sub.id: (sub, user, name) for sub, user, name in db.exec(_eligible()).all()}

    def due(subscription_id: int, period: str) -> _Due:
        sub, user, name = rows[subscription_id]
        owner = Viewer(user.id, user.email, user.display_name, user.role, session_id="reports")
        return _Due(sub.id, sub.portfolio_id, name, sub.frequency, sub.recipient, owner, period)

    items = {
        (sub.id, periods[sub.frequency].key): due(sub.id, periods[sub.frequency].key)
        for sub, _, _ in rows.values()
        if as_utc(sub.created_at) < periods[sub.frequency].end
    }
    retries = db.exec(
        select(ReportDelivery.subscription_id, ReportDelivery.period).where(
            col(ReportDelivery.subscription_id).in_(_eligible().with_only_columns(col(ReportSubscription.id))),
            col(ReportDelivery.status).in_((FAILED, SENDING)),
            col(ReportDelivery.attempts) < MAX_ATTEMPTS,
        )
    ).all()
    for subscription_id, period in retries:
        items.setdefault((subscription_id, period), due(subscription_id, period))
    return sorted(items.values(), key=lambda d: (d.portfolio_id, d.subscription_id, d.period))


@dataclass(frozen=True)
class _Claim:
    id: int
    attempts: int


def _claim(db: Session, item: _Due, now: datetime, lease: timedelta) -> _Claim | Outcome:
    """Take the report for this run (see the module's docstring), or say why another run has it."""
    row = db.exec(select(ReportDelivery).where(ReportDelivery.idempotency_key == item.key)).first()
    if row is None:
        row = ReportDelivery(
            subscription_id=item.subscription_id,
            portfolio_id=item.portfolio_id,
            period=item.period,
            idempotency_key=item.key,
            recipient=item.recipient,
            status=SENDING,
            attempts=1,
            lease_until=now + lease,
        )
        db.add(row)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            return item.outcome("skipped", detail="claimed by another run")
        return _Claim(row.id, 1)
    skipped = {"delivery_id": row.id, "attempts": row.attempts, "message_id": row.message_id}
    if row.status == SENT:
        return item.outcome("skipped", detail="already sent", **skipped)
    if row.status == SENDING and row.lease_until is not None and as_utc(row.lease_until) > now:
        return item.outcome("skipped", detail="being sent by another run", **skipped)
    if row.attempts >= MAX_ATTEMPTS:
        return item.outcome("skipped", detail=f"given up after {row.attempts} attempts: {row.error}", **skipped)
    taken = db.execute(
        update(DELIVERY)
        .where(DELIVERY.c.id == row.id, DELIVERY.c.status == row.status, DELIVERY.c.attempts == row.attempts)
        .values(status=SENDING, attempts=row.attempts + 1, lease_until=now + lease)
    )
    db.commit()
    if taken.rowcount != 1:
        return item.outcome("skipped", detail="claimed by another run", **skipped)
    return _Claim(row.id, row.attempts + 1)


def _finish(db: Session, claim: _Claim, status: str, message_id: str = "", error: str | None = None) -> None:
    """Record the end of this run's attempt (only if no later claim has taken the row meanwhile)."""
    values = {"status": status, "lease_until": None, "error": error}
    if status == SENT:
        values |= {"sent_at": utcnow(), "message_id": message_id}
    done = db.execute(
        update(DELIVERY).where(DELIVERY.c.id == claim.id, DELIVERY.c.attempts == claim.attempts).values(**values)
    )
    db.commit()
    if done.rowcount != 1:
        log.warning("report delivery %d was taken back by another run before this one recorded it", claim.id)


def _answer(exc: DeliveryFailed) -> str:
    """The server's answer as stored: "stage: code text"."""
    return f"{exc.stage}: {exc.code} {exc.text}" if exc.code is not None else f"{exc.stage}: {exc.text}"


def _failed(db: Session, claim: _Claim, item: _Due, reason: str) -> Outcome:
    _finish(db, claim, FAILED, error=reason)
    return item.outcome("failed", delivery_id=claim.id, attempts=claim.attempts, detail=reason)


class _Tearsheets:
    """The tearsheet of the portfolio being reported on (or why it failed), kept for its next subscription."""

    def __init__(self) -> None:
        self._portfolio_id: int | None = None
        self._result: TearsheetData | Exception | None = None

    def get(self, db: Session, item: _Due) -> TearsheetData:
        if item.portfolio_id != self._portfolio_id:
            self._portfolio_id = item.portfolio_id
            try:
                self._result = tearsheets.portfolio_tearsheet(db, item.owner, item.portfolio_id)
            except (ServiceError, AnalyticsError) as exc:
                self._result = exc
        if isinstance(self._result, Exception):
            raise self._result
        return self._result


def _deliver(
    engine: Engine,
    item: _Due,
    now: datetime,
    lease: timedelta,
    settings: Settings,
    mailer: SmtpSession,
    sheets: _Tearsheets,
) -> Outcome:
    """Claim, render, send and record one report (unless it was unsubscribed since the run began)."""
    with Session(engine, expire_on_commit=False) as db:
        subscription = db.get(ReportSubscription, item.subscription_id)
        if subscription is None or not subscription.active:
            return item.outcome("skipped", detail="unsubscribed")
        claim = _claim(db, item, now, lease)
        if isinstance(claim, Outcome):
            return claim
        message_id = report_message_id(item.key, settings.smtp_from)
        try:
            message = compose_report_email(
                sheets.get(db, item),
                sender=settings.smtp_from,
                to=item.recipient,
                unsubscribe_url=unsubscribe_url(settings, item.subscription_id),
                subject=f"{item.frequency.capitalize()} report: {item.portfolio_name}, {item.period}",
                message_id=message_id,
            )
            mailer.send(message)
        except DeliveryFailed as exc:
            return _failed(db, claim, item, _answer(exc))
        except (ServiceError, AnalyticsError) as exc:
            return _failed(db, claim, item, f"render: {exc}")
        except Exception as exc:
            log.exception("report %s could not be rendered", item.key)  # a bug: it must not stop the others
            return _failed(db, claim, item, f"render: {type(exc).__name__}: {exc}")
        _finish(db, claim, SENT, message_id=message_id)
        return item.outcome("sent", delivery_id=claim.id, attempts=claim.attempts, message_id=message_id)


def send_due(
    url: str | None = None, now: datetime | None = None, smtp: SmtpConfig | None = None, lease: timedelta = LEASE
) -> DeliveryReport:
    """Send every report due at ``now`` (default: the current time), each at most once per period.

    Prices are read once for the whole run (``marketdata.price_book.shared_prices``) and one SMTP connection
    carries every message. Raises ReportsFailed, carrying the DeliveryReport, after the run when any report failed.
    """
    started = time.perf_counter()
    now = now or utcnow()
    if now.tzinfo is None:
        raise InvalidInput("The time must be timezone-aware (UTC).")
    settings = get_settings()
    config = _smtp(settings, smtp)
    _check_public_url(settings)
    engine = get_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        work = _due_reports(db, now, settings.report_hour_utc)
    outcomes: dict[str, list[Outcome]] = {"sent": [], "skipped": [], "failed": []}
    sheets = _Tearsheets()
    with shared_prices(engine), SmtpSession(config) as mailer:
        for item in work:
            outcome = _deliver(engine, item, now, lease, settings, mailer, sheets)
            outcomes[outcome.status].append(outcome)
    report = DeliveryReport(now, time.perf_counter() - started, **outcomes)
    log.info("reports: %d sent, %d skipped, %d failed", len(report.sent), len(report.skipped), len(report.failed))
    if report.failed:
        raise ReportsFailed(report.failed, report)
    return report


def send_one(db: Session, user_email: str, portfolio_name: str, to: str, smtp: SmtpConfig | None = None) -> Outcome:
    """Render and send one portfolio's report now, acting as ``user_email`` (who must be able to read it).

    Its idempotency key is unique to the call ("once:<portfolio>:<time>:<random>"): an explicit send is never
    a duplicate. Nothing is written when the input is bad; the delivery row is committed before sending and
    then marked sent or failed (ReportsFailed carries the server's answer). Audited.
    """
    viewer = accounts.acting_as(db, user_email)
    portfolio = portfolios.by_name(db, viewer, portfolio_name)
    recipient = accounts.normalize_email(to)
    settings = get_settings()
    config = _smtp(settings, smtp)
    data = tearsheets.portfolio_tearsheet(db, viewer, portfolio.id)
    now = utcnow()
    key = f"once:{portfolio.id}:{now:%Y%m%dT%H%M%S%f}:{secrets.token_hex(4)}"
    message_id = report_message_id(key, settings.smtp_from)
    message = compose_report_email(
        data,
        sender=settings.smtp_from,
        to=recipient,
        unsubscribe_url=None,
        subject=f"Report: {portfolio.name}, {now.date().isoformat()}",
        message_id=message_id,
    )
    row = ReportDelivery(
        portfolio_id=portfolio.id,
        period=now.date().isoformat(),
        idempotency_key=key,
        recipient=recipient,
        status=SENDING,
        attempts=1,
        lease_until=now + LEASE,
    )
    db.add(row)
    audit.record(db, viewer, "report.send", "portfolio", portfolio.id, after={"recipient": recipient, "key": key})
    db.commit()
    claim = _Claim(row.id, 1)
    try:
        send_message(message, config)
    except DeliveryFailed as exc:
        _finish(db, claim, FAILED, error=_answer(exc))
        raise ReportsFailed(
            [Outcome(FAILED, None, portfolio.id, row.period, recipient, row.id, 1, "", _answer(exc))]
        ) from exc
    _finish(db, claim, SENT, message_id=message_id)
    return Outcome(SENT, None, portfolio.id, row.period, recipient, row.id, 1, message_id)
