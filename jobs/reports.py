"""The report job: e-mails the daily, weekly and monthly tearsheet reports that are due (services.reports).

Run hourly (the catalogue's entry): a period's reports go out on the first run from REPORT_HOUR_UTC on, and
each later run retries what failed; a report already sent is never sent again.
"""

from __future__ import annotations

from investment_app.services import reports

REPORTS_JOB_ID = "reports"


def send_due_reports(url: str | None = None) -> int:
    """Send every due report; returns how many were sent.

    When any failed (each recorded with the server's answer), raises ReportsFailed after sending the others,
    so ``jobs.execute.run_job`` records the run failed with the reasons and schedules a retry.
    """
    return len(reports.send_due(url).sent)
