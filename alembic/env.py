"""Alembic environment: the app's metadata and the app's database URL."""

from logging.config import fileConfig

from sqlmodel import SQLModel

import investment_app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from alembic import context
from investment_app.db import get_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _url() -> str | None:
    """An explicit URL passed by a caller (tests, the CLI), else the app's configured one."""
    return config.attributes.get("database_url")


def run_migrations_offline() -> None:
    context.configure(
        url=str(get_engine(_url()).url),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with get_engine(_url()).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
