"""From a price update to the toast on an open page (issue 6: goal ≤ 1 s), in Debian's headless Chromium.

Run from the project root: ``python -m tests.benchmarks.bench_alert_push``. The production server starts as
`make run` starts it; a signed-in page stays open on /holdings. Each round stores one new SPY bar through the
price refresh (as the job does), checks the rules (as the job does right after), and waits for the toast the
server pushes; the clock runs from the start of the refresh to the toast being in the page. The rounds of a
second browser tab, pushed by the same check, show that every open page of the owner gets it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from investment_app.db import session_scope
from investment_app.services import accounts, alert_rules, monitor
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD, free_port, start_server, stop_server
from tests.e2e.test_monitoring_pages import new_bar

SYMBOLS = ("SPY", "AAPL", "AMZN", "GE", "WMT", "BAC", "XOM", "JPM")
"""One round per symbol: a rule fires at most once per price date, so each round moves another symbol."""


def _sign_in(page) -> None:
    page.goto("/signin")
    page.fill("#email", "demo@example.com")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#sign-in-submit")
    page.wait_for_selector("text=Dashboard")
    page.goto("/holdings")
    page.wait_for_selector("h1:has-text('Holdings')")


def main() -> None:
    from playwright.sync_api import sync_playwright

    data, port = Path(tempfile.mkdtemp(prefix="bench-push-")), free_port()
    process = start_server(data, port)
    url, db_url = f"http://127.0.0.1:{port}", f"sqlite:///{data / 'investment_app.db'}"
    try:
        with session_scope(db_url) as db:
            demo = accounts.acting_as(db, "demo@example.com")
            for symbol in SYMBOLS:
                alert_rules.create(
                    db,
                    demo,
                    kind="move",
                    symbol=symbol,
                    params={"pct": 0.05, "direction": "up"},
                    cooldown_minutes=0,
                    name=f"{symbol} jumped",
                )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            pages = [browser.new_page(viewport={"width": 1280, "height": 800}, base_url=url) for _ in range(2)]
            for page in pages:
                _sign_in(page)
            timings, second = [], []
            for symbol in SYMBOLS:
                started = time.perf_counter()
                with new_bar(db_url, symbol, 0.06):
                    monitor.check(db_url)
                    pages[0].wait_for_selector(f"text={symbol} jumped: +6.00%", timeout=10_000)
                    timings.append(time.perf_counter() - started)
                    pages[1].wait_for_selector(f"text={symbol} jumped: +6.00%", timeout=10_000)
                    second.append(time.perf_counter() - started)
            browser.close()
    finally:
        stop_server(process)
    print(
        f"price update → toast, {len(SYMBOLS)} rounds: median {statistics.median(timings) * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms (goal ≤ 1000 ms); second tab: median "
        f"{statistics.median(second) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
