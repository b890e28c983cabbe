"""Running one job: the job lock, the run record, and retries with exponential backoff.

Every scheduled entry calls ``run_job(job_id)``. It takes the job's lock (jobs.leader.job_lock), so a job never
runs twice at once, even if a second scheduler or a manual run starts it; a run that finds the lock taken is
recorded as "skipped". A failing attempt n (< JOB_MAX_ATTEMPTS) schedules attempt n + 1 after
JOB_RETRY_SECONDS × 2^(n−1) as a one-off entry in the persistent job store (so a change of leader keeps it),
and is recorded "retrying"; the last attempt is recorded "failed".
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler

from investment_app.models._time import utcnow
from investment_app.settings import get_settings
from jobs.catalogue import catalogue
from jobs.leader import job_lock
from jobs.runs import record_skipped, recorded

RUN_JOB = "jobs.execute:run_job"
log = logging.getLogger(__name__)
_scheduler: BaseScheduler | None = None


def attach(scheduler: BaseScheduler | None) -> None:
    """The scheduler this process leads with (None when it stops leading): retries are added to it."""
    global _scheduler
    _scheduler = scheduler


def run_job(job_id: str, attempt: int = 1, url: str | None = None) -> None:
    """One attempt of ``job_id`` under its lock, recorded; errors are logged and recorded, not raised."""
    spec = catalogue().get(job_id)
    if spec is None:
        raise ValueError(f"unknown job {job_id!r}; known: {', '.join(catalogue())}")
    lock = job_lock(job_id, url)
    if not lock.acquire():
        record_skipped(job_id, "another run of this job was still going", url, attempt)
        log.warning("job %s skipped: another run holds its lock", job_id)
        return
    try:
        with recorded(job_id, url, attempt, retry=lambda: schedule_retry(job_id, attempt, url)) as run:
            run.items = spec.resolve()(url)
    except Exception:
        log.exception("job %s failed (attempt %d)", job_id, attempt)
    finally:
        lock.release()


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt ``attempt``: JOB_RETRY_SECONDS doubled for each earlier failure."""
    return timedelta(seconds=get_settings().job_retry_seconds * 2 ** (attempt - 1))


def schedule_retry(job_id: str, attempt: int, url: str | None) -> bool:
    """Schedule attempt ``attempt + 1`` if attempts remain and a scheduler runs here; True if scheduled."""
    scheduler = _scheduler
    if attempt >= get_settings().job_max_attempts or scheduler is None:
        return False
    scheduler.add_job(
        RUN_JOB,
        "date",
        run_date=utcnow() + retry_delay(attempt),
        args=[job_id, attempt + 1],
        kwargs={"url": url},
        id=f"{job_id}.retry",
        name=f"{job_id} (retry {attempt + 1})",
        replace_existing=True,
        misfire_grace_time=None,
    )
    return True
