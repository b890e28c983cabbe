"""Return attribution: holdings' contributions and Brinson-Fachler sector attribution, linked over time.

Conventions:
- Weights are start-of-period fractions of the portfolio's value; a period's return is R_t = Σ_i w_it r_it
  (a weight residual 1 − Σ w is cash at zero return in ``contributions``). Returns are simple returns.
- Multi-period linking is Carino's (1999) logarithmic smoothing: a period's arithmetic effects are scaled by
  k_t / K, with k(a, b) = (ln(1 + a) − ln(1 + b)) / (a − b) (and 1 / (1 + a) when a = b),
  k_t = k(R_pt, R_bt), K = k(R_p, R_b) over the compounded returns R = Π(1 + R_t) − 1. Then
  Σ_t (k_t / K)(R_pt − R_bt) = R_p − R_b exactly, so linked effects add up to the compounded active return
  (Bacon, "Practical Portfolio Performance Measurement and Attribution", 2nd ed., section 8.2;
  R PortfolioAttribution ``Carino``). Contributions use the same factors against a zero benchmark.
- Brinson-Fachler (1985), per sector s: allocation (wp − wb)(rb_s − Rb), selection wb (rp_s − rb_s),
  interaction (wp − wb)(rp_s − rb_s) (Bacon, chapter 5). Σ_s of the three = Rp − Rb when Σ wp = Σ wb = 1.
  A sector the portfolio does not hold takes rp_s = rb_s (no selection or interaction); one the benchmark
  does not hold takes rb_s = rp_s (its whole effect is allocation, wp (rp_s − Rb)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError, InsufficientData

EFFECTS = ["allocation", "selection", "interaction"]
WEIGHT_TOLERANCE = 1e-6


def carino(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Carino's factor k(a, b) = ln((1 + a) / (1 + b)) / (a − b), 1 / (1 + b) at a = b (its limit).

    Computed as log1p(d) / (d (1 + b)) with d = (a − b) / (1 + b), accurate when a ≈ b.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = (a - b) / (1.0 + b)
    ratio = np.where(d == 0, 1.0, np.log1p(d) / np.where(d == 0, 1.0, d))
    return ratio / (1.0 + b)


def _compounded(period_returns: np.ndarray, what: str, dates: pd.Index) -> float:
    """Π(1 + R_t) − 1; AnalyticsError naming the first period with R_t ≤ −100 % (no log linking there)."""
    wiped = np.flatnonzero(period_returns <= -1.0)
    if len(wiped):
        raise AnalyticsError(f"the {what} lost 100 % or more on {dates[wiped[0]]}: returns cannot be linked")
    return float(np.prod(1.0 + period_returns) - 1.0)


def _weighted(weights: pd.DataFrame, returns: pd.DataFrame) -> np.ndarray:
    """w × r with missing weights as 0; AnalyticsError naming a missing return under a non-zero weight."""
    w = weights.to_numpy(dtype=float)
    r = returns.reindex(index=weights.index, columns=weights.columns).to_numpy(dtype=float)
    w = np.where(np.isnan(w), 0.0, w)
    gap = np.isnan(r) & (w != 0)
    if gap.any():
        t, i = np.argwhere(gap)[0]
        raise AnalyticsError(f"no return for {weights.columns[i]} on {weights.index[t]}, where it has weight {w[t, i]}")
    return np.where(w == 0, 0.0, w * np.nan_to_num(r))


def contributions(weights: pd.DataFrame, returns: pd.DataFrame) -> pd.Series:
    """Each holding's contribution to the compounded portfolio return, Carino-linked.

    c_i = Σ_t (k_t / K) w_it r_it with k_t = k(R_t, 0), K = k(R, 0), R_t = Σ_i w_it r_it and
    R = Π(1 + R_t) − 1, so Σ_i c_i = R exactly. ``weights``: start-of-period weights (date × symbol);
    ``returns``: the same periods' simple returns (missing where the weight is 0 is fine).
    """
    if weights.empty:
        raise InsufficientData("contributions", 1, 0)
    products = _weighted(weights, returns)
    period = products.sum(axis=1)
    total = _compounded(period, "portfolio", weights.index)
    scale = carino(period, 0.0) / carino(total, 0.0)
    return pd.Series(scale @ products, index=weights.columns, name="contribution")


def _check_returns(w: np.ndarray, r: np.ndarray, what: str, dates: pd.Index, sectors: pd.Index) -> None:
    """AnalyticsError for a sector with weight but no return, or weights that do not sum to 1."""
    gap = np.isnan(r) & (w != 0)
    if gap.any():
        t, s = np.argwhere(gap)[0]
        raise AnalyticsError(f"the {what} has weight in {sectors[s]} on {dates[t]} but no return for it")
    sums = w.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > WEIGHT_TOLERANCE)
    if len(off):
        t = off[0]
        raise AnalyticsError(f"the {what} weights on {dates[t]} sum to {sums[t]:.6f}, not 1: include cash as a sector")


def _effects(
    wp: np.ndarray, rp: np.ndarray, wb: np.ndarray, rb: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Brinson-Fachler effects per period and sector (T × S) and the periods' Rp, Rb (module conventions)."""
    rp = np.where(wp == 0, rb, rp)
    rb = np.where(wb == 0, rp, rb)
    rp, rb = np.nan_to_num(rp), np.nan_to_num(rb)
    port, bench = (wp * rp).sum(axis=1), (wb * rb).sum(axis=1)
    active = wp - wb
    return active * (rb - bench[:, None]), wb * (rp - rb), active * (rp - rb), port, bench


def _table(sectors: pd.Index, allocation: np.ndarray, selection: np.ndarray, interaction: np.ndarray) -> pd.DataFrame:
    """Effects by sector with their total."""
    table = pd.DataFrame(dict(zip(EFFECTS, (allocation, selection, interaction), strict=True)), index=sectors)
    return table.assign(total=table.sum(axis=1)).rename_axis("sector")


def _attribution_inputs(
    wp: pd.DataFrame, rp: pd.DataFrame, wb: pd.DataFrame, rb: pd.DataFrame
) -> tuple[pd.Index, tuple[np.ndarray, ...]]:
    """The four inputs on one period × sector grid (sectors: the union of the weights'; a missing weight is 0),
    validated by ``_check_returns``."""
    for name, frame in (("portfolio returns", rp), ("benchmark weights", wb), ("benchmark returns", rb)):
        if not frame.index.equals(wp.index):
            raise AnalyticsError(f"the {name} must cover the same dates as the portfolio weights")
    sectors = wp.columns.union(wb.columns, sort=False)
    w_p, w_b = (frame.reindex(columns=sectors).fillna(0.0).to_numpy(dtype=float) for frame in (wp, wb))
    r_p, r_b = (frame.reindex(columns=sectors).to_numpy(dtype=float) for frame in (rp, rb))
    _check_returns(w_p, r_p, "portfolio", wp.index, sectors)
    _check_returns(w_b, r_b, "benchmark", wp.index, sectors)
    return sectors, (w_p, r_p, w_b, r_b)


def brinson_fachler(wp: pd.Series, rp: pd.Series, wb: pd.Series, rb: pd.Series) -> pd.DataFrame:
    """Single-period Brinson-Fachler attribution by sector (module doc for the formulas and conventions).

    ``wp``/``wb``: portfolio and benchmark sector weights (each summing to 1); ``rp``/``rb``: their sector
    returns. Rows: the union of sectors; columns allocation, selection, interaction, total.
    Σ total = Rp − Rb with Rp = Σ wp rp, Rb = Σ wb rb (Bacon 2008, chapter 5: its example is in the tests).
    """
    period = pd.Index(["the period"])
    frames = [series.to_frame().T.set_axis(period) for series in (wp, rp, wb, rb)]
    sectors, arrays = _attribution_inputs(*frames)
    allocation, selection, interaction, _, _ = _effects(*arrays)
    return _table(sectors, allocation[0], selection[0], interaction[0])


def brinson_fachler_linked(wp: pd.DataFrame, rp: pd.DataFrame, wb: pd.DataFrame, rb: pd.DataFrame) -> pd.DataFrame:
    """Brinson-Fachler over many periods (date × sector frames, start-of-period weights), Carino-linked.

    Each period's effects are scaled by k(R_pt, R_bt) / k(R_p, R_b) and summed (module doc), so the sectors'
    totals add up to R_p − R_b, the compounded portfolio return minus the compounded benchmark return.
    """
    if wp.empty:
        raise InsufficientData("a linked attribution", 1, 0)
    sectors, arrays = _attribution_inputs(wp, rp, wb, rb)
    allocation, selection, interaction, port, bench = _effects(*arrays)
    total_p = _compounded(port, "portfolio", wp.index)
    total_b = _compounded(bench, "benchmark", wp.index)
    scale = carino(port, bench) / carino(total_p, total_b)
    return _table(sectors, scale @ allocation, scale @ selection, scale @ interaction)


def sector_view(weights: pd.DataFrame, returns: pd.DataFrame, sectors: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Holdings (date × symbol) grouped into sectors: weight W_s = Σ_{i∈s} w_i and return
    R_s = Σ_{i∈s} w_i r_i / W_s (NaN where W_s = 0: the return of an empty sector is undefined, and the
    attribution ignores it). ``sectors`` maps every symbol to a sector (cash too, e.g. "Cash")."""
    members = sectors.reindex(weights.columns)
    unmapped = weights.columns[members.isna().to_numpy()]
    if len(unmapped):
        raise AnalyticsError(f"no sector for {', '.join(map(str, unmapped))}")
    products = pd.DataFrame(_weighted(weights, returns), index=weights.index, columns=weights.columns)
    sector_weights = weights.fillna(0.0).T.groupby(members).sum().T
    sector_returns = products.T.groupby(members).sum().T / sector_weights.where(sector_weights != 0)
    return sector_weights, sector_returns


def universe_benchmark(asset_returns: pd.DataFrame, sectors: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled universe as an attribution benchmark: equal weight 1 / n_t across the n_t stocks that have
    a return on day t (rebalanced daily), grouped by ``sector_view`` into (sector weights, sector returns),
    date × sector. Days on which no stock has a return are left out. A stand-in for SPY, whose holdings are
    not bundled."""
    available = asset_returns.notna()
    count = available.sum(axis=1)
    weights = available.loc[count > 0].div(count[count > 0], axis=0).astype(float)
    return sector_view(weights, asset_returns.loc[count > 0], sectors)
