"""Hierarchical Risk Parity (López de Prado 2016, "Building diversified portfolios that outperform out of sample").

The steps and conventions are exactly those of ``pypfopt.HRPOpt.optimize`` (PyPortfolioOpt 1.6), so the
weights agree with it to rounding:

1. Correlation ρ and covariance Σ of the returns, pairwise over the dates both assets have (pandas'
   ``DataFrame.corr()`` / ``DataFrame.cov()``, ddof = 1). From a covariance alone, ρ = D⁻¹ΣD⁻¹ rounded to
   6 decimals (as PyPortfolioOpt does before clustering).
2. Distance d_ij = √(clip((1 − ρ_ij)/2, 0, 1)), clustered by ``scipy.cluster.hierarchy.linkage`` with the
   chosen method.
3. Quasi-diagonal order: the dendrogram's leaves, left to right (``leaves_list`` = ``to_tree().pre_order()``).
4. Recursive bisection of that *order* (not of the tree): every list of length > 1 is cut into
   [0, n//2) and [n//2, n); a half's variance is that of its inverse-variance portfolio,
   V = Σ_ij m_ij / (Σ_i 1/σ_i²)² with m_ij = Σ_ij / (σ_i² σ_j²); the left half gets α = 1 − V_L/(V_L + V_R),
   the right half 1 − α.

Speed: the bisection works one tree level at a time on all halves at once, with cluster variances read from
row-wise prefix sums of m (one O(n²) pass, then O(n) per level), instead of PyPortfolioOpt's per-cluster
``cov.loc`` slices; weights are the same to ~1e-15.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.cluster.hierarchy as sch
import scipy.spatial.distance as ssd

from investment_app.analytics.errors import AnalyticsError, InsufficientData

LINKAGE_METHODS = ("single", "complete", "average", "weighted", "centroid", "median", "ward")


@dataclass(frozen=True)
class HRP:
    """HRP weights (symbol → weight, input order, sum 1), the quasi-diagonal order, scipy's linkage matrix."""

    weights: pd.Series
    order: list[str]
    linkage: np.ndarray
    method: str


def hrp(returns: pd.DataFrame, linkage: str = "single") -> HRP:
    """HRP portfolio of the columns of ``returns`` (periodic simple returns, NaN where an asset has no data).

    Correlation and covariance are pairwise over common dates, as ``HRPOpt(returns)`` computes them.
    """
    symbols = returns.columns.tolist()
    x, complete = _returns_matrix(returns, symbols)
    cov, corr = _complete_moments(x) if complete else _pairwise_moments(x, symbols)
    return _allocate(cov, corr, symbols, linkage)


def hrp_from_cov(cov: pd.DataFrame, linkage: str = "single") -> HRP:
    """HRP portfolio from a covariance matrix alone, as ``HRPOpt(cov_matrix=cov)``: ρ = D⁻¹ΣD⁻¹ rounded to 1e-6."""
    sigma = checked_covariance(cov, "HRP")
    _check_variances(np.diag(sigma), list(cov.columns))
    inv_sd = 1.0 / np.sqrt(np.diag(sigma))
    corr = np.round(sigma * inv_sd[:, None] * inv_sd[None, :], 6)
    return _allocate(sigma, corr, list(cov.columns), linkage)


def _returns_matrix(returns: pd.DataFrame, symbols: list[str]) -> tuple[np.ndarray, bool]:
    """The returns as a float array, after checking shape, labels and values (finite where present, varying),
    and whether every value is present."""
    if len(symbols) < 2:
        raise InsufficientData("HRP (assets)", 2, len(symbols))
    if not returns.columns.is_unique:
        raise AnalyticsError("HRP needs one returns column per symbol; some symbols repeat")
    x = returns.to_numpy(dtype=float)
    if np.isfinite(x).all():
        if len(x) < 2:
            raise InsufficientData("HRP (observations)", 2, len(x))
        _check_variances(np.ptp(x, axis=0), symbols)
        return x, True
    if np.isinf(x).any():
        raise AnalyticsError("returns contain infinite values (a price of zero?)")
    counts = (~np.isnan(x)).sum(axis=0)
    if counts.min() < 2:
        raise InsufficientData(f"the returns of {symbols[int(np.argmin(counts))]}", 2, int(counts.min()))
    _check_variances(np.nanmax(x, axis=0) - np.nanmin(x, axis=0), symbols)
    return x, False


def checked_covariance(cov: pd.DataFrame, what: str) -> np.ndarray:
    """``cov`` as a float array: ≥ 2 assets, the same symbols on both axes, finite, symmetric (to 1e-10·max|Σ|).

    The checks every covariance input needs; risk parity and Black-Litterman use them too.
    """
    sigma = cov.to_numpy(dtype=float)
    if sigma.shape[0] < 2:
        raise InsufficientData(f"{what} (assets)", 2, sigma.shape[0])
    if sigma.shape[0] != sigma.shape[1] or not cov.index.equals(cov.columns):
        raise AnalyticsError("the covariance must be square with the same symbols on rows and columns")
    if not np.isfinite(sigma).all() or np.abs(sigma - sigma.T).max() > 1e-10 * np.abs(sigma).max():
        raise AnalyticsError("the covariance must be finite and symmetric")
    return sigma


def _check_variances(spreads: np.ndarray, symbols: list[str]) -> None:
    """Every asset must vary (variance or range > 0): a constant series has no correlation, no inverse variance."""
    flat = np.flatnonzero(~(spreads > 0))
    if len(flat):
        raise AnalyticsError(f"zero variance (constant returns) for {', '.join(str(symbols[i]) for i in flat)}")


def _complete_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance (ddof 1) and correlation of returns with no missing value."""
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred
    cov /= len(x) - 1
    inv_sd = 1.0 / np.sqrt(np.diag(cov))
    return cov, cov * inv_sd[:, None] * inv_sd[None, :]


def _pairwise_moments(x: np.ndarray, symbols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Covariance (ddof 1) and correlation over the rows each pair has in common, like pandas' cov()/corr().

    One-pass sums over common rows after centring each column on its own mean, with matrix products:
    n = MᵀM, S = X₀ᵀM (S_ij = Σ x_i over rows where both exist), cov = (X₀ᵀX₀ − S∘Sᵀ/n)/(n − 1),
    var_i|j = ((X₀∘X₀)ᵀM − S∘S/n)/(n − 1), ρ = cov/√(var_i|j var_j|i).
    """
    present = np.isfinite(x)
    if present.all():
        return _complete_moments(x)
    m = present.astype(float)
    x0 = np.where(present, x - np.nanmean(x, axis=0), 0.0)
    n = m.T @ m
    _check_overlap(n, symbols)
    s = x0.T @ m
    cov = (x0.T @ x0 - s * s.T / n) / (n - 1)
    var = ((x0 * x0).T @ m - s * s / n) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.sqrt(var * var.T)
    if not np.isfinite(corr).all():
        i, j = np.argwhere(~np.isfinite(corr))[0]
        raise AnalyticsError(f"{symbols[i]} and {symbols[j]} have constant returns over their common dates")
    return cov, corr


def _check_overlap(n: np.ndarray, symbols: list[str]) -> None:
    """Every pair needs two common observations for a covariance."""
    i, j = np.unravel_index(np.argmin(n), n.shape)
    if n[i, j] < 2:
        raise InsufficientData(f"the correlation of {symbols[i]} and {symbols[j]}", 2, int(n[i, j]))


def _allocate(cov: np.ndarray, corr: np.ndarray, symbols: list[str], method: str) -> HRP:
    """Cluster on the correlation distance, order the leaves, bisect: the HRP result."""
    if method not in LINKAGE_METHODS:
        raise AnalyticsError(f"unknown linkage {method!r}; choose one of {', '.join(LINKAGE_METHODS)}")
    distance = np.sqrt(np.clip((1.0 - ssd.squareform(corr, checks=False)) / 2.0, 0.0, 1.0))
    tree = sch.linkage(distance, method)
    order = sch.leaves_list(tree)
    weights = np.empty(len(symbols))
    weights[order] = _bisection_weights(cov[np.ix_(order, order)])
    return HRP(pd.Series(weights, index=symbols), [symbols[i] for i in order], tree, method)


def _bisection_weights(cov: np.ndarray) -> np.ndarray:
    """Recursive bisection weights for assets already in quasi-diagonal order, one tree level per pass."""
    n = len(cov)
    inv_var = 1.0 / np.diag(cov)
    scaled = cov * inv_var[:, None]
    scaled *= inv_var[None, :]
    row_prefix = np.zeros((n, n + 1))
    np.cumsum(scaled, axis=1, out=row_prefix[:, 1:])
    inv_var_prefix = np.concatenate(([0.0], np.cumsum(inv_var)))
    weights = np.ones(n)
    starts, ends = np.array([0]), np.array([n])
    while len(starts):
        middles = starts + (ends - starts) // 2
        left = _cluster_variance(row_prefix, inv_var_prefix, starts, middles)
        right = _cluster_variance(row_prefix, inv_var_prefix, middles, ends)
        alpha = 1.0 - left / (left + right)
        rows, segment = _segment_rows(starts, middles)
        weights[rows] *= alpha[segment]
        rows, segment = _segment_rows(middles, ends)
        weights[rows] *= 1.0 - alpha[segment]
        starts, ends = np.column_stack((starts, middles)).ravel(), np.column_stack((middles, ends)).ravel()
        keep = ends - starts > 1
        starts, ends = starts[keep], ends[keep]
    return weights


def _cluster_variance(
    row_prefix: np.ndarray, inv_var_prefix: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Variance of the inverse-variance portfolio of each block [start, end): Σ_block m_ij / (Σ_block 1/σ²)²."""
    rows, segment = _segment_rows(starts, ends)
    within = row_prefix[rows, ends[segment]] - row_prefix[rows, starts[segment]]
    block = np.bincount(segment, weights=within, minlength=len(starts))
    return block / (inv_var_prefix[ends] - inv_var_prefix[starts]) ** 2


def _segment_rows(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All row numbers of the blocks [start, end) and the block each belongs to."""
    lengths = ends - starts
    segment = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.cumsum(lengths) - lengths
    return np.arange(lengths.sum()) - offsets[segment] + starts[segment], segment
