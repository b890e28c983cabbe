"""The one interface every broker implements, and the plain data it speaks.

Quantities and money are Decimals. ``client_order_id`` is the idempotency key: submitting an order whose
key the broker already holds must return that order, never place a second one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

ORDER_TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
ORDER_CLASSES = ("simple", "bracket", "oco")
TIMES_IN_FORCE = ("day", "gtc")
SIDES = ("buy", "sell")


class BrokerError(Exception):
    """A broker refused or could not answer. ``code`` is one of: insufficient_buying_power, invalid_order,
    rate_limited, timeout, unavailable, forbidden, unauthorized, not_found. ``retryable`` says whether
    the same request may succeed later (rate limit, timeout, connection lost, 5xx)."""

    def __init__(self, code: str, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class OrderRequest:
    """An order as we want it. Exactly one of ``quantity`` (shares, may be fractional) or ``notional`` (money).

    ``limit_price`` for limit and stop_limit, ``stop_price`` for stop and stop_limit, ``trail_percent`` for
    trailing_stop. Bracket: ``take_profit`` (limit price) and ``stop_loss`` (stop price) legs on an entry order;
    OCO: both legs on an exit order (Alpaca's shapes).
    """

    client_order_id: str
    symbol: str
    side: str
    quantity: Decimal | None = None
    notional: Decimal | None = None
    order_type: str = "market"
    time_in_force: str = "day"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    order_class: str = "simple"
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None


@dataclass(frozen=True)
class OrderState:
    """An order as the broker reports it; ``filled_quantity`` and ``average_price`` are cumulative."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: str
    status: str
    quantity: Decimal | None
    filled_quantity: Decimal = Decimal(0)
    average_price: Decimal | None = None
    message: str = ""
    legs: tuple[OrderState, ...] = ()


@dataclass(frozen=True)
class Fill:
    """One execution. ``key`` is unique within its order."""

    client_order_id: str
    key: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    commission: Decimal
    trade_date: dt.date


@dataclass(frozen=True)
class AccountInfo:
    """Cash, buying power and equity in the account's currency."""

    cash: Decimal
    buying_power: Decimal
    equity: Decimal
    currency: str = "USD"
    status: str = "ACTIVE"


@dataclass(frozen=True)
class Position:
    """Shares held of one symbol, with the broker's average entry price."""

    symbol: str
    quantity: Decimal
    average_price: Decimal
    market_value: Decimal | None = None


@dataclass(frozen=True)
class Clock:
    """Whether the market is open now, and its next open and close."""

    is_open: bool
    next_open: dt.datetime | None = None
    next_close: dt.datetime | None = None


@dataclass(frozen=True)
class Asset:
    """What the broker says about a symbol."""

    symbol: str
    tradable: bool
    fractionable: bool = False
    shortable: bool = False
    extra: dict = field(default_factory=dict)


class Broker(Protocol):
    """Account, positions, orders, submit, cancel, fills, plus the clock and assets for pre-trade checks."""

    name: str

    def account(self) -> AccountInfo: ...

    def positions(self) -> list[Position]: ...

    def orders(self, open_only: bool = False) -> list[OrderState]: ...

    def order(self, client_order_id: str) -> OrderState | None:
        """The order with this idempotency key, or None when the broker never received it."""
        ...

    def submit(self, request: OrderRequest) -> OrderState:
        """Place the order; idempotent on ``request.client_order_id``. Raises BrokerError."""
        ...

    def cancel(self, client_order_id: str) -> OrderState: ...

    def fills(self, client_order_id: str) -> list[Fill]:
        """Every execution of the order so far (idempotent: the same keys each time). A broker that reports only
        cumulative figures (Alpaca) returns one Fill per order or leg whose quantity grows under the same key;
        the caller books the increase since its last sync."""
        ...

    def clock(self) -> Clock: ...

    def asset(self, symbol: str) -> Asset | None: ...
