"""Indicators against StockCharts' published RSI, pandas (rolling, ewm, pct_change) and plain loops on real prices."""

import numpy as np
import pandas as pd
import pytest

from investment_app.analytics import indicators
from investment_app.analytics.errors import AnalyticsError
from investment_app.marketdata.bundled import bundled_bars

# ChartSchool's cs-rsi.xls (QQQQ, 14-day RSI): https://chartschool.stockcharts.com/table-of-contents/
# technical-indicators-and-overlays/technical-indicators/relative-strength-index-rsi. The page prints the closes
# rounded to cents; the spreadsheet's four-decimal closes are what its RSI column is computed from (the rounded
# closes give 70.46 for the first RSI, not 70.53).
STOCKCHARTS_CLOSES = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931,
    46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521,
    45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
]  # fmt: skip
STOCKCHARTS_RSI = [
    70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46, 41.87,
    45.46, 37.30, 33.08, 37.77,
]  # fmt: skip


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    """Real adjusted closes 2010–2014 of every bundled symbol: META (May 2012) and BABA (Sep 2014) start late."""
    wide = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")
    wide.index = pd.DatetimeIndex(wide.index)
    return wide.loc["2010":"2014"]


@pytest.fixture(scope="module")
def gappy(closes) -> pd.DataFrame:
    """The same closes with interior holes: a few days knocked out of AAPL, XOM and META."""
    holes = closes.copy()
    holes.iloc[[40, 41, 300, 777], holes.columns.get_loc("AAPL")] = np.nan
    holes.iloc[[5, 600], holes.columns.get_loc("XOM")] = np.nan
    holes.iloc[700, holes.columns.get_loc("META")] = np.nan
    return holes


def pandas_rsi(series: pd.Series, period: int) -> pd.Series:
    """Wilder's RSI by pandas' ewm(alpha = 1/period, adjust=False), seeded by hand with the first simple mean."""
    s = series.dropna()
    change = s.diff()

    def smoothed(x: pd.Series) -> pd.Series:
        x = x.copy()
        x.iloc[period] = x.iloc[1 : period + 1].mean()
        return x.iloc[period:].ewm(alpha=1 / period, adjust=False).mean()

    gain, loss = smoothed(change.clip(lower=0)), smoothed((-change).clip(lower=0))
    return (100 - 100 / (1 + gain / loss)).reindex(series.index)


def test_rsi_matches_stockcharts_published_example():
    rsi = indicators.wilder_rsi(np.array(STOCKCHARTS_CLOSES)[:, None], 14)[:, 0]
    assert np.isnan(rsi[:14]).all()
    assert np.round(rsi[14:], 2).tolist() == STOCKCHARTS_RSI


@pytest.mark.parametrize("period", [5, 14, 30])
def test_rsi_matches_pandas_ewm_on_real_prices_with_late_listings_and_gaps(gappy, period):
    rsi = indicators.wilder_rsi(gappy.to_numpy(), period)
    reference = pd.DataFrame({c: pandas_rsi(gappy[c], period) for c in gappy.columns}).to_numpy()
    np.testing.assert_allclose(rsi, reference, rtol=1e-10, atol=1e-10)
    meta = gappy.columns.get_loc("META")
    first = int(np.argmax(gappy["META"].notna().to_numpy()))
    assert np.isnan(rsi[: first + period, meta]).all() and np.isfinite(rsi[first + period, meta])
    assert np.isnan(rsi[700, meta])  # no close that day, no RSI


def test_rsi_is_100_without_losses_and_undefined_without_any_change():
    rising, flat = np.arange(1.0, 31.0), np.full(30, 7.0)
    rsi = indicators.wilder_rsi(np.column_stack([rising, flat]), 14)
    assert (rsi[14:, 0] == 100).all()
    assert np.isnan(rsi[:, 1]).all()


@pytest.mark.parametrize("window", [1, 20, 200])
def test_sma_matches_pandas_rolling_on_each_symbols_own_closes(gappy, window):
    mine = indicators.sma(gappy.to_numpy(), window)
    reference = pd.DataFrame({c: gappy[c].dropna().rolling(window).mean().reindex(gappy.index) for c in gappy})
    np.testing.assert_allclose(mine, reference.to_numpy(), rtol=1e-12)
    assert np.isfinite(mine).sum() > 0.8 * gappy.size - window * gappy.shape[1]


@pytest.mark.parametrize("days", [1, 5, 21])
def test_n_day_return_matches_pandas_pct_change(gappy, days):
    mine = indicators.n_day_return(gappy.to_numpy(), days)
    np.testing.assert_allclose(mine, gappy.pct_change(days, fill_method=None).to_numpy(), rtol=1e-15)


def plain_crossings(x: np.ndarray) -> np.ndarray:
    """One symbol at a time, one day at a time: +1 when x goes from < 0 to ≥ 0, −1 from > 0 to ≤ 0."""
    out = np.zeros(x.shape, dtype=int)
    for j in range(x.shape[1]):
        previous = None
        for t in range(x.shape[0]):
            if np.isnan(x[t, j]):
                continue
            if previous is not None and previous < 0 <= x[t, j]:
                out[t, j] = 1
            if previous is not None and previous > 0 >= x[t, j]:
                out[t, j] = -1
            previous = x[t, j]
    return out


def test_crossings_match_a_plain_loop_on_real_moving_averages(gappy):
    fast = pd.DataFrame({c: gappy[c].dropna().rolling(20).mean() for c in gappy}).reindex(gappy.index)
    slow = pd.DataFrame({c: gappy[c].dropna().rolling(50).mean() for c in gappy}).reindex(gappy.index)
    x = (fast - slow).to_numpy()
    expected = plain_crossings(x)
    assert (expected == 1).sum() > 50 and (expected == -1).sum() > 50
    np.testing.assert_array_equal(indicators.crossings(x), expected)


def test_cross_direction_counts_touching_zero_once():
    x = np.array([[-1.0, 0.0, 1.0, 0.0, -1.0, np.nan, 1.0, 1.0]]).T
    assert indicators.crossings(x)[:, 0].tolist() == [0, 1, 0, -1, 0, 0, 1, 0]


def test_bad_input_is_refused_with_its_reason():
    with pytest.raises(AnalyticsError, match="2-D array"):
        indicators.sma(np.ones(5), 2)
    with pytest.raises(AnalyticsError, match="infinities"):
        indicators.wilder_rsi(np.array([[1.0], [np.inf]]), 14)
    with pytest.raises(AnalyticsError, match="SMA window must be a whole number of at least 1"):
        indicators.sma(np.ones((5, 1)), 0)
    with pytest.raises(AnalyticsError, match="RSI period"):
        indicators.wilder_rsi(np.ones((5, 1)), 2.5)
