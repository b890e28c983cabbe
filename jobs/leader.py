"""The leader lock: exactly one scheduler runs among all app workers and ``python -m jobs`` processes;
and the job locks: one run of a job at a time, whoever starts it.

``leader_lock()`` picks the implementation from the configuration:

- Redis (``REFLEX_REDIS_URL`` set): a redis-py lock with a TTL; the holder refreshes it, and if the holder dies
  the key expires after ``REDIS_TIMEOUT_SECONDS``. Works across machines.
- PostgreSQL: a session-level advisory lock held on a dedicated connection; the server releases it the moment
  that connection closes, so a dead holder frees it at once.
- SQLite: an exclusive ``flock`` on ``DATA_DIR/scheduler.lock``; the kernel releases it when the holder exits.
  SQLite is a single-machine database, so a single-machine lock is enough.

``job_lock(job_id)`` uses the database's lock (the advisory lock or a flock on ``DATA_DIR/jobs/<id>.lock``) even
when Redis is configured: a job may run for minutes, longer than a TTL we would have to keep refreshing, and
what it guards is the database's data.

All methods block briefly (network or disk I/O): call them through ``asyncio.to_thread`` from async code.
Errors talking to Redis or the database count as "not held", never as an exception.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

import redis
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from investment_app.db import get_engine
from investment_app.settings import get_settings

REDIS_LOCK_NAME = "invest:scheduler-leader"
"""The Redis key of the lock: one leader per Redis database."""
REDIS_TIMEOUT_SECONDS = 15
"""TTL of the Redis lock; the leader refreshes it far more often (see jobs.runner.POLL_SECONDS)."""
ADVISORY_KEY = int.from_bytes(b"invsched", "big")
"""The PostgreSQL advisory lock key (a bigint; advisory locks are scoped to one database)."""
LOCK_FILE_NAME = "scheduler.lock"
JOB_LOCK_DIR = "jobs"

log = logging.getLogger(__name__)


class LeaderLock(Protocol):
    """A non-blocking, refreshable, process-wide lock."""

    def acquire(self) -> bool:
        """Try once to take the lock; True if this process now holds it."""
        ...

    def refresh(self) -> bool:
        """Extend the hold; False if the lock was lost (the caller must stop leading)."""
        ...

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        ...


class RedisLeaderLock:
    """A redis-py lock with a TTL, refreshed by the holder."""

    def __init__(self, redis_url: str, name: str = REDIS_LOCK_NAME, timeout: int = REDIS_TIMEOUT_SECONDS) -> None:
        client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        # thread_local=False: acquire/refresh/release run on whichever worker thread asyncio.to_thread picks.
        self._lock = client.lock(name, timeout=timeout, thread_local=False)

    def acquire(self) -> bool:
        """Take the lock if the key is free."""
        try:
            return bool(self._lock.acquire(blocking=False))
        except redis.RedisError as exc:
            return _unavailable(exc)

    def refresh(self) -> bool:
        """Reset the TTL; fails if the key expired or now belongs to another holder."""
        try:
            return bool(self._lock.reacquire())
        except redis.RedisError as exc:
            return _unavailable(exc)

    def release(self) -> None:
        """Delete the key if it is still ours."""
        with contextlib.suppress(redis.RedisError):
            self._lock.release()


class PostgresLeaderLock:
    """``pg_try_advisory_lock`` held on a dedicated connection (detached from the pool)."""

    def __init__(self, url: str, key: int = ADVISORY_KEY) -> None:
        self._url = url
        self._key = key
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        """Open a connection and try the advisory lock on it; keep the connection only if it succeeded."""
        try:
            conn = get_engine(self._url).connect()
        except SQLAlchemyError as exc:
            return _unavailable(exc)
        # Detached: closing it closes the session (releasing the lock) instead of pooling it still locked.
        conn.detach()
        try:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar())
            conn.commit()  # the lock is session-level; do not sit idle in a transaction
        except SQLAlchemyError as exc:
            held = _unavailable(exc)
        if held:
            self._conn = conn
        else:
            _close_quietly(conn)
        return held

    def refresh(self) -> bool:
        """The lock lives as long as the session: check the connection still answers."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
        except SQLAlchemyError as exc:
            return _unavailable(exc)
        return True

    def release(self) -> None:
        """Unlock (so the lock is free when this returns), then close the session, which would also free it."""
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                self._conn.commit()
            _close_quietly(self._conn)
            self._conn = None


def _unavailable(exc: Exception) -> bool:
    """Log why the lock's backend failed (one line, no credentials in it) and report the lock as not held."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    log.warning("leader lock unavailable: %s: %s", type(exc).__name__, reason)
    return False


def _close_quietly(conn: Connection) -> None:
    with contextlib.suppress(SQLAlchemyError):
        conn.close()


class FileLeaderLock:
    """An exclusive ``flock`` on a file; the kernel frees it when the holding process exits."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Try the lock without waiting."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def refresh(self) -> bool:
        """Still held, unless the file was deleted or replaced (then another process could lock the new one)."""
        if self._fd is None:
            return False
        try:
            return os.stat(self._path).st_ino == os.fstat(self._fd).st_ino
        except OSError:
            return False

    def release(self) -> None:
        """Closing the descriptor drops the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def leader_lock(url: str | None = None) -> LeaderLock:
    """The lock for this deployment: Redis if configured, else by database (PostgreSQL or SQLite file)."""
    settings = get_settings()
    if settings.redis_url:
        return RedisLeaderLock(settings.redis_url)
    url = url or settings.database_url
    if make_url(url).get_backend_name() == "postgresql":
        return PostgresLeaderLock(url)
    return FileLeaderLock(settings.data_dir / LOCK_FILE_NAME)


def job_lock(job_id: str, url: str | None = None) -> LeaderLock:
    """The lock one run of ``job_id`` holds: PostgreSQL advisory lock, else a flock file (see the module doc)."""
    url = url or get_settings().database_url
    if make_url(url).get_backend_name() == "postgresql":
        digest = hashlib.blake2b(f"job:{job_id}".encode(), digest_size=8).digest()
        return PostgresLeaderLock(url, key=int.from_bytes(digest, "big", signed=True))
    return FileLeaderLock(get_settings().data_dir / JOB_LOCK_DIR / f"{job_id}.lock")
