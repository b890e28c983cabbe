"""Concentration measures by hand, with the bundled GICS sectors."""

import pandas as pd
import pytest

from investment_app.analytics.concentration import concentration
from investment_app.analytics.errors import AnalyticsError
from investment_app.marketdata.bundled import SECTORS_CSV


@pytest.fixture(scope="module")
def sectors() -> pd.Series:
    return pd.read_csv(SECTORS_CSV).set_index("ticker")["gics_sector"]


def test_long_only_by_hand(sectors):
    values = pd.Series({"XOM": 20.0, "AAPL": 50.0, "JPM": 30.0, "AMD": 0.0})
    c = concentration(values, sectors, top=2)
    assert c.weights.to_dict() == pytest.approx({"AAPL": 0.5, "JPM": 0.3, "XOM": 0.2, "AMD": 0.0})
    assert list(c.weights.index) == ["AAPL", "JPM", "XOM", "AMD"]
    assert c.largest.to_dict() == pytest.approx({"AAPL": 0.5, "JPM": 0.3})
    assert c.largest_share == pytest.approx(0.8)
    assert c.herfindahl == pytest.approx(0.25 + 0.09 + 0.04)
    assert c.effective_holdings == pytest.approx(1 / 0.38)
    assert c.sector_weights.to_dict() == pytest.approx(
        {"Information Technology": 0.5, "Financials": 0.3, "Energy": 0.2}
    )


def test_equal_weights_give_n_effective_holdings(sectors):
    c = concentration(pd.Series(25.0, index=["AAPL", "AMD", "WMT", "XOM"]), sectors)
    assert c.herfindahl == pytest.approx(0.25)
    assert c.effective_holdings == pytest.approx(4.0)
    assert c.sector_weights["Information Technology"] == pytest.approx(0.5)


def test_short_positions_use_net_weights_and_gross_herfindahl(sectors):
    """120 long, −20 short: net 100 → weights 1.2 and −0.2; gross 140 → HHI (6/7)² + (1/7)² = 37/49."""
    c = concentration(pd.Series({"AAPL": 120.0, "AMD": -20.0}), sectors)
    assert c.weights.to_dict() == pytest.approx({"AAPL": 1.2, "AMD": -0.2})
    assert c.herfindahl == pytest.approx(37 / 49)
    assert c.effective_holdings == pytest.approx(49 / 37)
    assert c.sector_weights.to_dict() == pytest.approx({"Information Technology": 1.0})


def test_unknown_sector_is_unclassified(sectors):
    c = concentration(pd.Series({"AAPL": 60.0, "CASH": 40.0}), sectors)
    assert c.sector_weights.to_dict() == pytest.approx({"Information Technology": 0.6, "Unclassified": 0.4})


def test_bad_input(sectors):
    with pytest.raises(AnalyticsError, match="worth 0 net"):
        concentration(pd.Series({"AAPL": 50.0, "AMD": -50.0}), sectors)
    with pytest.raises(AnalyticsError, match="worth 0 net"):
        concentration(pd.Series({"AAPL": 0.0}), sectors)
    with pytest.raises(AnalyticsError, match="at least one holding"):
        concentration(pd.Series(dtype=float), sectors)
    with pytest.raises(AnalyticsError, match="one value per symbol"):
        concentration(pd.Series([1.0, 2.0], index=["AAPL", "AAPL"]), sectors)
    with pytest.raises(AnalyticsError, match="NaN"):
        concentration(pd.Series({"AAPL": float("nan"), "AMD": 1.0}), sectors)
    with pytest.raises(AnalyticsError, match="top"):
        concentration(pd.Series({"AAPL": 1.0}), sectors, top=0)
