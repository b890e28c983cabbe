"""Valuation and performance of a portfolio: load from the database, compute, cache.

A snapshot (lots, daily valuation, benchmark) is cached per portfolio and keyed by the portfolio's
ledger version and the price store's version, so a new transaction or new prices invalidate it.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session

from investment_app.auth.viewer import Viewer
from investment_app.ledger.lots import LotBook, build_lots
from investment_app.ledger.performance import PERIODS, PeriodResult, measure, period_start
from investment_app.ledger.valuation import Valuation, value_portfolio
from investment_app.marketdata import series
from investment_app.marketdata.price_book import price_frame
from investment_app.models.portfolio import Portfolio
from investment_app.services import portfolios
from investment_app.services.cache import ResultCache
from investment_app.services.errors import InvalidInput, NoTransactions
from investment_app.services.transactions import load_entries, load_picks

CACHE_SIZE = 32


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard and the performance figures are computed from."""

    portfolio_id: int
    book: LotBook
    valuation: Valuation
    benchmark: pd.Series
    benchmark_symbol: str
    load_s: float
    compute_s: float
    key: tuple
    """What the snapshot depends on (database, portfolio, ledger and price versions, end): results derived
    from it are cached under this key plus their own parameters."""


_cache = ResultCache(CACHE_SIZE)


def price_version(db: Session) -> tuple:
    """Changes whenever bars are added or replaced (read from the price series: a few hundred rows)."""
    return series.version(db.connection())


def _build(db: Session, portfolio: Portfolio, end: dt.date, key: tuple) -> Snapshot:
    started = time.perf_counter()
    entries = [e for e in load_entries(db, portfolio.id) if e.date <= end]
    if not entries:
        raise NoTransactions(f"Portfolio {portfolio.name!r} has no transactions up to {end}.")
    picks = load_picks(db, portfolio.id)
    symbols = sorted({e.symbol for e in entries if e.symbol})
    engine = db.get_bind()
    prices = price_frame(engine, symbols, entries[0].date, end, field="close")
    benchmark = price_frame(engine, [portfolio.benchmark_symbol], entries[0].date - dt.timedelta(days=10), end)
    loaded = time.perf_counter()
    book = build_lots(entries, portfolio.cost_basis_method, picks)
    valuation = value_portfolio(entries, prices, book, end)
    return Snapshot(
        portfolio.id,
        book,
        valuation,
        benchmark[portfolio.benchmark_symbol],
        portfolio.benchmark_symbol,
        loaded - started,
        time.perf_counter() - loaded,
        key,
    )


def snapshot(db: Session, viewer: Viewer, portfolio_id: int, end: dt.date | None = None) -> Snapshot:
    """The portfolio's snapshot up to ``end`` (default: the last price date), from the cache when current."""
    portfolio = portfolios.readable(db, viewer, portfolio_id)
    version = price_version(db)
    end = end or version[2] or dt.date.today()
    key = (
        str(db.get_bind().url),
        portfolio_id,
        portfolio.ledger_version,
        portfolio.cost_basis_method,
        portfolio.benchmark_symbol,
        version,
        end,
    )
    return _cache.get(key, lambda: _build(db, portfolio, end, key))


def performance(
    db: Session, viewer: Viewer, portfolio_id: int, start: dt.date | None = None, end: dt.date | None = None
) -> PeriodResult:
    """TWR, MWR, simple return and the benchmark over [start, end] (default: everything)."""
    snap = snapshot(db, viewer, portfolio_id, end)
    first = snap.valuation.dates[0].date()
    last = snap.valuation.dates[-1].date()
    if start is not None and start > last:
        raise InvalidInput(f"Start {start} is after the last valued day, {last}.")
    label = "MAX" if start is None or start <= first else "CUSTOM"
    return measure(snap.valuation, snap.benchmark, max(start or first, first), last, label)


def periods(db: Session, viewer: Viewer, portfolio_id: int) -> list[PeriodResult]:
    """The standard periods (1M … MAX) ending on the last valued day."""
    snap = snapshot(db, viewer, portfolio_id)
    first, last = snap.valuation.dates[0].date(), snap.valuation.dates[-1].date()
    return [measure(snap.valuation, snap.benchmark, period_start(p, last, first), last, p) for p in PERIODS]
