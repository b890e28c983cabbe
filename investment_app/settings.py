"""Every setting the app reads from the environment, in one place.

Each setting is documented once here and in the README's configuration table. Nothing
else in the code base reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Runtime configuration (see the README's configuration table)."""

    data_dir: Path
    """DATA_DIR: where the SQLite file, the generated secret key and the lock files live."""
    database_url: str
    """REFLEX_DB_URL: SQLAlchemy URL; default is a SQLite file in DATA_DIR."""
    redis_url: str
    """REFLEX_REDIS_URL: Redis for multi-worker state and the scheduler leader lock; empty = none."""
    secret_key: str
    """SECRET_KEY: keys session-token hashing and signed tokens; generated into DATA_DIR if unset."""
    port: int
    """PORT: the single HTTP port of the production server."""
    log_level: str
    """LOG_LEVEL: DEBUG, INFO, WARNING or ERROR."""
    log_format: str
    """LOG_FORMAT: json (production default) or text."""
    session_hours: int
    """SESSION_HOURS: a session expires this long after sign-in."""
    session_idle_hours: int
    """SESSION_IDLE_HOURS: a session expires after this long without use."""
    cookie_secure: bool
    """COOKIE_SECURE: mark the session cookie Secure (set to 1 behind HTTPS)."""
    login_max_failures: int
    """LOGIN_MAX_FAILURES: failed sign-ins allowed per account, and per address, in the window."""
    login_window_minutes: int
    """LOGIN_WINDOW_MINUTES: the rate-limit window for failed sign-ins."""
    default_role: str
    """DEFAULT_ROLE: role given to self-registered users (analyst or viewer)."""
    scheduler_mode: str
    """SCHEDULER_MODE: inprocess (leader among app workers), standalone (only `python -m jobs`) or off."""
    heartbeat_seconds: int
    """HEARTBEAT_SECONDS: interval of the scheduler's heartbeat job."""
    demo_password: str
    """DEMO_PASSWORD: password of the seeded demo account demo@example.com."""
    smtp_host: str
    """SMTP_HOST: the mail server for reports and alerts; empty = e-mail is off."""
    smtp_port: int
    """SMTP_PORT: its port; default 465 for tls, 587 for starttls, 25 for none."""
    smtp_username: str
    """SMTP_USERNAME: login at the mail server; empty = no authentication."""
    smtp_password: str = field(repr=False)
    """SMTP_PASSWORD: password for SMTP_USERNAME (never logged nor shown)."""
    smtp_from: str
    """SMTP_FROM: the From address of every e-mail the app sends."""
    smtp_security: str
    """SMTP_SECURITY: none (plain text), starttls (upgrade after connecting) or tls (TLS from the start)."""
    public_url: str
    """PUBLIC_URL: the address users reach the app at, for links in e-mails (unsubscribe, confirm)."""
    report_hour_utc: int
    """REPORT_HOUR_UTC: hour of the day (UTC) from which the reports of the period just ended are sent."""
    job_max_attempts: int
    """JOB_MAX_ATTEMPTS: attempts of a failing job run before it is marked failed."""
    job_retry_seconds: int
    """JOB_RETRY_SECONDS: delay before the first retry; each further retry waits twice as long."""
    price_jump_threshold: float
    """PRICE_JUMP_THRESHOLD: a day-on-day close move larger than this fraction is rejected unless split-adjusted."""
    alpaca_api_key: str = field(repr=False)
    """ALPACA_API_KEY: with ALPACA_SECRET_KEY, prices come from Alpaca's historical bars; empty = bundled data."""
    alpaca_secret_key: str = field(repr=False)
    """ALPACA_SECRET_KEY: the secret of ALPACA_API_KEY (never logged nor shown)."""
    alpaca_data_url: str
    """ALPACA_DATA_URL: override of Alpaca's market-data base URL (tests point it at a local server)."""


def _secret_key(data_dir: Path) -> str:
    """SECRET_KEY from the environment, else a key generated once into DATA_DIR (mode 0600)."""
    configured = os.environ.get("SECRET_KEY", "").strip()
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SMTP_SECURITY_PORTS = {"none": 25, "starttls": 587, "tls": 465}


def _smtp_security() -> str:
    """SMTP_SECURITY, checked against the three known modes."""
    security = _env("SMTP_SECURITY", "starttls").lower()
    if security not in SMTP_SECURITY_PORTS:
        raise ValueError(f"SMTP_SECURITY must be one of none, starttls, tls; got {security!r}")
    return security


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once per process."""
    data_dir = Path(_env("DATA_DIR", str(PROJECT_ROOT / "data"))).resolve()
    default_db = f"sqlite:///{data_dir / 'investment_app.db'}"
    production = _env("REFLEX_ENV_MODE", "dev") == "prod"
    smtp_security = _smtp_security()
    return Settings(
        data_dir=data_dir,
        database_url=_env("REFLEX_DB_URL", default_db),
        redis_url=_env("REFLEX_REDIS_URL", ""),
        secret_key=_secret_key(data_dir),
        port=_env_int("PORT", 8000),
        log_level=_env("LOG_LEVEL", "INFO").upper(),
        log_format=_env("LOG_FORMAT", "json" if production else "text"),
        session_hours=_env_int("SESSION_HOURS", 24 * 14),
        session_idle_hours=_env_int("SESSION_IDLE_HOURS", 24 * 3),
        cookie_secure=_env("COOKIE_SECURE", "0") == "1",
        login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5),
        login_window_minutes=_env_int("LOGIN_WINDOW_MINUTES", 15),
        default_role=_env("DEFAULT_ROLE", "analyst"),
        scheduler_mode=_env("SCHEDULER_MODE", "inprocess"),
        heartbeat_seconds=_env_int("HEARTBEAT_SECONDS", 60),
        demo_password=_env("DEMO_PASSWORD", "open-sesame-2024"),
        smtp_host=_env("SMTP_HOST", ""),
        smtp_port=_env_int("SMTP_PORT", SMTP_SECURITY_PORTS[smtp_security]),
        smtp_username=_env("SMTP_USERNAME", ""),
        smtp_password=os.environ.get("SMTP_PASSWORD", ""),
        smtp_from=_env("SMTP_FROM", "reports@localhost"),
        smtp_security=smtp_security,
        public_url=_env("PUBLIC_URL", f"http://localhost:{_env_int('PORT', 8000)}").rstrip("/"),
        report_hour_utc=_env_int("REPORT_HOUR_UTC", 6),
        job_max_attempts=_env_int("JOB_MAX_ATTEMPTS", 4),
        job_retry_seconds=_env_int("JOB_RETRY_SECONDS", 60),
        price_jump_threshold=_env_float("PRICE_JUMP_THRESHOLD", 0.5),
        alpaca_api_key=os.environ.get("ALPACA_API_KEY", ""),
        alpaca_secret_key=os.environ.get("ALPACA_SECRET_KEY", ""),
        alpaca_data_url=_env("ALPACA_DATA_URL", ""),
    )
