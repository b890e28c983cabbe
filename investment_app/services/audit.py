"""Audit records: written in the caller's transaction, browsed by admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from investment_app.auth.viewer import Viewer
from investment_app.models.audit import AuditRecord
from investment_app.models.user import Role


def record(
    db: Session,
    actor: Viewer | None,
    action: str,
    entity: str,
    entity_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str = "",
) -> None:
    """Add one audit record to the open transaction (it commits or rolls back with the change)."""
    db.add(
        AuditRecord(
            actor_id=actor.user_id if actor else None,
            actor_email=actor.email if actor else "system",
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
            ip=ip[:64],
        )
    )


@dataclass(frozen=True)
class AuditRow:
    """An audit record as shown to an admin."""

    id: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: str
    after: str


def _compact(values: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (values or {}).items())


def browse(
    db: Session, viewer: Viewer, action: str = "", limit: int = 100, before_id: int | None = None
) -> list[AuditRow]:
    """Newest audit records first (admins only), optionally one action, paged by id."""
    viewer.require(Role.ADMIN)
    stmt = select(AuditRecord).order_by(col(AuditRecord.id).desc()).limit(min(limit, 500))
    if action:
        stmt = stmt.where(AuditRecord.action == action)
    if before_id:
        stmt = stmt.where(col(AuditRecord.id) < before_id)
    return [
        AuditRow(
            r.id or 0,
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.actor_email,
            r.action,
            r.entity,
            r.entity_id,
            _compact(r.before),
            _compact(r.after),
        )
        for r in db.exec(stmt).all()
    ]
