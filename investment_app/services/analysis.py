"""What every analysis page starts from: the portfolio's daily returns, its benchmark, its current
holdings with sectors, and the price history of what it holds.

Conventions:
- Portfolio returns are the daily time-weighted returns of the ledger's valuation (flows at the start
  of the day, see ``analytics.returns``), on the benchmark's trading days: a day outside them (a
  weekend deposit) is compounded into the next trading day, so 252 periods make a year.
- Holdings are valued at the last valued day's close; cash is a separate amount with no risk.
- Asset prices for risk, stress and projection are adjusted closes (total return), all history.

A batch that analyses many portfolios (the e-mailed reports) opens ``shared_prices``: inside it, ``price_frame``
cuts every portfolio's prices from one ``PriceBook`` that holds each symbol's series once, instead of reading
and aligning the same series again for every portfolio.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from investment_app.analytics.returns import daily_returns
from investment_app.auth.viewer import Viewer
from investment_app.marketdata import series
from investment_app.marketdata.series import wide_frame
from investment_app.models.market import Symbol
from investment_app.services import performance, portfolios
from investment_app.services.cache import ResultCache
from investment_app.services.errors import InvalidInput

_cache = ResultCache(16)


class PriceBook:
    """Price series read once and aligned on one calendar, from which each portfolio's frame is cut.

    ``frame`` answers exactly what ``marketdata.series.wide_frame`` answers for the same arguments: the rows
    are the union of the requested symbols' own dates (a stored close is never NaN, so a NaN cell means "no
    bar"), within [start, end]. A symbol is read from the store the first time any portfolio asks for it
    (through ``wide_frame`` itself); the calendar grows when it brings dates not seen yet. Every call first
    compares the store's version (``series.version``): new prices empty the book, so it never serves
    prices older than the store's.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.version: tuple | None = None
        self.calendar = np.array([], dtype="datetime64[D]")
        self.columns: dict[tuple[str, str], np.ndarray] = {}
        """(field, symbol) → its values on ``calendar``, NaN where it has no bar."""
        self.reads = 0
        """Symbols read from the store (each once per field while the version holds)."""

    def frame(
        self,
        symbols: Sequence[str],
        start: dt.date | None = None,
        end: dt.date | None = None,
        field: str = "adj_close",
    ) -> pd.DataFrame:
        """Closes of ``symbols`` as dates × symbols, as ``wide_frame(engine, symbols, start, end, field)``."""
        self._check_version()
        missing = [s for s in dict.fromkeys(symbols) if (field, s) not in self.columns]
        if missing:
            self._read(missing, field)
        columns = [self.columns[field, symbol] for symbol in symbols]
        matrix = np.column_stack(columns) if columns else np.empty((len(self.calendar), 0))
        keep = ~np.isnan(matrix).all(axis=1)  # no symbol: all() of nothing is True, so no row
        if start is not None:
            keep &= self.calendar >= np.datetime64(start, "D")
        if end is not None:
            keep &= self.calendar <= np.datetime64(end, "D")
        return pd.DataFrame(
            matrix[keep], index=pd.DatetimeIndex(self.calendar[keep], name="date"), columns=list(symbols)
        )

    def _check_version(self) -> None:
        with self.engine.connect() as conn:
            version = series.version(conn)
        if version != self.version:
            self.version, self.calendar, self.columns = version, np.array([], dtype="datetime64[D]"), {}

    def _read(self, symbols: list[str], field: str) -> None:
        fresh = wide_frame(self.engine, symbols, field=field)
        dates = fresh.index.to_numpy().astype("datetime64[D]")
        calendar = np.union1d(self.calendar, dates)
        if len(calendar) > len(self.calendar) and self.columns:
            keys = list(self.columns)
            grown = np.full((len(calendar), len(keys)), np.nan, order="F")
            grown[calendar.searchsorted(self.calendar)] = np.column_stack([self.columns[k] for k in keys])
            self.columns = {key: grown[:, j] for j, key in enumerate(keys)}
        self.calendar = calendar
        placed = np.full((len(calendar), len(symbols)), np.nan, order="F")
        placed[calendar.searchsorted(dates)] = fresh[symbols].to_numpy()
        self.columns.update({(field, symbol): placed[:, j] for j, symbol in enumerate(symbols)})
        self.reads += len(symbols)


_BOOK: ContextVar[PriceBook | None] = ContextVar("price_book", default=None)


@contextmanager
def shared_prices(engine: Engine) -> Iterator[PriceBook]:
    """Within the block (this thread or task), ``price_frame`` on ``engine`` reads through one ``PriceBook``."""
    book = PriceBook(engine)
    token = _BOOK.set(book)
    try:
        yield book
    finally:
        _BOOK.reset(token)


def price_frame(
    engine: Engine,
    symbols: Sequence[str],
    start: dt.date | None = None,
    end: dt.date | None = None,
    field: str = "adj_close",
) -> pd.DataFrame:
    """``wide_frame``'s answer, from the open ``shared_prices`` book when it is on this engine."""
    book = _BOOK.get()
    if book is not None and book.engine is engine:
        return book.frame(symbols, start, end, field)
    return wide_frame(engine, symbols, start, end, field)


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
