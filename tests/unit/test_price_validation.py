"""Validation of new daily bars on real 2018 OHLCV (SPY, ^GSPC) and doctored copies of it.

Expected messages and verdicts are worked out by hand from the CSV values quoted in each test; the jump rule is
also checked against a plain sequential loop (its definition, written independently below) on random faults.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from investment_app.marketdata.sources import split_ratios
from investment_app.marketdata.validation import BAR_COLUMNS, RejectedBar, validate_bars

RESOURCE = Path(__file__).resolve().parents[1] / "resources" / "ohlcv_spy_gspc_2018.csv"
D = dt.date.fromisoformat


def real_bars(symbol: str | None = None) -> pd.DataFrame:
    """The resource rows (read with the csv module), adj_close = close as for raw prices without actions."""
    with open(RESOURCE, newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if symbol is None or row["symbol"] == symbol]
    return pd.DataFrame(
        {
            "symbol": [row["symbol"] for row in rows],
            "date": [D(row["date"]) for row in rows],
            **{name: [float(row[name]) for row in rows] for name in ("open", "high", "low", "close", "volume")},
            "adj_close": [float(row["close"]) for row in rows],
        }
    )


def doctored(bars: pd.DataFrame, symbol: str, day: str, **values: float) -> pd.DataFrame:
    bars = bars.copy()
    row = (bars["symbol"] == symbol) & (bars["date"] == D(day))
    assert row.sum() == 1
    for name, value in values.items():
        bars.loc[row, name] = value
    return bars


def messages(result) -> list[str]:
    return [bar.message for bar in result.rejected]


def accepted_dates(result, symbol: str = "SPY") -> list[dt.date]:
    return list(result.accepted.loc[result.accepted["symbol"] == symbol, "date"])


# --- real bars ------------------------------------------------------------------------------------------------


def test_a_year_of_real_bars_passes_every_rule() -> None:
    bars = real_bars()
    result = validate_bars(bars.sample(frac=1, random_state=7), previous_close={}, jump_threshold=0.5)

    assert result.rejected == [] and result.already_stored == 0
    assert list(result.accepted.columns) == BAR_COLUMNS
    expected = bars.sort_values(["symbol", "date"], ignore_index=True)
    pd.testing.assert_frame_equal(result.accepted[expected.columns], expected)
    assert result.accepted["split_ratio"].isna().all()
    assert {type(day) for day in result.accepted["date"]} == {dt.date}


def test_bars_at_or_before_the_stored_last_date_are_skipped_not_reported() -> None:
    bars = real_bars()
    result = validate_bars(
        bars,
        previous_close={"SPY": 271.28, "^GSPC": 2718.370117},
        jump_threshold=0.5,
        last_dates={"SPY": D("2018-06-29"), "^GSPC": D("2018-06-29")},
    )

    # 2018 has 125 trading days up to 2018-06-29 (inclusive) and 126 after it.
    assert result.already_stored == 2 * 125 and result.rejected == []
    assert len(result.accepted) == 2 * 126
    assert accepted_dates(result)[0] == D("2018-07-02")


# --- prices ---------------------------------------------------------------------------------------------------


def test_a_negative_close_is_rejected_and_the_next_bar_is_judged_against_the_last_good_one() -> None:
    bars = doctored(real_bars("SPY"), "SPY", "2018-03-05", close=-272.19)
    result = validate_bars(bars, previous_close={}, jump_threshold=0.5)

    assert messages(result) == [
        "SPY 2018-03-05: close -272.19 is not a positive finite price; close -272.19 is below low 267.61"
    ]
    assert D("2018-03-06") in accepted_dates(result) and len(result.accepted) == 250


def test_missing_infinite_and_zero_values_are_named() -> None:
    bars = real_bars("SPY")
    bars = doctored(bars, "SPY", "2018-01-03", close=np.nan)
    bars = doctored(bars, "SPY", "2018-01-04", high=np.inf)
    bars = doctored(bars, "SPY", "2018-01-05", adj_close=0.0, volume=-5.0)
    bars = doctored(bars, "SPY", "2018-01-08", open=np.nan, high=np.nan, low=np.nan, volume=np.nan)
    result = validate_bars(bars, previous_close={}, jump_threshold=0.5)

    assert messages(result) == [
        "SPY 2018-01-03: close is missing",
        "SPY 2018-01-04: high inf is not a positive finite price",
        "SPY 2018-01-05: adj_close 0.0 is not a positive finite price; volume -5.0 is not a finite count ≥ 0",
    ]
    # Unknown open, high, low and volume (NaN) are allowed: the bundled dataset has closes only.
    assert D("2018-01-08") in accepted_dates(result)


def test_high_below_low_and_prices_outside_the_range() -> None:
    # Real 2018-01-03: open 268.96, high 270.64, low 268.96, close 270.47; high and low swapped.
    bars = doctored(real_bars("SPY"), "SPY", "2018-01-03", high=268.96, low=270.64)
    # Real 2018-01-04: open 271.2, high 272.16, low 270.54, close 271.61; the open moved above the high.
    bars = doctored(bars, "SPY", "2018-01-04", open=272.5)
    result = validate_bars(bars, previous_close={}, jump_threshold=0.5)

    assert messages(result) == [
        "SPY 2018-01-03: high 268.96 is below low 270.64",
        "SPY 2018-01-04: open 272.5 is above high 272.16",
    ]


def test_the_docstring_example_message() -> None:
    bars = pd.DataFrame(
        {"symbol": ["AAPL"], "date": [D("2024-03-05")], "high": [181.2], "low": [183.0], "close": [182.0]}
    ).assign(adj_close=182.0)
    result = validate_bars(bars, previous_close={}, jump_threshold=0.5)

    assert result.rejected == [RejectedBar("AAPL", D("2024-03-05"), "high 181.2 is below low 183.0")]
    assert str(result.rejected[0]) == "AAPL 2024-03-05: high 181.2 is below low 183.0"


# --- duplicates -----------------------------------------------------------------------------------------------


def test_every_copy_of_a_duplicate_date_is_rejected() -> None:
    bars = real_bars("SPY")
    copy = doctored(bars[bars["date"] == D("2018-05-01")], "SPY", "2018-05-01", close=265.0)
    result = validate_bars(pd.concat([bars, copy]), previous_close={}, jump_threshold=0.5)

    assert messages(result) == ["SPY 2018-05-01: date appears 2 times in the batch"] * 2
    assert D("2018-05-01") not in accepted_dates(result)
    assert {D("2018-04-30"), D("2018-05-02")} <= set(accepted_dates(result)) and len(result.accepted) == 250


# --- jumps ----------------------------------------------------------------------------------------------------


def test_a_60_percent_jump_without_a_split_is_rejected() -> None:
    # 2018-07-02 closed at 271.86 after 271.28 on 2018-06-29; doctored to 1.6 × 271.86 = 434.976 (+60.34 %).
    bars = doctored(real_bars("SPY"), "SPY", "2018-07-02", close=434.976, open=np.nan, high=np.nan, low=np.nan)
    result = validate_bars(bars, previous_close={}, jump_threshold=0.5)

    assert messages(result) == [
        "SPY 2018-07-02: close 434.976 is a +60.3 % move from the previous close 271.28 (limit ±50 %, no split)"
    ]
    # 2018-07-03 (270.9) is judged against 271.28, the last accepted close, not against 434.976.
    assert D("2018-07-03") in accepted_dates(result) and len(result.accepted) == 250


def five_for_two_split_from(day: str, ratio: float | None) -> pd.DataFrame:
    """Real SPY with every bar from ``day`` at 0.4 × its price (-60 %), as after a 5-for-2 split."""
    bars = real_bars("SPY")
    after = bars["date"] >= D(day)
    for name in ("open", "high", "low", "close", "adj_close"):
        bars.loc[after, name] = bars.loc[after, name] * 0.4
    bars["split_ratio"] = np.nan
    bars.loc[bars["date"] == D(day), "split_ratio"] = ratio
    return bars


def test_a_60_percent_drop_explained_by_a_split_ratio_is_accepted() -> None:
    result = validate_bars(five_for_two_split_from("2018-09-04", 2.5), previous_close={}, jump_threshold=0.5)

    assert result.rejected == [] and len(result.accepted) == 251
    split = result.accepted[result.accepted["date"] == D("2018-09-04")].iloc[0]
    assert split["split_ratio"] == 2.5 and split["close"] == pytest.approx(0.4 * 289.81)


def test_the_same_drop_without_a_split_ratio_rejects_every_later_bar() -> None:
    result = validate_bars(five_for_two_split_from("2018-09-04", None), previous_close={}, jump_threshold=0.5)

    # Each later bar is about 0.4 × its real close, judged against 290.31 (2018-08-31, the last accepted close):
    # never back within 50 %, so all 82 bars from 2018-09-04 to 2018-12-31 are rejected.
    assert len(result.rejected) == 82 and accepted_dates(result)[-1] == D("2018-08-31")
    assert messages(result)[0] == (
        f"SPY 2018-09-04: close {0.4 * 289.81} is a -60.1 % move from the previous close 290.31 (limit ±50 %, no split)"
    )


def test_a_split_ratio_that_does_not_explain_the_move_is_named() -> None:
    result = validate_bars(five_for_two_split_from("2018-09-04", 1.1), previous_close={}, jump_threshold=0.5)

    judged = 0.4 * 289.81 * 1.1  # 127.5164: -56.1 % from 290.31
    assert messages(result)[0] == (
        f"SPY 2018-09-04: close {0.4 * 289.81} × split ratio 1.1 = {judged} is a -56.1 % move from the previous "
        "close 290.31 (limit ±50 %)"
    )


def test_the_stored_close_is_the_reference_of_the_first_new_bar() -> None:
    bars = real_bars("SPY")
    last = {"SPY": D("2018-06-29")}
    good = validate_bars(bars, previous_close={"SPY": 271.28}, jump_threshold=0.5, last_dates=last)
    # A stored close of 135.64 (half the real one): 2018-07-02's 271.86 is +100.4 % from it, and so is every later
    # close (the highest, 293.58, is +116 %; the lowest, 234.34, +72.8 %): all 126 are rejected.
    halved = validate_bars(bars, previous_close={"SPY": 135.64}, jump_threshold=0.5, last_dates=last)

    assert good.rejected == [] and len(good.accepted) == 126
    assert len(halved.rejected) == 126 and halved.accepted.empty
    assert messages(halved)[0] == (
        "SPY 2018-07-02: close 271.86 is a +100.4 % move from the previous close 135.64 (limit ±50 %, no split)"
    )


def test_the_threshold_is_configurable() -> None:
    result = validate_bars(real_bars("SPY"), previous_close={}, jump_threshold=0.04)

    # 2018-02-05: 263.93 / 275.45 − 1 = −4.18 %: rejected; 2018-02-06: 269.13 / 275.45 − 1 = −2.29 %: accepted.
    # 2018-12-26: 246.18 / 234.34 − 1 = +5.05 %, and 12-27 (248.07), 12-28 (247.75), 12-31 (249.92) are all more
    # than 4 % above 234.34 (2018-12-24, the last accepted close): rejected.
    assert [bar.date for bar in result.rejected] == [
        D("2018-02-05"),
        D("2018-12-26"),
        D("2018-12-27"),
        D("2018-12-28"),
        D("2018-12-31"),
    ]
    assert messages(result)[0] == (
        "SPY 2018-02-05: close 263.93 is a -4.2 % move from the previous close 275.45 (limit ±4 %, no split)"
    )
    assert messages(result)[-1].endswith("is a +6.6 % move from the previous close 234.34 (limit ±4 %, no split)")


def sequential_jump_verdicts(bars: pd.DataFrame, stored: dict[str, float], threshold: float) -> list[bool]:
    """The jump rule by its definition, bar by bar: True where rejected (rows sorted by symbol and date)."""
    verdicts = []
    reference = {}
    for symbol, close, ratio in zip(bars["symbol"], bars["close"], bars["split_ratio"].fillna(1.0), strict=True):
        last = reference.get(symbol, stored.get(symbol, np.nan))
        bad = not np.isnan(last) and abs(close * ratio / last - 1) > threshold
        verdicts.append(bad)
        if not bad:
            reference[symbol] = close
    return verdicts


@pytest.mark.parametrize("seed", range(6))
def test_the_vectorized_jump_rule_equals_the_sequential_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    bars = real_bars()[["symbol", "date", "close"]].assign(split_ratio=np.nan)
    n = len(bars)
    spikes = rng.choice(n, size=25, replace=False)
    bars.loc[spikes, "close"] *= rng.choice([0.3, 0.45, 1.7, 2.5, 3.0], size=25)
    for start in rng.choice(n, size=4, replace=False):  # level shifts that last a while
        stop = min(start + int(rng.integers(1, 30)), n)
        bars.loc[start : stop - 1, "close"] *= rng.choice([0.35, 2.2])
    splits = rng.choice(n, size=6, replace=False)
    bars.loc[splits, "split_ratio"] = rng.choice([0.5, 2.0, 3.0], size=6)
    bars["adj_close"] = bars["close"]
    stored = {"SPY": 268.77 * rng.choice([1.0, 0.4]), "^GSPC": 2695.810059}
    threshold = float(rng.choice([0.3, 0.5, 0.8]))

    result = validate_bars(bars, previous_close=stored, jump_threshold=threshold)

    expected = sequential_jump_verdicts(bars.sort_values(["symbol", "date"], ignore_index=True), stored, threshold)
    assert len(result.rejected) == sum(expected) > 0
    ordered = bars.sort_values(["symbol", "date"], ignore_index=True)
    assert [(bar.symbol, bar.date) for bar in result.rejected] == list(
        zip(ordered["symbol"][expected], ordered["date"][expected], strict=True)
    )


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "threshold", "message"),
    [
        (pd.DataFrame({"symbol": ["SPY"], "date": [D("2018-01-02")], "close": [1.0]}), 0.5, "column\\(s\\) adj_close"),
        (
            pd.DataFrame({"symbol": ["SPY"], "date": ["someday"], "close": [1.0], "adj_close": [1.0]}),
            0.5,
            "column 'date' holds a value that is not a date",
        ),
        (
            pd.DataFrame({"symbol": ["SPY"], "date": [D("2018-01-02")], "close": ["x"], "adj_close": [1.0]}),
            0.5,
            "column 'close' holds a value that is not a number",
        ),
        (pd.DataFrame({"symbol": [], "date": [], "close": [], "adj_close": []}), 0.0, "jump_threshold"),
        (pd.DataFrame({"symbol": [], "date": [], "close": [], "adj_close": []}), float("nan"), "jump_threshold"),
    ],
)
def test_malformed_input_is_refused_with_its_name(frame: pd.DataFrame, threshold: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_bars(frame, previous_close={}, jump_threshold=threshold)


def test_an_empty_batch_is_valid() -> None:
    empty = pd.DataFrame({"symbol": [], "date": [], "close": [], "adj_close": []})
    result = validate_bars(empty, previous_close={"SPY": 1.0}, jump_threshold=0.5)
    assert result.accepted.empty and result.rejected == [] and list(result.accepted.columns) == BAR_COLUMNS


# --- split ratios read from a source's raw / split-adjusted factor ---------------------------------------------


def test_factor_changes_snap_to_split_ratios() -> None:
    # 4-for-1, 1-for-10, 3-for-2 and 1-for-3 with 4-decimal price rounding in the factors; no split at 1.00005;
    # 1.0526 is within 1e-4 of 20/19 (a 5.26 % stock dividend); 1.30015 is within 1e-4 of no n/d with d ≤ 100.
    change = pd.Series([4.00001, 0.1000002, 1.5000049, 1 / 3 + 1e-6, 1.00005, np.nan, 1.0, 1.0526, 1.30015])
    expected = [4.0, 0.1, 1.5, 1 / 3, np.nan, np.nan, np.nan, 20 / 19, 1.30015]
    np.testing.assert_array_equal(split_ratios(change).to_numpy(), np.array(expected))
