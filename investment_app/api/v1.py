"""Versioned JSON API (/api/v1): every route checks who is asking and what they may see."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from sqlmodel import col, select

from investment_app.analytics.errors import AnalyticsError
from investment_app.api.viewer import require_role
from investment_app.auth.viewer import Viewer
from investment_app.db import session_scope
from investment_app.models.portfolio import Portfolio
from investment_app.models.user import Role
from investment_app.services import admin, audit, tearsheets
from investment_app.services import portfolios as portfolios_service
from investment_app.services.errors import Forbidden, ServiceError

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


@router.get("/portfolios/{portfolio_id}/tearsheet.{fmt}")
def tearsheet(viewer: AnyViewer, portfolio_id: int, fmt: str) -> Response:
    """The portfolio's tearsheet as an HTML or PDF download (owner or a user it is shared with)."""
    if fmt not in ("html", "pdf"):
        raise HTTPException(status_code=404, detail="Use tearsheet.html or tearsheet.pdf.")
    try:
        with session_scope() as db:
            name = portfolios_service.readable(db, viewer, portfolio_id).name
            body = (
                tearsheets.html(db, viewer, portfolio_id) if fmt == "html" else tearsheets.pdf(db, viewer, portfolio_id)
            )
    except Forbidden as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except (ServiceError, AnalyticsError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    media = "text/html; charset=utf-8" if fmt == "html" else "application/pdf"
    filename = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "portfolio"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}-tearsheet.{fmt}"'}
    )
