"""The demo portfolio: six years of realistic, deterministic transactions on the bundled prices.

Deposits (an initial one and monthly savings), buys spread over nine stocks, a few sales (one at a
loss), quarterly cash dividends, and the real AAPL 4-for-1 (2020), AMZN 20-for-1 and GOOG 20-for-1
(2022) splits. Trade prices are the bundled closes scaled back to pre-split units, so they look like
the prices of the day. The bundled closes are total-return adjusted, so the demo's cash dividends
count the dividend yield a second time (a known limitation of the demo data, not of the ledger).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from investment_app.ledger.csv_format import DEFAULT_ACCOUNT, TxInput
from investment_app.models.transaction import TxType

START, END = dt.date(2019, 1, 2), dt.date(2024, 11, 29)
SPLITS = {
    "AAPL": [(dt.date(2020, 8, 31), 4)],
    "AMZN": [(dt.date(2022, 6, 6), 20)],
    "GOOG": [(dt.date(2022, 7, 18), 20)],
}
TARGETS = {
    "AAPL": 0.16,
    "AMZN": 0.12,
    "GOOG": 0.12,
    "JPM": 0.10,
    "MA": 0.10,
    "WMT": 0.10,
    "XOM": 0.10,
    "PFE": 0.06,
    "SBUX": 0.06,
}
YIELDS = {"AAPL": 0.006, "JPM": 0.028, "WMT": 0.015, "XOM": 0.045, "PFE": 0.040, "SBUX": 0.022, "MA": 0.005}
SALES = [
    (dt.date(2021, 11, 15), "AMZN", 0.5, "Trim after a strong run"),
    (dt.date(2022, 6, 16), "XOM", 0.3, "Take profits on energy"),
    (dt.date(2023, 3, 13), "PFE", 1.0, "Sell at a loss"),
]
DEPOSIT, MONTHLY, FEE = Decimal(100_000), Decimal(1_500), Decimal(1)
SYMBOLS = sorted(TARGETS)


def _raw(prices: pd.DataFrame, symbol: str, day: pd.Timestamp) -> Decimal:
    """The close of ``day`` in the units of that day (undoing later splits), to the cent."""
    factor = 1
    for split_day, ratio in SPLITS.get(symbol, []):
        if day.date() < split_day:
            factor *= ratio
    return Decimal(str(float(prices.at[day, symbol]) * factor)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


class _Book:
    """Builds the rows while tracking shares held, so every sale and dividend is consistent."""

    def __init__(self, prices: pd.DataFrame) -> None:
        self.prices, self.rows, self.held = prices, [], dict.fromkeys(SYMBOLS, Decimal(0))

    def add(
        self,
        day: pd.Timestamp,
        kind: TxType,
        symbol: str | None = None,
        quantity=Decimal(0),
        price=Decimal(0),
        amount=Decimal(0),
        ratio=None,
        note: str = "",
    ) -> None:
        fees = FEE if kind in (TxType.BUY, TxType.SELL) else Decimal(0)
        self.rows.append(
            TxInput(
                len(self.rows) + 2,
                day.date(),
                kind,
                symbol,
                quantity,
                price,
                fees,
                amount,
                ratio,
                DEFAULT_ACCOUNT,
                note,
                f"demo-{len(self.rows) + 1:04d}",
            )
        )

    def buy(self, day: pd.Timestamp, symbol: str, cash: Decimal, note: str = "") -> None:
        price = _raw(self.prices, symbol, day)
        quantity = (cash / price).quantize(Decimal("0.001"))
        self.held[symbol] += quantity
        self.add(day, TxType.BUY, symbol, quantity, price, note=note)

    def sell(self, day: pd.Timestamp, symbol: str, fraction: float, note: str) -> None:
        quantity = (self.held[symbol] * Decimal(str(fraction))).quantize(Decimal("0.001"))
        self.held[symbol] -= quantity
        self.add(day, TxType.SELL, symbol, quantity, _raw(self.prices, symbol, day), note=note)

    def dividends(self, day: pd.Timestamp) -> None:
        for symbol, annual in YIELDS.items():
            if self.held[symbol] > 0:
                value = self.held[symbol] * _raw(self.prices, symbol, day)
                self.add(
                    day,
                    TxType.DIVIDEND,
                    symbol,
                    amount=_cents(value * Decimal(str(annual / 4))),
                    note="Quarterly dividend",
                )

    def splits(self, start: pd.Timestamp, end: pd.Timestamp) -> None:
        for symbol, events in SPLITS.items():
            for split_day, ratio in events:
                if start.date() < split_day <= end.date():
                    self.held[symbol] *= ratio
                    self.add(
                        pd.Timestamp(split_day), TxType.SPLIT, symbol, ratio=Decimal(ratio), note=f"{ratio}-for-1 split"
                    )


def demo_transactions(prices: pd.DataFrame) -> list[TxInput]:
    """The demo's transactions from bundled closes (a frame of dates × the demo's symbols)."""
    prices = prices.loc[pd.Timestamp(START) : pd.Timestamp(END), SYMBOLS].dropna()
    months = prices.groupby(prices.index.to_period("M")).head(1).index
    book = _Book(prices)
    book.add(months[0], TxType.DEPOSIT, amount=DEPOSIT, note="Initial deposit")
    for symbol, weight in TARGETS.items():
        book.buy(months[0], symbol, DEPOSIT * Decimal(str(weight)) * Decimal("0.95"), "Initial allocation")
    sales = {pd.Timestamp(d): (s, f, n) for d, s, f, n in SALES}
    for i, (previous, day) in enumerate(itertools.pairwise(months)):
        book.splits(previous, day)
        for sale_day in [d for d in sales if previous < d <= day]:
            book.sell(prices.index[prices.index.searchsorted(sale_day)], *sales[sale_day])
        book.add(day, TxType.DEPOSIT, amount=MONTHLY, note="Monthly savings")
        book.buy(day, SYMBOLS[i % len(SYMBOLS)], MONTHLY - FEE, "Monthly purchase")
        if day.month in (3, 6, 9, 12):
            book.dividends(day)
    book.add(months[-1], TxType.INTEREST, amount=Decimal("84.12"), note="Cash interest")
    return book.rows
