"""Drift from a target allocation and the tax-aware rebalancing plan (pure numpy; arrays in, dataclasses out).

Conventions (weights are fractions of the whole portfolio's value V = Σ q_i p_i + cash):
- Drift (Betterment's definition): d_i = w_i − t_i per symbol (a symbol missing on one side weighs 0) and for
  cash (w_cash = 1 − Σ w_i, t_cash = the reserve); total drift D = ½ Σ |d| over the symbols and cash.
- Triggers: a position trades when |d_i| > ``band``; when D > ``total_threshold`` every position trades (except,
  with ``avoid_short_term_gains``, sells of positions inside their band). With neither set, everything trades.
- Trade back to the target, not to the band edge (Betterment's and most robo-advisors' choice): a position left
  on its band edge re-triggers on the next small move, so trading to the edge saves a little turnover now and
  pays a second round of costs soon after; only out-of-band positions trade, which keeps the turnover small.
- Costs: est_cost = value × (commission_bps + spread_bps / 2) / 10⁴ = value × k, paid from cash. A sell's
  proceeds are value × (1 − k); a buy needs value × (1 + k).
- Cash reserve R = reserve × V (V before the trades): cash after the trades is never below R. Sells come first,
  then buys funded by the sells' proceeds plus cash above R, most underweight first (cumulative sums), rounded
  down to whole shares (or to 10⁻⁶ share when ``fractional``). Rebalance sells are rounded to the nearest share;
  when the cash is below R, further "cash-reserve" sells raise it (most overweight first, rounded up).
- Trades worth less than ``min_trade_value`` are dropped (a dropped sell funds nothing; a dropped buy's money
  stays in cash). A blocked buy (wash-sale rule) is skipped: its money goes to the next underweight symbol that
  still needs money, otherwise it stays in cash.
- Lots: ``"hifo"`` relieves the highest unit cost first (then oldest, then lot id); ``"loss_first"`` loss lots
  first, then long-term before short-term, then highest cost. ``avoid_short_term_gains`` moves lots with a
  short-term gain behind every other lot of the same symbol. A sale on ``today`` is long term when today is on
  or after the day after the lot's first anniversary (the ledger's ``long_term_from`` rule, IRS Pub. 550).
  Estimated gain of a relieved lot = quantity × (p × (1 − k) − unit cost) (proceeds net of costs, as the ledger).
- Tax-loss harvesting: a lot whose unrealized loss is at least ``tlh_threshold`` of its cost (fraction) or
  ``tlh_min_loss`` in money is sold ("tlh") when its symbol has a replacement that is not blocked; the harvested
  share of the symbol's target moves to the replacement, which is bought ("tlh-replacement") whatever its band,
  and the harvested symbol is not bought back in the same plan.
- Turnover = ½ Σ |trade value| / V. After-weights are recomputed from the quantities and cash the trades leave.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from investment_app.analytics.constraints import pct
from investment_app.analytics.errors import AnalyticsError

CASH = "CASH"
SUM_TOLERANCE = 1e-6
FRACTION = 1e-6  # smallest fraction of a share bought when fractional
LOT_METHODS = ("hifo", "loss_first")
REASONS = ("rebalance", "tlh", "tlh-replacement", "cash-reserve")


@dataclass(frozen=True)
class Drift:
    """d_i = w_i − t_i per symbol with a last ``CASH`` row, and the total ½ Σ |d|."""

    by_symbol: pd.Series
    total: float


@dataclass(frozen=True)
class Target:
    """Symbol weights (fractions) and a cash reserve summing to 1; ``universe`` (when given) names known symbols."""

    weights: Mapping[str, float]
    cash: float = 0.0
    allow_shorts: bool = False
    universe: frozenset[str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", {str(s): float(w) for s, w in self.weights.items()})
        values = np.array(list(self.weights.values()), dtype=float)
        if not (np.isfinite(values).all() and np.isfinite(self.cash)):
            raise AnalyticsError("target weights and the cash reserve must be finite numbers")
        if not 0 <= self.cash <= 1:
            raise AnalyticsError(f"the cash reserve must lie between 0% and 100% (got {pct(self.cash)})")
        negative = sorted(s for s, w in self.weights.items() if w < 0)
        if negative and not self.allow_shorts:
            raise AnalyticsError(f"negative target weight for {', '.join(negative)} while shorts are not allowed")
        total = values.sum() + self.cash
        if abs(total - 1) > SUM_TOLERANCE:
            raise AnalyticsError(
                f"target weights add up to {pct(values.sum() + self.cash)} with the {pct(self.cash)} cash reserve; "
                "they must add up to 100%"
            )
        if self.universe is not None:
            unknown = sorted(set(self.weights) - set(self.universe))
            if unknown:
                raise AnalyticsError(f"unknown symbol(s) in the target: {', '.join(unknown)}")


def drift(weights: Mapping[str, float], target: Mapping[str, float] | Target) -> Drift:
    """Per-symbol and total drift (module doc); cash is 1 − Σ weights on each side (the reserve for a Target)."""
    t = pd.Series(target.weights if isinstance(target, Target) else dict(target), dtype=float)
    w = pd.Series(dict(weights), dtype=float)
    symbols = w.index.union(t.index)
    w, t = w.reindex(symbols, fill_value=0.0), t.reindex(symbols, fill_value=0.0)
    t_cash = target.cash if isinstance(target, Target) else 1.0 - t.sum()
    d = pd.concat([w - t, pd.Series({CASH: (1.0 - w.sum()) - t_cash})])
    return Drift(by_symbol=d, total=0.5 * float(np.abs(d.to_numpy()).sum()))


@dataclass(frozen=True)
class LotArrays:
    """Open lots as parallel arrays: id, symbol, opening date (datetime64[D]), quantity (> 0), unit cost (≥ 0)."""

    lot_id: np.ndarray
    symbol: np.ndarray
    opened: np.ndarray
    quantity: np.ndarray
    unit_cost: np.ndarray

    def __post_init__(self) -> None:
        for name, dtype in (("lot_id", np.int64), ("symbol", object), ("opened", "datetime64[D]")):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))
        for name in ("quantity", "unit_cost"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float))
        if len({a.shape for a in (self.lot_id, self.symbol, self.opened, self.quantity, self.unit_cost)}) != 1:
            raise AnalyticsError("lot arrays must all have the same length")
        if not (np.isfinite(self.quantity).all() and (self.quantity > 0).all()):
            raise AnalyticsError("every lot needs a positive, finite quantity")
        if not (np.isfinite(self.unit_cost).all() and (self.unit_cost >= 0).all()):
            raise AnalyticsError("every lot needs a finite unit cost ≥ 0")


@dataclass(frozen=True)
class PlanSettings:
    """Bands, costs, rounding, lot method and tax options (module doc)."""

    band: float | None = 0.05
    total_threshold: float | None = None
    commission_bps: float = 0.0
    spread_bps: float = 0.0
    min_trade_value: float = 0.0
    fractional: bool = False
    lot_method: str = "hifo"
    avoid_short_term_gains: bool = False
    tlh_threshold: float | None = None
    tlh_min_loss: float | None = None
    replacements: Mapping[str, str] = field(default_factory=dict)
    blocked_buys: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.lot_method not in LOT_METHODS:
            raise AnalyticsError(f"unknown lot method {self.lot_method!r}; choose one of {', '.join(LOT_METHODS)}")
        numbers = [self.commission_bps, self.spread_bps, self.min_trade_value]
        numbers += [
            x for x in (self.band, self.total_threshold, self.tlh_threshold, self.tlh_min_loss) if x is not None
        ]
        if not all(np.isfinite(x) and x >= 0 for x in numbers):
            raise AnalyticsError("bands, thresholds, costs and the minimum trade value must be finite and ≥ 0")

    @property
    def cost_rate(self) -> float:
        """k = (commission + spread / 2) / 10⁴."""
        return (self.commission_bps + self.spread_bps / 2) / 10_000


@dataclass(frozen=True)
class PlanInput:
    """Positions (symbol → (quantity, price); a target or replacement symbol not held has quantity 0), cash,
    lots (per symbol they add up to the position), target, the trade date and the settings."""

    positions: Mapping[str, tuple[float, float]]
    cash: float
    lots: LotArrays
    target: Target
    today: dt.date
    settings: PlanSettings = field(default_factory=PlanSettings)


@dataclass(frozen=True)
class Plan:
    """Trades (symbol, side, quantity, price, value, est_cost, reason; sells first), relieved lots (trade row,
    lot_id, symbol, quantity, gain, long_term), realized gains, weights and drift before and after, totals."""

    trades: pd.DataFrame
    lots: pd.DataFrame
    realized_short: float
    realized_long: float
    before: pd.Series
    after: pd.Series
    drift_before: float
    drift_after: float
    costs: float
    turnover: float
    cash_after: float
    notes: tuple[str, ...]


def long_term_cutoff(today: dt.date) -> dt.date:
    """The latest opening date whose lot is long term when sold on ``today`` (ledger rule, module doc)."""
    y = today - dt.timedelta(days=1)  # needed: anniversary(opened) ≤ y
    if (y.month, y.day) == (2, 29):
        return dt.date(y.year - 1, 2, 28)
    opened = y.replace(year=y.year - 1)
    if (opened.month, opened.day) == (2, 28) and calendar.isleap(opened.year):
        return dt.date(opened.year, 2, 29)  # a 29 February lot's anniversary is 28 February
    return opened


@dataclass
class _Book:
    """The input aligned on arrays: symbols, quantities, prices, target, lots mapped to symbol indices."""

    symbols: np.ndarray
    q: np.ndarray
    p: np.ndarray
    t: np.ndarray
    cash: float
    lot_sym: np.ndarray
    lot_q: np.ndarray
    long_term: np.ndarray

    @property
    def value(self) -> float:
        return float(self.q @ self.p) + self.cash


def _book(inp: PlanInput) -> _Book:
    """Validate the input and align it on the symbols (positions, in sorted order)."""
    if not np.isfinite(inp.cash):
        raise AnalyticsError("cash must be a finite number")
    symbols = np.array(sorted(inp.positions), dtype=object)
    qp = np.array([inp.positions[s] for s in symbols], dtype=float).reshape(-1, 2)
    q, p = qp[:, 0], qp[:, 1]
    if not (np.isfinite(qp).all() and (p > 0).all() and (q >= 0).all()):
        raise AnalyticsError("every position needs a quantity ≥ 0 and a positive price")
    needed = set(inp.target.weights) | set(inp.settings.replacements) | set(inp.settings.replacements.values())
    missing = sorted(needed - set(inp.positions))
    if missing:
        raise AnalyticsError(f"no position or price for {', '.join(missing)} (add it with quantity 0)")
    index = pd.Index(symbols)
    lot_sym = index.get_indexer(inp.lots.symbol)
    if (lot_sym < 0).any():
        raise AnalyticsError(f"lots of {', '.join(sorted(set(inp.lots.symbol[lot_sym < 0])))} have no position")
    held = np.bincount(lot_sym, inp.lots.quantity, minlength=len(symbols))
    off = ~np.isclose(held, q, rtol=1e-9, atol=1e-9)
    if off.any():
        raise AnalyticsError(f"the lots of {', '.join(symbols[off])} do not add up to the position")
    t = pd.Series(inp.target.weights, dtype=float).reindex(symbols, fill_value=0.0).to_numpy()
    lt = inp.lots.opened <= np.datetime64(long_term_cutoff(inp.today), "D")
    return _Book(symbols, q.copy(), p, t, float(inp.cash), lot_sym, inp.lots.quantity.copy(), lt)


def _relief_order(b: _Book, inp: PlanInput, avoid_st: bool) -> np.ndarray:
    """Lot indices sorted by symbol, then by the lot method's priority (np.lexsort, last key first)."""
    lots = inp.lots
    gain = b.p[b.lot_sym] - lots.unit_cost
    keys = [lots.lot_id, lots.opened, -lots.unit_cost]
    if inp.settings.lot_method == "loss_first":
        keys += [~b.long_term, gain >= 0]
    if avoid_st:
        keys.append((gain > 0) & ~b.long_term)
    return np.lexsort([*keys, b.lot_sym])


def _take(order: np.ndarray, lot_sym: np.ndarray, lot_q: np.ndarray, sell: np.ndarray) -> np.ndarray:
    """Quantity each lot gives to the per-symbol sells, in ``order``: clip(s − cumulative before, 0, q)."""
    q = lot_q[order]
    cum = np.cumsum(q)
    sym = lot_sym[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sym)) + 1] if len(sym) else np.zeros(0, dtype=int)
    base = np.repeat(cum[starts] - q[starts], np.diff(np.r_[starts, len(sym)]))
    before = cum - q - base
    take = np.zeros_like(lot_q)
    take[order] = np.clip(sell[sym] - before, 0.0, q)
    return take


def _round(qty: np.ndarray, fractional: bool, how: str) -> np.ndarray:
    """Round a quantity to whole shares (or to 10⁻⁶ share): ``how`` is "down", "up" or "nearest"."""
    step = FRACTION if fractional else 1.0
    f = {"down": np.floor, "up": np.ceil, "nearest": np.rint}[how]
    return f(qty / step - (1e-9 if how == "up" else -1e-9 if how == "down" else 0.0)) * step


def _fill(priority: np.ndarray, desired: np.ndarray, budget: float) -> np.ndarray:
    """Money per position: ``desired`` filled in ascending ``priority`` until ``budget`` runs out (cumsum)."""
    order = np.argsort(priority, kind="stable")
    before = np.cumsum(desired[order]) - desired[order]
    out = np.zeros_like(desired)
    out[order] = np.clip(max(budget, 0.0) - before, 0.0, desired[order])
    return out


@dataclass
class _Trades:
    """Trades and lot reliefs collected while planning."""

    sym: list[np.ndarray] = field(default_factory=list)
    qty: list[np.ndarray] = field(default_factory=list)  # + buy, − sell
    reason: list[np.ndarray] = field(default_factory=list)
    takes: list[np.ndarray] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, per_symbol: np.ndarray, reasons: np.ndarray | str, take: np.ndarray | None = None) -> None:
        rows = np.flatnonzero(per_symbol != 0)
        self.sym.append(rows)
        self.qty.append(per_symbol[rows])
        self.reason.append(np.broadcast_to(np.asarray(reasons, dtype=object), per_symbol.shape)[rows])
        self.takes.append(take)


def _sell(b: _Book, inp: PlanInput, t: _Trades, qty: np.ndarray, reasons: np.ndarray | str) -> None:
    """Sell ``qty`` per symbol, relieving lots in the method's order; notes the short-term lots kept."""
    s = inp.settings
    avoid = s.avoid_short_term_gains
    take = _take(_relief_order(b, inp, avoid), b.lot_sym, b.lot_q, qty)
    if avoid:
        plain = _take(_relief_order(b, inp, False), b.lot_sym, b.lot_q, qty)
        st_gain = (b.p[b.lot_sym] > inp.lots.unit_cost) & ~b.long_term
        kept = np.bincount(b.lot_sym, (plain > 0) & (take == 0) & st_gain, minlength=len(b.symbols))
        t.notes += [
            f"{b.symbols[i]}: kept {int(kept[i])} short-term lots; sold long-term lots instead"
            for i in np.flatnonzero(kept)
        ]
    t.add(-qty, reasons, take)
    b.lot_q = b.lot_q - take
    b.q = b.q - qty
    b.cash += float(qty @ b.p) * (1 - s.cost_rate)


def _buy(b: _Book, inp: PlanInput, t: _Trades, money: np.ndarray, reasons: np.ndarray | str) -> None:
    """Buy with ``money`` per symbol (cost included), rounded down; trades under the minimum are dropped."""
    s = inp.settings
    qty = _round(money / (b.p * (1 + s.cost_rate)), s.fractional, "down")
    qty = np.where(qty * b.p >= max(s.min_trade_value, 1e-12), np.maximum(qty, 0.0), 0.0)
    t.add(qty, reasons)
    b.q = b.q + qty
    b.cash -= float(qty @ b.p) * (1 + s.cost_rate)


def _harvest(b: _Book, inp: PlanInput, t: _Trades, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TLH sells of the loss lots; returns the target with the harvested weight moved, the replacement mask and
    the harvested mask."""
    s = inp.settings
    n = len(b.symbols)
    forced = np.zeros(n, dtype=bool)
    if (s.tlh_threshold is None and s.tlh_min_loss is None) or not s.replacements:
        return target, forced, forced.copy()
    index = pd.Index(b.symbols)
    rep = np.full(n, -1)
    rep[index.get_indexer(list(s.replacements))] = index.get_indexer(list(s.replacements.values()))
    blocked = np.isin(b.symbols, list(s.blocked_buys))
    loss = inp.lots.unit_cost - b.p[b.lot_sym]  # per share, > 0 for a loss
    big = np.zeros(len(loss), dtype=bool)
    if s.tlh_threshold is not None:
        big |= loss >= s.tlh_threshold * inp.lots.unit_cost
    if s.tlh_min_loss is not None:
        big |= loss * b.lot_q >= s.tlh_min_loss
    lot_rep = rep[b.lot_sym]
    harvest = big & (loss > 0) & (lot_rep >= 0) & ~blocked[np.maximum(lot_rep, 0)]
    take = np.where(harvest, _round(b.lot_q, s.fractional, "down"), 0.0)
    h = np.bincount(b.lot_sym, take, minlength=n)
    small = h * b.p < s.min_trade_value
    take[small[b.lot_sym]], h[small] = 0.0, 0.0
    skipped = np.unique(b.lot_sym[big & (loss > 0) & (lot_rep >= 0) & blocked[np.maximum(lot_rep, 0)]])
    t.notes += [f"{b.symbols[i]}: loss not harvested; its replacement {b.symbols[rep[i]]} is blocked" for i in skipped]
    if not h.any():
        return target, forced, forced.copy()
    moved = np.divide(target * h, b.q, out=np.zeros(n), where=b.q > 0)
    target = target - moved
    np.add.at(target, rep[h > 0], moved[h > 0])
    forced[rep[h > 0]] = True
    t.add(-h, "tlh", take)
    b.lot_q, b.q = b.lot_q - take, b.q - h
    b.cash += float(h @ b.p) * (1 - s.cost_rate)
    return target, forced, h > 0


def _reserve_sells(b: _Book, inp: PlanInput, target: np.ndarray, need: float, value: float) -> np.ndarray:
    """Shares to sell to raise ``need`` net of costs: overweights (q p − t V) first, largest first, then the rest
    in proportion to the remaining holdings; rounded up, capped at the position."""
    k = inp.settings.cost_rate
    gross = need / (1 - k)
    held = b.q * b.p
    excess = np.clip(held - target * value, 0.0, held)
    first = _fill(-excess, excess, gross)
    rest = held - first
    share = (gross - first.sum()) / rest.sum() if rest.sum() > 0 and gross > first.sum() else 0.0
    money = first + rest * min(share, 1.0)
    return np.minimum(_round(money / b.p, inp.settings.fractional, "up"), b.q)


def _rebalance(b: _Book, inp: PlanInput, t: _Trades, target: np.ndarray, masks: tuple, reserve: float) -> None:
    """Rebalance sells (and cash-reserve sells), then buys (module doc); ``forced`` are TLH replacements."""
    s = inp.settings
    forced, harvested = masks
    value = b.value
    d = b.q * b.p / value - target
    total = 0.5 * (np.abs(d).sum() + abs(b.cash / value - inp.target.cash))
    out = np.abs(d) > (s.band if s.band is not None else -1.0)
    everything = s.total_threshold is not None and total > s.total_threshold
    trade = out | everything if s.band is not None else np.full_like(out, everything or s.total_threshold is None)
    sell_set = (out if s.avoid_short_term_gains else trade) & (d > 0)
    sells = np.where(sell_set, np.minimum(_round(d * value / b.p, s.fractional, "nearest"), b.q), 0.0)
    sells[sells * b.p < max(s.min_trade_value, 1e-12)] = 0.0
    k = s.cost_rate
    short = reserve - (b.cash + float(sells @ b.p) * (1 - k))
    if short > 0:
        b_after = _Book(b.symbols, b.q - sells, b.p, target, b.cash, b.lot_sym, b.lot_q, b.long_term)
        extra = _reserve_sells(b_after, inp, target, short, value)
        sells = sells + extra
        reasons = np.where(sells > extra, "rebalance", "cash-reserve")
        if b.cash + float(sells @ b.p) * (1 - k) < reserve - 1e-6:
            raise AnalyticsError("the holdings cannot cover the cash reserve after estimated costs")
    else:
        reasons = "rebalance"
    if sells.any():
        _sell(b, inp, t, sells, reasons)
    blocked = np.isin(b.symbols, list(s.blocked_buys)) | harvested
    want = (trade | forced) & (d < 0)
    for i in np.flatnonzero(want & blocked):
        t.notes.append(f"{b.symbols[i]}: buy blocked (wash-sale rule); its money goes to the next underweight")
    want &= ~blocked
    desired = np.where(want, -d * value * (1 + k), 0.0)
    money = _fill(d, desired, b.cash - reserve)
    _buy(b, inp, t, money, np.where(forced, "tlh-replacement", "rebalance"))


def _assemble(b0: _Book, b: _Book, inp: PlanInput, t: _Trades, target: np.ndarray, reserve: float) -> Plan:
    """The Plan from the collected trades: tables, realized gains, weights and drift before and after."""
    k = inp.settings.cost_rate
    sym = np.concatenate([*t.sym, np.zeros(0, dtype=int)]).astype(int)
    qty = np.concatenate([*t.qty, np.zeros(0)])
    reason = np.concatenate([*t.reason, np.zeros(0, dtype=object)])
    price = b0.p[sym]
    value = np.abs(qty) * price
    trades = pd.DataFrame(
        {
            "symbol": b0.symbols[sym],
            "side": np.where(qty > 0, "buy", "sell"),
            "quantity": np.abs(qty),
            "price": price,
            "value": value,
            "est_cost": value * k,
            "reason": reason,
        }
    )
    sell_first = np.argsort(qty > 0, kind="stable")
    row_of = np.empty(len(sym), dtype=int)
    row_of[sell_first] = np.arange(len(sym))
    lots, start = [], 0
    for rows, take in zip(t.sym, t.takes, strict=True):
        if take is not None:
            used = np.flatnonzero(take > 0)
            trade_row = np.full(len(b0.symbols), -1)
            trade_row[rows] = row_of[start + np.arange(len(rows))]
            lots.append((trade_row[b0.lot_sym[used]], used, take[used]))
        start += len(rows)
    rows_, used, take = (np.concatenate(x) for x in zip(*lots, strict=True)) if lots else ([],) * 3
    used = np.asarray(used, dtype=int)
    take = np.asarray(take, dtype=float)
    gain = take * (b0.p[b0.lot_sym[used]] * (1 - k) - inp.lots.unit_cost[used])
    relieved = pd.DataFrame(
        {
            "trade": np.asarray(rows_, dtype=int),
            "lot_id": inp.lots.lot_id[used],
            "symbol": b0.symbols[b0.lot_sym[used]],
            "quantity": take,
            "gain": gain,
            "long_term": b0.long_term[used],
        }
    )
    before, after = _weights(b0), _weights(b)
    t_cash = inp.target.cash
    tgt = pd.Series(np.r_[target, t_cash], index=[*b0.symbols, CASH])
    return Plan(
        trades=trades.iloc[sell_first].reset_index(drop=True),
        lots=relieved,
        realized_short=float(gain[~relieved["long_term"].to_numpy()].sum()),
        realized_long=float(gain[relieved["long_term"].to_numpy()].sum()),
        before=before,
        after=after,
        drift_before=drift(before.drop(CASH), inp.target).total,
        drift_after=0.5 * float(np.abs(after - tgt).sum()),
        costs=float(value.sum() * k),
        turnover=float(value.sum() / (2 * b0.value)),
        cash_after=b.cash,
        notes=tuple(t.notes),
    )


def _weights(b: _Book) -> pd.Series:
    value = b.value
    return pd.Series(np.r_[b.q * b.p / value, b.cash / value], index=[*b.symbols, CASH])


def _copy(b: _Book) -> _Book:
    return _Book(b.symbols, b.q.copy(), b.p, b.t, b.cash, b.lot_sym, b.lot_q.copy(), b.long_term)


def plan(inp: PlanInput) -> Plan:
    """The tax-aware rebalancing plan (module doc): TLH first, then sells, then buys."""
    b0 = _book(inp)
    b, t = _copy(b0), _Trades()
    reserve = inp.target.cash * b0.value
    target, forced, harvested = _harvest(b, inp, t, b0.t.copy())
    _rebalance(b, inp, t, target, (forced, harvested), reserve)
    return _assemble(b0, b, inp, t, target, reserve)


def deploy_cash(inp: PlanInput, amount: float) -> Plan:
    """A deposit of ``amount``: buys only, most underweight first (weights on V + amount), to their targets;
    the before-weights include the deposit as cash."""
    if not (np.isfinite(amount) and amount > 0):
        raise AnalyticsError(f"a deposit must be a positive amount (got {amount})")
    b0 = _book(inp)
    b0.cash += amount
    b, t = _copy(b0), _Trades()
    value, k = b0.value, inp.settings.cost_rate
    d = b.q * b.p / value - b.t
    blocked = np.isin(b.symbols, list(inp.settings.blocked_buys))
    desired = np.where((d < 0) & ~blocked, -d * value * (1 + k), 0.0)
    reserve = inp.target.cash * value
    _buy(b, inp, t, _fill(d, desired, b.cash - reserve), "rebalance")
    return _assemble(b0, b, inp, t, b0.t, reserve)


def raise_cash(inp: PlanInput, amount: float) -> Plan:
    """A withdrawal of ``amount``: sells (most overweight first, tax-aware lots) so that cash − amount stays at or
    above the reserve on V − amount; ``cash_after`` is the cash left once the amount is paid out."""
    b0 = _book(inp)
    if not (np.isfinite(amount) and amount > 0):
        raise AnalyticsError(f"a withdrawal must be a positive amount (got {amount})")
    if amount >= b0.value:
        raise AnalyticsError(
            f"the withdrawal of {amount:,.2f} is not less than the portfolio's value of {b0.value:,.2f}"
        )
    b, t = _copy(b0), _Trades()
    value = b0.value - amount
    reserve = inp.target.cash * value
    need = reserve + amount - b.cash
    if need > 0:
        sells = _reserve_sells(b, inp, b.t, need, value)
        if float(sells @ b.p) * (1 - inp.settings.cost_rate) < need - 1e-6:
            raise AnalyticsError(f"the withdrawal of {amount:,.2f} exceeds what the holdings raise after costs")
        _sell(b, inp, t, sells, "cash-reserve")
    b.cash -= amount
    return _assemble(b0, b, inp, t, b0.t, reserve)
