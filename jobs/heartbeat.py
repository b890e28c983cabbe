"""The heartbeat job: proof that a scheduler is running, read by the health endpoint (jobs.status).

Each beat also prunes the job-run records older than RUN_RETENTION, so the table stays small
(a 60 s heartbeat alone would add half a million rows a year).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from investment_app.db import session_scope
from investment_app.models._time import utcnow
from investment_app.models.job import JobRun

HEARTBEAT_JOB_ID = "heartbeat"
RUN_RETENTION = timedelta(days=30)


def heartbeat(url: str | None = None) -> int:
    """One beat (its run record is the beat) pruning old run records; returns how many were pruned."""
    with session_scope(url) as db:
        pruned = db.exec(delete(JobRun).where(col(JobRun.started_at) < utcnow() - RUN_RETENTION))  # type: ignore[call-overload]
        return pruned.rowcount
