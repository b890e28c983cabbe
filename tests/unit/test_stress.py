"""Stress tests against hand-built prices, published S&P 500 drawdowns, np.polyfit / empyrical betas and lstsq."""

from datetime import date

import empyrical
import numpy as np
import pandas as pd
import pytest

from investment_app.analytics import stress as st
from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.marketdata.bundled import SECTORS_CSV, bundled_bars


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    """Bundled adjusted closes, DatetimeIndex × symbol (SPY included)."""
    wide = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")
    return wide.set_axis(pd.DatetimeIndex(wide.index), axis=0)


@pytest.fixture(scope="module")
def daily(closes) -> pd.DataFrame:
    return closes.pct_change(fill_method=None)


@pytest.fixture(scope="module")
def factors(daily) -> pd.DataFrame:
    sectors = pd.read_csv(SECTORS_CSV).set_index("ticker")["gics_sector"]
    return st.factor_returns(daily.drop(columns="SPY"), daily["SPY"], sectors)


# S&P 500 price-index closes at each window's ends (S&P Dow Jones Indices' published daily closes, as listed in
# Wikipedia's "List of stock market crashes and bear markets"): 1998-07-17 1186.75 → 1998-08-31 957.28;
# 2000-03-24 1527.46 → 2002-10-09 776.76; 2007-10-09 1565.15 → 2009-03-09 676.53; 2008-09-02 1277.58 →
# 2008-11-20 752.44; 2011-07-22 1345.02 → 2011-10-03 1099.23; 2018-09-20 2930.75 → 2018-12-24 2351.10;
# 2020-02-19 3386.15 → 2020-03-23 2237.40; 2022-01-03 4796.56 → 2022-10-12 3577.03.
PUBLISHED_PRICE_MOVES = {
    "ltcm_1998": 957.28 / 1186.75 - 1,
    "dotcom": 776.76 / 1527.46 - 1,
    "gfc_peak_to_trough": 676.53 / 1565.15 - 1,
    "gfc_autumn_2008": 752.44 / 1277.58 - 1,
    "us_downgrade_2011": 1099.23 / 1345.02 - 1,
    "q4_2018": 2351.10 / 2930.75 - 1,
    "covid_2020": 2237.40 / 3386.15 - 1,
    "rate_shock_2022": 3577.03 / 4796.56 - 1,
}


def test_crisis_windows_reproduce_published_drawdowns(closes):
    assert {c.key for c in st.CRISES} == set(PUBLISHED_PRICE_MOVES)
    for crisis in st.CRISES:
        result = st.replay(crisis, pd.Series({"SPY": 100.0}), closes[["SPY"]], closes["SPY"])
        published = PUBLISHED_PRICE_MOVES[crisis.key]
        # SPY's adjusted closes reinvest dividends (≈ 1–2 %/year) and pay a 0.09 % fee: the total return is
        # the price move plus up to 2 points, never below it.
        assert published <= result.benchmark_return <= published + 0.02, crisis.key
        assert result.portfolio_return == pytest.approx(result.benchmark_return, abs=1e-15)
    assert PUBLISHED_PRICE_MOVES["covid_2020"] == pytest.approx(-0.339, abs=0.001)
    assert PUBLISHED_PRICE_MOVES["gfc_peak_to_trough"] == pytest.approx(-0.568, abs=0.001)


def _hand_prices() -> tuple[pd.DataFrame, pd.Series]:
    """Business days 2024-01-01..2024-01-12; window Sat 2024-01-06 .. Thu 2024-01-11 → t0 Mon 8th, t1 Thu 11th."""
    days = pd.bdate_range("2024-01-01", "2024-01-12")
    prices = pd.DataFrame(
        {
            "A": [10, 10, 10, 10, 10, 20, 21, 22, 15, 99],  # 20 on t0, 15 on t1: −25 %
            "B": [50, 50, 50, 50, 50, 40, 41, 42, 50, 1],  # 40 → 50: +25 %
            "C": [np.nan] * 7 + [8.0, 9.0, 9.0],  # listed after t0: proxy
        },
        index=days,
        dtype=float,
    )
    bench = pd.Series([100, 100, 100, 100, 100, 100, 98, 97, 90, 90], index=days, dtype=float)  # t0..t1: −10 %
    return prices, bench


HAND_CRISIS = st.Crisis("hand", "Hand-built window", date(2024, 1, 6), date(2024, 1, 11), "a test window")


def test_replay_hand_built_prices():
    prices, bench = _hand_prices()
    values = pd.Series({"A": 1000.0, "B": 400.0, "C": 200.0})
    result = st.replay(HAND_CRISIS, values, prices, bench, cash=400.0)
    assert (result.start, result.end) == (date(2024, 1, 8), date(2024, 1, 11))
    assert result.benchmark_return == pytest.approx(-0.10)
    rows = result.rows
    assert rows.index.tolist() == ["A", "C", "B"]  # worst P&L first: −250, −20 (β = 1 × −10 %), +100
    assert rows["return"].tolist() == pytest.approx([-0.25, -0.10, 0.25])
    assert rows["pnl"].tolist() == pytest.approx([-250.0, -20.0, 100.0])
    assert rows["proxy"].tolist() == [False, True, False]
    assert rows.loc["C", "beta"] == 1.0 and "only 2 days of history" in rows.loc["C", "note"]
    assert np.isnan(rows.loc["A", "beta"]) and rows.loc["A", "note"] == ""
    assert result.portfolio_pnl == pytest.approx(-170.0)
    assert result.portfolio_return == pytest.approx(-170.0 / 2000.0)  # cash counts in the value
    assert result.worst(1).index.tolist() == ["A"]


def test_replay_proxies_meta_and_gm_in_2008_with_their_betas(closes, daily):
    gfc = st.crisis("gfc_peak_to_trough")
    values = pd.Series({"AAPL": 1000.0, "META": 500.0, "GM": 300.0})
    result = st.replay(gfc, values, closes.drop(columns="SPY"), closes["SPY"])
    spy = closes["SPY"]
    spy_move = spy["2009-03-09"] / spy["2007-10-09"] - 1
    aapl = closes["AAPL"]["2009-03-09"] / closes["AAPL"]["2007-10-09"] - 1
    assert result.rows.loc["AAPL", "return"] == pytest.approx(aapl, rel=1e-12)
    assert not result.rows.loc["AAPL", "proxy"]
    for symbol in ("META", "GM"):  # listed in 2012 and (after the bankruptcy) 2010
        pair = daily[[symbol, "SPY"]].dropna()
        slope = np.polyfit(pair["SPY"], pair[symbol], 1)[0]
        assert slope == pytest.approx(empyrical.beta(pair[symbol], pair["SPY"]), rel=1e-10)
        row = result.rows.loc[symbol]
        assert row["proxy"] and row["beta"] == pytest.approx(slope, rel=1e-10)
        assert row["return"] == pytest.approx(slope * spy_move, rel=1e-10)
        assert row["note"] == f"no price on 2007-10-09; β from {len(pair)} days"


def test_replay_rejects_bad_input(closes):
    prices, bench = _hand_prices()
    with pytest.raises(AnalyticsError, match="no prices covering"):
        st.replay(st.crisis("dotcom"), pd.Series({"A": 1.0}), prices, bench)
    with pytest.raises(AnalyticsError, match="finite"):
        st.replay(HAND_CRISIS, pd.Series({"A": np.nan}), prices, bench)
    with pytest.raises(AnalyticsError, match="DatetimeIndex"):
        st.replay(HAND_CRISIS, pd.Series({"A": 1.0}), prices.reset_index(drop=True), bench)
    with pytest.raises(AnalyticsError, match="unknown crisis 'nope'"):
        st.crisis("nope")
    with pytest.raises(AnalyticsError, match="no holdings"):
        st.replay(HAND_CRISIS, pd.Series(dtype=float), prices, bench, cash=10.0)


def test_single_factor_shock_is_beta_times_shock(daily, factors):
    values = pd.Series({"AAPL": 1000.0, "XOM": 500.0, "META": 250.0})
    result = st.shock(values, daily, factors, {"market": -0.2}, cash=250.0)
    expected_pnl = 0.0
    for symbol, value in values.items():
        pair = daily[[symbol, "SPY"]].dropna()
        beta = np.polyfit(pair["SPY"], pair[symbol], 1)[0]
        assert beta == pytest.approx(empyrical.beta(pair[symbol], pair["SPY"]), rel=1e-10)
        assert result.rows.loc[symbol, ["beta", "beta:market"]].tolist() == pytest.approx([beta, beta], rel=1e-9)
        assert result.rows.loc[symbol, "note"] == f"β {beta:.2f} × market" and not result.rows.loc[symbol, "proxy"]
        assert result.rows.loc[symbol, "return"] == pytest.approx(-0.2 * beta, rel=1e-9)
        expected_pnl += value * -0.2 * beta
    assert result.portfolio_pnl == pytest.approx(expected_pnl, rel=1e-9)
    assert result.portfolio_return == pytest.approx(expected_pnl / 2000.0, rel=1e-9)
    assert result.benchmark_return == -0.2
    assert result.name == "Shock: market -20.0%"


def test_symbol_shock_hits_that_symbol_exactly(daily, factors):
    values = pd.Series({"AAPL": 1000.0, "JPM": 500.0})
    result = st.shock(values, daily, factors, {"symbol:AAPL": -0.3})
    assert result.rows.loc["AAPL", "return"] == -0.3 and result.rows.loc["AAPL", "note"] == "its own shock"
    pair = daily[["JPM", "AAPL"]].dropna()
    assert result.rows.loc["JPM", "return"] == pytest.approx(-0.3 * np.polyfit(pair["AAPL"], pair["JPM"], 1)[0])
    # The override only rounds: OLS of a series on itself (and another factor) gives the unit row.
    x = daily[["AAPL", "SPY"]].dropna().to_numpy()
    beta, _ = st.ols_slopes(x[:, :1], x)
    assert beta[0] == pytest.approx([1.0, 0.0], abs=1e-12)


def test_multi_factor_shock_matches_lstsq_on_each_holdings_history(daily, factors):
    values = pd.Series({"XOM": 100.0, "RRC": 100.0, "GOOG": 100.0})
    shocks = {"market": -0.1, "sector:Energy": -0.25}
    result = st.shock(values, daily, factors, shocks)
    for symbol in values.index:
        frame = pd.concat([daily[symbol], factors[list(shocks)]], axis=1).dropna()
        design = np.column_stack([np.ones(len(frame)), frame[list(shocks)].to_numpy()])
        coef = np.linalg.lstsq(design, frame[symbol].to_numpy(), rcond=None)[0][1:]
        assert result.rows.loc[symbol, ["beta:market", "beta:sector:Energy"]].tolist() == pytest.approx(coef, rel=1e-8)
        assert result.rows.loc[symbol, "return"] == pytest.approx(coef @ np.array([-0.1, -0.25]), rel=1e-8)
        assert np.isnan(result.rows.loc[symbol, "beta"])  # several factors: see the beta:<factor> columns
    assert result.benchmark_return == -0.1
    assert result.start == date(1993, 2, 1)  # SPY's first return


def test_factor_returns_by_hand():
    days = pd.bdate_range("2024-01-01", periods=2)
    returns = pd.DataFrame({"A": [0.01, np.nan], "B": [0.03, 0.02], "C": [-0.01, 0.05], "D": [0.5, 0.5]}, index=days)
    sectors = pd.Series({"A": "Tech", "B": "Tech", "C": "Energy"})  # D has no sector
    out = st.factor_returns(returns, pd.Series([0.001, 0.002], index=days), sectors)
    assert out["market"].tolist() == [0.001, 0.002]
    assert out["sector:Tech"].tolist() == pytest.approx([0.02, 0.02])  # day 2: only B traded
    assert out["sector:Energy"].tolist() == [-0.01, 0.05]
    assert out["symbol:D"].tolist() == [0.5, 0.5]
    assert [c for c in out.columns if c.startswith("sector:")] == ["sector:Energy", "sector:Tech"]


def test_shock_caps_a_model_loss_beyond_total():
    rng = np.random.default_rng(7)
    market = pd.Series(rng.normal(0, 0.01, 300), index=pd.bdate_range("2020-01-01", periods=300))
    assets = pd.DataFrame({"LEVERED": 6.0 * market + rng.normal(0, 0.001, 300)})
    result = st.shock(pd.Series({"LEVERED": 100.0}), assets, market.to_frame("market"), {"market": -0.2})
    assert result.rows.loc["LEVERED", "return"] == -1.0
    assert "capped" in result.rows.loc["LEVERED", "note"]


def test_shock_rejects_bad_input(daily, factors):
    values = pd.Series({"AAPL": 1.0})
    with pytest.raises(AnalyticsError, match="unknown factor 'sector:Crypto'"):
        st.shock(values, daily, factors, {"sector:Crypto": -0.2})
    with pytest.raises(AnalyticsError, match="above −100 %"):
        st.shock(values, daily, factors, {"market": -1.0})
    with pytest.raises(AnalyticsError, match="no factor shocked"):
        st.shock(values, daily, factors, {})
    with pytest.raises(AnalyticsError, match="no return history for TSLA"):
        st.shock(pd.Series({"TSLA": 1.0}), daily, factors, {"market": -0.2})
    with pytest.raises(AnalyticsError, match="collinear"):  # Information Technology = mean(AAPL, AMD)
        st.shock(values, daily, factors, {"sector:Information Technology": -0.1, "symbol:AAPL": 0, "symbol:AMD": 0})
    recent = daily.loc["2024-10-01":]
    with pytest.raises(InsufficientData, match=r"needs at least 60 observations \(has \d+\)"):
        st.shock(values, recent, factors.loc["2024-10-01":], {"market": -0.2})
    short = daily[["AAPL"]].copy()
    short.loc[:"2024-10-15", "AAPL"] = np.nan
    with pytest.raises(InsufficientData, match="the regression of AAPL on market"):
        st.shock(values, short, factors, {"market": -0.2})
