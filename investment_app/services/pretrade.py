"""Pre-trade checks: every order of a batch is checked before any of them leaves; one problem stops the batch.

Conventions:
- Sells come first, so buys may spend the sells' proceeds: Σ buy value × (1 + k) ≤ buying power + Σ sell value
  × (1 − k), with k the plan's cost rate (commission + half the spread).
- A sell may not exceed the shares held in the ledger, nor (for an external broker) the broker's position.
- ``max_order_value``: each order's value (quantity × reference price) at most this.
- ``max_position_weight``: a bought symbol's weight after the batch at most this (fraction of value).
- ``max_daily_loss``: when the portfolio lost more than this fraction of its value on the last day (flows
  excluded), nothing is sent that day.
- The market must be open for the broker (the paper market always is).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from investment_app.analytics.constraints import pct
from investment_app.broker.base import AccountInfo, Asset, Clock
from investment_app.ledger.lots import plain


@dataclass(frozen=True)
class Intent:
    """One order to check: quantity in shares at a reference price."""

    symbol: str
    side: str
    quantity: Decimal
    price: float

    @property
    def value(self) -> float:
        return float(self.quantity) * self.price


@dataclass(frozen=True)
class Limits:
    """The portfolio's limits (None = off) and the plan's cost rate."""

    max_order_value: float | None = None
    max_position_weight: float | None = None
    max_daily_loss: float | None = None
    cost_rate: float = 0.0


@dataclass(frozen=True)
class Book:
    """What the checks read: ledger and broker positions, portfolio value and the last day's P&L."""

    held: dict[str, Decimal]
    broker_held: dict[str, Decimal] | None
    prices: dict[str, float]
    value: float
    day_pnl: float


def _shape(i: Intent, asset: Asset | None) -> list[str]:
    if not i.quantity.is_finite() or i.quantity <= 0:
        return [f"{i.side} {i.symbol}: the quantity must be above 0 (got {i.quantity})"]
    if asset is None or not asset.tradable:
        return [f"{i.symbol} is not tradable at this broker"]
    if i.quantity != i.quantity.to_integral_value() and not asset.fractionable:
        return [f"{i.symbol} cannot be traded in fractions of a share at this broker"]
    return []


def _positions(intents: list[Intent], book: Book) -> list[str]:
    problems = []
    for i in (i for i in intents if i.side == "sell"):
        held = book.held.get(i.symbol, Decimal(0))
        if i.quantity > held:
            problems.append(f"sell {plain(i.quantity)} {i.symbol} is more than the {plain(held)} held")
        elif book.broker_held is not None and i.quantity > book.broker_held.get(i.symbol, Decimal(0)):
            problems.append(
                f"sell {plain(i.quantity)} {i.symbol}: the broker holds only "
                f"{plain(book.broker_held.get(i.symbol, Decimal(0)))}"
            )
    return problems


def _money(intents: list[Intent], account: AccountInfo, book: Book, limits: Limits) -> list[str]:
    k = limits.cost_rate
    buys = sum(i.value for i in intents if i.side == "buy") * (1 + k)
    sells = sum(i.value for i in intents if i.side == "sell") * (1 - k)
    problems = []
    if buys > float(account.buying_power) + sells + 1e-6:
        problems.append(
            f"the buys need {buys:,.2f} but buying power is {float(account.buying_power):,.2f} "
            f"plus {sells:,.2f} from the sells"
        )
    if limits.max_order_value is not None:
        cap = limits.max_order_value
        problems += [
            f"{i.side} {i.symbol} worth {i.value:,.2f} is above the maximum order value of {cap:,.2f}"
            for i in intents
            if i.value > limits.max_order_value + 1e-9
        ]
    return problems


def _weights(intents: list[Intent], book: Book, limits: Limits) -> list[str]:
    if limits.max_position_weight is None or book.value <= 0:
        return []
    after = {s: float(q) for s, q in book.held.items()}
    for i in intents:
        after[i.symbol] = after.get(i.symbol, 0.0) + float(i.quantity) * (1 if i.side == "buy" else -1)
    bought = sorted({i.symbol for i in intents if i.side == "buy"})
    heavy = [(s, after[s] * book.prices[s] / book.value) for s in bought]
    return [
        f"{s} would weigh {pct(w)}, above the maximum position size of {pct(limits.max_position_weight)}"
        for s, w in heavy
        if w > limits.max_position_weight + 1e-9
    ]


def _loss(book: Book, limits: Limits) -> list[str]:
    if limits.max_daily_loss is None or book.value <= 0:
        return []
    start = book.value - book.day_pnl
    if start > 0 and -book.day_pnl > limits.max_daily_loss * start:
        return [
            f"the portfolio lost {-book.day_pnl:,.2f} ({pct(-book.day_pnl / start)}) on the last day, more than the "
            f"maximum daily loss of {pct(limits.max_daily_loss)}: trading is halted for the day"
        ]
    return []


def check(
    intents: list[Intent],
    account: AccountInfo,
    clock: Clock,
    assets: dict[str, Asset | None],
    book: Book,
    limits: Limits,
) -> list[str]:
    """Every problem with the batch, in plain words (empty: it may be sent)."""
    problems = [p for i in intents for p in _shape(i, assets.get(i.symbol))]
    if problems:
        return problems
    problems = _positions(intents, book) + _money(intents, account, book, limits)
    problems += _weights(intents, book, limits) + _loss(book, limits)
    if not clock.is_open:
        when = f" (it opens {clock.next_open:%Y-%m-%d %H:%M %Z})" if clock.next_open else ""
        problems.append(f"the market is closed{when}")
    return problems
