"""Metrics against empyrical-reloaded (and pandas for the moments) on real bundled daily returns."""

import empyrical
import numpy as np
import pandas as pd
import pytest

from investment_app.analytics import metrics as m
from investment_app.marketdata.bundled import bundled_bars


@pytest.fixture(scope="module")
def returns() -> tuple[pd.Series, pd.Series]:
    """AAPL and SPY daily simple returns, 2014–2024, on their common dates."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")[["AAPL", "SPY"]]
    daily = closes.loc[pd.Timestamp("2014-01-01").date() :].pct_change().dropna()
    return daily["AAPL"], daily["SPY"]


RF = 0.0001  # per day


def test_single_series_metrics_match_empyrical(returns):
    r, _ = returns
    x = r.to_numpy()
    pairs = [
        (m.total_return(x), empyrical.cum_returns_final(r)),
        (m.annual_return(x), empyrical.annual_return(r)),
        (m.annual_volatility(x), empyrical.annual_volatility(r)),
        (m.sharpe(x, RF), empyrical.sharpe_ratio(r, RF)),
        (m.downside_risk(x, 0.0002), empyrical.downside_risk(r, 0.0002)),
        (m.sortino(x, 0.0002), empyrical.sortino_ratio(r, 0.0002)),
        (m.max_drawdown(x), empyrical.max_drawdown(r)),
        (m.calmar(x), empyrical.calmar_ratio(r)),
        (m.omega(x, RF, 0.05), empyrical.omega_ratio(r, RF, 0.05)),
        (m.tail_ratio(x), empyrical.tail_ratio(r)),
    ]
    for ours, theirs in pairs:
        assert ours == pytest.approx(theirs, rel=1e-10)


def test_benchmark_metrics_match_empyrical(returns):
    r, b = returns
    x, y = r.to_numpy(), b.to_numpy()
    alpha, beta = m.alpha_beta(x, y, RF)
    their_alpha, their_beta = empyrical.alpha_beta(r, b, RF)
    assert (alpha, beta) == (pytest.approx(their_alpha, rel=1e-10), pytest.approx(their_beta, rel=1e-10))
    assert m.capture(x, y, up=True) == pytest.approx(empyrical.up_capture(r, b), rel=1e-10)
    assert m.capture(x, y, up=False) == pytest.approx(empyrical.down_capture(r, b), rel=1e-10)
    assert m.information_ratio(x, y) == pytest.approx(empyrical.excess_sharpe(r, b) * np.sqrt(252), rel=1e-10)
    assert m.tracking_error(x, y) == pytest.approx(np.std(x - y, ddof=1) * np.sqrt(252))
    assert m.r_squared(x, y) == pytest.approx(r.corr(b) ** 2, rel=1e-12)


def test_moments_match_pandas(returns):
    r, _ = returns
    assert m.skew(r.to_numpy()) == pytest.approx(r.skew(), rel=1e-10)
    assert m.kurtosis(r.to_numpy()) == pytest.approx(r.kurt(), rel=1e-10)


def test_hand_cases():
    x = np.array([0.10, -0.20, 0.05])
    assert m.total_return(x) == pytest.approx(1.1 * 0.8 * 1.05 - 1)
    assert m.drawdowns(x).tolist() == pytest.approx([0.0, -0.2, 0.8 * 1.05 - 1])
    assert m.max_drawdown(np.array([0.01, 0.02])) == 0.0 and m.calmar(np.array([0.01, 0.02])) is None
    assert m.omega(np.array([0.01, 0.02])) is None
