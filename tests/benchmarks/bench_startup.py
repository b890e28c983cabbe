"""Startup benchmark: `python -m investment_app serve` (already installed) to the first page, and
the first render of a page navigation in the production build, in Debian's headless Chromium.

Run from the project root: ``python -m tests.benchmarks.bench_startup``. Goals (issue 2): app start
≤ 30 s, navigation render ≤ 1 s. The start is measured twice: on a fresh data directory (migrate,
seed, build, serve) and again on the same one (nothing to seed).
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD, free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]


def timed_start(data: Path, port: int) -> tuple[subprocess.Popen, float]:
    """Start the server like `make run`; return it and the seconds until it answers."""
    began = time.perf_counter()
    process = start_server(data, port)
    return process, time.perf_counter() - began


def navigation_ms(url: str, rounds: int = 10) -> list[float]:
    """Milliseconds from a click on a nav link to the target page's heading being visible."""
    from playwright.sync_api import sync_playwright

    timings = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, base_url=url)
        page.goto("/signin")
        page.fill("#email", "demo@example.com")
        page.fill("#password", DEMO_PASSWORD)
        page.click("#sign-in-submit")
        page.get_by_role("heading", name="Dashboard").wait_for()
        for i in range(rounds):
            target = "Settings" if i % 2 == 0 else "Dashboard"
            began = time.perf_counter()
            page.get_by_role("link", name=target).first.click()
            page.get_by_role("heading", name=target).wait_for()
            timings.append((time.perf_counter() - began) * 1000)
        browser.close()
    return timings


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data, port = Path(tmp), free_port()
        process, fresh = timed_start(data, port)
        stop_server(process)
        process, warm = timed_start(data, port)
        try:
            nav = navigation_ms(f"http://127.0.0.1:{port}")
        finally:
            stop_server(process)
    print(f"startup    fresh data dir {fresh:.1f} s | restart {warm:.1f} s (goal ≤ 30 s)")
    print(
        f"navigation median {statistics.median(nav):.0f} ms, max {max(nav):.0f} ms over {len(nav)} clicks "
        f"(goal ≤ 1000 ms)"
    )


if __name__ == "__main__":
    main()
