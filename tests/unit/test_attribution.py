"""Attribution against Bacon's published Brinson-Fachler and Carino examples, hand calculations and real data."""

import empyrical
import numpy as np
import pandas as pd
import pytest

from investment_app.analytics import attribution as at
from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.marketdata.bundled import SECTORS_CSV, bundled_bars

# Bacon, "Practical Portfolio Performance Measurement and Attribution" (2nd ed., 2008), Table 8.1: four quarters of
# UK / Japanese / US equities (quarter 1 is the single-period example of chapter 5). The same data and the
# published effects are the expected values of R PortfolioAttribution's tests ("Examples for linking approaches
# from Practical Portfolio Performance Management and Attribution by Carl Bacon").
MARKETS = ["UK", "JP", "US"]
WP = pd.DataFrame([[0.4, 0.3, 0.3], [0.7, 0.2, 0.1], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2]], columns=MARKETS)
WB = pd.DataFrame([[0.4, 0.2, 0.4], [0.4, 0.3, 0.3], [0.5, 0.4, 0.1], [0.4, 0.4, 0.2]], columns=MARKETS)
RP = pd.DataFrame([[0.2, -0.05, 0.06], [-0.05, 0.03, -0.05], [-0.2, 0.08, -0.15], [0.1, -0.07, 0.25]], columns=MARKETS)
RB = pd.DataFrame([[0.1, -0.04, 0.08], [-0.07, 0.04, -0.1], [-0.25, 0.05, -0.2], [0.05, -0.05, 0.1]], columns=MARKETS)


def test_brinson_fachler_matches_bacon_single_period():
    table = at.brinson_fachler(WP.iloc[0], RP.iloc[0], WB.iloc[0], RB.iloc[0])
    # Published (Bacon quarter 1): allocation 0, −1.04 %, −0.16 % (total −1.2 %); selection including
    # interaction 4.0 %, −0.3 %, −0.6 % (total 3.1 %); portfolio 8.3 %, benchmark 6.4 %.
    assert table["allocation"].tolist() == pytest.approx([0.0, -0.0104, -0.0016], abs=1e-12)
    assert (table["selection"] + table["interaction"]).tolist() == pytest.approx([0.04, -0.003, -0.006], abs=1e-12)
    # By hand: selection wb (rp − rb) = 0.4·0.10, 0.2·(−0.01), 0.4·(−0.02); interaction (wp − wb)(rp − rb).
    assert table["selection"].tolist() == pytest.approx([0.04, -0.002, -0.008], abs=1e-12)
    assert table["interaction"].tolist() == pytest.approx([0.0, -0.001, 0.002], abs=1e-12)
    assert table["total"].sum() == pytest.approx(0.083 - 0.064, abs=1e-15)


def test_brinson_fachler_sectors_held_by_one_side_only():
    # Portfolio holds X (not in the benchmark), the benchmark holds Y (not in the portfolio).
    wp, rp = pd.Series({"A": 0.5, "X": 0.5}), pd.Series({"A": 0.10, "X": 0.20})
    wb, rb = pd.Series({"A": 0.6, "Y": 0.4}), pd.Series({"A": 0.05, "Y": -0.05})
    table = at.brinson_fachler(wp, rp, wb, rb)
    # Rp = 0.15, Rb = 0.01. A: (−0.1)(0.04), 0.6·0.05, (−0.1)(0.05); X: 0.5(0.20 − 0.01); Y: (−0.4)(−0.05 − 0.01).
    expected = pd.DataFrame(
        {"allocation": [-0.004, 0.095, 0.024], "selection": [0.03, 0.0, 0.0], "interaction": [-0.005, 0.0, 0.0]},
        index=["A", "X", "Y"],
    )
    assert table.index.tolist() == ["A", "X", "Y"]
    np.testing.assert_allclose(table[at.EFFECTS].to_numpy(), expected.to_numpy(), atol=1e-15)
    assert table["total"].sum() == pytest.approx(0.14, abs=1e-15)


def test_linked_brinson_fachler_matches_bacon_carino_table():
    table = at.brinson_fachler_linked(WP, RP, WB, RB)
    # Bacon Table 8.2 (Carino), four-quarter totals: allocation 1.65 %, −0.60 %, 0.15 % (1.20 %); selection
    # including interaction 8.04 %, 0.18 %, 3.85 % (12.07 %), published to 4 decimals.
    assert table["allocation"].tolist() == pytest.approx([0.0165, -0.006, 0.0015], abs=1e-4)
    assert (table["selection"] + table["interaction"]).tolist() == pytest.approx([0.0804, 0.0018, 0.0385], abs=1e-4)
    assert table["allocation"].sum() == pytest.approx(0.012, abs=1e-4)
    # The linked effects add up to the compounded active return, by hand from the quarters' returns:
    # Rp_t = 8.3 %, −3.4 %, −5 %, 4.5 %; Rb_t = 6.4 %, −4.6 %, −12.5 %, 2 %.
    compounded_p = 1.083 * 0.966 * 0.95 * 1.045 - 1
    compounded_b = 1.064 * 0.954 * 0.875 * 1.02 - 1
    assert table["total"].sum() == pytest.approx(compounded_p - compounded_b, abs=1e-15)


def test_contributions_hand_worked_two_periods():
    weights = pd.DataFrame({"A": [0.6, 0.5], "B": [0.4, 0.5]})
    returns = pd.DataFrame({"A": [0.10, -0.20], "B": [-0.05, 0.10]})
    # R1 = 4 %, R2 = −5 %, R = 1.04 · 0.95 − 1 = −1.2 %; k1 = ln 1.04 / 0.04 = 0.980518, k2 = ln 0.95 / −0.05
    # = 1.025866, K = ln 0.988 / −0.012 = 1.006048; c_A = (0.06 k1 − 0.10 k2) / K, c_B = (−0.02 k1 + 0.05 k2) / K.
    result = at.contributions(weights, returns)
    assert result.tolist() == pytest.approx([-0.0434924577, 0.0314924577], abs=1e-10)
    assert result.sum() == pytest.approx(-0.012, abs=1e-15)


def test_carino_factor_limits():
    assert at.carino(0.05, 0.05) == pytest.approx(1 / 1.05, rel=1e-15)
    assert at.carino(0.0, 0.0) == 1.0
    assert at.carino(0.05 + 1e-13, 0.05) == pytest.approx(1 / 1.05, rel=1e-12)  # no cancellation near a = b
    assert at.carino(0.1, 0.0) == pytest.approx(np.log(1.1) / 0.1, rel=1e-15)


@pytest.fixture(scope="module")
def market() -> tuple[pd.DataFrame, pd.Series]:
    """Bundled daily returns 2018–2024 of the 19 stocks and their GICS sectors."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close").drop(columns="SPY")
    closes = closes.set_axis(pd.DatetimeIndex(closes.index), axis=0).loc["2017-12-29":]
    sectors = pd.read_csv(SECTORS_CSV).set_index("ticker")["gics_sector"]
    return closes, sectors


def _buy_and_hold(closes: pd.DataFrame, symbols: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Start-of-day weights of an equal-value buy-and-hold of ``symbols`` and the daily returns."""
    held = closes[symbols]
    value = held / held.iloc[0]
    weights = value.shift(1).div(value.shift(1).sum(axis=1), axis=0).iloc[1:]
    return weights, held.pct_change(fill_method=None).iloc[1:]


def test_contributions_add_up_to_the_buy_and_hold_return(market):
    closes, _ = market
    symbols = ["AAPL", "XOM", "JPM", "PFE", "WMT"]
    weights, returns = _buy_and_hold(closes, symbols)
    result = at.contributions(weights, returns)
    buy_and_hold = (closes[symbols].iloc[-1] / closes[symbols].iloc[0]).mean() - 1  # from prices alone
    assert result.sum() == pytest.approx(buy_and_hold, rel=1e-10)
    assert result.idxmax() == "AAPL" and result.index.tolist() == symbols


def test_linked_attribution_against_universe_adds_up(market):
    closes, sectors = market
    daily = closes.pct_change(fill_method=None).iloc[1:]
    weights, returns = _buy_and_hold(closes, ["AAPL", "XOM", "JPM", "PFE", "WMT"])
    wp, rp = at.sector_view(weights, returns, sectors)
    wb, rb = at.universe_benchmark(daily, sectors)
    table = at.brinson_fachler_linked(wp, rp, wb.loc[wp.index], rb.loc[wp.index])
    portfolio = (closes[weights.columns].iloc[-1] / closes[weights.columns].iloc[0]).mean() - 1
    universe = empyrical.cum_returns_final(daily.mean(axis=1))  # equal weight of the stocks trading each day
    assert table["total"].sum() == pytest.approx(portfolio - universe, rel=1e-10)
    assert set(table.index) == set(sectors[daily.columns])


def test_universe_benchmark_and_sector_view_by_hand():
    days = pd.bdate_range("2024-01-01", periods=3)
    returns = pd.DataFrame(
        {"A": [np.nan, 0.01, np.nan], "B": [np.nan, 0.03, 0.02], "C": [np.nan, -0.01, 0.05]}, index=days
    )
    sectors = pd.Series({"A": "Tech", "B": "Tech", "C": "Energy"})
    wb, rb = at.universe_benchmark(returns, sectors)
    assert wb.index.tolist() == days[1:].tolist()  # the first day has no returns
    np.testing.assert_allclose(wb[["Tech", "Energy"]].to_numpy(), [[2 / 3, 1 / 3], [0.5, 0.5]], rtol=1e-15)
    np.testing.assert_allclose(rb[["Tech", "Energy"]].to_numpy(), [[0.02, -0.01], [0.02, 0.05]], rtol=1e-15)
    weights = pd.DataFrame({"A": [0.2], "B": [0.3], "C": [0.5]})
    w, r = at.sector_view(weights, pd.DataFrame({"A": [0.1], "B": [-0.1], "C": [0.02]}), sectors)
    assert (w.loc[0, "Tech"], r.loc[0, "Tech"]) == pytest.approx((0.5, (0.02 - 0.03) / 0.5))
    assert (w.loc[0, "Energy"], r.loc[0, "Energy"]) == pytest.approx((0.5, 0.02))


def test_attribution_rejects_bad_input():
    with pytest.raises(AnalyticsError, match=r"weights on the period sum to 0\.900000, not 1"):
        at.brinson_fachler(pd.Series({"A": 0.9}), pd.Series({"A": 0.1}), pd.Series({"A": 1.0}), pd.Series({"A": 0.1}))
    with pytest.raises(AnalyticsError, match="has weight in B on the period but no return"):
        at.brinson_fachler(
            pd.Series({"A": 0.5, "B": 0.5}), pd.Series({"A": 0.1}), pd.Series({"A": 1.0}), pd.Series({"A": 0.1})
        )
    with pytest.raises(AnalyticsError, match="same dates"):
        at.brinson_fachler_linked(WP, RP.iloc[:3], WB, RB)
    with pytest.raises(AnalyticsError, match="lost 100 % or more on 1"):
        at.contributions(pd.DataFrame({"A": [1.0, 1.0]}), pd.DataFrame({"A": [0.1, -1.0]}))
    with pytest.raises(AnalyticsError, match=r"no return for B on 0, where it has weight 0\.5"):
        at.contributions(pd.DataFrame({"A": [0.5], "B": [0.5]}), pd.DataFrame({"A": [0.1]}))
    with pytest.raises(AnalyticsError, match="no sector for Z"):
        at.sector_view(pd.DataFrame({"Z": [1.0]}), pd.DataFrame({"Z": [0.1]}), pd.Series({"A": "Tech"}))
    with pytest.raises(InsufficientData):
        at.contributions(pd.DataFrame(), pd.DataFrame())
