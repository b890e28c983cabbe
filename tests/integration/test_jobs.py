"""Jobs end to end: run records, scheduler status, the in-process lifespan, and leader election between two
real ``python -m jobs`` processes on each lock (PostgreSQL advisory lock, SQLite file lock, Redis)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import delete
from sqlmodel import col, select

from investment_app import schema
from investment_app.db import session_scope
from investment_app.models._time import utcnow
from investment_app.models.job import JobCommand, JobRun
from investment_app.settings import PROJECT_ROOT, get_settings
from jobs.execute import run_job
from jobs.heartbeat import HEARTBEAT_JOB_ID, RUN_RETENTION
from jobs.leader import REDIS_LOCK_NAME, leader_lock
from jobs.lifespan import scheduler_lifespan
from jobs.runner import leadership
from jobs.runs import host_name, last_run, recorded
from jobs.status import STALE_AFTER_BEATS, scheduler_status
from tests.conftest import require_service

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"
LEADER_LINE = "scheduler started (leader)"


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set environment variables and re-read the settings; undone after the test."""

    def apply(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


# --- run records -------------------------------------------------------------------------------------------


def test_heartbeat_records_an_ok_run(db_url: str) -> None:
    run_job(HEARTBEAT_JOB_ID, url=db_url)
    run = last_run(HEARTBEAT_JOB_ID, db_url)
    assert run is not None
    assert (run.status, run.error, run.host) == ("ok", None, host_name())
    assert run.finished_at is not None
    assert run.duration_s is not None and run.duration_s >= 0


def test_heartbeat_prunes_runs_older_than_the_retention(db_url: str) -> None:
    with session_scope(db_url) as session:
        session.add(JobRun(job_id="old", started_at=utcnow() - RUN_RETENTION - timedelta(minutes=1), status="ok"))
        session.add(JobRun(job_id="recent", started_at=utcnow() - RUN_RETENTION + timedelta(hours=1), status="ok"))
    run_job(HEARTBEAT_JOB_ID, url=db_url)
    assert last_run("old", db_url) is None and last_run("recent", db_url) is not None
    assert last_run(HEARTBEAT_JOB_ID, db_url).items == 1


def test_a_failing_job_is_recorded_failed_with_its_error(db_url: str) -> None:
    with pytest.raises(ValueError, match="no prices"), recorded("import-prices", db_url) as run:
        run.items = 3
        raise ValueError("no prices for XYZ")
    failed = last_run("import-prices", db_url)
    assert failed is not None
    assert (failed.status, failed.error, failed.items) == ("failed", "ValueError: no prices for XYZ", 3)
    assert failed.finished_at is not None


def test_recorded_also_decorates_a_job(sqlite_url: str) -> None:
    schema.upgrade(sqlite_url)

    @recorded("decorated", sqlite_url)
    def job() -> None:
        """A job that does nothing."""

    job()
    job()
    with session_scope(sqlite_url) as session:
        statuses = session.exec(select(JobRun.status).where(JobRun.job_id == "decorated")).all()
    assert statuses == ["ok", "ok"]


# --- status ------------------------------------------------------------------------------------------------


def test_status_starting_running_and_stale(db_url: str, configure: Callable[..., None]) -> None:
    configure(SCHEDULER_MODE="inprocess")
    assert scheduler_status(db_url) == {
        "mode": "inprocess",
        "state": "starting",
        "last_heartbeat": None,
        "leader_here": False,
    }
    run_job(HEARTBEAT_JOB_ID, url=db_url)
    running = scheduler_status(db_url)
    assert running["state"] == "running"
    assert running["last_heartbeat"].endswith("+00:00")

    old = utcnow() - timedelta(seconds=STALE_AFTER_BEATS * get_settings().heartbeat_seconds + 5)
    with session_scope(db_url) as session:
        session.execute(delete(JobRun))
        session.add(JobRun(job_id=HEARTBEAT_JOB_ID, started_at=old, finished_at=old, status="ok"))
    stale = scheduler_status(db_url)
    assert stale["state"] == "stale"
    assert stale["last_heartbeat"] == old.isoformat()


def test_status_off_and_unknown(sqlite_url: str, configure: Callable[..., None]) -> None:
    configure(SCHEDULER_MODE="inprocess")
    unknown = scheduler_status(sqlite_url)  # not migrated: there is no job_run table
    assert unknown["state"] == "unknown"
    assert "no such table" in unknown["error"] and "\n" not in unknown["error"]

    configure(SCHEDULER_MODE="off")
    assert scheduler_status(sqlite_url)["state"] == "off"


# --- in-process lifespan -----------------------------------------------------------------------------------


async def test_lifespan_leads_beats_and_releases(db_url: str, tmp_path: Path, configure: Callable[..., None]) -> None:
    configure(SCHEDULER_MODE="inprocess", REFLEX_DB_URL=db_url, DATA_DIR=str(tmp_path), REFLEX_REDIS_URL="")
    async with scheduler_lifespan():
        for _ in range(50):
            if await asyncio.to_thread(last_run, HEARTBEAT_JOB_ID, db_url):
                break
            await asyncio.sleep(0.2)
        assert leadership().leader
        assert scheduler_status(db_url)["leader_here"] is True
        beat = last_run(HEARTBEAT_JOB_ID, db_url)
        assert beat is not None and beat.host == host_name()
    assert not leadership().leader
    lock = leader_lock(db_url)
    assert lock.acquire(), "the lock was not released on exit"
    lock.release()


async def test_lifespan_does_nothing_unless_inprocess(db_url: str, configure: Callable[..., None]) -> None:
    configure(SCHEDULER_MODE="standalone", REFLEX_DB_URL=db_url)
    async with scheduler_lifespan():
        await asyncio.sleep(0.3)
    assert last_run(HEARTBEAT_JOB_ID, db_url) is None


# --- two processes -----------------------------------------------------------------------------------------


@dataclass
class Worker:
    """One ``python -m jobs`` subprocess and its log file."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def host(self) -> str:
        """The JobRun.host its runs carry."""
        return f"{socket.gethostname()}:{self.process.pid}"

    def log(self) -> str:
        """Everything it has logged so far."""
        return self.log_path.read_text(errors="replace")

    def leads(self) -> bool:
        """It has logged that it became the leader."""
        return LEADER_LINE in self.log()


def _start_worker(env: dict[str, str], log_path: Path) -> Worker:
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "jobs"], cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    return Worker(process, log_path)


def _stop_all(workers: list[Worker]) -> None:
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.terminate()
    for worker in workers:
        try:
            worker.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()


def _logs(workers: list[Worker]) -> str:
    return "\n---\n".join(worker.log() for worker in workers)


def _wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _beat_hosts(url: str) -> list[str]:
    with session_scope(url) as session:
        query = select(JobRun.host).where(JobRun.job_id == HEARTBEAT_JOB_ID).order_by(col(JobRun.id))
        return list(session.exec(query).all())


@pytest.fixture
def redis_db() -> Iterator[str]:
    """Redis database 15 with no leftover leader key, cleaned again afterwards."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        require_service(False, f"Redis at {REDIS_TEST_URL}")
    client.delete(REDIS_LOCK_NAME)
    yield REDIS_TEST_URL
    client.delete(REDIS_LOCK_NAME)


@pytest.mark.parametrize(
    ("lock_kind", "stop_signal"),
    [
        # A crash: PostgreSQL drops the advisory lock with the connection, the kernel drops the flock.
        pytest.param("postgresql", signal.SIGKILL, id="postgresql-killed"),
        pytest.param("sqlite", signal.SIGKILL, id="sqlite-killed"),
        # A clean stop releases the Redis key at once (after a crash it would expire after its 15 s TTL).
        pytest.param("redis", signal.SIGTERM, id="redis-terminated"),
    ],
)
def test_two_processes_elect_one_leader_and_fail_over(
    lock_kind: str, stop_signal: signal.Signals, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("postgres_url" if lock_kind == "postgresql" else "sqlite_url")
    schema.upgrade(url)
    env = {
        **os.environ,
        "REFLEX_DB_URL": url,
        "DATA_DIR": str(tmp_path),
        "HEARTBEAT_SECONDS": "1",
        "SCHEDULER_MODE": "standalone",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "INFO",
        "REFLEX_REDIS_URL": request.getfixturevalue("redis_db") if lock_kind == "redis" else "",
    }
    workers: list[Worker] = []
    try:
        workers = [_start_worker(env, tmp_path / f"worker{i}.log") for i in (1, 2)]
        assert _wait_for(lambda: any(w.leads() for w in workers) and len(_beat_hosts(url)) >= 3, 20), _logs(workers)

        leaders = [w for w in workers if w.leads()]
        assert len(leaders) == 1, _logs(workers)
        leader, follower = leaders[0], next(w for w in workers if w is not leaders[0])
        assert set(_beat_hosts(url)) == {leader.host}
        assert scheduler_status(url)["state"] == "running"

        leader.process.send_signal(stop_signal)
        assert leader.process.wait(timeout=10) == (0 if stop_signal == signal.SIGTERM else -stop_signal)
        taken_over = time.monotonic()
        assert _wait_for(lambda: follower.leads() and follower.host in _beat_hosts(url), 20), _logs(workers)
        print(f"{lock_kind}: takeover in {time.monotonic() - taken_over:.1f} s")
        assert set(_beat_hosts(url)) == {leader.host, follower.host}
    finally:
        _stop_all(workers)


def test_two_schedulers_on_postgresql_run_a_requested_job_once(postgres_url: str, tmp_path: Path) -> None:
    """Two ``python -m jobs`` processes; an admin's "run now" is applied by the leader only: one run."""
    schema.upgrade(postgres_url)
    env = {
        **os.environ,
        "REFLEX_DB_URL": postgres_url,
        "DATA_DIR": str(tmp_path),
        "HEARTBEAT_SECONDS": "1",
        "SCHEDULER_MODE": "standalone",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "INFO",
        "REFLEX_REDIS_URL": "",
    }
    workers: list[Worker] = []
    try:
        workers = [_start_worker(env, tmp_path / f"worker{i}.log") for i in (1, 2)]
        assert _wait_for(lambda: any(w.leads() for w in workers), 20), _logs(workers)
        with session_scope(postgres_url) as session:
            session.add(JobCommand(job_id="alerts", action="run"))
        assert _wait_for(lambda: any(r.status == "ok" for r in _alert_runs(postgres_url)), 20), _logs(workers)
        time.sleep(3)  # time for a second run, if anything were to start one
        runs = _alert_runs(postgres_url)
        assert [(r.status, r.attempt) for r in runs] == [("ok", 1)]
        assert runs[0].host == next(w for w in workers if w.leads()).host
    finally:
        _stop_all(workers)


def _alert_runs(url: str) -> list[JobRun]:
    with session_scope(url) as session:
        return list(session.exec(select(JobRun).where(JobRun.job_id == "alerts")).all())
