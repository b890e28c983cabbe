"""The paper broker's matching rules (broker/paper.py: match) on small hand-made bars, worked out by hand."""

import datetime as dt
from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest

from investment_app.broker.paper import Bars, PaperConfig, Terms, match

NO_SLIP = PaperConfig(slippage_bps=0.0)


def bars(*rows: tuple, start: str = "2024-01-02") -> Bars:
    """Rows of (open, high, low, close, volume) on consecutive business days; None where unknown."""
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"])
    frame.insert(0, "date", pd.bdate_range(start, periods=len(rows)).date)
    return Bars.from_frame(frame)


# Four bars: a gap down on day 2, a rally on day 3, a gap up on day 4.
FOUR = bars(
    (100.0, 101.0, 99.0, 100.5, 1_000),
    (97.0, 98.0, 95.0, 96.0, 2_000),
    (96.5, 104.0, 96.0, 103.0, 3_000),
    (106.0, 107.0, 105.0, 106.5, 4_000),
)


def fills(terms: Terms, b: Bars = FOUR, config: PaperConfig = NO_SLIP) -> list[tuple[int, D, D]]:
    return [(e.position, e.quantity, e.price) for e in match(terms, b, config)]


def test_a_bar_without_open_high_low_uses_its_close_and_unknown_volume_caps_nothing() -> None:
    closes = bars((None, None, None, 50.0, None), (None, None, None, 48.0, None))
    assert closes.open.tolist() == closes.high.tolist() == closes.low.tolist() == [50.0, 48.0]
    # a buy limit at 49 is not marketable at 50, fills the whole 10^6 shares at 48 (min(open 48, 49))
    assert fills(Terms("buy", "limit", D(1_000_000), limit=D(49)), closes) == [(1, D(1_000_000), D(48))]


def test_market_fills_at_the_open_with_slippage_against_the_trader() -> None:
    five_bp = PaperConfig(slippage_bps=5.0)
    # 100 × 1.0005 = 100.05; 100 × 0.9995 = 99.95
    assert fills(Terms("buy", "market", D(10)), config=five_bp) == [(0, D(10), D("100.05"))]
    assert fills(Terms("sell", "market", D(10)), config=five_bp) == [(0, D(10), D("99.95"))]


def test_slipped_price_is_rounded_half_up_to_four_decimals() -> None:
    # 96.5 × 1.00033 = 96.531845 → 96.5318; 96.5 × 0.99967 = 96.468155 → 96.4682
    one_bar = bars((96.5, 96.5, 96.5, 96.5, None))
    config = PaperConfig(slippage_bps=3.3)
    assert fills(Terms("buy", "market", D(1)), one_bar, config)[0][2] == D("96.5318")
    assert fills(Terms("sell", "market", D(1)), one_bar, config)[0][2] == D("96.4682")


def test_limit_buy_fills_on_the_first_low_at_or_below_the_limit_at_the_better_of_open_and_limit() -> None:
    # day 1 low 99 > 98; day 2 low 95 ≤ 98, opens at 97 below the limit: pays 97
    assert fills(Terms("buy", "limit", D(5), limit=D(98))) == [(1, D(5), D(97))]
    # a limit of 96.9 below the open 97: pays the limit
    assert fills(Terms("buy", "limit", D(5), limit=D("96.9"))) == [(1, D(5), D("96.9"))]


def test_slippage_never_pushes_a_limit_fill_past_its_limit() -> None:
    # 97 × 1.005 = 97.485 > 97.2, so the buy pays its limit 97.2; the sell at 106 × 0.995 = 105.47 < 105.8 gets 105.8
    config = PaperConfig(slippage_bps=50.0)
    assert fills(Terms("buy", "limit", D(1), limit=D("97.2")), config=config) == [(1, D(1), D("97.2"))]
    assert fills(Terms("sell", "limit", D(1), limit=D("105.8")), config=config) == [(3, D(1), D("105.8"))]


def test_limit_sell_fills_on_the_first_high_at_or_above_the_limit() -> None:
    # highs 101, 98, 104: the 103 limit is reached on day 3 (open 96.5 → pays max(96.5, 103) = 103)
    assert fills(Terms("sell", "limit", D(5), limit=D(103))) == [(2, D(5), D(103))]
    # day 4 gaps up to 106 above a 105 limit: sells at the open
    assert fills(Terms("sell", "limit", D(5), limit=D(105)), FOUR.since(dt.date(2024, 1, 5))) == [(0, D(5), D(106))]


def test_stops_trigger_on_the_range_and_fill_at_the_stop_or_the_gapped_open() -> None:
    # sell stop 96: day 2 opens at 97, low 95 ≤ 96 → min(97, 96) = 96; sell stop 98: gap below it → open 97
    assert fills(Terms("sell", "stop", D(3), stop=D(96))) == [(1, D(3), D(96))]
    assert fills(Terms("sell", "stop", D(3), stop=D(98))) == [(1, D(3), D(97))]
    # buy stop 102: day 3 high 104 ≥ 102, opens 96.5 → 102; buy stop 105.5: day 4 gaps up to 106 → 106
    assert fills(Terms("buy", "stop", D(3), stop=D(102))) == [(2, D(3), D(102))]
    assert fills(Terms("buy", "stop", D(3), stop=D("105.5"))) == [(3, D(3), D(106))]
    assert fills(Terms("buy", "stop", D(3), stop=D(108))) == []


def test_a_triggered_stop_is_a_market_order() -> None:
    # the remainder of a stop that already filled once fills at the next open whatever the stop
    assert fills(Terms("buy", "stop", D(3), stop=D(500), triggered=True)) == [(0, D(3), D(100))]


def test_stop_limit_fills_at_the_trigger_when_the_limit_allows_else_rests_as_a_limit() -> None:
    # buy stop 102 limit 103: triggered on day 3 at 102 ≤ 103 → 102
    assert fills(Terms("buy", "stop_limit", D(2), limit=D(103), stop=D(102))) == [(2, D(2), D(102))]
    # buy stop 105 limit 105.5: day 3 high 104 < 105; day 4 opens at 106 > 105.5 (trigger at 106, no fill), low 105
    # ≤ 105.5 on the same bar does not count; nothing fills
    assert fills(Terms("buy", "stop_limit", D(2), limit=D("105.5"), stop=D(105))) == []
    # sell stop 98 limit 97.5: day 2 opens at 97 below the limit (no fill on the trigger bar); day 3 high
    # 104 ≥ 97.5 as a limit sell → max(open 96.5, 97.5) = 97.5
    assert fills(Terms("sell", "stop_limit", D(2), limit=D("97.5"), stop=D(98))) == [(2, D(2), D("97.5"))]


def test_participation_caps_each_bar_and_the_remainder_rolls_on() -> None:
    # 10 % of 1000, 2000, 3000 = 100, 200, 300 shares: 550 fill as 100 + 200 + 250
    got = fills(Terms("buy", "market", D(550)))
    assert got == [(0, D(100), D(100)), (1, D(200), D(97)), (2, D(250), D("96.5"))]


def test_whole_orders_fill_whole_shares_and_fractional_orders_micro_shares() -> None:
    thin = bars((10.0, 10.0, 10.0, 10.0, 15), (10.0, 10.0, 10.0, 10.0, 15))
    config = PaperConfig(slippage_bps=0.0, participation=0.1)
    # 10 % of 15 = 1.5 shares: a whole order takes 1 per bar, a fractional one 1.5
    assert [q for _, q, _ in fills(Terms("buy", "market", D(5)), thin, config)] == [D(1), D(1)]
    assert [q for _, q, _ in fills(Terms("buy", "market", D("2.5"), whole=False), thin, config)] == [
        D("1.5"),
        D("1.0"),
    ]


def test_the_cap_is_exact_decimal_arithmetic() -> None:
    # 0.29 × 100 is 28.999999999999996 in floating point; the cap is exactly 29 shares
    assert 0.29 * 100 < 29
    one_bar = bars((10.0, 10.0, 10.0, 10.0, 100))
    got = fills(Terms("buy", "market", D(50)), one_bar, PaperConfig(slippage_bps=0.0, participation=0.29))
    assert got == [(0, D(29), D(10))]


def test_zero_volume_fills_nothing_that_day() -> None:
    halted = bars((10.0, 10.0, 10.0, 10.0, 0), (11.0, 11.0, 11.0, 11.0, 1_000))
    assert fills(Terms("buy", "market", D(5)), halted) == [(1, D(5), D(11))]


def test_commission_is_a_rate_with_a_minimum_per_fill_in_cents() -> None:
    config = PaperConfig(slippage_bps=0.0, commission_bps=10.0, commission_min=1.0)
    # 30 × 100 = 3000 × 0.001 = 3.00; 5 × 100 = 500 × 0.001 = 0.50 → the minimum 1.00
    assert [e.commission for e in match(Terms("buy", "market", D(30)), FOUR, config)] == [D("3.00")]
    assert [e.commission for e in match(Terms("buy", "market", D(5)), FOUR, config)] == [D("1.00")]
    # 7 × 96.5 = 675.5 × 0.001 = 0.6755 → minimum 0 → 0.68 (half up)
    rate_only = PaperConfig(slippage_bps=0.0, commission_bps=10.0)
    later = FOUR.since(dt.date(2024, 1, 4))
    assert [e.commission for e in match(Terms("buy", "market", D(7)), later, rate_only)] == [D("0.68")]


def test_placement_bar_is_seen_at_its_close() -> None:
    placed = FOUR.at_close()
    assert (placed.open[0], placed.high[0], placed.low[0]) == (100.5, 100.5, 100.5)
    assert np.array_equal(placed.open[1:], FOUR.open[1:])
    # a buy limit at 100 is not marketable at the close 100.5 (though day 1's low was 99): fills on day 2 at 97
    assert fills(Terms("buy", "limit", D(1), limit=D(100)), placed) == [(1, D(1), D(97))]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slippage_bps", -1.0),
        ("commission_bps", float("nan")),
        ("commission_min", float("inf")),
        ("participation", 0.0),
    ],
)
def test_config_rejects_bad_numbers(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        PaperConfig(**{field: value})


def test_config_rejects_participation_above_one() -> None:
    with pytest.raises(ValueError, match=r"participation must be in \(0, 1\]"):
        PaperConfig(participation=1.5)
