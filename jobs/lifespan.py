"""The web app's hook: ``app.register_lifespan_task(scheduler_lifespan)`` runs the leader loop in each worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from investment_app.settings import get_settings
from jobs.runner import run_scheduler


@asynccontextmanager
async def scheduler_lifespan() -> AsyncIterator[None]:
    """With SCHEDULER_MODE=inprocess, run the leader loop on the server's event loop for the app's lifetime.

    In the other modes the app runs no scheduler (a ``python -m jobs`` process does, or none at all).
    """
    if get_settings().scheduler_mode != "inprocess":
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run_scheduler(stop), name="scheduler-leader-loop")
    try:
        yield
    finally:
        stop.set()
        await task
