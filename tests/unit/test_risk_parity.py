"""Risk parity against scipy's SLSQP on Maillard et al.'s formulation, closed forms, and its own contributions."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.analytics.risk_parity import risk_parity

DATA = "tests/resources/pypfopt_test_stock_prices.csv"


@pytest.fixture(scope="module")
def cov() -> pd.DataFrame:
    """Annualised sample covariance of PyPortfolioOpt's test stocks over their common dates."""
    prices = pd.read_csv(DATA, parse_dates=True, index_col="date")
    return prices.pct_change().dropna().cov() * 252


def contributions(w: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """w_i (Σw)_i / wᵀΣw, computed here from the definition."""
    return w * (sigma @ w) / (w @ sigma @ w)


def slsqp(sigma: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Maillard, Roncalli & Teïletche (2010): min Σ(RC_i − b_i)² s.t. Σw = 1, w ≥ 0, by scipy's SLSQP."""
    n = len(sigma)
    result = minimize(
        lambda w: 1e4 * np.sum((contributions(w, sigma) - budgets) ** 2),
        np.full(n, 1.0 / n),
        method="SLSQP",
        bounds=[(1e-9, 1.0)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
        options={"ftol": 1e-16, "maxiter": 1000},
    )
    assert result.success
    return result.x


def test_equal_risk_contributions_and_independent_solver(cov):
    result = risk_parity(cov)
    w = result.weights.to_numpy()
    rc = contributions(w, cov.to_numpy())
    assert np.ptp(rc) < 1e-10
    assert w.sum() == pytest.approx(1.0, abs=1e-14) and (w > 0).all()
    assert np.allclose(result.risk_contributions, rc, atol=1e-14)
    assert result.volatility == pytest.approx(np.sqrt(w @ cov.to_numpy() @ w), rel=1e-14)
    assert np.abs(w - slsqp(cov.to_numpy(), np.full(len(w), 1 / len(w)))).max() < 1e-6


def test_budgets_are_met_and_match_the_independent_solver(cov):
    budgets = pd.Series(np.linspace(1.0, 4.0, len(cov)), index=cov.columns)
    result = risk_parity(cov, budgets)
    b = (budgets / budgets.sum()).to_numpy()
    rc = contributions(result.weights.to_numpy(), cov.to_numpy())
    assert np.abs(rc - b).max() < 1e-10
    assert np.abs(result.weights.to_numpy() - slsqp(cov.to_numpy(), b)).max() < 1e-6


def test_very_uneven_budgets_converge():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(1000, 60)) + rng.normal(size=(1000, 1))
    cov = pd.DataFrame(np.cov(x, rowvar=False))
    budgets = pd.Series(rng.uniform(1e-4, 1.0, 60))
    result = risk_parity(cov, budgets)
    rc = contributions(result.weights.to_numpy(), cov.to_numpy())
    assert np.abs(rc - budgets / budgets.sum()).max() < 1e-12
    assert result.iterations < 30


def test_closed_forms_diagonal_and_two_assets():
    sd = np.array([0.1, 0.2, 0.4, 0.25])
    diagonal = pd.DataFrame(np.diag(sd**2), index=list("ABCD"), columns=list("ABCD"))
    inverse = (1 / sd) / (1 / sd).sum()
    assert np.allclose(risk_parity(diagonal).weights, inverse, rtol=1e-12)
    budgets = pd.Series([0.1, 0.2, 0.3, 0.4], index=list("ABCD"))
    expected = np.sqrt(budgets) / sd  # w_i² σ_i² ∝ b_i
    assert np.allclose(risk_parity(diagonal, budgets).weights, expected / expected.sum(), rtol=1e-12)
    rho = 0.6  # two assets: w_1 σ_1 = w_2 σ_2 whatever the correlation
    pair = pd.DataFrame([[0.04, rho * 0.2 * 0.3], [rho * 0.2 * 0.3, 0.09]], index=["X", "Y"], columns=["X", "Y"])
    assert np.allclose(risk_parity(pair).weights, [0.6, 0.4], rtol=1e-12)


def test_bounds_are_checked_not_enforced(cov):
    result = risk_parity(cov, bounds=(0.0, 0.1))
    assert result.weights.max() <= 0.1
    with pytest.raises(AnalyticsError, match=r"outside the bounds.*T 8\.\d\d%"):
        risk_parity(cov, bounds=(0.0, 0.08))
    with pytest.raises(AnalyticsError, match="SHLD"):
        risk_parity(cov, bounds=(0.03, 1.0))


def test_bad_input_is_named(cov):
    with pytest.raises(InsufficientData):
        risk_parity(cov.iloc[:1, :1])
    twice = pd.concat([cov, cov.iloc[[0]]]).pipe(lambda c: pd.concat([c, c.iloc[:, [0]]], axis=1))
    twice.index = twice.columns = [*cov.columns, "GOOG2"]
    with pytest.raises(AnalyticsError, match="not positive definite"):
        risk_parity(twice)
    zero_budget = pd.Series(1.0, index=cov.columns)
    zero_budget["AAPL"] = 0.0
    with pytest.raises(AnalyticsError, match="positive"):
        risk_parity(cov, zero_budget)
    with pytest.raises(AnalyticsError, match=r"unknown \['ZZZ'\], missing \['SBUX'\]"):
        risk_parity(cov, pd.Series(1.0, index=[*cov.columns[:-1], "ZZZ"]))
