"""The production app, started exactly as `make run` starts it, and Debian's Chromium driven by Playwright.

One server per test session: `python -m investment_app serve` on a free port with its own data
directory (SQLite file, bundled data, demo account). Under CI=true a missing Chromium fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
DEMO_PASSWORD = "e2e-sesame-2024"


@dataclass(frozen=True)
class LiveApp:
    """A running production server."""

    url: str
    db_url: str
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the app did not become healthy in {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def start_server(data: Path, port: int, **extra_env: str) -> subprocess.Popen:
    """Start `python -m investment_app serve` (what `make run` runs) with its own data directory; wait until healthy."""
    env = {
        **os.environ,
        "DATA_DIR": str(data),
        "REFLEX_DB_URL": f"sqlite:///{data / 'investment_app.db'}",
        "PORT": str(port),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    log = data / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "investment_app", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process, log)
    except RuntimeError:
        stop_server(process)
        raise
    return process


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM the server's whole process group (Reflex and its workers), SIGKILL if it lingers."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    require_service(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM}")
    data, port = tmp_path_factory.mktemp("e2e-data"), free_port()
    process = start_server(data, port, HEARTBEAT_SECONDS="5")
    try:
        yield LiveApp(f"http://127.0.0.1:{port}", f"sqlite:///{data / 'investment_app.db'}", data / "server.log")
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def playwright(live_app: LiveApp):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright):
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def desktop(browser, live_app: LiveApp):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_app.url)
    yield context.new_page()
    context.close()


@pytest.fixture
def installed(playwright, live_app: LiveApp, tmp_path: Path):
    """A page in a persistent (non-incognito) profile, as installability and service workers need."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, base_url=live_app.url
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser, live_app: LiveApp):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_app.url,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    yield context.new_page()
    context.close()


def screenshot(page, name: str) -> None:
    """Keep a screenshot under tests/artifacts/screenshots for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
