"""The heartbeat job: proof that a scheduler is running, read by the health endpoint (jobs.status)."""

from __future__ import annotations

from jobs.runs import recorded

HEARTBEAT_JOB_ID = "heartbeat"


def heartbeat(url: str | None = None) -> None:
    """Record one beat; the JobRun row (its time and its host) is the whole point."""
    with recorded(HEARTBEAT_JOB_ID, url):
        pass
