"""The monitoring jobs: new prices, then the alert rules on them, then the alert e-mails that are due.

Both are called by ``jobs.execute.run_job`` (lock, run record, retries) and return their item count.
"""

from __future__ import annotations

import logging

from investment_app.services import monitor
from jobs.prices import refresh_and_log

log = logging.getLogger(__name__)


def refresh_prices(url: str | None = None) -> int:
    """Refresh prices; when new bars arrived, check the rules on the newest date at once. Returns bars added."""
    report = refresh_and_log(url)
    if report.new_dates:
        _check_and_mail(url)
    return report.total_added


def check_alerts(url: str | None = None) -> int:
    """Check the rules on the newest price date (a date already judged adds nothing) and send due e-mails."""
    return _check_and_mail(url)


def _check_and_mail(url: str | None) -> int:
    checked = monitor.check(url)
    sent = monitor.send_alert_emails(url)
    log.info(
        "alerts on %s: %d rules, %d fired, %d not evaluable, %d e-mails sent",
        checked.as_of,
        checked.rules,
        len(checked.fired),
        len(checked.skipped),
        sent,
    )
    return len(checked.fired)
