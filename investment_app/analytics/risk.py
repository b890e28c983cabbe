"""Value at risk and expected shortfall, risk contributions, correlation and betas of daily simple returns.

Sign convention: ``var`` and ``cvar`` are positive loss fractions (0.018 = a 1.8 % loss of value over the
horizon). They are not clipped: a series whose tail is still a gain has a negative VaR. CVaR (expected
shortfall) is the mean loss at or beyond the VaR. The confidence c lies strictly between 0.5 and 1;
α = 1 − c is the tail probability and z = Φ⁻¹(α) < 0 the standard normal quantile.

Methods (``METHODS``) and the daily history each needs (fewer → ``InsufficientData``):

- ``historical``: VaR = −q, q = the empirical α-quantile of the h-day returns with numpy's default linear
  interpolation (type 7; empyrical's ``value_at_risk`` uses ``np.percentile``, the same). CVaR = −mean of
  the returns ≤ q (empyrical's ``conditional_value_at_risk`` and quantstats' ``method="historical"``
  average the same observations). h-day returns are the overlapping compounded windows
  Π_{j<h}(1 + r_{t+j}) − 1. Needs max(20, ⌈1/α⌉) windows, so at least one observation lies in the tail
  (a 99 % VaR needs 100).
- ``parametric``: normal with the sample mean μ and standard deviation σ (ddof = 1) of the daily returns,
  scaled to h days as μh and σ√h: VaR = −(μh + zσ√h), CVaR = −μh + σ√h φ(z)/α. Needs 20 returns.
  quantstats' ``value_at_risk`` returns −VaR (the quantile) at h = 1; its ``sigma`` argument multiplies σ and is not a
  horizon: ``sigma=√h`` agrees with our h-day VaR only when μ = 0 (the square-root-of-time rule).
  quantstats 0.0.86's ``conditional_value_at_risk`` defaults to this same closed form (before 0.0.83 it
  averaged the returns below the *parametric* VaR, mixing the two estimators).
- ``cornish_fisher``: the parametric VaR with z replaced by the Cornish-Fisher quantile z_cf (Favre &
  Galeano 2002, "modified VaR") from the sample skewness s and excess kurtosis k (the bias-corrected
  estimators of pandas and ``metrics.skew``/``metrics.kurtosis``). Moments of the h-day sum of i.i.d.
  days: μh, σ√h, s/√h, k/h. CVaR = −(μh + σ√h·E[z_cf(Z) | Z ≤ z]), the mean of the Cornish-Fisher
  transformed tail, in closed form (``cornish_fisher_tail_mean``). PerformanceAnalytics'
  ``VaR(method="modified")`` applies the same expansion with population moments (σ and the moment ratios
  with 1/n), so ours differs from it by O(1/n); its ``ES(method="modified")`` is Boudt, Peterson & Croux's
  (2008) Edgeworth-density expected shortfall, a different formula. The expansion is a monotone quantile
  map only for moderate moments (0 ≤ k ≲ 8 when s = 0, Maillard 2012); daily stock returns often exceed
  that, where the 95 % CF VaR can fall below the normal one and the 99 % one overshoot. Like
  PerformanceAnalytics we report it anyway; it is refused (``AnalyticsError``) only when the map
  decreases somewhere in the tail, where the CVaR would be meaningless. Needs 100 returns (the kurtosis'
  standard error √(24/n) is then about 0.5).
- ``monte_carlo``: i.i.d. bootstrap: ``n_sims`` h-day paths of days drawn with replacement from the
  history by ``numpy.random.default_rng(seed)``, compounded, then VaR/CVaR as ``historical`` on the
  simulated returns. It keeps the fat tails of the data and, unlike the overlapping windows, uses
  independent h-day draws; it ignores volatility clustering. Needs as much history as ``historical`` at
  h = 1 and ``n_sims`` ≥ 10/α.

Horizon: no method scales a one-day VaR by √h (the square-root-of-time rule). The parametric μh + zσ√h
equals √h × the one-day VaR only when μ = 0; the Cornish-Fisher one also departs from it because skewness
and kurtosis shrink as days add up (s/√h, k/h); historical and Monte Carlo compound actual returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform
from scipy.stats import norm

from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.analytics.metrics import kurtosis, skew

METHODS = ("historical", "parametric", "cornish_fisher", "monte_carlo")
MIN_OBSERVATIONS = 20
MIN_CORNISH_FISHER = 100
MIN_TAIL_SIMULATIONS = 10


@dataclass(frozen=True)
class VaR:
    """One VaR estimate: losses as positive fractions over ``horizon_days``; ``observations`` daily returns.

    In a ``var_table``, a method that cannot judge these returns has var and cvar None and says why in ``reason``.
    """

    method: str
    confidence: float
    horizon_days: int
    var: float | None
    cvar: float | None
    observations: int
    reason: str = ""


@dataclass(frozen=True)
class ComponentVaR:
    """Euler risk contributions of a portfolio (losses as positive fractions of its value).

    ``total``, ``marginal``, ``component``, ``percent``: the parametric (normal) VaR and its allocation;
    ``cvar``, ``cvar_component``, ``cvar_percent``: the historical CVaR and its allocation.
    """

    confidence: float
    horizon_days: int
    total: float
    marginal: np.ndarray
    component: np.ndarray
    percent: np.ndarray
    cvar: float
    cvar_component: np.ndarray
    cvar_percent: np.ndarray


def _check_confidence(confidence: float) -> float:
    if not 0.5 < confidence < 1.0:
        raise AnalyticsError(f"confidence must lie strictly between 0.5 and 1 (got {confidence})")
    return 1.0 - confidence


def _check_horizon(horizon_days: int) -> None:
    if int(horizon_days) != horizon_days or horizon_days < 1:
        raise AnalyticsError(f"horizon_days must be a whole number of days ≥ 1 (got {horizon_days})")


def _check_returns(returns: np.ndarray, ndim: int) -> np.ndarray:
    """Returns as a float array of ``ndim`` dimensions, finite and not below −100 %."""
    r = np.asarray(returns, dtype=float)
    if r.ndim != ndim:
        raise AnalyticsError(f"returns must be a {ndim}-D array (got shape {r.shape})")
    if not np.isfinite(r).all():
        raise AnalyticsError("returns contain NaN or infinite values; drop or fill the gaps first")
    if (r < -1.0).any():
        raise AnalyticsError("returns contain a simple return below −100 %")
    return r


def _historical_minimum(alpha: float) -> int:
    """max(20, ⌈1/α⌉): enough observations for at least one in the tail (rounded to ignore 1/0.01 = 100.000…01)."""
    return max(MIN_OBSERVATIONS, math.ceil(round(1.0 / alpha, 9)))


def _compounded(returns: np.ndarray, horizon_days: int) -> np.ndarray:
    """Overlapping h-day compounded returns Π_{j<h}(1 + r_{t+j}) − 1 along axis 0 (T − h + 1 rows)."""
    if horizon_days == 1:
        return returns
    return sliding_window_view(1.0 + returns, horizon_days, axis=0).prod(axis=-1) - 1.0


def _tail(returns: np.ndarray, alpha: float) -> tuple[float, float, np.ndarray]:
    """(VaR, CVaR, tail mask): q = linear α-quantile; VaR = −q; CVaR = −mean(r | r ≤ q)."""
    q = np.quantile(returns, alpha, method="linear")
    in_tail = returns <= q
    return -float(q), -float(returns[in_tail].mean()), in_tail


def cornish_fisher_z(alpha: float, skewness: float, excess_kurtosis: float) -> float:
    """z_cf = z + (z² − 1)s/6 + (z³ − 3z)k/24 − (2z³ − 5z)s²/36 with z = Φ⁻¹(α) (Favre & Galeano 2002).

    The same expansion as PerformanceAnalytics' ``VaR(method="modified")``.
    """
    z, s, k = norm.ppf(alpha), skewness, excess_kurtosis
    return float(z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36)


def cornish_fisher_tail_mean(alpha: float, skewness: float, excess_kurtosis: float) -> float:
    """E[z_cf(Z) | Z ≤ z], Z standard normal, z = Φ⁻¹(α): −φ(z)/α · (1 + sz/6 + k(z² − 1)/24 − s²(2z² − 1)/36).

    Integrating the expansion's polynomial against φ over (−∞, z] (∫zφ = −φ, ∫z²φ = Φ − zφ,
    ∫z³φ = −(z² + 2)φ); it equals the mean of the transformed tail while the map increases on it.
    """
    z, s, k = norm.ppf(alpha), skewness, excess_kurtosis
    bracket = 1 + s * z / 6 + k * (z**2 - 1) / 24 - s**2 * (2 * z**2 - 1) / 36
    return float(-norm.pdf(z) / alpha * bracket)


def _cornish_fisher_increasing_below(alpha: float, skewness: float, excess_kurtosis: float) -> bool:
    """Whether dz_cf/dz = a + bz + cz² stays ≥ 0 on (−∞, Φ⁻¹(α)]: a = 1 − k/8 + 5s²/36, b = s/3, c = k/8 − s²/6."""
    z, s, k = norm.ppf(alpha), skewness, excess_kurtosis
    a, b, c = 1 - k / 8 + 5 * s**2 / 36, s / 3, k / 8 - s**2 / 6
    if c < 0 or (c == 0 and b > 0):
        return False
    lowest = z if c == 0 else min(z, -b / (2 * c))
    return a + b * lowest + c * lowest**2 >= 0


def _historical(r: np.ndarray, alpha: float, horizon: int) -> tuple[float, float]:
    needs = _historical_minimum(alpha) + horizon - 1
    if len(r) < needs:
        raise InsufficientData(f"{horizon}-day historical VaR at {1 - alpha:.1%}", needs, len(r))
    var, cvar, _ = _tail(_compounded(r, horizon), alpha)
    return var, cvar


def _parametric(r: np.ndarray, alpha: float, horizon: int) -> tuple[float, float]:
    if len(r) < MIN_OBSERVATIONS:
        raise InsufficientData("parametric VaR", MIN_OBSERVATIONS, len(r))
    mu, sd = r.mean() * horizon, r.std(ddof=1) * np.sqrt(horizon)
    z = norm.ppf(alpha)
    return float(-mu - z * sd), float(-mu + sd * norm.pdf(z) / alpha)


def _cornish_fisher(r: np.ndarray, alpha: float, horizon: int) -> tuple[float, float]:
    if len(r) < MIN_CORNISH_FISHER:
        raise InsufficientData("Cornish-Fisher VaR", MIN_CORNISH_FISHER, len(r))
    mu = r.mean() * horizon
    if np.ptp(r) == 0:  # a point mass: no spread, skewness and kurtosis undefined
        return float(-mu), float(-mu)
    sd = r.std(ddof=1) * np.sqrt(horizon)
    s, k = skew(r) / np.sqrt(horizon), kurtosis(r) / horizon
    if not _cornish_fisher_increasing_below(alpha, s, k):
        raise AnalyticsError(
            f"the Cornish-Fisher expansion decreases in the tail for skewness {s:.2f} and excess kurtosis "
            f"{k:.2f}, so its VaR and CVaR mean nothing for these returns (use the historical ones)"
        )
    return float(-mu - sd * cornish_fisher_z(alpha, s, k)), float(-mu - sd * cornish_fisher_tail_mean(alpha, s, k))


def _monte_carlo(r: np.ndarray, alpha: float, horizon: int, seed: int | None, n_sims: int) -> tuple[float, float]:
    needs = _historical_minimum(alpha)
    if len(r) < needs:
        raise InsufficientData(f"Monte Carlo VaR at {1 - alpha:.1%}", needs, len(r))
    sims_needed = math.ceil(round(MIN_TAIL_SIMULATIONS / alpha, 9))
    if n_sims < sims_needed:
        raise AnalyticsError(f"n_sims must be at least {sims_needed} at {1 - alpha:.1%} (got {n_sims})")
    days = np.random.default_rng(seed).integers(0, len(r), size=(n_sims, horizon))
    var, cvar, _ = _tail(np.prod(1.0 + r[days], axis=1) - 1.0, alpha)
    return var, cvar


def value_at_risk(
    returns: np.ndarray,
    confidence: float = 0.95,
    method: str = "historical",
    horizon_days: int = 1,
    seed: int | None = None,
    n_sims: int = 100_000,
) -> VaR:
    """VaR and CVaR of daily simple returns over ``horizon_days`` by one of ``METHODS`` (see the module text).

    ``seed`` and ``n_sims`` apply to ``monte_carlo`` only. All-zero returns give var = cvar = 0.
    """
    alpha = _check_confidence(confidence)
    _check_horizon(horizon_days)
    r = _check_returns(returns, ndim=1)
    if method == "historical":
        var, cvar = _historical(r, alpha, horizon_days)
    elif method == "parametric":
        var, cvar = _parametric(r, alpha, horizon_days)
    elif method == "cornish_fisher":
        var, cvar = _cornish_fisher(r, alpha, horizon_days)
    elif method == "monte_carlo":
        var, cvar = _monte_carlo(r, alpha, horizon_days, seed, n_sims)
    else:
        raise AnalyticsError(f"unknown VaR method {method!r}; choose one of {', '.join(METHODS)}")
    # + 0.0 turns the −0.0 of a zero loss into 0.0
    return VaR(method, confidence, int(horizon_days), var + 0.0, cvar + 0.0, len(r))


def var_table(
    returns: np.ndarray,
    confidences: tuple[float, ...] = (0.95, 0.99),
    horizons: tuple[int, ...] = (1, 10),
    seed: int = 0,
) -> list[VaR]:
    """Every method at every confidence and horizon, ordered by confidence, then horizon, then ``METHODS``.

    A method that refuses these returns (e.g. Cornish-Fisher where its expansion turns over in the tail, or too
    few observations) gives a row without figures and with the reason; the other methods still answer.
    """
    r = _check_returns(returns, ndim=1)
    rows = []
    for confidence in confidences:
        for horizon in horizons:
            for method in METHODS:
                try:
                    rows.append(value_at_risk(r, confidence, method, horizon, seed=seed))
                except AnalyticsError as exc:
                    rows.append(VaR(method, confidence, horizon, None, None, len(r), str(exc)))
    return rows


def _check_weights(weights: np.ndarray, n_assets: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.shape != (n_assets,):
        raise AnalyticsError(f"weights must have one entry per asset ({n_assets}), got shape {w.shape}")
    if not np.isfinite(w).all():
        raise AnalyticsError("weights contain NaN or infinite values")
    return w


def _percent(parts: np.ndarray, total: float, what: str) -> np.ndarray:
    if total == 0:
        raise AnalyticsError(f"the portfolio's {what} is zero, so shares of it are undefined")
    return parts / total


def component_var(
    asset_returns: np.ndarray, weights: np.ndarray, confidence: float = 0.95, horizon_days: int = 1
) -> ComponentVaR:
    """Euler allocation of the parametric VaR and the historical CVaR to the assets.

    Parametric (normal, as ``value_at_risk(R @ w, method="parametric")``): with μ the sample means, S the
    sample covariance (ddof = 1) and σ_p = √(wᵀSw), VaR(w) = −h wᵀμ − z√h σ_p is homogeneous of degree 1,
    so the marginals ∂VaR/∂w_i = −hμ_i − z√h (Sw)_i/σ_p and components w_i ∂VaR/∂w_i add up to it
    (Jorion, *Value at Risk*, ch. 7; PerformanceAnalytics ``VaR(portfolio_method="component",
    method="gaussian")``). Sw is computed as R_cᵀ(R_c w)/(T − 1) without forming S.

    Historical: on the h-day buy-and-hold window returns R_h (compounded per asset), the portfolio's
    p = R_h w has CVaR = −mean(p | p ≤ q) (q as ``value_at_risk``'s historical one); the contribution
    −w_i mean(R_h,i | p ≤ q) of each asset adds up to it exactly (Tasche 2000). At h = 1 this is the
    historical CVaR of R @ w; for h > 1 it holds the weights over each window rather than rebalancing daily.

    Weights are values as fractions of the portfolio's value and may be any real numbers (shorts, leverage).
    """
    alpha = _check_confidence(confidence)
    _check_horizon(horizon_days)
    r = _check_returns(asset_returns, ndim=2)
    w = _check_weights(weights, r.shape[1])
    needs = _historical_minimum(alpha) + horizon_days - 1
    if len(r) < needs:
        raise InsufficientData(f"{horizon_days}-day component VaR at {confidence:.1%}", needs, len(r))

    centred = r - r.mean(axis=0)
    portfolio = centred @ w
    sigma = float(np.sqrt(portfolio @ portfolio / (len(r) - 1)))
    if sigma <= len(r) * np.finfo(float).eps * np.abs(r @ w).max():  # zero up to the rounding of the means
        raise AnalyticsError("the portfolio's returns do not vary, so its VaR has no risk to allocate")
    z, h = norm.ppf(alpha), horizon_days
    marginal = -h * r.mean(axis=0) - z * np.sqrt(h) * (centred.T @ portfolio) / (len(r) - 1) / sigma
    component = w * marginal
    total = float(component.sum())

    windows = _compounded(r, horizon_days)
    _, cvar, in_tail = _tail(windows @ w, alpha)
    cvar_component = -w * windows[in_tail].mean(axis=0)
    return ComponentVaR(
        confidence,
        int(horizon_days),
        total,
        marginal,
        component,
        _percent(component, total, "VaR"),
        cvar,
        cvar_component,
        _percent(cvar_component, cvar, "CVaR"),
    )


def _pairwise_moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(co-deviation sums C, deviation sums V, counts n) over each pair's common rows (NaN = missing).

    With the presence mask M and X the values centred on column means (for accuracy), zero where missing:
    n = MᵀM, Σx = XᵀM (Σx_i over rows where i and j are present), Σx² = (X²)ᵀM, Σxy = XᵀX;
    C = Σxy − ΣxΣy/n and V[i, j] = Σx_i² − (Σx_i)²/n, so ρ = C / √(V Vᵀ).
    """
    present = np.isfinite(values)
    mask = present.astype(float)
    x = np.where(present, values - np.nanmean(values, axis=0), 0.0)
    counts = mask.T @ mask
    sums = x.T @ mask
    safe_counts = np.maximum(counts, 1.0)
    return x.T @ x - sums * sums.T / safe_counts, (x * x).T @ mask - sums**2 / safe_counts, counts


def correlation(asset_returns: pd.DataFrame, min_periods: int = MIN_OBSERVATIONS) -> tuple[pd.DataFrame, list[str]]:
    """The Pearson correlation matrix over pairwise-complete rows (as ``DataFrame.corr``) and a clustered order.

    Order: the leaves of scipy's average-linkage tree on the distance √(½(1 − ρ)) (López de Prado,
    *Advances in Financial Machine Learning*, §16.4) with ``optimal_ordering=True`` (adjacent leaves as
    similar as possible), so correlated assets sit next to each other in a heat map; with fewer than three
    assets every order is optimal and the input order is kept.
    Each pair needs ``min_periods`` common observations and a varying series on them.
    """
    values = asset_returns.to_numpy(dtype=float)
    names = [str(c) for c in asset_returns.columns]
    if len(set(names)) != len(names) or not names:
        raise AnalyticsError("correlation needs at least one column and unique column names")
    if np.isinf(values).any():
        raise AnalyticsError("returns contain infinite values")
    co, dev, counts = _pairwise_moments(values)
    i, j = np.unravel_index(np.argmin(counts), counts.shape)
    if counts[i, j] < min_periods:
        raise InsufficientData(f"the correlation of {names[i]} and {names[j]}", min_periods, int(counts[i, j]))
    # a deviation sum within rounding noise of the values' size means the series is flat on those rows
    noise = counts * (8 * np.finfo(float).eps * np.nanmax(np.abs(values), axis=0)[:, None]) ** 2
    if (dev <= noise).any():
        i, j = (int(k[0]) for k in np.nonzero(dev <= noise))
        raise AnalyticsError(f"{names[i]} does not vary over its common dates with {names[j]}; no correlation")
    rho = np.clip(co / np.sqrt(dev * dev.T), -1.0, 1.0)
    np.fill_diagonal(rho, 1.0)
    frame = pd.DataFrame(rho, index=asset_returns.columns, columns=asset_returns.columns)
    if len(names) < 3:
        return frame, names
    distance = np.sqrt(0.5 * (1.0 - rho))
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average", optimal_ordering=True)
    return frame, [names[k] for k in leaves_list(tree)]


def rolling_correlation(a: pd.Series, b: pd.Series, window: int) -> pd.Series:
    """Pearson correlation of a and b over each run of ``window`` common observations, labelled by its last date.

    The series are aligned on their index and rows missing either value dropped (so a window counts
    observations, not calendar days); pandas' ``a.rolling(window).corr(b)`` on the same rows gives the same
    numbers. Window sums are differences of cumulative sums of the mean-centred series.
    """
    if window < 2:
        raise AnalyticsError(f"window must be at least 2 observations (got {window})")
    both = pd.concat([a, b], axis=1, join="inner").dropna()
    if len(both) < window:
        raise InsufficientData(f"a {window}-observation rolling correlation", window, len(both))
    xy = both.to_numpy(dtype=float)
    if np.isinf(xy).any():
        raise AnalyticsError("returns contain infinite values")
    flat = np.ptp(sliding_window_view(xy, window, axis=0), axis=-1) == 0
    if flat.any():
        end = both.index[int(np.argmax(flat.any(axis=1))) + window - 1]
        raise AnalyticsError(f"a series does not vary in the {window} observations ending {end}")
    x, y = (xy - xy.mean(axis=0)).T

    def window_sums(v: np.ndarray) -> np.ndarray:
        running = np.concatenate(([0.0], np.cumsum(v)))
        return running[window:] - running[:-window]

    sx, sy = window_sums(x), window_sums(y)
    cov = window_sums(x * y) - sx * sy / window
    var_x, var_y = window_sums(x * x) - sx**2 / window, window_sums(y * y) - sy**2 / window
    rho = np.clip(cov / np.sqrt(var_x * var_y), -1.0, 1.0)
    return pd.Series(rho, index=both.index[window - 1 :], name="correlation")


def betas(asset_returns: np.ndarray, benchmark: np.ndarray, min_periods: int = MIN_OBSERVATIONS) -> np.ndarray:
    """OLS slope of each column on the benchmark: β_i = Σ(b − b̄)(r_i − r̄_i) / Σ(b − b̄)² (empyrical ``beta``).

    NaN marks a missing return: each column uses the rows where it and the benchmark are both present,
    with means over those rows (empyrical's pairwise treatment). Each column needs ``min_periods`` of them.
    """
    r, b = np.asarray(asset_returns, dtype=float), np.asarray(benchmark, dtype=float)
    if r.ndim != 2 or b.shape != (r.shape[0],):
        raise AnalyticsError(f"need a T×N returns array and a length-T benchmark (got {r.shape} and {b.shape})")
    if np.isinf(r).any() or np.isinf(b).any():
        raise AnalyticsError("returns contain infinite values")
    both = np.isfinite(r) & np.isfinite(b)[:, None]
    counts = both.sum(axis=0)
    if (counts < min_periods).any():
        column = int(np.argmin(counts))
        raise InsufficientData(f"the beta of column {column}", min_periods, int(counts[column]))
    flat = np.where(both, b[:, None], np.inf).min(axis=0) == np.where(both, b[:, None], -np.inf).max(axis=0)
    if flat.any():
        raise AnalyticsError(f"the benchmark does not vary over column {int(np.argmax(flat))}'s dates")
    bench = np.where(both, b[:, None], 0.0)
    bench = np.where(both, bench - bench.sum(axis=0) / counts, 0.0)
    assets = np.where(both, r, 0.0)
    assets = np.where(both, assets - assets.sum(axis=0) / counts, 0.0)
    return (bench * assets).sum(axis=0) / (bench * bench).sum(axis=0)
