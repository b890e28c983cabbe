"""Job bookkeeping: every scheduler run, and APScheduler's own job store table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, String, Table, Text
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp


class JobRun(SQLModel, table=True):
    """One run of a scheduled job."""

    __tablename__ = "job_run"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=120, index=True)
    started_at: datetime = timestamp(default_now=True, index=True)
    finished_at: datetime | None = timestamp(nullable=True)
    duration_s: float | None = None
    status: str = Field(default="running", max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text))
    items: int = 0
    host: str = Field(default="", max_length=120)


# APScheduler's SQLAlchemyJobStore table, declared here so that Alembic creates it and
# `alembic check` sees it (APScheduler would otherwise create it on its own at start).
scheduler_jobs_table = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
