"""Validation of new daily bars before they are stored: what is accepted, what is rejected and why.

Rules, each applied to the whole batch at once (vectorized):

1. Prices: ``open``, ``high``, ``low``, ``close``, ``adj_close`` and ``split_ratio``, where present (not NaN),
   are finite and > 0; ``close`` and ``adj_close`` must be present. ``volume``, where present, is finite and ≥ 0.
2. Range: ``high ≥ low``; ``open`` and ``close`` lie within [low, high] where those are present (an inverted
   range is reported once, as such).
3. Duplicates: a (symbol, date) that appears more than once in the batch is rejected in every copy, since which
   copy is right cannot be told.
4. Already stored: a bar dated at or before the symbol's stored last date is skipped: neither accepted nor
   reported, only counted (``Validated.already_stored``). A refresh asks its source for a window that starts at
   the stored last date on purpose (that bar anchors the adjusted closes), so these bars are expected.
5. Jumps: among the bars that pass 1-4, per symbol in date order, the close-to-close move is
   ``r = close × split_ratio / reference − 1``, where ``reference`` is the close of the previous *accepted* bar,
   or the stored last close for the first one, and ``split_ratio`` (new shares per old share, effective on that
   date) is 1 where absent. A bar with ``|r| > jump_threshold`` is rejected. A symbol without a stored close has
   no reference for its first bar, which is then judged on rules 1-4 only.

Because the reference is the last accepted close, a rejected bar never becomes one: after a bad print the next
bar is judged against the last good close, and after a genuine move beyond the threshold (AAPL fell 51.9 % on
2000-09-29) every following bar stays rejected until a close comes back within the threshold of that reference.
That makes rule 5 sequential; it is computed in rounds, each vectorized over all symbols: the bars up to each
symbol's first jump are accepted, the jump and the bars after it that are still beyond the threshold from the
same reference are rejected together, and the next round starts at the first bar back within it. There are as
many rounds as bad episodes in the worst symbol, not as many bars.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

BAR_COLUMNS = ["symbol", "date", "open", "high", "low", "close", "adj_close", "volume", "split_ratio"]
REQUIRED_COLUMNS = ["symbol", "date", "close", "adj_close"]
NUMERIC_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume", "split_ratio"]
PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close", "split_ratio"]


@dataclass(frozen=True)
class RejectedBar:
    """A bar that was not stored: ``reason`` names the field and its values."""

    symbol: str
    date: dt.date
    reason: str

    @property
    def message(self) -> str:
        """One line: "AAPL 2024-03-05: high 181.2 is below low 183.0"."""
        return f"{self.symbol} {self.date.isoformat()}: {self.reason}"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Validated:
    """The bars to store (columns ``BAR_COLUMNS``, sorted by symbol and date) and the rejected ones."""

    accepted: pd.DataFrame
    rejected: list[RejectedBar] = field(default_factory=list)
    already_stored: int = 0


def validate_bars(
    new: pd.DataFrame,
    previous_close: Mapping[str, float],
    jump_threshold: float,
    last_dates: Mapping[str, dt.date] | None = None,
) -> Validated:
    """Split ``new`` bars into accepted and rejected by the module's rules.

    ``new`` has the columns ``symbol``, ``date``, ``close`` and ``adj_close``, and optionally ``open``, ``high``,
    ``low``, ``volume`` and ``split_ratio`` (NaN = unknown). ``previous_close`` is each symbol's stored last close,
    ``last_dates`` its stored last date (bars at or before it are skipped), ``jump_threshold`` the largest
    accepted ``|r|`` as a fraction (0.5 = 50 %). A malformed frame or threshold raises ValueError.
    """
    if not (np.isfinite(jump_threshold) and jump_threshold > 0):
        raise ValueError(f"jump_threshold must be a positive fraction, got {jump_threshold!r}")
    bars = _normalized(new)
    stored_last = pd.to_datetime(bars["symbol"].map({s: pd.Timestamp(d) for s, d in (last_dates or {}).items()}))
    fresh = ~(bars["date"] <= stored_last)
    already_stored = int((~fresh).sum())
    bars = bars[fresh].reset_index(drop=True)

    reasons = _field_reasons(bars)
    copies = bars.groupby(["symbol", "date"])["symbol"].transform("size")
    _append(reasons, copies > 1, "date appears ", copies, " times in the batch")
    jump_reasons = _jump_reasons(bars[reasons == ""], previous_close, jump_threshold)
    reasons[jump_reasons.index.to_numpy()] = jump_reasons.to_numpy()

    bad = reasons != ""
    rejected = [
        RejectedBar(symbol, day.date(), reason)
        for symbol, day, reason in zip(bars["symbol"][bad], bars["date"][bad], reasons[bad], strict=True)
    ]
    accepted = bars[~bad].assign(date=bars["date"][~bad].dt.date).reset_index(drop=True)
    return Validated(accepted=accepted, rejected=rejected, already_stored=already_stored)


def _normalized(new: pd.DataFrame) -> pd.DataFrame:
    """``BAR_COLUMNS`` with float prices and Timestamp dates, sorted by symbol and date (stable)."""
    missing = [name for name in REQUIRED_COLUMNS if name not in new.columns]
    if missing:
        raise ValueError(f"bars are missing the column(s) {', '.join(missing)}")
    bars = new.reindex(columns=BAR_COLUMNS).copy()
    bars["symbol"] = bars["symbol"].astype(str)
    try:
        bars["date"] = pd.to_datetime(bars["date"]).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bars column 'date' holds a value that is not a date: {exc}") from exc
    for name in NUMERIC_COLUMNS:
        try:
            bars[name] = pd.to_numeric(bars[name]).astype(float)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"bars column {name!r} holds a value that is not a number: {exc}") from exc
    return bars.sort_values(["symbol", "date"], kind="mergesort", ignore_index=True)


def _append(reasons: np.ndarray, mask: pd.Series | np.ndarray, *parts: str | pd.Series) -> None:
    """Add the text joined from ``parts`` to the reasons of the rows in ``mask`` (after "; " if they have one).

    Series parts are turned into text on those rows only, so a large clean batch formats nothing.
    """
    rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    if rows.size == 0:
        return
    text = np.full(rows.size, "", dtype=object)
    for part in parts:
        text = text + (part.iloc[rows].astype(str).to_numpy(dtype=object) if isinstance(part, pd.Series) else part)
    current = reasons[rows]
    reasons[rows] = np.where(current == "", text, current + "; " + text)


def _field_reasons(bars: pd.DataFrame) -> np.ndarray:
    """Rules 1 and 2: a reason per row ("" when the row's fields are fine)."""
    reasons = np.full(len(bars), "", dtype=object)
    for name in ("close", "adj_close"):
        _append(reasons, bars[name].isna(), f"{name} is missing")
    for name in PRICE_COLUMNS:
        value = bars[name]
        bad = value.notna() & ~(np.isfinite(value) & (value > 0))
        _append(reasons, bad, f"{name} ", value, " is not a positive finite price")
    volume = bars["volume"]
    bad_volume = volume.notna() & ~(np.isfinite(volume) & (volume >= 0))
    _append(reasons, bad_volume, "volume ", volume, " is not a finite count ≥ 0")
    high, low = bars["high"], bars["low"]
    inverted = high < low
    _append(reasons, inverted, "high ", high, " is below low ", low)
    for name in ("open", "close"):  # against a range that exists (an inverted one is reported once, above)
        value = bars[name]
        _append(reasons, ~inverted & (value < low), f"{name} ", value, " is below low ", low)
        _append(reasons, ~inverted & (value > high), f"{name} ", value, " is above high ", high)
    return reasons


def _jump_reasons(bars: pd.DataFrame, previous_close: Mapping[str, float], threshold: float) -> pd.Series:
    """Rule 5 on bars that passed rules 1-4: the reasons of the rejected ones, indexed like ``bars``."""
    if bars.empty:
        return pd.Series(dtype=object)
    codes, uniques = pd.factorize(bars["symbol"])
    close = bars["close"].to_numpy()
    ratio = bars["split_ratio"].fillna(1.0).to_numpy()
    stored = pd.Series(uniques).map(previous_close).astype(float).to_numpy()
    rejected, reference = _judge_jumps(codes, close, close * ratio, stored, threshold)
    if not rejected.any():
        return pd.Series(dtype=object)
    bad = bars[rejected]
    ref = pd.Series(reference[rejected], index=bad.index)
    move = (bad["close"] * bad["split_ratio"].fillna(1.0) / ref - 1) * 100
    judged = np.where(
        bad["split_ratio"].notna(),
        "close "
        + bad["close"].astype(str)
        + " × split ratio "
        + bad["split_ratio"].astype(str)
        + " = "
        + (bad["close"] * bad["split_ratio"]).astype(str),
        "close " + bad["close"].astype(str),
    )
    return pd.Series(
        judged
        + " is a "
        + move.map("{:+.1f}".format)
        + " % move from the previous close "
        + ref.astype(str)
        + f" (limit ±{threshold * 100:g} %"
        + np.where(bad["split_ratio"].isna(), ", no split)", ")"),
        index=bad.index,
    )


def _group_cumsum(flags: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """Running count of ``flags`` within contiguous groups (``group_start``: each row's group's first row)."""
    total = np.cumsum(flags, dtype=np.int64)
    return total - total[group_start] + flags[group_start]


def _judge_jumps(
    codes: np.ndarray, close: np.ndarray, judged: np.ndarray, stored: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rule 5 in rounds (see the module docstring). Rows are sorted by symbol code, then date.

    ``judged`` is close × split_ratio, ``stored`` the stored close per code (NaN: none). Returns which rows are
    rejected and, for each row, the reference close it was judged against.
    """
    rejected = np.zeros(len(codes), dtype=bool)
    reference = np.full(len(codes), np.nan)
    anchor = stored.copy()
    pending = np.arange(len(codes))
    while pending.size:
        code = codes[pending]
        first = np.r_[True, code[1:] != code[:-1]]
        position = np.arange(pending.size)
        start = np.maximum.accumulate(np.where(first, position, 0))
        ref = np.where(first, anchor[code], np.r_[np.nan, close[pending][:-1]])
        with np.errstate(invalid="ignore", divide="ignore"):
            jump = np.abs(judged[pending] / ref - 1) > threshold
        seen = _group_cumsum(jump, start)
        reference[pending] = ref
        is_first_jump = jump & (seen == 1)
        ref_at_jump = ref[np.maximum.accumulate(np.where(is_first_jump, position, 0))]
        after = seen >= 1
        with np.errstate(invalid="ignore", divide="ignore"):
            back = after & ~is_first_jump & (np.abs(judged[pending] / ref_at_jump - 1) <= threshold)
        out = after & (_group_cumsum(back, start) == 0)
        rejected[pending[out]] = True
        reference[pending[out]] = ref_at_jump[out]
        resume = after & ~out
        anchor[code[resume]] = ref_at_jump[resume]
        pending = pending[resume]
    return rejected, reference
