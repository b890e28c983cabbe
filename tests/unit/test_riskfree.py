"""The bundled 3-month Treasury yield (read independently with csv) and the per-period risk-free rate."""

import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.riskfree import on_dates, per_period
from investment_app.marketdata.treasury import TREASURY_CSV, three_month_yield


def test_three_month_yield_matches_the_csv():
    with TREASURY_CSV.open(newline="") as handle:
        rows = [(row["Time Period"][:10], row["3month"]) for row in csv.DictReader(handle) if row["3month"]]
    y = three_month_yield()
    assert len(y) == len(rows) and y.index.is_monotonic_increasing and not y.index.has_duplicates
    assert y.index[0] == dt.date.fromisoformat(rows[0][0]) and y.iloc[0] == float(rows[0][1]) == 0.0783
    assert y.index[-1] == dt.date(2017, 3, 29) and y.iloc[-1] == float(rows[-1][1])
    assert y[dt.date(2008, 9, 17)] == float(dict(rows)["2008-09-17"])
    assert not y.isna().any() and y.name == "3-month Treasury"


def test_three_month_yield_is_a_fresh_copy():
    first = three_month_yield()
    first.iloc[0] = 99.0
    assert three_month_yield().iloc[0] == 0.0783


def test_per_period_uses_the_last_yield_before_each_date():
    yields = pd.Series([0.02, np.nan, 0.05], index=[dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)])
    rates, warning = per_period(yields, pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"]))
    # 1-02 and 1-03 both see 1-01's 2 % (1-02 was not published); 1-04 sees 1-03's 5 %
    assert rates == pytest.approx([1.02 ** (1 / 252) - 1, 1.02 ** (1 / 252) - 1, 1.05 ** (1 / 252) - 1], rel=1e-12)
    assert warning == "the yield series ends 2024-01-03; 1 later days use its last value 5.00%"
    assert per_period(yields, [dt.date(2024, 1, 3)])[1] is None


def test_per_period_deannualises_like_quantstats():
    y = three_month_yield()
    dates = pd.DatetimeIndex(y.index[1:])
    rates, _ = per_period(y, dates)
    before = pd.Series(y.to_numpy()[:-1], index=dates)  # the previous published yield
    zero = pd.Series(0.0, index=dates)
    assert rates == pytest.approx(-qs.utils.to_excess_returns(zero, before, nperiods=252).to_numpy(), rel=1e-12)


def test_per_period_after_the_series_warns_and_before_it_raises():
    y = three_month_yield()
    later = pd.bdate_range("2017-03-27", "2017-04-07")
    rates, warning = per_period(y, later, periods_per_year=252)
    assert warning == "3-month Treasury ends 2017-03-29; 7 later days use its last value 0.78%"
    assert rates[-7:] == pytest.approx([1.0078 ** (1 / 252) - 1] * 7)
    with pytest.raises(AnalyticsError, match="starts 1990-01-02; 2 dates"):
        per_period(y, [dt.date(1989, 12, 29), dt.date(1990, 1, 2), dt.date(1990, 1, 3)])


def test_on_dates_takes_a_constant_or_a_covering_series():
    dates = pd.DatetimeIndex(["2024-01-02", "2024-01-03"])
    assert on_dates(0.0001, dates) == 0.0001
    rates = pd.Series([0.1, 0.2, 0.3], index=[dt.date(2024, 1, 3), dt.date(2024, 1, 2), dt.date(2024, 1, 4)])
    assert on_dates(rates, dates).tolist() == [0.2, 0.1]
    with pytest.raises(AnalyticsError, match="missing on 1 of 2 dates"):
        on_dates(rates.drop(dt.date(2024, 1, 2)), dates)
    with pytest.raises(AnalyticsError, match="finite"):
        on_dates(float("nan"), dates)
