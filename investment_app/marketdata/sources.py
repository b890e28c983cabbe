"""Where new daily bars come from: the source interface, the bundled dataset and Alpaca's historical bars.

Every source returns one frame with the columns ``BAR_COLUMNS``: ``symbol``, ``date`` (``datetime.date``, the
exchange date), ``open``, ``high``, ``low``, ``close``, ``adj_close``, ``volume`` (NaN where unknown) and
``split_ratio`` (new shares per old share of a split effective that day; NaN on every other day). Sources do not
validate: ``marketdata.validation`` does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame

from investment_app.marketdata.bundled import SOURCE as BUNDLED_SOURCE
from investment_app.marketdata.bundled import bundled_bars
from investment_app.marketdata.validation import BAR_COLUMNS
from investment_app.settings import Settings

EXCHANGE_TZ = ZoneInfo("America/New_York")
SPLIT_LOOKBACK = dt.timedelta(days=10)
"""Calendar days fetched before ``start`` so the first bar's split ratio has a previous bar (longest US market
closure since 1933: four trading days, September 2001)."""
RECENT_DATA_DELAY = dt.timedelta(minutes=16)
"""Alpaca's free plan refuses SIP data newer than 15 minutes; requests end this long before now."""
SPLIT_TOLERANCE = 1e-4
"""A raw/split-adjusted factor change smaller than this (relative) is price rounding, not a split."""
MAX_SPLIT_DENOMINATOR = 100


class SourceError(RuntimeError):
    """A source could not deliver the batch; the message says why (never a secret)."""


class BarSource(Protocol):
    """A source of daily bars for the price refresh."""

    name: str

    def fetch(self, symbols: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        """Bars of ``symbols`` dated ``start`` to ``end`` (inclusive), columns ``BAR_COLUMNS``."""
        ...


def empty_bars() -> pd.DataFrame:
    """A frame with the source columns and no rows."""
    return pd.DataFrame(
        {name: pd.Series(dtype=object if name in ("symbol", "date") else float) for name in BAR_COLUMNS}
    )


@dataclass(frozen=True)
class BundledSource:
    """The bundled dataset (``marketdata.bundled``): adjusted closes only, stored as both close and adj_close.

    Open, high, low and volume are unknown (NaN) and it carries no splits: its closes are already adjusted.
    """

    name: str = BUNDLED_SOURCE

    def fetch(self, symbols: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        """The bundled bars of ``symbols`` from ``start`` to ``end``."""
        bars = bundled_bars()
        dates = pd.to_datetime(bars["date"])
        keep = bars["symbol"].isin(list(symbols)) & (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))
        return bars[keep].reindex(columns=BAR_COLUMNS).reset_index(drop=True)


class AlpacaSource:
    """Alpaca's historical daily bars through alpaca-py's ``StockHistoricalDataClient``.

    Three requests per fetch (each multi-symbol, ``timeframe=1Day``, paged by the SDK with ``next_page_token``):

    - ``adjustment=raw`` gives open, high, low, close and volume as traded that day;
    - ``adjustment=split`` gives the split-adjusted close; the split factor f = raw close / split-adjusted close
      changes only across a split, so a bar's ``split_ratio`` is f(previous bar) / f(bar) (``split_ratios``: 4
      for 4-for-1, 0.1 for 1-for-10), NaN where f does not change;
    - ``adjustment=all`` gives the split- and dividend-adjusted close as ``adj_close``. Its level is relative to
      the fetch date (Alpaca re-bases it after every corporate action); ``services.price_refresh`` chains it onto
      the stored series.

    ``close`` is therefore the raw close. The store's ``close`` is meant to be split-adjusted; the two agree on
    every bar after the symbol's last split, so only a split inside the refreshed window makes the stored history
    before it need rescaling, which the refresh reports. Exchange dates are the New York dates of Alpaca's bar
    timestamps (midnight New York). ``feed`` None lets Alpaca choose by subscription. Alpaca's 429 and 504 answers
    are retried by the SDK (3 times, ``retry_wait_seconds`` apart); any other HTTP error raises SourceError.
    """

    name = "alpaca"

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        url: str | None = None,
        feed: DataFeed | None = None,
        retry_wait_seconds: float = 3.0,
    ) -> None:
        if not (api_key and secret_key):
            raise ValueError("Alpaca needs both ALPACA_API_KEY and ALPACA_SECRET_KEY")
        self._secrets = (api_key, secret_key)
        self._feed = feed
        self._client = StockHistoricalDataClient(api_key, secret_key, raw_data=True, url_override=url or None)
        self._client._retry_wait = retry_wait_seconds  # the constructor does not pass RESTClient's retry settings

    def fetch(self, symbols: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        """The bars of ``symbols`` from ``start`` to ``end`` (see the class docstring)."""
        first = dt.datetime.combine(start - SPLIT_LOOKBACK, dt.time(), EXCHANGE_TZ)
        last = min(
            dt.datetime.combine(end, dt.time(23, 59, 59), EXCHANGE_TZ), dt.datetime.now(dt.UTC) - RECENT_DATA_DELAY
        )
        if not symbols or last <= first:
            return empty_bars()
        raw = self._bars(symbols, first, last, Adjustment.RAW)
        split = self._bars(symbols, first, last, Adjustment.SPLIT)[["symbol", "date", "copy", "close"]]
        total = self._bars(symbols, first, last, Adjustment.ALL)[["symbol", "date", "copy", "close"]]
        keys = ["symbol", "date", "copy"]
        bars = raw.merge(split.rename(columns={"close": "split_close"}), on=keys, how="left").merge(
            total.rename(columns={"close": "adj_close"}), on=keys, how="left"
        )
        factor = bars["close"] / bars["split_close"]
        bars["split_ratio"] = split_ratios(factor.groupby(bars["symbol"]).shift(1) / factor)
        in_window = (bars["date"] >= start) & (bars["date"] <= end)
        return bars.loc[in_window, BAR_COLUMNS].reset_index(drop=True)

    def _bars(
        self, symbols: Sequence[str], first: dt.datetime, last: dt.datetime, adjustment: Adjustment
    ) -> pd.DataFrame:
        """One adjustment's bars, every page, as a frame sorted by symbol and date; ``copy`` numbers repeats."""
        request = StockBarsRequest(
            symbol_or_symbols=list(symbols),
            timeframe=TimeFrame.Day,
            start=first,
            end=last,
            adjustment=adjustment,
            feed=self._feed,
        )
        try:
            by_symbol = self._client.get_stock_bars(request)
        except APIError as exc:
            raise SourceError(
                self._redacted(f"Alpaca data API answered HTTP {exc.status_code}: {_message(exc)}")
            ) from exc
        except requests.RequestException as exc:
            raise SourceError(self._redacted(f"Alpaca data API could not be reached: {exc}")) from exc
        except ValueError as exc:
            raise SourceError(f"Alpaca data API sent an answer without bars: {exc}") from exc
        frames = [pd.DataFrame(bars).assign(symbol=symbol) for symbol, bars in by_symbol.items() if bars]
        if not frames:
            return pd.DataFrame(columns=["symbol", "date", "copy", "open", "high", "low", "close", "volume"])
        bars = pd.concat(frames, ignore_index=True).rename(
            columns={"o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
        )
        bars["date"] = pd.to_datetime(bars["t"], utc=True).dt.tz_convert(EXCHANGE_TZ).dt.date
        bars = bars.sort_values(["symbol", "date"], kind="mergesort", ignore_index=True)
        bars["copy"] = bars.groupby(["symbol", "date"]).cumcount()
        return bars[["symbol", "date", "copy", "open", "high", "low", "close", "volume"]]

    def _redacted(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _message(exc: APIError) -> str:
    """Alpaca's ``message`` from the error body, else the body itself (shortened)."""
    body = str(exc)
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return body.strip()[:200] or "(empty answer)"


def split_ratios(change: pd.Series) -> pd.Series:
    """Factor changes f(previous bar) / f(bar) as split ratios (new shares per old share).

    NaN within SPLIT_TOLERANCE of 1 (no split); else the simplest n/d (smallest d ≤ MAX_SPLIT_DENOMINATOR) within
    SPLIT_TOLERANCE of the change (relative), which strips the price rounding from a real split's ratio; else the
    change itself.
    """
    values = change.to_numpy(dtype=float)
    is_split = np.isfinite(values) & (values > 0) & (np.abs(values - 1) > SPLIT_TOLERANCE)
    ratios = np.full(values.shape, np.nan)
    found = values[is_split]
    denominators = np.arange(1, MAX_SPLIT_DENOMINATOR + 1)[:, None]
    numerators = np.rint(found * denominators)
    close_enough = np.abs(numerators / denominators - found) <= SPLIT_TOLERANCE * found
    best = np.argmax(close_enough, axis=0)
    snapped = numerators[best, np.arange(found.size)] / denominators[best, 0]
    ratios[is_split] = np.where(close_enough.any(axis=0) & (snapped > 0), snapped, found)
    return pd.Series(ratios, index=change.index)


def configured_source(settings: Settings) -> BarSource:
    """Alpaca when both ALPACA_API_KEY and ALPACA_SECRET_KEY are set (at ALPACA_DATA_URL if given), else bundled."""
    if settings.alpaca_api_key and settings.alpaca_secret_key:
        return AlpacaSource(settings.alpaca_api_key, settings.alpaca_secret_key, url=settings.alpaca_data_url or None)
    return BundledSource()
