"""``python -m jobs``: run the scheduler in its own process (it still takes the leader lock, so any number of
these and of in-process app workers can run side by side). SIGTERM or SIGINT stops it cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from investment_app.db import redacted_url
from investment_app.logs import configure_logging
from investment_app.settings import get_settings
from jobs.runner import run_scheduler

log = logging.getLogger("jobs")


def main() -> int:
    """Run until signalled; exit status 0 on a clean stop."""
    configure_logging()
    if get_settings().scheduler_mode == "off":
        log.info("SCHEDULER_MODE=off: no scheduler to run")
        return 0
    log.info("standalone scheduler on %s", redacted_url())
    asyncio.run(_serve())
    log.info("standalone scheduler exited")
    return 0


async def _serve() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_scheduler(stop)


if __name__ == "__main__":
    sys.exit(main())
