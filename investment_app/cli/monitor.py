"""`prices refresh` and `alerts check`: the monitoring jobs' work, run once by hand (JSON on stdout).

They take the same job locks as the scheduler, so they never run beside a scheduled run of the same job.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager

from investment_app.db import check_connection
from investment_app.services import alert_mail, monitor
from jobs.leader import job_lock
from jobs.monitor import CHECK_LOCK
from jobs.prices import refresh_and_log


def register(commands: argparse._SubParsersAction) -> None:
    prices = commands.add_parser("prices", help="market data")
    prices.add_subparsers(dest="prices_command", required=True, metavar="ACTION").add_parser(
        "refresh", help="bring new daily bars from the configured source; print what was added and rejected"
    ).set_defaults(handler=refresh)
    alerts = commands.add_parser("alerts", help="alert rules")
    alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION").add_parser(
        "check", help="judge every rule on the newest price date and send the alert e-mails that are due"
    ).set_defaults(handler=check)


@contextmanager
def _holding(job_id: str) -> Iterator[None]:
    """Run the block under the job's lock, or stop with a message when a run of that job holds it."""
    lock = job_lock(job_id)
    if not lock.acquire():
        raise SystemExit(f"error: the {job_id} job is running now; try again when it ends")
    try:
        yield
    finally:
        lock.release()


def refresh(args: argparse.Namespace) -> int:
    """Refresh prices under the price job's lock; print the RefreshReport."""
    check_connection()
    with _holding("price_refresh"):
        report = refresh_and_log()
    print(json.dumps(report.to_json(), indent=2))
    return 0


def check(args: argparse.Namespace) -> int:
    """Check the rules under the check lock, send due e-mails; print the CheckReport and the e-mails sent."""
    check_connection()
    with _holding(CHECK_LOCK):
        report = monitor.check()
    print(json.dumps({**report.to_json(), "emails_sent": alert_mail.send_alert_emails()}, indent=2))
    return 0
