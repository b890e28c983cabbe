"""The APScheduler setup: a persistent job store in our database, UTC, and the heartbeat job.

Choices, and why:

- Job store: ``SQLAlchemyJobStore`` on the app's engine and the ``apscheduler_jobs`` table that our Alembic
  migration creates (APScheduler's own create is a no-op ``checkfirst``). Jobs are referenced by
  ``"module:function"`` text, so they survive restarts and a change of leader. APScheduler 3 cannot share a job
  store between running schedulers; the leader lock (jobs.leader) guarantees there is only one.
- ``coalesce=True``: when several runs of a job were missed (no leader for a while, a slow run), it runs once,
  not once per missed time. Jobs are idempotent anyway; this avoids a burst of identical runs on takeover.
- ``max_instances=1``: a job never overlaps itself; a run still going when the next is due makes that next
  run be skipped (APScheduler logs a warning).
- ``misfire_grace_time=MISFIRE_GRACE_SECONDS`` (5 min): a run found late by up to that much (a takeover after
  a leader died, a busy event loop) still runs; a run missed by more is dropped and the job waits for its next
  time. A job that must catch up however late (e.g. a daily report after an outage) sets
  ``misfire_grace_time=None`` when it is added.
- Restarts keep each job's stored next run: a job an admin paused stays paused, and a run missed while no
  scheduler was up is made up once by the catch-up jobs (price refresh, reports).
- Jobs run on the scheduler's own thread pool (one thread per job, plus one), never on the event loop's
  default pool, which the web app and the leader lock's refresh need.
- Every entry calls ``jobs.execute.run_job``, which adds the job lock, the run record and retries with backoff.
- Timezone UTC: cron-style triggers are stated in UTC, like every timestamp in the app.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.util import undefined

from investment_app.db import get_engine, session_scope
from investment_app.models._time import utcnow
from jobs.catalogue import JobSpec, catalogue
from jobs.control import stored_next_runs
from jobs.execute import RUN_JOB

MISFIRE_GRACE_SECONDS = 300
"""How late a run may start and still run (see the module docstring)."""
JOB_STORE_TABLE = "apscheduler_jobs"


def build_scheduler(url: str | None = None, loop: asyncio.AbstractEventLoop | None = None) -> AsyncIOScheduler:
    """A configured, not yet started scheduler with every job of the catalogue registered.

    ``loop`` binds the scheduler to an event loop up front, so that ``start()`` (which reads and writes the job
    store) may be called from a worker thread; without it, ``start()`` must be called on the running loop.
    ``url`` is for tests; the app passes None (the configured database), so no URL is stored with a job.
    """
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=get_engine(url), tablename=JOB_STORE_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=len(catalogue()) + 1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        timezone=UTC,
        event_loop=loop,
    )
    with session_scope(url) as db:
        stored = stored_next_runs(db)
    for spec in catalogue().values():
        scheduler.add_job(
            RUN_JOB,
            spec.trigger,
            args=[spec.id],
            kwargs={"url": url},
            id=spec.id,
            name=spec.name,
            replace_existing=True,
            misfire_grace_time=None if spec.catch_up else MISFIRE_GRACE_SECONDS,
            next_run_time=_next_run(spec, stored),
            **spec.trigger_args,
        )
    return scheduler


def _next_run(spec: JobSpec, stored: dict[str, datetime | None]) -> datetime | None:
    """Keep what the store says (None = paused by an admin; a past time = a run missed while no scheduler ran,
    which catch-up jobs then make up once); a new job starts per its trigger, or at once if ``start_at_once``."""
    if spec.id in stored:
        return stored[spec.id]
    return utcnow() if spec.start_at_once else undefined
