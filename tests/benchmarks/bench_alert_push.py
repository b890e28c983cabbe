"""From a price update to the toast on an open page (issue 6: goal ≤ 1 s), in Debian's headless Chromium.

Run from the project root: ``python -m tests.benchmarks.bench_alert_push``. The production server starts as
`make run` starts it, twice: with one worker, then with ``REFLEX_REDIS_URL`` set, which makes Reflex start
several workers (one per core pair, 5 here) sharing their state in Redis. Signed-in tabs of the demo user stay
open on /holdings (two, then four, which the workers share between them). Each round stores one new bar through
the price refresh (as the job does), checks the rules (as the job does right after) in this process — like a
standalone ``python -m jobs`` — and waits until every tab shows the toast the server pushed; the clock runs from
the start of the refresh to the toast being in each page.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import redis

from investment_app.db import session_scope
from investment_app.services import accounts, alert_rules, monitor
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD, free_port, start_server, stop_server
from tests.e2e.test_monitoring_pages import new_bar

SYMBOLS = ("SPY", "AAPL", "AMZN", "GE", "WMT", "BAC", "XOM", "JPM")
"""One round per symbol: a rule fires at most once per price date, so each round moves another symbol."""
REDIS_URL = "redis://127.0.0.1:6379/13"


def _sign_in(page) -> None:
    page.goto("/signin")
    page.fill("#email", "demo@example.com")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#sign-in-submit")
    page.wait_for_selector("text=Dashboard")
    page.goto("/holdings")
    page.wait_for_selector("text=Demo Investor")  # shown once the page is connected and the viewer resolved


def _rules(db_url: str) -> None:
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


def rounds(tabs: int, **env: str) -> list[float]:
    """Start a server with ``env``, open ``tabs`` signed-in tabs; seconds from each update to each tab's toast."""
    from playwright.sync_api import sync_playwright

    data, port = Path(tempfile.mkdtemp(prefix="bench-push-")), free_port()
    process = start_server(data, port, **env)
    url, db_url = f"http://127.0.0.1:{port}", f"sqlite:///{data / 'investment_app.db'}"
    timings: list[float] = []
    try:
        _rules(db_url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            pages = [browser.new_page(viewport={"width": 1280, "height": 800}, base_url=url) for _ in range(tabs)]
            for page in pages:
                _sign_in(page)
            for symbol in SYMBOLS:
                started = time.perf_counter()
                with new_bar(db_url, symbol, 0.06):
                    monitor.check(db_url)
                    for page in pages:
                        page.wait_for_selector(f"text={symbol} jumped: +6.00%", timeout=10_000)
                        timings.append(time.perf_counter() - started)
            browser.close()
    finally:
        stop_server(process)
    return timings


def _line(label: str, timings: list[float]) -> str:
    return (
        f"  {label:<44} median {statistics.median(timings) * 1000:>4.0f} ms, max {max(timings) * 1000:>4.0f} ms "
        f"({len(timings)} toasts; goal ≤ 1000 ms)"
    )


def main() -> None:
    print("price update → toast on every open tab of the owner, 8 rounds:")
    print(_line("1 worker, 2 tabs", rounds(2)), flush=True)
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.RedisError as exc:
        print(f"  several workers: skipped, Redis unavailable ({exc})")
        return
    workers = rounds(4, REFLEX_REDIS_URL=REDIS_URL, SCHEDULER_MODE="off")
    print(_line("Redis, several workers, 4 tabs", workers), flush=True)


if __name__ == "__main__":
    main()
