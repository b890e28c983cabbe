"""Saved optimization runs and the target allocation a portfolio is rebalanced towards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp


class OptimizationRun(SQLModel, table=True):
    """One optimization as asked (universe, estimators, objective, constraints) and as answered (weights,
    performance, frontier), with the price data version it was computed on, so it can be re-run and compared."""

    __tablename__ = "optimization_run"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    portfolio_id: int | None = Field(default=None, foreign_key="portfolio.id", index=True, ondelete="SET NULL")
    name: str = Field(max_length=120)
    objective: str = Field(max_length=40)
    request: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    data_version: str = Field(max_length=120)
    created_at: datetime = timestamp(default_now=True)


class TargetAllocation(SQLModel, table=True):
    """A portfolio's target weights (symbol or GICS sector → fraction of value) and cash reserve; one per portfolio."""

    __tablename__ = "target_allocation"

    portfolio_id: int = Field(foreign_key="portfolio.id", primary_key=True, ondelete="CASCADE")
    weights: dict[str, float] = Field(sa_column=Column(JSON, nullable=False))
    basis: str = Field(default="symbols", max_length=16, sa_column_kwargs={"server_default": "symbols"})
    """"symbols": ``weights`` maps symbols; "sectors": GICS sectors, spread over the sector's symbols."""
    cash_reserve: float = 0.0
    source: str = Field(default="manual", max_length=40)
    run_id: int | None = Field(default=None, foreign_key="optimization_run.id", ondelete="SET NULL")
    updated_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    updated_at: datetime = timestamp(default_now=True)
