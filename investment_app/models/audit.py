"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp


class AuditRecord(SQLModel, table=True):
    """One change to data, written in the same transaction as the change."""

    __tablename__ = "audit_record"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = timestamp(default_now=True, index=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", index=True, ondelete="SET NULL")
    actor_email: str = Field(default="", max_length=254)
    action: str = Field(max_length=64, index=True)
    entity: str = Field(max_length=64)
    entity_id: str = Field(default="", max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    ip: str = Field(default="", max_length=64)
