"""Column helpers for timezone-aware UTC timestamps."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored timestamp as timezone-aware UTC (SQLite hands them back naive; all were stored as UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def timestamp(*, default_now: bool = False, nullable: bool = False, index: bool = False):
    """A timezone-aware timestamp column."""
    return Field(
        default_factory=utcnow if default_now else None,
        sa_type=DateTime(timezone=True),
        nullable=nullable,
        index=index,
    )
