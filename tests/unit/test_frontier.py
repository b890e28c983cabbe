"""The critical-line frontier against PyPortfolioOpt's EfficientFrontier (Clarabel) and CLA on its own test prices.

The reference side is PyPortfolioOpt end to end (its estimators, its optimizer); ours is our estimators and
``Frontier``. Clarabel's default tolerances (1e-8) leave up to ~1e-5 in the weights and the Sharpe ratio on
ill-conditioned problems, so the 1e-6 comparisons of (return, volatility, Sharpe) use Clarabel at 1e-12; with its
defaults we check the issue's 1e-4 in weights and that, where no target constraint can be overstepped by the solver,
our objective is never worse than PyPortfolioOpt's.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypfopt import CLA, EfficientFrontier, risk_models
from pypfopt import expected_returns as pypfopt_returns

from investment_app.analytics import estimators as est
from investment_app.analytics.cla import critical_line
from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.frontier import Frontier

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")  # Clarabel via pypfopt
RESOURCES = Path(__file__).parents[1] / "resources"
TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "tol_ktratio": 1e-10, "max_iter": 500}
BOUNDS = [(0.0, 1.0), (-1.0, 1.0), (0.0, 0.1)]  # long-only, shorting, a cap that fills the budget exactly
RF = 0.02
PYPFOPT = {"sample": "sample_cov", "ledoit_wolf": "ledoit_wolf"}  # pypfopt.risk_models.risk_matrix methods


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return pd.read_csv(RESOURCES / "pypfopt_test_stock_prices.csv", parse_dates=True, index_col="date")


@pytest.fixture(scope="module", params=["sample", "ledoit_wolf"])
def case(request, prices) -> tuple[str, pd.Series, pd.DataFrame, tuple[pd.Series, pd.DataFrame]]:
    """(risk model, our μ, our Σ, PyPortfolioOpt's μ and Σ from its own estimators)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pypfopt_returns.mean_historical_return(prices), risk_models.risk_matrix(prices, PYPFOPT[request.param])
    ours = est.mean_historical(prices), est.RISK_ESTIMATORS[request.param](prices)
    return request.param, *ours, theirs


def pypfopt_solve(theirs, bounds, objective, argument, tight: bool) -> tuple[np.ndarray, tuple]:
    mu, cov = theirs
    options = TIGHT if tight else None
    frontier = EfficientFrontier(mu, cov, weight_bounds=bounds, solver="CLARABEL", solver_options=options)
    getattr(frontier, objective)(*argument)
    rf = argument[0] if objective == "max_sharpe" else 0.0
    return np.array(list(frontier.weights)), frontier.portfolio_performance(risk_free_rate=rf)


OBJECTIVES = [
    ("min_volatility", ()),
    ("max_sharpe", (RF,)),
    ("max_sharpe", (0.0,)),
    ("efficient_return", (0.2,)),
    ("efficient_risk", (0.2,)),
    ("max_quadratic_utility", (2.0,)),
    ("max_quadratic_utility", (20.0,)),
]


@pytest.mark.parametrize("bounds", BOUNDS)
def test_objectives_match_pypfopt_efficient_frontier(case, bounds):
    _, mu, cov, theirs = case
    frontier = Frontier(mu, cov, bounds)
    for objective, argument in OBJECTIVES:
        ours = getattr(frontier, objective)(*argument)
        rf = argument[0] if objective == "max_sharpe" else 0.0
        performance = (ours.expected_return, ours.volatility, est.performance(ours.weights, mu, cov, rf)[2])
        tight_weights, tight_performance = pypfopt_solve(theirs, bounds, objective, argument, tight=True)
        np.testing.assert_allclose(performance, tight_performance, atol=1e-6, err_msg=objective)
        np.testing.assert_allclose(ours.weights, tight_weights, atol=1e-5, err_msg=objective)
        default_weights, default_performance = pypfopt_solve(theirs, bounds, objective, argument, tight=False)
        np.testing.assert_allclose(ours.weights, default_weights, atol=1e-4, err_msg=objective)
        assert_not_worse(objective, argument, performance, default_performance)
        assert_feasible(ours.weights, bounds)


def assert_not_worse(objective: str, argument: tuple, ours: tuple, theirs: tuple) -> None:
    """Without a target constraint (that Clarabel may overstep), our objective is at least PyPortfolioOpt's."""
    (r, s, sharpe), (their_r, their_s, their_sharpe) = ours, theirs
    if objective == "min_volatility":
        assert s <= their_s + 1e-12
    elif objective == "max_sharpe":
        assert sharpe >= their_sharpe - 1e-12
    elif objective == "max_quadratic_utility":
        delta = argument[0]
        assert r - delta / 2 * s**2 >= their_r - delta / 2 * their_s**2 - 1e-12


def assert_feasible(weights: np.ndarray, bounds) -> None:
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert weights.min() >= np.min(bounds[0]) - 1e-12 and weights.max() <= np.max(bounds[1]) + 1e-12


@pytest.mark.parametrize("bounds", BOUNDS)
def test_turning_points_satisfy_kkt_and_contain_pypfopt_cla(case, bounds):
    """Each corner is optimal for its λ by the KKT conditions, checked from first principles, and every turning
    point of ``pypfopt.cla.CLA`` is one of ours. Its CLA can miss corners (long-only with the sample covariance it
    skips λ ≈ 0.0192; with the 0.1 cap and Ledoit-Wolf four of them, and its max Sharpe is then 1.7189 where
    the true one, matched by Clarabel above, is 1.7292): our max Sharpe (rf = 0, its convention) is never lower,
    and equal when it finds every corner. The min-volatility portfolios agree."""
    _, mu, cov, theirs = case
    lower, upper = np.full(len(mu), bounds[0]), np.full(len(mu), bounds[1])
    points = critical_line(mu.to_numpy(), cov.to_numpy(), lower, upper)
    assert (np.diff(points.lambdas) < 0).all() and points.lambdas[-1] == 0.0
    for lam, weights in zip(points.lambdas[1:], points.weights[1:], strict=True):
        assert_kkt(weights, lam, mu.to_numpy(), cov.to_numpy(), lower, upper)
    reference = CLA(*theirs, weight_bounds=bounds)
    reference.max_sharpe()
    their_corners = np.array([w.ravel() for w in reference.w])
    distance = np.abs(their_corners[:, None, :] - points.weights[None]).max(axis=2)
    assert distance.min(axis=1).max() < 1e-10
    ours = Frontier(mu, cov, bounds)
    assert ours.max_sharpe().sharpe >= reference.portfolio_performance()[2] - 1e-12
    if distance.min(axis=0).max() < 1e-10:
        np.testing.assert_allclose(ours.max_sharpe().weights, reference.weights, atol=1e-6)
    reference.min_volatility()
    np.testing.assert_allclose(ours.min_volatility().weights, reference.weights, atol=1e-10)


def assert_kkt(weights, lam, mu, cov, lower, upper, tol=1e-10):
    """g = Σw − λμ: some γ has g + γ = 0 on free assets, ≥ 0 at lower bounds, ≤ 0 at upper bounds; Σw = 1."""
    gradient = cov @ weights - lam * mu
    at_lower, at_upper = weights <= lower + 1e-12, weights >= upper - 1e-12
    free = ~at_lower & ~at_upper
    low = np.max(-gradient[at_lower], initial=-np.inf)
    high = np.min(-gradient[at_upper], initial=np.inf)
    gamma = -gradient[free].mean() if free.any() else max(low, min(high, 0.0))
    assert np.abs(gradient[free] + gamma).max(initial=0.0) < tol
    assert low <= gamma + tol and gamma <= high + tol
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_points_are_monotone_and_each_matches_a_single_solve(case):
    """50 points equally spaced in return; each is PyPortfolioOpt's efficient_return at that return (a new
    EfficientFrontier per point, Clarabel at 1e-12; at its defaults the minimum-volatility end is off by 1.2e-4,
    a flat direction of the variance), the last one just below the maximum its solver accepts."""
    _, mu, cov, theirs = case
    frontier = Frontier(mu, cov)
    points = frontier.points(50, risk_free_rate=RF)
    returns = np.array([p.expected_return for p in points])
    volatility = np.array([p.volatility for p in points])
    assert len(points) == 50 and (np.diff(returns) > 0).all() and (np.diff(volatility) > 0).all()
    np.testing.assert_allclose(np.diff(returns), np.diff(returns)[0], rtol=1e-9)
    assert points[0].volatility == pytest.approx(frontier.min_volatility().volatility, rel=1e-12)
    assert points[-1].expected_return == pytest.approx(frontier.max_return().expected_return, rel=1e-12)
    for point in points:
        target = min(point.expected_return, frontier.max_return().expected_return - 1e-12)
        weights, (_, volatility, _) = pypfopt_solve(theirs, (0.0, 1.0), "efficient_return", (target,), tight=True)
        np.testing.assert_allclose(point.weights, weights, atol=1e-5)
        assert point.volatility == pytest.approx(volatility, rel=1e-8)
        assert point.sharpe == pytest.approx((point.expected_return - RF) / point.volatility, rel=1e-12)
        assert_feasible(point.weights, (0.0, 1.0))


def test_per_asset_bounds_match_pypfopt(case):
    _, mu, cov, theirs = case
    upper = np.linspace(0.05, 0.5, len(mu))
    lower = np.where(np.arange(len(mu)) % 4 == 0, 0.01, -0.05)
    frontier = Frontier(mu, cov, (lower, upper))
    pairs = list(zip(lower, upper, strict=True))
    for objective, argument in OBJECTIVES[:4]:
        weights, _ = pypfopt_solve(theirs, pairs, objective, argument, tight=True)
        ours = getattr(frontier, objective)(*argument).weights
        np.testing.assert_allclose(ours, weights, atol=1e-6, err_msg=objective)
        assert (ours >= lower - 1e-12).all() and (ours <= upper + 1e-12).all()


def test_ties_in_expected_returns(case):
    """Equal μ for the two best assets (the λ = ∞ corner is then the less volatile mix) and for two mid assets."""
    _, mu, cov, theirs = case
    tied = mu.copy()
    order = np.argsort(-mu.to_numpy())
    tied.iloc[order[1]] = tied.iloc[order[0]]
    tied.iloc[order[8]] = tied.iloc[order[7]]
    frontier = Frontier(tied, cov)
    lower, upper = np.zeros(len(mu)), np.ones(len(mu))
    for lam, weights in zip(frontier.turning_points.lambdas[1:], frontier.turning_points.weights[1:], strict=True):
        assert_kkt(weights, lam, tied.to_numpy(), cov.to_numpy(), lower, upper)
    for objective, argument in [*OBJECTIVES[:2], ("efficient_return", (0.25,))]:
        weights, _ = pypfopt_solve((tied, theirs[1]), (0.0, 1.0), objective, argument, tight=True)
        np.testing.assert_allclose(getattr(frontier, objective)(*argument).weights, weights, atol=1e-6)
    top = frontier.max_return()
    assert top.expected_return == pytest.approx(tied.max(), rel=1e-12)
    assert np.count_nonzero(top.weights) == 2  # both tied assets share the corner, at the least variance


def test_targets_outside_the_frontier(case):
    _, mu, cov, _ = case
    frontier = Frontier(mu, cov)
    low, high = frontier.min_volatility(), frontier.max_return()
    with pytest.raises(AnalyticsError, match=r"above the maximum achievable .*achievable on the frontier"):
        frontier.efficient_return(high.expected_return + 0.01)
    with pytest.raises(AnalyticsError, match=r"below the minimum achievable .*achievable"):
        frontier.efficient_risk(low.volatility * 0.99)
    np.testing.assert_array_equal(frontier.efficient_return(low.expected_return - 0.05).weights, low.weights)
    np.testing.assert_allclose(frontier.efficient_risk(high.volatility + 0.1).weights, high.weights, atol=1e-12)
    np.testing.assert_allclose(frontier.max_quadratic_utility(1e-9).weights, high.weights, atol=1e-12)
    np.testing.assert_allclose(frontier.max_quadratic_utility(1e12).weights, low.weights, atol=1e-9)


def test_a_box_with_one_portfolio():
    mu, cov = np.array([0.1, 0.2, 0.3]), np.diag([0.04, 0.09, 0.16])
    frontier = Frontier(mu, cov, (np.array([0.2, 0.3, 0.5]), 0.5))
    for portfolio in (frontier.min_volatility(), frontier.max_sharpe(), frontier.efficient_risk(1.0)):
        np.testing.assert_allclose(portfolio.weights, [0.2, 0.3, 0.5])


def test_two_assets_by_hand():
    """Uncorrelated σ² = 0.04 and 0.09: min variance puts 0.09/0.13 on the first; the tangency (rf = 0) weights
    are ∝ Σ⁻¹μ = (0.1/0.04, 0.2/0.09)."""
    frontier = Frontier(np.array([0.1, 0.2]), np.diag([0.04, 0.09]))
    np.testing.assert_allclose(frontier.min_volatility().weights, [0.09 / 0.13, 0.04 / 0.13], atol=1e-15)
    tangency = np.array([0.1 / 0.04, 0.2 / 0.09])
    np.testing.assert_allclose(frontier.max_sharpe().weights, tangency / tangency.sum(), atol=1e-14)


def test_bad_input_is_named():
    mu, cov = np.array([0.1, 0.2]), np.array([[0.04, 0.01], [0.01, 0.09]])
    with pytest.raises(AnalyticsError, match="at least two assets"):
        Frontier(np.array([0.1]), np.array([[0.04]]))
    with pytest.raises(AnalyticsError, match="covariance matrix is"):
        Frontier(mu, np.eye(3))
    with pytest.raises(AnalyticsError, match="not symmetric"):
        Frontier(mu, np.array([[0.04, 0.01], [0.02, 0.09]]))
    with pytest.raises(AnalyticsError, match="finite"):
        Frontier(np.array([0.1, np.nan]), cov)
    with pytest.raises(AnalyticsError, match="singular"):
        Frontier(np.array([0.1, 0.2, 0.3]), np.array([[0.04, 0.04, 0.0], [0.04, 0.04, 0.0], [0.0, 0.0, 0.09]]))
    with pytest.raises(AnalyticsError, match="singular"):
        Frontier(mu, np.array([[0.04, 0.1], [0.1, 0.09]]))  # not positive semidefinite
    with pytest.raises(AnalyticsError, match=r"lower bounds sum to 0\.0000 and upper bounds to 0\.8000"):
        Frontier(mu, cov, (0.0, 0.4))
    with pytest.raises(AnalyticsError, match="exceeds its upper bound"):
        Frontier(mu, cov, (np.array([0.6, 0.0]), np.array([0.5, 1.0])))
    frontier = Frontier(mu, cov)
    with pytest.raises(AnalyticsError, match="risk-free rate"):
        frontier.max_sharpe(0.25)
    with pytest.raises(AnalyticsError, match="risk aversion"):
        frontier.max_quadratic_utility(0.0)
    with pytest.raises(AnalyticsError, match="at least 2 points"):
        frontier.points(1)
