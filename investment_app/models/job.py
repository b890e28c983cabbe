"""Job bookkeeping: every scheduler run, and APScheduler's own job store table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, String, Table, Text
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp


class JobRun(SQLModel, table=True):
    """One run (one attempt) of a scheduled job.

    status: running, ok, retrying (this attempt failed and another is scheduled), failed (the last attempt
    failed). ``attempt`` counts from 1 within one scheduled run.
    """

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
    attempt: int = 1


class JobCommand(SQLModel, table=True):
    """An operator's request (run now, pause, resume) that the scheduler's leader carries out.

    Any web worker can write one; only the leader, wherever it runs, reads and applies them, so the job store
    keeps a single writer. ``done_at`` and ``outcome`` record what happened.
    """

    __tablename__ = "job_command"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=120)
    action: str = Field(max_length=16)
    requested_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    requested_at: datetime = timestamp(default_now=True)
    done_at: datetime | None = timestamp(nullable=True, index=True)
    outcome: str = Field(default="", max_length=200)


# APScheduler's SQLAlchemyJobStore table, declared here so that Alembic creates it and
# `alembic check` sees it (APScheduler would otherwise create it on its own at start).
scheduler_jobs_table = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
