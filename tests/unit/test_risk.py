"""VaR, CVaR, contributions, correlation and betas against empyrical, quantstats, scipy, pandas and hand formulas."""

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats as qs
from scipy import integrate, stats

from investment_app.analytics import risk
from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.marketdata.bundled import bundled_bars

PORTFOLIO = ["AAPL", "JPM", "XOM", "PFE", "WMT", "GE"]


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    """Daily simple returns of all bundled symbols 1990–2024 (NaN before an IPO)."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")
    closes.index = pd.DatetimeIndex(closes.index)
    return closes.pct_change(fill_method=None).iloc[1:]


@pytest.fixture(scope="module")
def aapl(returns) -> pd.Series:
    return returns.loc["2014":, "AAPL"]


@pytest.fixture(scope="module")
def panel(returns) -> pd.DataFrame:
    """Six stocks with full histories, 2014–2024."""
    return returns.loc["2014":, PORTFOLIO]


def dkw(n: int, failure: float = 1e-6) -> float:
    """Dvoretzky–Kiefer–Wolfowitz: P(sup |F_n − F| > ε) ≤ 2 exp(−2nε²) = failure."""
    return float(np.sqrt(np.log(2 / failure) / (2 * n)))


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_historical_matches_empyrical_and_quantstats(aapl, confidence):
    x = aapl.to_numpy()
    v = risk.value_at_risk(x, confidence, "historical")
    assert v.var == pytest.approx(-empyrical.value_at_risk(x, 1 - confidence), rel=1e-9)
    assert v.cvar == pytest.approx(-empyrical.conditional_value_at_risk(x, 1 - confidence), rel=1e-12)
    their_cvar = qs.stats.conditional_value_at_risk(aapl, confidence=confidence, method="historical")
    assert v.cvar == pytest.approx(-their_cvar, rel=1e-12)
    assert (v.method, v.confidence, v.horizon_days, v.observations) == ("historical", confidence, 1, len(x))


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_parametric_matches_quantstats_and_scipy(aapl, confidence):
    x = aapl.to_numpy()
    one_day = risk.value_at_risk(x, confidence, "parametric")
    assert one_day.var == pytest.approx(-qs.stats.value_at_risk(aapl, confidence=confidence), rel=1e-12)
    assert one_day.cvar == pytest.approx(-qs.stats.conditional_value_at_risk(aapl, confidence=confidence), rel=1e-12)

    ten_days = risk.value_at_risk(x, confidence, "parametric", horizon_days=10)
    normal = stats.norm(10 * x.mean(), np.sqrt(10) * x.std(ddof=1))
    q = normal.ppf(1 - confidence)
    assert ten_days.var == pytest.approx(-q, rel=1e-12)
    assert ten_days.cvar == pytest.approx(-normal.expect(lambda y: y, ub=q, conditional=True), rel=1e-7)


def test_quantstats_sigma_is_a_volatility_multiplier_not_a_horizon(aapl):
    """qs VaR(sigma=√h) = −(μ + z σ√h); ours is −(μh + z σ√h): equal only for zero-mean returns."""
    x = aapl.to_numpy()
    ours = risk.value_at_risk(x, 0.99, "parametric", horizon_days=10).var
    theirs = -qs.stats.value_at_risk(aapl, sigma=np.sqrt(10), confidence=0.99)
    assert ours == pytest.approx(theirs - 9 * x.mean(), rel=1e-12)
    assert abs(ours - theirs) > 1e-3
    demeaned = aapl - aapl.mean()
    assert risk.value_at_risk(demeaned.to_numpy(), 0.99, "parametric", horizon_days=10).var == pytest.approx(
        -qs.stats.value_at_risk(demeaned, sigma=np.sqrt(10), confidence=0.99), rel=1e-9
    )


def test_quantstats_default_cvar_is_normal_not_historical(aapl):
    """quantstats 0.0.86 defaults to the normal closed form; for fat-tailed AAPL the historical 99 % CVaR is larger."""
    x = aapl.to_numpy()
    parametric = risk.value_at_risk(x, 0.99, "parametric").cvar
    historical = risk.value_at_risk(x, 0.99, "historical").cvar
    assert -qs.stats.conditional_value_at_risk(aapl, confidence=0.99) == pytest.approx(parametric, rel=1e-12)
    assert historical > parametric * 1.2


def cf_poly(z: float, s: float, k: float) -> float:
    """PerformanceAnalytics' h = z + (z²−1)s/6 + (z³−3z)k/24 − (2z³−5z)s²/36 (R/VaR.CornishFisher.R)."""
    return z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36


def cf_tail_by_quadrature(alpha: float, s: float, k: float) -> float:
    """E[h(Z) | Z ≤ Φ⁻¹(α)] by numerical integration."""
    upper = stats.norm.ppf(alpha)
    return integrate.quad(lambda y: cf_poly(y, s, k) * stats.norm.pdf(y), -np.inf, upper)[0] / alpha


@pytest.mark.parametrize("horizon", [1, 10])
def test_cornish_fisher_by_hand_with_pandas_moments(aapl, horizon):
    x = aapl.to_numpy()
    s, k = aapl.skew() / np.sqrt(horizon), aapl.kurt() / horizon
    mu, sd = horizon * aapl.mean(), np.sqrt(horizon) * aapl.std()
    v = risk.value_at_risk(x, 0.99, "cornish_fisher", horizon_days=horizon)
    assert v.var == pytest.approx(-mu - sd * cf_poly(stats.norm.ppf(0.01), s, k), rel=1e-10)
    assert v.cvar == pytest.approx(-mu - sd * cf_tail_by_quadrature(0.01, s, k), rel=1e-8)


def test_cornish_fisher_against_performance_analytics_definition(aapl):
    """PerformanceAnalytics uses population moments (1/n): σ = √m2, s = m3/m2^1.5, k = m4/m2² − 3."""
    x = aapl.to_numpy()
    n = len(x)
    pa = -x.mean() - cf_poly(stats.norm.ppf(0.05), stats.skew(x), stats.kurtosis(x)) * x.std(ddof=0)
    ours = risk.value_at_risk(x, 0.95, "cornish_fisher").var
    assert ours != pytest.approx(pa, rel=1e-9)
    assert ours == pytest.approx(pa, rel=10 / n)


@pytest.mark.parametrize(
    ("dist", "s", "k"),
    [(stats.gamma(100), 0.2, 0.06), (stats.gamma(400), 0.1, 0.015), (stats.t(40), 0.0, 6 / 36)],
)
@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_cornish_fisher_approximates_known_distributions(dist, s, k, alpha):
    """With a distribution's exact skew and kurtosis, z_cf and the CF tail mean land near its true quantile and ES."""
    m, sd = dist.mean(), dist.std()
    true_q = (dist.ppf(alpha) - m) / sd
    true_es = (integrate.quad(dist.ppf, 0, alpha)[0] / alpha - m) / sd
    z = stats.norm.ppf(alpha)
    normal_es = -stats.norm.pdf(z) / alpha
    assert abs(risk.cornish_fisher_z(alpha, s, k) - true_q) < 0.1 * abs(z - true_q)
    assert abs(risk.cornish_fisher_tail_mean(alpha, s, k) - true_es) < 0.1 * abs(normal_es - true_es)


@pytest.mark.parametrize(("s", "k"), [(0.0, 0.0), (-0.5, 3.0), (0.8, 1.5), (-1.2, 9.0)])
def test_cornish_fisher_tail_mean_is_the_integral_of_the_expansion(s, k):
    for alpha in (0.05, 0.01):
        assert risk.cornish_fisher_tail_mean(alpha, s, k) == pytest.approx(cf_tail_by_quadrature(alpha, s, k), rel=1e-9)
        assert risk.cornish_fisher_z(alpha, s, k) == pytest.approx(cf_poly(stats.norm.ppf(alpha), s, k), rel=1e-12)
    assert risk.cornish_fisher_tail_mean(0.05, 0, 0) == pytest.approx(-stats.norm.pdf(stats.norm.ppf(0.05)) / 0.05)


def test_cornish_fisher_refuses_a_tail_where_the_expansion_decreases():
    """Two-point returns: skew ≈ −2.7 and excess kurtosis ≈ s² − 2, so z_cf → +∞ as z → −∞."""
    two_point = np.array([-0.05] * 10 + [0.01] * 90)
    with pytest.raises(AnalyticsError, match="decreases in the tail"):
        risk.value_at_risk(two_point, 0.95, "cornish_fisher")


def test_historical_horizon_compounds_overlapping_windows(aapl):
    windows = (1 + aapl).rolling(10).apply(np.prod, raw=True).dropna() - 1
    v = risk.value_at_risk(aapl.to_numpy(), 0.95, "historical", horizon_days=10)
    assert v.var == pytest.approx(-windows.quantile(0.05), rel=1e-9)
    assert v.cvar == pytest.approx(-windows[windows <= windows.quantile(0.05)].mean(), rel=1e-9)


def test_monte_carlo_is_seeded_and_converges_to_the_bootstrap_distribution(aapl):
    """2-day i.i.d. bootstrap: the exact distribution is all T² ordered pairs of days, equally likely."""
    x = aapl.to_numpy()[-1500:]
    n = 200_000
    mc = risk.value_at_risk(x, 0.95, "monte_carlo", horizon_days=2, seed=7, n_sims=n)
    assert mc == risk.value_at_risk(x, 0.95, "monte_carlo", horizon_days=2, seed=7, n_sims=n)
    assert mc != risk.value_at_risk(x, 0.95, "monte_carlo", horizon_days=2, seed=8, n_sims=n)

    pairs = ((1 + x[:, None]) * (1 + x[None, :])).ravel() - 1
    share_below = np.mean(pairs <= -mc.var)
    assert abs(share_below - 0.05) < dkw(n)
    tail = pairs[pairs <= np.quantile(pairs, 0.05)]
    standard_error = tail.std() / np.sqrt(0.05 * n)
    assert mc.cvar == pytest.approx(-tail.mean(), abs=6 * standard_error + abs(tail.mean()) * dkw(n))


def test_one_day_monte_carlo_resamples_the_history(aapl):
    x = aapl.to_numpy()
    n = 400_000
    mc = risk.value_at_risk(x, 0.99, "monte_carlo", seed=1, n_sims=n)
    assert abs(np.mean(x <= -mc.var) - 0.01) < dkw(n)


def test_zero_returns_have_zero_risk_and_a_steady_gain_a_negative_one():
    for method in risk.METHODS:
        v = risk.value_at_risk(np.zeros(300), 0.99, method, horizon_days=5, seed=0)
        assert (v.var, v.cvar) == (0.0, 0.0)
        assert np.copysign(1.0, v.var) == 1.0
        gain = risk.value_at_risk(np.full(300, 0.0002), 0.99, method, horizon_days=5, seed=0)
        assert (gain.var, gain.cvar) == (pytest.approx(-0.0002 * 5, rel=1e-3), pytest.approx(-0.0002 * 5, rel=1e-3))


def test_bad_input_is_refused_with_a_reason(aapl):
    x = aapl.to_numpy()
    for confidence in (0.5, 1.0, 1.5, 0.2):
        with pytest.raises(AnalyticsError, match="confidence"):
            risk.value_at_risk(x, confidence)
    with pytest.raises(AnalyticsError, match="unknown VaR method"):
        risk.value_at_risk(x, method="garch")
    with pytest.raises(AnalyticsError, match="NaN"):
        risk.value_at_risk(np.array([0.01, np.nan] * 50))
    with pytest.raises(AnalyticsError, match="horizon_days"):
        risk.value_at_risk(x, horizon_days=0)
    with pytest.raises(AnalyticsError, match="1-D"):
        risk.value_at_risk(x.reshape(-1, 1))
    with pytest.raises(AnalyticsError, match="n_sims"):
        risk.value_at_risk(x, 0.99, "monte_carlo", n_sims=999)
    with pytest.raises(InsufficientData) as short:
        risk.value_at_risk(x[:99], 0.99, "historical")
    assert (short.value.needs, short.value.has) == (100, 99)
    assert risk.value_at_risk(x[:100], 0.99, "historical").observations == 100
    with pytest.raises(InsufficientData, match="10-day historical"):
        risk.value_at_risk(x[:108], 0.99, "historical", horizon_days=10)
    with pytest.raises(InsufficientData, match="Cornish-Fisher"):
        risk.value_at_risk(x[:99], 0.95, "cornish_fisher")


def test_var_table_lists_every_method_confidence_and_horizon(aapl):
    x = aapl.to_numpy()
    table = risk.var_table(x, seed=3)
    assert len(table) == 16
    assert [(v.confidence, v.horizon_days, v.method) for v in table[:4]] == [
        (0.95, 1, method) for method in risk.METHODS
    ]
    assert table[-1] == risk.value_at_risk(x, 0.99, "monte_carlo", horizon_days=10, seed=3)


def test_component_var_adds_up_and_matches_the_portfolio(panel):
    r = panel.to_numpy()
    w = np.array([0.4, 0.3, -0.2, 0.2, 0.2, 0.1])
    for horizon in (1, 10):
        c = risk.component_var(r, w, 0.99, horizon)
        assert c.component.sum() == pytest.approx(c.total, rel=1e-12)
        assert c.percent.sum() == pytest.approx(1.0, rel=1e-12)
        assert c.total == pytest.approx(risk.value_at_risk(r @ w, 0.99, "parametric", horizon).var, rel=1e-12)
        assert c.cvar_component.sum() == pytest.approx(c.cvar, rel=1e-12)
    one_day = risk.component_var(r, w, 0.99)
    assert one_day.cvar == pytest.approx(risk.value_at_risk(r @ w, 0.99, "historical").cvar, rel=1e-12)


def test_component_var_marginals_are_derivatives(panel):
    r = panel.to_numpy()
    w = np.array([0.4, 0.3, -0.2, 0.2, 0.2, 0.1])
    c = risk.component_var(r, w, 0.95, 10)
    step = 1e-6
    for i in range(len(w)):
        bump = np.eye(len(w))[i] * step
        up = risk.value_at_risk(r @ (w + bump), 0.95, "parametric", 10).var
        down = risk.value_at_risk(r @ (w - bump), 0.95, "parametric", 10).var
        assert c.marginal[i] == pytest.approx((up - down) / (2 * step), rel=1e-6)


def test_component_cvar_over_a_horizon_holds_the_window(panel):
    """h-day contributions use each asset's compounded window return (pandas rolling product)."""
    w = np.array([0.2, 0.2, 0.2, 0.2, 0.1, 0.1])
    windows = (1 + panel).rolling(5).apply(np.prod, raw=True).dropna() - 1
    portfolio = windows @ w
    tail = portfolio <= portfolio.quantile(0.05)
    c = risk.component_var(panel.to_numpy(), w, 0.95, 5)
    np.testing.assert_allclose(c.cvar_component, -w * windows[tail].mean().to_numpy(), rtol=1e-9)


def test_component_var_large_universe():
    rng = np.random.default_rng(0)
    r = rng.standard_t(4, size=(2520, 500)) * 0.01 + rng.standard_normal((2520, 1)) * 0.01
    w = rng.dirichlet(np.ones(500))
    c = risk.component_var(r, w, 0.99)
    assert c.component.sum() == pytest.approx(c.total, rel=1e-10)
    assert c.cvar_component.sum() == pytest.approx(c.cvar, rel=1e-10)
    assert c.total == pytest.approx(risk.value_at_risk(r @ w, 0.99, "parametric").var, rel=1e-10)


def test_component_var_refuses_a_riskless_portfolio(panel):
    with pytest.raises(AnalyticsError, match="do not vary"):
        risk.component_var(panel.to_numpy(), np.zeros(len(PORTFOLIO)))
    with_cash = np.column_stack([panel.to_numpy(), np.full(len(panel), 0.0001)])
    with pytest.raises(AnalyticsError, match="do not vary"):
        risk.component_var(with_cash, np.eye(len(PORTFOLIO) + 1)[-1])
    with pytest.raises(AnalyticsError, match="one entry per asset"):
        risk.component_var(panel.to_numpy(), np.ones(3))


def test_correlation_matches_pandas_pairwise(returns):
    frame = returns.loc["2005":]  # META, GM, BABA, ... start later: pairwise-complete rows
    rho, order = risk.correlation(frame)
    pd.testing.assert_frame_equal(rho, frame.corr(), rtol=1e-10, atol=1e-12)
    assert sorted(order) == sorted(frame.columns)


def test_correlation_order_keeps_correlated_groups_together():
    """Two factors: the first three assets load on one, the last three on the other."""
    rng = np.random.default_rng(5)
    f = rng.standard_normal((500, 2))
    noise = rng.standard_normal((500, 6)) * 0.5
    data = np.column_stack([f[:, 0], f[:, 1], f[:, 0], f[:, 1], f[:, 0], f[:, 1]]) + noise
    names = ["a1", "b1", "a2", "b2", "a3", "b3"]
    _, order = risk.correlation(pd.DataFrame(data, columns=names))
    groups = [name[0] for name in order]
    assert groups in (list("aaabbb"), list("bbbaaa"))


def test_correlation_refuses_short_overlaps_and_flat_series(returns):
    frame = returns.loc["2012-01":"2012-05", ["META", "AAPL", "XOM"]]  # META listed on 2012-05-18
    with pytest.raises(InsufficientData, match="META"):
        risk.correlation(frame)
    flat = pd.DataFrame({"x": np.linspace(-0.01, 0.01, 50), "cash": np.full(50, 0.0001)})
    with pytest.raises(AnalyticsError, match="cash does not vary"):
        risk.correlation(flat)


def test_rolling_correlation_matches_pandas(returns):
    a, b = returns["META"], returns["SPY"]
    ours = risk.rolling_correlation(a, b, 63)
    both = pd.concat([a, b], axis=1).dropna()
    theirs = both["META"].rolling(63).corr(both["SPY"]).dropna()
    pd.testing.assert_series_equal(ours, theirs, check_names=False, rtol=1e-9)
    assert ours.index[0] == both.index[62]


def test_rolling_correlation_refuses_a_flat_window():
    a = pd.Series(np.r_[np.linspace(-0.01, 0.01, 30), np.zeros(25)])
    b = pd.Series(np.sin(np.arange(55.0)))
    with pytest.raises(AnalyticsError, match="does not vary"):
        risk.rolling_correlation(a, b, 20)
    with pytest.raises(InsufficientData):
        risk.rolling_correlation(a, b, 60)


def test_betas_match_empyrical_per_column(returns):
    frame = returns.loc["2005":].drop(columns="SPY")
    spy = returns.loc["2005":, "SPY"].to_numpy()
    ours = risk.betas(frame.to_numpy(), spy)
    theirs = [empyrical.beta(frame[c].to_numpy(), spy) for c in frame.columns]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_betas_refuse_short_or_flat_benchmarks(returns):
    frame = returns.loc["2012-01":"2012-05", ["AAPL", "META"]].to_numpy()
    spy = returns.loc["2012-01":"2012-05", "SPY"].to_numpy()
    with pytest.raises(InsufficientData, match="column 1"):
        risk.betas(frame, spy)
    with pytest.raises(AnalyticsError, match="does not vary"):
        risk.betas(frame[:, :1], np.full(len(spy), 0.001))


def test_var_table_keeps_the_other_methods_when_one_refuses():
    """Uniform returns (excess kurtosis −1.2) make the Cornish-Fisher map turn over in the tail: that method's
    rows carry the reason and no figures, while every other method answers as it does alone."""
    x = np.random.default_rng(7).uniform(-0.02, 0.021, 600)
    with pytest.raises(AnalyticsError, match="Cornish-Fisher expansion decreases"):
        risk.value_at_risk(x, 0.95, "cornish_fisher")
    table = risk.var_table(x, seed=3)
    refused = [v for v in table if v.method == "cornish_fisher"]
    assert len(refused) == 4 and all(v.var is None and v.cvar is None for v in refused)
    assert all("Cornish-Fisher expansion decreases" in v.reason for v in refused)
    historical = next(v for v in table if (v.method, v.confidence, v.horizon_days) == ("historical", 0.99, 10))
    assert historical == risk.value_at_risk(x, 0.99, "historical", horizon_days=10)
