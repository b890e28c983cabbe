"""Expected-return and risk-model estimators with PyPortfolioOpt's conventions, vectorized in numpy.

Every estimator takes a prices DataFrame (dates × symbols, NaN before a symbol's first price) and works on the
returns of ``returns_from_prices``: simple returns, NaN where either price is missing, a row kept unless every
asset is NaN in it (PyPortfolioOpt 1.6). Expected returns come back as a Series and covariances as a DataFrame
labelled by symbol, annualised with ``frequency`` periods per year; each matches ``pypfopt.expected_returns`` /
``pypfopt.risk_models`` to 1e-10 (tests). Every pair of assets needs ``MIN_OVERLAP`` overlapping returns.
A risk model that is not positive semidefinite gets PyPortfolioOpt's spectral fix and says so in
``cov.attrs["psd_fix"]`` (``PSD_FIX_MESSAGE``, else None). ``RETURN_ESTIMATORS`` and ``RISK_ESTIMATORS`` map the
CLI's names to the functions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pandas.api import types as dtypes

from investment_app.analytics.errors import AnalyticsError, InsufficientData

MIN_OVERLAP = 20  # overlapping returns per pair of assets: about a month of daily data
SEMICOVARIANCE_BENCHMARK = 0.000079  # PyPortfolioOpt's default: 2 % a year as a daily rate, 1.02^(1/252) − 1
PSD_FIX_MESSAGE = (
    "the covariance matrix was not positive semidefinite: its negative eigenvalues were set to zero "
    "(PyPortfolioOpt's spectral fix)"
)


def returns_from_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """r_t = p_t / p_{t−1} − 1 per column (pandas ``pct_change(fill_method=None)``), NaN where either price is missing.

    The rows where every asset is NaN (the first) are dropped; rows holding some NaN are kept, as in PyPortfolioOpt's
    ``returns_from_prices`` (``dropna()`` would drop them). AnalyticsError for fewer than two assets and for
    non-numeric, infinite or non-positive prices.
    """
    values, dates = _returns(prices)
    return pd.DataFrame(values, index=dates, columns=prices.columns)


def mean_historical(prices: pd.DataFrame, compounding: bool = True, frequency: int = 252) -> pd.Series:
    """Per asset (Π(1 + r))^(frequency / n) − 1 over its n present returns (CAGR), or mean(r) × frequency.

    PyPortfolioOpt ``mean_historical_return``.
    """
    returns = _checked_returns(prices)[0]
    if compounding:
        missing = np.isnan(returns)
        growth = np.prod(np.where(missing, 1.0, 1.0 + returns), axis=0)
        return pd.Series(growth ** (frequency / (len(returns) - missing.sum(axis=0))) - 1.0, index=prices.columns)
    return pd.Series(np.nanmean(returns, axis=0) * frequency, index=prices.columns)


def ema_historical(prices: pd.DataFrame, span: int = 500, compounding: bool = True, frequency: int = 252) -> pd.Series:
    """m = Σ w_t r_t / Σ w_t, w_t = (1 − α)^(T−1−t), α = 2 / (span + 1); (1 + m)^frequency − 1, or m × frequency.

    The sums run over each asset's present returns, weighted by absolute position: pandas' ``ewm(span).mean()``
    (adjust=True, ignore_na=False) at the last date, as in PyPortfolioOpt ``ema_historical_return``.
    """
    returns = _checked_returns(prices)[0]
    mean = _ewm_cross(returns, np.ones((len(returns), 1)), span)[:, 0]
    annual = (1.0 + mean) ** frequency - 1.0 if compounding else mean * frequency
    return pd.Series(annual, index=prices.columns)


def capm(
    prices: pd.DataFrame,
    market_prices: pd.Series | pd.DataFrame | None = None,
    risk_free_rate: float = 0.0,
    compounding: bool = True,
    frequency: int = 252,
) -> pd.Series:
    """μ_i = rf + β_i (R_m − rf), β_i = cov(r_i, r_m) / var(r_m) over pairwise-present returns (ddof = 1).

    r_m is the market's return on the assets' return dates (a left join: NaN where the market has no price), or,
    without market prices, the mean of the assets' returns present each day (equal weights); R_m is its annual
    return (CAGR if compounding, else mean × frequency). ``risk_free_rate`` is annual. PyPortfolioOpt
    ``capm_return``.
    """
    returns, dates = _checked_returns(prices)
    if market_prices is None:
        market = np.nanmean(returns, axis=1)
    else:
        market = _market_returns(market_prices).reindex(dates).to_numpy(dtype=float)
    market = market.reshape(-1, 1)
    present = market[~np.isnan(market)]
    if len(present) < MIN_OVERLAP:
        raise InsufficientData("the market's returns on the assets' dates", MIN_OVERLAP, len(present))
    betas = _pairwise_cov(returns, market)[:, 0] / np.var(present, ddof=1)
    if compounding:
        market_return = np.prod(1.0 + present) ** (frequency / len(present)) - 1.0
    else:
        market_return = np.mean(present) * frequency
    return pd.Series(risk_free_rate + betas * (market_return - risk_free_rate), index=prices.columns)


def sample_cov(prices: pd.DataFrame, frequency: int = 252) -> pd.DataFrame:
    """Σ_ij = cov(r_i, r_j) × frequency over the dates where both are present, ddof = 1 (pandas ``DataFrame.cov``).

    PyPortfolioOpt ``sample_cov`` (then its spectral PSD fix).
    """
    returns = _checked_returns(prices)[0]
    return _risk_model(_pairwise_cov(returns, returns) * frequency, prices.columns)


def ledoit_wolf(prices: pd.DataFrame, frequency: int = 252) -> pd.DataFrame:
    """Ledoit & Wolf (2004) shrinkage to a constant variance: Σ = ((1 − δ) S + δ m I) × frequency.

    X: returns with NaN as 0 (a missing return counts as 0), centred; S = XᵀX / T; m = tr(S) / N; δ = min(b, d) / d with
    b = (Σ_t (Σ_i X_ti²)² / T − ‖S‖²) / (N T) and d = ‖S − m I‖² / N (Frobenius norms). That is
    scikit-learn's ``ledoit_wolf`` as PyPortfolioOpt ``CovarianceShrinkage.ledoit_wolf()`` calls it, with b's sum
    Σ_ij ((X²)ᵀX²)_ij taken as Σ_t (Σ_i X_ti²)² (one Gram matrix instead of two).
    """
    returns = _checked_returns(prices)[0]
    x = _zero_filled(returns)
    x -= x.mean(axis=0)
    periods, assets = x.shape
    sample = _gram(x) / periods
    variance = np.trace(sample) / assets
    squared_norm = np.sum(sample**2)
    b = (np.sum(np.einsum("ij,ij->i", x, x) ** 2) / periods - squared_norm) / (assets * periods)
    d = (squared_norm - 2.0 * variance * np.trace(sample) + assets * variance**2) / assets
    b = min(b, d)
    shrinkage = 0.0 if b == 0 else b / d
    shrunk = (1.0 - shrinkage) * sample
    shrunk.flat[:: assets + 1] += shrinkage * variance
    return _risk_model(shrunk * frequency, prices.columns)


def exp_cov(prices: pd.DataFrame, span: int = 180, frequency: int = 252) -> pd.DataFrame:
    """Σ_ij = ewm_span((r_i − r̄_i)(r_j − r̄_j)) at the last date × frequency.

    r̄_i is the mean of asset i's present returns; the exponentially weighted mean is pandas' (adjust=True,
    ignore_na=False: weights (1 − α)^(T−1−t) over the dates where both are present). PyPortfolioOpt ``exp_cov``.
    """
    returns = _checked_returns(prices)[0]
    centred = returns - np.nanmean(returns, axis=0)
    return _risk_model(_ewm_cross(centred, centred, span) * frequency, prices.columns)


def semicovariance(
    prices: pd.DataFrame, benchmark: float = SEMICOVARIANCE_BENCHMARK, frequency: int = 252
) -> pd.DataFrame:
    """Σ_ij = Σ_t d_ti d_tj / T × frequency, d = min(r − benchmark, 0), a missing return counting as d = 0.

    T counts every date; ``benchmark`` is per period (default PyPortfolioOpt's 0.000079 a day).
    PyPortfolioOpt ``semicovariance``.
    """
    returns = _checked_returns(prices)[0]
    drops = np.fmin(returns - benchmark, 0.0)
    return _risk_model(_gram(drops) / len(drops) * frequency, prices.columns)


def fix_nonpositive_semidefinite(matrix: np.ndarray) -> tuple[np.ndarray, bool]:
    """(matrix, False) if a Cholesky factorisation of matrix + 1e-16 I succeeds; else V diag(max(q, 0)) Vᵀ from
    its eigendecomposition V diag(q) Vᵀ, and True. PyPortfolioOpt ``fix_nonpositive_semidefinite`` ("spectral").

    AnalyticsError if the matrix holds NaN or infinite entries.
    """
    if not np.isfinite(matrix).all():
        raise AnalyticsError("the covariance matrix has missing or infinite entries: check the price history")
    try:
        np.linalg.cholesky(matrix + 1e-16 * np.eye(len(matrix)))
    except np.linalg.LinAlgError:
        eigenvalues, vectors = np.linalg.eigh(matrix)
        return (vectors * np.maximum(eigenvalues, 0.0)) @ vectors.T, True
    return matrix, False


def performance(
    weights: np.ndarray | pd.Series,
    mu: np.ndarray | pd.Series,
    cov: np.ndarray | pd.DataFrame,
    risk_free_rate: float = 0.0,
) -> tuple[float, float, float]:
    """(wᵀμ, √(wᵀΣw), (wᵀμ − rf) / √(wᵀΣw)): PyPortfolioOpt ``portfolio_performance``, rf annual like μ.

    AnalyticsError for a zero volatility (the Sharpe ratio would be infinite).
    """
    w = np.asarray(weights, dtype=float)
    expected = float(w @ np.asarray(mu, dtype=float))
    volatility = float(np.sqrt(w @ np.asarray(cov, dtype=float) @ w))
    if volatility == 0.0:
        raise AnalyticsError("the portfolio has zero volatility, so its Sharpe ratio is undefined")
    return expected, volatility, (expected - risk_free_rate) / volatility


RETURN_ESTIMATORS: dict[str, Callable[..., pd.Series]] = {
    "mean_historical": mean_historical,
    "ema": ema_historical,
    "capm": capm,
}
RISK_ESTIMATORS: dict[str, Callable[..., pd.DataFrame]] = {
    "sample": sample_cov,
    "ledoit_wolf": ledoit_wolf,
    "exp_cov": exp_cov,
    "semicovariance": semicovariance,
}


def _price_matrix(prices: pd.DataFrame) -> np.ndarray:
    """The prices as a float array; AnalyticsError unless a DataFrame of two or more positive numeric columns."""
    if not isinstance(prices, pd.DataFrame):
        raise AnalyticsError(f"prices must be a table of dates × symbols (got {type(prices).__name__})")
    if prices.shape[1] < 2:
        raise AnalyticsError(f"an optimization needs at least two assets (got {prices.shape[1]})")
    if not all(_is_real(kind) for kind in set(prices.dtypes)):
        wrong = [str(name) for name, kind in prices.dtypes.items() if not _is_real(kind)]
        raise AnalyticsError(f"prices must be numbers: {', '.join(wrong)} hold other values")
    values = prices.to_numpy(dtype=float, na_value=np.nan)
    bad = (values <= 0) | (values == np.inf)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise AnalyticsError(
            f"prices must be positive and finite: {prices.columns[column]} is {values[row, column]} "
            f"on {prices.index[row]}"
        )
    return values


def _is_real(kind: np.dtype) -> bool:
    return dtypes.is_numeric_dtype(kind) and not dtypes.is_bool_dtype(kind) and not dtypes.is_complex_dtype(kind)


def _returns(prices: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """The returns of ``returns_from_prices`` as an array, and their dates."""
    values = _price_matrix(prices)
    returns = values[1:] / values[:-1] - 1.0
    keep = ~np.isnan(returns).all(axis=1)
    if keep.all():
        return returns, prices.index[1:]
    return returns[keep], prices.index[1:][keep]


def _checked_returns(prices: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """The returns and dates; InsufficientData unless every pair of assets has MIN_OVERLAP returns on common dates."""
    returns, dates = _returns(prices)
    present = ~np.isnan(returns)
    if present.all(axis=1).sum() >= MIN_OVERLAP:
        return returns, dates
    mask = present.astype(np.float32)
    overlap = mask.T @ mask
    i, j = np.unravel_index(np.argmin(overlap), overlap.shape)
    if overlap[i, j] < MIN_OVERLAP:
        pair = str(prices.columns[i]) if i == j else f"{prices.columns[i]} and {prices.columns[j]}"
        raise InsufficientData(f"the covariance of {pair} (returns on the same dates)", MIN_OVERLAP, int(overlap[i, j]))
    return returns, dates


def _market_returns(market_prices: pd.Series | pd.DataFrame) -> pd.Series:
    """The market's simple returns as a Series (one column of prices); AnalyticsError otherwise."""
    if isinstance(market_prices, pd.DataFrame):
        if market_prices.shape[1] != 1:
            raise AnalyticsError(f"market prices must be one column (got {market_prices.shape[1]})")
        market_prices = market_prices.iloc[:, 0]
    if not isinstance(market_prices, pd.Series) or not _is_real(market_prices.dtype):
        raise AnalyticsError("market prices must be a column of numbers")
    values = market_prices.to_numpy(dtype=float, na_value=np.nan)
    if (values[~np.isnan(values)] <= 0).any() or np.isinf(values).any():
        raise AnalyticsError("market prices must be positive and finite")
    return pd.Series(values[1:] / values[:-1] - 1.0, index=market_prices.index[1:])


def _zero_filled(x: np.ndarray) -> np.ndarray:
    """A copy of x with NaN as 0 (PyPortfolioOpt's ``nan_to_num``; prices are finite, so returns hold no ±∞)."""
    return np.where(np.isnan(x), 0.0, x)


def _gram(x: np.ndarray) -> np.ndarray:
    """xᵀx for a T × N array (BLAS picks the symmetric product)."""
    return x.T @ x


def _pairwise_cov(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """cov(x_i, y_j) over the rows where both are present, ddof = 1: pandas' ``DataFrame.cov`` pairing.

    Columns are first centred on their own means (the covariance does not move), so the one-pass
    (Σxy − Σx Σy / n) / (n − 1) on each pair's common rows loses no precision.
    """
    has_x, has_y = ~np.isnan(x), ~np.isnan(y)
    xc = np.where(has_x, x - np.nanmean(x, axis=0), 0.0)
    yc = xc if y is x else np.where(has_y, y - np.nanmean(y, axis=0), 0.0)
    products = _gram(xc) if y is x else xc.T @ yc
    if has_x.all() and has_y.all():
        return products / (len(x) - 1)
    mx, my = has_x.astype(float), has_y.astype(float)
    count = mx.T @ my
    return (products - (xc.T @ my) * (mx.T @ yc) / count) / (count - 1)


def _ewm_cross(x: np.ndarray, y: np.ndarray, span: int) -> np.ndarray:
    """Σ_t w_t x_ti y_tj / Σ_t w_t over rows where both are present, w_t = (1 − α)^(T−1−t), α = 2 / (span + 1)."""
    if not span >= 1:
        raise AnalyticsError(f"the span of an exponential weighting must be at least 1 (got {span})")
    weights = (1.0 - 2.0 / (span + 1.0)) ** np.arange(len(x) - 1, -1, -1)
    has_x, has_y = ~np.isnan(x), ~np.isnan(y)
    numerator = (np.where(has_x, x, 0.0) * weights[:, None]).T @ np.where(has_y, y, 0.0)
    if has_x.all() and has_y.all():
        return numerator / weights.sum()
    return numerator / ((has_x * weights[:, None]).T @ has_y)


def _risk_model(cov: np.ndarray, symbols: pd.Index) -> pd.DataFrame:
    """The covariance after the PSD fix as a DataFrame; attrs["psd_fix"] is PSD_FIX_MESSAGE if the fix changed it."""
    fixed, changed = fix_nonpositive_semidefinite(cov)
    frame = pd.DataFrame(fixed, index=symbols, columns=symbols)
    frame.attrs["psd_fix"] = PSD_FIX_MESSAGE if changed else None
    return frame
