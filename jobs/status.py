"""The scheduler's health, for /api/health: judged from the newest heartbeat row, so any worker can answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from investment_app.models._time import as_utc, utcnow
from investment_app.settings import get_settings
from jobs.heartbeat import HEARTBEAT_JOB_ID
from jobs.runner import leadership
from jobs.runs import last_run

STALE_AFTER_BEATS = 3
"""The scheduler is "stale" when the newest heartbeat is older than this many heartbeat intervals."""


def scheduler_status(url: str | None = None) -> dict[str, Any]:
    """``{"mode", "state", "last_heartbeat", "leader_here"}``; never raises on a database error.

    state: "off" (SCHEDULER_MODE=off), "starting" (no heartbeat yet), "running", "stale" (the newest beat is
    older than STALE_AFTER_BEATS intervals), or "unknown" with the database error in "error" (one line).
    """
    settings = get_settings()
    status: dict[str, Any] = {
        "mode": settings.scheduler_mode,
        "state": "off",
        "last_heartbeat": None,
        "leader_here": leadership().leader,
    }
    if settings.scheduler_mode == "off":
        return status
    try:
        beat = last_run(HEARTBEAT_JOB_ID, url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return {**status, "state": "unknown", "error": f"{type(exc).__name__}: {reason}"}
    if beat is None:
        return {**status, "state": "starting"}
    beat_at = as_utc(beat.started_at)
    stale = utcnow() - beat_at > timedelta(seconds=STALE_AFTER_BEATS * settings.heartbeat_seconds)
    return {**status, "state": "stale" if stale else "running", "last_heartbeat": beat_at.isoformat()}
