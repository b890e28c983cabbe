"""Daily valuation: positions × prices + cash, with net external flows and cost basis, vectorized.

Conventions:
- Prices are closes adjusted for splits (the store's ``close``), so quantities are counted in
  post-split units: a trade before a split is scaled by the ratios of the later splits. A split
  then changes nothing in the valuation, only the lots (see ``lots``).
- A missing price carries the last close for at most ``MAX_CARRY_DAYS`` calendar rows; beyond that
  the value still uses the last close but the cell is flagged ``stale``. Before a symbol's first
  price it is valued at its first transaction's price (``at_cost``), also flagged.
- External flows: deposits (+), withdrawals (−), and securities transferred in (+) or out (−) at
  the day's market price (the transaction's price when there is none).
Nothing loops over days or holdings in Python; only over the (few) splits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from investment_app.ledger.entries import Entry, effects, sort_key
from investment_app.ledger.lots import LotBook
from investment_app.models.transaction import TxType

MAX_CARRY_DAYS = 5


@dataclass(frozen=True)
class Valuation:
    """Daily series of one portfolio; ``positions``/``prices``/``stale`` are days × symbols."""

    dates: pd.DatetimeIndex
    symbols: list[str]
    positions: np.ndarray
    prices: np.ndarray
    stale: np.ndarray
    at_cost: np.ndarray
    market_value: np.ndarray
    cash: np.ndarray
    net_flow: np.ndarray
    cost_basis: np.ndarray
    income: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """Market value plus cash."""
        return self.market_value + self.cash

    def frame(self) -> pd.DataFrame:
        """The daily series as a table indexed by date."""
        return pd.DataFrame(
            {
                "market_value": self.market_value,
                "cash": self.cash,
                "total": self.total,
                "net_flow": self.net_flow,
                "cost_basis": self.cost_basis,
                "income": self.income,
            },
            index=self.dates,
        )


def _split_factors(symbols: np.ndarray, dates: np.ndarray, entries: Sequence[Entry]) -> np.ndarray:
    """For each entry, the product of the ratios of its symbol's splits dated after it."""
    factors = np.ones(len(entries))
    for split in (e for e in entries if e.type is TxType.SPLIT):
        factors[(symbols == split.symbol) & (dates < np.datetime64(split.date))] *= float(split.ratio)
    return factors


def _calendar(dates: np.ndarray, prices: pd.DataFrame, end: dt.date) -> pd.DatetimeIndex:
    trading = prices.index[(prices.index >= pd.Timestamp(dates[0])) & (prices.index <= pd.Timestamp(end))]
    return trading.union(pd.DatetimeIndex(dates)).unique().sort_values()


def _daily_sum(day: np.ndarray, weights: np.ndarray, days: int) -> np.ndarray:
    return np.bincount(day, weights=weights, minlength=days)[:days]


def _filled_prices(prices: pd.DataFrame, dates: pd.DatetimeIndex, symbols: list[str], cost_price: np.ndarray):
    """Prices on the calendar: carried forward, at cost before the first close; with staleness flags."""
    raw = prices.reindex(index=dates, columns=symbols).to_numpy(dtype=float)
    rows = np.arange(len(dates))[:, None]
    last_seen = np.maximum.accumulate(np.where(np.isnan(raw), -1, rows), axis=0)
    before_first = last_seen < 0
    filled = np.take_along_axis(np.nan_to_num(raw), np.maximum(last_seen, 0), axis=0)
    filled = np.where(before_first, cost_price[None, :], filled)
    stale = ~before_first & (rows - last_seen > MAX_CARRY_DAYS)
    return filled, stale, before_first


def value_portfolio(entries: Sequence[Entry], prices: pd.DataFrame, book: LotBook, end: dt.date) -> Valuation:
    """Value ``entries`` every day from the first entry to ``end`` with ``prices`` (dates × symbols)."""
    entries = [e for e in sorted(entries, key=sort_key) if e.date <= end]
    entry_dates = np.array([e.date for e in entries], dtype="datetime64[D]")
    entry_symbols = np.array([e.symbol or "" for e in entries])
    dates = _calendar(entry_dates, prices, end)
    n = len(dates)
    day = dates.searchsorted(entry_dates)
    effect = effects(entries)
    symbols = sorted({e.symbol for e in entries if e.symbol and e.type is not TxType.SPLIT})
    col = np.searchsorted(symbols, entry_symbols)
    held = (effect.shares != 0) & np.isin(entry_symbols, symbols)
    factor = _split_factors(entry_symbols, entry_dates, entries)
    shares = effect.shares * factor
    unit_price = np.array([float(e.price) for e in entries]) / factor

    deltas = np.zeros((n, len(symbols)))
    np.add.at(deltas, (day[held], col[held]), shares[held])
    positions = np.cumsum(deltas, axis=0)

    cost_price = np.zeros(len(symbols))
    first = held & (unit_price > 0)
    cost_price[col[first][::-1]] = unit_price[first][::-1]  # the earliest priced entry wins
    filled, stale, before_first = _filled_prices(prices, dates, symbols, cost_price)
    holding = positions != 0

    market = np.where(held, filled[day, np.minimum(col, max(len(symbols) - 1, 0))] if symbols else 0.0, 0.0)
    market = np.where(market > 0, market, unit_price)
    flow = effect.deposits + effect.transfer_sign * np.abs(shares) * market

    cost_day = dates.searchsorted(np.array([d for d, _ in book.cost_changes], dtype="datetime64[D]"))
    cost = np.array([float(c) for _, c in book.cost_changes])
    return Valuation(
        dates=dates,
        symbols=symbols,
        positions=positions,
        prices=filled,
        stale=stale & holding,
        at_cost=before_first & holding,
        market_value=(positions * filled).sum(axis=1),
        cash=np.cumsum(_daily_sum(day, effect.cash, n)),
        net_flow=_daily_sum(day, flow, n),
        cost_basis=np.cumsum(_daily_sum(cost_day, cost, n)),
        income=_daily_sum(day, effect.income, n),
    )
