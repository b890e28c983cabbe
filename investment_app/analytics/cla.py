"""The critical line algorithm: every turning point of the mean-variance frontier with per-asset bounds, in numpy.

Problem (Markowitz): for every λ ≥ 0, min ½ wᵀΣw − λ wᵀμ subject to Σ_i w_i = 1 and lower ≤ w ≤ upper. The
solution is piecewise linear in λ; it changes direction only where an asset reaches a bound ("leaves" the free
set F) or a bounded asset's multiplier changes sign ("enters" F). Between two such turning points, with B the
bounded assets at their bounds, the KKT conditions Σ_FF w_F + Σ_FB w_B − λ μ_F + γ 1 = 0 and 1ᵀw = 1 give
w_F = α + λ β and γ = γ₀ + λ γ₁ in closed form. The walk starts at the maximum-return corner (λ = ∞: assets
filled to their upper bounds in decreasing μ, one partial and free) and ends at the minimum-variance portfolio
(λ = 0). Bailey & López de Prado (2013), "An open-source implementation of the critical-line algorithm", and
PyPortfolioOpt's ``cla.CLA``; unlike those, Σ_FF⁻¹ is never re-inverted: it is updated by a bordered (Schur)
rank-one formula when an asset enters or leaves F, O(|F|²) per turning point.

Degenerate inputs: Σ must be positive definite (checked by Cholesky; a singular Σ has no unique frontier) and a
Schur complement that vanishes on the way stops with AnalyticsError. Events that coincide (ties in μ, several
assets reaching bounds at the same λ) are handled one at a time at the same λ, the turning point at that λ
being overwritten, and an event due at a λ already passed (rounding) happens at once; the asset that just
moved cannot move back at the same λ. The free set never empties: a single free asset's weight is pinned by the
budget, so it cannot reach a bound. A box that admits one portfolio only (Σ lower = 1 or Σ upper = 1) returns it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from investment_app.analytics.errors import AnalyticsError

_TOL = 1e-10  # relative: weights, multipliers and pivots below this (× their scale) count as zero
_Line = tuple[np.ndarray, np.ndarray, tuple[float, float]]  # (α, β, (γ₀, γ₁)): w_F = α + λβ, γ = γ₀ + λγ₁
_SINGULAR = (
    "the covariance matrix is singular: some assets' returns are linear combinations of others (duplicated "
    "assets, or fewer dates than assets); use the ledoit_wolf risk model or remove assets"
)


@dataclass(frozen=True)
class TurningPoints:
    """Corner portfolios: ``lambdas`` strictly decreasing from ∞ to 0, ``weights[k]`` the solution at lambdas[k].

    Between two consecutive corners the efficient portfolios are their convex combinations, linear in λ.
    """

    lambdas: np.ndarray
    weights: np.ndarray


def critical_line(mu: np.ndarray, cov: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> TurningPoints:
    """All turning points of min ½ wᵀΣw − λ wᵀμ, Σw = 1, lower ≤ w ≤ upper, for λ from ∞ down to 0.

    Inputs are validated float arrays (``frontier.Frontier`` does that): μ (n,), Σ (n, n) symmetric positive
    definite, bounds (n,) with Σ lower ≤ 1 ≤ Σ upper. Every corner satisfies the KKT conditions, and the
    corners include all of ``pypfopt.cla.CLA``'s, which can miss some (tests).
    """
    _require_positive_definite(cov)
    weights, first = _max_return_corner(mu, lower, upper)
    if min(1.0 - lower.sum(), upper.sum() - 1.0) <= _TOL:
        return TurningPoints(np.array([np.inf, 0.0]), np.array([weights, weights]))
    free = _FreeSet(cov, weights, first)
    scale = _Scale(float(np.max(np.diag(cov))), float(np.max(np.abs(mu))) or 1.0)
    lambdas, corners = [np.inf], [weights.copy()]
    lam, moved = np.inf, -1
    for _ in range(20 * len(mu) + 100):
        alpha, beta, gamma = free.line(mu)
        free.place(alpha + (beta * lam if np.isfinite(lam) else 0.0))
        corners[-1] = weights.copy()
        event = _next_event(free, mu, (lower, upper), (alpha, beta, gamma), lam, moved, scale)
        if event is None:
            free.place(alpha)
            lambdas.append(0.0)
            corners.append(weights.copy())
            return TurningPoints(np.array(lambdas), np.array(corners))
        at, asset, bound = event
        if at < lam:
            free.place(alpha + at * beta)
            lambdas.append(at)
            corners.append(weights.copy())
        if bound is None:
            free.add(asset)
        else:
            free.remove(asset, bound)
        lam, moved = at, asset
    raise AnalyticsError("the critical line algorithm did not converge: the inputs are degenerate (cycling events)")


@dataclass(frozen=True)
class _Scale:
    """Magnitudes that make the tolerances relative: the largest variance and the largest |μ|."""

    variance: float
    mu: float


class _FreeSet:
    """The free assets F, with inv(Σ_FF) kept by bordered updates and Σ w_B (the bounded assets' part of Σw).

    F's indices, Σ's rows for F and inv(Σ_FF) live in the leading part of preallocated buffers: adding an asset
    writes one row and one border, removing one swaps it to the end and downdates, so no step copies Σ_F·.
    """

    def __init__(self, cov: np.ndarray, weights: np.ndarray, first: int) -> None:
        n = len(weights)
        self.cov, self.weights, self.size = cov, weights, 1
        self._index, self._rows, self._inverse = np.empty(n, dtype=np.intp), np.empty((n, n)), np.empty((n, n))
        self._index[0], self._rows[0], self._inverse[0, 0] = first, cov[first], 1.0 / cov[first, first]
        self.is_free = np.zeros(n, dtype=bool)
        self.is_free[first] = True
        bounded = np.where(self.is_free, 0.0, weights)
        self.cov_bounded = cov @ bounded
        self.bounded_sum = float(bounded.sum())

    @property
    def index(self) -> np.ndarray:
        return self._index[: self.size]

    def line(self, mu: np.ndarray) -> _Line:
        """(α, β, (γ₀, γ₁)) with w_F = α + λβ, γ = γ₀ + λγ₁, from w_F = Σ_FF⁻¹(λμ_F − γ1 − Σ_FB w_B), 1ᵀw = 1."""
        f = self.index
        right = np.column_stack((np.ones(len(f)), mu[f], self.cov_bounded[f]))
        a_one, a_mu, a_bounded = (self._inverse[: self.size, : self.size] @ right).T
        total = a_one.sum()
        gamma1 = a_mu.sum() / total
        gamma0 = -(a_bounded.sum() + 1.0 - self.bounded_sum) / total
        return -gamma0 * a_one - a_bounded, a_mu - gamma1 * a_one, (gamma0, gamma1)

    def gradient(self, mu: np.ndarray, line: _Line, assets: np.ndarray) -> np.ndarray:
        """(a, b) rows with Σw − λμ + γ = a + λb for ``assets`` (bounded ones): their multipliers up to sign."""
        alpha, beta, (gamma0, gamma1) = line
        product = np.vstack((alpha, beta)) @ self._rows[: self.size, assets]
        product[0] += self.cov_bounded[assets] + gamma0
        product[1] += gamma1 - mu[assets]
        return product

    def place(self, free_weights: np.ndarray) -> None:
        """Write the free assets' weights into the weight vector."""
        self.weights[self.index] = free_weights

    def add(self, asset: int) -> None:
        """Free a bounded asset: inv([[A, c], [cᵀ, d]]) from A⁻¹ and the Schur complement s = d − cᵀA⁻¹c."""
        f = self.size
        column = self._rows[:f, asset]
        inverse = self._inverse[:f, :f]
        projected = inverse @ column
        schur = self.cov[asset, asset] - column @ projected
        if schur <= _TOL * self.cov[asset, asset]:
            raise AnalyticsError(_SINGULAR)
        inverse += np.outer(projected, projected) / schur
        self._inverse[:f, f] = self._inverse[f, :f] = -projected / schur
        self._inverse[f, f] = 1.0 / schur
        self._index[f], self._rows[f] = asset, self.cov[asset]
        self.size += 1
        self.is_free[asset] = True
        self._move(asset, -self.weights[asset])

    def remove(self, asset: int, bound: float) -> None:
        """Bound a free asset at ``bound``: swapped to the last place p, inv(A) without it is
        A⁻¹_−p,−p − A⁻¹_−p,p A⁻¹_p,−p / A⁻¹_pp."""
        last = self.size - 1
        swap = [int(np.flatnonzero(self.index == asset)[0]), last]
        self._index[swap], self._rows[swap] = self._index[swap[::-1]], self._rows[swap[::-1]]
        self._inverse[swap, : last + 1] = self._inverse[swap[::-1], : last + 1]
        self._inverse[: last + 1, swap] = self._inverse[: last + 1, swap[::-1]]
        pivot = self._inverse[:last, last]
        self._inverse[:last, :last] -= np.outer(pivot, pivot) / self._inverse[last, last]
        self.size = last
        self.is_free[asset] = False
        self.weights[asset] = bound
        self._move(asset, bound)

    def _move(self, asset: int, bounded_change: float) -> None:
        """Update Σ w_B and 1ᵀw_B when ``asset``'s bounded weight changes by ``bounded_change``."""
        self.cov_bounded += self.cov[asset] * bounded_change
        self.bounded_sum += bounded_change


def _next_event(
    free: _FreeSet,
    mu: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    line: _Line,
    lam: float,
    moved: int,
    scale: _Scale,
) -> tuple[float, int, float | None] | None:
    """The largest λ ≤ ``lam`` (> 0) at which a free asset reaches a bound or a bounded asset's multiplier turns.

    Returns (λ, asset, bound it is fixed at) for a leaving asset, (λ, asset, None) for an entering one, or None
    when nothing happens before λ = 0.
    """
    best = None
    for at, assets, stops in (_leaving(free, bounds, line, lam, scale), _entering(free, mu, bounds, line, lam, scale)):
        at = np.where(at >= lam * (1.0 - _TOL), lam, at)  # due now, or already passed through rounding
        at[(assets == moved) & (at == lam)] = -np.inf
        k = int(np.argmax(at)) if len(at) else 0
        if len(at) and at[k] > 0 and (best is None or at[k] > best[0]):
            best = (float(at[k]), int(assets[k]), None if stops is None else float(stops[k]))
    return best


def _leaving(
    free: _FreeSet,
    bounds: tuple[np.ndarray, np.ndarray],
    line: _Line,
    lam: float,
    scale: _Scale,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(λ at which each free asset reaches a bound, the assets, the bound each stops at); none for a lone one."""
    if free.size < 2:
        return np.empty(0), np.empty(0, dtype=np.intp), np.empty(0)
    alpha, beta, _ = line
    assets = free.index.copy()
    lower, upper = bounds[0][assets], bounds[1][assets]
    moving = np.abs(beta) > _TOL * scale.mu / scale.variance
    target = np.where(beta > 0, lower, upper)  # as λ falls, w = α + λβ falls if β > 0
    crossing = np.divide(target - alpha, beta, out=np.full_like(beta, -np.inf), where=moving)
    now = _value_at(alpha, beta, lam, moving)
    below, above = now < lower - _TOL, now > upper + _TOL
    return np.where(below | above, lam, crossing), assets, np.where(below, lower, np.where(above, upper, target))


def _entering(
    free: _FreeSet,
    mu: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    line: _Line,
    lam: float,
    scale: _Scale,
) -> tuple[np.ndarray, np.ndarray, None]:
    """(λ at which each bounded asset enters F, the assets, None): where its multiplier s(a + λb) (s = +1 at the
    lower bound, −1 at the upper) would turn negative. Assets with lower = upper never enter."""
    assets = np.flatnonzero(~free.is_free & (bounds[0] < bounds[1]))
    a, b = free.gradient(mu, line, assets)
    side = np.where(free.weights[assets] == bounds[0][assets], 1.0, -1.0)
    a, b = side * a, side * b
    crossing = np.divide(-a, b, out=np.full_like(b, -np.inf), where=b > _TOL * scale.mu)
    now = _value_at(a, b, lam, np.abs(b) > _TOL * scale.mu)
    tolerance = _TOL * (scale.variance + (lam * scale.mu if np.isfinite(lam) else 0.0))
    return np.where(now < -tolerance, lam, crossing), assets, None


def _value_at(intercept: np.ndarray, slope: np.ndarray, lam: float, sloped: np.ndarray) -> np.ndarray:
    """intercept + λ slope; at λ = ∞, ±∞ where ``sloped`` and the intercept elsewhere."""
    if np.isfinite(lam):
        return intercept + lam * slope
    return np.where(sloped, np.copysign(np.inf, slope), intercept)


def _max_return_corner(mu: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, int]:
    """The λ = ∞ corner: all at lower bounds, then assets raised to their upper bounds in decreasing μ until the
    budget is spent; the asset that takes the remainder is the first free one. Bailey & López de Prado's init."""
    order = np.argsort(-mu, kind="stable")
    need = 1.0 - lower.sum()
    filled = np.cumsum((upper - lower)[order])
    k = min(int(np.searchsorted(filled, need)), len(mu) - 1)
    weights = lower.copy()
    weights[order[:k]] = upper[order[:k]]
    first = int(order[k])
    weights[first] = lower[first] + need - (filled[k - 1] if k else 0.0)
    return weights, first


def _require_positive_definite(cov: np.ndarray) -> None:
    """AnalyticsError unless Cholesky succeeds with every pivot² above _TOL × the largest variance."""
    try:
        factor = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as error:
        raise AnalyticsError(_SINGULAR) from error
    if np.min(np.diag(factor)) ** 2 <= _TOL * np.max(np.diag(cov)):
        raise AnalyticsError(_SINGULAR)
