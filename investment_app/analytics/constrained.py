"""Constrained portfolio optimisation with cvxpy: mean-variance, mean-CVaR, mean-CDaR, mean-semivariance.

One ``ConstrainedOptimizer`` holds expected returns μ (annual), a risk measure and ``Constraints``. Each of its
problems (min risk, efficient return, efficient risk, max utility, max Sharpe, max return) is built and compiled
once, on first use; what varies — the target return, target risk, risk aversion, and the bounds the max-holdings
heuristic narrows — is a ``cp.Parameter``, so a 50-point frontier re-solves one compiled problem (warm-started
where the solver supports it) instead of compiling 50.

Formulations (w: asset weights, Σ w = b = 1 − cash; see ``constraints`` for the feasible set):

- min risk: min ρ(w) + P(w); efficient return: the same with μᵀw + c·r_f ≥ target; efficient risk:
  max μᵀw − P(w) with the risk figure ≤ target (ρ ≤ target² for volatility and semideviation, as pypfopt);
  max utility: max μᵀw − δ/2·ρ(w) − P(w) (pypfopt's quadratic utility for variance and semivariance);
  max return: max μᵀw.
  P(w) = k‖w − w0‖₁ + γ‖w‖² (transaction cost, L2), added to the objective as pypfopt's ``add_objective``.
- ρ for ``variance``: wᵀΣw (pypfopt ``EfficientFrontier``), reported as volatility √(wᵀΣw).
  ``cvar``: Rockafellar & Uryasev (2000): min_α α + Σ_t u_t / (T(1−β)), u_t ≥ −r_tᵀw − α, u ≥ 0
  (pypfopt ``EfficientCVaR``), a per-period loss (0.02 = 2 %). ``cdar``: Chekhlov, Uryasev & Zabarankin (2005)
  on drawdowns of the uncompounded cumulative return Σ_s r_sᵀw, u_t ≥ u_{t−1} − r_tᵀw, u_0 = 0, u ≥ 0,
  min_α α + Σ z_t / (T(1−β)), z_t ≥ u_t − α, z ≥ 0 (pypfopt ``EfficientCDaR``), per-period units.
  ``semivariance``: Estrada's semivariance f/T·Σ_t min((r_t − B)ᵀw, 0)² with (r_t − B)ᵀw/√T = p_t − n_t,
  p, n ≥ 0 (pypfopt ``EfficientSemivariance``, which minimises it ÷ f), reported as the annual semideviation;
  B is subtracted per asset, so with a cash reserve the threshold is B·(1 − cash).
- max Sharpe (variance only): Cornuéjols & Tütüncü's change of variables y = κw, κ ≥ 0: min yᵀΣy + γ‖y‖²
  s.t. (μ − r_f)ᵀy − k‖y − κw0‖₁ ≥ 1 (tight at the optimum) with every linear constraint scaled by κ (pypfopt's
  ``max_sharpe``, which writes = 1).
  Cash earning r_f cancels: excess return = (μ − r_f)ᵀw. With γ > 0 it maximises (μ − r_f)ᵀw / √(wᵀ(Σ+γI)w),
  as pypfopt's ``max_sharpe`` with ``L2_reg`` does; with a cost it maximises the net-of-cost Sharpe ratio
  (pypfopt adds k‖y − w0‖₁ to the scaled objective instead, which has no such reading).
- Max holdings K: no mixed-integer solver is installed, so a heuristic (backward elimination): solve; while
  more than K assets are held, drop the smallest half of the excess holdings (at least one) and re-solve on the
  rest; if that is infeasible, drop fewer, then the next-smallest single holding instead. Assets with a
  non-zero minimum are never dropped. It meets K but may miss the best K-asset portfolio; the result says so.

Every returned portfolio passes ``constraints.violations`` (else ``AnalyticsError``). Infeasible problems raise
``AnalyticsError`` naming the constraints in conflict: the cheap pre-check first, then ``diagnose``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import pandas as pd

from investment_app.analytics.constraints import (
    TOLERANCE,
    ConstraintArrays,
    Constraints,
    pct,
    require_consistent,
    violations,
)
from investment_app.analytics.errors import AnalyticsError, InsufficientData

# Clarabel (interior point, tolerances tightened from 1e-8 so weights are accurate to ~1e-6) for QP/SOCP; linear
# programs (CVaR, CDaR, max return, feasibility) go to HiGHS's interior point with crossover, 2-3× faster on
# dense scenario matrices, and exact at a vertex.
CLARABEL = {"solver": "CLARABEL", "tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9}
HIGHS = {"solver": "HIGHS", "highs_options": {"solver": "ipm"}}
LONG_ONLY = Constraints()  # the default: 0 ≤ w ≤ 1, Σ w = 1, nothing else
_SOLVED = ("optimal", "optimal_inaccurate")
_INFEASIBLE = ("infeasible", "infeasible_inaccurate")


@dataclass(frozen=True)
class OptimalPortfolio:
    """An optimiser's answer. ``weights`` sum to 1 − ``cash``; ``expected_return`` = μᵀw + cash·r_f;
    ``volatility`` √(wᵀΣw) (scenario measures: the sample standard deviation of the scenario returns r_tᵀw × √f,
    pypfopt's ``sample_cov``); ``sharpe`` = (return − r_f) / volatility; ``risk`` the measure's own figure."""

    objective: str
    weights: pd.Series
    cash: float
    expected_return: float
    volatility: float
    sharpe: float
    risk: float
    risk_measure: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frontier:
    """``points``: expected_return, volatility, sharpe, risk per point (rising target return); ``weights``: one
    row per point."""

    points: pd.DataFrame
    weights: pd.DataFrame
    notes: tuple[str, ...]


def _tail_mean(losses: np.ndarray, beta: float) -> float:
    """Rockafellar-Uryasev CVaR: min_α α + mean((L − α)⁺)/(1 − β), attained at α = the ⌈βT⌉-th smallest loss."""
    k = min(math.ceil(beta * losses.size) - 1, losses.size - 1)
    alpha = np.partition(losses, k)[k]
    return float(alpha + np.maximum(losses - alpha, 0).mean() / (1 - beta))


class _Variance:
    """ρ = wᵀΣw (annual variance); the risk figure is volatility √ρ, so a target σ bounds ρ ≤ σ²."""

    label, objective, power = "volatility", "min_volatility", 2

    def __init__(self, cov: np.ndarray) -> None:
        self.cov = cov

    def build(self, w: cp.Variable) -> tuple[cp.Expression, list[cp.Constraint]]:
        """(ρ to minimise, auxiliary constraints)."""
        return cp.quad_form(w, self.cov, assume_PSD=True), []

    def value(self, w: np.ndarray) -> float:
        """√(wᵀΣw)."""
        return math.sqrt(max(float(w @ self.cov @ w), 0.0))

    volatility = value


class _Scenarios:
    """Risk measures over historical return scenarios R (T × n, per period, f periods a year)."""

    def __init__(self, returns: np.ndarray, frequency: float, beta: float = 0.95, benchmark: float = 0.0) -> None:
        self.returns, self.frequency, self.beta, self.benchmark = returns, frequency, beta, benchmark

    def volatility(self, w: np.ndarray) -> float:
        """Sample standard deviation (ddof 1) of r_tᵀw × √f: √(wᵀ S w) with pypfopt's ``sample_cov`` S."""
        return float(np.std(self.returns @ w, ddof=1) * math.sqrt(self.frequency))

    def _tail(self, scale: int) -> tuple[cp.Variable, cp.Variable, cp.Expression]:
        """α and the Rockafellar-Uryasev objective α + Σ v / (T(1−β)) for T = ``scale`` tail variables v."""
        alpha, excess = cp.Variable(), cp.Variable(scale, nonneg=True)
        return alpha, excess, alpha + cp.sum(excess) / (scale * (1 - self.beta))


class _CVaR(_Scenarios):
    """Conditional value at risk of the scenario losses (Rockafellar & Uryasev 2000)."""

    label, objective, power = "CVaR", "min_cvar", 1

    def build(self, w: cp.Variable) -> tuple[cp.Expression, list[cp.Constraint]]:
        """u_t ≥ −r_tᵀw − α, u ≥ 0; ρ = α + Σu/(T(1−β))."""
        alpha, u, cvar = self._tail(self.returns.shape[0])
        return cvar, [u >= -(self.returns @ w) - alpha]

    def value(self, w: np.ndarray) -> float:
        """CVaR_β of the losses −r_tᵀw."""
        return _tail_mean(-(self.returns @ w), self.beta)


class _CDaR(_Scenarios):
    """Conditional drawdown at risk of the uncompounded cumulative return (Chekhlov, Uryasev & Zabarankin 2005)."""

    label, objective, power = "CDaR", "min_cdar", 1

    def build(self, w: cp.Variable) -> tuple[cp.Expression, list[cp.Constraint]]:
        """Drawdowns u_t ≥ u_{t−1} − r_tᵀw, u_0 = 0, u ≥ 0; z_t ≥ u_t − α; ρ = α + Σz/(T(1−β))."""
        alpha, z, cdar = self._tail(self.returns.shape[0])
        u = cp.Variable(self.returns.shape[0], nonneg=True)
        previous = cp.hstack([np.zeros(1), u[:-1]])
        return cdar, [z >= u - alpha, u >= previous - self.returns @ w]

    def value(self, w: np.ndarray) -> float:
        """CVaR_β of the drawdowns max_{s≤t} C_s − C_t of C_t = Σ_{s≤t} r_sᵀw, C_0 = 0."""
        wealth = np.concatenate([[0.0], np.cumsum(self.returns @ w)])
        return _tail_mean((np.maximum.accumulate(wealth) - wealth)[1:], self.beta)


class _Semivariance(_Scenarios):
    """Semivariance below a per-period benchmark (Estrada 2007; Markowitz 1959)."""

    label, objective, power = "semideviation", "min_semivariance", 2

    def build(self, w: cp.Variable) -> tuple[cp.Expression, list[cp.Constraint]]:
        """(R − B)w/√T = p − n, p, n ≥ 0; ρ = f‖n‖² (annual semivariance; its root is the risk figure)."""
        count = self.returns.shape[0]
        p, n = cp.Variable(count, nonneg=True), cp.Variable(count, nonneg=True)
        scaled = (self.returns - self.benchmark) / math.sqrt(count)
        return self.frequency * cp.sum_squares(n), [scaled @ w == p - n]

    def value(self, w: np.ndarray) -> float:
        """√(f · mean(min((r_t − B)ᵀw, 0)²))."""
        drops = np.minimum((self.returns - self.benchmark) @ w, 0)
        return math.sqrt(self.frequency * float(np.mean(drops**2)))


Bound = np.ndarray | cp.Parameter | None


Measure = _Variance | _CVaR | _CDaR | _Semivariance
Compiled = tuple[cp.Problem, Callable[[], np.ndarray], cp.Parameter | None]  # problem, its weights, its parameter


def _linear(
    w: cp.Expression,
    a: ConstraintArrays,
    lower: Bound,
    upper: Bound,
    kappa: float | cp.Variable = 1.0,
    relax: frozenset[str] = frozenset(),
) -> list[cp.Constraint]:
    """The linear feasible set, each right-hand side × ``kappa`` (1, or the max-Sharpe scale): lower ≤ w ≤ upper
    (``None``: none), Σ w = b (1 if "cash" is relaxed), group floors and caps, turnover ‖w − κw0‖₁ ≤ κT.
    ``relax`` drops families by key (see ``_families``)."""
    c = a.constraints
    out = [cp.sum(w) == (1.0 if "cash" in relax else c.budget) * kappa]
    out += [] if lower is None else [w >= lower * kappa]
    out += [] if upper is None else [w <= upper * kappa]
    floors = [i for i, g in enumerate(a.group_names) if f"floor:{g}" not in relax]
    caps = [i for i, g in enumerate(a.group_names) if f"cap:{g}" not in relax]
    out += [a.group_matrix[floors] @ w >= a.floors[floors] * kappa] if floors else []
    out += [a.group_matrix[caps] @ w <= a.caps[caps] * kappa] if caps else []
    if c.max_turnover is not None and "turnover" not in relax:
        out.append(cp.norm1(w - kappa * a.current) <= c.max_turnover * kappa)
    return out


def _families(a: ConstraintArrays, keep: np.ndarray | None) -> dict[str, str]:
    """Constraint families that can be relaxed one at a time → how a message names them."""
    c = a.constraints
    out = {
        "bounds": f"weight bounds {pct(c.bounds[0])} to {pct(c.bounds[1])}"
        + (" and per-asset bounds" if c.asset_bounds else "")
    }
    if c.max_weight is not None:
        out["max weight"] = f"max weight {pct(c.max_weight)} per asset"
    if c.cash > 0:
        out["cash"] = f"cash reserve {pct(c.cash)}"
    if c.max_turnover is not None:
        out["turnover"] = f"max turnover {pct(c.max_turnover)}"
    for g, floor, cap in zip(a.group_names, a.floors, a.caps, strict=True):
        out |= {f"floor:{g}": f"floor of {g} {pct(floor)}"} if floor > 0 else {}
        out |= {f"cap:{g}": f"cap of {g} {pct(cap)}"} if cap < 1 else {}
    if keep is not None:
        out["holdings"] = f"max holdings {c.max_holdings} (on the {int(keep.sum())} assets the heuristic kept)"
    return out


def _feasible(a: ConstraintArrays, relax: frozenset[str], keep: np.ndarray | None) -> bool:
    """Whether the linear feasible set (minus the ``relax`` families; ``keep``: assets allowed non-zero) is
    non-empty, by a zero-objective solve."""
    w = cp.Variable(len(a.tickers))
    lower = None if "bounds" in relax else a.lower
    uppers = ([] if "bounds" in relax else [a.bound_upper]) + (
        [] if "max weight" in relax or a.constraints.max_weight is None else [np.full(w.size, a.constraints.max_weight)]
    )
    upper = np.minimum.reduce(uppers) if uppers else None
    cons = _linear(w, a, lower, upper, relax=relax)
    if keep is not None and "holdings" not in relax and not keep.all():
        cons.append(w[np.flatnonzero(~keep)] == 0)
    problem = cp.Problem(cp.Minimize(0), cons)
    problem.solve(**HIGHS)
    return problem.status in _SOLVED


def diagnose(a: ConstraintArrays, keep: np.ndarray | None = None) -> str:
    """Why the constraints admit no portfolio: relax each family alone (bounds, max weight, cash reserve,
    turnover, each group floor and cap, max holdings when ``keep`` restricts the assets) and name those whose
    removal restores feasibility."""
    families = _families(a, keep)
    culprits = [label for key, label in families.items() if _feasible(a, frozenset({key}), keep)]
    if culprits:
        return "the constraints cannot all hold; removing any one of these restores feasibility: " + ", ".join(culprits)
    return "the constraints cannot all hold, and no single one is to blame; together they conflict: " + ", ".join(
        families.values()
    )


class ConstrainedOptimizer:
    """Optimise over a universe (μ's index) under ``Constraints`` with one risk measure; use the ``mean_*``
    constructors. Methods return ``OptimalPortfolio``; ``frontier`` a ``Frontier``."""

    def __init__(self, mu: pd.Series, measure: Measure, constraints: Constraints, risk_free_rate: float = 0.0) -> None:
        self.mu, self.measure, self.rf = mu.to_numpy(dtype=float), measure, float(risk_free_rate)
        self.tickers, self.arrays = list(mu.index), constraints.resolve(list(mu.index))
        require_consistent(self.arrays)
        n = len(self.tickers)
        self._w, self._lower, self._upper = cp.Variable(n), cp.Parameter(n), cp.Parameter(n)
        self._rho, self._aux = measure.build(self._w)
        self._problems: dict[str, Compiled] = {}

    @classmethod
    def mean_variance(
        cls, mu: pd.Series, cov: pd.DataFrame, constraints: Constraints = LONG_ONLY, risk_free_rate: float = 0.0
    ) -> ConstrainedOptimizer:
        """Mean-variance with annual μ and Σ (pypfopt's ``EfficientFrontier``)."""
        _check_mu(mu, risk_free_rate)
        return cls(mu, _Variance(_check_cov(cov, mu)), constraints, risk_free_rate)

    @classmethod
    def mean_cvar(
        cls,
        mu: pd.Series,
        returns: pd.DataFrame,
        constraints: Constraints = LONG_ONLY,
        beta: float = 0.95,
        risk_free_rate: float = 0.0,
        frequency: int = 252,
    ) -> ConstrainedOptimizer:
        """Mean-CVaR over per-period return scenarios at confidence β (pypfopt's ``EfficientCVaR``)."""
        scenarios = _check_returns(returns, mu, frequency, f"CVaR at β = {beta}", _tail_rows(beta))
        return cls(mu, _CVaR(scenarios, frequency, beta), constraints, risk_free_rate)

    @classmethod
    def mean_cdar(
        cls,
        mu: pd.Series,
        returns: pd.DataFrame,
        constraints: Constraints = LONG_ONLY,
        beta: float = 0.95,
        risk_free_rate: float = 0.0,
        frequency: int = 252,
    ) -> ConstrainedOptimizer:
        """Mean-CDaR over per-period return scenarios at confidence β (pypfopt's ``EfficientCDaR``)."""
        scenarios = _check_returns(returns, mu, frequency, f"CDaR at β = {beta}", _tail_rows(beta))
        return cls(mu, _CDaR(scenarios, frequency, beta), constraints, risk_free_rate)

    @classmethod
    def mean_semivariance(
        cls,
        mu: pd.Series,
        returns: pd.DataFrame,
        constraints: Constraints = LONG_ONLY,
        benchmark: float = 0.0,
        risk_free_rate: float = 0.0,
        frequency: int = 252,
    ) -> ConstrainedOptimizer:
        """Mean-semivariance below the per-period ``benchmark`` (pypfopt's ``EfficientSemivariance``)."""
        _require(math.isfinite(benchmark), f"the benchmark return must be finite (got {benchmark})")
        scenarios = _check_returns(returns, mu, frequency, "semivariance", 2)
        return cls(mu, _Semivariance(scenarios, frequency, benchmark=benchmark), constraints, risk_free_rate)

    def min_risk(self) -> OptimalPortfolio:
        """min ρ(w) + P(w): min volatility, min CVaR, min CDaR or min semivariance."""
        return self._run(self.measure.objective, "min_risk")

    def efficient_return(self, target: float) -> OptimalPortfolio:
        """min ρ(w) + P(w) with expected return μᵀw + cash·r_f ≥ ``target`` (annual)."""
        _require(math.isfinite(target), f"target return must be a finite number (got {target})")
        c = self.arrays.constraints
        return self._run("efficient_return", "efficient_return", target - c.cash * self.rf)

    def efficient_risk(self, target: float) -> OptimalPortfolio:
        """max μᵀw − P(w) with the risk figure (volatility, CVaR, CDaR or semideviation) ≤ ``target``."""
        _require(math.isfinite(target) and target > 0, f"target {self.measure.label} must be positive (got {target})")
        return self._run("efficient_risk", "efficient_risk", target**self.measure.power)

    def max_utility(self, risk_aversion: float) -> OptimalPortfolio:
        """max μᵀw − δ/2·ρ(w) − P(w), δ = ``risk_aversion`` (pypfopt's ``max_quadratic_utility``)."""
        _require(
            math.isfinite(risk_aversion) and risk_aversion > 0, f"risk aversion must be positive (got {risk_aversion})"
        )
        return self._run("max_quadratic_utility", "max_utility", risk_aversion)

    def max_sharpe(self) -> OptimalPortfolio:
        """max (μᵀw + cash·r_f − r_f)/√(wᵀΣw) by the change of variables in the module docstring."""
        _require(isinstance(self.measure, _Variance), "max Sharpe needs the variance risk measure (mean_variance)")
        return self._run("max_sharpe", "max_sharpe")

    def max_return(self) -> OptimalPortfolio:
        """max μᵀw over the feasible set (no penalties): the top of the frontier."""
        return self._run("max_return", "max_return")

    def frontier(self, n: int = 50) -> Frontier:
        """``n`` efficient-return portfolios at targets evenly spaced from the min-risk portfolio's return to the
        max return (the last target 10⁻⁶ of the range below it, where the solver still finds an interior)."""
        _require(isinstance(n, int) and n >= 2, f"a frontier needs at least 2 points (got {n})")
        low, high = self.min_risk().expected_return, self.max_return().expected_return
        targets = np.linspace(low, high - 1e-6 * (high - low), n)
        found = [self.efficient_return(float(t)) for t in targets]
        points = pd.DataFrame(
            [(p.expected_return, p.volatility, p.sharpe, p.risk) for p in found],
            columns=["expected_return", "volatility", "sharpe", "risk"],
        )
        weights = pd.DataFrame([p.weights for p in found]).reset_index(drop=True)
        return Frontier(points, weights, tuple(dict.fromkeys(note for p in found for note in p.notes)))

    def _problem(self, key: str) -> Compiled:
        """The compiled problem ``key``, its weights and its parameter, built on first use."""
        if key not in self._problems:
            self._problems[key] = getattr(self, f"_build_{key}")()
        return self._problems[key]

    def _cost(self, w: cp.Variable, kappa: float | cp.Variable = 1.0) -> cp.Expression | float:
        """k‖w − κw0‖₁ with k = bps/10⁴ (0 without a cost)."""
        c = self.arrays.constraints
        return c.cost_bps / 1e4 * cp.norm1(w - kappa * self.arrays.current) if c.cost_bps > 0 else 0.0

    def _ridge(self, w: cp.Variable) -> cp.Expression | float:
        """γ‖w‖² (0 without L2)."""
        c = self.arrays.constraints
        return c.l2_gamma * cp.sum_squares(w) if c.l2_gamma > 0 else 0.0

    def _penalty(self) -> cp.Expression | float:
        """P(w) = k‖w − w0‖₁ + γ‖w‖²."""
        return self._cost(self._w) + self._ridge(self._w)

    def _constraints(self) -> list[cp.Constraint]:
        """The feasible set with the narrowable bounds, plus the risk measure's auxiliary constraints."""
        return _linear(self._w, self.arrays, self._lower, self._upper) + self._aux

    def _build_min_risk(self) -> Compiled:
        """min ρ + P."""
        return cp.Problem(cp.Minimize(self._rho + self._penalty()), self._constraints()), lambda: self._w.value, None

    def _build_efficient_return(self) -> Compiled:
        """min ρ + P s.t. μᵀw ≥ target (a parameter)."""
        target = cp.Parameter()
        problem = cp.Problem(
            cp.Minimize(self._rho + self._penalty()), [*self._constraints(), self.mu @ self._w >= target]
        )
        return problem, lambda: self._w.value, target

    def _build_efficient_risk(self) -> Compiled:
        """max μᵀw − P s.t. ρ ≤ target (a parameter: σ² or CVaR/CDaR)."""
        target = cp.Parameter(nonneg=True)
        problem = cp.Problem(
            cp.Minimize(-self.mu @ self._w + self._penalty()), [*self._constraints(), self._rho <= target]
        )
        return problem, lambda: self._w.value, target

    def _build_max_utility(self) -> Compiled:
        """max μᵀw − δ/2·ρ − P (δ a parameter)."""
        delta = cp.Parameter(nonneg=True)
        problem = cp.Problem(
            cp.Minimize(-self.mu @ self._w + delta / 2 * self._rho + self._penalty()), self._constraints()
        )
        return problem, lambda: self._w.value, delta

    def _build_max_return(self) -> Compiled:
        """max μᵀw (an LP)."""
        problem = cp.Problem(cp.Minimize(-self.mu @ self._w), _linear(self._w, self.arrays, self._lower, self._upper))
        return problem, lambda: self._w.value, None

    def _build_max_sharpe(self) -> Compiled:
        """min yᵀΣy + γ‖y‖² s.t. (μ − r_f)ᵀy − k‖y − κw0‖₁ ≥ 1 and the feasible set × κ; w = y/κ."""
        y, kappa = cp.Variable(len(self.tickers)), cp.Variable(nonneg=True)
        risk = cp.quad_form(y, self.measure.cov, assume_PSD=True) + self._ridge(y)
        excess = (self.mu - self.rf) @ y - self._cost(y, kappa)
        cons = [*_linear(y, self.arrays, self._lower, self._upper, kappa), excess >= 1]
        return cp.Problem(cp.Minimize(risk), cons), lambda: y.value / kappa.value, None

    def _run(self, objective: str, key: str, value: float | None = None) -> OptimalPortfolio:
        """Solve ``key`` with its parameter at ``value``, then the max-holdings heuristic; check the answer."""
        parameter = self._problem(key)[2]
        if parameter is not None:
            parameter.value = value
        k, rounds = self.arrays.constraints.max_holdings, 0
        w = self._solve(key, np.ones(len(self.tickers), dtype=bool))
        while k is not None and np.sum(np.abs(w) > TOLERANCE) > k:
            w, rounds = self._shrink(key, w, k), rounds + 1
        heuristic = f"max holdings {k} met by a heuristic (dropping the smallest holdings over {rounds} re-solves)"
        return self._result(objective, w, (f"{heuristic}; a better {k}-asset portfolio may exist",) if rounds else ())

    def _shrink(self, key: str, w: np.ndarray, k: int) -> np.ndarray:
        """Re-solve without the smallest holdings: the smallest half of the excess over ``k``; if that is
        infeasible, fewer (halving down to one), then each next-smallest single holding. Forced ones stay."""
        a = self.arrays
        held = np.abs(w) > TOLERANCE
        droppable = np.flatnonzero(held & (a.lower <= TOLERANCE) & (a.upper >= -TOLERANCE))
        order = droppable[np.argsort(np.abs(w[droppable]), kind="stable")]
        sizes = [max(1, (int(held.sum()) - k) // 2**j) for j in range(1, int(held.sum()).bit_length() + 1)]
        attempts = [order[:d] for d in dict.fromkeys(sizes)] + [order[i : i + 1] for i in range(1, order.size)]
        keeps = [held & ~np.isin(np.arange(held.size), drop) for drop in attempts]
        for keep in keeps:
            found = self._attempt(key, keep)
            if found is not None:
                return found
        raise self._infeasible(key, keeps[0])

    def _attempt(self, key: str, keep: np.ndarray) -> np.ndarray | None:
        """Solve ``key`` with the assets outside ``keep`` fixed at 0 (``None``: infeasible); weights clipped into
        the bounds (solver noise)."""
        problem, weights, _ = self._problem(key)
        self._lower.value = np.where(keep, self.arrays.lower, 0.0)
        self._upper.value = np.where(keep, self.arrays.upper, 0.0)
        try:
            problem.solve(warm_start=True, **(HIGHS if self._linear_program(key) else CLARABEL))
        except cp.error.SolverError as exc:
            raise AnalyticsError(f"the solver failed on the {key.replace('_', ' ')} problem: {exc}") from exc
        if problem.status in _INFEASIBLE:
            return None
        if problem.status not in _SOLVED:
            raise AnalyticsError(f"the solver ended the {key.replace('_', ' ')} problem as {problem.status}")
        return np.clip(weights(), self._lower.value, self._upper.value) + 0.0

    def _solve(self, key: str, keep: np.ndarray) -> np.ndarray:
        """``_attempt``, raising the named reason when infeasible."""
        found = self._attempt(key, keep)
        if found is None:
            raise self._infeasible(key, keep)
        return found

    def _linear_program(self, key: str) -> bool:
        """Whether problem ``key`` is an LP: max return, or a linear risk measure (CVaR, CDaR) without L2."""
        linear_risk = self.measure.power == 1 and self.arrays.constraints.l2_gamma == 0
        return key == "max_return" or (linear_risk and key != "max_sharpe")

    def _infeasible(self, key: str, keep: np.ndarray) -> AnalyticsError:
        """Name why ``key`` has no solution: conflicting constraints, else an unreachable target."""
        restricted = None if keep.all() else keep
        if key == "max_return" or not _feasible(self.arrays, frozenset(), restricted):
            return AnalyticsError(diagnose(self.arrays, restricted))
        parameter, c = self._problem(key)[2], self.arrays.constraints
        where = "under the constraints" + (
            "" if restricted is None else f" on the {int(keep.sum())} assets kept for max holdings"
        )
        if key == "efficient_return":
            best = self._solve("max_return", keep) @ self.mu + c.cash * self.rf
            top = parameter.value + c.cash * self.rf
            return AnalyticsError(f"target return {pct(top)} is above the maximum {pct(best)} reachable {where}")
        if key == "efficient_risk":
            least = self.measure.value(self._solve("min_risk", keep))
            target = parameter.value ** (1 / self.measure.power)
            return AnalyticsError(
                f"target {self.measure.label} {pct(target)} is below the minimum {pct(least)} reachable {where}"
            )
        if key == "max_sharpe":
            best = self._solve("max_return", keep) @ self.mu + c.cash * self.rf
            costs = " net of transaction costs" if c.cost_bps > 0 else ""
            return AnalyticsError(
                f"no portfolio {where} beats the risk-free rate {pct(self.rf)}{costs}:"
                f" the highest expected return is {pct(best)}"
            )
        return AnalyticsError(
            f"the solver found the {key.replace('_', ' ')} problem infeasible although the constraints are"
            " consistent (numerical difficulty)"
        )

    def _result(self, objective: str, w: np.ndarray, notes: tuple[str, ...]) -> OptimalPortfolio:
        """Check ``w`` against every constraint and measure it."""
        found = violations(w, self.arrays)
        if found:
            raise AnalyticsError("the solver's answer violates the constraints: " + "; ".join(found))
        volatility, cash = self.measure.volatility(w), self.arrays.constraints.cash
        if volatility <= 1e-12:
            raise AnalyticsError(
                "the optimal portfolio has no volatility (a riskless combination: the covariance is singular),"
                " so its Sharpe ratio is undefined"
            )
        expected = float(self.mu @ w + cash * self.rf)
        weights = pd.Series(w, index=self.tickers, name="weight")
        return OptimalPortfolio(
            objective,
            weights,
            cash,
            expected,
            volatility,
            (expected - self.rf) / volatility,
            self.measure.value(w),
            self.measure.label,
            notes,
        )


def constrained_frontier(
    mu: pd.Series, cov: pd.DataFrame, constraints: Constraints = LONG_ONLY, n: int = 50, risk_free_rate: float = 0.0
) -> Frontier:
    """The mean-variance frontier of ``n`` points under ``constraints`` (``ConstrainedOptimizer.frontier``)."""
    return ConstrainedOptimizer.mean_variance(mu, cov, constraints, risk_free_rate).frontier(n)


def _require(condition: bool, message: str) -> None:
    """Raise ``AnalyticsError(message)`` unless ``condition``."""
    if not condition:
        raise AnalyticsError(message)


def _check_mu(mu: pd.Series, risk_free_rate: float) -> None:
    """At least two uniquely named assets with finite expected returns, and a finite risk-free rate."""
    _require(isinstance(mu, pd.Series), "expected returns must be a pandas Series (symbol → annual return)")
    _require(len(mu) >= 2, f"optimisation needs at least two assets (got {len(mu)})")
    _require(mu.index.is_unique, "expected returns name a symbol twice")
    _require(bool(np.isfinite(mu.to_numpy(dtype=float)).all()), "expected returns contain NaN or infinite values")
    _require(math.isfinite(risk_free_rate), f"the risk-free rate must be finite (got {risk_free_rate})")


def _same_symbols(what: str, labels: pd.Index, mu: pd.Series) -> None:
    missing, extra = sorted(set(mu.index) - set(labels)), sorted(set(labels) - set(mu.index))
    _require(
        not missing and not extra,
        f"{what} and expected returns cover different symbols (missing {missing}, extra {extra})",
    )


def _check_cov(cov: pd.DataFrame, mu: pd.Series) -> np.ndarray:
    """Σ aligned with μ; finite, symmetric and positive semidefinite (eigenvalues ≥ −10⁻¹⁰·max(1, λ_max))."""
    _same_symbols("the covariance rows", cov.index, mu)
    _same_symbols("the covariance columns", cov.columns, mu)
    m = cov.loc[mu.index, mu.index].to_numpy(dtype=float)
    _require(bool(np.isfinite(m).all()), "the covariance contains NaN or infinite values")
    scale = max(1.0, float(np.abs(m).max()))
    _require(bool(np.abs(m - m.T).max() <= 1e-10 * scale), "the covariance is not symmetric")
    m = (m + m.T) / 2
    smallest = float(np.linalg.eigvalsh(m)[0])
    _require(
        smallest >= -1e-10 * scale,
        f"the covariance is not positive semidefinite (smallest eigenvalue {smallest:.3g});"
        " use a shrinkage estimator such as Ledoit-Wolf",
    )
    return m


def _tail_rows(beta: float) -> int:
    """Rows a β tail needs: ⌈1/(1 − β)⌉, so T(1 − β) ≥ 1 (at least 2)."""
    _require(0 < beta < 1, f"the confidence level β must lie strictly between 0 and 1 (got {beta})")
    return max(2, math.ceil(1 / (1 - beta) - 1e-9))


def _check_returns(returns: pd.DataFrame, mu: pd.Series, frequency: float, what: str, needs: int) -> np.ndarray:
    """Scenario returns aligned with μ, without NaN, at least ``needs`` rows."""
    _check_mu(mu, 0.0)
    _same_symbols("the returns' columns", returns.columns, mu)
    r = returns[list(mu.index)].to_numpy(dtype=float)
    bad = int((~np.isfinite(r)).any(axis=1).sum())
    _require(
        bad == 0, f"the returns have NaN or infinite values in {bad} rows; drop those rows first (pypfopt drops them)"
    )
    _require(
        math.isfinite(frequency) and frequency > 0,
        f"frequency must be a positive number of periods a year (got {frequency})",
    )
    if r.shape[0] < needs:
        raise InsufficientData(what, needs, r.shape[0])
    return r
