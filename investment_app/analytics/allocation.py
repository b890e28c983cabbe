"""Weights → shares for a cash amount at the latest prices, and the trades from current to target holdings.

Methods (PyPortfolioOpt 1.6's ``DiscreteAllocation`` conventions):
- ``"greedy"`` (default: fast, deterministic, exactly PyPortfolioOpt's): ``greedy_portfolio`` step for step:
  assets by descending weight buy ⌊w_i V/p_i⌋ shares, then one share at a time of the affordable asset
  furthest below its weight (at most ten unaffordable assets skipped), until nothing more can be bought.
  When the first round buys nothing, PyPortfolioOpt's weights become 0/0; we count them as 0 (and so never
  buy a zero-weight asset).
- ``"lp"``: whole shares x ≥ 0 minimising Σ_i |w_i V − p_i x_i| + r, r = V − pᵀx ≥ 0 the leftover —
  ``lp_portfolio``'s integer program, solved by HiGHS (``scipy.optimize.milp``) to a relative gap of 1e-4 on
  the shortfall, or the best allocation found in 10 s. It is a knapsack: fast for tens of assets, seconds for
  hundreds. Prices are matched to weights by symbol (PyPortfolioOpt pairs them by position). Some HiGHS
  versions print a diagnostic line to stdout during the solve.
- ``"fractional"``: ⌊w_i V/(p_i·lot)⌋ lots of ``lot`` shares (default 1e-6), rounded down; the rest is cash.
Long-only weights are used as given (a sum below 1 leaves cash; above 1 is refused). With shorts, as
PyPortfolioOpt: longs and |shorts| are each scaled to sum 1; the longs are bought with V (plus the short
proceeds when ``reinvest``), the shorts sold for V·short_ratio (default Σ|w_short|); leftover is the sum of the
two sides' leftovers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from investment_app.analytics.errors import AnalyticsError

METHODS = ("greedy", "lp", "fractional")
LP_GAP = 1e-4  # of the shortfall Σ max(w_i V − p_i x_i, 0): about $1 on a $1M, 500-asset allocation
LP_TIME_LIMIT_S = 10.0
QUANTITY_TOLERANCE = 1e-9  # a trade smaller than this many shares is rounding noise, not an order


@dataclass(frozen=True)
class Allocation:
    """Shares per symbol (non-zero only, negative = short), cash left over, and the method used."""

    shares: pd.Series
    leftover: float
    method: str


@dataclass(frozen=True)
class Trades:
    """Orders (index symbol: current, target, quantity +buy/−sell, side, price, value, cost) and their totals."""

    orders: pd.DataFrame
    buy_value: float
    sell_value: float
    cost: float

    @property
    def net_cash(self) -> float:
        """Cash the trades release (negative: cash they need): sells − buys − costs."""
        return self.sell_value - self.buy_value - self.cost


def latest_prices(prices: pd.DataFrame) -> pd.Series:
    """Each column's last price, carried forward over trailing gaps (``get_latest_prices``: ffill().iloc[-1])."""
    last = prices.ffill().iloc[-1]
    missing = last.index[~(last > 0)].tolist()
    if missing:
        raise AnalyticsError(f"no positive price for {', '.join(map(str, missing))}")
    return last.astype(float)


def allocate(
    weights: pd.Series,
    prices: pd.Series,
    cash: float,
    method: str = "greedy",
    lot: float = 1e-6,
    short_ratio: float | None = None,
    reinvest: bool = False,
) -> Allocation:
    """Shares that buy ``weights`` (symbol → weight) with ``cash`` at ``prices`` (symbol → latest price).

    ``lot`` is the smallest fraction of a share for ``method="fractional"``; ``short_ratio`` and ``reinvest``
    apply when some weights are negative (module doc).
    """
    w, p = _check_inputs(weights, prices, cash, method, lot)
    if (w >= 0).all():
        return _long_only(w, p, cash, method, lot)
    if short_ratio is not None and short_ratio < 0:
        raise AnalyticsError(f"short ratio must be non-negative (got {short_ratio})")
    longs, shorts = w[w >= 0], -w[w < 0]
    short_value = cash * (shorts.sum() if short_ratio is None else short_ratio)
    long_side = _long_only(longs / longs.sum(), p, cash + (short_value if reinvest else 0.0), method, lot)
    short_side = _long_only(shorts / shorts.sum(), p, short_value, method, lot)
    return Allocation(
        pd.concat([long_side.shares, -short_side.shares]), long_side.leftover + short_side.leftover, method
    )


def _check_inputs(
    weights: pd.Series, prices: pd.Series, cash: float, method: str, lot: float
) -> tuple[pd.Series, pd.Series]:
    """Weights (finite, unique symbols) and their prices (positive), after checking cash, method and lot."""
    if method not in METHODS:
        raise AnalyticsError(f"unknown allocation method {method!r}; choose one of {', '.join(METHODS)}")
    if not (cash > 0 and np.isfinite(cash)) or not lot > 0:
        raise AnalyticsError(f"cash and lot size must be positive (got {cash}, {lot})")
    w = weights.astype(float)
    if not w.index.is_unique or not np.isfinite(w.to_numpy()).all():
        raise AnalyticsError("weights need one finite value per symbol")
    w = w[w != 0]  # a zero weight buys nothing, in every method (greedy: its deficit never leads)
    if w.empty:
        raise AnalyticsError("all weights are zero: nothing to allocate")
    missing = w.index.difference(prices.index, sort=False).tolist()
    if missing:
        raise AnalyticsError(f"no price for {', '.join(map(str, missing))}")
    p = prices.reindex(w.index).astype(float)
    bad = p.index[~(p > 0) | ~np.isfinite(p)].tolist()
    if bad:
        raise AnalyticsError(f"prices must be positive and finite: {', '.join(map(str, bad))}")
    if (w >= 0).all() and w.sum() > 1 + 1e-9:
        raise AnalyticsError(f"long-only weights add up to {w.sum():.6g} > 1: they would spend more than the cash")
    return w, p


def _long_only(w: pd.Series, prices: pd.Series, cash: float, method: str, lot: float) -> Allocation:
    """Allocation of non-negative weights with the chosen method; zero positions dropped."""
    p = prices.reindex(w.index).to_numpy()
    if method == "lp":
        shares = _lp_shares(w.to_numpy(), p, cash)
    elif method == "greedy":
        shares = _greedy_shares(w.to_numpy(), p, cash)
    else:
        shares = _fractional_shares(w.to_numpy(), p, cash, lot)
    leftover = max(cash - float(shares @ p), 0.0)  # the allocations spend at most the cash; only rounding below 0
    held = pd.Series(shares, index=w.index)
    return Allocation(held[held != 0], leftover, method)


def _lp_shares(w: np.ndarray, p: np.ndarray, cash: float) -> np.ndarray:
    """``lp_portfolio``'s integer program in an equivalent, better scaled form (module doc), solved by HiGHS.

    With d_i = w_i V − p_i x_i: Σ|d_i| + (V − pᵀx) = 2 Σ max(d_i, 0) + (V − Σ w_i V), so both minimise the
    shortfall Σ v_i, v_i ≥ d_i, v ≥ 0, s.t. pᵀx ≤ V; x_i ≤ ⌈w_i V/p_i⌉ (more shares never lower it).
    """
    n = len(w)
    target = w * cash
    result = milp(
        np.concatenate([np.zeros(n), np.ones(n)]),
        constraints=[
            LinearConstraint(np.hstack([np.diag(p), np.eye(n)]), target, np.inf),  # v ≥ wV − px
            LinearConstraint(np.concatenate([p, np.zeros(n)])[None, :], -np.inf, cash),  # pᵀx ≤ V
        ],
        integrality=np.concatenate([np.ones(n), np.zeros(n)]),
        bounds=Bounds(0, np.concatenate([np.ceil(target / p), np.full(n, np.inf)])),
        options={"mip_rel_gap": LP_GAP, "time_limit": LP_TIME_LIMIT_S},
    )
    if result.x is None:
        raise AnalyticsError(f"the whole-share allocation failed ({result.message}); use method='greedy'")
    return np.rint(result.x[:n]).astype(np.int64)


def _greedy_shares(weights: np.ndarray, prices: np.ndarray, cash: float) -> np.ndarray:
    """PyPortfolioOpt's greedy_portfolio (module doc), working by descending weight, answering in input order."""
    order = np.argsort(-weights, kind="stable")
    w, p = weights[order], prices[order]
    shares = np.floor(w * cash / p).astype(np.int64)
    available = cash - float(shares @ p)
    while available > 0:
        value = shares * p
        held = value.sum()
        deficit = w - (value / held if held > 0 else 0.0)
        idx, skipped = int(np.argmax(deficit)), 0
        while p[idx] > available:
            deficit[idx] = 0.0
            idx = int(np.argmax(deficit))
            if deficit[idx] < 0 or skipped == 10:
                break
            skipped += 1
        if deficit[idx] <= 0 or skipped == 10:
            break
        shares[idx] += 1
        available -= p[idx]
    in_input_order = np.empty_like(shares)
    in_input_order[order] = shares
    return in_input_order


def _fractional_shares(w: np.ndarray, p: np.ndarray, cash: float, lot: float) -> np.ndarray:
    """⌊w V/(p·lot)⌋·lot shares, one lot fewer where float rounding would spend more than w V."""
    budget = w * cash
    lots = np.floor(budget / (p * lot))
    lots -= lots * lot * p > budget
    return lots * lot


def trades(target_shares: pd.Series, current_shares: pd.Series, prices: pd.Series, cost_bps: float = 0.0) -> Trades:
    """Orders that take ``current_shares`` to ``target_shares`` at ``prices``; cost = |q|·p·cost_bps/10⁴.

    Symbols missing from one side hold 0 shares there; quantities below 1e-9 shares are not orders. Sells come
    first (they fund the buys), each side by symbol.
    """
    if not (np.isfinite(cost_bps) and cost_bps >= 0):
        raise AnalyticsError(f"cost must be a non-negative number of basis points (got {cost_bps})")
    for side in (current_shares, target_shares):
        if not side.index.is_unique or not np.isfinite(side.to_numpy(dtype=float)).all():
            raise AnalyticsError("holdings need one finite quantity per symbol")
    book = pd.concat({"current": current_shares, "target": target_shares}, axis=1).fillna(0.0).astype(float)
    book["quantity"] = book["target"] - book["current"]
    book = book[book["quantity"].abs() > QUANTITY_TOLERANCE]
    missing = book.index[~(prices.reindex(book.index) > 0)].tolist()
    if missing:
        raise AnalyticsError(f"no positive price to trade {', '.join(map(str, missing))}")
    book["side"] = np.where(book["quantity"] > 0, "buy", "sell")
    book["price"] = prices.reindex(book.index).astype(float)
    book["value"] = book["quantity"].abs() * book["price"]
    book["cost"] = book["value"] * cost_bps / 10_000
    book = book.rename_axis("symbol").sort_values(["side", "symbol"], ascending=[False, True])
    return Trades(
        orders=book,
        buy_value=float(book.loc[book["side"] == "buy", "value"].sum()),
        sell_value=float(book.loc[book["side"] == "sell", "value"].sum()),
        cost=float(book["cost"].sum()),
    )
