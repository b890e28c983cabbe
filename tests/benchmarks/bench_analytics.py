"""Analytics benchmark (issue 4's targets), peers in the same run.

Run from the project root: ``python -m tests.benchmarks.bench_analytics``. It reports:
- every metric, all four VaR methods (95/99 %, 1 and 10 days) and component VaR for a 10-year daily
  portfolio of 500 holdings (synthetic from real bundled returns, see ``bench_ledger.synthetic_prices``)
  against SPY: goal ≤ 0.5 s; peer: the same metrics from QuantStats and empyrical;
- the HTML tearsheet of AAPL against SPY over 10 years: goal ≥ 10× faster than ``quantstats.reports.html``;
- Monte Carlo, 10,000 paths × 252 days × 50 assets: goal ≤ 1 s, in nanoseconds per path-step next to a
  plain-numpy reference (multivariate_normal draws, cumprod, holdings value).
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from investment_app.analytics.projection import project
from investment_app.analytics.risk import component_var, var_table
from investment_app.analytics.summary import summarize
from investment_app.marketdata.bundled import bundled_bars
from investment_app.tearsheet.build import build_tearsheet
from investment_app.tearsheet.html import render_html
from tests.benchmarks.bench_ledger import synthetic_prices

YEARS_DAYS = 2520


def best_of(work: Callable[[], object], repeat: int = 5) -> float:
    """The median of ``repeat`` timings after one warm-up run (seconds)."""
    work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def real_returns(symbols: list[str], days: int = YEARS_DAYS) -> pd.DataFrame:
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")[symbols].dropna()
    closes.index = pd.DatetimeIndex(closes.index)
    return closes.pct_change().iloc[-days:]


def peer_metrics(r: pd.Series, b: pd.Series) -> None:
    """The same figures the way a QuantStats / empyrical user computes them."""
    import empyrical as ep
    import quantstats as qs

    for f in (ep.cum_returns_final, ep.annual_return, ep.annual_volatility, ep.sharpe_ratio, ep.sortino_ratio):
        f(r)
    for f in (ep.downside_risk, ep.calmar_ratio, ep.omega_ratio, ep.max_drawdown, ep.tail_ratio):
        f(r)
    ep.alpha_beta(r, b), ep.up_capture(r, b), ep.down_capture(r, b), ep.excess_sharpe(r, b)
    qs.stats.skew(r), qs.stats.kurtosis(r), qs.stats.ulcer_index(r), qs.stats.win_rate(r)
    qs.stats.r_squared(r, b), qs.stats.information_ratio(r, b), qs.stats.treynor_ratio(r, b)
    qs.stats.monthly_returns(r), qs.stats.drawdown_details(qs.stats.to_drawdown_series(r))
    for confidence in (0.95, 0.99):
        qs.stats.value_at_risk(r, confidence=confidence), qs.stats.conditional_value_at_risk(r, confidence=confidence)


def bench_metrics() -> None:
    prices = synthetic_prices()
    assets = prices.pct_change().iloc[1:]
    weights = np.random.default_rng(7).dirichlet(np.ones(assets.shape[1]))
    portfolio = pd.Series(assets.to_numpy() @ weights, index=assets.index)
    spy = real_returns(["SPY"], len(portfolio))["SPY"].to_numpy()
    benchmark = pd.Series(spy, index=portfolio.index)

    def ours() -> None:
        summarize(portfolio, benchmark)
        var_table(portfolio.to_numpy())
        component_var(assets.to_numpy(), weights, 0.95, 1)

    mine, theirs = best_of(ours), best_of(lambda: peer_metrics(portfolio, benchmark), 3)
    print(f"metrics + 4 VaR methods + component VaR, 500 holdings × {len(portfolio):,} days: {mine * 1000:.0f} ms")
    print(f"  peer (QuantStats + empyrical, fewer figures, no component VaR): {theirs * 1000:.0f} ms")
    print(f"  ratio {theirs / mine:.1f}× · goal ≤ 500 ms: {'met' if mine <= 0.5 else 'NOT met'}")


def bench_tearsheet() -> None:
    import quantstats as qs

    frame = real_returns(["AAPL", "SPY"])
    returns, benchmark = frame["AAPL"].rename("AAPL"), frame["SPY"].rename("SPY")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "qs.html"

        def peer() -> None:
            qs.reports.html(returns, benchmark, output=str(out), title="AAPL")

        mine = best_of(lambda: render_html(build_tearsheet(returns, benchmark, title="AAPL")))
        theirs = best_of(peer, 1)
    print(f"tearsheet HTML, AAPL vs SPY, {len(returns):,} days: {mine * 1000:.0f} ms")
    print(f"  peer quantstats.reports.html: {theirs * 1000:.0f} ms")
    print(f"  ratio {theirs / mine:.1f}× · goal ≥ 10×: {'met' if theirs / mine >= 10 else 'NOT met'}")


def reference_paths(history: np.ndarray, weights: np.ndarray, paths: int, days: int, seed: int) -> np.ndarray:
    """The plain-numpy way: draw every asset-day, compound, value the holdings (final values only)."""
    rng = np.random.default_rng(seed)
    mu, cov = history.mean(axis=0), np.cov(history, rowvar=False)
    draws = rng.multivariate_normal(mu, cov, size=(paths, days))
    return np.cumprod(1 + draws, axis=1) @ weights


def bench_projection() -> None:
    symbols = [s for s in bundled_bars()["symbol"].unique() if s != "SPY"]
    history = real_returns(symbols).dropna(axis=1).to_numpy()
    rng = np.random.default_rng(3)
    history = history[:, rng.integers(0, history.shape[1], 50)] + rng.normal(0, 0.004, (len(history), 50))
    weights = np.full(50, 1 / 50)
    paths, days = 10_000, 252
    steps = paths * days
    mine = best_of(lambda: project(history, weights, 100_000.0, days, n_paths=paths, method="normal", seed=1), 3)
    theirs = best_of(lambda: reference_paths(history, weights, paths, days, 1), 1)
    label = f"Monte Carlo {paths:,} paths × {days} days × 50 assets"
    print(f"{label}: {mine * 1000:.0f} ms ({mine / steps * 1e9:.0f} ns per path-step)")
    print(f"  plain-numpy reference: {theirs * 1000:.0f} ms ({theirs / steps * 1e9:.0f} ns per path-step)")
    print(f"  ratio {theirs / mine:.1f}× · goal ≤ 1 s: {'met' if mine <= 1 else 'NOT met'}")


def main() -> None:
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    bench_metrics()
    bench_tearsheet()
    bench_projection()


if __name__ == "__main__":
    main()
