"""Discrete allocation against pypfopt.DiscreteAllocation (greedy exactly, LP by objective), brute force, hand cases."""

import itertools

import numpy as np
import pandas as pd
import pytest
from pypfopt import HRPOpt
from pypfopt.discrete_allocation import DiscreteAllocation, get_latest_prices

from investment_app.analytics.allocation import LP_GAP, allocate, latest_prices, trades
from investment_app.analytics.errors import AnalyticsError

DATA = "tests/resources/pypfopt_test_stock_prices.csv"
CASH = [1_000.0, 10_000.0, 123_456.78, 5_000_000.0]
SHORTS = pd.Series({"AAPL": 0.4, "GOOG": 0.35, "MA": 0.45, "XOM": -0.12, "GE": -0.08})


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return pd.read_csv(DATA, parse_dates=True, index_col="date")


@pytest.fixture(scope="module")
def last(prices) -> pd.Series:
    return latest_prices(prices)


@pytest.fixture(scope="module")
def hrp_weights(prices) -> pd.Series:
    """Long-only weights from pypfopt's HRP (any realistic weights will do)."""
    return pd.Series(HRPOpt(prices.pct_change().dropna(how="all")).optimize())


def lp_objective(shares: pd.Series, weights: pd.Series, prices: pd.Series, cash: float) -> float:
    """Σ|w_i V − p_i x_i| + leftover: the quantity both LP implementations minimise."""
    x = shares.reindex(weights.index).fillna(0.0)
    spent = float((x * prices[weights.index]).sum())
    return float(np.abs(weights * cash - x * prices[weights.index]).sum()) + cash - spent


def test_latest_prices_match_pypfopt(prices, last):
    pd.testing.assert_series_equal(last, get_latest_prices(prices).astype(float))


@pytest.mark.parametrize("cash", CASH)
@pytest.mark.parametrize("kind", ["long", "shorts"])
def test_greedy_reproduces_pypfopt(last, hrp_weights, cash, kind):
    weights = hrp_weights if kind == "long" else SHORTS
    theirs, their_leftover = DiscreteAllocation(dict(weights), last, total_portfolio_value=cash).greedy_portfolio()
    ours = allocate(weights, last, cash, method="greedy")
    assert ours.shares.sort_index().to_dict() == dict(sorted(theirs.items()))
    assert ours.leftover == pytest.approx(their_leftover, abs=1e-6)


@pytest.mark.parametrize("cash", CASH)
def test_lp_is_at_least_as_good_as_pypfopt(last, hrp_weights, cash):
    aligned = last[hrp_weights.index]  # pypfopt's LP pairs prices and weights by position, not by symbol
    theirs, _ = DiscreteAllocation(dict(hrp_weights), aligned, total_portfolio_value=cash).lp_portfolio(solver="HIGHS")
    ours = allocate(hrp_weights, last, cash, method="lp")
    ours_objective = lp_objective(ours.shares, hrp_weights, last, cash)
    their_objective = lp_objective(pd.Series(theirs, dtype=float), hrp_weights, last, cash)
    assert ours_objective <= their_objective * (1 + LP_GAP)
    if cash <= 123_456.78:  # pypfopt's solve reaches the optimum here (at 5M it stops at its MIP gap)
        assert ours_objective == pytest.approx(their_objective, rel=LP_GAP)
    spent = float((ours.shares * last[ours.shares.index]).sum())
    assert ours.leftover == pytest.approx(cash - spent, abs=1e-6) and ours.leftover >= 0  # sums of millions: ulp ~1e-9
    assert (ours.shares > 0).all() and (ours.shares == np.round(ours.shares)).all()


def test_lp_with_shorts_splits_like_pypfopt(last):
    theirs, _ = DiscreteAllocation(dict(SHORTS), last, total_portfolio_value=10_000.0).lp_portfolio(solver="HIGHS")
    theirs = pd.Series(theirs, dtype=float)
    ours = allocate(SHORTS, last, 10_000.0, method="lp").shares
    for side, value in ((SHORTS[SHORTS > 0], 10_000.0), (-SHORTS[SHORTS < 0], 2_000.0)):
        w, sign = side / side.sum(), np.sign(SHORTS[side.index[0]])
        ours_side = lp_objective(sign * ours.reindex(w.index).fillna(0), w, last, value)
        assert ours_side == pytest.approx(
            lp_objective(sign * theirs.reindex(w.index).fillna(0), w, last, value), rel=LP_GAP
        )


def test_lp_matches_brute_force_on_a_small_case():
    weights = pd.Series({"A": 0.5, "B": 0.3, "C": 0.2})
    prices = pd.Series({"A": 97.0, "B": 41.5, "C": 233.0})
    cash = 1_000.0
    grid = itertools.product(*(range(int(cash // p) + 1) for p in prices))
    feasible = [pd.Series(x, index=prices.index, dtype=float) for x in grid if np.dot(x, prices) <= cash]
    best = min(lp_objective(x, weights, prices, cash) for x in feasible)
    ours = allocate(weights, prices, cash, method="lp")
    assert lp_objective(ours.shares, weights, prices, cash) == pytest.approx(best, rel=LP_GAP)


def test_fractional_rounds_down_to_the_lot():
    prices = pd.Series({"A": 3.0, "B": 7.0, "C": 1.0})
    result = allocate(pd.Series({"A": 0.5, "B": 0.3, "C": 0.0}), prices, 1_000.0, method="fractional")
    # by hand: 500/3 = 166.666666|6 → 166.666666 shares; 300/7 = 42.857142|857 → 42.857142; C has no weight
    assert result.shares.to_dict() == pytest.approx({"A": 166.666666, "B": 42.857142}, abs=1e-9)
    assert result.leftover == pytest.approx(1_000 - 166.666666 * 3 - 42.857142 * 7, abs=1e-9)  # 200.000008
    whole = allocate(pd.Series({"A": 0.5, "B": 0.5}), prices, 1_000.0, method="fractional", lot=1.0)
    assert whole.shares.to_dict() == {"A": 166.0, "B": 71.0}


def test_fractional_with_shorts_splits_like_pypfopt(last):
    result = allocate(SHORTS, last, 10_000.0, method="fractional", lot=1e-6)
    longs = SHORTS[SHORTS > 0] / SHORTS[SHORTS > 0].sum()
    value = result.shares * last[result.shares.index]
    assert np.allclose(value[longs.index], longs * 10_000.0, atol=1e-6 * last.max())
    assert np.allclose(value[["XOM", "GE"]], [-0.12 * 10_000, -0.08 * 10_000], atol=1e-6 * last.max())


def test_trades_by_hand():
    result = trades(
        pd.Series({"A": 10.0, "B": 5.5, "C": 0.0}),
        pd.Series({"A": 4.0, "B": 7.5, "D": 3.0}),
        pd.Series({"A": 10.0, "B": 20.0, "C": 5.0, "D": 1.0}),
        cost_bps=10,
    )
    orders = result.orders
    assert list(orders.index) == ["B", "D", "A"]  # sells first, then buys; C does not trade
    assert orders["quantity"].tolist() == [-2.0, -3.0, 6.0]
    assert orders["side"].tolist() == ["sell", "sell", "buy"]
    assert orders["cost"].tolist() == pytest.approx([0.04, 0.003, 0.06])
    assert (result.buy_value, result.sell_value) == (60.0, 43.0)
    assert result.net_cash == pytest.approx(43.0 - 60.0 - 0.103)


def test_bad_input_is_named(last, hrp_weights):
    with pytest.raises(AnalyticsError, match=r"add up to 1\.1"):
        allocate(pd.Series({"AAPL": 0.6, "MA": 0.5}), last, 1_000.0)
    with pytest.raises(AnalyticsError, match="no price for TSLA"):
        allocate(pd.Series({"AAPL": 0.5, "TSLA": 0.5}), last, 1_000.0)
    with pytest.raises(AnalyticsError, match="unknown allocation method"):
        allocate(hrp_weights, last, 1_000.0, method="round")
    with pytest.raises(AnalyticsError, match="cash"):
        allocate(hrp_weights, last, 0.0)
    with pytest.raises(AnalyticsError, match="all weights are zero"):
        allocate(hrp_weights * 0, last, 1_000.0)
    with pytest.raises(AnalyticsError, match="no positive price for B"):
        latest_prices(pd.DataFrame({"A": [1.0, 2.0], "B": [np.nan, np.nan]}))
    with pytest.raises(AnalyticsError, match="one finite quantity"):
        trades(pd.Series({"AAPL": np.nan}), pd.Series({"AAPL": 3.0}), last)
    with pytest.raises(AnalyticsError, match="no positive price to trade Z"):
        trades(pd.Series({"Z": 1.0}), pd.Series(dtype=float), last, 5)
