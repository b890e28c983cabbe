"""Portfolios (the ledger issue adds accounts, transactions and lots)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp


class Portfolio(SQLModel, table=True):
    """A named portfolio owned by one user; names are unique per owner."""

    __tablename__ = "portfolio"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_portfolio_owner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    base_currency: str = Field(default="USD", max_length=3)
    benchmark_symbol: str = Field(default="SPY", max_length=16)
    created_at: datetime = timestamp(default_now=True)
