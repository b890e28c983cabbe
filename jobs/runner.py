"""The leader loop: every process may run it, only the holder of the leader lock runs the scheduler.

Each app worker (SCHEDULER_MODE=inprocess, via jobs.lifespan) and each ``python -m jobs`` process runs
``run_scheduler``. Every ``POLL_SECONDS`` it tries the lock (followers) or refreshes it (the leader); a leader
that loses its lock stops its scheduler at once. Lock calls and the scheduler's start (which reads and writes
the job store) run in a worker thread, so the event loop, which may be the web app's, is never blocked by them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from investment_app.models._time import utcnow
from jobs import control, execute
from jobs.leader import LeaderLock, leader_lock
from jobs.scheduler import build_scheduler

POLL_SECONDS = 5
"""How often followers try the lock and the leader refreshes it (well inside the Redis lock's 15 s TTL)."""
COMMAND_POLL_SECONDS = 1
"""How often the leader applies the admins' job commands (run now, pause, resume)."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Leadership:
    """Whether this process currently runs the scheduler, and since when."""

    leader: bool = False
    since: datetime | None = None


_leadership = Leadership()


def leadership() -> Leadership:
    """This process's leadership state (process-local; other workers have their own)."""
    return _leadership


async def run_scheduler(stop: asyncio.Event, url: str | None = None) -> None:
    """Lead or follow until ``stop`` is set; then shut the scheduler down and release the lock."""
    lock = leader_lock(url)
    scheduler: AsyncIOScheduler | None = None
    try:
        while not stop.is_set():
            if scheduler is None:
                scheduler = await _try_to_lead(lock, url)
            elif not await asyncio.to_thread(lock.refresh):
                log.warning("scheduler leadership lost; stopping the scheduler")
                await _stop(scheduler, lock)
                scheduler = None
            await _wait(stop, scheduler, url)
    finally:
        if scheduler is not None:
            await _stop(scheduler, lock)
        else:
            await asyncio.to_thread(lock.release)


async def _wait(stop: asyncio.Event, scheduler: AsyncIOScheduler | None, url: str | None) -> None:
    """Sleep POLL_SECONDS (or until stopped); a leader applies pending job commands every second meanwhile."""
    deadline = asyncio.get_running_loop().time() + POLL_SECONDS
    while not stop.is_set() and (left := deadline - asyncio.get_running_loop().time()) > 0:
        if scheduler is not None:
            try:
                await asyncio.to_thread(control.apply_pending, scheduler, url)
            except Exception:  # a database blip must not end the leader loop
                log.exception("applying job commands failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), min(left, COMMAND_POLL_SECONDS if scheduler else POLL_SECONDS))


async def _try_to_lead(lock: LeaderLock, url: str | None) -> AsyncIOScheduler | None:
    """Take the lock if free and start the scheduler; None if another process leads or the start failed."""
    if not await asyncio.to_thread(lock.acquire):
        return None
    scheduler = await asyncio.to_thread(build_scheduler, url, asyncio.get_running_loop())
    try:
        await asyncio.to_thread(scheduler.start)
    except Exception:  # e.g. the database is down: give the lock back and retry on the next poll
        log.exception("scheduler failed to start; releasing leadership")
        await asyncio.to_thread(lock.release)
        return None
    execute.attach(scheduler)
    _set_leadership(True)
    log.info("scheduler started (leader)")
    return scheduler


async def _stop(scheduler: AsyncIOScheduler, lock: LeaderLock) -> None:
    """Shut the scheduler down (running jobs finish on their own), then release the lock."""
    execute.attach(None)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler.shutdown is queued on the loop: let it run before releasing
    _set_leadership(False)
    await asyncio.to_thread(lock.release)
    log.info("scheduler stopped")


def _set_leadership(leader: bool) -> None:
    global _leadership
    _leadership = Leadership(leader=leader, since=utcnow() if leader else None)
