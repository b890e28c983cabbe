"""Tax lots: buys (and transfers in, reinvested dividends) open lots; sales relieve them.

Relief order by method: FIFO (oldest first), LIFO (newest first), HIFO (highest cost per share
first, then oldest), or specific identification (the lots the user picked for that sale).
A lot's cost includes the buy's fees; a sale's proceeds are quantity × price − fees, shared among
the relieved lots by quantity. Holding period: long term when the sale is more than one year
after the lot opened (the day after the anniversary or later), short term otherwise (IRS Pub. 550).
A split multiplies every open lot's quantity by the ratio and divides its cost per share, keeping
its total cost and its opening date. A transfer out relieves lots without a realized gain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from investment_app.ledger.entries import ZERO, Entry, sort_key
from investment_app.models.portfolio import CostBasisMethod
from investment_app.models.transaction import TxType


class LedgerError(ValueError):
    """A transaction the ledger cannot apply (e.g. selling more than is held); the message says which."""

    def __init__(self, message: str, entry_id: int) -> None:
        super().__init__(message)
        self.entry_id = entry_id


@dataclass
class Lot:
    """An open lot: what is left of one acquisition."""

    lot_id: int
    symbol: str
    opened: dt.date
    quantity: Decimal
    unit_cost: Decimal
    account_id: int = 0

    @property
    def cost(self) -> Decimal:
        return self.quantity * self.unit_cost


@dataclass(frozen=True)
class Realized:
    """The part of a sale that relieved one lot."""

    sell_id: int
    lot_id: int
    symbol: str
    opened: dt.date
    closed: dt.date
    quantity: Decimal
    proceeds: Decimal
    cost: Decimal

    @property
    def gain(self) -> Decimal:
        return self.proceeds - self.cost

    @property
    def long_term(self) -> bool:
        return self.closed >= long_term_from(self.opened)


@dataclass
class LotBook:
    """Open lots per symbol, realized gains, and the dated changes of total cost basis."""

    open_lots: dict[str, list[Lot]] = field(default_factory=dict)
    realized: list[Realized] = field(default_factory=list)
    cost_changes: list[tuple[dt.date, Decimal]] = field(default_factory=list)

    def quantity(self, symbol: str) -> Decimal:
        return sum((lot.quantity for lot in self.open_lots.get(symbol, ())), ZERO)


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 20.0000000000 → "20"."""
    return format(value.normalize(), "f") if value else "0"


def long_term_from(opened: dt.date) -> dt.date:
    """The day after the lot's first anniversary: a sale from then on is long term."""
    try:
        anniversary = opened.replace(year=opened.year + 1)
    except ValueError:  # 29 February
        anniversary = opened.replace(year=opened.year + 1, day=28)
    return anniversary + dt.timedelta(days=1)


def relief_order(lots: Sequence[Lot], method: CostBasisMethod) -> list[Lot]:
    """The open lots in the order a sale relieves them."""
    if method is CostBasisMethod.LIFO:
        return sorted(lots, key=lambda lot: (lot.opened, lot.lot_id), reverse=True)
    if method is CostBasisMethod.HIFO:
        return sorted(lots, key=lambda lot: (-lot.unit_cost, lot.opened, lot.lot_id))
    return list(lots)  # FIFO: lots are opened in ledger order, so they already are oldest first


def _picked(lots: Sequence[Lot], entry: Entry, picks: Sequence[tuple[int, Decimal]]) -> list[tuple[Lot, Decimal]]:
    by_id = {lot.lot_id: lot for lot in lots}
    if sum((qty for _, qty in picks), ZERO) != entry.quantity:
        raise LedgerError(
            f"sale of {plain(entry.quantity)} {entry.symbol}: the picked lots do not add up to it", entry.id
        )
    plan = []
    for lot_id, qty in picks:
        lot = by_id.get(lot_id)
        if lot is None or qty <= 0 or qty > lot.quantity:
            raise LedgerError(f"lot #{lot_id} of {entry.symbol} does not hold {plain(qty)} shares", entry.id)
        plan.append((lot, qty))
    return plan


def _plan(lots: Sequence[Lot], entry: Entry, method: CostBasisMethod, picks) -> list[tuple[Lot, Decimal]]:
    held = sum((lot.quantity for lot in lots), ZERO)
    if entry.quantity > held:
        raise LedgerError(
            f"{entry.type.value} of {plain(entry.quantity)} {entry.symbol} on {entry.date} "
            f"exceeds the {plain(held)} held",
            entry.id,
        )
    if picks:
        return _picked(lots, entry, picks)
    fallback = CostBasisMethod.FIFO if method is CostBasisMethod.SPECIFIC else method
    plan, left = [], entry.quantity
    for lot in relief_order(lots, fallback):
        if left <= 0:
            break
        take = min(lot.quantity, left)
        plan.append((lot, take))
        left -= take
    return plan


def _relieve(book: LotBook, entry: Entry, method: CostBasisMethod, picks) -> None:
    lots = book.open_lots.get(entry.symbol or "", [])
    plan = _plan(lots, entry, method, picks)
    proceeds = entry.quantity * entry.price - entry.fees
    relieved_cost = ZERO
    for lot, qty in plan:
        cost = qty * lot.unit_cost
        relieved_cost += cost
        if entry.type is TxType.SELL:
            share = proceeds * qty / entry.quantity
            book.realized.append(Realized(entry.id, lot.lot_id, lot.symbol, lot.opened, entry.date, qty, share, cost))
        lot.quantity -= qty
    book.open_lots[entry.symbol] = [lot for lot in lots if lot.quantity > 0]
    book.cost_changes.append((entry.date, -relieved_cost))


def _open(book: LotBook, entry: Entry) -> None:
    cost = entry.quantity * entry.price + entry.fees
    lot = Lot(entry.id, entry.symbol or "", entry.date, entry.quantity, cost / entry.quantity, entry.account_id)
    book.open_lots.setdefault(lot.symbol, []).append(lot)
    book.cost_changes.append((entry.date, cost))


def _split(book: LotBook, entry: Entry) -> None:
    for lot in book.open_lots.get(entry.symbol or "", []):
        lot.quantity *= entry.ratio
        lot.unit_cost /= entry.ratio


def build_lots(
    entries: Iterable[Entry],
    method: CostBasisMethod = CostBasisMethod.FIFO,
    picks: Mapping[int, Sequence[tuple[int, Decimal]]] | None = None,
) -> LotBook:
    """Apply ``entries`` in ledger order; ``picks`` maps a sale's id to its (lot id, quantity) choices."""
    book, picks = LotBook(), picks or {}
    for entry in sorted(entries, key=sort_key):
        if entry.opens_lot:
            _open(book, entry)
        elif entry.type in (TxType.SELL, TxType.TRANSFER_OUT):
            _relieve(book, entry, method, picks.get(entry.id))
        elif entry.type is TxType.SPLIT:
            _split(book, entry)
    return book
