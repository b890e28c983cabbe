"""A batch-wide price cache: inside ``shared_prices``, every ``price_frame`` call on that engine is cut from one
``PriceBook`` that holds each symbol's series once, instead of reading and aligning the same series again for
every portfolio of the batch (the e-mailed reports). Outside it, ``price_frame`` is ``wide_frame``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from investment_app.marketdata import series
from investment_app.marketdata.series import wide_frame


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
