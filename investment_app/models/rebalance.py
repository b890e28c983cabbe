"""How a portfolio is rebalanced (triggers, bands, costs, tax options, limits) and the plans it produced."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp


class PlanStatus(enum.StrEnum):
    """A plan's life: proposed → approved (or rejected) → executing → executed (or failed)."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class RebalanceSettings(SQLModel, table=True):
    """One per portfolio. Fractions are decimals (0.05 = 5 %); a None threshold is off.

    Triggers: ``calendar`` (none, weekly, monthly, quarterly, yearly), ``drift_threshold`` (total drift),
    ``position_threshold`` (one position's gap), ``cash_flow`` (a deposit or withdrawal since the last run);
    ``cooldown_days`` between two triggered runs. ``mode``: "approve" waits for the owner, "auto" executes.
    Pre-trade limits: ``max_position_weight``, ``max_order_value``, ``max_daily_loss`` (a fraction of value).
    """

    __tablename__ = "rebalance_settings"

    portfolio_id: int = Field(foreign_key="portfolio.id", primary_key=True, ondelete="CASCADE")
    calendar: str = Field(default="none", max_length=16)
    drift_threshold: float | None = 0.05
    position_threshold: float | None = None
    cash_flow: bool = False
    cooldown_days: int = 7
    mode: str = Field(default="approve", max_length=16)
    broker: str = Field(default="paper", max_length=16)
    connection_id: int | None = Field(default=None, foreign_key="broker_connection.id", ondelete="SET NULL")
    band: float | None = 0.05
    commission_bps: float = 0.0
    spread_bps: float = 5.0
    min_trade_value: float = 50.0
    fractional: bool = False
    lot_method: str = Field(default="hifo", max_length=16)
    avoid_short_term_gains: bool = True
    tlh_threshold: float | None = None
    tlh_min_loss: float | None = None
    replacements: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    max_position_weight: float | None = None
    max_order_value: float | None = None
    max_daily_loss: float | None = None
    last_run_at: datetime | None = timestamp(nullable=True)
    updated_at: datetime = timestamp(default_now=True)


class TaxSettings(SQLModel, table=True):
    """A user's declared groups of substantially identical securities (e.g. [["SPY", "IVV", "VOO"]]),
    which the wash-sale rule treats as one symbol across all of the user's portfolios."""

    __tablename__ = "tax_settings"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    identical_groups: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = timestamp(default_now=True)


class RebalancePlan(SQLModel, table=True):
    """One plan as computed (the target, settings and prices it used; its trades, lots and figures) and what
    became of it. ``trades`` may be edited while proposed; every decision is audited."""

    __tablename__ = "rebalance_plan"

    id: int | None = Field(default=None, primary_key=True)
    portfolio_id: int = Field(foreign_key="portfolio.id", index=True, ondelete="CASCADE")
    trigger: str = Field(default="manual", max_length=40)
    status: str = Field(default=PlanStatus.PROPOSED.value, max_length=16, index=True)
    price_date: str = Field(default="", max_length=10)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    trades: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    lots: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    broker: str = Field(default="paper", max_length=16)
    created_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: datetime = timestamp(default_now=True)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    decided_at: datetime | None = timestamp(nullable=True)
    note: str = Field(default="", max_length=500)
    executed_at: datetime | None = timestamp(nullable=True)
