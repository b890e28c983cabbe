"""The price refresh: new daily bars from the configured source (``services.price_refresh``), logged.

The job itself is ``jobs.monitor.refresh_prices`` (run by ``jobs.execute.run_job``: lock, run record, retries; a
source that is down or refuses the keys raises, and nothing is stored). Each rejected bar is logged at WARNING,
one line each; so is each accepted split, whose earlier stored bars are on the pre-split basis.
"""

from __future__ import annotations

import logging

from investment_app.services.price_refresh import RefreshReport, refresh

log = logging.getLogger(__name__)


def refresh_and_log(url: str | None = None) -> RefreshReport:
    """Run the refresh on ``url`` (None = the configured database) and log what it rejected and found."""
    report = refresh(url)
    for bar in report.rejected:
        log.warning("price bar rejected: %s", bar.message)
    for split in report.splits:
        log.warning(
            "split stored: %s %s, %g new shares per old share; its earlier stored bars are on the pre-split basis",
            split.symbol,
            split.date.isoformat(),
            split.ratio,
        )
    log.info(
        "price refresh from %s: %d bars added over %d dates, %d rejected, %.2f s",
        report.source,
        report.total_added,
        len(report.new_dates),
        len(report.rejected),
        report.seconds,
    )
    return report
