"""The constrained optimiser against PyPortfolioOpt 1.6 on its own test data (same estimators, same solver with the
same tolerances), risk figures against hand calculations, and every constraint checked on every answer."""

import itertools
import warnings

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from pypfopt import (
    EfficientCDaR,
    EfficientCVaR,
    EfficientFrontier,
    EfficientSemivariance,
    expected_returns,
    objective_functions,
    risk_models,
)
from scipy.optimize import linprog

from investment_app.analytics import constrained
from investment_app.analytics.constrained import ConstrainedOptimizer, constrained_frontier, diagnose
from investment_app.analytics.constraints import Constraints, check, sector_groups
from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.marketdata.bundled import SECTORS_CSV, bundled_bars

DATA = "tests/resources/pypfopt_test_stock_prices.csv"  # PyPortfolioOpt's own test prices
TIGHT = {k: v for k, v in constrained.CLARABEL.items() if k != "solver"}  # our tolerances, given to pypfopt too
RF = 0.02
FLOORS = {"Information Technology": 0.1, "Financials": 0.05}
CAPS = {"Communication Services": 0.2, "Consumer Discretionary": 0.2, "Energy": 0.1, "Financials": 0.25}


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return pd.read_csv(DATA, parse_dates=True, index_col="date")


@pytest.fixture(scope="module")
def mu(prices) -> pd.Series:
    return expected_returns.mean_historical_return(prices)


@pytest.fixture(scope="module")
def cov(prices) -> pd.DataFrame:
    return risk_models.sample_cov(prices)


@pytest.fixture(scope="module")
def returns(prices) -> pd.DataFrame:
    """Daily returns on the 895 days every stock has a price (pypfopt drops the NaN rows the same way)."""
    return expected_returns.returns_from_prices(prices).dropna()


@pytest.fixture(scope="module")
def sectors(mu) -> dict[str, str]:
    gics = pd.read_csv(SECTORS_CSV).set_index("ticker")["gics_sector"]
    return gics[mu.index].to_dict()


@pytest.fixture(scope="module")
def sector_limits(sectors) -> Constraints:
    return Constraints(groups=sector_groups(sectors, FLOORS, CAPS))


def pypfopt(cls, *args, sectors=None, **kwargs):
    """A pypfopt optimiser on Clarabel with our tolerances, optionally with our sector floors and caps."""
    opt = cls(*args, solver="CLARABEL", solver_options=TIGHT, **kwargs)
    if sectors is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt.add_sector_constraints(sectors, FLOORS, CAPS)
    return opt


def assert_weights(ours, reference: dict, atol: float = 1e-4) -> None:
    np.testing.assert_allclose(ours.weights.to_numpy(), pd.Series(reference)[ours.weights.index], rtol=0, atol=atol)


def satisfied(result, c: Constraints) -> None:
    assert check(result.weights, c) == []
    assert result.weights.sum() == pytest.approx(1 - c.cash, abs=1e-8)


def ru_minimum(losses: np.ndarray, beta: float) -> float:
    """Rockafellar-Uryasev min over α of α + mean((L − α)⁺)/(1 − β), by trying every loss as α."""
    return float(np.min(losses + np.maximum(losses[None, :] - losses[:, None], 0).mean(axis=1) / (1 - beta)))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda o: o.min_risk(), lambda ef: ef.min_volatility()),
        (lambda o: o.max_sharpe(), lambda ef: ef.max_sharpe(RF)),
        (lambda o: o.efficient_return(0.25), lambda ef: ef.efficient_return(0.25)),
        (lambda o: o.efficient_risk(0.2), lambda ef: ef.efficient_risk(0.2)),
        (lambda o: o.max_utility(2.0), lambda ef: ef.max_quadratic_utility(2.0)),
    ],
    ids=["min_volatility", "max_sharpe", "efficient_return", "efficient_risk", "max_quadratic_utility"],
)
def test_mean_variance_with_sector_limits_matches_pypfopt(mu, cov, sectors, sector_limits, ours, theirs):
    result = ours(ConstrainedOptimizer.mean_variance(mu, cov, sector_limits, RF))
    ef = pypfopt(EfficientFrontier, mu, cov, sectors=sectors)
    assert_weights(result, theirs(ef))
    expected, volatility, sharpe = ef.portfolio_performance(risk_free_rate=RF)
    assert (result.expected_return, result.volatility, result.sharpe) == pytest.approx(
        (expected, volatility, sharpe), abs=1e-6
    )
    assert result.risk == result.volatility and result.risk_measure == "volatility"
    satisfied(result, sector_limits)
    assert check(ours(ConstrainedOptimizer.mean_variance(mu, cov, Constraints(), RF)).weights, sector_limits)


def test_sector_limits_on_bundled_real_data_match_pypfopt():
    """Max Sharpe on the 19 bundled stocks, 2014–2024, with every GICS sector capped at 25%."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close").drop(columns="SPY")
    closes = closes.loc[pd.Timestamp("2014-01-02").date() :]
    closes.index = pd.DatetimeIndex(closes.index)
    mu, cov = expected_returns.mean_historical_return(closes), risk_models.sample_cov(closes)
    gics = pd.read_csv(SECTORS_CSV).set_index("ticker")["gics_sector"][mu.index].to_dict()
    caps = dict.fromkeys(set(gics.values()), 0.25)
    limits = Constraints(groups=sector_groups(gics, {}, caps))
    result = ConstrainedOptimizer.mean_variance(mu, cov, limits, RF).max_sharpe()
    ef = EfficientFrontier(mu, cov, solver="CLARABEL", solver_options=TIGHT)
    ef.add_sector_constraints(gics, {}, caps)
    assert_weights(result, ef.max_sharpe(RF))
    satisfied(result, limits)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda o: o.min_risk(), lambda ef: ef.min_volatility()),
        (lambda o: o.max_sharpe(), lambda ef: ef.max_sharpe(RF)),
        (lambda o: o.efficient_return(0.3), lambda ef: ef.efficient_return(0.3)),
    ],
    ids=["min_volatility", "max_sharpe", "efficient_return"],
)
def test_l2_regularisation_matches_pypfopt(mu, cov, ours, theirs):
    result = ours(ConstrainedOptimizer.mean_variance(mu, cov, Constraints(l2_gamma=0.1), RF))
    ef = pypfopt(EfficientFrontier, mu, cov)
    ef.add_objective(objective_functions.L2_reg, gamma=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_sharpe warns that additional objectives are scaled
        assert_weights(result, theirs(ef))
    plain = ours(ConstrainedOptimizer.mean_variance(mu, cov, risk_free_rate=RF))
    assert (result.weights**2).sum() < (plain.weights**2).sum()  # γ‖w‖² spreads the weights


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda o: o.efficient_return(0.25), lambda ef: ef.efficient_return(0.25)),
        (lambda o: o.efficient_risk(0.18), lambda ef: ef.efficient_risk(0.18)),
        (lambda o: o.min_risk(), lambda ef: ef.min_volatility()),
    ],
    ids=["efficient_return", "efficient_risk", "min_volatility"],
)
def test_transaction_cost_matches_pypfopt(mu, cov, ours, theirs):
    """10 bps on Σ|w − w0| from equal weights = pypfopt's transaction_cost with k = 0.001."""
    current = pd.Series(1 / len(mu), index=mu.index)
    c = Constraints(cost_bps=10, current=current.to_dict())
    result = ours(ConstrainedOptimizer.mean_variance(mu, cov, c))
    ef = pypfopt(EfficientFrontier, mu, cov)
    ef.add_objective(objective_functions.transaction_cost, w_prev=current.to_numpy(), k=0.001)
    assert_weights(result, theirs(ef))


def test_max_sharpe_with_a_cost_maximises_the_net_sharpe_ratio(mu, cov):
    """Net-of-cost Sharpe (μᵀw − r_f − k‖w − w0‖₁)/σ(w) at the answer ≥ at 2,000 random feasible portfolios
    and at the cost-free max-Sharpe portfolio (a hand check of the documented objective)."""
    current = pd.Series(1 / len(mu), index=mu.index).to_numpy()
    result = ConstrainedOptimizer.mean_variance(
        mu, cov, Constraints(cost_bps=50, current=dict(zip(mu.index, current, strict=True))), RF
    ).max_sharpe()
    sigma, m = cov.to_numpy(), mu.to_numpy()

    def net(w):
        return (w @ m - RF - 0.005 * np.abs(w - current).sum(axis=-1)) / np.sqrt(np.einsum("...i,ij,...j", w, sigma, w))

    rivals = np.random.default_rng(3).dirichlet(np.full(len(mu), 0.3), 2000)
    plain = ConstrainedOptimizer.mean_variance(mu, cov, risk_free_rate=RF).max_sharpe().weights.to_numpy()
    best = net(result.weights.to_numpy())
    assert best >= net(rivals).max() and best >= net(plain) - 1e-9
    assert np.abs(result.weights.to_numpy() - current).sum() < np.abs(plain - current).sum()


def test_min_cvar_matches_pypfopt_and_the_hand_cvar(mu, returns, sectors, sector_limits):
    result = ConstrainedOptimizer.mean_cvar(mu, returns, sector_limits, beta=0.95).min_risk()
    ec = pypfopt(EfficientCVaR, mu, returns, beta=0.95, sectors=sectors)
    assert_weights(result, ec.min_cvar())
    expected, cvar = ec.portfolio_performance()
    assert (result.expected_return, result.risk) == pytest.approx((expected, cvar), abs=1e-6)
    portfolio = returns.to_numpy() @ result.weights.to_numpy()
    assert result.risk == pytest.approx(ru_minimum(-portfolio, 0.95), abs=1e-12)
    assert result.volatility == pytest.approx(pd.Series(portfolio).std() * np.sqrt(252), rel=1e-12)
    assert result.objective == "min_cvar" and result.risk_measure == "CVaR"
    satisfied(result, sector_limits)


def test_cvar_targets_match_pypfopt(mu, returns):
    opt = ConstrainedOptimizer.mean_cvar(mu, returns, beta=0.9)
    assert_weights(opt.efficient_return(0.3), pypfopt(EfficientCVaR, mu, returns, beta=0.9).efficient_return(0.3))
    at_risk = opt.efficient_risk(0.03)
    assert_weights(at_risk, pypfopt(EfficientCVaR, mu, returns, beta=0.9).efficient_risk(0.03))
    assert at_risk.risk <= 0.03 + 1e-9


def test_min_cdar_matches_pypfopt_and_the_hand_cdar(mu, returns, sectors, sector_limits):
    result = ConstrainedOptimizer.mean_cdar(mu, returns, sector_limits, beta=0.95).min_risk()
    ec = pypfopt(EfficientCDaR, mu, returns, beta=0.95, sectors=sectors)
    assert_weights(result, ec.min_cdar())
    assert result.risk == pytest.approx(ec.portfolio_performance()[1], abs=1e-6)
    cumulative = pd.Series(returns.to_numpy() @ result.weights.to_numpy()).cumsum()
    drawdowns = cumulative.cummax().clip(lower=0) - cumulative  # peak of the uncompounded sum, from 0
    assert result.risk == pytest.approx(ru_minimum(drawdowns.to_numpy(), 0.95), abs=1e-12)
    assert_weights(
        ConstrainedOptimizer.mean_cdar(mu, returns).efficient_return(0.3),
        pypfopt(EfficientCDaR, mu, returns).efficient_return(0.3),
    )
    satisfied(result, sector_limits)


def test_min_semivariance_matches_pypfopt_and_the_hand_semideviation(mu, returns, sectors, sector_limits):
    result = ConstrainedOptimizer.mean_semivariance(mu, returns, sector_limits).min_risk()
    es = pypfopt(EfficientSemivariance, mu, returns, sectors=sectors)
    assert_weights(result, es.min_semivariance())
    expected, semideviation, _ = es.portfolio_performance()
    # pypfopt minimises the daily semivariance (~1e-4), so Clarabel stops it ~1e-6 away in return; the objective
    # is flat there: the semideviations agree to 1e-8, and ours is not the larger one
    assert result.expected_return == pytest.approx(expected, abs=1e-5)
    assert result.risk == pytest.approx(semideviation, abs=1e-8) and result.risk <= semideviation + 1e-12
    portfolio = returns.to_numpy() @ result.weights.to_numpy()
    assert result.risk == pytest.approx(np.sqrt(252 * np.mean(np.minimum(portfolio, 0) ** 2)), rel=1e-12)
    opt = ConstrainedOptimizer.mean_semivariance(mu, returns, benchmark=0.0001)
    for ours, theirs in [
        (opt.efficient_return(0.25), lambda e: e.efficient_return(0.25)),
        (opt.efficient_risk(0.15), lambda e: e.efficient_risk(0.15)),
        (opt.max_utility(3.0), lambda e: e.max_quadratic_utility(3.0)),
    ]:
        with warnings.catch_warnings():  # its daily-scaled efficient-risk problem ends "optimal_inaccurate" at 1e-9
            warnings.simplefilter("ignore", UserWarning)
            assert_weights(ours, theirs(pypfopt(EfficientSemivariance, mu, returns, benchmark=0.0001)))
    satisfied(result, sector_limits)


CASES = {
    "shorts": Constraints(bounds=(-0.2, 0.6)),
    "per-asset bounds": Constraints(asset_bounds={"AAPL": (0.05, 0.1), "SHLD": (0.0, 0.0)}, max_weight=0.15),
    "cash": Constraints(cash=0.1, max_weight=0.2),
    "max holdings": Constraints(max_holdings=4),
    "turnover": Constraints(max_turnover=0.3, current={"AAPL": 0.5, "XOM": 0.3, "JPM": 0.2}),
    "everything": Constraints(
        max_weight=0.3,
        cash=0.05,
        groups={"Tech": (["AAPL", "AMD", "GOOG", "FB"], 0.1, 0.3), "Retail": (["WMT", "AMZN", "BBY"], 0.0, 0.2)},
        max_holdings=6,
        max_turnover=1.2,
        current={"AAPL": 0.4, "WMT": 0.4},
        cost_bps=20,
        l2_gamma=0.01,
    ),
}
OBJECTIVES = {
    "min_risk": lambda o: o.min_risk(),
    "max_sharpe": lambda o: o.max_sharpe(),
    "efficient_return": lambda o: o.efficient_return(0.2),
    "efficient_risk": lambda o: o.efficient_risk(0.25),
    "max_utility": lambda o: o.max_utility(3.0),
}


@pytest.mark.parametrize(("case", "objective"), list(itertools.product(CASES, OBJECTIVES)))
def test_every_answer_satisfies_its_constraints(mu, cov, case, objective):
    c = CASES[case]
    result = OBJECTIVES[objective](ConstrainedOptimizer.mean_variance(mu, cov, c, RF))
    satisfied(result, c)
    w = result.weights.to_numpy()
    a = c.resolve(list(mu.index))
    assert np.all(w >= a.lower - 1e-9) and np.all(w <= a.upper + 1e-9)
    assert result.expected_return == pytest.approx(mu.to_numpy() @ w + c.cash * RF, abs=1e-12)
    assert result.volatility == pytest.approx(np.sqrt(w @ cov.to_numpy() @ w), rel=1e-12)
    assert result.sharpe == pytest.approx((result.expected_return - RF) / result.volatility, rel=1e-12)
    if c.max_holdings is not None:
        assert (np.abs(w) > 1e-6).sum() <= c.max_holdings
    if c.max_turnover is not None:
        assert np.abs(w - a.current).sum() <= c.max_turnover + 1e-6


@pytest.mark.parametrize("measure", ["mean_cvar", "mean_cdar", "mean_semivariance"])
def test_scenario_measures_satisfy_every_constraint(mu, returns, measure):
    c = CASES["everything"]
    opt = getattr(ConstrainedOptimizer, measure)(mu, returns, c)
    for result in (opt.min_risk(), opt.efficient_return(0.2)):
        satisfied(result, c)
        assert (np.abs(result.weights) > 1e-6).sum() <= 6


def test_cash_earns_the_risk_free_rate_and_scales_the_tangency_portfolio(mu, cov):
    """With cash c at r_f the Sharpe ratio (μ − r_f)ᵀw/σ is scale-free, so the max-Sharpe assets are (1 − c) × the
    fully invested tangency portfolio (pypfopt's)."""
    result = ConstrainedOptimizer.mean_variance(mu, cov, Constraints(cash=0.1), RF).max_sharpe()
    assert_weights(result, 0.9 * pd.Series(pypfopt(EfficientFrontier, mu, cov).max_sharpe(RF)))
    assert result.cash == 0.1
    assert result.expected_return == pytest.approx(mu @ result.weights + 0.1 * RF, abs=1e-12)


def test_max_holdings_heuristic(mu, cov):
    free = ConstrainedOptimizer.mean_variance(mu, cov).min_risk()
    held = int((free.weights > 1e-6).sum())
    assert held > 4
    result = ConstrainedOptimizer.mean_variance(mu, cov, Constraints(max_holdings=4)).min_risk()
    assert (result.weights > 1e-6).sum() <= 4
    assert "heuristic" in result.notes[0] and result.volatility > free.volatility
    roomy = ConstrainedOptimizer.mean_variance(mu, cov, Constraints(max_holdings=held)).min_risk()
    assert roomy.notes == ()  # already within the limit: the convex optimum is exact
    assert_weights(roomy, free.weights.to_dict(), atol=1e-12)


def test_turnover_binds(mu, cov):
    current = {"AAPL": 0.5, "XOM": 0.5}
    free = ConstrainedOptimizer.mean_variance(mu, cov, Constraints(current=current)).min_risk()
    limits = Constraints(max_turnover=0.4, current=current)
    result = ConstrainedOptimizer.mean_variance(mu, cov, limits).min_risk()
    w0 = pd.Series(current).reindex(mu.index, fill_value=0.0)
    assert (free.weights - w0).abs().sum() > 0.4
    assert (result.weights - w0).abs().sum() == pytest.approx(0.4, abs=1e-6)
    assert result.volatility > free.volatility


def test_frontier_is_monotone_and_each_point_matches_a_single_solve(mu, cov, sectors, sector_limits):
    frontier = constrained_frontier(mu, cov, sector_limits, n=50, risk_free_rate=RF)
    points, weights = frontier.points, frontier.weights
    assert len(points) == 50 and list(weights.columns) == list(mu.index)
    assert np.all(np.diff(points["expected_return"]) > 0) and np.all(np.diff(points["volatility"]) > -1e-9)
    single = ConstrainedOptimizer.mean_variance(mu, cov, sector_limits, RF)
    assert points["volatility"].iloc[0] == pytest.approx(single.min_risk().volatility, abs=1e-6)
    assert points["expected_return"].iloc[-1] == pytest.approx(single.max_return().expected_return, abs=1e-6)
    for i in range(50):
        target = float(points["expected_return"].iloc[i])
        fresh = ConstrainedOptimizer.mean_variance(mu, cov, sector_limits, RF).efficient_return(target)
        np.testing.assert_allclose(weights.iloc[i], fresh.weights, atol=1e-4)
        assert check(weights.iloc[i], sector_limits) == []
    for i in (10, 30, 45):
        target = float(points["expected_return"].iloc[i])
        ef = pypfopt(EfficientFrontier, mu, cov, sectors=sectors)
        np.testing.assert_allclose(weights.iloc[i], pd.Series(ef.efficient_return(target)), atol=1e-4)


def test_a_frontier_compiles_each_problem_once(mu, cov, monkeypatch):
    """min risk, max return and one parametrised efficient-return problem re-solved for 30 targets."""
    built, problem = [], cp.Problem

    def counting(*args, **kwargs):
        built.append(args)
        return problem(*args, **kwargs)

    opt = ConstrainedOptimizer.mean_variance(mu, cov, Constraints(max_weight=0.3))
    monkeypatch.setattr(constrained.cp, "Problem", counting)
    assert len(opt.frontier(30).points) == 30
    assert len(built) == 3


def test_infeasible_combination_names_the_conflicting_constraints(mu, cov):
    """The pre-check passes (the bounds are reachable), the solver finds no portfolio, the diagnosis names both."""
    c = Constraints(max_turnover=0.1, current={"AAPL": 0.5, "AMD": 0.5}, groups={"Energy": (["XOM", "RRC"], 0.2, 1.0)})
    with pytest.raises(AnalyticsError) as raised:
        ConstrainedOptimizer.mean_variance(mu, cov, c).min_risk()
    assert str(raised.value) == (
        "the constraints cannot all hold; removing any one of these restores feasibility: "
        "max turnover 10%, floor of Energy 20%"
    )


def test_two_separate_conflicts_are_listed_together(mu, cov):
    """Overlapping groups the pre-check cannot add up: caps of 5% against floors of 10% on the same two assets,
    twice, so no single relaxation helps."""
    groups = {
        "Oil cap": (["XOM", "RRC"], 0.0, 0.05),
        "Oil floor": (["XOM", "RRC"], 0.1, 1.0),
        "Bank cap": (["JPM", "BAC"], 0.0, 0.05),
        "Bank floor": (["JPM", "BAC"], 0.1, 1.0),
    }
    with pytest.raises(AnalyticsError) as raised:
        ConstrainedOptimizer.mean_variance(mu, cov, Constraints(groups=groups)).max_sharpe()
    assert str(raised.value) == (
        "the constraints cannot all hold, and no single one is to blame; together they conflict: "
        "weight bounds 0% to 100%, cap of Oil cap 5%, floor of Oil floor 10%, cap of Bank cap 5%, "
        "floor of Bank floor 10%"
    )


def test_contradictions_are_named_before_solving(mu, cov):
    c = Constraints(max_weight=0.05, cash=0.05)
    message = "20 × max weight 4% = 80% but the assets must sum to 95% after the 5% cash reserve"
    with pytest.raises(AnalyticsError, match=message) as raised:
        ConstrainedOptimizer.mean_variance(mu, cov, Constraints(max_weight=0.04, cash=0.05))
    assert "contradict" in str(raised.value)
    ConstrainedOptimizer.mean_variance(mu, cov, c)  # 100% ≥ 95%: fine


def test_diagnosis_names_max_holdings_when_the_kept_assets_cannot_comply(mu):
    c = Constraints(max_holdings=3, groups={"Energy": (["XOM", "RRC"], 0.2, 1.0)})
    a = c.resolve(list(mu.index))
    keep = np.isin(mu.index, ["AAPL", "MA", "AMZN"])
    assert diagnose(a, keep) == (
        "the constraints cannot all hold; removing any one of these restores feasibility: "
        "floor of Energy 20%, max holdings 3 (on the 3 assets the heuristic kept)"
    )


def test_unreachable_targets(mu, cov):
    c = Constraints(max_weight=0.2)
    opt = ConstrainedOptimizer.mean_variance(mu, cov, c, RF)
    # the highest return with w ≤ 20%: the five best assets at 20% each, checked by scipy's LP
    best = -linprog(-mu.to_numpy(), A_eq=np.ones((1, len(mu))), b_eq=[1], bounds=[(0, 0.2)] * len(mu)).fun
    assert opt.max_return().expected_return == pytest.approx(best, abs=1e-9)
    assert best == pytest.approx(mu.nlargest(5).sum() * 0.2)
    with pytest.raises(AnalyticsError, match=f"target return 50% is above the maximum {100 * best:.4g}% reachable"):
        opt.efficient_return(0.5)
    with pytest.raises(AnalyticsError, match=r"target volatility 10% is below the minimum 15\.92% reachable"):
        opt.efficient_risk(0.1)
    with pytest.raises(
        AnalyticsError,
        match="no portfolio under the constraints beats the risk-free rate 50%: the highest expected return is 3",
    ):
        ConstrainedOptimizer.mean_variance(mu, cov, c, 0.5).max_sharpe()


def test_bad_input(mu, cov, returns):
    two = ["AAPL", "XOM"]
    with pytest.raises(AnalyticsError, match=r"at least two assets \(got 1\)"):
        ConstrainedOptimizer.mean_variance(mu[["AAPL"]], cov.loc[["AAPL"], ["AAPL"]])
    with pytest.raises(AnalyticsError, match="not positive semidefinite"):
        ConstrainedOptimizer.mean_variance(mu[two], pd.DataFrame([[0.04, 0.1], [0.1, 0.04]], index=two, columns=two))
    with pytest.raises(AnalyticsError, match="cover different symbols"):
        ConstrainedOptimizer.mean_variance(mu[two], cov.loc[["AAPL", "AMD"], ["AAPL", "AMD"]])
    with pytest.raises(AnalyticsError, match="NaN"):
        ConstrainedOptimizer.mean_variance(mu[two].where(mu[two].index != "AAPL"), cov.loc[two, two])
    gap = returns[two].copy()
    gap.iloc[3, 0] = np.nan
    with pytest.raises(AnalyticsError, match="NaN or infinite values in 1 rows; drop those rows first"):
        ConstrainedOptimizer.mean_cvar(mu[two], gap)
    with pytest.raises(InsufficientData, match=r"CVaR at β = 0.99 needs at least 100 observations \(has 50\)"):
        ConstrainedOptimizer.mean_cvar(mu[two], returns[two].iloc[:50], beta=0.99)
    with pytest.raises(AnalyticsError, match="strictly between 0 and 1"):
        ConstrainedOptimizer.mean_cdar(mu[two], returns[two], beta=1.0)
    cvar = ConstrainedOptimizer.mean_cvar(mu, returns)
    with pytest.raises(AnalyticsError, match="max Sharpe needs the variance risk measure"):
        cvar.max_sharpe()
    with pytest.raises(AnalyticsError, match="target CVaR must be positive"):
        cvar.efficient_risk(-0.01)
    with pytest.raises(AnalyticsError, match="risk aversion must be positive"):
        cvar.max_utility(0.0)
    with pytest.raises(AnalyticsError, match="target return must be a finite number"):
        cvar.efficient_return(float("nan"))
    with pytest.raises(AnalyticsError, match="at least 2 points"):
        cvar.frontier(1)


def test_a_riskless_combination_is_reported_not_divided_by_zero():
    """Two perfectly anti-correlated assets of equal variance: 50/50 has zero volatility, Sharpe undefined."""
    two = ["A", "B"]
    cov = pd.DataFrame([[0.04, -0.04], [-0.04, 0.04]], index=two, columns=two)
    with pytest.raises(AnalyticsError, match="no volatility"):
        ConstrainedOptimizer.mean_variance(pd.Series([0.05, 0.07], index=two), cov).min_risk()
