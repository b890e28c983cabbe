"""Metrics against empyrical-reloaded, quantstats and pandas on real bundled daily returns, plus hand cases."""

import datetime as dt

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from investment_app.analytics import metrics as m
from investment_app.analytics.errors import AnalyticsError
from investment_app.marketdata.bundled import bundled_bars


@pytest.fixture(scope="module")
def returns() -> tuple[pd.Series, pd.Series]:
    """AAPL and SPY daily simple returns, 2014–2024, on their common dates."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")[["AAPL", "SPY"]]
    daily = closes.loc[pd.Timestamp("2014-01-01").date() :].pct_change().dropna()
    daily.index = pd.DatetimeIndex(daily.index)
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


def test_treynor_matches_quantstats_on_one_year(returns):
    """One year (n = 252) and rf = 0: CAGR = total return and β of raw returns, so quantstats' ratio is ours."""
    r, b = (s.iloc[-252:] for s in returns)
    assert m.treynor(r.to_numpy(), b.to_numpy()) == pytest.approx(qs.stats.treynor_ratio(r, b), rel=1e-10)


def test_treynor_with_risk_free_is_annualised_excess_over_empyrical_beta(returns):
    r, b = returns
    annual_rf = (1 + RF) ** 252 - 1
    expected = (empyrical.annual_return(r) - annual_rf) / empyrical.beta(r, b, RF)
    assert m.treynor(r.to_numpy(), b.to_numpy(), RF) == pytest.approx(expected, rel=1e-10)
    # over many years quantstats' numerator is the total (not annualised) return
    their = qs.stats.treynor_ratio(r, b) * empyrical.annual_return(r) / empyrical.cum_returns_final(r)
    assert m.treynor(r.to_numpy(), b.to_numpy()) == pytest.approx(their, rel=1e-10)


def test_ulcer_index_is_quantstats_with_mean_over_n(returns):
    r, _ = returns
    n = len(r)
    assert m.ulcer_index(r.to_numpy()) == pytest.approx(qs.stats.ulcer_index(r) * np.sqrt((n - 1) / n), rel=1e-10)
    # drawdowns 0, −20 %, −16 % (hand): √((0 + 0.04 + 0.0256) / 3)
    assert m.ulcer_index(np.array([0.10, -0.20, 0.05])) == pytest.approx(np.sqrt(0.0656 / 3))


def test_win_rate_best_worst_match_quantstats(returns):
    r, _ = returns
    x = r.to_numpy()
    assert m.win_rate(x) == pytest.approx(qs.stats.win_rate(r), rel=1e-12)
    assert m.best(x) == qs.stats.best(r) and m.worst(x) == qs.stats.worst(r)
    assert m.win_rate(np.array([0.01, 0.0, -0.02, 0.03, 0.0])) == pytest.approx(2 / 3)
    assert m.win_rate(np.zeros(4)) is None


def _dated(values: list[float], start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"))


def test_drawdown_periods_hand_case():
    # wealth 1.1, 0.99, 1.1000009 (above the peak: recovered), 1.045, 0.9405, 0.9499 (still under water)
    r = _dated([0.10, -0.10, 0.111112, -0.05, -0.10, 0.01])
    first, second = m.drawdown_periods(r)
    assert first.peak == dt.date(2024, 1, 3) and first.trough == dt.date(2024, 1, 5) and first.recovery is None
    assert first.depth == pytest.approx(0.95 * 0.90 - 1)
    assert (first.duration_days, first.days_to_trough, first.days_to_recover) == (3, 2, None)
    assert second == m.DrawdownPeriod(
        peak=dt.date(2024, 1, 1),
        trough=dt.date(2024, 1, 2),
        recovery=dt.date(2024, 1, 3),
        depth=pytest.approx(-0.10),
        duration_days=2,
        days_to_trough=1,
        days_to_recover=1,
    )
    assert m.drawdown_periods(r, top=1) == [first]


def test_drawdown_from_the_first_day_peaks_on_the_first_date():
    (period,) = m.drawdown_periods(_dated([-0.5, 1.0, 0.1]))
    assert (period.peak, period.trough, period.recovery) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 1, 1),
        dt.date(2024, 1, 2),
    )
    assert period.depth == -0.5
    assert m.drawdown_periods(_dated([0.01, 0.0, 0.02])) == []


def test_drawdown_periods_match_quantstats_details(returns):
    r, _ = returns
    ours = m.drawdown_periods(r, top=10)
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(r)).set_index("valley")
    assert [p.depth * 100 for p in ours] == pytest.approx(sorted(details["max drawdown"])[:10], rel=1e-10)
    dates = [d.date() for d in r.index]
    for period in ours:
        row = details.loc[period.trough.isoformat()]
        # quantstats: first and last day under water, counted inclusively
        assert row["start"] == dates[dates.index(period.peak) + 1].isoformat()
        last_under = dates[-1] if period.recovery is None else dates[dates.index(period.recovery) - 1]
        assert row["end"] == last_under.isoformat()
        assert row["days"] == (last_under - dates[dates.index(period.peak) + 1]).days + 1
        fall = r.loc[pd.Timestamp(period.peak) + pd.Timedelta(days=1) : pd.Timestamp(period.trough)]
        assert period.depth == pytest.approx(empyrical.cum_returns_final(fall), rel=1e-10)


def test_drawdown_periods_accept_date_labels_and_reject_bad_input(returns):
    r, _ = returns
    by_date = pd.Series(r.to_numpy(), index=[d.date() for d in r.index])
    assert m.drawdown_periods(by_date) == m.drawdown_periods(r)
    assert m.drawdown_periods(r.iloc[::-1]) == m.drawdown_periods(r)
    with pytest.raises(AnalyticsError, match="1 missing or infinite"):
        m.drawdown_periods(_dated([0.01, np.nan]))
    with pytest.raises(AnalyticsError, match="date index"):
        m.drawdown_periods(pd.Series([0.01, -0.02]))
    with pytest.raises(AnalyticsError, match="real numbers"):
        m.drawdown_periods(_dated(["a", "b"]))
    with pytest.raises(AnalyticsError, match="duplicate"):
        m.drawdown_periods(pd.Series([0.01, -0.02], index=pd.DatetimeIndex(["2024-01-02", "2024-01-02"])))
    with pytest.raises(AnalyticsError, match="top"):
        m.drawdown_periods(r, top=0)


def test_cagr_counts_periods_as_quantstats_now_does(returns):
    """QuantStats 0.0.86 annualises over count / 252 periods, as empyrical and we do; its older releases
    counted calendar days ((last − first).days / 365), which this series shows to be a different number."""
    r, _ = returns
    assert m.annual_return(r.to_numpy()) == pytest.approx(qs.stats.cagr(r), rel=1e-12)
    calendar_years = (r.index[-1] - r.index[0]).days / 365
    calendar_cagr = (1 + m.total_return(r.to_numpy())) ** (1 / calendar_years) - 1
    assert abs(calendar_cagr - m.annual_return(r.to_numpy())) > 1e-4
