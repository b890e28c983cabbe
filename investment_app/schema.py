"""Schema migrations: Alembic is the only way the schema is created or changed."""

from __future__ import annotations

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from investment_app.db import get_engine
from investment_app.settings import PROJECT_ROOT


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's config for this project, optionally bound to an explicit database URL."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest revision in alembic/versions."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(database_url: str | None = None) -> str | None:
    """The revision the database is at (None before the first migration)."""
    with get_engine(database_url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
