"""Shared fixtures: a migrated SQLite database per test, and a PostgreSQL one created and dropped here.

The PostgreSQL server is taken from TEST_POSTGRES_URL (default: the local one with trust
auth). Under CI=true a missing server fails the tests; elsewhere they are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.chdir(ROOT)
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT / "tests" / "artifacts" / "data"))
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from investment_app import schema  # noqa: E402
from investment_app.db import dispose_engine, get_engine  # noqa: E402

ON_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def require_service(available: bool, what: str) -> None:
    """Skip when a service is missing on a developer machine; fail under CI=true."""
    if available:
        return
    if ON_CI:
        pytest.fail(f"{what} is required on CI but is not available")
    pytest.skip(f"{what} is not available")


def _postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_SERVER_URL, connect_args={"connect_timeout": 3}).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means the server is not usable here
        return False


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database file (not migrated)."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    require_service(_postgres_available(), "PostgreSQL at " + make_url(POSTGRES_SERVER_URL).render_as_string())
    name = f"invest_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        dispose_engine(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database, once on SQLite and once on PostgreSQL."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    schema.upgrade(url)
    return url


@pytest.fixture
def db(sqlite_url: str):
    """A migrated SQLite database and an open session on it (committed by the test as needed)."""
    from sqlmodel import Session

    schema.upgrade(sqlite_url)
    with Session(get_engine(sqlite_url), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the app's own settings (REFLEX_DB_URL) at the migrated test database."""
    from investment_app.settings import get_settings

    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def run_cli(*args: str, db_url: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run `python -m investment_app ARGS` in a child process against ``db_url``."""
    env = {**os.environ, "REFLEX_DB_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "investment_app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
