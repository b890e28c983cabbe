"""Portfolios, the accounts inside them, and read-only shares with other users."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp
from investment_app.models.column_types import enum_column


class CostBasisMethod(enum.StrEnum):
    """Which open lots a sale relieves first."""

    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"
    SPECIFIC = "specific"


class AccountKind(enum.StrEnum):
    """Where an account's transactions come from."""

    MANUAL = "manual"
    PAPER = "paper"
    ALPACA = "alpaca"


class Portfolio(SQLModel, table=True):
    """A named portfolio owned by one user; names are unique per owner."""

    __tablename__ = "portfolio"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_portfolio_owner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    base_currency: str = Field(default="USD", max_length=3)
    benchmark_symbol: str = Field(default="SPY", max_length=16)
    cost_basis_method: CostBasisMethod = Field(
        default=CostBasisMethod.FIFO, sa_column=enum_column(CostBasisMethod, "cost_basis_method", CostBasisMethod.FIFO)
    )
    ledger_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Bumped by every change to the portfolio's transactions; keys the valuation cache."""
    created_at: datetime = timestamp(default_now=True)


class Account(SQLModel, table=True):
    """An account inside a portfolio (a brokerage account, or a manual one)."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("portfolio_id", "name", name="uq_account_portfolio_name"),)

    id: int | None = Field(default=None, primary_key=True)
    portfolio_id: int = Field(foreign_key="portfolio.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    kind: AccountKind = Field(
        default=AccountKind.MANUAL, sa_column=enum_column(AccountKind, "account_kind", AccountKind.MANUAL)
    )
    created_at: datetime = timestamp(default_now=True)


class PortfolioShare(SQLModel, table=True):
    """Read-only access to a portfolio granted by its owner to another user."""

    __tablename__ = "portfolio_share"

    portfolio_id: int = Field(foreign_key="portfolio.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="app_user.id", primary_key=True, index=True, ondelete="CASCADE")
    created_at: datetime = timestamp(default_now=True)
