"""The job runner: retries with exponential backoff, the per-job lock, admin commands (run now, pause, resume)
applied by a real scheduler, and paused state surviving a restart."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import col, select

from investment_app.auth.viewer import Viewer
from investment_app.db import session_scope
from investment_app.models.audit import AuditRecord
from investment_app.models.job import JobCommand, JobRun
from investment_app.models.user import Role
from investment_app.services import accounts
from investment_app.services.errors import Forbidden, InvalidInput
from investment_app.settings import PROJECT_ROOT, get_settings
from jobs import control, execute
from jobs.catalogue import JobSpec, catalogue
from jobs.scheduler import build_scheduler

ANALYST = Viewer(user_id=2, email="ana@example.com", display_name="Ana", role=Role.ANALYST, session_id="s")


class Behaviour:
    """What the test job does on each call: fail the first ``failures`` calls, optionally wait on an event."""

    def __init__(self, failures: int = 0, hold: threading.Event | None = None) -> None:
        self.failures = failures
        self.hold = hold
        self.calls: list[float] = []
        self.started = threading.Event()

    def __call__(self, url: str | None) -> int:
        self.calls.append(time.monotonic())
        self.started.set()
        if self.hold is not None:
            self.hold.wait(10)
        if len(self.calls) <= self.failures:
            raise RuntimeError(f"boom {len(self.calls)}")
        return 7


@pytest.fixture
def test_job(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Behaviour]]:
    """Register a job "probe" (whose behaviour each test sets) next to the real catalogue."""

    def install(behaviour: Behaviour, max_attempts: int = 3, retry_seconds: int = 1) -> Behaviour:
        monkeypatch.setenv("JOB_MAX_ATTEMPTS", str(max_attempts))
        monkeypatch.setenv("JOB_RETRY_SECONDS", str(retry_seconds))
        get_settings.cache_clear()
        spec = JobSpec("probe", "Probe", "a test job", "tests:unused", "interval", {"minutes": 60})
        monkeypatch.setattr(JobSpec, "resolve", lambda self: behaviour if self.id == "probe" else _real(self))
        jobs = {**catalogue(), "probe": spec}
        monkeypatch.setattr(execute, "catalogue", lambda: jobs)
        monkeypatch.setattr(control, "catalogue", lambda: jobs)
        return behaviour

    _real = JobSpec.resolve
    yield install
    get_settings.cache_clear()


@pytest.fixture
def admin(db_url: str) -> Viewer:
    """A real admin account (job commands reference their requester)."""
    with session_scope(db_url) as db:
        accounts.create_user(db, "admin@example.com", "correct horse 42", role=Role.ADMIN)
        return accounts.acting_as(db, "admin@example.com")


def _runs(url: str, job_id: str = "probe") -> list[JobRun]:
    with session_scope(url) as db:
        return list(db.exec(select(JobRun).where(JobRun.job_id == job_id).order_by(col(JobRun.id))).all())


async def _wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


@pytest.fixture
async def memory_scheduler() -> Iterator[AsyncIOScheduler]:
    """A running scheduler (memory store) that run_job schedules its retries on."""
    scheduler = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone="UTC")
    scheduler.start()
    execute.attach(scheduler)
    yield scheduler
    execute.attach(None)
    scheduler.shutdown(wait=False)


async def test_a_failing_run_is_retried_with_doubling_backoff_then_marked_failed(
    db_url: str, test_job: Callable[..., Behaviour], memory_scheduler: AsyncIOScheduler
) -> None:
    behaviour = test_job(Behaviour(failures=99), max_attempts=3, retry_seconds=1)
    await asyncio.to_thread(execute.run_job, "probe", 1, db_url)
    await _wait_until(lambda: len(_runs(db_url)) == 3 and _runs(db_url)[-1].status != "running")
    runs = _runs(db_url)
    assert [(r.attempt, r.status) for r in runs] == [(1, "retrying"), (2, "retrying"), (3, "failed")]
    assert [r.error for r in runs] == ["RuntimeError: boom 1", "RuntimeError: boom 2", "RuntimeError: boom 3"]
    gaps = [b - a for a, b in zip(behaviour.calls, behaviour.calls[1:], strict=False)]
    assert 0.9 <= gaps[0] < 1.9 and 1.9 <= gaps[1] < 3.5, gaps  # 1 s, then 2 s
    await asyncio.sleep(1.5)
    assert len(_runs(db_url)) == 3, "no attempt after the last one"


async def test_a_retry_that_succeeds_ends_ok(
    db_url: str, test_job: Callable[..., Behaviour], memory_scheduler: AsyncIOScheduler
) -> None:
    test_job(Behaviour(failures=1), max_attempts=3, retry_seconds=1)
    await asyncio.to_thread(execute.run_job, "probe", 1, db_url)
    await _wait_until(lambda: len(_runs(db_url)) == 2 and _runs(db_url)[-1].status == "ok")
    assert [(r.attempt, r.status, r.items) for r in _runs(db_url)] == [(1, "retrying", 0), (2, "ok", 7)]


def test_without_a_scheduler_a_failure_is_final(db_url: str, test_job: Callable[..., Behaviour]) -> None:
    test_job(Behaviour(failures=1))
    execute.run_job("probe", url=db_url)
    assert [(r.status, r.error) for r in _runs(db_url)] == [("failed", "RuntimeError: boom 1")]


def test_a_job_never_runs_twice_at_once(db_url: str, test_job: Callable[..., Behaviour]) -> None:
    release = threading.Event()
    behaviour = test_job(Behaviour(hold=release))
    first = threading.Thread(target=execute.run_job, args=("probe", 1, db_url))
    first.start()
    assert behaviour.started.wait(10)
    execute.run_job("probe", url=db_url)  # the lock is held by the first run
    release.set()
    first.join(10)
    runs = _runs(db_url)
    assert sorted(r.status for r in runs) == ["ok", "skipped"]
    assert len(behaviour.calls) == 1
    skipped = next(r for r in runs if r.status == "skipped")
    assert skipped.error == "another run of this job was still going"
    execute.run_job("probe", url=db_url)  # released: runs again
    assert len(behaviour.calls) == 2


def test_commands_are_checked_audited_and_validated(db_url: str, admin: Viewer) -> None:
    with session_scope(db_url) as db:
        with pytest.raises(Forbidden):
            control.request(db, ANALYST, "reports", "run")
        with pytest.raises(InvalidInput, match="no job 'nope'"):
            control.request(db, admin, "nope", "run")
        with pytest.raises(InvalidInput, match="Unknown action 'explode'"):
            control.request(db, admin, "reports", "explode")
    with session_scope(db_url) as db:
        assert db.exec(select(JobCommand)).all() == []
    with session_scope(db_url) as db:
        control.request(db, admin, "reports", "pause")
    with session_scope(db_url) as db:
        record = db.exec(select(AuditRecord).where(AuditRecord.action == "job.pause")).one()
        assert (record.entity, record.entity_id, record.actor_email) == ("job", "reports", admin.email)


async def test_pause_resume_and_run_now_through_the_leader(
    db_url: str, admin: Viewer, test_job: Callable[..., Behaviour], monkeypatch: pytest.MonkeyPatch
) -> None:
    behaviour = test_job(Behaviour())
    monkeypatch.setattr("jobs.scheduler.catalogue", lambda: control.catalogue())
    scheduler = await asyncio.to_thread(build_scheduler, db_url, asyncio.get_running_loop())
    await asyncio.to_thread(scheduler.start)
    execute.attach(scheduler)
    try:
        with session_scope(db_url) as db:
            states = {job.id: job.state for job in control.overview(db, admin)}
        assert states["probe"] == "scheduled" and states["heartbeat"] == "scheduled"

        for action in ("pause", "run"):
            with session_scope(db_url) as db:
                control.request(db, admin, "probe", action)
        with session_scope(db_url) as db:
            assert [j.pending for j in control.overview(db, admin) if j.id == "probe"] == ["pause, run"]
        assert await asyncio.to_thread(control.apply_pending, scheduler, db_url) == 2
        await _wait_until(lambda: len(behaviour.calls) == 1, 10)  # run now works on a paused job too
        with session_scope(db_url) as db:
            probe = next(j for j in control.overview(db, admin) if j.id == "probe")
            outcomes = [c.outcome for c in db.exec(select(JobCommand).order_by(col(JobCommand.id)))]
        assert (probe.state, probe.next_run, probe.pending) == ("paused", "", "")
        assert outcomes == ["paused", "started"]
        await _wait_until(lambda: bool(_runs(db_url)) and _runs(db_url)[0].status == "ok")
    finally:
        execute.attach(None)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)

    # A restart keeps the job paused; resume brings its next run back.
    scheduler = await asyncio.to_thread(build_scheduler, db_url, asyncio.get_running_loop())
    await asyncio.to_thread(scheduler.start)
    try:
        with session_scope(db_url) as db:
            assert next(j for j in control.overview(db, admin) if j.id == "probe").state == "paused"
            control.request(db, admin, "probe", "resume")
        await asyncio.to_thread(control.apply_pending, scheduler, db_url)
        with session_scope(db_url) as db:
            probe = next(j for j in control.overview(db, admin) if j.id == "probe")
        assert probe.state == "scheduled" and probe.next_run.endswith("UTC")
        assert [r.status for r in probe.runs] == ["ok"]
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)


def test_the_job_lock_holds_across_processes(db_url: str) -> None:
    """A run started here while another process runs the same job is skipped; once that process dies (the
    database or the kernel frees its lock), the job runs here."""
    script = (
        "import sys, time\nfrom jobs.leader import job_lock\n"
        f"lock = job_lock('alerts', {db_url!r})\nassert lock.acquire()\nprint('held', flush=True)\ntime.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        execute.run_job("alerts", url=db_url)
        assert [(r.status, r.error) for r in _runs(db_url, "alerts")] == [
            ("skipped", "another run of this job was still going")
        ]
    finally:
        holder.kill()
        holder.wait()
    execute.run_job("alerts", url=db_url)
    assert [r.status for r in _runs(db_url, "alerts")] == ["skipped", "ok"]
