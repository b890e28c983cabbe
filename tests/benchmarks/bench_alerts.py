"""Alert-engine benchmark (issue 6's target), a naive pandas peer in the same run.

Run from the project root: ``python -m tests.benchmarks.bench_alerts``. 10,000 rules over 1,000 symbols on one new
day of prices: goal ≤ 100 ms. Prices: a 260-day window of 1,000 symbols replaying real bundled daily returns (two
260-day slices of ``bench_ledger.synthetic_prices``' 500 symbols), 30 of them listed during the window and 10
without a close on the last day. Rules: 2,250 of each symbol kind (price_cross, move, rsi, ma_cross) and 200 of
each portfolio kind over 200 portfolios of 20 to 50 holdings, with varied params. It reports the median
``evaluate`` time after a warm-up, per kind and in total; ``compile_rules`` separately; and the peer: the same
rules one at a time with pandas (rolling, ewm, pct_change, cummax, quantile), as a straightforward implementation
would, with the share of verdicts on which both agree.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from investment_app.analytics.alert_rules import (
    KINDS,
    PORTFOLIO_KINDS,
    MarketWindow,
    PortfolioBook,
    RuleSpec,
    compile_rules,
    evaluate,
    required_days,
)
from tests.benchmarks.bench_ledger import synthetic_prices

SYMBOLS, DAYS, PORTFOLIOS, RULES = 1000, 260, 200, 10_000
PER_SYMBOL_KIND, PER_PORTFOLIO_KIND = 2250, 200
NOW = 1.9e9
GOAL_SECONDS = 0.1


def median_time(work: Callable[[], object], repeat: int = 7) -> float:
    """The median of ``repeat`` timings after one warm-up run (seconds)."""
    work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def market_window(rng: np.random.Generator) -> pd.DataFrame:
    """1,000 symbols × 260 days of closes from real returns; some listed late, some without today's close."""
    prices = synthetic_prices().to_numpy()
    closes = np.hstack([prices[-DAYS:], prices[-2 * DAYS : -DAYS]])
    late = rng.choice(SYMBOLS, 30, replace=False)
    for j, start in zip(late, rng.integers(1, DAYS - 5, late.size), strict=True):
        closes[:start, j] = np.nan
    closes[-1, rng.choice(SYMBOLS, 10, replace=False)] = np.nan
    dates = pd.bdate_range(end="2024-12-31", periods=DAYS)
    return pd.DataFrame(closes, index=dates, columns=[f"S{j:04d}" for j in range(SYMBOLS)])


def portfolio_book(frame: pd.DataFrame, rng: np.random.Generator) -> PortfolioBook:
    """200 portfolios of 20–50 holdings and 5 % cash held through the window; 150 of them with a target."""
    closes = frame.to_numpy()
    weights = np.zeros((PORTFOLIOS, SYMBOLS))
    available = np.flatnonzero(np.isfinite(closes).all(axis=0))
    for p in range(PORTFOLIOS):
        held = rng.choice(available, rng.integers(20, 51), replace=False)
        weights[p, held] = 0.95 * rng.dirichlet(np.ones(held.size))
    shares = np.where(weights > 0, weights * 1e6 / np.nan_to_num(closes[-1], nan=1.0), 0.0)
    values = np.nan_to_num(closes) @ shares.T + 0.05e6
    targets = np.where(weights > 0, weights + rng.normal(0, 0.01, weights.shape), 0.0).clip(0)
    targets = 0.95 * targets / targets.sum(axis=1, keepdims=True)
    targets[150:] = np.nan
    return PortfolioBook(
        portfolio_ids=tuple(range(1, PORTFOLIOS + 1)),
        values=values,
        pnl_today=values[-1] - values[-2],
        return_today=values[-1] / values[-2] - 1,
        weights=weights,
        target_weights=targets,
        target_cash=np.where(np.arange(PORTFOLIOS) < 150, 0.05, np.nan),
    )


def symbol_params(kind: str, last: float, rng: np.random.Generator) -> dict:
    pick = rng.choice
    if kind == "price_cross":
        return {"level": float(last * rng.uniform(0.97, 1.03)), "direction": str(pick(["above", "below", "either"]))}
    if kind == "move":
        return {
            "pct": float(pick([0.02, 0.03, 0.05])),
            "days": int(pick([1, 5, 10, 21, 63])),
            "direction": str(pick(["up", "down", "either"])),
        }
    if kind == "rsi":
        return {
            "period": int(pick([7, 9, 14, 21])),
            "upper": float(pick([65, 70, 80])),
            "lower": float(pick([20, 30, 35])),
            "zone": str(pick(["above", "below", "either"])),
        }
    fast, slow = [(5, 20), (10, 50), (20, 50), (20, 100), (50, 150), (50, 200)][rng.integers(6)]
    return {"fast": fast, "slow": slow, "direction": str(pick(["golden", "death", "either"]))}


def portfolio_params(kind: str, rng: np.random.Generator) -> dict:
    pick = rng.choice
    return {
        "drawdown": lambda: {"pct": float(pick([0.02, 0.05, 0.1]))},
        "daily_loss": lambda: {"amount": float(pick([5e3, 1e4]))} if rng.random() < 0.5 else {"pct": 0.01},
        "var": lambda: {"pct": float(pick([0.01, 0.015, 0.02])), "lookback": int(pick([60, 120, 250]))},
        "concentration": lambda: {"pct": float(pick([0.05, 0.08, 0.1]))},
        "drift": lambda: {"pp": float(pick([1, 2, 5])), "measure": str(pick(["total", "position"]))},
    }[kind]()


def rule_set(frame: pd.DataFrame, rng: np.random.Generator) -> list[RuleSpec]:
    last = frame.ffill().iloc[-1].to_numpy()
    rules = []
    for kind in KINDS:
        count = PER_PORTFOLIO_KIND if kind in PORTFOLIO_KINDS else PER_SYMBOL_KIND
        for _ in range(count):
            j, p = int(rng.integers(SYMBOLS)), int(rng.integers(1, PORTFOLIOS + 1))
            fired = float(NOW - rng.uniform(0, 4 * 86_400)) if rng.random() < 0.2 else None
            timing = {"cooldown_seconds": 86_400.0, "last_fired": fired}
            if kind in PORTFOLIO_KINDS:
                rules.append(RuleSpec(len(rules) + 1, kind, portfolio_params(kind, rng), None, p, **timing))
            else:
                params = symbol_params(kind, last[j], rng)
                rules.append(RuleSpec(len(rules) + 1, kind, params, frame.columns[j], None, **timing))
    return rules


# ------------------------------------------------------------------------------------------------ the pandas peer


def peer_rsi(s: pd.Series, period: int) -> float:
    change = s.diff()

    def smoothed(x: pd.Series) -> float:
        x = x.copy()
        x.iloc[period] = x.iloc[1 : period + 1].mean()
        return x.iloc[period:].ewm(alpha=1 / period, adjust=False).mean().iloc[-1]

    gain, loss = smoothed(change.clip(lower=0)), smoothed((-change).clip(lower=0))
    return 100 - 100 / (1 + gain / loss)


def peer_symbol_rule(rule: RuleSpec, frame: pd.DataFrame) -> bool | None:
    p, column = rule.params, frame[rule.symbol]
    s = column.dropna()
    if np.isnan(column.iloc[-1]):
        return None
    if rule.kind == "price_cross":
        if len(s) < 2:
            return None
        before, today, level = s.iloc[-2], s.iloc[-1], p["level"]
        up, down = before < level <= today, before > level >= today
        return {"above": up, "below": down, "either": up or down}[p.get("direction", "either")]
    if rule.kind == "move":
        r = column.pct_change(p["days"], fill_method=None).iloc[-1]
        if np.isnan(r):
            return None
        return {"up": r >= p["pct"], "down": r <= -p["pct"], "either": abs(r) >= p["pct"]}[p["direction"]]
    if rule.kind == "rsi":
        if len(s) <= p["period"]:
            return None
        rsi = peer_rsi(s, p["period"])
        high, low = rsi > p["upper"], rsi < p["lower"]
        return {"above": high, "below": low, "either": high or low}[p["zone"]]
    if len(s) <= p["slow"]:
        return None
    gap = (s.rolling(p["fast"]).mean() - s.rolling(p["slow"]).mean()).iloc[-2:]
    golden, death = gap.iloc[0] < 0 <= gap.iloc[1], gap.iloc[0] > 0 >= gap.iloc[1]
    return {"golden": golden, "death": death, "either": golden or death}[p["direction"]]


def peer_portfolio_rule(rule: RuleSpec, frame: pd.DataFrame, book: PortfolioBook) -> bool | None:
    p, i = rule.params, rule.portfolio_id - 1
    weights = pd.Series(book.weights[i], index=frame.columns)
    if rule.kind == "drawdown":
        values = pd.Series(book.values[:, i])
        return bool((values / values.cummax() - 1).iloc[-1] <= -p["pct"])
    if rule.kind == "daily_loss":
        return bool(book.pnl_today[i] <= -p["amount"]) if "amount" in p else bool(book.return_today[i] <= -p["pct"])
    if rule.kind == "var":
        held = weights[weights != 0]
        returns = frame[held.index].pct_change(fill_method=None).iloc[-p["lookback"] :]
        if returns.isna().any().any():
            return None
        return bool(-np.quantile(returns @ held, 0.05) >= p["pct"])
    if rule.kind == "concentration":
        return bool(weights.max() > p["pct"])
    if np.isnan(book.target_cash[i]):
        return None
    gap = (weights - book.target_weights[i]).abs()
    cash_gap = abs(1 - weights.sum() - book.target_cash[i])
    drift = 50 * (gap.sum() + cash_gap) if p["measure"] == "total" else 100 * max(gap.max(), cash_gap)
    return bool(drift > p["pp"])


def peer_evaluate(rules: list[RuleSpec], frame: pd.DataFrame, book: PortfolioBook) -> list[bool | None]:
    """The straightforward way: each rule on its own with pandas; None = not evaluable."""
    return [
        peer_portfolio_rule(r, frame, book) if r.kind in PORTFOLIO_KINDS else peer_symbol_rule(r, frame) for r in rules
    ]


# ------------------------------------------------------------------------------------------------ report


def main() -> None:
    rng = np.random.default_rng(11)
    frame = market_window(rng)
    book = portfolio_book(frame, rng)
    rules = rule_set(frame, rng)
    market = MarketWindow.from_frame(frame)

    def compile_all():
        return compile_rules(rules, market.symbols, book.portfolio_ids)

    compile_seconds = median_time(compile_all, 3)
    compiled = compile_all()
    assert not compiled.unknown and required_days(compiled) <= DAYS
    ours = median_time(lambda: evaluate(compiled, market, book, NOW))
    print(
        f"{len(rules):,} rules, {SYMBOLS:,} symbols × {DAYS} days, {PORTFOLIOS} portfolios, median of 7 after warm-up:"
    )
    print(f"  {'kind':<14}{'rules':>7}{'evaluate ms':>13}")
    for kind in KINDS:
        subset = [r for r in rules if r.kind == kind]
        part = compile_rules(subset, market.symbols, book.portfolio_ids)
        print(f"  {kind:<14}{len(subset):>7,}{median_time(lambda p=part: evaluate(p, market, book, NOW)) * 1e3:>13.1f}")
    print(f"  {'all':<14}{len(rules):>7,}{ours * 1e3:>13.1f}")

    result = evaluate(compiled, market, book, NOW)
    started = time.perf_counter()
    theirs = peer_evaluate(rules, frame, book)
    peer_seconds = time.perf_counter() - started
    mine = [None if ne else bool(c) for ne, c in zip(result.not_evaluable, result.condition, strict=True)]
    agree = sum(a == b for a, b in zip(mine, theirs, strict=True))
    print(f"  peer (pandas, one rule at a time, one run): {peer_seconds * 1e3:,.0f} ms")
    print(
        f"  verdicts agreeing with the peer: {agree:,} of {len(rules):,} (conditions met {result.condition.sum():,}, "
        f"fired {result.fires.sum():,}, not evaluable {result.not_evaluable.sum():,})"
    )
    met = "met" if ours <= GOAL_SECONDS else "NOT met"
    print(f"  ratio {peer_seconds / ours:,.0f}× · goal ≤ {GOAL_SECONDS * 1e3:.0f} ms: {met}")
    inputs = median_time(lambda: (MarketWindow.from_frame(frame), replace(book)))
    print(f"  compile_rules (validation, packing; once per rule change): {compile_seconds * 1e3:.0f} ms")
    print(f"  building MarketWindow (from a DataFrame) and PortfolioBook with their checks: {inputs * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
