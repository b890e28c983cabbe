"""Every scheduled job: its id, what it does, when it runs, and the function that does it.

A job function takes the database URL (None = the configured one, tests pass their own) and returns how many
items it processed; ``jobs.execute.run_job`` records, locks and retries it. Functions are named by
``"module:function"`` text so that importing the catalogue stays cheap and the job store holds no pickled code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from investment_app.settings import get_settings


@dataclass(frozen=True)
class JobSpec:
    """One job. ``trigger`` and ``trigger_args`` are APScheduler's (interval or cron, in UTC)."""

    id: str
    name: str
    description: str
    function: str
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)
    catch_up: bool = False
    """True: a run missed by any delay still runs once (misfire_grace_time=None); else the default grace."""
    start_at_once: bool = False

    def resolve(self) -> Callable[[str | None], int]:
        """The job function itself."""
        module, name = self.function.split(":")
        return getattr(importlib.import_module(module), name)

    @property
    def schedule(self) -> str:
        """The trigger in words, for the admin page."""
        args = self.trigger_args
        if self.trigger == "interval":
            return f"every {args['seconds']} s" if "seconds" in args else f"every {args['minutes']} min"
        days = f"{args['day_of_week']} " if "day_of_week" in args else "daily "
        if "hour" in args:
            return f"{days}at {int(args['hour']):02d}:{int(args.get('minute', 0)):02d} UTC"
        return f"hourly at :{int(args['minute']):02d}"


def catalogue() -> dict[str, JobSpec]:
    """The jobs, by id (intervals read from the settings)."""
    specs = (
        JobSpec(
            "heartbeat",
            "Heartbeat",
            "Proves a scheduler is running (read by /api/health) and prunes job runs older than 30 days.",
            "jobs.heartbeat:heartbeat",
            "interval",
            {"seconds": get_settings().heartbeat_seconds},
            start_at_once=True,
        ),
        JobSpec(
            "price_refresh",
            "Price refresh",
            "Brings new daily bars from the price source, validates them, stores the good ones and checks the "
            "alert rules on the new days.",
            "jobs.monitor:refresh_prices",
            "cron",
            {"day_of_week": "mon-fri", "hour": 22, "minute": 30},
            catch_up=True,
        ),
        JobSpec(
            "alerts",
            "Alert monitor",
            "Checks the alert rules on the latest prices and sends alert e-mails that are due (after quiet hours).",
            "jobs.monitor:check_alerts",
            "interval",
            {"minutes": 5},
        ),
        JobSpec(
            "reports",
            "Report e-mails",
            "Renders and e-mails the daily, weekly and monthly tearsheet reports that are due, each exactly once.",
            "jobs.reports:send_due_reports",
            "cron",
            {"minute": 5},
            catch_up=True,
        ),
        JobSpec(
            "rebalance",
            "Rebalance triggers",
            "Checks each portfolio's calendar, drift and cash-flow triggers; a fired trigger stores a plan, which "
            "waits for approval or, in automatic mode, is executed.",
            "jobs.rebalance:check_triggers",
            "cron",
            {"day_of_week": "mon-fri", "hour": 22, "minute": 50},
            catch_up=True,
        ),
        JobSpec(
            "orders",
            "Order sync",
            "Matches open paper orders against new bars, brings open broker orders up to date and books their "
            "fills in the ledger, each once.",
            "jobs.rebalance:sync_orders",
            "interval",
            {"minutes": 2},
        ),
    )
    return {spec.id: spec for spec in specs}
