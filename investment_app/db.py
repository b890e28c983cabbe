"""Database engine and session helpers shared by the app, the jobs, Alembic and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from investment_app.settings import get_settings


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached; the message is one readable line."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """One shared engine per URL (default: the configured database)."""
    url = url or get_settings().database_url
    engine = _ENGINES.get(url)
    return engine if engine is not None else _ENGINES.setdefault(url, _create_engine(url))


def dispose_engine(url: str) -> None:
    """Close one URL's pooled connections and forget its engine (e.g. before dropping the database)."""
    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args=_connect_args(parsed.get_backend_name()))


def _connect_args(backend: str) -> dict:
    return {"connect_timeout": 5} if backend == "postgresql" else {}


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error (all or nothing)."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def redacted_url(url: str | None = None) -> str:
    """The database URL with any password hidden, safe to print or log."""
    return make_url(url or get_settings().database_url).render_as_string(hide_password=True)


def check_connection(url: str | None = None) -> None:
    """Raise DatabaseUnavailable with one clear line if the database cannot be reached."""
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseUnavailable(f"database {redacted_url(url)} is unreachable: {reason}") from exc
