"""Risk parity: the long-only, fully invested portfolio whose risk contributions match given budgets.

Risk contribution of asset i: RC_i = w_i (Σw)_i / wᵀΣw (fractions that add up to 1; Maillard, Roncalli &
Teïletche 2010). Equal risk contribution (ERC) is the budget b_i = 1/n.

Method (Spinu 2013, "An algorithm for computing risk parity weights"): minimise the strictly convex
f(y) = ½ yᵀRy − Σ b_i ln y_i over y > 0, whose minimiser satisfies y_i (Ry)_i = b_i; then w ∝ y. We work on
the correlation R (y_i = x_i σ_i, the same problem better scaled) with Newton's method: step H⁻¹g with
g = Ry − b/y, H = R + diag(b/y²), λ² = gᵀH⁻¹g. f/b_min is self-concordant, so once λ²/b_min < 1/16 full steps
stay inside y > 0 and converge quadratically; before that, the step is halved until y stays positive and f
drops by λ²t/4 (Boyd & Vandenberghe §9.5–9.6). It stops when max_i |y_i (Ry)_i − b_i| ≤ 1e-12.

Bounds: the long-only portfolio with given budgets is unique, so weight bounds cannot be *enforced* without
giving up equal contributions. They are *checked*: a solution outside [low, high] raises ``AnalyticsError``
naming the assets (the budgets and the bounds contradict each other). Shorts never occur (w > 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.hrp import checked_covariance

TOLERANCE = 1e-12
MAX_ITERATIONS = 200


@dataclass(frozen=True)
class RiskParity:
    """Weights (sum 1), risk contributions RC_i (sum 1), the budgets they match, √(wᵀΣw), Newton steps taken."""

    weights: pd.Series
    risk_contributions: pd.Series
    budgets: pd.Series
    volatility: float
    iterations: int


def risk_parity(
    cov: pd.DataFrame, budgets: pd.Series | None = None, bounds: tuple[float, float] = (0.0, 1.0)
) -> RiskParity:
    """Risk parity weights for covariance ``cov`` (equal contributions, or ``budgets``: symbol → share > 0).

    ``budgets`` are normalised to add up to 1. ``bounds`` (low, high) are checked, not enforced (module doc).
    The volatility is in the covariance's units (annual if ``cov`` is annualised).
    """
    sigma = _positive_definite(cov)
    symbols = list(cov.columns)
    b = _budgets(budgets, symbols)
    sd = np.sqrt(np.diag(sigma))
    y, iterations = _spinu_newton(sigma / np.outer(sd, sd), b)
    w = y / sd
    w /= w.sum()
    _check_bounds(w, bounds, symbols)
    marginal = sigma @ w
    variance = float(w @ marginal)
    return RiskParity(
        weights=pd.Series(w, index=symbols),
        risk_contributions=pd.Series(w * marginal / variance, index=symbols),
        budgets=pd.Series(b, index=symbols),
        volatility=float(np.sqrt(variance)),
        iterations=iterations,
    )


def _positive_definite(cov: pd.DataFrame) -> np.ndarray:
    """The checked covariance, which must also be positive definite (Cholesky succeeds)."""
    sigma = checked_covariance(cov, "risk parity")
    try:
        np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        raise AnalyticsError(
            "the covariance is not positive definite (constant or duplicated assets, or more assets than "
            "observations); risk parity needs a positive definite covariance, e.g. with Ledoit-Wolf shrinkage"
        ) from None
    return sigma


def _budgets(budgets: pd.Series | None, symbols: list[str]) -> np.ndarray:
    """Risk budgets aligned on ``symbols`` and scaled to sum 1; equal budgets when none are given."""
    if budgets is None:
        return np.full(len(symbols), 1.0 / len(symbols))
    unknown = budgets.index.difference(symbols).tolist()
    missing = pd.Index(symbols).difference(budgets.index, sort=False).tolist()
    if unknown or missing:
        raise AnalyticsError(f"risk budgets must cover exactly the assets: unknown {unknown}, missing {missing}")
    b = budgets.reindex(symbols).to_numpy(dtype=float)
    if not (np.isfinite(b) & (b > 0)).all():
        raise AnalyticsError("every risk budget must be a positive number")
    return b / b.sum()


def _spinu_newton(corr: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Minimiser of ½ yᵀRy − Σ b ln y by Newton's method (module doc), and the number of steps taken."""
    y = np.sqrt(b) / np.sqrt(np.sqrt(b) @ corr @ np.sqrt(b))
    for iteration in range(MAX_ITERATIONS):
        gradient = corr @ y - b / y
        if np.max(np.abs(y * gradient)) <= TOLERANCE:
            return y, iteration
        step = np.linalg.solve(corr + np.diag(b / y**2), gradient)
        decrement = float(gradient @ step)
        full = decrement < b.min() / 16
        y = y - (1.0 if full else _backtrack(corr, b, y, step, decrement)) * step
    raise AnalyticsError(f"risk parity did not converge in {MAX_ITERATIONS} Newton steps (budgets too uneven?)")


def _backtrack(corr: np.ndarray, b: np.ndarray, y: np.ndarray, step: np.ndarray, decrement: float) -> float:
    """Step length t: halved from 1 until y − t·step > 0 and f drops by at least t·λ²/4 (Armijo)."""

    def f(v: np.ndarray) -> float:
        return 0.5 * v @ corr @ v - b @ np.log(v)

    t, start = 1.0, f(y)
    while np.any(y - t * step <= 0) or f(y - t * step) > start - 0.25 * t * decrement:
        t *= 0.5
    return t


def _check_bounds(w: np.ndarray, bounds: tuple[float, float], symbols: list[str]) -> None:
    """Raise when the (unique) risk parity weights fall outside [low, high], naming the assets."""
    low, high = bounds
    outside = [f"{symbols[i]} {w[i]:.2%}" for i in np.flatnonzero((w < low - 1e-12) | (w > high + 1e-12))]
    if outside:
        raise AnalyticsError(
            f"risk parity needs weights outside the bounds [{low:.2%}, {high:.2%}]: {', '.join(outside)}; "
            "the risk budgets and these bounds contradict each other (widen the bounds or change the budgets)"
        )
