"""A transaction as the ledger engine sees it (plain data, independent of the database), and its effects.

Cash effect of each type (positive = cash comes in):

| type          | cash                              | shares  | external flow                |
|---------------|-----------------------------------|---------|------------------------------|
| deposit       | + amount                          |         | + amount                     |
| withdrawal    | − amount                          |         | − amount                     |
| buy           | − (quantity × price + fees)       | + qty   |                              |
| sell          | + (quantity × price − fees)       | − qty   |                              |
| dividend      | + amount − (qty × price + fees)   | + qty   | (qty > 0: reinvested)        |
| interest      | + amount                          |         |                              |
| fee           | − amount                          |         |                              |
| split         |                                   | × ratio |                              |
| transfer_in   | − fees                            | + qty   | + qty × market price         |
| transfer_out  | − fees                            | − qty   | − qty × market price         |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from investment_app.models.transaction import TxType

ZERO = Decimal(0)
OPENS_LOT = frozenset({TxType.BUY, TxType.TRANSFER_IN, TxType.DIVIDEND})
CLOSES_LOT = frozenset({TxType.SELL, TxType.TRANSFER_OUT})


@dataclass(frozen=True)
class Entry:
    """One ledger transaction; ``id`` orders entries of the same day and names the lot it opens."""

    id: int
    date: dt.date
    type: TxType
    symbol: str | None = None
    quantity: Decimal = ZERO
    price: Decimal = ZERO
    fees: Decimal = ZERO
    amount: Decimal = ZERO
    ratio: Decimal | None = None
    account_id: int = 0

    @property
    def share_delta(self) -> Decimal:
        """Shares added (+) or removed (−); splits are handled separately."""
        if self.type in OPENS_LOT:
            return self.quantity
        return -self.quantity if self.type in CLOSES_LOT else ZERO

    @property
    def cash_delta(self) -> Decimal:
        """Cash in (+) or out (−), per the table in this module's docstring."""
        trade = self.quantity * self.price
        return {
            TxType.DEPOSIT: self.amount,
            TxType.WITHDRAWAL: -self.amount,
            TxType.BUY: -(trade + self.fees),
            TxType.SELL: trade - self.fees,
            TxType.DIVIDEND: self.amount - (trade + self.fees if self.quantity else ZERO),
            TxType.INTEREST: self.amount,
            TxType.FEE: -self.amount,
            TxType.TRANSFER_IN: -self.fees,
            TxType.TRANSFER_OUT: -self.fees,
        }.get(self.type, ZERO)

    @property
    def income(self) -> Decimal:
        """Dividends and interest received (cash or reinvested)."""
        return self.amount if self.type in (TxType.DIVIDEND, TxType.INTEREST) else ZERO

    @property
    def opens_lot(self) -> bool:
        return self.type in OPENS_LOT and self.quantity > 0


def sort_key(entry: Entry) -> tuple[dt.date, int]:
    """Ledger order: by date, then by entry id (the order they were recorded)."""
    return entry.date, entry.id
