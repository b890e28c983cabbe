"""Monte Carlo projection against analytic distributions and moments, and hand-computed flows.

Statistical tolerances come from the number of paths n: a simulated percentile q̂_p must satisfy
|F(q̂_p) − p| ≤ ε with ε from the Dvoretzky–Kiefer–Wolfowitz bound (failure probability 1e-6), and a
simulated mean must lie within 5 analytic standard errors √(Var/n).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from investment_app.analytics import projection as pj
from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.marketdata.bundled import bundled_bars

SYMBOLS = ["AAPL", "JPM", "XOM", "PFE", "WMT"]
WEIGHTS = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
V0 = 10_000.0


@pytest.fixture(scope="module")
def history() -> np.ndarray:
    """Daily simple returns of five stocks, 2014–2024."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")[SYMBOLS]
    return closes.loc[pd.Timestamp("2014-01-01").date() :].pct_change().dropna().to_numpy()


def dkw(n: int, failure: float = 1e-6) -> float:
    """ε with P(sup |F_n − F| > ε) ≤ 2 exp(−2nε²) = failure."""
    return float(np.sqrt(np.log(2 / failure) / (2 * n)))


def assert_percentiles_follow(result: pj.Projection, cdf, slack: float = 0.0) -> None:
    """Each reported final percentile q̂_p has F(q̂_p) within p ± ε."""
    for p, q in result.final_percentiles.items():
        assert abs(cdf(q) - p / 100) <= dkw(result.n_paths) + slack, (p, cdf(q))


def assert_mean_within(result: pj.Projection, mean: float, second_moment: float) -> None:
    standard_error = np.sqrt((second_moment - mean**2) / result.n_paths)
    assert abs(result.mean_final - mean) <= 5 * standard_error


def buy_and_hold_moments(m: np.ndarray, big_m: np.ndarray, periods: int) -> tuple[float, float]:
    """E[V] and E[V²] after ``periods`` independent periods with per-period E[g_i] = m_i, E[g_i g_j] = M_ij."""
    h = V0 * WEIGHTS
    return float(h @ m**periods), float(h @ big_m**periods @ h)


def test_normal_one_day_is_the_normal_portfolio_return(history):
    mu, cov = history.mean(axis=0), np.cov(history, rowvar=False)
    result = pj.project(history, WEIGHTS, V0, 1, n_paths=100_000, seed=1)
    value = stats.norm(V0 * (1 + WEIGHTS @ mu), V0 * np.sqrt(WEIGHTS @ cov @ WEIGHTS))
    assert_percentiles_follow(result, value.cdf)
    assert result.prob_goal is None and result.prob_depleted == 0.0


def test_normal_final_mean_matches_independent_days(history):
    """E[Π(1 + r_t)] = Π E[1 + r_t] for independent days: E[V_H] = Σ h_i (1 + μ_i)^H."""
    mu, cov = history.mean(axis=0), np.cov(history, rowvar=False)
    result = pj.project(history, WEIGHTS, V0, 63, n_paths=40_000, seed=2)
    assert_mean_within(result, *buy_and_hold_moments(1 + mu, np.outer(1 + mu, 1 + mu) + cov, 63))


def test_student_t_one_day_is_a_scaled_t(history):
    mu, cov = history.mean(axis=0), np.cov(history, rowvar=False)
    dof = 5.0
    result = pj.project(history, WEIGHTS, V0, 1, n_paths=100_000, method="student_t", dof=dof, seed=3)
    scale = V0 * np.sqrt(WEIGHTS @ cov @ WEIGHTS * (dof - 2) / dof)
    assert_percentiles_follow(result, stats.t(dof, V0 * (1 + WEIGHTS @ mu), scale).cdf)
    assert result.dof == dof


def test_student_t_estimates_dof_from_the_portfolio_kurtosis(history):
    result = pj.project(history, WEIGHTS, V0, 5, n_paths=200, method="student_t")
    assert result.dof == pytest.approx(4 + 6 / pd.Series(history @ WEIGHTS).kurt(), rel=1e-12)
    mu, cov = history.mean(axis=0), np.cov(history, rowvar=False)
    long_run = pj.project(history, WEIGHTS, V0, 21, n_paths=40_000, method="student_t", seed=4)
    assert_mean_within(long_run, *buy_and_hold_moments(1 + mu, np.outer(1 + mu, 1 + mu) + cov, 21))


def test_student_t_needs_fat_tails_or_a_given_dof():
    uniform = np.random.default_rng(0).uniform(-0.02, 0.02, size=(500, 1))  # excess kurtosis −1.2
    with pytest.raises(AnalyticsError, match="no excess kurtosis"):
        pj.project(uniform, np.ones(1), V0, 10, method="student_t")
    assert pj.project(uniform, np.ones(1), V0, 10, n_paths=100, method="student_t", dof=8).dof == 8


def test_iid_bootstrap_resamples_historical_days(history):
    portfolio = np.sort(history @ WEIGHTS)
    result = pj.project(history, WEIGHTS, V0, 1, n_paths=100_000, method="bootstrap", block_size=1, seed=5)

    def empirical_cdf(value: float) -> float:
        return np.searchsorted(portfolio, value / V0 - 1, side="right") / len(portfolio)

    assert_percentiles_follow(result, empirical_cdf, slack=1 / len(portfolio))

    growth = 1 + history
    iid = pj.project(history, WEIGHTS, V0, 21, n_paths=40_000, method="bootstrap", block_size=1, seed=6)
    assert_mean_within(iid, *buy_and_hold_moments(growth.mean(axis=0), growth.T @ growth / len(growth), 21))


def test_block_bootstrap_mean_over_whole_blocks(history):
    """Two independent 5-day blocks: E[V_10] = Σ h_i b_i² with b_i the mean over starts of the block's growth."""
    growth = 1 + history
    block = np.prod([np.roll(growth, -j, axis=0) for j in range(5)], axis=0)  # circular 5-day products
    result = pj.project(history, WEIGHTS, V0, 10, n_paths=40_000, method="bootstrap", block_size=5, seed=7)
    assert_mean_within(result, *buy_and_hold_moments(block.mean(axis=0), block.T @ block / len(block), 2))
    assert result.block_size == 5 and result.dof is None


def test_blocks_keep_the_order_of_days_and_wrap_around():
    """+10 % then −1/11: every 2-day block, wrapped ones included, multiplies by exactly 1."""
    zigzag = np.tile([0.1, 1 / 1.1 - 1], 50)[:, None]
    result = pj.project(zigzag, np.ones(1), V0, 20, n_paths=500, method="bootstrap", block_size=2)
    for band in result.percentiles.values():
        np.testing.assert_allclose(band[::2], V0, rtol=1e-12)
    days_shuffled = pj.project(zigzag, np.ones(1), V0, 20, n_paths=500, method="bootstrap", block_size=1)
    assert days_shuffled.final_percentiles[5] < V0


def test_a_block_as_long_as_the_history_is_a_rotation_of_it(history):
    """Buy and hold over a full rotation of the history ends at Σ h_i Π_t (1 + r_i,t) on every path."""
    short = history[-250:]
    result = pj.project(short, WEIGHTS, V0, 250, n_paths=300, method="bootstrap", block_size=250, seed=8)
    expected = V0 * WEIGHTS @ np.prod(1 + short, axis=0)
    assert list(result.final_percentiles.values()) == pytest.approx([expected] * 5, rel=1e-12)


def constant_history(daily: list[float]) -> np.ndarray:
    return np.tile(daily, (60, 1))


@pytest.mark.parametrize(("method", "dof"), [("normal", None), ("student_t", 7.0), ("bootstrap", None)])
def test_contributions_with_zero_volatility_by_hand(method, dof):
    """Assets growing 0.1 % and 0.04 % a day, 50 added on days 21, 42, 63 at weights 0.6 / 0.4."""
    g, w, c = np.array([1.001, 1.0004]), np.array([0.6, 0.4]), 50.0
    result = pj.project(
        constant_history([0.001, 0.0004]), w, 1000.0, 63, n_paths=100, method=method, dof=dof, contribution=c
    )
    expected_final = 1000 * w @ g**63 + c * w @ (g**42 + g**21 + 1)
    before, on_day = 1000 * w @ g**20, 1000 * w @ g**21 + c
    for band in result.percentiles.values():
        assert band[-1] == pytest.approx(expected_final, rel=1e-12)
        assert (band[20], band[21]) == pytest.approx((before, on_day), rel=1e-12)
    assert result.mean_final == pytest.approx(expected_final, rel=1e-12)


def test_withdrawals_are_pro_rata_to_current_values_by_hand():
    """Assets at +0.2 % and −0.1 % a day, 100 withdrawn on days 5 and 10 in proportion to their values."""
    g = np.array([1.002, 0.999])
    holdings = 1000.0 * np.array([0.5, 0.5])
    for day in range(1, 11):
        holdings = holdings * g
        if day % 5 == 0:
            holdings = holdings - 100 * holdings / holdings.sum()
    history = constant_history([0.002, -0.001])
    result = pj.project(history, np.array([0.5, 0.5]), 1000.0, 10, n_paths=100, contribution=-100, contribution_every=5)
    assert result.final_percentiles[50] == pytest.approx(holdings.sum(), rel=1e-12)


def test_withdrawing_everything_depletes_and_stays_at_zero():
    """1,000 at a zero return less 100 every 10 days is gone on day 100; nothing is withdrawn after."""
    flat = np.zeros((30, 1))
    result = pj.project(flat, np.ones(1), 1000.0, 150, n_paths=100, contribution=-100, contribution_every=10, goal=1.0)
    median = result.percentiles[50]
    assert (median[99], median[100], median[150]) == (pytest.approx(100.0, rel=1e-12), 0.0, 0.0)
    assert result.prob_depleted == 1.0 and result.prob_goal == 0.0


def test_prob_goal_is_the_share_ending_at_or_above_it(history):
    mu = history.mean(axis=0)
    median = V0 * (1 + WEIGHTS @ mu)  # the normal one-day value's median
    result = pj.project(history, WEIGHTS, V0, 1, n_paths=100_000, goal=median, seed=9)
    assert abs(result.prob_goal - 0.5) <= dkw(result.n_paths)


def test_same_seed_same_numbers_whatever_the_threads(history, monkeypatch):
    first = pj.project(history, WEIGHTS, V0, 30, n_paths=3000, seed=11, contribution=-20)
    monkeypatch.setattr(pj.os, "cpu_count", lambda: 1)
    again = pj.project(history, WEIGHTS, V0, 30, n_paths=3000, seed=11, contribution=-20)
    for p in pj.PERCENTILES:
        np.testing.assert_array_equal(first.percentiles[p], again.percentiles[p])
    assert (first.mean_final, first.final_percentiles) == (again.mean_final, again.final_percentiles)
    other = pj.project(history, WEIGHTS, V0, 30, n_paths=3000, seed=12, contribution=-20)
    assert other.mean_final != first.mean_final


def test_long_horizons_report_an_even_grid(history):
    ten_years = pj.project(history, WEIGHTS, V0, 2520, n_paths=100, method="bootstrap")
    np.testing.assert_array_equal(ten_years.days, np.arange(0, 2521, 10))
    assert ten_years.percentiles[50].shape == (253,)
    odd = pj.project(history, WEIGHTS, V0, 301, n_paths=100)
    assert (odd.days[1], odd.days[-2], odd.days[-1]) == (2, 300, 301)
    one_year = pj.project(history, WEIGHTS, V0, 252, n_paths=100)
    np.testing.assert_array_equal(one_year.days, np.arange(253))
    assert one_year.percentiles[5][0] == V0


def test_bad_input_is_refused_with_a_reason(history):
    def run(**changes):
        arguments = {"history": history, "weights": WEIGHTS, "initial_value": V0, "horizon_days": 10, "n_paths": 100}
        return pj.project(**(arguments | changes))

    cases = [
        ({"weights": WEIGHTS * 0.9}, "add up to 1"),
        ({"weights": WEIGHTS[:3]}, "one weight per asset"),
        ({"history": np.where(history > 0.05, np.nan, history)}, "NaN"),
        ({"initial_value": 0.0}, "initial_value"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"n_paths": 99}, "n_paths"),
        ({"method": "garch"}, "unknown projection method"),
        ({"method": "bootstrap", "block_size": len(history) + 1}, "block_size"),
        ({"method": "student_t", "dof": 2.0}, "dof"),
        ({"seed": -1}, "seed"),
        ({"goal": -5.0}, "goal"),
        ({"contribution_every": 0}, "contribution_every"),
        ({"contribution": float("inf")}, "contribution"),
    ]
    for changes, message in cases:
        with pytest.raises(AnalyticsError, match=message):
            run(**changes)
    with pytest.raises(InsufficientData):
        run(history=history[:19])
