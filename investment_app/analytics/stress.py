"""Stress tests: replay of historical crises and hypothetical factor shocks, holding by holding.

Replay (``replay``): each holding's return over a crisis window is read from its own adjusted closes,
P(t1) / P(t0) − 1, where t0 is the benchmark's first trading day on or after the crisis start and t1 its
last trading day on or before the crisis end (both closes included, so the first day's move is not).
Most crises run from the S&P 500's closing peak to its closing trough, so the benchmark's window return is
the published peak-to-trough move (S&P Dow Jones Indices closing levels; total return for SPY). A holding
without a price on t0 or t1 (listed later, delisted, a gap) gets a proxy β × benchmark window return,
β the OLS slope of its daily returns on the benchmark's over all their common days (empyrical ``beta``
with rf = 0), or β = 1 with fewer than ``min_beta_obs`` common days.

Shocks (``shock``): a linear factor model r_i = α_i + β_iᵀ f + ε_i, with β_i the multivariate OLS
coefficients of the holding's daily returns on the shocked factors jointly. The expected return given the
shocked factors' move s is E[r_i | f_S = s] = β_iᵀ s, the conditional mean of a joint normal (the
regression line) for an instantaneous move (the drift α over no time is dropped). Daily betas are applied
to a move of any size (the linear model's assumption); a predicted loss beyond −100 % is capped at −100 %
with a note. A holding whose own ``symbol:<S>`` factor is shocked takes that shock exactly.

P&L = value × return; cash has zero P&L and counts in the portfolio value, so
portfolio return = Σ P&L / (Σ values + cash).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError, InsufficientData

MIN_OBS = 60
MARKET = "market"
SECTOR_PREFIX = "sector:"
SYMBOL_PREFIX = "symbol:"


@dataclass(frozen=True)
class Crisis:
    """A historical stress window from the close of ``start`` to the close of ``end`` (mostly the S&P 500's
    closing peak and trough)."""

    key: str
    name: str
    start: date
    end: date
    description: str


CRISES: tuple[Crisis, ...] = (
    Crisis(
        "ltcm_1998",
        "LTCM and Russian default (1998)",
        date(1998, 7, 17),
        date(1998, 8, 31),
        "Russia's default and the near-collapse of Long-Term Capital Management: S&P 500 −19.3 %.",
    ),
    Crisis(
        "dotcom",
        "Dot-com bust (2000–2002)",
        date(2000, 3, 24),
        date(2002, 10, 9),
        "The technology bubble deflates, then 9/11 and the accounting scandals: S&P 500 −49.1 %.",
    ),
    Crisis(
        "gfc_peak_to_trough",
        "Global financial crisis, peak to trough (2007–2009)",
        date(2007, 10, 9),
        date(2009, 3, 9),
        "From the pre-crisis high to the March 2009 low: S&P 500 −56.8 %.",
    ),
    Crisis(
        "gfc_autumn_2008",
        "Lehman collapse (Sep–Nov 2008)",
        date(2008, 9, 1),
        date(2008, 11, 20),
        "Lehman Brothers fails, AIG is rescued, credit markets freeze: S&P 500 −41.1 %.",
    ),
    Crisis(
        "us_downgrade_2011",
        "US downgrade and euro crisis (2011)",
        date(2011, 7, 22),
        date(2011, 10, 3),
        "The debt-ceiling standoff, S&P's downgrade of US debt and the euro-area debt crisis: S&P 500 −18.3 %.",
    ),
    Crisis(
        "q4_2018",
        "Q4 2018 sell-off",
        date(2018, 9, 20),
        date(2018, 12, 24),
        "Fed tightening and US–China trade-war fears: S&P 500 −19.8 %.",
    ),
    Crisis(
        "covid_2020",
        "COVID-19 crash (2020)",
        date(2020, 2, 19),
        date(2020, 3, 23),
        "The pandemic lockdowns: the fastest 30 % fall on record, S&P 500 −33.9 %.",
    ),
    Crisis(
        "rate_shock_2022",
        "Inflation and rate shock (2022)",
        date(2022, 1, 3),
        date(2022, 10, 12),
        "Inflation at 40-year highs and the fastest Fed hikes since the 1980s: S&P 500 −25.4 %.",
    ),
)


def crisis(key: str) -> Crisis:
    """The crisis in ``CRISES`` with this key; AnalyticsError naming the known keys otherwise."""
    for item in CRISES:
        if item.key == key:
            return item
    raise AnalyticsError(f"unknown crisis {key!r}; known: {', '.join(c.key for c in CRISES)}")


@dataclass(frozen=True)
class StressResult:
    """A stress test's outcome.

    ``rows`` is indexed by symbol, sorted worst P&L first, with columns value, return, pnl, note and
    - for a replay: proxy (True when the return is β × benchmark) and beta (the β used; NaN when the
      holding's own prices were used);
    - for a shock: proxy False, beta (the β on the shocked factor; NaN when several are shocked) and one
      ``beta:<factor>`` column per shocked factor; the note spells out the betas.
    ``start``/``end`` are the trading days the replay priced (for a shock: the span of the shocked factors'
    common history). ``benchmark_return`` is None for a shock without a ``market`` factor.
    """

    name: str
    start: date
    end: date
    portfolio_return: float
    portfolio_pnl: float
    benchmark_return: float | None
    rows: pd.DataFrame
    cash: float = 0.0

    def worst(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` holdings with the largest losses (the first rows)."""
        return self.rows.head(n)


def _holdings(values: pd.Series, cash: float) -> pd.Series:
    """Market values as floats, validated: unique symbols, finite, positive total with cash."""
    held = values.astype(float)
    if held.empty:
        raise AnalyticsError("no holdings to stress")
    if held.index.has_duplicates:
        raise AnalyticsError(f"holdings listed twice: {', '.join(map(str, held.index[held.index.duplicated()]))}")
    bad = held.index[~np.isfinite(held.to_numpy())]
    if len(bad) or not np.isfinite(cash):
        raise AnalyticsError(f"market values must be finite numbers (not for {', '.join(map(str, bad)) or 'cash'})")
    if held.sum() + cash <= 0:
        raise AnalyticsError("the portfolio has no positive value to stress")
    return held


def _require_dates(index: pd.Index, what: str) -> None:
    """AnalyticsError unless ``index`` is a DatetimeIndex."""
    if not isinstance(index, pd.DatetimeIndex):
        raise AnalyticsError(f"{what} must be indexed by date (a DatetimeIndex)")


def ols_slopes(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS slopes of every column of ``y`` (T × N) on the columns of ``x`` (T × K), with an intercept.

    Column n is regressed on the rows where y[:, n] and every x are finite (its own history):
    β_n = S_xx⁻¹ S_xy with S the centred cross-product sums over those rows, the normal equations
    of ``np.linalg.lstsq`` on [1, x] (with K = 1: cov(x, y) / var(x), empyrical ``beta``). One batched
    solve for all columns. Returns (β: N × K, observations: N); β is NaN where a column has ≤ K rows.
    """
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)[:, None]
    m, x0, y0 = ok.astype(float), np.nan_to_num(x), np.where(ok, y, 0.0)
    n = ok.sum(axis=0)
    k = x.shape[1]
    fit = n > k
    safe_n = np.where(fit, n, 1)[:, None]
    mx, my = (m.T @ x0) / safe_n, y0.sum(axis=0)[:, None] / safe_n
    sxx = (m.T @ (x0[:, :, None] * x0[:, None, :]).reshape(len(x0), k * k)).reshape(-1, k, k)
    sxx -= safe_n[:, :, None] * mx[:, :, None] * mx[:, None, :]
    sxy = y0.T @ x0 - safe_n * mx * my
    sxx[~fit] = np.eye(k)
    try:
        beta = np.linalg.solve(sxx, sxy[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError as exc:
        raise AnalyticsError("a regressor does not vary over a holding's history; no beta exists") from exc
    beta[~fit] = np.nan
    return beta, n


def _window(bench: pd.Series, event: Crisis) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(t0, t1): the benchmark's first trading day ≥ start and last ≤ end; it must cover the window."""
    start, end = pd.Timestamp(event.start), pd.Timestamp(event.end)
    inside = bench.index[(bench.index >= start) & (bench.index <= end)]
    if len(inside) < 2 or bench.index[0] > start:
        raise AnalyticsError(
            f"the benchmark has no prices covering {event.name} ({event.start} to {event.end}); "
            f"its history starts on {bench.index[0].date() if len(bench) else 'no date'}"
        )
    return inside[0], inside[-1]


def _rows(values: pd.Series, returns: np.ndarray, extra: dict[str, object]) -> pd.DataFrame:
    """The per-holding table, worst P&L first."""
    rows = pd.DataFrame({"value": values, "return": returns, "pnl": values.to_numpy() * returns, **extra})
    return rows.rename_axis("symbol").sort_values("pnl", kind="stable")


def _result(
    name: str, span: tuple[pd.Timestamp, pd.Timestamp], rows: pd.DataFrame, benchmark: float | None, cash: float
) -> StressResult:
    """Totals over the rows plus cash: pnl = Σ pnl, return = pnl / (Σ value + cash)."""
    pnl = float(rows["pnl"].sum())
    total = float(rows["value"].sum()) + cash
    return StressResult(name, span[0].date(), span[1].date(), pnl / total, pnl, benchmark, rows, float(cash))


def _window_prices(px: pd.DataFrame, t0: pd.Timestamp, t1: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Each holding's prices on t0 and t1 (NaN where it has none); AnalyticsError for a price ≤ 0."""
    p0, p1 = px.loc[t0].to_numpy(), px.loc[t1].to_numpy()
    if np.any(p0 <= 0) or np.any(p1 <= 0):
        raise AnalyticsError(f"a price on {t0.date()} or {t1.date()} is not positive: check the adjusted closes")
    return p0, p1


def _proxy_notes(gaps: np.ndarray, obs: np.ndarray, min_obs: int) -> list[str]:
    """Why and how each proxied holding was priced."""
    return [
        f"no price on {gap}; " + (f"β from {n} days" if n >= min_obs else f"only {n} days of history, β = 1 assumed")
        for gap, n in zip(gaps, obs, strict=True)
    ]


def replay(
    crisis: Crisis,
    values: pd.Series,
    prices: pd.DataFrame,
    benchmark: pd.Series,
    min_beta_obs: int = MIN_OBS,
    cash: float = 0.0,
) -> StressResult:
    """Replay a historical crisis on today's holdings (``values``: symbol → market value).

    ``prices``: adjusted closes (DatetimeIndex × symbol, NaN where a symbol did not trade);
    ``benchmark``: the benchmark's adjusted closes. Window t0..t1 on the benchmark's calendar (module doc);
    return_i = P_i(t1) / P_i(t0) − 1, or the proxy β_i × (B(t1) / B(t0) − 1) when P_i(t0) or P_i(t1) is
    missing, β_i the OLS slope of daily returns on the benchmark's over all common days (β = 1 with fewer
    than ``min_beta_obs`` of them). A symbol absent from ``prices`` is proxied with β = 1.
    """
    held = _holdings(values, cash)
    _require_dates(prices.index, "prices")
    _require_dates(benchmark.index, "the benchmark")
    bench = benchmark.dropna().sort_index()
    t0, t1 = _window(bench, crisis)
    bench_return = float(bench[t1] / bench[t0] - 1.0)
    px = prices.reindex(index=bench.index, columns=held.index).astype(float)
    p0, p1 = _window_prices(px, t0, t1)
    direct = np.isfinite(p0) & np.isfinite(p1)
    daily = px.loc[:, ~direct].pct_change(fill_method=None).to_numpy()
    slopes, obs = ols_slopes(daily, bench.pct_change().to_numpy()[:, None])
    beta = np.full(len(held), np.nan)
    need = max(min_beta_obs, 2)  # a slope needs two points
    beta[~direct] = np.where(obs >= need, slopes[:, 0], 1.0)
    gaps = np.where(np.isfinite(p0), str(t1.date()), str(t0.date()))[~direct]
    notes = np.full(len(held), "", dtype=object)
    notes[~direct] = _proxy_notes(gaps, obs, need)
    returns = np.where(direct, p1 / np.where(direct, p0, 1.0) - 1.0, beta * bench_return)
    rows = _rows(held, returns, {"proxy": ~direct, "beta": beta, "note": notes})
    return _result(crisis.name, (t0, t1), rows, bench_return, cash)


def factor_returns(asset_returns: pd.DataFrame, benchmark_returns: pd.Series, sectors: pd.Series) -> pd.DataFrame:
    """Daily factor returns on ``asset_returns``' dates: ``market`` (the benchmark's returns),
    ``sector:<name>`` (equal-weighted mean of the sector's stocks that have a return that day; NaN on a
    day none has) and ``symbol:<S>`` (each stock's own returns). ``sectors`` maps symbol → sector; a
    symbol without a sector is in no sector factor."""
    members = sectors.reindex(asset_returns.columns)
    by_sector = asset_returns.T.groupby(members).mean().T.add_prefix(SECTOR_PREFIX)
    market = benchmark_returns.reindex(asset_returns.index).rename(MARKET)
    return pd.concat([market, by_sector, asset_returns.add_prefix(SYMBOL_PREFIX)], axis=1)


def _check_shocks(shocks: dict[str, float], factors: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Shocked factor names and sizes; AnalyticsError for none, unknown factors and moves ≤ −100 %."""
    if not shocks:
        raise AnalyticsError("no factor shocked: give at least one, e.g. {'market': -0.2}")
    unknown = [name for name in shocks if name not in factors.columns]
    if unknown:
        raise AnalyticsError(f"unknown factor {', '.join(map(repr, unknown))}; known: {', '.join(factors.columns)}")
    sizes = np.array(list(shocks.values()), dtype=float)
    bad = [name for name, size in shocks.items() if not np.isfinite(size) or size <= -1.0]
    if bad:
        raise AnalyticsError(f"the shock to {', '.join(bad)} must be a finite return above −100 %")
    return list(shocks), sizes


def _factor_history(x: pd.DataFrame, min_obs: int) -> pd.DatetimeIndex:
    """Dates on which every shocked factor has a return; InsufficientData / collinearity checked."""
    days = x.index[np.isfinite(x.to_numpy()).all(axis=1)]
    if len(days) < min_obs:
        raise InsufficientData(f"the common history of {', '.join(x.columns)}", min_obs, len(days))
    centred = x.loc[days].to_numpy() - x.loc[days].to_numpy().mean(axis=0)
    if np.linalg.matrix_rank(centred) < x.shape[1]:
        raise AnalyticsError(f"the factors {', '.join(x.columns)} are collinear: shock fewer of them")
    return days


def _shock_betas(
    y: np.ndarray, labels: list[str], own: list[str], x: pd.DataFrame, min_obs: int
) -> tuple[np.ndarray, np.ndarray]:
    """β (targets × shocked factors) by ``ols_slopes``, and which targets are themselves a shocked factor:
    those get the unit row (β = 1 on their own factor, 0 on the others; OLS gives the same up to rounding)."""
    beta, obs = ols_slopes(y, x.to_numpy())
    short, need = int(np.argmin(obs)), max(min_obs, x.shape[1] + 1)
    if obs[short] < need:
        raise InsufficientData(f"the regression of {labels[short]} on {', '.join(x.columns)}", need, obs[short])
    names = np.array(x.columns)
    exact = np.isin(own, names)
    beta[exact] = np.array(own)[exact][:, None] == names[None, :]
    return beta, exact


def _shock_notes(beta: np.ndarray, exact: np.ndarray, capped: np.ndarray, names: list[str]) -> list[str]:
    """How each holding's shocked return was formed: its betas, or its own shock; and the −100 % cap."""
    cap = "; model loss beyond −100 %, capped"
    return [
        ("its own shock" if own else ", ".join(f"β {b:.2f} × {name}" for b, name in zip(row, names, strict=True)))
        + (cap if hit else "")
        for row, own, hit in zip(beta, exact, capped, strict=True)
    ]


def shock(
    values: pd.Series,
    asset_returns: pd.DataFrame,
    factors: pd.DataFrame,
    shocks: dict[str, float],
    cash: float = 0.0,
    min_obs: int = MIN_OBS,
) -> StressResult:
    """Propagate hypothetical factor moves (``shocks``: factor column → return) to the holdings.

    return_i = β_iᵀ s, β_i the OLS coefficients (with intercept) of holding i's daily returns on the shocked
    factors jointly, over the days where it and all of them have returns (at least ``min_obs``); see the module
    doc for the model. ``benchmark_return`` = β_marketᵀ s when ``factors`` has a ``market`` column (exactly its
    shock when it is shocked).
    """
    held = _holdings(values, cash)
    names, sizes = _check_shocks(shocks, factors)
    unknown = held.index.difference(asset_returns.columns)
    if len(unknown):
        raise AnalyticsError(f"no return history for {', '.join(map(str, unknown))}")
    days = asset_returns.index.intersection(factors.index)
    x = factors.loc[days, names].astype(float)
    span = _factor_history(x, min_obs)
    y = asset_returns.loc[days, held.index].to_numpy(dtype=float)
    labels, own = [str(s) for s in held.index], [SYMBOL_PREFIX + str(s) for s in held.index]
    with_market = MARKET in factors.columns
    if with_market:
        y, labels, own = np.column_stack([y, factors.loc[days, MARKET]]), [*labels, MARKET], [*own, MARKET]
    beta, exact = _shock_betas(y, labels, own, x, min_obs)
    expected = beta @ sizes
    n = len(held)
    single = beta[:n, 0] if len(names) == 1 else np.full(n, np.nan)
    extra = {f"beta:{name}": beta[:n, j] for j, name in enumerate(names)}
    notes = _shock_notes(beta[:n], exact[:n], expected[:n] < -1.0, names)
    rows = _rows(held, np.maximum(expected[:n], -1.0), {"proxy": False, "beta": single, "note": notes, **extra})
    label = "Shock: " + ", ".join(f"{name} {size:+.1%}" for name, size in shocks.items())
    return _result(label, (span[0], span[-1]), rows, max(float(expected[-1]), -1.0) if with_market else None, cash)
