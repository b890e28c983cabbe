"""Rebalancing benchmark (issue 7's targets), peers in the same run.

Run from the project root: ``python -m tests.benchmarks.bench_rebalance``. It reports the median of 5 runs of:
- a tax-aware plan (HIFO, avoid short-term gains, TLH) for 500 holdings with 20,000 lots: goal ≤ 1 s; peer: the
  same lot selection in plain Python (sort each symbol's lots, loop over them), lot selection only;
- the wash-sale check across 10 portfolios and 100,000 transactions: goal ≤ 200 ms; peer: a pandas merge of loss
  sales with same-symbol buys filtered on the ±30-day window.
Prices replay real bundled daily returns (``bench_ledger.synthetic_prices``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from investment_app.analytics.rebalance import LotArrays, PlanInput, PlanSettings, Target, plan
from investment_app.analytics.wash_sale import blocked_buys, wash_sale_violations
from tests.benchmarks.bench_analytics import best_of
from tests.benchmarks.bench_ledger import synthetic_prices

LOTS = 20_000
TRANSACTIONS = 100_000


def plan_input(prices: pd.DataFrame, rng: np.random.Generator) -> PlanInput:
    symbols = prices.columns.to_numpy()
    last = prices.iloc[-1].to_numpy()
    lot_sym = np.r_[np.arange(len(symbols)), rng.integers(0, len(symbols), LOTS - len(symbols))]
    day = rng.integers(0, len(prices) - 1, LOTS)
    qty = rng.integers(1, 100, LOTS).astype(float)
    cost = prices.to_numpy()[day, lot_sym]
    held = np.bincount(lot_sym, qty, minlength=len(symbols))
    lots = LotArrays(np.arange(LOTS), symbols[lot_sym], prices.index.to_numpy()[day].astype("datetime64[D]"), qty, cost)
    target = Target(dict(zip(symbols, rng.dirichlet(np.ones(len(symbols))) * 0.98, strict=True)), 0.02)
    replacements = {s: symbols[(i + 1) % len(symbols)] for i, s in enumerate(symbols[:50])}
    settings = PlanSettings(
        band=0.002,
        commission_bps=5,
        spread_bps=10,
        avoid_short_term_gains=True,
        tlh_threshold=0.3,
        replacements=replacements,
    )
    positions = {s: (held[i], last[i]) for i, s in enumerate(symbols)}
    today = prices.index[-1].date()
    return PlanInput(positions, 0.01 * float(held @ last), lots, target, today, settings)


def peer_lot_selection(inp: PlanInput, sells: dict[str, float]) -> dict[int, float]:
    """HIFO with short-term gains last, one lot at a time in plain Python."""
    cutoff = np.datetime64(inp.today - dt.timedelta(days=366), "D")
    by_symbol: dict[str, list] = {}
    lots = inp.lots
    for i in range(len(lots.lot_id)):
        price = inp.positions[lots.symbol[i]][1]
        st_gain = lots.opened[i] > cutoff and price > lots.unit_cost[i]
        by_symbol.setdefault(lots.symbol[i], []).append((st_gain, -lots.unit_cost[i], lots.opened[i], i))
    taken = {}
    for symbol, left in sells.items():
        for *_, i in sorted(by_symbol.get(symbol, [])):
            if left <= 0:
                break
            take = min(left, lots.quantity[i])
            taken[int(lots.lot_id[i])] = take
            left -= take
    return taken


def bench_plan(prices: pd.DataFrame) -> None:
    inp = plan_input(prices, np.random.default_rng(11))
    result = plan(inp)
    sells = result.trades[result.trades.side == "sell"].groupby("symbol")["quantity"].sum().to_dict()
    mine = best_of(lambda: plan(inp))
    theirs = best_of(lambda: peer_lot_selection(inp, sells))
    print(f"plan, 500 holdings × {LOTS:,} lots: {len(result.trades)} trades, {len(result.lots)} lots relieved")
    print(f"  ours (whole plan) {mine * 1e3:.1f} ms · pure-Python lot selection alone {theirs * 1e3:.1f} ms")
    print(f"  ratio {theirs / mine:.1f}× · goal ≤ 1 s: {'met' if mine <= 1 else 'NOT met'}")


def transactions(prices: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = TRANSACTIONS
    sym = rng.integers(0, prices.shape[1], n)
    day = rng.integers(0, len(prices), n)
    side = rng.choice(np.array(["buy", "sell"], dtype=object), n, p=[0.6, 0.4])
    price = prices.to_numpy()[day, sym]
    basis = prices.to_numpy()[np.maximum(day - rng.integers(1, 500, n), 0), sym]
    qty = rng.integers(1, 100, n).astype(float)
    return pd.DataFrame(
        {
            "portfolio_id": rng.integers(1, 11, n),
            "date": prices.index.to_numpy()[day],
            "symbol": prices.columns.to_numpy()[sym],
            "side": side,
            "quantity": qty,
            "gain": np.where(side == "sell", (price - basis) * qty, np.nan),
        }
    )


def peer_wash(t: pd.DataFrame) -> pd.DataFrame:
    """Loss sales merged with every same-symbol buy, kept when the buy lies within ±30 days."""
    sales = t[(t.side == "sell") & (t.gain < 0)].reset_index()
    buys = t.loc[t.side == "buy", ["symbol", "date", "quantity"]]
    pairs = sales.merge(buys, on="symbol", suffixes=("", "_buy"))
    lag = (pairs["date_buy"] - pairs["date"]).dt.days
    return pairs[lag.abs() <= 30].groupby("index")["quantity_buy"].sum()


def bench_wash(prices: pd.DataFrame) -> None:
    t = transactions(prices, np.random.default_rng(12))
    groups = {s: [prices.columns[(i + 1) % prices.shape[1]]] for i, s in enumerate(prices.columns[:20])}
    today = prices.index[-1].date()

    def ours() -> None:
        wash_sale_violations(t, groups)
        blocked_buys(t, today, groups)

    washed = len(wash_sale_violations(t, groups))
    mine = best_of(ours)
    theirs = best_of(lambda: peer_wash(t), repeat=3)
    print(f"wash sales, 10 portfolios × {TRANSACTIONS:,} transactions: {washed:,} loss sales washed")
    print(f"  ours {mine * 1e3:.1f} ms · pandas merge {theirs * 1e3:.1f} ms")
    print(f"  ratio {theirs / mine:.1f}× · goal ≤ 200 ms: {'met' if mine <= 0.2 else 'NOT met'}")


def main() -> None:
    prices = synthetic_prices()
    bench_plan(prices)
    bench_wash(prices)


if __name__ == "__main__":
    main()
