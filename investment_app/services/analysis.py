"""What every analysis page starts from: the portfolio's daily returns, its benchmark, its current
holdings with sectors, and the price history of what it holds.

Conventions:
- Portfolio returns are the daily time-weighted returns of the ledger's valuation (flows at the start
  of the day, see ``analytics.returns``), on the benchmark's trading days: a day outside them (a
  weekend deposit) is compounded into the next trading day, so 252 periods make a year.
- Holdings are valued at the last valued day's close; cash is a separate amount with no risk.
- Asset prices for risk, stress and projection are adjusted closes (total return), all history.

Prices are read through ``marketdata.price_book.price_frame``, so a batch of portfolios (the e-mailed reports)
reads each symbol once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from investment_app.analytics.returns import daily_returns
from investment_app.auth.viewer import Viewer
from investment_app.marketdata.price_book import price_frame
from investment_app.models.market import Symbol
from investment_app.services import performance, portfolios
from investment_app.services.cache import ResultCache
from investment_app.services.errors import InvalidInput

_cache = ResultCache(16)


@dataclass(frozen=True)
class Inputs:
    """One portfolio's analysis inputs on ``as_of``."""

    key: tuple
    name: str
    benchmark_symbol: str
    as_of: dt.date
    returns: pd.Series
    benchmark: pd.Series
    values: pd.Series
    cash: float
    prices: pd.DataFrame
    sectors: pd.Series

    @property
    def total_value(self) -> float:
        """Holdings plus cash."""
        return float(self.values.sum()) + self.cash

    def asset_returns(self, days: int) -> pd.DataFrame:
        """Daily returns of the holdings over the last ``days`` trading days (NaN before a listing)."""
        held = self.prices[self.values.index]
        return held.pct_change(fill_method=None).iloc[-days:]

    def common_returns(self, days: int, minimum: int, purpose: str) -> pd.DataFrame:
        """``asset_returns`` on the days every holding traded; InvalidInput naming the youngest holding when
        fewer than ``minimum`` such days remain."""
        frame = self.asset_returns(days).dropna()
        if len(frame) < minimum:
            youngest = self.prices[self.values.index].apply(lambda p: p.first_valid_index()).idxmax()
            raise InvalidInput(
                f"The holdings share only {len(frame)} days of prices in this lookback; {purpose} needs at least "
                f"{minimum} ({youngest} has the shortest history)."
            )
        return frame


def trading_day_returns(dates: pd.DatetimeIndex, returns: np.ndarray, trading: pd.DatetimeIndex) -> pd.Series:
    """Compound each day's return into the first trading day on or after it; days after the last are dropped."""
    slot = trading.searchsorted(dates)
    inside = slot < len(trading)
    growth = pd.Series(1.0 + returns[inside]).groupby(slot[inside]).prod()
    return pd.Series(growth.to_numpy() - 1.0, index=trading[growth.index])


def _holdings(snap: performance.Snapshot) -> tuple[pd.Series, float]:
    v = snap.valuation
    values = pd.Series(v.positions[-1] * v.prices[-1], index=v.symbols)
    return values[v.positions[-1] != 0].sort_values(ascending=False), float(v.cash[-1])


def _build(db: Session, snap: performance.Snapshot, name: str) -> Inputs:
    v = snap.valuation
    values, cash = _holdings(snap)
    symbols = [*values.index, snap.benchmark_symbol]
    prices = price_frame(db.get_bind(), symbols, None, v.dates[-1].date())
    trading = prices.index[prices[snap.benchmark_symbol].notna() & (prices.index > v.dates[0])]
    if len(trading) < 2:
        raise InvalidInput(f"Portfolio {name!r} has fewer than two trading days of history.")
    returns = trading_day_returns(v.dates, daily_returns(v.total, v.net_flow), trading)
    bench = prices[snap.benchmark_symbol].pct_change(fill_method=None).reindex(returns.index)
    rows = db.exec(select(Symbol.symbol, Symbol.gics_sector).where(col(Symbol.symbol).in_(list(values.index))))
    sectors = pd.Series(dict(rows.all()), dtype=object).reindex(values.index).replace("", np.nan).fillna("Other")
    return Inputs(
        snap.key, name, snap.benchmark_symbol, v.dates[-1].date(), returns, bench, values, cash, prices, sectors
    )


def universe(db: Session) -> pd.Series:
    """Every stock in the price store with its GICS sector (symbol → sector)."""
    rows = db.exec(select(Symbol.symbol, Symbol.gics_sector).where(col(Symbol.gics_sector) != "")).all()
    return pd.Series(dict(rows), dtype=object).sort_index()


def inputs(db: Session, viewer: Viewer, portfolio_id: int) -> Inputs:
    """The portfolio's analysis inputs, cached per ledger and price version."""
    snap = performance.snapshot(db, viewer, portfolio_id)
    name = portfolios.readable(db, viewer, portfolio_id).name
    return _cache.get(snap.key, lambda: _build(db, snap, name))
