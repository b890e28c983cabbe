"""Scheduled tearsheet reports: who gets which portfolio how often, and every delivery made."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp


class ReportFrequency(enum.StrEnum):
    """How often a report goes out; each covers the period that has just ended."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ReportSubscription(SQLModel, table=True):
    """One portfolio's report, at one frequency, to one address. Unsubscribing sets ``active`` false."""

    __tablename__ = "report_subscription"
    __table_args__ = (UniqueConstraint("portfolio_id", "frequency", "recipient", name="uq_report_subscription"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    portfolio_id: int = Field(foreign_key="portfolio.id", index=True, ondelete="CASCADE")
    frequency: str = Field(max_length=16)
    recipient: str = Field(max_length=254)
    active: bool = True
    created_at: datetime = timestamp(default_now=True)
    unsubscribed_at: datetime | None = timestamp(nullable=True)


class ReportDelivery(SQLModel, table=True):
    """One report for one subscription and period. ``idempotency_key`` is unique, so a period is sent once.

    status: sending (claimed; ``lease_until`` bounds how long a crashed sender holds it), sent, or failed
    (``error`` holds the server's answer; retried on a later run). A one-off send from the CLI has no
    subscription, and its key starts with ``once:``.
    """

    __tablename__ = "report_delivery"

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int | None = Field(
        default=None, foreign_key="report_subscription.id", index=True, ondelete="CASCADE"
    )
    portfolio_id: int = Field(foreign_key="portfolio.id", index=True, ondelete="CASCADE")
    period: str = Field(max_length=16)
    idempotency_key: str = Field(max_length=120, unique=True)
    recipient: str = Field(max_length=254)
    status: str = Field(default="sending", max_length=16, index=True)
    attempts: int = 0
    lease_until: datetime | None = timestamp(nullable=True)
    message_id: str = Field(default="", max_length=200)
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = timestamp(default_now=True)
    sent_at: datetime | None = timestamp(nullable=True)
