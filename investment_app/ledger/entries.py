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
import operator
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from investment_app.models.transaction import TxType

ZERO = Decimal(0)
OPENS_LOT = frozenset({TxType.BUY, TxType.TRANSFER_IN, TxType.DIVIDEND})
CLOSES_LOT = frozenset({TxType.SELL, TxType.TRANSFER_OUT})


class Entry(NamedTuple):
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
    def opens_lot(self) -> bool:
        return self.type in OPENS_LOT and self.quantity > 0


class Effects(NamedTuple):
    """Per-entry effects as float arrays, per the table in this module's docstring."""

    shares: np.ndarray
    cash: np.ndarray
    income: np.ndarray
    deposits: np.ndarray
    transfer_sign: np.ndarray


def effects(entries: Sequence[Entry]) -> Effects:
    """Shares (+/−), cash (+/−), income, deposits less withdrawals, and ±1 for transfers in/out."""
    if not entries:
        empty = np.zeros(0)
        return Effects(empty, empty, empty, empty, empty)
    columns = list(zip(*entries, strict=True))
    kinds = np.array([k.value for k in columns[2]])
    qty, price, fees, amount = (np.array([float(x) for x in columns[i]]) for i in (4, 5, 6, 7))

    def of(*types: TxType) -> np.ndarray:
        return np.isin(kinds, [t.value for t in types])

    opens, closes = of(*OPENS_LOT), of(*CLOSES_LOT)
    trade = qty * price
    cash = (
        np.where(of(TxType.DEPOSIT, TxType.INTEREST), amount, 0.0)
        - np.where(of(TxType.WITHDRAWAL, TxType.FEE), amount, 0.0)
        - np.where(of(TxType.BUY), trade + fees, 0.0)
        + np.where(of(TxType.SELL), trade - fees, 0.0)
        + np.where(of(TxType.DIVIDEND), amount - np.where(qty > 0, trade + fees, 0.0), 0.0)
        - np.where(of(TxType.TRANSFER_IN, TxType.TRANSFER_OUT), fees, 0.0)
    )
    return Effects(
        shares=np.where(opens, qty, 0.0) - np.where(closes, qty, 0.0),
        cash=cash,
        income=np.where(of(TxType.DIVIDEND, TxType.INTEREST), amount, 0.0),
        deposits=np.where(of(TxType.DEPOSIT), amount, 0.0) - np.where(of(TxType.WITHDRAWAL), amount, 0.0),
        transfer_sign=np.where(of(TxType.TRANSFER_IN), 1.0, 0.0) - np.where(of(TxType.TRANSFER_OUT), 1.0, 0.0),
    )


sort_key = operator.itemgetter(1, 0)
"""Ledger order: by date, then by entry id (the order they were recorded)."""
