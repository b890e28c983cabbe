"""Estimators against PyPortfolioOpt 1.6 (and so scikit-learn and pandas) on its own test prices and bundled data."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypfopt import base_optimizer, risk_models
from pypfopt import expected_returns as pypfopt_returns
from sklearn.covariance import ledoit_wolf_shrinkage

from investment_app.analytics import estimators as est
from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.marketdata.bundled import bundled_bars

RESOURCES = Path(__file__).parents[1] / "resources"


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    """PyPortfolioOpt's test prices: 20 stocks 1989–2018, NaN before each IPO (its tests' get_data())."""
    return pd.read_csv(RESOURCES / "pypfopt_test_stock_prices.csv", parse_dates=True, index_col="date")


@pytest.fixture(scope="module")
def spy() -> pd.DataFrame:
    return pd.read_csv(RESOURCES / "pypfopt_test_spy_prices.csv", parse_dates=True, index_col="date")


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    """The bundled real closes 2010–2024 (19 stocks and SPY; some start later)."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")
    closes.index = pd.DatetimeIndex(closes.index)
    return closes.loc["2010":]


def quietly(function, *args, **kwargs):
    """PyPortfolioOpt warns about NaN returns in its own test data; the values are what we compare."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def test_returns_keep_rows_with_some_nan_like_pypfopt(prices):
    ours = est.returns_from_prices(prices)
    pd.testing.assert_frame_equal(ours, pypfopt_returns.returns_from_prices(prices), check_freq=False)
    assert len(ours) == len(prices) - 1 > len(prices.pct_change(fill_method=None).dropna())


@pytest.mark.parametrize(
    ("ours", "theirs", "kwargs"),
    [
        (est.mean_historical, pypfopt_returns.mean_historical_return, {}),
        (est.mean_historical, pypfopt_returns.mean_historical_return, {"compounding": False, "frequency": 52}),
        (est.ema_historical, pypfopt_returns.ema_historical_return, {}),
        (est.ema_historical, pypfopt_returns.ema_historical_return, {"span": 30, "compounding": False}),
        (est.capm, pypfopt_returns.capm_return, {}),
        (est.capm, pypfopt_returns.capm_return, {"risk_free_rate": 0.02, "compounding": False}),
    ],
)
def test_expected_returns_match_pypfopt(prices, ours, theirs, kwargs):
    pd.testing.assert_series_equal(
        ours(prices, **kwargs), quietly(theirs, prices, **kwargs), rtol=1e-10, check_names=False
    )


def test_capm_with_market_prices_matches_pypfopt(prices, spy):
    """SPY's returns are joined on the stocks' dates (left join), as PyPortfolioOpt does."""
    for kwargs in ({}, {"risk_free_rate": 0.03}, {"compounding": False}):
        ours = est.capm(prices, spy, **kwargs)
        pd.testing.assert_series_equal(
            ours, quietly(pypfopt_returns.capm_return, prices, spy, **kwargs), rtol=1e-10, check_names=False
        )


@pytest.mark.parametrize(
    ("ours", "theirs", "kwargs"),
    [
        (est.sample_cov, risk_models.sample_cov, {}),
        (est.ledoit_wolf, lambda p, **k: risk_models.CovarianceShrinkage(p, **k).ledoit_wolf(), {}),
        (est.exp_cov, risk_models.exp_cov, {}),
        (est.exp_cov, risk_models.exp_cov, {"span": 60, "frequency": 12}),
        (est.semicovariance, risk_models.semicovariance, {}),
        (est.semicovariance, risk_models.semicovariance, {"benchmark": 0.0}),
    ],
)
def test_risk_models_match_pypfopt(prices, bundled, ours, theirs, kwargs):
    for data in (prices, bundled):
        mine = ours(data, **kwargs)
        pd.testing.assert_frame_equal(mine, quietly(theirs, data, **kwargs), rtol=1e-10, atol=1e-15)
        assert mine.attrs["psd_fix"] is None


def test_ledoit_wolf_is_sklearn_shrinkage_of_the_sample_covariance(bundled):
    """By hand from the target: off-diagonals scale by (1 − δ) with δ scikit-learn's ``ledoit_wolf_shrinkage``, the
    trace is kept; the sample covariance there is the biased one, (T − 1)/T times ``sample_cov``."""
    complete = bundled.dropna()
    returns = complete.pct_change().dropna().to_numpy()
    biased = (len(returns) - 1) / len(returns)
    sample, shrunk = est.sample_cov(complete).to_numpy(), est.ledoit_wolf(complete).to_numpy()
    delta = ledoit_wolf_shrinkage(returns)
    off = ~np.eye(len(sample), dtype=bool)
    np.testing.assert_allclose(shrunk[off], (1.0 - delta) * biased * sample[off], rtol=1e-10)
    assert np.trace(shrunk) == pytest.approx(biased * np.trace(sample), rel=1e-12)


def test_pairwise_covariance_can_be_non_psd_and_gets_pypfopt_spectral_fix():
    """Three histories over different windows: corr(A,B) = 1, corr(A,C) = −1, corr(B,C) = 1/3 cannot all hold."""
    rng = np.random.default_rng(1)
    b = rng.normal(0.0, 0.01, 120)
    returns = np.full((120, 3), np.nan)
    returns[:, 1] = b
    returns[:60, 0] = b[:60]
    returns[30:60, 2], returns[60:, 2] = -b[30:60], b[60:]
    prices = pd.DataFrame(np.nan, index=pd.bdate_range("2020-01-01", periods=121), columns=list("ABC"))
    for j, start in enumerate((0, 0, 30)):
        present = returns[~np.isnan(returns[:, j]), j]
        prices.iloc[start : start + len(present) + 1, j] = 100.0 * np.cumprod(np.concatenate(([1.0], 1.0 + present)))
    raw = est.returns_from_prices(prices).cov().to_numpy() * 252
    assert np.linalg.eigvalsh(raw)[0] < -1e-4
    fixed = est.sample_cov(prices)
    assert fixed.attrs["psd_fix"] == est.PSD_FIX_MESSAGE
    np.testing.assert_allclose(fixed, quietly(risk_models.sample_cov, prices), rtol=1e-10, atol=1e-15)
    assert np.linalg.eigvalsh(fixed)[0] > -1e-15


def test_fix_nonpositive_semidefinite_by_hand():
    """[[1, 2], [2, 1]] has eigenvalues 3 and −1 (vectors (1, 1)/√2, (1, −1)/√2): the fix keeps 3 (1, 1)(1, 1)ᵀ/2."""
    fixed, changed = est.fix_nonpositive_semidefinite(np.array([[1.0, 2.0], [2.0, 1.0]]))
    assert changed
    np.testing.assert_allclose(fixed, np.full((2, 2), 1.5), atol=1e-15)
    same, changed = est.fix_nonpositive_semidefinite(np.eye(2))
    assert not changed and (same == np.eye(2)).all()
    with pytest.raises(AnalyticsError, match="missing or infinite"):
        est.fix_nonpositive_semidefinite(np.array([[1.0, np.nan], [np.nan, 1.0]]))


def test_performance_matches_pypfopt(prices):
    mu, cov = est.mean_historical(prices), est.sample_cov(prices)
    weights = np.linspace(1.0, 2.0, len(mu))
    weights /= weights.sum()
    ours = est.performance(weights, mu, cov, risk_free_rate=0.02)
    theirs = base_optimizer.portfolio_performance(weights, mu, cov, risk_free_rate=0.02)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    with pytest.raises(AnalyticsError, match="zero volatility"):
        est.performance(np.array([1.0, 0.0]), np.array([0.1, 0.2]), np.array([[0.0, 0.0], [0.0, 1.0]]))


def test_registries_name_the_cli_estimators():
    assert {
        "mean_historical": est.mean_historical,
        "ema": est.ema_historical,
        "capm": est.capm,
    } == est.RETURN_ESTIMATORS
    assert {
        "sample": est.sample_cov,
        "ledoit_wolf": est.ledoit_wolf,
        "exp_cov": est.exp_cov,
        "semicovariance": est.semicovariance,
    } == est.RISK_ESTIMATORS


def test_bad_input_is_named(prices):
    with pytest.raises(AnalyticsError, match="at least two assets"):
        est.mean_historical(prices[["AAPL"]])
    with pytest.raises(AnalyticsError, match="table of dates"):
        est.sample_cov(prices["AAPL"])
    with pytest.raises(AnalyticsError, match="prices must be numbers: GE"):
        est.sample_cov(prices[["AAPL", "GE"]].astype({"GE": str}))
    broken = prices[["AAPL", "GE"]].copy()
    broken.iloc[5, 1] = -1.0
    with pytest.raises(AnalyticsError, match=f"positive and finite: GE is -1.0 on {broken.index[5]}"):
        est.ledoit_wolf(broken)
    with pytest.raises(AnalyticsError, match="span"):
        est.exp_cov(prices, span=0)


def test_too_little_overlapping_history_names_the_pair(prices):
    """BABA's prices start 2014-09-19 (896 of them); cut so that it shares 10 returns with GE."""
    short = prices[["GE", "BABA", "AAPL"]].loc[:"2014-10-03"]
    with pytest.raises(InsufficientData, match=r"GE and BABA .* needs at least 20 observations \(has 10\)"):
        est.mean_historical(short)
    with pytest.raises(InsufficientData, match="market's returns"):
        est.capm(prices.loc["2018-03-01":], prices["AAPL"].loc[:"2018-03-10"])
