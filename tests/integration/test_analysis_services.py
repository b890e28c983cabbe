"""The analysis services on a real ledger, checked against figures computed here from the bundled CSVs.

Ledger: 100,000 deposited on 2019-01-02; 200 AAPL and 300 JPM bought on 2019-01-03 (fees 0), held to
the bundled data's last day, 2024-11-29. With no flows after the purchases, the portfolio's value on a
day is cash + Σ quantity × close, so returns, VaR, stress P&L and betas can be worked out directly.
"""

import datetime as dt

import empyrical
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from investment_app.analytics.stress import crisis
from investment_app.services import (
    accounts,
    analysis,
    attribution,
    metrics,
    performance,
    projection,
    risk,
    stress,
    tearsheets,
)
from investment_app.services.errors import Forbidden, InvalidInput
from tests.two_stocks import CASH, QUANTITY, bundled_closes, two_stocks


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    return bundled_closes()


@pytest.fixture
def setup(db_url):
    with two_stocks(db_url) as ready:
        yield ready


def _value(closes: pd.DataFrame) -> pd.Series:
    return CASH + sum(QUANTITY[s] * closes[s] for s in QUANTITY)


def test_inputs_and_metrics_follow_the_holdings_prices(setup, closes):
    db, viewer, pid = setup
    inputs = analysis.inputs(db, viewer, pid)
    last = closes.iloc[-1]
    assert inputs.as_of == dt.date(2024, 11, 29)
    assert inputs.cash == pytest.approx(CASH)
    assert inputs.values.to_dict() == pytest.approx({s: QUANTITY[s] * last[s] for s in QUANTITY})
    value = _value(closes.loc["2019-01-03":])
    expected = value.pct_change().dropna()
    assert inputs.returns.loc["2019-01-04":].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9)

    report = metrics.report(db, viewer, pid, metrics.Request("1Y", "zero", "3M"))
    window = expected.loc[report.summary.start.isoformat() :]
    assert report.summary.start == dt.date(2023, 11, 30)
    assert report.summary.values["total_return"] == pytest.approx(value.iloc[-1] / value.loc["2023-11-29"] - 1)
    assert report.summary.values["sharpe"] == pytest.approx(empyrical.sharpe_ratio(window), rel=1e-9)
    spy = closes["SPY"]
    assert report.benchmark_summary.values["total_return"] == pytest.approx(spy.iloc[-1] / spy.loc["2023-11-29"] - 1)
    treasury = metrics.report(db, viewer, pid, metrics.Request("MAX", "treasury", "6M"))
    assert "3-month Treasury ends 2017-03-29" in treasury.risk_free_note
    with pytest.raises(InvalidInput, match="Period must be one of"):
        metrics.report(db, viewer, pid, metrics.Request("2W"))


def test_risk_of_the_holdings(setup, closes):
    db, viewer, pid = setup
    report = risk.risk(db, viewer, pid, "2Y")
    returns = closes[list(QUANTITY)].pct_change().iloc[-504:]
    weights = np.array([QUANTITY[s] * closes[s].iloc[-1] for s in QUANTITY]) / _value(closes).iloc[-1]
    portfolio = returns.to_numpy() @ weights
    table = {(v.method, v.confidence, v.horizon_days): v for v in report.var}
    assert table["historical", 0.95, 1].var == pytest.approx(-empyrical.value_at_risk(portfolio, 0.05), rel=1e-9)
    mu, sigma = portfolio.mean(), portfolio.std(ddof=1)
    assert table["parametric", 0.99, 1].var == pytest.approx(-(mu + stats.norm.ppf(0.01) * sigma), rel=1e-9)
    parametric = table["parametric", 0.95, 1].var
    assert sum(c.component_var for c in report.contributions) == pytest.approx(parametric, rel=1e-9)
    beta = {c.symbol: c.beta for c in report.contributions}
    spy = closes["SPY"].pct_change().iloc[-504:].to_numpy()
    assert beta["AAPL"] == pytest.approx(np.polyfit(spy, returns["AAPL"].to_numpy(), 1)[0], rel=1e-9)
    shares = weights / weights.sum()
    assert report.concentration.herfindahl == pytest.approx(np.sum(shares**2))
    assert set(report.correlation.columns) == set(QUANTITY)


def test_stress_replays_and_shocks(setup, closes):
    db, viewer, pid = setup
    covid = next(r for r in stress.crises(db, viewer, pid) if r.name == crisis("covid_2020").name)
    last = closes.iloc[-1]
    move = closes.loc["2020-03-23"] / closes.loc["2020-02-19"] - 1
    assert covid.portfolio_pnl == pytest.approx(sum(QUANTITY[s] * last[s] * move[s] for s in QUANTITY), rel=1e-9)
    assert not covid.rows["proxy"].any()

    shocked = stress.custom_shock(db, viewer, pid, market=-0.10)
    recent = closes.pct_change().iloc[-stress.BETA_YEARS * 252 :]
    for symbol in QUANTITY:
        beta = np.polyfit(recent["SPY"], recent[symbol], 1)[0]
        assert shocked.rows.loc[symbol, "pnl"] == pytest.approx(QUANTITY[symbol] * last[symbol] * beta * -0.10)
    with pytest.raises(InvalidInput, match="at least one shock"):
        stress.custom_shock(db, viewer, pid)
    with pytest.raises(InvalidInput, match="between −99% and"):
        stress.custom_shock(db, viewer, pid, market=-1.5)


def test_attribution_adds_up_to_the_ledgers_time_weighted_return(setup):
    db, viewer, pid = setup
    result = attribution.attribution(db, viewer, pid, "1Y")
    twr = performance.performance(db, viewer, pid, dt.date.fromisoformat(result.start)).twr
    assert result.contributions.sum() == pytest.approx(twr, rel=1e-9)
    assert result.sectors["total"].sum() == pytest.approx(
        result.sectors[["allocation", "selection", "interaction"]].to_numpy().sum()
    )
    assert "holdings are not bundled" in result.note


def test_projection_is_seeded_and_checks_its_request(setup):
    db, viewer, pid = setup
    request = projection.Request(years=2, paths=500, monthly_contribution=100.0, goal=200_000.0, seed=7)
    first = projection.projection(db, viewer, pid, request)
    projection._cache.clear()
    again = projection.projection(db, viewer, pid, request)
    assert np.array_equal(first.projection.percentiles[50], again.projection.percentiles[50])
    assert first.initial_value == pytest.approx(analysis.inputs(db, viewer, pid).total_value)
    assert sorted(first.symbols) == ["AAPL", "Cash", "JPM"]
    with pytest.raises(InvalidInput, match="Paths must be between"):
        projection.projection(db, viewer, pid, projection.Request(paths=5))


def test_tearsheet_for_the_owner_only(setup):
    db, viewer, pid = setup
    html = tearsheets.html(db, viewer, pid)
    assert "Two stocks" in html and "COVID" in html
    assert tearsheets.pdf(db, viewer, pid).startswith(b"%PDF")
    stranger = accounts.acting_as(db, "other@example.com")
    with pytest.raises(Forbidden):
        tearsheets.html(db, stranger, pid)
