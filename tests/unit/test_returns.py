"""TWR, XIRR and simple return against hand calculations and a published example."""

import datetime as dt

import numpy as np
import pytest

from investment_app.analytics.returns import annualized, daily_returns, linked, simple_return, xirr


def test_xirr_matches_excels_published_example():
    # Microsoft's XIRR documentation gives 0.373362535; Excel stops iterating at a 0.000001 % tolerance.
    dates = [dt.date(2008, 1, 1), dt.date(2008, 3, 1), dt.date(2008, 10, 30), dt.date(2009, 2, 15), dt.date(2009, 4, 1)]
    days = np.array([(d - dates[0]).days for d in dates])
    assert xirr(days, np.array([-10000, 2750, 4250, 3250, 2750])) == pytest.approx(0.373362535, abs=1e-8)


def test_xirr_hand_cases():
    assert xirr(np.array([0, 365]), np.array([-1000.0, 1100.0])) == pytest.approx(0.10, abs=1e-12)
    assert xirr(np.array([0, 730]), np.array([-1000.0, 1210.0])) == pytest.approx(0.10, abs=1e-12)
    assert xirr(np.array([0, 365]), np.array([-1000.0, 500.0])) == pytest.approx(-0.5, abs=1e-12)
    assert xirr(np.array([0, 10]), np.array([100.0, 50.0])) is None  # no sign change: no rate


def test_xirr_is_a_root_of_the_cash_flow_equation():
    rng = np.random.default_rng(7)
    days = np.sort(rng.integers(0, 2000, 12))
    days[0] = 0
    amounts = np.concatenate(([-5000.0], rng.normal(-300, 200, 10), [9000.0]))
    rate = xirr(days, amounts)
    npv = np.sum(amounts / (1 + rate) ** (days / 365.0))
    assert abs(npv) < 1e-6
    # an independent bisection on the same equation
    lo, hi = -0.99, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.sum(amounts / (1 + mid) ** (days / 365.0)) > 0:
            lo = mid
        else:
            hi = mid
    assert rate == pytest.approx(lo, abs=1e-9)


def test_twr_hand_computed_with_flows_on_several_dates():
    # Day 0: deposit 1000, ends worth 1000. Day 1: grows to 1100. Day 2: deposit 900 at the start, ends 2100.
    # Day 3: withdraw 500 at the start, ends 1650.
    total = np.array([1000.0, 1100.0, 2100.0, 1650.0])
    flow = np.array([1000.0, 0.0, 900.0, -500.0])
    r = daily_returns(total, flow)
    expected = [0.0, 0.10, 2100 / 2000 - 1, 1650 / 1600 - 1]
    assert r == pytest.approx(expected)
    assert linked(r) == pytest.approx(1.10 * 1.05 * 1.03125 - 1)


def test_twr_ignores_days_without_a_positive_base():
    assert daily_returns(np.array([0.0, 0.0, 100.0]), np.array([0.0, 0.0, 100.0])) == pytest.approx([0, 0, 0])


def test_simple_return_and_annualization():
    assert simple_return(1000.0, 1650.0, np.array([900.0, -500.0])) == pytest.approx(250 / 1900)
    assert simple_return(0.0, 0.0, np.array([])) is None
    assert annualized(0.21, 730) == pytest.approx(0.1, abs=1e-3)
