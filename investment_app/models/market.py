"""Market data: the symbols we know and their daily bars."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Float, LargeBinary
from sqlmodel import Field, SQLModel


class Symbol(SQLModel, table=True):
    """A tradable instrument with its GICS classification."""

    __tablename__ = "symbol"

    symbol: str = Field(primary_key=True, max_length=16)
    name: str = Field(default="", max_length=200)
    gics_sector: str = Field(default="", max_length=64)
    gics_sub_industry: str = Field(default="", max_length=128)
    asset_class: str = Field(default="equity", max_length=32)


class DailyBar(SQLModel, table=True):
    """One trading day of one symbol; (symbol, date) is the primary key, so it is unique.

    Sources that publish only adjusted closes (the bundled panel) leave open, high, low and
    volume empty and store the adjusted close as ``close`` too.
    """

    __tablename__ = "daily_bar"

    symbol: str = Field(primary_key=True, foreign_key="symbol.symbol", max_length=16, ondelete="CASCADE")
    date: dt.date = Field(primary_key=True)
    open: float | None = Field(default=None, sa_column=Column(Float(precision=53)))
    high: float | None = Field(default=None, sa_column=Column(Float(precision=53)))
    low: float | None = Field(default=None, sa_column=Column(Float(precision=53)))
    close: float = Field(sa_column=Column(Float(precision=53), nullable=False))
    adj_close: float = Field(sa_column=Column(Float(precision=53), nullable=False))
    volume: int | None = Field(default=None, sa_column=Column(BigInteger))
    source: str = Field(default="bundled", max_length=32)


class PriceSeries(SQLModel, table=True):
    """A columnar copy of one symbol's bars, rebuilt whenever its bars change, for fast reads.

    ``dates`` holds int32 days since 1970-01-01; ``close`` and ``adj_close`` float64 values, in date
    order (NumPy's native little-endian bytes). ``daily_bar`` stays the source of truth.
    """

    __tablename__ = "price_series"

    symbol: str = Field(primary_key=True, foreign_key="symbol.symbol", max_length=16, ondelete="CASCADE")
    count: int
    last_date: dt.date
    dates: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    close: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    adj_close: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
