"""Every job run leaves a JobRun row: who ran it, when, how long, how many items, and how it ended.

``recorded`` writes the row in its own short transactions (one when the run starts, one when it ends), so
the record survives a job that rolls its own work back, and a run that never ends stays visible as "running".
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlmodel import col, select

from investment_app.db import session_scope
from investment_app.models._time import utcnow
from investment_app.models.job import JobRun


def host_name() -> str:
    """``hostname:pid`` of this process, which tells apart workers on one machine."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def recorded(
    job_id: str, url: str | None = None, attempt: int = 1, retry: Callable[[], bool] | None = None
) -> Iterator[JobRun]:
    """Record one attempt of ``job_id``: running, then ok or failed (with the error), duration and items.

    Yields the row, detached: a job sets ``run.items`` to the number of things it processed. On an exception,
    ``retry()`` is called (it schedules another attempt and says whether it did): the row then says "retrying"
    instead of "failed". The exception is re-raised. Built with ``@contextmanager``, it also decorates.
    """
    run = _save(JobRun(job_id=job_id, host=host_name(), attempt=attempt), url)
    started = time.monotonic()
    try:
        yield run
    except BaseException as exc:
        retrying = isinstance(exc, Exception) and retry is not None and retry()
        _finish(run, started, "retrying" if retrying else "failed", f"{type(exc).__name__}: {exc}", url)
        raise
    _finish(run, started, "ok", None, url)


def record_skipped(job_id: str, reason: str, url: str | None = None, attempt: int = 1) -> None:
    """A run that did not start because another run of the job holds its lock."""
    now = utcnow()
    _save(
        JobRun(
            job_id=job_id,
            host=host_name(),
            attempt=attempt,
            status="skipped",
            error=reason,
            started_at=now,
            finished_at=now,
            duration_s=0.0,
        ),
        url,
    )


def _finish(run: JobRun, started: float, status: str, error: str | None, url: str | None) -> None:
    run.finished_at = utcnow()
    run.duration_s = round(time.monotonic() - started, 3)
    run.status = status
    run.error = error
    _save(run, url)


def _save(run: JobRun, url: str | None) -> JobRun:
    with session_scope(url) as session:
        session.add(run)
    return run


def last_run(job_id: str, url: str | None = None) -> JobRun | None:
    """The most recently started run of ``job_id``, if any."""
    with session_scope(url) as session:
        query = select(JobRun).where(JobRun.job_id == job_id)
        return session.exec(query.order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc()).limit(1)).first()
