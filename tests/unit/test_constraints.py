"""Constraints: validation, the solver-free contradiction check (messages by hand), min turnover against an LP
(scipy's HiGHS), and ``check`` on hand-made weights."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from investment_app.analytics.constraints import (
    Constraints,
    GroupLimit,
    check,
    conflicts,
    min_turnover,
    sector_groups,
)
from investment_app.analytics.errors import AnalyticsError
from investment_app.marketdata.bundled import SECTORS_CSV

TEN = [f"S{i}" for i in range(10)]


def found(c: Constraints, tickers=TEN) -> list[str]:
    return conflicts(c.resolve(tickers))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bounds": (0.5, 0.1)}, "lower weight bound of bounds .50%. exceeds its upper bound .10%."),
        ({"asset_bounds": {"S1": (0.3, 0.2)}}, "lower weight bound of S1"),
        ({"bounds": (0.0, float("nan"))}, "must be finite"),
        ({"cash": 1.0}, r"cash reserve must lie in \[0%, 100%\)"),
        ({"cash": -0.1}, "cash reserve"),
        ({"max_weight": 0.0}, "max weight must be a positive fraction"),
        ({"max_holdings": 0}, "max holdings must be a whole number"),
        ({"max_holdings": 2.5}, "max holdings must be a whole number"),
        ({"max_turnover": -0.1}, "max turnover must be a fraction"),
        ({"cost_bps": -1.0}, "transaction cost"),
        ({"l2_gamma": -1.0}, "L2 gamma"),
        ({"current": {"S1": float("inf")}}, "current weights must be finite"),
        ({"groups": {"G": (["S1"], 0.4, 0.3)}}, "group floor of 40% exceeds its cap of 30%"),
        ({"groups": {"G": ([], 0.0, 0.3)}}, "at least one member"),
    ],
)
def test_validation_names_the_problem(kwargs, message):
    with pytest.raises(AnalyticsError, match=message):
        Constraints(**kwargs)


def test_constraints_are_read_only_and_resolve_to_arrays():
    c = Constraints(
        bounds=(0.0, 0.3),
        asset_bounds={"S1": (0.05, 0.5)},
        max_weight=0.2,
        groups={"G": (["S0", "S1", "NOT_IN_UNIVERSE"], 0.1, 0.4)},
        current={"S2": 0.25},
    )
    with pytest.raises(TypeError):
        c.groups["H"] = GroupLimit(frozenset({"S3"}))
    a = c.resolve(["S0", "S1", "S2"])
    np.testing.assert_array_equal(a.lower, [0.0, 0.05, 0.0])
    np.testing.assert_array_equal(a.bound_upper, [0.3, 0.5, 0.3])
    np.testing.assert_array_equal(a.upper, [0.2, 0.2, 0.2])  # min(bound, max weight)
    np.testing.assert_array_equal(a.group_matrix, [[1.0, 1.0, 0.0]])  # members outside the universe ignored
    np.testing.assert_array_equal(a.current, [0.0, 0.0, 0.25])


def test_symbols_outside_the_universe_are_refused():
    with pytest.raises(AnalyticsError, match="per-asset bounds name symbols outside the universe: ZZZ"):
        Constraints(asset_bounds={"ZZZ": (0, 0.1)}).resolve(TEN)
    with pytest.raises(AnalyticsError, match="current weights name symbols outside the universe: ZZZ"):
        Constraints(current={"ZZZ": 0.5}).resolve(TEN)
    with pytest.raises(AnalyticsError, match="lists a symbol twice"):
        Constraints().resolve(["S1", "S1"])


def test_consistent_constraints_have_no_conflicts():
    c = Constraints(max_weight=0.2, cash=0.05, groups={"A": (TEN[:5], 0.1, 0.6)}, max_holdings=5, max_turnover=1.0)
    assert found(c) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"max_weight": 0.05},
            "the assets' maximum weights allow 10 × max weight 5% = 50% but the assets must sum to 100%",
        ),
        (
            {"bounds": (0.11, 1.0), "cash": 0.05},
            "the minimum weights add up to 110% but the assets must sum to 95% after the 5% cash reserve",
        ),
        (
            {"cash": 0.05, "groups": {"A": (TEN[:5], 0.5, 1.0), "B": (TEN[5:], 0.6, 1.0)}},
            "group floors add up to 110% but the assets must sum to 95% after the 5% cash reserve",
        ),
        (
            {"max_weight": 0.05, "groups": {"Energy": (["S1", "S2", "ELSEWHERE"], 0.2, 1.0)}},
            "floor of Energy 20% exceeds what its members may hold: 2 × max weight 5% = 10%",
        ),
        (
            {"asset_bounds": {"S1": (0, 0.03), "S2": (0, 0.04)}, "groups": {"Energy": (["S1", "S2"], 0.1, 1.0)}},
            "floor of Energy 10% exceeds what its members may hold: their upper weight bounds add up to 7%",
        ),
        (
            {"bounds": (0.05, 1.0), "groups": {"T": (TEN[:4], 0.0, 0.1)}},
            "cap of T 10% is below its members' minimum weights (20%)",
        ),
        ({"asset_bounds": {"S3": (0.1, 0.5)}, "max_weight": 0.05}, "S3's minimum weight 10% exceeds max weight 5%"),
        ({"groups": {"X": (["ELSEWHERE"], 0.1, 1.0)}}, "floor of X 10% but none of its members is in the universe"),
        (
            {"groups": {"A": (TEN[:5], 0.0, 0.4), "B": (TEN[5:], 0.0, 0.5)}},
            "group caps add up to 90% but the assets must sum to 100%",
        ),
        (
            {"max_holdings": 3, "asset_bounds": {t: (0.01, 1.0) for t in TEN[:4]}},
            "max holdings 3 but 4 assets have a minimum weight above zero",
        ),
        (
            {"max_holdings": 4, "max_weight": 0.2},
            "max holdings 4 with their maximum weights allow at most 80% but the assets must sum to 100%",
        ),
        (
            {"max_holdings": 1, "groups": {"A": (TEN[:5], 0.1, 1.0), "B": (TEN[5:], 0.1, 1.0)}},
            "max holdings 1 but 2 separate groups have floors, each needing a holding",
        ),
        (
            {"max_weight": 0.1, "max_turnover": 0.02, "current": {"S1": 0.5, "S2": 0.5}},
            "max turnover 2% cannot reach the weight bounds from the current weights: at least 160% is needed",
        ),
    ],
)
def test_conflicts_name_the_constraints(kwargs, message):
    assert message in found(Constraints(**kwargs))


def test_overlapping_groups_are_not_summed():
    """Floors of overlapping groups may add up beyond 100%: both hold when the shared asset holds 60%."""
    c = Constraints(groups={"A": (["S0", "S1"], 0.6, 1.0), "B": (["S1", "S2"], 0.6, 1.0)})
    assert found(c) == []


def test_min_turnover_matches_a_linear_program():
    """min Σ|w − w0| s.t. lo ≤ w ≤ hi, Σ w = b as an LP in (w, d), d ≥ ±(w − w0), solved by scipy's HiGHS."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = 8
        current = rng.dirichlet(np.ones(n)) * rng.uniform(0.5, 1.2)
        c = Constraints(
            bounds=(0.0, 0.3), cash=float(rng.uniform(0, 0.2)), current=dict(zip(TEN, current, strict=False))
        )
        a = c.resolve(TEN[:n])
        eye = np.eye(n)
        lp = linprog(
            np.r_[np.zeros(n), np.ones(n)],
            A_ub=np.block([[eye, -eye], [-eye, -eye]]),
            b_ub=np.r_[current, -current],
            A_eq=np.r_[np.ones(n), np.zeros(n)][None, :],
            b_eq=[c.budget],
            bounds=[(0.0, 0.3)] * n + [(0, None)] * n,
        )
        assert lp.status == 0
        assert min_turnover(a) == pytest.approx(lp.fun, abs=1e-9)


def test_check_lists_every_violation():
    c = Constraints(
        bounds=(0.0, 0.5),
        max_weight=0.4,
        cash=0.1,
        groups={"Tech": (["S0", "S1"], 0.2, 0.5), "Energy": (["S2"], 0.3, 1.0)},
        max_holdings=3,
        max_turnover=0.2,
        current={"S0": 0.3, "S1": 0.3, "S2": 0.3},
    )
    weights = pd.Series({"S0": 0.45, "S1": 0.3, "S2": 0.2, "S3": -0.01})
    assert check(weights, c) == [
        "S3 weight -1% is below its minimum 0%",
        "S0 weight 45% is above its maximum 40%",
        "the weights sum to 94% but the assets must sum to 90% after the 10% cash reserve",
        "Energy holds 20%, below its floor 30%",
        "Tech holds 75%, above its cap 50%",
        "4 holdings exceed max holdings 3",
        "turnover 26% exceeds max turnover 20%",  # |.15| + 0 + |−.1| + |−.01|
    ]
    assert check(pd.Series({"S0": 0.25, "S1": 0.25, "S2": 0.4}), c) == []  # turnover .05 + .05 + .1
    assert check(pd.Series({"S0": np.nan, "S1": 0.9}), c) == ["weights contain NaN or infinite values"]
    # S2 is omitted: it holds 0, so Energy is empty and turnover is |.4 − .3| + |.5 − .3| + |0 − .3| = .6
    assert check(pd.Series({"S0": 0.4, "S1": 0.5}), c) == [
        "S1 weight 50% is above its maximum 40%",
        "Energy holds 0%, below its floor 30%",
        "Tech holds 90%, above its cap 50%",
        "turnover 60% exceeds max turnover 20%",
    ]


def test_check_turnover_and_tolerance():
    c = Constraints(max_turnover=0.2, current={"S0": 0.5, "S1": 0.5})
    assert check(pd.Series({"S0": 0.6, "S1": 0.4}), c) == []  # Σ|w − w0| = 0.2
    assert check(pd.Series({"S0": 0.7, "S1": 0.3}), c) == ["turnover 40% exceeds max turnover 20%"]
    assert check(pd.Series({"S0": 0.6 + 5e-7, "S1": 0.4}), c) == []  # within the 1e-6 tolerance


def test_sector_groups_from_the_bundled_gics_file():
    sectors = pd.read_csv(SECTORS_CSV).set_index("ticker")["gics_sector"].to_dict()
    groups = sector_groups(sectors, floors={"Energy": 0.05}, caps={"Information Technology": 0.3})
    assert groups["Energy"] == GroupLimit(frozenset(t for t, s in sectors.items() if s == "Energy"), 0.05, 1.0)
    assert {"XOM", "AAPL"} <= groups["Energy"].members | groups["Information Technology"].members
    assert groups["Information Technology"].floor == 0.0 and groups["Information Technology"].cap == 0.3
    with pytest.raises(AnalyticsError, match=r"no symbol belongs to the sector\(s\) Crypto"):
        sector_groups(sectors, floors={"Crypto": 0.1}, caps={})
