"""The admin's view of the jobs and their commands: run now, pause, resume.

A web worker only writes a JobCommand (audited); the scheduler's leader, wherever it runs, applies pending
commands within a second (``apply_pending``), so the job store keeps a single writer. Job state is read from
the job store's table: a NULL ``next_run_time`` is a paused job; no row means no scheduler has started yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import update
from sqlmodel import Session, col, select

from investment_app.auth.viewer import Viewer
from investment_app.db import session_scope
from investment_app.models._time import as_utc, utcnow
from investment_app.models.job import JobCommand, JobRun, scheduler_jobs_table
from investment_app.models.user import Role
from investment_app.services import audit
from investment_app.services.errors import InvalidInput
from jobs.catalogue import catalogue
from jobs.execute import RUN_JOB

ACTIONS = ("run", "pause", "resume")
LAST_RUNS = 5
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunView:
    """One recorded attempt, as the admin page lists it."""

    id: int
    started: str
    duration: str
    status: str
    attempt: int
    processed: int
    error: str
    host: str


@dataclass(frozen=True)
class JobView:
    """One job: what, when, its state, next run, last runs and the commands still waiting for the scheduler."""

    id: str
    name: str
    description: str
    schedule: str
    state: str
    next_run: str
    runs: list[RunView]
    pending: str


def stored_next_runs(db: Session) -> dict[str, datetime | None]:
    """Job id → next run time (None = paused) for every job in the job store."""
    table = scheduler_jobs_table
    rows = db.exec(select(table.c.id, table.c.next_run_time)).all()  # type: ignore[call-overload]
    return {job_id: None if at is None else datetime.fromtimestamp(at, UTC) for job_id, at in rows}


def _run_view(run: JobRun) -> RunView:
    return RunView(
        id=run.id or 0,
        started=as_utc(run.started_at).strftime("%Y-%m-%d %H:%M:%S UTC"),
        duration="" if run.duration_s is None else f"{run.duration_s:.2f} s",
        status=run.status,
        attempt=run.attempt,
        processed=run.items,
        error=run.error or "",
        host=run.host,
    )


def overview(db: Session, viewer: Viewer) -> list[JobView]:
    """Every job in the catalogue with its state; admins only."""
    viewer.require(Role.ADMIN)
    stored = stored_next_runs(db)
    pending: dict[str, list[str]] = {}
    for command in db.exec(select(JobCommand).where(col(JobCommand.done_at).is_(None)).order_by(col(JobCommand.id))):
        pending.setdefault(command.job_id, []).append(command.action)
    views = []
    for spec in catalogue().values():
        runs = db.exec(
            select(JobRun).where(JobRun.job_id == spec.id).order_by(col(JobRun.id).desc()).limit(LAST_RUNS)
        ).all()
        next_run = stored.get(spec.id)
        state = "not scheduled" if spec.id not in stored else "paused" if next_run is None else "scheduled"
        views.append(
            JobView(
                id=spec.id,
                name=spec.name,
                description=spec.description,
                schedule=spec.schedule,
                state=state,
                next_run=next_run.strftime("%Y-%m-%d %H:%M:%S UTC") if next_run else "",
                runs=[_run_view(run) for run in runs],
                pending=", ".join(pending.get(spec.id, [])),
            )
        )
    return views


def request(db: Session, viewer: Viewer, job_id: str, action: str) -> JobCommand:
    """Queue ``action`` on ``job_id`` for the scheduler (admins only; audited)."""
    viewer.require(Role.ADMIN)
    if job_id not in catalogue():
        raise InvalidInput(f"There is no job {job_id!r}.")
    if action not in ACTIONS:
        raise InvalidInput(f"Unknown action {action!r}; expected one of {', '.join(ACTIONS)}.")
    command = JobCommand(job_id=job_id, action=action, requested_by=viewer.user_id)
    db.add(command)
    db.flush()
    audit.record(db, viewer, f"job.{action}", "job", job_id, after={"command": command.id})
    return command


def _apply(scheduler: BaseScheduler, command: JobCommand, url: str | None) -> str:
    """Carry out one command on the running scheduler; the outcome in words."""
    if command.action == "run":
        scheduler.add_job(
            RUN_JOB,
            "date",
            run_date=utcnow(),
            args=[command.job_id],
            kwargs={"url": url},
            id=f"{command.job_id}.manual",
            name=f"{command.job_id} (run now)",
            replace_existing=True,
            misfire_grace_time=None,
        )
        return "started"
    try:
        (scheduler.pause_job if command.action == "pause" else scheduler.resume_job)(command.job_id)
    except JobLookupError:
        return "not in the job store"
    return "paused" if command.action == "pause" else "resumed"


def apply_pending(scheduler: BaseScheduler, url: str | None = None) -> int:
    """Apply every command not done yet, oldest first, each claimed by one conditional UPDATE; how many."""
    with session_scope(url) as db:
        commands = db.exec(select(JobCommand).where(col(JobCommand.done_at).is_(None)).order_by(col(JobCommand.id)))
        pending = list(commands.all())
    for command in pending:
        with session_scope(url) as db:
            claim = (
                update(JobCommand)
                .where(col(JobCommand.id) == command.id, col(JobCommand.done_at).is_(None))
                .values(done_at=utcnow(), outcome="applying")
            )
            if db.exec(claim).rowcount != 1:  # type: ignore[call-overload]
                continue
        outcome = _apply(scheduler, command, url)
        log.info("job command %s %s: %s", command.action, command.job_id, outcome)
        with session_scope(url) as db:
            db.exec(update(JobCommand).where(col(JobCommand.id) == command.id).values(outcome=outcome))  # type: ignore[call-overload]
    return len(pending)
