"""Fired alerts: the alert centre's list with filters, the badge count, acknowledging and resolving.

An alert moves open → acknowledged → resolved (or open → resolved); each step records who and when and is
audited. Only the alert's owner sees or changes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from investment_app.auth.viewer import Viewer
from investment_app.models._time import as_utc, utcnow
from investment_app.models.alerts import Alert, AlertState
from investment_app.models.portfolio import Portfolio
from investment_app.services import audit
from investment_app.services.errors import Forbidden, InvalidInput

NOT_FOUND = "No such alert."
PAGE = 200


@dataclass(frozen=True)
class AlertRow:
    """An alert as the alert centre lists it."""

    id: int
    fired: str
    as_of: str
    severity: str
    kind: str
    target: str
    title: str
    message: str
    state: str
    handled: str
    email: str


@dataclass(frozen=True)
class Filters:
    """The alert centre's filters; empty = any."""

    state: str = ""
    severity: str = ""
    kind: str = ""
    portfolio_id: int | None = None


def _handled(alert: Alert, names: dict[int, str]) -> str:
    """Who acknowledged and resolved it, and when."""
    steps = []
    for verb, who, at in (
        ("acknowledged", alert.acknowledged_by, alert.acknowledged_at),
        ("resolved", alert.resolved_by, alert.resolved_at),
    ):
        if at is not None:
            steps.append(f"{verb} by {names.get(who or 0, 'system')} {as_utc(at):%Y-%m-%d %H:%M}")
    return "; ".join(steps)


def _row(alert: Alert, names: dict[int, str], portfolios: dict[int, str]) -> AlertRow:
    return AlertRow(
        id=alert.id or 0,
        fired=f"{as_utc(alert.fired_at):%Y-%m-%d %H:%M}",
        as_of=alert.as_of.isoformat(),
        severity=alert.severity,
        kind=alert.kind,
        target=alert.symbol or portfolios.get(alert.portfolio_id or 0, ""),
        title=alert.title,
        message=alert.message,
        state=alert.state,
        handled=_handled(alert, names),
        email=alert.email_status if alert.email_status != "none" else "",
    )


def list_alerts(db: Session, viewer: Viewer, filters: Filters = Filters(), limit: int = PAGE) -> list[AlertRow]:
    """The viewer's alerts, newest first, filtered."""
    query = select(Alert).where(Alert.owner_id == viewer.user_id)
    if filters.state:
        query = query.where(Alert.state == filters.state)
    if filters.severity:
        query = query.where(Alert.severity == filters.severity)
    if filters.kind:
        query = query.where(Alert.kind == filters.kind)
    if filters.portfolio_id is not None:
        query = query.where(Alert.portfolio_id == filters.portfolio_id)
    alerts = db.exec(query.order_by(col(Alert.id).desc()).limit(limit)).all()
    portfolio_ids = {a.portfolio_id for a in alerts if a.portfolio_id}
    names = {viewer.user_id: viewer.display_name or viewer.email}
    found = db.exec(select(Portfolio.id, Portfolio.name).where(col(Portfolio.id).in_(portfolio_ids))).all()
    return [_row(a, names, dict(found)) for a in alerts]  # type: ignore[arg-type]


def open_count(db: Session, user_id: int) -> int:
    """How many of the user's alerts are open (the badge)."""
    query = select(func.count()).select_from(Alert).where(Alert.owner_id == user_id, Alert.state == AlertState.OPEN)
    return int(db.exec(query).one())  # type: ignore[call-overload]


def _owned(db: Session, viewer: Viewer, alert_id: int) -> Alert:
    alert = db.get(Alert, alert_id)
    if alert is None or alert.owner_id != viewer.user_id:
        raise Forbidden(NOT_FOUND)
    return alert


def acknowledge(db: Session, viewer: Viewer, alert_id: int) -> None:
    """Open → acknowledged, by the viewer, now (audited)."""
    alert = _owned(db, viewer, alert_id)
    if alert.state != AlertState.OPEN:
        raise InvalidInput(f"This alert is already {alert.state}.")
    alert.state, alert.acknowledged_by, alert.acknowledged_at = AlertState.ACKNOWLEDGED, viewer.user_id, utcnow()
    db.add(alert)
    audit.record(db, viewer, "alert.acknowledge", "alert", alert_id, {"state": "open"}, {"state": alert.state})


def resolve(db: Session, viewer: Viewer, alert_id: int) -> None:
    """Open or acknowledged → resolved, by the viewer, now (audited)."""
    alert = _owned(db, viewer, alert_id)
    if alert.state == AlertState.RESOLVED:
        raise InvalidInput("This alert is already resolved.")
    before = alert.state
    alert.state, alert.resolved_by, alert.resolved_at = AlertState.RESOLVED, viewer.user_id, utcnow()
    db.add(alert)
    audit.record(db, viewer, "alert.resolve", "alert", alert_id, {"state": before}, {"state": alert.state})


@dataclass(frozen=True)
class Fired:
    """A newly fired alert, as pushed to its owner's open pages."""

    id: int
    owner_id: int
    severity: str
    title: str
    message: str


def latest_id(db: Session) -> int:
    """The newest alert's id (0 when there is none): where a pusher starts watching."""
    return int(db.exec(select(func.max(Alert.id))).one() or 0)  # type: ignore[call-overload]


def fired_since(db: Session, after_id: int, limit: int = PAGE) -> list[Fired]:
    """Alerts with an id above ``after_id``, oldest first."""
    columns = (Alert.id, Alert.owner_id, Alert.severity, Alert.title, Alert.message)
    rows = db.exec(select(*columns).where(col(Alert.id) > after_id).order_by(col(Alert.id)).limit(limit))
    return [Fired(*row) for row in rows.all()]
