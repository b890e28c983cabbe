"""The monitoring jobs: new prices, then the alert rules on each new day, then the alert e-mails that are due.

Both are called by ``jobs.execute.run_job`` (lock, run record, retries) and return their item count. Both check
rules under one more lock, "alert-check", so the price refresh and the alert monitor never judge at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from investment_app.services import alert_mail, monitor
from jobs.leader import job_lock
from jobs.prices import refresh_and_log

CHECK_LOCK = "alert-check"
log = logging.getLogger(__name__)


def refresh_prices(url: str | None = None) -> int:
    """Refresh prices, check the rules on each new day in order, send due e-mails; returns the bars added."""
    report = refresh_and_log(url)
    if report.new_dates:
        _check_and_mail(url, report.new_dates)
    return report.total_added


def check_alerts(url: str | None = None) -> int:
    """Check the rules on the newest price date (a date already judged adds nothing) and send due e-mails."""
    return _check_and_mail(url, [None])


def _check_and_mail(url: str | None, days: Sequence[dt.date | None]) -> int:
    """Check ``days`` (None = the newest) under the check lock, then send the e-mails; how many alerts fired."""
    lock = job_lock(CHECK_LOCK, url)
    if not lock.acquire():
        raise RuntimeError("another alert check is running; this one will be retried")
    try:
        fired = 0
        for day in days:
            checked = monitor.check(url, as_of=day)
            fired += len(checked.fired)
            log.info(
                "alerts on %s: %d rules, %d fired, %d not evaluable",
                checked.as_of,
                checked.rules,
                len(checked.fired),
                len(checked.skipped),
            )
    finally:
        lock.release()
    log.info("alert e-mails sent: %d", alert_mail.send_alert_emails(url))
    return fired
