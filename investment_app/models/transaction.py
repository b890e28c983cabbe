"""Ledger transactions and the lots a user picked for a sale (specific identification)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp
from investment_app.models.column_types import ExactDecimal, enum_column


class TxType(enum.StrEnum):
    """What happened. Cash effects are listed in investment_app/ledger/events.py."""

    BUY = "buy"
    SELL = "sell"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    DIVIDEND = "dividend"
    INTEREST = "interest"
    FEE = "fee"
    SPLIT = "split"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"


class TxSource(enum.StrEnum):
    """Where a transaction was entered."""

    MANUAL = "manual"
    IMPORT = "import"
    BROKER = "broker"


def _decimal(default: Decimal | None = Decimal(0)):
    return Field(default=default, sa_column=Column(ExactDecimal(), nullable=default is None, default=default))


class Transaction(SQLModel, table=True):
    """One ledger entry. Quantities and money are exact Decimals.

    ``quantity``/``price``: shares and price per share (buy, sell, transfers, reinvested dividend);
    ``amount``: cash (deposit, withdrawal, dividend, interest, fee); ``ratio``: new shares per old (split).
    ``external_id`` is unique within a portfolio and makes imports idempotent.
    """

    __tablename__ = "ledger_transaction"
    __table_args__ = (
        Index("ix_ledger_transaction_portfolio_date", "portfolio_id", "trade_date"),
        Index("uq_ledger_transaction_external", "portfolio_id", "external_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    portfolio_id: int = Field(foreign_key="portfolio.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    type: TxType = Field(sa_column=enum_column(TxType, "tx_type"))
    trade_date: dt.date
    symbol: str | None = Field(default=None, max_length=16, index=True)
    quantity: Decimal = _decimal()
    price: Decimal = _decimal()
    fees: Decimal = _decimal()
    amount: Decimal = _decimal()
    ratio: Decimal | None = _decimal(None)
    note: str = Field(default="", max_length=500)
    source: TxSource = Field(
        default=TxSource.MANUAL,
        sa_column=enum_column(TxSource, "tx_source", TxSource.MANUAL),
    )
    external_id: str | None = Field(default=None, max_length=120)
    created_at: dt.datetime = timestamp(default_now=True)


class LotPick(SQLModel, table=True):
    """For a sale under specific identification: how much of which lot (its opening transaction) it relieves."""

    __tablename__ = "lot_pick"

    sell_id: int = Field(foreign_key="ledger_transaction.id", primary_key=True, ondelete="CASCADE")
    lot_id: int = Field(foreign_key="ledger_transaction.id", primary_key=True, ondelete="CASCADE")
    quantity: Decimal = _decimal()
