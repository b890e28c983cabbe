"""`serve`: migrate, seed, then run the production app on one port and say where it is.

This is what `make run` calls. The Reflex server runs as a child process; SIGINT/SIGTERM
are passed on to it. When the app answers, the URL and the demo credentials are printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from investment_app import schema
from investment_app.db import check_connection
from investment_app.services import seed as seed_service
from investment_app.services.seed import DEMO_EMAIL
from investment_app.settings import PROJECT_ROOT, get_settings


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="migrate, seed and serve the production app on one port")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default: PORT or 8000)")
    parser.add_argument("--no-seed", action="store_true", help="skip loading the bundled data and demo account")
    parser.set_defaults(handler=run)


def reflex_environment() -> dict[str, str]:
    """The environment for the Reflex CLI: the JS toolchain installed in the virtualenv, no telemetry."""
    env = dict(os.environ)
    tools = Path(sys.prefix) / "tools" / "node_modules" / ".bin"
    env["PATH"] = os.pathsep.join([str(tools), str(Path(sys.executable).parent), env.get("PATH", "")])
    if (tools / "bun").exists():
        env["REFLEX_USE_SYSTEM_BUN"] = "1"
    env["REFLEX_ENV_MODE"] = "prod"
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    env.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")
    return env


def _wait_until_up(url: str, child: subprocess.Popen, timeout: float = 600) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.5)
    return False


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    port = args.port or get_settings().port
    check_connection()
    schema.upgrade()
    if not args.no_seed:
        print(seed_service.seed().summary(), flush=True)
    command = [
        str(Path(sys.executable).parent / "reflex"),
        "run",
        "--env",
        "prod",
        "--single-port",
        "--backend-port",
        str(port),
        "--loglevel",
        "warning",
    ]
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, env=reflex_environment())
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, _f: child.send_signal(s))
    if _wait_until_up(f"http://127.0.0.1:{port}/api/health", child):
        print(
            f"\n  Investment App is ready at http://localhost:{port}  ({time.monotonic() - started:.1f} s)\n"
            f"  Demo account: {DEMO_EMAIL} / {get_settings().demo_password}\n",
            flush=True,
        )
    return child.wait()
