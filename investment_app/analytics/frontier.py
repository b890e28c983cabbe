"""The mean-variance efficient frontier with per-asset bounds, built once by the critical line algorithm.

Between two consecutive turning points (``cla.critical_line``) the efficient portfolios are w(t) = (1 − t) w_k +
t w_{k+1}, t ∈ [0, 1], with return r(t) linear and variance v(t) = v_k (1 − t)² + 2 c_k t (1 − t) + v_{k+1} t²
(c_k = w_kᵀΣw_{k+1}). Every objective is therefore solved exactly on the right segment in closed form: no solver,
no iteration. Conventions follow PyPortfolioOpt's ``EfficientFrontier`` (annual μ and Σ, Sharpe = (r − rf) / σ
with an annual rf, ``efficient_return`` ⇒ the least-volatile portfolio returning at least the target,
``efficient_risk`` ⇒ the highest return with volatility at most the target, quadratic utility wᵀμ − δ/2 wᵀΣw);
tests compare each with PyPortfolioOpt solved by Clarabel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from investment_app.analytics.cla import TurningPoints, critical_line
from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.estimators import performance


@dataclass(frozen=True)
class EfficientPortfolio:
    """Weights (in the order of μ) and their expected return, volatility and Sharpe ratio, all annual."""

    weights: np.ndarray
    expected_return: float
    volatility: float
    sharpe: float


class Frontier:
    """The efficient frontier of (μ, Σ) under lower ≤ w ≤ upper and Σw = 1 (long-only by default).

    ``bounds`` is (lower, upper), each a number or one value per asset (shorting: a negative lower bound).
    AnalyticsError for fewer than two assets, mismatched shapes, non-finite numbers, an asymmetric or singular Σ
    and bounds that admit no portfolio.
    """

    def __init__(
        self,
        mu: np.ndarray | pd.Series,
        cov: np.ndarray | pd.DataFrame,
        bounds: tuple[float | np.ndarray, float | np.ndarray] = (0.0, 1.0),
    ) -> None:
        self.mu, self.cov = _checked_inputs(mu, cov)
        lower, upper = _checked_bounds(bounds, len(self.mu))
        self.turning_points: TurningPoints = critical_line(self.mu, self.cov, lower, upper)
        corners = self.turning_points.weights
        products = corners @ self.cov
        self._returns = corners @ self.mu
        self._variances = np.einsum("kn,kn->k", products, corners)
        self._cross = np.einsum("kn,kn->k", products[:-1], corners[1:])

    def max_return(self, risk_free_rate: float = 0.0) -> EfficientPortfolio:
        """The highest-return portfolio (the first turning point, the least volatile among equals)."""
        return self._portfolio(self.turning_points.weights[0], risk_free_rate)

    def min_volatility(self, risk_free_rate: float = 0.0) -> EfficientPortfolio:
        """The minimum-variance portfolio (the last turning point, λ = 0)."""
        return self._portfolio(self.turning_points.weights[-1], risk_free_rate)

    def max_sharpe(self, risk_free_rate: float = 0.0) -> EfficientPortfolio:
        """Maximum (r − rf) / σ: on each segment the only stationary point of (e₀ + t Δr) / √v(t) is
        t* = (½ e₀ b − Δr v₀) / (½ Δr b − e₀ a), with v(t) = v₀ + b t + a t² and e₀ = r_k − rf; the best of every
        segment's clipped t* and every corner wins. AnalyticsError if no asset returns more than rf (as
        PyPortfolioOpt)."""
        if np.max(self.mu) <= risk_free_rate:
            raise AnalyticsError(
                f"no asset's expected return exceeds the risk-free rate {risk_free_rate:.2%}, so no portfolio "
                "has a positive Sharpe ratio"
            )
        excess, slope, (v0, b, a) = self._returns[:-1] - risk_free_rate, np.diff(self._returns), self._quadratics()
        denominator = 0.5 * slope * b - excess * a
        with np.errstate(divide="ignore", invalid="ignore"):
            stationary = np.where(denominator != 0, (0.5 * excess * b - slope * v0) / denominator, 0.0)
        segment = np.concatenate((np.arange(len(slope)), np.arange(len(slope)), [len(slope) - 1]))
        t = np.concatenate((np.clip(stationary, 0.0, 1.0), np.zeros(len(slope)), [1.0]))
        variance = v0[segment] + b[segment] * t + a[segment] * t**2
        sharpe = (excess[segment] + slope[segment] * t) / np.sqrt(np.maximum(variance, 0.0))
        best = int(np.nanargmax(sharpe))
        return self._portfolio(self._along(segment[best : best + 1], t[best : best + 1])[0], risk_free_rate)

    def efficient_return(self, target_return: float, risk_free_rate: float = 0.0) -> EfficientPortfolio:
        """Least volatility with return ≥ target: the frontier point returning the target, or the minimum-
        volatility portfolio below its return (PyPortfolioOpt's ≥ constraint). AnalyticsError above the maximum."""
        return self._portfolio(self._at_returns(np.array([float(target_return)]))[0], risk_free_rate)

    def efficient_risk(self, target_volatility: float, risk_free_rate: float = 0.0) -> EfficientPortfolio:
        """Highest return with σ ≤ target: on the segment where v crosses target², t solves v(t) = target²
        (the smaller root, in the cancellation-free form 2(v₀ − s) / (−b + √(b² − 4a(v₀ − s)))). Above the
        max-return portfolio's volatility that portfolio; below the minimum volatility AnalyticsError."""
        volatility = np.sqrt(self._variances)
        target = float(target_volatility)
        if target < volatility[-1] * (1.0 - 1e-12):
            raise AnalyticsError(
                f"target volatility {target:.4%} is below the minimum achievable {volatility[-1]:.4%} "
                f"(achievable: {volatility[-1]:.4%} to {volatility[0]:.4%})"
            )
        k = _segment(volatility, np.array([target]))
        v0, b, a = (part[k] for part in self._quadratics())
        gap = v0 - target**2
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.clip(2.0 * gap / (-b + np.sqrt(np.maximum(b * b - 4.0 * a * gap, 0.0))), 0.0, 1.0)
        return self._portfolio(self._along(k, np.nan_to_num(t))[0], risk_free_rate)

    def max_quadratic_utility(self, risk_aversion: float = 1.0, risk_free_rate: float = 0.0) -> EfficientPortfolio:
        """Maximum wᵀμ − δ/2 wᵀΣw, i.e. the CLA solution at λ = 1/δ, linear in λ between turning points."""
        if not risk_aversion > 0:
            raise AnalyticsError(f"risk aversion must be greater than zero (got {risk_aversion})")
        lambdas = self.turning_points.lambdas
        lam = 1.0 / risk_aversion
        k = _segment(lambdas, np.array([lam]))
        with np.errstate(invalid="ignore"):
            t = np.where(np.isinf(lambdas[k]), 1.0, (lambdas[k] - lam) / (lambdas[k] - lambdas[k + 1]))
        return self._portfolio(self._along(k, np.clip(t, 0.0, 1.0))[0], risk_free_rate)

    def points(self, n: int = 50, risk_free_rate: float = 0.0) -> list[EfficientPortfolio]:
        """n portfolios with expected returns equally spaced from the minimum-volatility one to the maximum."""
        if n < 2:
            raise AnalyticsError(f"a frontier needs at least 2 points (got {n})")
        targets = np.linspace(self._returns[-1], self._returns[0], n)
        weights = self._at_returns(targets)
        expected = weights @ self.mu
        volatility = np.sqrt(np.einsum("kn,kn->k", weights @ self.cov, weights))
        sharpe = (expected - risk_free_rate) / volatility
        return [
            EfficientPortfolio(w, float(r), float(s), float(h))
            for w, r, s, h in zip(weights, expected, volatility, sharpe, strict=True)
        ]

    def _at_returns(self, targets: np.ndarray) -> np.ndarray:
        """Weights of the efficient portfolios returning ``targets`` (the minimum-volatility one below its return)."""
        top, bottom = self._returns[0], self._returns[-1]
        if np.max(targets) > top + 1e-12 * max(1.0, abs(top)):
            raise AnalyticsError(
                f"target return {np.max(targets):.4%} is above the maximum achievable {top:.4%} "
                f"(achievable on the frontier: {bottom:.4%} to {top:.4%})"
            )
        targets = np.clip(targets, bottom, top)
        k = _segment(self._returns, targets)
        drop = self._returns[k] - self._returns[k + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(drop > 0, (self._returns[k] - targets) / drop, 0.0)
        return self._along(k, np.clip(t, 0.0, 1.0))

    def _along(self, k: np.ndarray, t: np.ndarray) -> np.ndarray:
        """(1 − t) w_k + t w_{k+1} for each (k, t)."""
        corners = self.turning_points.weights
        return (1.0 - t)[:, None] * corners[k] + t[:, None] * corners[k + 1]

    def _quadratics(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per segment (v₀, b, a) with v(t) = v₀ + b t + a t²: b = 2(c − v₀), a = v₀ − 2c + v₁."""
        v0, v1 = self._variances[:-1], self._variances[1:]
        return v0, 2.0 * (self._cross - v0), v0 - 2.0 * self._cross + v1

    def _portfolio(self, weights: np.ndarray, risk_free_rate: float) -> EfficientPortfolio:
        return EfficientPortfolio(weights, *performance(weights, self.mu, self.cov, risk_free_rate))


def _segment(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For values non-increasing along the turning points, the k with values[k] ≥ target ≥ values[k+1]."""
    descending = np.minimum.accumulate(values)
    k = np.searchsorted(-descending, -targets, side="right") - 1
    return np.clip(k, 0, len(values) - 2)


def _checked_inputs(mu: np.ndarray | pd.Series, cov: np.ndarray | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """μ and Σ as float arrays; AnalyticsError for < 2 assets, shapes, non-finite entries or an asymmetric Σ."""
    mu, cov = np.asarray(mu, dtype=float), np.asarray(cov, dtype=float)
    if mu.ndim != 1 or len(mu) < 2:
        raise AnalyticsError(f"an optimization needs expected returns for at least two assets (got shape {mu.shape})")
    if cov.shape != (len(mu), len(mu)):
        raise AnalyticsError(f"the covariance matrix is {cov.shape} but there are {len(mu)} expected returns")
    if not (np.isfinite(mu).all() and np.isfinite(cov).all()):
        raise AnalyticsError("expected returns and covariances must be finite numbers (no NaN or infinity)")
    if np.max(np.abs(cov - cov.T)) > 1e-12 * np.max(np.abs(cov)):
        raise AnalyticsError("the covariance matrix is not symmetric")
    return mu, cov


def _checked_bounds(bounds: tuple[float | np.ndarray, float | np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-asset (lower, upper) arrays; AnalyticsError unless finite, lower ≤ upper and Σ lower ≤ 1 ≤ Σ upper."""
    try:
        lower, upper = (np.broadcast_to(np.asarray(side, dtype=float), (n,)).copy() for side in bounds)
    except (TypeError, ValueError) as error:
        raise AnalyticsError(f"weight bounds must be (lower, upper), numbers or one per asset: {error}") from error
    if not (np.isfinite(lower).all() and np.isfinite(upper).all()):
        raise AnalyticsError("weight bounds must be finite numbers")
    if (lower > upper).any():
        raise AnalyticsError(f"a lower weight bound exceeds its upper bound (asset {int(np.argmax(lower > upper))})")
    if lower.sum() > 1.0 + 1e-12 or upper.sum() < 1.0 - 1e-12:
        raise AnalyticsError(
            f"the weight bounds admit no fully invested portfolio: lower bounds sum to {lower.sum():.4f} and "
            f"upper bounds to {upper.sum():.4f}, but weights must sum to 1"
        )
    return lower, upper
