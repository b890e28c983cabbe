"""Black-Litterman against pypfopt.BlackLittermanModel (Idzorek Ω), Idzorek's published prior, and hand identities."""

import numpy as np
import pandas as pd
import pytest
from pypfopt import BlackLittermanModel, risk_models
from pypfopt import black_litterman as pbl

from investment_app.analytics.black_litterman import (
    View,
    black_litterman,
    market_implied_risk_aversion,
    views_from_text,
)
from investment_app.analytics.errors import AnalyticsError

DATA = "tests/resources/pypfopt_test_stock_prices.csv"
SPY = "tests/resources/pypfopt_test_spy_prices.csv"
VIEWS = """AAPL 10% @ 60%
GOOG > FB by 3% @ 50%; XOM < BAC 0.02 conf 0.3
AMZN -5% @ 0%
T = 4% @ 100%"""


@pytest.fixture(scope="module")
def cov() -> pd.DataFrame:
    """PyPortfolioOpt's sample covariance of its test stocks (its own function, as its tests use)."""
    return risk_models.sample_cov(pd.read_csv(DATA, parse_dates=True, index_col="date"))


@pytest.fixture(scope="module")
def caps(cov) -> pd.Series:
    """Made-up market caps, different for every stock."""
    return pd.Series(np.arange(1, len(cov) + 1) * 1e10, index=cov.columns)


def pypfopt_model(cov, views, delta, caps, rf=0.0, tau=0.05) -> BlackLittermanModel:
    """The reference model with the same P, Q and confidences."""
    return BlackLittermanModel(
        cov,
        tau=tau,
        pi="market",
        market_caps=caps,
        risk_aversion=delta,
        risk_free_rate=rf,
        P=np.array([[v.picks.get(s, 0.0) for s in cov.columns] for v in views]),
        Q=np.array([v.value for v in views]),
        omega="idzorek",
        view_confidences=[v.confidence for v in views],
    )


def test_risk_aversion_matches_pypfopt():
    spy = pd.read_csv(SPY, parse_dates=True, index_col="date").squeeze()
    ours = market_implied_risk_aversion(spy, risk_free_rate=0.02)
    assert ours == pytest.approx(pbl.market_implied_risk_aversion(spy, risk_free_rate=0.02), rel=1e-12)


@pytest.mark.parametrize("with_caps", [True, False])
def test_posterior_matches_pypfopt(cov, caps, with_caps):
    views = views_from_text(VIEWS, cov.columns)
    market = caps if with_caps else pd.Series(1.0, index=cov.columns)
    ours = black_litterman(cov, views, 2.7, caps if with_caps else None, risk_free_rate=0.01)
    theirs = pypfopt_model(cov, views, 2.7, market, rf=0.01)
    assert ours.prior_source == ("market caps" if with_caps else "equal weights")
    assert np.abs(ours.prior.to_numpy() - theirs.pi.ravel()).max() < 1e-12
    assert np.abs(ours.omega.to_numpy() - np.diag(theirs.omega)).max() < 1e-12
    assert np.abs(ours.returns - theirs.bl_returns()).max() < 1e-10
    assert np.abs(ours.cov - theirs.bl_cov()).max().max() < 1e-10
    assert ours.market_weights.sum() == pytest.approx(1.0)


def test_idzorek_published_example():
    """Idzorek (2005) Table 1: Π = δΣw_mkt with δ = 3.07, and the three views of his paper against pypfopt."""
    assets = ["USB", "IB", "USLG", "USLV", "USSG", "USSV", "IDE", "IEE"]
    weights = pd.Series([0.1934, 0.2613, 0.1209, 0.1209, 0.0134, 0.0134, 0.2418, 0.0349], index=assets)
    sigma = pd.DataFrame(
        [
            [0.001005, 0.001328, -0.000579, -0.000675, 0.000121, 0.000128, -0.000445, -0.000437],
            [0.001328, 0.007277, -0.001307, -0.000610, -0.002237, -0.000989, 0.001442, -0.001535],
            [-0.000579, -0.001307, 0.059852, 0.027588, 0.063497, 0.023036, 0.032967, 0.048039],
            [-0.000675, -0.000610, 0.027588, 0.029609, 0.026572, 0.021465, 0.020697, 0.029854],
            [0.000121, -0.002237, 0.063497, 0.026572, 0.102488, 0.042744, 0.039443, 0.065994],
            [0.000128, -0.000989, 0.023036, 0.021465, 0.042744, 0.032056, 0.019881, 0.032235],
            [-0.000445, 0.001442, 0.032967, 0.020697, 0.039443, 0.019881, 0.028355, 0.035064],
            [-0.000437, -0.001535, 0.048039, 0.029854, 0.065994, 0.032235, 0.035064, 0.079958],
        ],
        index=assets,
        columns=assets,
    )
    published_prior = [0.0008, 0.0067, 0.0641, 0.0408, 0.0743, 0.0370, 0.0480, 0.0660]
    views = [
        View.absolute("IDE", 0.0525, 0.25),
        View.relative("IB", "USB", 0.0025, 0.50),
        View({"USLG": 0.9, "USLV": -0.9, "USSG": 0.1, "USSV": -0.1}, 0.02, 0.65),
    ]
    ours = black_litterman(sigma, views, 3.07, weights, tau=0.025)
    assert np.abs(ours.prior.to_numpy() - published_prior).max() < 3e-4  # the paper rounds Σ and w
    theirs = pypfopt_model(sigma, views, 3.07, weights, tau=0.025)
    assert np.abs(ours.returns - theirs.bl_returns()).max() < 1e-12


def test_full_confidence_makes_the_view_hold_and_no_views_keep_the_prior(cov, caps):
    views = [View.absolute("AAPL", 0.25, 1.0), View.relative("MA", "JPM", 0.05, 1.0)]
    posterior = black_litterman(cov, views, 2.5, caps).returns
    assert posterior["AAPL"] == pytest.approx(0.25, abs=1e-12)
    assert posterior["MA"] - posterior["JPM"] == pytest.approx(0.05, abs=1e-12)
    none = black_litterman(cov, [], 2.5, caps, tau=0.1)
    assert np.allclose(none.returns, 2.5 * cov @ (caps / caps.sum()), rtol=1e-14)
    assert np.allclose(none.cov, 1.1 * cov, rtol=1e-14)  # Σ + τΣ when nothing is learnt


def test_parser_reads_both_kinds_and_round_trips():
    views = views_from_text("aapl 10% @ 60%\n\nGOOG > FB 3% @ 50%; XOM < BAC by 0.02 confidence 30%")
    assert views == [
        View({"AAPL": 1.0}, 0.10, 0.60),
        View({"GOOG": 1.0, "FB": -1.0}, 0.03, 0.50),
        View({"BAC": 1.0, "XOM": -1.0}, 0.02, 0.30),
    ]
    assert views_from_text("\n".join(map(str, views))) == views


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AAPL 10% @ 60%\nZZZ 5% @ 50%", "line 2: unknown symbol.*ZZZ"),
        ("AAPL 10% @ 150%", "line 1: confidence 150% is outside"),
        ("AAPL 10 @ 60%", "ambiguous: write 10% or 0.1"),
        ("AAPL will do well", "line 1: cannot read"),
        ("AAPL > AAPL 2% @ 50%", "two different symbols"),
        ("AAPL 10%", "cannot read"),
    ],
)
def test_parser_errors_name_the_line(cov, text, message):
    with pytest.raises(AnalyticsError, match=message):
        views_from_text(text, cov.columns)


def test_bad_input_is_named(cov, caps):
    with pytest.raises(AnalyticsError, match=r"unknown symbol.*TSLA"):
        black_litterman(cov, [View.absolute("TSLA", 0.1, 0.5)], 2.5)
    with pytest.raises(AnalyticsError, match="confidence"):
        black_litterman(cov, [View.absolute("AAPL", 0.1, -0.2)], 2.5)
    with pytest.raises(AnalyticsError, match="repeat or contradict"):
        black_litterman(cov, [View.absolute("AAPL", 0.1, 1.0), View.absolute("AAPL", 0.2, 1.0)], 2.5)
    with pytest.raises(AnalyticsError, match="market caps are missing for SBUX"):
        black_litterman(cov, [], 2.5, caps.drop("SBUX"))
    with pytest.raises(AnalyticsError, match="tau"):
        black_litterman(cov, [], 2.5, tau=0.0)
    falling = pd.Series(np.linspace(100.0, 50.0, 300))
    with pytest.raises(AnalyticsError, match="less than the risk-free rate"):
        market_implied_risk_aversion(falling)


def test_market_caps_are_read_with_their_units_and_must_cover_the_universe():
    from investment_app.analytics.black_litterman import market_caps_from_text

    caps = market_caps_from_text("AAPL=2.9T, ma: 410B\nXOM 1e11", ["AAPL", "MA", "XOM"])
    assert caps == {"AAPL": 2.9e12, "MA": 4.1e11, "XOM": 1e11}
    assert market_caps_from_text("  ", ["AAPL"]) is None
    with pytest.raises(AnalyticsError, match="missing for XOM"):
        market_caps_from_text("AAPL=1T, MA=2T", ["AAPL", "MA", "XOM"])
    with pytest.raises(AnalyticsError, match="'AAPL=lots'"):
        market_caps_from_text("AAPL=lots", ["AAPL"])
