"""The price refresh: new daily bars from the configured source, validated, the good ones stored at once.

For each symbol the source is asked for the bars from its stored last date (the anchor) to ``today``; bars
at or before the anchor are skipped by the validation, so only later bars can be stored. Symbols are fetched
in one call per distinct anchor date (usually one call for the whole store).

``adj_close`` is a total-return series whose level only means something relative to the same series; a source
such as Alpaca re-bases it after each dividend or split. So the new bars' ``adj_close`` is chained onto the
stored one: adj_close(t) = source adj_close(t) × stored adj_close(anchor) / source adj_close(anchor). Daily total
returns are kept exactly, and the stored history is never rewritten. Without the anchor bar in the batch (or with
a bad one) the source's level is kept as is.

``close`` is stored as the source gives it (Alpaca: as traded). A split inside the window is accepted when the bar
carries its ratio and is listed in ``RefreshReport.splits``: the stored bars before it stay on the pre-split basis
(``store.load_bars`` never rewrites a row), so the split-adjusted ``close`` history needs rescaling there.

All accepted bars go in with one ``store.load_bars`` call (one transaction); rejected bars are reported, never
stored. A source failure for any part of the batch raises before anything is written.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, select

from investment_app.db import get_engine
from investment_app.marketdata.sources import BarSource, configured_source, empty_bars
from investment_app.marketdata.store import BAR_TABLE, SYMBOL_TABLE, load_bars
from investment_app.marketdata.validation import RejectedBar, validate_bars
from investment_app.settings import get_settings

FIRST_DATE = dt.date(1990, 1, 1)
"""Where a symbol without any stored bar starts (the bundled dataset's first year)."""
EXCHANGE_TZ = "America/New_York"
SESSION_SETTLED = dt.time(18, 0)
"""New York time from which the day's bar is taken as final (the close is at 16:00; late prints settle)."""
STORED_COLUMNS = ["symbol", "date", "open", "high", "low", "close", "adj_close", "volume", "source"]


@dataclass(frozen=True)
class Split:
    """A stored bar that carried a split: ``ratio`` new shares per old share, effective on ``date``."""

    symbol: str
    date: dt.date
    ratio: float


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did. ``new_dates``: the sorted dates that got at least one new bar."""

    source: str
    symbols: tuple[str, ...]
    bars_added: dict[str, int]
    new_dates: tuple[dt.date, ...]
    rejected: tuple[RejectedBar, ...]
    splits: tuple[Split, ...]
    seconds: float

    @property
    def total_added(self) -> int:
        """Bars stored, all symbols together."""
        return sum(self.bars_added.values())

    def to_json(self) -> dict:
        """The report as JSON-ready values (dates in ISO format)."""
        return {
            "source": self.source,
            "symbols": list(self.symbols),
            "bars_added": dict(self.bars_added),
            "total_added": self.total_added,
            "new_dates": [day.isoformat() for day in self.new_dates],
            "rejected": [
                {"symbol": bar.symbol, "date": bar.date.isoformat(), "reason": bar.reason, "message": bar.message}
                for bar in self.rejected
            ],
            "splits": [{"symbol": s.symbol, "date": s.date.isoformat(), "ratio": s.ratio} for s in self.splits],
            "seconds": round(self.seconds, 3),
        }


def last_settled_session(now: dt.datetime | None = None) -> dt.date:
    """The latest exchange date whose bar is final: today in New York from SESSION_SETTLED, else yesterday."""
    local = pd.Timestamp(now or dt.datetime.now(dt.UTC)).tz_convert(EXCHANGE_TZ)
    return local.date() if local.time() >= SESSION_SETTLED else local.date() - dt.timedelta(days=1)


def refresh(
    url: str | None = None,
    source: BarSource | None = None,
    today: dt.date | None = None,
    symbols: Sequence[str] | None = None,
) -> RefreshReport:
    """Bring the bars after each stored symbol's last date up to ``today`` (default: ``last_settled_session``).

    ``source`` defaults to ``configured_source``; ``symbols`` to every stored symbol (an unknown one raises
    ValueError). The jump threshold is PRICE_JUMP_THRESHOLD.
    """
    started = time.perf_counter()
    settings = get_settings()
    source = source or configured_source(settings)
    today = today or last_settled_session()
    engine = get_engine(url)
    stored = _stored_last_bars(engine, symbols)
    fetched = _fetch(source, stored, today)
    fetched = _chain_adjusted(fetched, stored)
    known = stored.dropna(subset=["date"])
    result = validate_bars(
        fetched,
        previous_close=dict(zip(known["symbol"], known["close"], strict=True)),
        jump_threshold=settings.price_jump_threshold,
        last_dates=dict(zip(known["symbol"], known["date"], strict=True)),
    )
    accepted = result.accepted
    if not accepted.empty:
        load_bars(engine, pd.DataFrame({"symbol": pd.Series(dtype=str)}), _storable(accepted, source.name))
    counts = accepted["symbol"].value_counts()
    with_split = accepted[accepted["split_ratio"].notna()]
    return RefreshReport(
        source=source.name,
        symbols=tuple(stored["symbol"]),
        bars_added={symbol: int(counts.get(symbol, 0)) for symbol in stored["symbol"]},
        new_dates=tuple(sorted(set(accepted["date"]))),
        rejected=tuple(result.rejected),
        splits=tuple(
            Split(s, d, float(r))
            for s, d, r in zip(with_split["symbol"], with_split["date"], with_split["split_ratio"], strict=True)
        ),
        seconds=time.perf_counter() - started,
    )


def _stored_last_bars(engine: Engine, symbols: Sequence[str] | None) -> pd.DataFrame:
    """symbol, date, close, adj_close of each symbol's last stored bar (NaN/None without bars), by symbol."""
    bars = BAR_TABLE.alias("bars")
    last_date = (
        select(func.max(bars.c.date)).where(bars.c.symbol == SYMBOL_TABLE.c.symbol).correlate(SYMBOL_TABLE)
    ).scalar_subquery()
    joined = SYMBOL_TABLE.outerjoin(
        BAR_TABLE, and_(BAR_TABLE.c.symbol == SYMBOL_TABLE.c.symbol, BAR_TABLE.c.date == last_date)
    )
    query = select(SYMBOL_TABLE.c.symbol, BAR_TABLE.c.date, BAR_TABLE.c.close, BAR_TABLE.c.adj_close).select_from(
        joined
    )
    if symbols is not None:
        query = query.where(SYMBOL_TABLE.c.symbol.in_(list(symbols)))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(SYMBOL_TABLE.c.symbol)).all()
    stored = pd.DataFrame(rows, columns=["symbol", "date", "close", "adj_close"])
    unknown = sorted(set(symbols or ()) - set(stored["symbol"]))
    if unknown:
        raise ValueError(f"unknown symbol(s) {', '.join(unknown)}: add them to the price store first")
    return stored


def _fetch(source: BarSource, stored: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """One fetch per distinct anchor date (a symbol without bars starts at FIRST_DATE), up to ``today``.

    Rows of symbols that were not asked for are dropped (they could not be stored: no symbol row).
    """
    starts = stored["date"].where(stored["date"].notna(), FIRST_DATE)
    frames = [
        source.fetch(list(group), start, today)
        for start, group in stored["symbol"].groupby(starts, sort=True)
        if start < today
    ]
    if not frames:
        return empty_bars()
    fetched = pd.concat(frames, ignore_index=True)
    return fetched[fetched["symbol"].isin(stored["symbol"])].reset_index(drop=True)


def _chain_adjusted(fetched: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Multiply each symbol's adj_close by stored / fetched adj_close on its anchor date (see the module)."""
    anchors = fetched.merge(stored[["symbol", "date", "adj_close"]], on=["symbol", "date"], suffixes=("", "_stored"))
    anchors = anchors.drop_duplicates("symbol", keep=False)
    factor = anchors["adj_close_stored"].to_numpy(float) / anchors["adj_close"].to_numpy(float)
    usable = np.isfinite(factor) & (factor > 0)
    by_symbol = pd.Series(factor[usable], index=anchors["symbol"][usable])
    return fetched.assign(adj_close=fetched["adj_close"] * fetched["symbol"].map(by_symbol).fillna(1.0))


def _storable(accepted: pd.DataFrame, source: str) -> pd.DataFrame:
    """Accepted bars in the ``daily_bar`` columns: whole volumes (nullable), the source's name."""
    volume = accepted["volume"].round().astype("Int64")
    return accepted.assign(volume=volume, source=source)[STORED_COLUMNS]
