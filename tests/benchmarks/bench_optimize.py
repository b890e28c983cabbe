"""Optimization benchmark (issue 5's targets), PyPortfolioOpt in the same run.

Run from the project root: ``python -m tests.benchmarks.bench_optimize``. Computation against computation:
estimation plus optimization from a prices table already in memory, on both sides. Prices are synthetic but
from a one-factor model on the last 10 years (2,520 days) of real bundled returns (``synthetic_prices``): real
universes share a market factor, so their frontiers have tens of turning points, not one per asset. It reports:
- the 50-point long-only frontier at 500 assets with Ledoit-Wolf: goal ≤ 0.1 s and ≥ 200× PyPortfolioOpt's loop
  (a new EfficientFrontier with Clarabel and ``efficient_return`` per point), the same points within 1e-4;
- HRP at 500 assets: goal ≥ 100× ``pypfopt.HRPOpt``, the same weights within 1e-8;
- max Sharpe at 500 assets: goal ≤ 0.1 s (PyPortfolioOpt with Clarabel beside it);
- the frontier at 1,000 assets: goal ≤ 0.3 s (PyPortfolioOpt's loop beside it).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from pypfopt import EfficientFrontier, HRPOpt, expected_returns, risk_models

from investment_app.analytics.estimators import returns_from_prices
from investment_app.analytics.hrp import hrp
from investment_app.analytics.lab import Spec, frontier_points, optimize
from investment_app.marketdata.bundled import bundled_bars
from tests.benchmarks.bench_analytics import best_of

DAYS = 2520
POINTS = 50


def synthetic_prices(n: int, seed: int = 5) -> pd.DataFrame:
    """``n`` symbols × 10 years from a one-factor model on real data: half of a random bundled stock's daily
    return, plus β × half of SPY's (β uniform in 0.5–1.5), plus normal noise of 0.5–2 % a day."""
    real = bundled_bars().pivot(index="date", columns="symbol", values="adj_close").pct_change(fill_method=None)
    real = real.iloc[-DAYS:]
    stocks, market = real.drop(columns="SPY").dropna(axis=1).to_numpy(), real["SPY"].to_numpy()
    rng = np.random.default_rng(seed)
    beta, noise = rng.uniform(0.5, 1.5, n), rng.uniform(0.005, 0.02, n)
    daily = 0.5 * stocks[:, rng.integers(0, stocks.shape[1], n)] + 0.5 * np.outer(market, beta)
    daily += rng.standard_normal((DAYS, n)) * noise
    index = pd.bdate_range("2014-01-02", periods=DAYS)
    return pd.DataFrame(20 * np.cumprod(1 + daily, axis=0), index=index, columns=[f"S{i:04d}" for i in range(n)])


def pypfopt_frontier(prices: pd.DataFrame, targets: np.ndarray) -> list[float]:
    """PyPortfolioOpt the way its users write a frontier: a new EfficientFrontier per point."""
    mu = expected_returns.mean_historical_return(prices)
    cov = risk_models.CovarianceShrinkage(prices).ledoit_wolf()
    volatilities = []
    for target in targets:
        ef = EfficientFrontier(mu, cov, solver="CLARABEL")
        ef.efficient_return(float(target))
        volatilities.append(ef.portfolio_performance()[1])
    return volatilities


def bench_frontier(n: int, goal_s: float) -> None:
    prices = synthetic_prices(n)
    spec = Spec(risk_model="ledoit_wolf")
    points, _ = frontier_points(prices, spec, POINTS)
    mine = best_of(lambda: frontier_points(prices, spec, POINTS), 5)
    targets = np.array([p["expected_return"] for p in points])[1:-1]  # interior points: a solver needs slack
    started = time.perf_counter()
    theirs_vol = pypfopt_frontier(prices, targets)
    theirs = (time.perf_counter() - started) * POINTS / len(targets)
    gap = np.max(np.abs(np.array([p["volatility"] for p in points])[1:-1] - theirs_vol))
    print(f"frontier, {POINTS} points, {n} assets, Ledoit-Wolf: {mine * 1000:.0f} ms (goal ≤ {goal_s * 1000:.0f} ms)")
    print(
        f"  PyPortfolioOpt loop (Clarabel): {theirs:.1f} s · ratio {theirs / mine:.0f}× · max volatility gap {gap:.1e}"
    )


def bench_hrp(n: int) -> None:
    prices = synthetic_prices(n)
    mine_w = hrp(returns_from_prices(prices)).weights
    mine = best_of(lambda: hrp(returns_from_prices(prices)), 5)

    def peer() -> pd.Series:
        return pd.Series(HRPOpt(expected_returns.returns_from_prices(prices)).optimize())

    theirs = best_of(peer, 1)
    gap = float(np.max(np.abs(mine_w - peer()[mine_w.index])))
    print(f"HRP, {n} assets: {mine * 1000:.0f} ms · HRPOpt {theirs * 1000:.0f} ms · ratio {theirs / mine:.0f}×")
    print(f"  max weight gap {gap:.1e} (goal ≥ 100×, ≤ 1e-8)")


def bench_max_sharpe(n: int) -> None:
    prices = synthetic_prices(n)
    spec = Spec(risk_model="ledoit_wolf")
    mine = best_of(lambda: optimize(prices, spec), 5)

    def peer() -> None:
        mu = expected_returns.mean_historical_return(prices)
        cov = risk_models.CovarianceShrinkage(prices).ledoit_wolf()
        EfficientFrontier(mu, cov, solver="CLARABEL").max_sharpe()

    theirs = best_of(peer, 1)
    print(
        f"max Sharpe, {n} assets: {mine * 1000:.0f} ms (goal ≤ 100 ms) · PyPortfolioOpt/Clarabel {theirs * 1000:.0f} ms"
    )


def main() -> None:
    warnings.filterwarnings("ignore")
    bench_frontier(500, 0.1)
    bench_hrp(500)
    bench_max_sharpe(500)
    bench_frontier(1000, 0.3)


if __name__ == "__main__":
    main()
