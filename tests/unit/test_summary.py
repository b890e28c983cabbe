"""summarize(): the edge cases give None with a reason (never NaN), and real data match empyrical/quantstats."""

import json
import math

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats as qs
from scipy import stats

from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.riskfree import per_period
from investment_app.analytics.summary import BENCHMARK_KEYS, METRIC_KEYS, NO_OVERLAP, Summary, summarize
from investment_app.marketdata.bundled import bundled_bars
from investment_app.marketdata.treasury import three_month_yield

RF = 0.0001  # per day
REQUIRED = 0.0002  # per day


@pytest.fixture(scope="module")
def returns() -> tuple[pd.Series, pd.Series]:
    """AAPL and SPY daily simple returns, 2014–2024, on their common dates."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")[["AAPL", "SPY"]]
    closes.index = pd.DatetimeIndex(closes.index)
    daily = closes.loc["2014-01-01":].pct_change().dropna()
    return daily["AAPL"], daily["SPY"]


def _dated(values, start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)))


def checked(summary: Summary) -> dict:
    """The summary's JSON after the contract's invariants: every key, None ⇔ a reason, finite otherwise."""
    assert tuple(summary.values) == METRIC_KEYS
    for key, value in summary.values.items():
        assert (value is None) == (key in summary.warnings), key
        assert value is None or (type(value) is float and math.isfinite(value)), key
    payload = json.loads(json.dumps(summary.to_json(), allow_nan=False))
    assert all(payload[key] == summary.values[key] for key in METRIC_KEYS)
    return payload


def test_real_data_match_empyrical_and_quantstats(returns):
    r, b = returns
    s = summarize(r, b, risk_free=RF, required_return=REQUIRED)
    v = checked(s)
    alpha, beta = empyrical.alpha_beta(r, b, RF)
    expected = {
        "total_return": empyrical.cum_returns_final(r),
        "annual_return": empyrical.annual_return(r),
        "annual_volatility": empyrical.annual_volatility(r),
        "sharpe": empyrical.sharpe_ratio(r, RF),
        "sortino": empyrical.sortino_ratio(r, REQUIRED),
        "downside_risk": empyrical.downside_risk(r, REQUIRED),
        "calmar": empyrical.calmar_ratio(r),
        "omega": empyrical.omega_ratio(r, RF + REQUIRED),
        "max_drawdown": empyrical.max_drawdown(r),
        "tail_ratio": empyrical.tail_ratio(r),
        "skew": r.skew(),
        "kurtosis": r.kurt(),
        "ulcer_index": qs.stats.ulcer_index(r) * np.sqrt((len(r) - 1) / len(r)),
        "win_rate": qs.stats.win_rate(r),
        "best_day": qs.stats.best(r),
        "worst_day": qs.stats.worst(r),
        "best_month": qs.stats.best(r, "ME"),
        "worst_month": qs.stats.worst(r, "ME"),
        "best_year": qs.stats.best(r, "YE"),
        "worst_year": qs.stats.worst(r, "YE"),
        "alpha": alpha,
        "beta": beta,
        "r_squared": stats.linregress(b, r).rvalue ** 2,
        "information_ratio": empyrical.excess_sharpe(r, b) * np.sqrt(252),
        "tracking_error": (r - b).std() * np.sqrt(252),
        "up_capture": empyrical.up_capture(r, b),
        "down_capture": empyrical.down_capture(r, b),
        "treynor": (empyrical.annual_return(r) - ((1 + RF) ** 252 - 1)) / empyrical.beta(r, b, RF),
    }
    assert set(expected) == set(METRIC_KEYS)
    for key, theirs in expected.items():
        assert v[key] == pytest.approx(theirs, rel=1e-9), key
    assert s.warnings == {} and (s.observations, s.benchmark_observations) == (len(r), len(r))
    assert (v["start"], v["end"]) == (r.index[0].date().isoformat(), r.index[-1].date().isoformat())
    assert v["max_drawdown_peak"] == v["drawdowns"][0]["peak"] and v["drawdowns"][0]["depth"] == v["max_drawdown"]
    assert len(v["drawdowns"]) == 5 and len(v["monthly"]) == r.index.year.nunique()


def test_treasury_risk_free_series(returns):
    r, b = (s.loc["2008":"2016"] for s in returns)
    rates, warning = per_period(three_month_yield(), r.index)
    s = summarize(r, b, risk_free=pd.Series(rates, index=r.index))
    assert warning is None
    assert s.values["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, rates), rel=1e-9)
    # β regresses excess returns on excess returns (CAPM); empyrical's beta ignores rf, exact only for a constant
    beta = stats.linregress(b - rates, r - rates).slope
    assert s.values["beta"] == pytest.approx(beta, rel=1e-9)
    assert s.values["alpha"] == pytest.approx(empyrical.alpha(r, b, rates, _beta=beta), rel=1e-9)
    with pytest.raises(AnalyticsError, match="risk-free rate is missing on 1 of"):
        summarize(r, b, risk_free=pd.Series(rates, index=r.index).iloc[1:])


def test_all_zero_returns():
    s = summarize(_dated(np.zeros(30)), _dated(np.linspace(-0.01, 0.01, 30)))
    v = checked(s)
    assert v["total_return"] == v["annual_volatility"] == v["max_drawdown"] == v["ulcer_index"] == 0.0
    for key in ("sharpe", "skew", "kurtosis"):
        assert s.warnings[key] == "volatility is zero"
    assert s.warnings["sortino"] == "no returns below the required return"
    assert s.warnings["calmar"] == "no drawdown (no losses)"
    assert s.warnings["omega"].startswith("no returns below")
    assert s.warnings["win_rate"] == "every return is zero"
    assert s.warnings["tail_ratio"] == "the 5th percentile return is zero"
    assert v["beta"] == 0.0 and s.warnings["treynor"] == "beta is zero"
    assert s.warnings["r_squared"] == "volatility is zero" and s.drawdowns == []


def test_flat_benchmark_and_returns_that_equal_it():
    r = _dated([0.01, -0.02, 0.015, 0.0, 0.005])
    s = summarize(r, _dated(np.full(5, 0.001)))
    checked(s)
    for key in ("alpha", "beta", "treynor", "r_squared"):
        assert s.warnings[key] == "benchmark volatility is zero"
    assert s.values["up_capture"] == pytest.approx(empyrical.up_capture(r, _dated(np.full(5, 0.001))))
    assert s.warnings["down_capture"] == "the benchmark has no down periods"
    same = summarize(r, r)
    checked(same)
    assert same.values["beta"] == pytest.approx(1.0) and same.values["tracking_error"] == 0.0
    assert same.warnings["information_ratio"].startswith("tracking error is zero")


def test_nan_in_the_middle_is_dropped_with_a_note(returns):
    r, b = (s.iloc[:300] for s in returns)
    gappy = r.copy()
    gappy.iloc[[5, 100, 101]] = np.nan
    s = summarize(gappy, b)
    checked(s)
    assert s.warnings["data"].startswith("3 missing returns (NaN) were dropped; the metrics use the other 297")
    assert "left out" not in s.warnings["data"]  # the benchmark shares every remaining date
    clean = r.drop(r.index[[5, 100, 101]])
    assert s.observations == s.benchmark_observations == 297 and s.dropped == 3
    assert s.values["sharpe"] == pytest.approx(empyrical.sharpe_ratio(clean), rel=1e-10)
    assert s.values["beta"] == pytest.approx(empyrical.beta(clean, b.loc[clean.index]), rel=1e-10)


def test_partial_benchmark_overlap_is_an_inner_join(returns):
    r, b = (s.iloc[:300] for s in returns)
    s = summarize(r, b.iloc[50:].reindex(b.index[50:].append(pd.DatetimeIndex(["2030-01-02"]))))
    checked(s)
    assert s.warnings["data"] == (
        "the benchmark metrics use the 250 dates the returns share with the benchmark; "
        "50 return dates without a benchmark value were left out"
    )
    assert s.values["beta"] == pytest.approx(empyrical.beta(r.iloc[50:], b.iloc[50:]), rel=1e-10)
    assert s.values["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r), rel=1e-10)


def test_one_observation():
    s = summarize(_dated([0.02]), _dated([0.01]))
    v = checked(s)
    assert v["best_day"] == 0.02 and v["total_return"] == v["best_month"] == v["worst_year"] == pytest.approx(0.02)
    assert s.warnings["annual_volatility"] == "needs at least 2 observations (has 1)"
    assert s.warnings["kurtosis"] == "needs at least 4 observations (has 1)"
    assert s.warnings["alpha"] == "needs at least 2 observations (has 1)"
    assert v["win_rate"] == 1.0 and v["max_drawdown"] == 0.0 and v["start"] == v["end"] == "2024-01-01"


def test_short_series():
    r = _dated([0.01, -0.02, 0.03, -0.01, 0.02, 0.0, -0.005, 0.004, 0.01, -0.03])
    s = summarize(r)
    v = checked(s)
    assert s.warnings["tail_ratio"] == "needs at least 20 observations (has 10)"
    assert v["skew"] == pytest.approx(r.skew()) and v["kurtosis"] == pytest.approx(r.kurt())
    assert v["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r))
    assert all(s.warnings[key] == "no benchmark given" for key in BENCHMARK_KEYS)
    assert v["max_drawdown_recovery"] is None and v["drawdowns"][0]["days_to_recover"] is None


def test_no_benchmark_overlap():
    s = summarize(_dated([0.01, -0.02, 0.03]), _dated([0.01, 0.02], start="2020-01-01"))
    checked(s)
    assert all(s.values[key] is None and s.warnings[key] == NO_OVERLAP for key in BENCHMARK_KEYS)
    assert s.benchmark_observations == 0 and "3 return dates without a benchmark value" in s.warnings["data"]
    assert summarize(_dated([0.01, 0.02]), _dated([np.nan, np.nan])).warnings["beta"] == NO_OVERLAP


def test_date_labels_and_order_do_not_matter(returns):
    r, b = (s.iloc[:100] for s in returns)
    by_date = pd.Series(r.to_numpy(), index=[d.date() for d in r.index])[::-1]
    assert summarize(by_date, b).to_json() == summarize(r, b).to_json()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (pd.Series([], dtype=float), "returns are empty"),
        (_dated([np.nan, np.nan]), "all 2 returns are NaN"),
        (_dated(["a", "b"]), "real numbers"),
        (_dated([0.01, np.inf]), "infinite"),
        (_dated([0.01, -1.5]), "below −100 %"),
        (pd.Series([0.01, 0.02]), "date index"),
        ([0.01, 0.02], "pandas Series"),
    ],
)
def test_unusable_input_raises(bad, message):
    with pytest.raises(AnalyticsError, match=message):
        summarize(bad)
