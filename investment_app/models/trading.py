"""Broker connections, the orders sent through them and the fills they report."""

from __future__ import annotations

import datetime as dt
import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp
from investment_app.models.column_types import ExactDecimal


class BrokerKind(enum.StrEnum):
    """Which broker an order goes through."""

    PAPER = "paper"
    ALPACA = "alpaca"


class OrderStatus(enum.StrEnum):
    """An order's life. ``pending`` = written here, not yet acknowledged by the broker."""

    PENDING = "pending"
    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


def _decimal(nullable: bool = True):
    return Field(default=None if nullable else Decimal(0), sa_column=Column(ExactDecimal(), nullable=nullable))


class BrokerConnection(SQLModel, table=True):
    """A user's Alpaca keys (encrypted at rest with ``auth.secrets_box``), paper or live.

    ``key_hint`` is the key id's last four characters, the only part ever shown.
    """

    __tablename__ = "broker_connection"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_broker_connection_owner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    kind: str = Field(default=BrokerKind.ALPACA.value, max_length=16)
    live: bool = False
    key_id_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    secret_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    key_hint: str = Field(default="", max_length=8)
    url_override: str = Field(default="", max_length=300)
    created_at: datetime = timestamp(default_now=True)


class BrokerOrder(SQLModel, table=True):
    """One order, written before it is sent. ``client_order_id`` is the idempotency key the broker sees
    (Alpaca's client_order_id), unique everywhere, so a retry or a restart never places an order twice.

    Paper orders are matched by ``broker.paper`` against stored bars; ``placed_on`` is the bar date they
    were placed on (a day order expires after it).
    """

    __tablename__ = "broker_order"
    __table_args__ = (
        UniqueConstraint("client_order_id", name="uq_broker_order_client_id"),
        Index("ix_broker_order_portfolio_created", "portfolio_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    portfolio_id: int = Field(foreign_key="portfolio.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    plan_id: int | None = Field(default=None, foreign_key="rebalance_plan.id", index=True, ondelete="SET NULL")
    plan_row: int | None = None
    """The plan trade (row index) this order executes; its planned lots are picked for a sell's fills."""
    broker: str = Field(default=BrokerKind.PAPER.value, max_length=16)
    connection_id: int | None = Field(default=None, foreign_key="broker_connection.id", ondelete="SET NULL")
    client_order_id: str = Field(max_length=64)
    broker_order_id: str | None = Field(default=None, max_length=64, index=True)
    symbol: str = Field(max_length=16)
    side: str = Field(max_length=4)
    order_type: str = Field(default="market", max_length=16)
    order_class: str = Field(default="simple", max_length=16)
    time_in_force: str = Field(default="day", max_length=8)
    quantity: Decimal | None = _decimal()
    notional: Decimal | None = _decimal()
    limit_price: Decimal | None = _decimal()
    stop_price: Decimal | None = _decimal()
    trail_percent: Decimal | None = _decimal()
    legs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OrderStatus.PENDING.value, max_length=20, index=True)
    filled_quantity: Decimal = _decimal(nullable=False)
    average_price: Decimal | None = _decimal()
    placed_on: dt.date | None = None
    message: str = Field(default="", max_length=500)
    created_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: datetime = timestamp(default_now=True)
    updated_at: datetime = timestamp(default_now=True)


class BrokerFill(SQLModel, table=True):
    """One execution of an order; ``fill_key`` is unique per order (the broker's id, or the cumulative filled
    quantity it was derived from), and ``transaction_id`` is the ledger entry it wrote: a fill is booked once."""

    __tablename__ = "broker_fill"
    __table_args__ = (UniqueConstraint("order_id", "fill_key", name="uq_broker_fill_key"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="broker_order.id", index=True, ondelete="CASCADE")
    fill_key: str = Field(max_length=80)
    trade_date: dt.date
    quantity: Decimal = _decimal(nullable=False)
    price: Decimal = _decimal(nullable=False)
    commission: Decimal = _decimal(nullable=False)
    transaction_id: int | None = Field(default=None, foreign_key="ledger_transaction.id", ondelete="SET NULL")
    filled_at: datetime = timestamp(default_now=True)
