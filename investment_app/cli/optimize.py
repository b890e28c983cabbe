"""`optimize`, `frontier` and `allocate`: the optimization lab on a prices CSV (dates × symbols).

Each prints one JSON object; `optimize` and `frontier` add `timings` measured inside the process: `load_s`
(reading and parsing the file) and `compute_s` (estimation and optimization).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from investment_app.analytics.allocation import allocate, latest_prices
from investment_app.analytics.black_litterman import market_caps_from_text, views_from_text
from investment_app.analytics.constraints import Constraints
from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.estimators import RETURN_ESTIMATORS, RISK_ESTIMATORS
from investment_app.analytics.hrp import LINKAGE_METHODS
from investment_app.analytics.lab import OBJECTIVES, Spec, frontier_points, optimize
from investment_app.analytics.series_csv import read_table


def _bounds(text: str) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH such as 0,1 or -1,1 (got {text!r})") from None
    return low, high


def _estimator_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prices", type=Path, required=True, help="CSV: dates, then one column of prices per symbol")
    parser.add_argument("--returns-model", choices=list(RETURN_ESTIMATORS), default="mean_historical")
    parser.add_argument("--risk-model", choices=list(RISK_ESTIMATORS), default="sample")
    parser.add_argument("--risk-free-rate", type=float, default=0.0, help="annual, e.g. 0.02 (default 0)")
    parser.add_argument("--frequency", type=int, default=252, help="periods per year (default 252)")
    parser.add_argument("--weight-bounds", type=_bounds, default=(0.0, 1.0), help="LOW,HIGH per asset (default 0,1)")
    parser.add_argument("--max-weight", type=float, help="cap on every asset's weight")
    parser.add_argument("--cash-reserve", type=float, default=0.0, help="fraction kept in cash")
    parser.add_argument("--max-holdings", type=int, help="at most this many assets (a documented heuristic)")
    parser.add_argument("--l2-gamma", type=float, default=0.0, help="L2 regularisation")
    parser.add_argument("--market-prices", type=Path, help="CSV of the market's prices (CAPM, Black-Litterman)")


def register(commands: argparse._SubParsersAction) -> None:
    opt = commands.add_parser("optimize", help="an optimal portfolio of the symbols in a prices CSV, as JSON")
    _estimator_arguments(opt)
    opt.add_argument("--objective", choices=OBJECTIVES, default="max_sharpe")
    opt.add_argument("--target-return", type=float)
    opt.add_argument("--target-volatility", type=float)
    opt.add_argument("--risk-aversion", type=float, default=1.0)
    opt.add_argument("--linkage", choices=LINKAGE_METHODS, default="single", help="HRP's linkage (default single)")
    opt.add_argument("--cvar-beta", type=float, default=0.95, help="confidence of min_cvar and min_cdar")
    opt.add_argument("--views", default="", help="Black-Litterman views, ';'-separated: 'AAPL 10%% @ 60%%'")
    opt.add_argument("--market-caps", default="", help="Black-Litterman prior: 'AAPL=2.9T,MA=410B' (default equal)")
    opt.set_defaults(handler=run_optimize)

    front = commands.add_parser("frontier", help="points of the efficient frontier, as JSON")
    _estimator_arguments(front)
    front.add_argument("--points", type=int, default=50)
    front.set_defaults(handler=run_frontier)

    alloc = commands.add_parser("allocate", help="whole or fractional shares for a cash amount, as JSON")
    alloc.add_argument("--prices", type=Path, required=True, help="CSV of prices; the latest row is used")
    alloc.add_argument("--weights", type=Path, required=True, help="JSON: symbol → weight (or optimize's output)")
    alloc.add_argument("--cash", type=float, required=True)
    alloc.add_argument("--fractional", action="store_true", help="fractional shares (default: whole shares)")
    alloc.add_argument("--method", choices=("greedy", "lp"), default="greedy", help="for whole shares")
    alloc.set_defaults(handler=run_allocate)


def _spec(args: argparse.Namespace, **extra: object) -> Spec:
    constraints = Constraints(
        bounds=args.weight_bounds,
        max_weight=args.max_weight,
        cash=args.cash_reserve,
        max_holdings=args.max_holdings,
        l2_gamma=args.l2_gamma,
    )
    return Spec(
        returns_model=args.returns_model,
        risk_model=args.risk_model,
        risk_free_rate=args.risk_free_rate,
        frequency=args.frequency,
        constraints=constraints,
        **extra,
    )


def _load(args: argparse.Namespace):
    started = time.perf_counter()
    prices = read_table(args.prices, "prices")
    market = read_table(args.market_prices, "prices").iloc[:, 0].dropna() if args.market_prices else None
    return prices, market, time.perf_counter() - started


@contextlib.contextmanager
def _solver_output_silenced():
    """Send file descriptor 1 to /dev/null while solvers run: HiGHS prints progress lines to it, which would
    break the one-JSON-object output."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _print(payload: dict) -> int:
    print(json.dumps(payload, indent=2, allow_nan=False, default=str))
    return 0


def run_optimize(args: argparse.Namespace) -> int:
    prices, market, load_s = _load(args)
    started = time.perf_counter()
    spec = _spec(
        args,
        objective=args.objective,
        target_return=args.target_return,
        target_volatility=args.target_volatility,
        risk_aversion=args.risk_aversion,
        linkage=args.linkage,
        cvar_beta=args.cvar_beta,
        views=tuple(views_from_text(args.views.replace(";", "\n"), prices.columns)) if args.views else (),
        market_caps=market_caps_from_text(args.market_caps, list(prices.columns)),
    )
    with _solver_output_silenced():
        result = optimize(prices, spec, market)
    compute_s = time.perf_counter() - started
    (measure, risk), *_ = [*result.risk.items(), (None, None)]
    return _print(
        {
            "objective": result.objective,
            "weights": {s: float(w) for s, w in result.weights.items()},
            "cash": result.cash,
            "expected_return": result.expected_return,
            "volatility": result.volatility,
            "sharpe": result.sharpe,
            "risk": risk,
            "risk_measure": measure,
            "risk_contributions": {s: float(c) for s, c in result.risk_contributions.items()},
            "estimators": result.estimates.used,
            "notes": list(result.notes),
            "timings": {"load_s": round(load_s, 6), "compute_s": round(compute_s, 6)},
        }
    )


def run_frontier(args: argparse.Namespace) -> int:
    prices, _, load_s = _load(args)
    started = time.perf_counter()
    with _solver_output_silenced():
        points, est = frontier_points(prices, _spec(args), args.points)
    compute_s = time.perf_counter() - started
    return _print(
        {
            "points": points,
            "estimators": est.used,
            "timings": {"load_s": round(load_s, 6), "compute_s": round(compute_s, 6)},
        }
    )


def _weights(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AnalyticsError(f"{path}: not a readable JSON file ({exc})") from None
    weights = data.get("weights", data) if isinstance(data, dict) else None
    if not isinstance(weights, dict) or not all(isinstance(v, int | float) for v in weights.values()):
        raise AnalyticsError(f"{path} must hold a JSON object of symbol → weight (or optimize's output)")
    return weights


def run_allocate(args: argparse.Namespace) -> int:
    import pandas as pd

    weights = pd.Series(_weights(args.weights), dtype=float)
    prices = latest_prices(read_table(args.prices, "prices"))
    method = "fractional" if args.fractional else args.method
    with _solver_output_silenced():
        result = allocate(weights, prices, args.cash, method)
    return _print(
        {
            "shares": {s: float(n) for s, n in result.shares.items()},
            "leftover": result.leftover,
            "method": result.method,
            "prices": {s: float(prices[s]) for s in result.shares.index},
        }
    )
