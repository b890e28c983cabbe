"""HRP against pypfopt.HRPOpt (all linkages; from returns or a covariance), pandas' pairwise moments, a hand case."""

import numpy as np
import pandas as pd
import pytest
import scipy.cluster.hierarchy as sch
from pypfopt import HRPOpt

from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.analytics.hrp import LINKAGE_METHODS, _pairwise_moments, hrp, hrp_from_cov
from investment_app.marketdata.bundled import bundled_bars

DATA = "tests/resources/pypfopt_test_stock_prices.csv"


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    """PyPortfolioOpt's test prices → daily returns as its HRP tests build them (NaN before listings kept)."""
    prices = pd.read_csv(DATA, parse_dates=True, index_col="date")
    return prices.pct_change().dropna(how="all")


@pytest.mark.parametrize("method", LINKAGE_METHODS)
def test_weights_and_order_match_pypfopt(returns, method):
    reference = HRPOpt(returns)
    theirs = pd.Series(reference.optimize(method))
    ours = hrp(returns, method)
    assert np.abs(ours.weights - theirs.reindex(ours.weights.index)).max() < 1e-8
    assert ours.order == [returns.columns[i] for i in sch.to_tree(reference.clusters).pre_order()]
    assert np.allclose(ours.linkage, reference.clusters, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", LINKAGE_METHODS)
def test_from_covariance_matches_pypfopt(returns, method):
    cov = returns.cov() * 252
    theirs = pd.Series(HRPOpt(cov_matrix=cov).optimize(method))
    ours = hrp_from_cov(cov, method).weights
    assert np.abs(ours - theirs.reindex(ours.index)).max() < 1e-8


@pytest.mark.parametrize("method", ["single", "ward"])
def test_bundled_stocks_with_listing_gaps_match_pypfopt(method):
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")
    daily = closes.pct_change(fill_method=None).dropna(how="all")
    assert daily.isna().any().any()  # later listings: the pairwise path is exercised
    theirs = pd.Series(HRPOpt(daily).optimize(method))
    ours = hrp(daily, method).weights
    assert np.abs(ours - theirs.reindex(ours.index)).max() < 1e-8
    assert ours.sum() == pytest.approx(1.0, abs=1e-12) and (ours > 0).all()


def test_pairwise_moments_match_pandas(returns):
    cov, corr = _pairwise_moments(returns.to_numpy(), list(returns.columns))
    assert np.allclose(cov, returns.cov().to_numpy(), rtol=1e-10, atol=0)
    assert np.allclose(corr, returns.corr().to_numpy(), rtol=0, atol=1e-12)


def test_two_assets_get_inverse_variance_weights(returns):
    pair = returns[["AAPL", "XOM"]].dropna()
    inverse = 1.0 / pair.var()
    assert np.allclose(hrp(pair).weights, inverse / inverse.sum(), rtol=1e-12)


def test_bad_input_is_named(returns):
    with pytest.raises(InsufficientData):
        hrp(returns[["AAPL"]])
    with pytest.raises(AnalyticsError, match="unknown linkage"):
        hrp(returns, "nearest")
    with pytest.raises(AnalyticsError, match=r"zero variance.*FLAT"):
        hrp(returns.assign(FLAT=0.01).dropna())
    with pytest.raises(AnalyticsError, match="infinite"):
        hrp(returns.replace(returns.iloc[-1, 0], np.inf))
    apart = pd.DataFrame({"A": [0.01, 0.02, -0.01, np.nan, np.nan], "B": [np.nan, np.nan, 0.01, 0.03, -0.02]})
    with pytest.raises(InsufficientData, match="correlation of A and B"):
        hrp(apart)
    with pytest.raises(AnalyticsError, match="symmetric"):
        hrp_from_cov(pd.DataFrame([[1.0, 0.5], [0.1, 1.0]], index=["A", "B"], columns=["A", "B"]))
