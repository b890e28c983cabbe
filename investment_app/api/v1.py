"""Versioned JSON API (/api/v1): every route checks who is asking and what they may see."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import col, select

from investment_app.api.viewer import require_role
from investment_app.auth.viewer import Viewer
from investment_app.db import session_scope
from investment_app.models.portfolio import Portfolio
from investment_app.models.user import Role
from investment_app.services import admin, audit

router = APIRouter(prefix="/api/v1", tags=["v1"])
AnyViewer = Annotated[Viewer, Depends(require_role(Role.VIEWER))]
Admin = Annotated[Viewer, Depends(require_role(Role.ADMIN))]


@router.get("/me")
def me(viewer: AnyViewer) -> dict:
    """The signed-in user."""
    return {"id": viewer.user_id, "email": viewer.email, "name": viewer.display_name, "role": viewer.role.value}


@router.get("/portfolios")
def portfolios(viewer: AnyViewer) -> list[dict]:
    """The viewer's own portfolios."""
    with session_scope() as db:
        rows = db.exec(
            select(Portfolio).where(Portfolio.owner_id == viewer.user_id).order_by(col(Portfolio.name))
        ).all()
    return [
        {"id": p.id, "name": p.name, "base_currency": p.base_currency, "benchmark": p.benchmark_symbol} for p in rows
    ]


@router.get("/admin/users")
def users(viewer: Admin) -> list[dict]:
    """Every user (admins only)."""
    with session_scope() as db:
        return [asdict(row) for row in admin.list_users(db, viewer)]


@router.get("/admin/audit")
def audit_log(viewer: Admin, action: str = "", limit: int = 100) -> list[dict]:
    """The newest audit records (admins only)."""
    with session_scope() as db:
        return [asdict(row) for row in audit.browse(db, viewer, action, limit)]
