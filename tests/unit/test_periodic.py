"""Calendar-period returns and rolling metrics against pandas, quantstats, empyrical and direct loops."""

import datetime as dt

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.analytics.periodic import monthly_returns, period_returns
from investment_app.analytics.rolling import rolling_metrics
from investment_app.marketdata.bundled import bundled_bars


@pytest.fixture(scope="module")
def returns() -> tuple[pd.Series, pd.Series]:
    """WMT and SPY daily simple returns from mid-2009 (a partial first year) to 2024."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")[["WMT", "SPY"]]
    closes.index = pd.DatetimeIndex(closes.index)
    daily = closes.loc["2009-06-01":].pct_change().dropna()
    return daily["WMT"], daily["SPY"]


def test_period_returns_match_pandas_resampling(returns):
    r, _ = returns
    for freq, rule in (("M", "ME"), ("Y", "YE")):
        theirs = (1 + r).resample(rule).prod() - 1
        ours = period_returns(r, freq)
        assert ours.to_numpy() == pytest.approx(theirs.to_numpy(), rel=1e-12)
        assert (ours.index.to_timestamp(how="end").normalize() == theirs.index).all()


def test_best_and_worst_periods_match_quantstats(returns):
    r, _ = returns
    months, years = period_returns(r, "M"), period_returns(r, "Y")
    # quantstats' period codes are "ME" and "YE" ("M" would silently leave the returns daily)
    assert months.max() == pytest.approx(qs.stats.best(r, "ME"), rel=1e-12)
    assert months.min() == pytest.approx(qs.stats.worst(r, "ME"), rel=1e-12)
    assert years.max() == pytest.approx(qs.stats.best(r, "YE"), rel=1e-12)
    assert years.min() == pytest.approx(qs.stats.worst(r, "YE"), rel=1e-12)


def test_monthly_table_matches_quantstats(returns):
    r, _ = returns
    ours = monthly_returns(r)
    theirs = qs.stats.monthly_returns(r)
    assert list(ours.columns) == [*range(1, 13), "Year"]
    assert ours.index.tolist() == [int(y) for y in theirs.index]
    assert ours["Year"].to_numpy() == pytest.approx(theirs["EOY"].to_numpy(), rel=1e-12)
    months = ours.drop(columns="Year").to_numpy()
    assert np.isnan(months[0, :5]).all() and np.isnan(months[-1, -1])  # June 2009 onwards; no December 2024
    filled = ~np.isnan(months)
    assert months[filled] == pytest.approx(theirs.iloc[:, :12].to_numpy()[filled], rel=1e-12)


def test_monthly_hand_case_with_a_gap_year_and_date_labels():
    r = pd.Series(
        [0.10, -0.10, 0.05, 0.02],
        index=[dt.date(2020, 1, 31), dt.date(2020, 1, 2), dt.date(2020, 3, 2), dt.date(2022, 12, 30)],
    )
    table = monthly_returns(r)
    assert table.index.tolist() == [2020, 2022]
    assert table.loc[2020, 1] == pytest.approx(0.9 * 1.1 - 1) and np.isnan(table.loc[2020, 2])
    assert table.loc[2020, "Year"] == pytest.approx(0.9 * 1.1 * 1.05 - 1)
    assert table.loc[2022, 12] == table.loc[2022, "Year"] == pytest.approx(0.02)
    assert period_returns(r, "M").index.astype(str).tolist() == ["2020-01", "2020-03", "2022-12"]


def test_period_returns_reject_bad_input():
    with pytest.raises(AnalyticsError, match="freq"):
        period_returns(pd.Series([0.1], index=pd.DatetimeIndex(["2024-01-02"])), "W")
    with pytest.raises(InsufficientData):
        period_returns(pd.Series([], dtype=float, index=pd.DatetimeIndex([])), "M")
    with pytest.raises(AnalyticsError, match="missing"):
        period_returns(pd.Series([0.1, np.nan], index=pd.DatetimeIndex(["2024-01-02", "2024-01-03"])), "M")


RF = 0.0001
WINDOW = 63


def test_rolling_metrics_match_empyrical(returns):
    r, b = returns
    table = rolling_metrics(r, b, WINDOW, risk_free=RF)
    assert table.index.equals(r.index) and table.iloc[: WINDOW - 1].isna().all().all()
    tail = table.iloc[WINDOW - 1 :]
    assert tail["volatility"].to_numpy() == pytest.approx(empyrical.roll_annual_volatility(r, WINDOW), rel=1e-9)
    assert tail["sharpe"].to_numpy() == pytest.approx(empyrical.roll_sharpe_ratio(r, WINDOW, risk_free=RF), rel=1e-9)
    assert tail["beta"].to_numpy() == pytest.approx(empyrical.roll_beta(r, b, WINDOW, risk_free=RF), rel=1e-9)


def test_rolling_beta_by_direct_loop_with_benchmark_gaps(returns):
    r, b = (s.iloc[:300] for s in returns)
    gappy = b.drop(b.index[[10, 200]])
    beta = rolling_metrics(r, gappy, 20, risk_free=RF)["beta"]
    assert np.isnan(beta.iloc[[10, 200]]).all()
    common = r.index.intersection(gappy.index)
    x, y = gappy.loc[common].to_numpy() - RF, r.loc[common].to_numpy() - RF
    for end in (19, 150, 297):  # positions among the common dates
        expected = np.polyfit(x[end - 19 : end + 1], y[end - 19 : end + 1], 1)[0]
        assert beta.loc[common[end]] == pytest.approx(expected, rel=1e-9)


def test_rolling_flat_windows_and_bad_input():
    index = pd.date_range("2024-01-01", periods=6, freq="D")
    r = pd.Series([0.0, 0.0, 0.0, 0.01, -0.01, 0.02], index=index)
    table = rolling_metrics(r, pd.Series(0.0, index=index), 3)
    assert table["volatility"].iloc[2] == 0 and np.isnan(table["sharpe"].iloc[2]) and table["beta"].isna().all()
    assert np.isfinite(table["sharpe"].iloc[3:]).all()
    with pytest.raises(InsufficientData, match="needs at least 7 observations"):
        rolling_metrics(r, None, 7)
    with pytest.raises(InsufficientData, match="benchmark"):
        rolling_metrics(r, r.iloc[:2], 3)
    with pytest.raises(AnalyticsError, match="window"):
        rolling_metrics(r, None, 1)
    with pytest.raises(AnalyticsError, match="risk-free rate is missing"):
        rolling_metrics(r, None, 3, risk_free=pd.Series(0.0, index=index[:5]))
