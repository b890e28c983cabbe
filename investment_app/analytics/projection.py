"""Monte Carlo projection of a buy-and-hold portfolio's value, with periodic contributions or withdrawals.

Model: daily steps t = 1..H drawn from a history of T days × N assets of simple returns, with μ̂ and Σ̂
its sample mean and covariance (ddof = 1).

- ``normal``: r_t ~ N(μ̂, Σ̂), independent days.
- ``student_t``: multivariate t with ν degrees of freedom and scale Σ̂(ν − 2)/ν, so its covariance is Σ̂:
  r_t = μ̂ + √((ν − 2)/W_t)·L z_t with z_t ~ N(0, I), W_t ~ χ²_ν, L Lᵀ = Σ̂ (ν > 2). Every portfolio of
  the assets is then a Student t with ν degrees of freedom and excess kurtosis 6/(ν − 4). ``dof=None``
  estimates ν by matching that to the history's portfolio returns: ν = 4 + 6/k, k their sample excess
  kurtosis (pandas' bias-corrected estimator), which must be positive.
- ``bootstrap``: circular block bootstrap (Politis & Romano 1992): each path strings together blocks of
  ``block_size`` consecutive historical days, whole rows (all assets together), each block starting on a
  uniformly drawn day and wrapping from the last day to the first. It keeps the cross-correlation, the
  fat tails and the autocorrelation within a block; ``block_size=1`` is the i.i.d. bootstrap.

Portfolio, buy and hold (no rebalancing): v_i,0 = V₀w_i; v_i,t = v_i,t−1(1 + r_i,t); V_t = Σ_i v_i,t.
Flows come at the end of days t = k·``contribution_every`` (k ≥ 1, t ≤ H), after that day's return: a
contribution c > 0 buys c·w_i of each asset (the initial weights); a withdrawal c < 0 sells pro rata to
current values, v_i ← v_i(1 + c/V_t). A path whose value reaches 0 or below is depleted (values under
``DUST`` × V₀ count as 0: the rounding left by a withdrawal that empties the portfolio): from that day its
value stays 0 and it takes no more flows. (The normal and t models allow a daily return below −100 % with
a tiny probability; such a path is depleted too.)

Output: the 5th, 25th, 50th, 75th and 95th percentiles across paths (numpy's linear interpolation) of V_t
on the reporting ``days`` 0, s, 2s, … and H with s = ⌈H/252⌉ (every day up to a 252-day horizon), so memory
stays within n_paths × 254 values however long the horizon.

Numerics: L = U√Λ from Σ̂'s eigen-decomposition over the eigenvalues above rounding noise, so a singular
Σ̂ (a cash column, fewer days than assets) works and only rank(Σ̂) normals are drawn per path and day.
Paths run in chunks of ``CHUNK_PATHS``; chunk j draws from ``Generator(SFC64(SeedSequence(seed).spawn(n)[j]))``,
so a seed gives the same numbers however many threads run them. Chunks run on a thread pool (numpy releases
the GIL while it generates and in BLAS). In a chunk the days advance one at a time, each step vectorized over
paths × assets: flows and depletion need each day's holdings, and numpy's ``cumprod`` along the day axis
measured 20× slower here than this per-day multiply. Normals and their correlation z Lᵀ are float32 (relative
rounding 6e-8, i.e. about 1e-9 on a 2 % daily move, unbiased); means, compounding and values are float64.
z Lᵀ runs as a stack of GEMMs of at most 262,144 / (rank·N) rows, under OpenBLAS's size threshold for
starting its own threads, which would otherwise fight the chunk threads for the cores (measured 10× slower);
when fewer than ``MIN_GEMM_ROWS`` rows fit, the chunks run one after another and BLAS gets the cores.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.analytics.metrics import kurtosis

PROJECTION_METHODS = ("normal", "student_t", "bootstrap")
PERCENTILES = (5, 25, 50, 75, 95)
MIN_HISTORY = 20
MIN_PATHS = 100
MAX_STEPS = 252  # reporting intervals
CHUNK_PATHS = 1024
BLAS_SINGLE_THREAD_MNK = 65_536 * 4  # OpenBLAS runs a GEMM with m·n·k at most this on one thread
MIN_GEMM_ROWS = 4
DUST = 1e-9


@dataclass(frozen=True)
class Projection:
    """Percentiles of the simulated portfolio value on ``days``, outcome shares, and the inputs used.

    ``dof`` is the Student-t ν used (None for other methods); ``block_size`` is None unless bootstrapping.
    """

    method: str
    days: np.ndarray
    percentiles: dict[int, np.ndarray]
    final_percentiles: dict[int, float]
    mean_final: float
    prob_goal: float | None
    prob_depleted: float
    initial_value: float
    horizon_days: int
    n_paths: int
    seed: int
    contribution: float
    contribution_every: int
    goal: float | None
    block_size: int | None
    dof: float | None


@dataclass(frozen=True)
class _Model:
    """What every chunk needs: the day sampler's parameters and the portfolio's flows."""

    method: str
    horizon: int
    report_days: np.ndarray
    growth_mean: np.ndarray  # 1 + μ̂
    factor: np.ndarray  # Lᵀ, rank × N, float32
    history_growth: np.ndarray  # 1 + history
    dof: float | None
    block_size: int
    gemm_rows: int
    threaded: bool
    holdings: np.ndarray
    weights: np.ndarray
    contribution: float
    every: int
    dust: float


def _check_history(history: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r, w = np.asarray(history, dtype=float), np.asarray(weights, dtype=float)
    if r.ndim != 2 or w.shape != (r.shape[1],):
        raise AnalyticsError(f"need a days × assets history and one weight per asset (got {r.shape} and {w.shape})")
    if len(r) < MIN_HISTORY:
        raise InsufficientData("a projection", MIN_HISTORY, len(r))
    if not (np.isfinite(r).all() and np.isfinite(w).all()):
        raise AnalyticsError("the history or the weights contain NaN or infinite values")
    if (r < -1).any():
        raise AnalyticsError("the history contains a simple return below −100 %")
    if abs(w.sum() - 1.0) > 1e-6:
        raise AnalyticsError(f"weights must add up to 1 (they add up to {w.sum():.6g}); include cash as an asset")
    return r, w / w.sum()


def _check_settings(
    initial_value: float, horizon_days: int, n_paths: int, seed: int, flow: float, every: int, goal: float | None
) -> None:
    if not (np.isfinite(initial_value) and initial_value > 0):
        raise AnalyticsError(f"initial_value must be a positive amount (got {initial_value})")
    if not np.isfinite(flow):
        raise AnalyticsError(f"contribution must be a finite amount (got {flow})")
    for name, value, least in (("horizon_days", horizon_days, 1), ("n_paths", n_paths, MIN_PATHS)):
        if int(value) != value or value < least:
            raise AnalyticsError(f"{name} must be a whole number ≥ {least} (got {value})")
    if int(seed) != seed or seed < 0:
        raise AnalyticsError(f"seed must be a whole number ≥ 0 (got {seed})")
    if int(every) != every or every < 1:
        raise AnalyticsError(f"contribution_every must be a whole number of days ≥ 1 (got {every})")
    if goal is not None and not (np.isfinite(goal) and goal > 0):
        raise AnalyticsError(f"goal must be a positive amount or None (got {goal})")


def _report_days(horizon: int) -> np.ndarray:
    """0..H every ⌈H/252⌉ days, ending on H."""
    days = np.arange(0, horizon + 1, -(-horizon // MAX_STEPS))
    return days if days[-1] == horizon else np.append(days, horizon)


def _factor(cov: np.ndarray) -> np.ndarray:
    """Lᵀ = (U√Λ)ᵀ over the eigenvalues above n·eps·λ_max, as float32 (rank × N)."""
    eigenvalues, vectors = np.linalg.eigh(cov)
    keep = eigenvalues > max(eigenvalues.max(), 0.0) * len(cov) * np.finfo(float).eps
    return (vectors[:, keep] * np.sqrt(eigenvalues[keep])).T.astype(np.float32)


def _estimated_dof(portfolio_returns: np.ndarray) -> float:
    """ν = 4 + 6/k, k the sample excess kurtosis: a Student t's excess kurtosis is 6/(ν − 4)."""
    excess = kurtosis(portfolio_returns) if np.ptp(portfolio_returns) > 0 else 0.0
    if not excess > 0:
        raise AnalyticsError(
            f"the portfolio's returns have no excess kurtosis ({excess:.3g}) to fit a Student t to; "
            "give dof or use the normal model"
        )
    return 4.0 + 6.0 / excess


def _gaussian_growth(model: _Model, rng: np.random.Generator, n: int) -> Iterator[np.ndarray]:
    """1 + r_t for each day: μ̂ + z Lᵀ, times √((ν − 2)/W) with W = 2·Gamma(ν/2) ~ χ²_ν for the t model."""
    rank, n_assets = model.factor.shape
    blocks = -(-n // model.gemm_rows)
    z = np.empty((blocks, model.gemm_rows, rank), dtype=np.float32)
    shocks = np.empty((blocks, model.gemm_rows, n_assets), dtype=np.float32)
    flat = shocks.reshape(-1, n_assets)[:n]
    gamma = np.empty(n, dtype=np.float32)
    growth = np.empty((n, n_assets))
    for _ in range(model.horizon):
        rng.standard_normal(out=z, dtype=np.float32)
        np.matmul(z, model.factor, out=shocks)
        if model.dof is not None:
            rng.standard_gamma(model.dof / 2, out=gamma, dtype=np.float32)
            flat *= np.sqrt((model.dof - 2) / (2 * gamma))[:, None]
        np.add(flat, model.growth_mean, out=growth)
        yield growth


def _bootstrap_growth(model: _Model, rng: np.random.Generator, n: int) -> Iterator[np.ndarray]:
    """1 + r_t for each day: the historical row (start of the path's current block + offset) mod T."""
    days, length = len(model.history_growth), model.block_size
    starts = rng.integers(0, days, size=(n, -(-model.horizon // length)))
    growth = np.empty((n, model.history_growth.shape[1]))
    for step in range(model.horizon):
        rows = starts[:, step // length] + step % length
        rows[rows >= days] -= days
        np.take(model.history_growth, rows, axis=0, out=growth)
        yield growth


def _apply_flow(holdings: np.ndarray, value: np.ndarray, depleted: np.ndarray, model: _Model) -> np.ndarray:
    """Add c·w to each live path (c > 0) or scale its holdings by 1 + c/V (c < 0); the new values."""
    live = ~depleted & (value > model.dust)
    if model.contribution > 0:
        holdings[live] += model.contribution * model.weights
    else:
        holdings[live] *= (1.0 + model.contribution / value[live])[:, None]
    return holdings.sum(axis=1)


def _run_chunk(model: _Model, seed: np.random.SeedSequence, values: np.ndarray, depleted: np.ndarray) -> None:
    """Simulate ``values.shape[1]`` paths into ``values`` (reporting days × paths) and ``depleted`` (paths)."""
    n = values.shape[1]
    rng = np.random.Generator(np.random.SFC64(seed))
    sampler = _bootstrap_growth if model.method == "bootstrap" else _gaussian_growth
    holdings = np.tile(model.holdings, (n, 1))
    ones = np.ones(holdings.shape[1])
    value = np.empty(n)
    values[0] = model.holdings.sum()
    row = 1
    for day, growth in enumerate(sampler(model, rng, n), start=1):
        holdings *= growth
        np.matmul(holdings, ones, out=value)
        if model.contribution and day % model.every == 0:
            value = _apply_flow(holdings, value, depleted, model)
        hit = value <= model.dust
        if hit.any():
            holdings[hit], value[hit] = 0.0, 0.0
            depleted |= hit
        if day == model.report_days[row]:
            values[row] = value
            row += 1


def _simulate(model: _Model, n_paths: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(percentiles × reporting days, final values, depleted flags) of ``n_paths`` paths."""
    values = np.empty((len(model.report_days), n_paths))
    depleted = np.zeros(n_paths, dtype=bool)
    starts = range(0, n_paths, CHUNK_PATHS)
    seeds = np.random.SeedSequence(seed).spawn(len(starts))
    cores = os.cpu_count() or 1

    def run(start: int, chunk_seed: np.random.SeedSequence) -> None:
        paths = slice(start, start + CHUNK_PATHS)
        _run_chunk(model, chunk_seed, values[:, paths], depleted[paths])

    with ThreadPoolExecutor(min(len(starts), cores) if model.threaded else 1) as pool:
        list(pool.map(run, starts, seeds))  # list() waits and re-raises a chunk's error
        blocks = np.array_split(values, min(cores, len(values)))
        bands = np.concatenate(list(pool.map(lambda block: np.percentile(block, PERCENTILES, axis=1), blocks)), axis=1)
    return bands, values[-1], depleted


def _sampler_settings(
    r: np.ndarray, w: np.ndarray, method: str, block_size: int, dof: float | None
) -> tuple[np.ndarray, float | None]:
    """(Lᵀ, ν) for the chosen method, after checking its own settings (Lᵀ is empty when bootstrapping)."""
    if method not in PROJECTION_METHODS:
        raise AnalyticsError(f"unknown projection method {method!r}; choose one of {', '.join(PROJECTION_METHODS)}")
    if method == "bootstrap":
        if not (int(block_size) == block_size and 1 <= block_size <= len(r)):
            raise AnalyticsError(f"block_size must be a whole number of days from 1 to {len(r)} (got {block_size})")
        return np.empty((0, r.shape[1]), dtype=np.float32), None
    if method == "student_t" and dof is not None and not dof > 2:
        raise AnalyticsError(f"dof must exceed 2 for the t distribution to have a variance (got {dof})")
    if method == "student_t" and dof is None:
        dof = _estimated_dof(r @ w)
    return _factor(np.atleast_2d(np.cov(r, rowvar=False))), dof if method == "student_t" else None


def _gemm_rows(factor: np.ndarray) -> tuple[int, bool]:
    """(rows per GEMM, whether chunks may run on threads): single-threaded BLAS blocks, else one BLAS call."""
    rows = BLAS_SINGLE_THREAD_MNK // max(factor.size, 1)
    return (min(rows, CHUNK_PATHS), True) if rows >= MIN_GEMM_ROWS else (CHUNK_PATHS, False)


def project(
    history: np.ndarray,
    weights: np.ndarray,
    initial_value: float,
    horizon_days: int,
    n_paths: int = 10_000,
    method: str = "normal",
    seed: int = 0,
    contribution: float = 0.0,
    contribution_every: int = 21,
    goal: float | None = None,
    block_size: int = 21,
    dof: float | None = None,
) -> Projection:
    """Simulate ``n_paths`` futures of the portfolio over ``horizon_days`` (see the module text for the model).

    ``history`` is days × assets of simple returns, ``weights`` the current values as fractions of
    ``initial_value`` (adding up to 1; cash is an asset with zero returns). ``contribution`` is money added
    every ``contribution_every`` days (negative: withdrawn). ``prob_goal`` is the share of paths ending at or
    above ``goal``; ``prob_depleted`` the share that reached 0 at some point. Same inputs and seed, same output.
    """
    r, w = _check_history(history, weights)
    _check_settings(initial_value, horizon_days, n_paths, seed, contribution, contribution_every, goal)
    factor, dof_used = _sampler_settings(r, w, method, block_size, dof)
    gemm_rows, threaded = _gemm_rows(factor)
    model = _Model(
        method=method,
        horizon=int(horizon_days),
        report_days=_report_days(int(horizon_days)),
        growth_mean=1.0 + r.mean(axis=0),
        factor=factor,
        history_growth=1.0 + r,
        dof=dof_used,
        block_size=int(block_size),
        gemm_rows=gemm_rows,
        threaded=threaded,
        holdings=initial_value * w,
        weights=w,
        contribution=float(contribution),
        every=int(contribution_every),
        dust=DUST * initial_value,
    )
    bands, final, depleted = _simulate(model, int(n_paths), int(seed))
    return Projection(
        method=method,
        days=model.report_days,
        percentiles={p: band for p, band in zip(PERCENTILES, bands, strict=True)},
        final_percentiles={p: float(band[-1]) for p, band in zip(PERCENTILES, bands, strict=True)},
        mean_final=float(final.mean()),
        prob_goal=None if goal is None else float(np.mean(final >= goal)),
        prob_depleted=float(depleted.mean()),
        initial_value=float(initial_value),
        horizon_days=int(horizon_days),
        n_paths=int(n_paths),
        seed=int(seed),
        contribution=float(contribution),
        contribution_every=int(contribution_every),
        goal=goal,
        block_size=int(block_size) if method == "bootstrap" else None,
        dof=dof_used,
    )
