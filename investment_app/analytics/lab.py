"""The optimization lab's single entry point: prices → estimators → objective → weights and their figures.

``optimize(prices, spec)`` picks the engine an objective needs:
- mean-variance objectives (max Sharpe, min volatility, efficient return or risk, max quadratic utility, and
  Black-Litterman's posterior) under weight bounds alone: the exact critical-line frontier (``frontier``);
  with any other constraint (groups, cash reserve, holdings, turnover, costs, L2): the convex optimiser
  (``constrained``), which also serves min CVaR, min CDaR and min semivariance on historical scenarios;
- HRP (``hrp``) and risk parity (``risk_parity``), which take no constraints beyond their own.
Estimators follow PyPortfolioOpt (``estimators``): returns by ``pct_change`` without dropping partial rows,
annual μ and Σ over ``frequency`` periods, Sharpe = (return − rf) / volatility with an annual rf.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from investment_app.analytics.black_litterman import View, black_litterman, market_implied_risk_aversion
from investment_app.analytics.constrained import ConstrainedOptimizer, OptimalPortfolio
from investment_app.analytics.constraints import Constraints, require_consistent
from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.estimators import (
    RETURN_ESTIMATORS,
    RISK_ESTIMATORS,
    performance,
    returns_from_prices,
)
from investment_app.analytics.frontier import EfficientPortfolio, Frontier
from investment_app.analytics.hrp import LINKAGE_METHODS, hrp
from investment_app.analytics.risk_parity import risk_parity

MEAN_VARIANCE = ("max_sharpe", "min_volatility", "efficient_return", "efficient_risk", "max_quadratic_utility")
SCENARIO = {"min_cvar": "mean_cvar", "min_cdar": "mean_cdar", "min_semivariance": "mean_semivariance"}
OBJECTIVES = (*MEAN_VARIANCE, "hrp", *SCENARIO, "risk_parity", "black_litterman")


@dataclass(frozen=True)
class Spec:
    """What to optimise and how to estimate it (PyPortfolioOpt's defaults)."""

    objective: str = "max_sharpe"
    returns_model: str = "mean_historical"
    risk_model: str = "sample"
    risk_free_rate: float = 0.0
    frequency: int = 252
    target_return: float | None = None
    target_volatility: float | None = None
    risk_aversion: float = 1.0
    linkage: str = "single"
    cvar_beta: float = 0.95
    constraints: Constraints = field(default_factory=Constraints)
    views: tuple[View, ...] = ()
    market_caps: dict[str, float] | None = None

    def check(self) -> None:
        """Refuse unknown names and missing targets, naming the option."""
        for value, allowed, name in (
            (self.objective, OBJECTIVES, "objective"),
            (self.returns_model, RETURN_ESTIMATORS, "returns model"),
            (self.risk_model, RISK_ESTIMATORS, "risk model"),
            (self.linkage, LINKAGE_METHODS, "linkage"),
        ):
            if value not in allowed:
                raise AnalyticsError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
        if self.objective == "efficient_return" and self.target_return is None:
            raise AnalyticsError("efficient_return needs a target return")
        if self.objective == "efficient_risk" and self.target_volatility is None:
            raise AnalyticsError("efficient_risk needs a target volatility")
        if self.objective == "black_litterman" and not self.views:
            raise AnalyticsError("Black-Litterman needs at least one view")

    @property
    def bounds_only(self) -> bool:
        """True when the constraints are weight bounds (and a max weight) only: the exact frontier applies."""
        c = self.constraints
        return not (c.groups or c.cash or c.max_holdings or c.max_turnover is not None or c.cost_bps or c.l2_gamma)


@dataclass(frozen=True)
class Estimates:
    """Annual expected returns and covariance, the periodic returns they came from, and what was used."""

    mu: pd.Series
    cov: pd.DataFrame
    returns: pd.DataFrame
    used: dict[str, object]


@dataclass(frozen=True)
class LabResult:
    """Weights (symbol → fraction of the portfolio; they sum to 1 − cash) and their annual figures."""

    objective: str
    weights: pd.Series
    cash: float
    expected_return: float
    volatility: float
    sharpe: float
    risk: dict[str, float]
    risk_contributions: pd.Series
    estimates: Estimates
    notes: tuple[str, ...] = ()


def estimate(prices: pd.DataFrame, spec: Spec, market_prices: pd.Series | None = None) -> Estimates:
    """μ and Σ of ``prices`` by the spec's estimators (CAPM uses ``market_prices`` when given)."""
    spec.check()
    extra = (
        {"market_prices": market_prices, "risk_free_rate": spec.risk_free_rate} if spec.returns_model == "capm" else {}
    )
    mu = RETURN_ESTIMATORS[spec.returns_model](prices, frequency=spec.frequency, **extra)
    cov = RISK_ESTIMATORS[spec.risk_model](prices, frequency=spec.frequency)
    used = {
        "expected_returns": spec.returns_model,
        "risk_model": spec.risk_model,
        "frequency": spec.frequency,
        "risk_free_rate": spec.risk_free_rate,
        "start": prices.index[0].date().isoformat(),
        "end": prices.index[-1].date().isoformat(),
        "periods": len(prices),
    }
    if cov.attrs.get("psd_fix"):
        used["covariance_fix"] = cov.attrs["psd_fix"]
    return Estimates(mu, cov, returns_from_prices(prices), used)


def _upper(spec: Spec, symbols: pd.Index) -> np.ndarray:
    c = spec.constraints
    upper = pd.Series(c.bounds[1], index=symbols, dtype=float)
    lower = pd.Series(c.bounds[0], index=symbols, dtype=float)
    for symbol, (lo, hi) in c.asset_bounds.items():
        lower[symbol], upper[symbol] = lo, hi
    if c.max_weight is not None:
        upper = upper.clip(upper=c.max_weight)
    return lower.to_numpy(), upper.to_numpy()


def exact_frontier(mu: pd.Series, cov: pd.DataFrame, spec: Spec) -> Frontier:
    """The critical-line frontier under the spec's weight bounds (``bounds_only`` specs); contradictory bounds
    are refused first by ``constraints.require_consistent``, which names them."""
    require_consistent(spec.constraints.resolve(list(mu.index)))
    return Frontier(mu, cov, _upper(spec, mu.index))


def mean_variance(est: Estimates, spec: Spec, objective: str) -> OptimalPortfolio | EfficientPortfolio:
    """A mean-variance objective on given estimates: the exact frontier under bounds, else the convex optimiser."""
    rf = spec.risk_free_rate
    if spec.bounds_only:
        f = exact_frontier(est.mu, est.cov, spec)
        solve = {
            "max_sharpe": lambda: f.max_sharpe(rf),
            "min_volatility": lambda: f.min_volatility(rf),
            "efficient_return": lambda: f.efficient_return(spec.target_return, rf),
            "efficient_risk": lambda: f.efficient_risk(spec.target_volatility, rf),
            "max_quadratic_utility": lambda: f.max_quadratic_utility(spec.risk_aversion, rf),
        }
        return solve[objective]()
    opt = ConstrainedOptimizer.mean_variance(est.mu, est.cov, spec.constraints, rf)
    solve = {
        "max_sharpe": opt.max_sharpe,
        "min_volatility": opt.min_risk,
        "efficient_return": lambda: opt.efficient_return(spec.target_return),
        "efficient_risk": lambda: opt.efficient_risk(spec.target_volatility),
        "max_quadratic_utility": lambda: opt.max_utility(spec.risk_aversion),
    }
    return solve[objective]()


def _scenario(est: Estimates, spec: Spec) -> OptimalPortfolio:
    make = getattr(ConstrainedOptimizer, SCENARIO[spec.objective])
    extra = {"beta": spec.cvar_beta} if spec.objective != "min_semivariance" else {}
    scenarios = est.returns.dropna()
    opt = make(
        est.mu, scenarios, spec.constraints, risk_free_rate=spec.risk_free_rate, frequency=spec.frequency, **extra
    )
    portfolio = opt.efficient_return(spec.target_return) if spec.target_return is not None else opt.min_risk()
    note = f"scenarios: the {len(scenarios):,} periods in which every asset has a return"
    return dataclasses.replace(portfolio, notes=(*portfolio.notes, note))


def _without_constraints(spec: Spec, name: str) -> None:
    if spec.constraints != Constraints() and spec.constraints != Constraints(bounds=spec.constraints.bounds):
        raise AnalyticsError(f"{name} takes no constraints beyond long-only weights; remove the others")


def _black_litterman(est: Estimates, spec: Spec, market_prices: pd.Series | None) -> tuple[Estimates, list[str]]:
    if market_prices is None:
        raise AnalyticsError("Black-Litterman needs the market's prices for its risk aversion")
    delta = market_implied_risk_aversion(market_prices, spec.frequency, spec.risk_free_rate)
    caps = pd.Series(spec.market_caps, dtype=float) if spec.market_caps else None
    bl = black_litterman(est.cov, spec.views, delta, caps, risk_free_rate=spec.risk_free_rate)
    note = f"Black-Litterman prior: {bl.prior_source}, δ = {delta:.2f} implied by the market; views: " + "; ".join(
        map(str, spec.views)
    )
    used = {**est.used, "expected_returns": "black_litterman posterior", "risk_model": "black_litterman posterior"}
    return Estimates(bl.returns, bl.cov, est.returns, used), [note]


def _result(est: Estimates, spec: Spec, weights: pd.Series, cash: float, risk: dict, notes) -> LabResult:
    w = weights.reindex(est.mu.index).fillna(0.0)
    w[w.abs() < 1e-12] = 0.0  # solver round-off, not a position
    ret, vol, sharpe = performance(w, est.mu, est.cov, spec.risk_free_rate)
    ret += cash * spec.risk_free_rate
    sharpe = (ret - spec.risk_free_rate) / vol
    marginal = est.cov.to_numpy() @ w.to_numpy()
    contributions = pd.Series(w.to_numpy() * marginal / vol**2, index=w.index)
    return LabResult(spec.objective, w, cash, ret, vol, sharpe, risk, contributions, est, tuple(notes))


def optimize(prices: pd.DataFrame, spec: Spec, market_prices: pd.Series | None = None) -> LabResult:
    """The spec's portfolio of the columns of ``prices`` (dates × symbols, NaN before a listing)."""
    est = estimate(prices, spec, market_prices)
    notes: list[str] = []
    objective = spec.objective
    if objective == "black_litterman":
        est, notes = _black_litterman(est, spec, market_prices)
        objective = "max_sharpe"
    if objective in MEAN_VARIANCE:
        p = mean_variance(est, spec, objective)
        cash = getattr(p, "cash", 0.0)
        weights = p.weights if isinstance(p.weights, pd.Series) else pd.Series(p.weights, index=est.mu.index)
        return _result(est, spec, weights, cash, {}, [*notes, *getattr(p, "notes", ())])
    if objective in SCENARIO:
        p = _scenario(est, spec)
        return _result(est, spec, p.weights, p.cash, {p.risk_measure: p.risk}, p.notes)
    if objective == "hrp":
        _without_constraints(spec, "HRP")
        return _result(est, spec, hrp(est.returns, spec.linkage).weights, 0.0, {}, [f"linkage: {spec.linkage}"])
    _without_constraints(spec, "Risk parity")
    rp = risk_parity(est.cov, bounds=spec.constraints.bounds)
    return _result(est, spec, rp.weights, 0.0, {}, ["equal risk contributions (Spinu's convex formulation)"])


def efficient_frontier(est: Estimates, spec: Spec, points: int = 50) -> list[tuple[float, float, float, np.ndarray]]:
    """(expected return, volatility, Sharpe, weights in μ's order) of ``points`` efficient portfolios from the
    min-volatility to the max-return one, on given estimates."""
    if points < 2:
        raise AnalyticsError(f"a frontier needs at least 2 points (got {points})")
    if spec.bounds_only:
        rows = exact_frontier(est.mu, est.cov, spec).points(points, spec.risk_free_rate)
        return [(p.expected_return, p.volatility, p.sharpe, p.weights) for p in rows]
    f = ConstrainedOptimizer.mean_variance(est.mu, est.cov, spec.constraints, spec.risk_free_rate).frontier(points)
    return [
        (row.expected_return, row.volatility, row.sharpe, f.weights.iloc[i].to_numpy())
        for i, row in enumerate(f.points.itertuples())
    ]


def frontier_points(prices: pd.DataFrame, spec: Spec, points: int = 50) -> tuple[list[dict], Estimates]:
    """The efficient frontier of ``prices`` as plain dicts (weights by symbol, zeros left out), and the estimates."""
    est = estimate(prices, spec)
    symbols = list(est.mu.index)
    return [
        {
            "expected_return": float(r),
            "volatility": float(v),
            "sharpe": float(s),
            "weights": {sym: float(x) for sym, x in zip(symbols, w, strict=True) if abs(x) > 1e-10},
        }
        for r, v, s, w in efficient_frontier(est, spec, points)
    ], est
