"""Wash sales across all of a user's portfolios (IRS Pub. 550, "Wash Sales"), vectorized with searchsorted.

A sale at a loss on day d is washed when shares of the same group of substantially identical symbols (declared
by the user; a symbol alone otherwise) are bought within [d − 30, d + 30] calendar days, in any portfolio.
Replacement shares: every share bought on (d, d + 30], plus the shares bought on [d − 30, d] that the sale did not
dispose of, first in first out: the sale takes the group's net position held before d − 30 (H) first, then the
window's purchases, so those left are max(B − max(sold − H, 0), 0) with B the window's purchases. Pub. 550's
"buy on day 0, sell at a loss on day 10" is then not its own replacement, and "doubling up" (buy more, then sell
the old shares at a loss) is a wash. Washed quantity = min(sold, replacement).
Buying now is blocked for a group with a loss sale in [today − 30, today]: the buy would wash it.

``transactions``: a DataFrame (or a mapping of equal-length arrays) with columns portfolio_id, date, symbol,
side ("buy" | "sell"), quantity and gain (the sale's realized gain; NaN for buys).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError

COLUMNS = ("portfolio_id", "date", "symbol", "side", "quantity", "gain")
WINDOW_DAYS = 30


def _groups(symbols: np.ndarray, identical_groups: Mapping[str, Iterable[str]]) -> np.ndarray:
    """A group number per symbol: declared groups merged when they share a member (union over the mapping)."""
    canon: dict[str, str] = {}
    for symbol, members in identical_groups.items():
        group = {symbol, *members} | {canon.get(m, m) for m in {symbol, *members}}
        root = min(group)
        merged = {s for s, r in canon.items() if r in group} | group
        canon.update(dict.fromkeys(merged, root))
    names = pd.Series(symbols, dtype=object)
    names = names.map(canon).where(names.isin(list(canon)), names)
    return pd.factorize(names)[0]


def _table(transactions: pd.DataFrame | Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The transactions as a checked DataFrame with an integer day number."""
    t = pd.DataFrame(transactions)
    missing = [c for c in COLUMNS if c not in t.columns]
    if missing:
        raise AnalyticsError(f"transactions lack the column(s) {', '.join(missing)}")
    bad_side = ~t["side"].isin(["buy", "sell"])
    if bad_side.any():
        raise AnalyticsError(f"transaction side must be buy or sell (row {int(np.flatnonzero(bad_side)[0])})")
    if not (np.isfinite(t["quantity"].to_numpy(float)).all() and (t["quantity"] > 0).all()):
        raise AnalyticsError("every transaction needs a positive quantity")
    return t.assign(day=pd.to_datetime(t["date"]).to_numpy().astype("datetime64[D]").astype(np.int64))


def _window_sums(key: np.ndarray, qty: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Σ qty over sorted ``key`` in [lo, hi] (cumulative sums and searchsorted)."""
    cum = np.r_[0.0, np.cumsum(qty)]
    return cum[np.searchsorted(key, hi, side="right")] - cum[np.searchsorted(key, lo, side="left")]


def wash_sale_violations(
    transactions: pd.DataFrame | Mapping[str, np.ndarray],
    identical_groups: Mapping[str, Iterable[str]] | None = None,
    window_days: int = WINDOW_DAYS,
) -> pd.DataFrame:
    """The loss sales washed by a buy in their window (module doc): the sale's row (``index``), portfolio_id,
    date, symbol, quantity, gain, replacement (shares bought that wash it) and washed (min(sold, replacement))."""
    t = _table(transactions)
    group = _groups(t["symbol"].to_numpy(), identical_groups or {})
    span = 4 * window_days + int(t["day"].max() - t["day"].min()) + 1 if len(t) else 1
    key = group.astype(np.int64) * span + (t["day"].to_numpy() - (t["day"].min() if len(t) else 0))
    buy = (t["side"] == "buy").to_numpy()
    order = np.argsort(key[buy], kind="stable")
    buy_key, buy_qty = key[buy][order], t["quantity"].to_numpy(float)[buy][order]
    loss = (~buy) & (t["gain"].to_numpy(float) < 0)
    k, sold = key[loss], t["quantity"].to_numpy(float)[loss]
    before = _window_sums(buy_key, buy_qty, k - window_days, k)
    after = _window_sums(buy_key, buy_qty, k + 1, k + window_days)
    order_all = np.argsort(key, kind="stable")
    signed = np.where(buy, 1.0, -1.0) * t["quantity"].to_numpy(float)
    held = np.maximum(_window_sums(key[order_all], signed[order_all], (k // span) * span, k - window_days - 1), 0.0)
    replacement = after + np.maximum(before - np.maximum(sold - held, 0.0), 0.0)
    out = t.loc[loss, ["portfolio_id", "date", "symbol", "quantity", "gain"]].assign(
        replacement=replacement, washed=np.minimum(sold, replacement)
    )
    return out[out["washed"] > 0]


def blocked_buys(
    transactions: pd.DataFrame | Mapping[str, np.ndarray],
    today: dt.date,
    identical_groups: Mapping[str, Iterable[str]] | None = None,
    window_days: int = WINDOW_DAYS,
) -> set[str]:
    """Symbols a buy on ``today`` would wash: every member (declared or traded) of a group with a loss sale
    in [today − window_days, today]."""
    t = _table(transactions)
    groups = identical_groups or {}
    declared = [s for symbol, members in groups.items() for s in (symbol, *members)]
    symbols = np.unique(np.array([*t["symbol"].unique(), *declared], dtype=object))
    group = _groups(symbols, groups)
    day = np.datetime64(today, "D").astype(np.int64)
    recent = (t["side"] == "sell") & (t["gain"] < 0) & (t["day"] >= day - window_days) & (t["day"] <= day)
    hit = np.unique(group[pd.Index(symbols).get_indexer(t.loc[recent, "symbol"])])
    return set(symbols[np.isin(group, hit)].tolist())
