"""GET /api/health: database reachable, migrations at head, scheduler heartbeat. 200 or 503."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from investment_app import schema
from investment_app.db import DatabaseUnavailable, check_connection
from jobs.status import scheduler_status

router = APIRouter(prefix="/api", tags=["operations"])
HEALTHY_SCHEDULER_STATES = {"running", "starting", "off"}


def health_report() -> tuple[bool, dict]:
    """(healthy, report); every problem is one readable line, and no secret is included."""
    try:
        check_connection()
    except DatabaseUnavailable as exc:
        return False, {"status": "unhealthy", "database": {"ok": False, "error": str(exc)}}
    current, head = schema.current_revision(), schema.head_revision()
    scheduler = scheduler_status()
    healthy = current == head and scheduler["state"] in HEALTHY_SCHEDULER_STATES
    return healthy, {
        "status": "ok" if healthy else "unhealthy",
        "database": {"ok": True},
        "migrations": {"at_head": current == head, "current": current, "head": head},
        "scheduler": scheduler,
    }


@router.get("/health")
def health() -> JSONResponse:
    """The app's health as JSON, with 503 when anything is wrong."""
    healthy, report = health_report()
    return JSONResponse(report, status_code=200 if healthy else 503)
