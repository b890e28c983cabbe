"""The alert engine against pandas, analytics.risk, numpy and hand calculations, replayed on real bundled prices."""

import re

import numpy as np
import pandas as pd
import pytest

from investment_app.analytics import alert_rules as ar
from investment_app.analytics.alert_rules import (
    MarketWindow,
    PortfolioBook,
    RuleSpec,
    compile_rules,
    evaluate,
    evaluate_history,
    normalize_params,
    required_days,
)
from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.risk import value_at_risk
from investment_app.marketdata.bundled import bundled_bars
from tests.unit.test_indicators import pandas_rsi, plain_crossings

DAY = 86_400.0


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    wide = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")
    wide.index = pd.DatetimeIndex(wide.index)
    return wide


def window(frame: pd.DataFrame) -> MarketWindow:
    return MarketWindow.from_frame(frame)


def tiny_market(*columns: list[float]) -> MarketWindow:
    """Symbols A, B, … with the given closes on consecutive days from 2024-01-01."""
    values = np.array(columns, dtype=float).T
    dates = np.arange(len(values)).astype("timedelta64[D]") + np.datetime64("2024-01-01")
    return MarketWindow(tuple("ABCDEFG"[: len(columns)]), dates, values)


def one(kind: str, params: dict, market: MarketWindow, symbol: str = "A", **extra) -> ar.Evaluation:
    compiled = compile_rules([RuleSpec(1, kind, params, symbol, **extra)], market.symbols, [])
    assert compiled.unknown == {}
    return evaluate(compiled, market, None, now=1e9)


def book(weights, targets=None, target_cash=None, values=None, **extra) -> PortfolioBook:
    """A book of portfolios 10, 11, … on a market of as many days as ``values`` has rows (default 1)."""
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    n = weights.shape[0]
    targets = np.full(weights.shape, np.nan) if targets is None else np.atleast_2d(targets)
    target_cash = np.full(n, np.nan) if target_cash is None else np.atleast_1d(target_cash)
    values = np.full((1, n), 1000.0) if values is None else np.asarray(values, dtype=float)
    fields = {"pnl_today": np.zeros(n), "return_today": np.zeros(n)} | extra
    return PortfolioBook(
        tuple(range(10, 10 + n)), values, weights=weights, target_weights=targets, target_cash=target_cash, **fields
    )


def judge(kind: str, params: dict, the_book: PortfolioBook, market: MarketWindow, symbol=None) -> ar.Evaluation:
    rules = [RuleSpec(i, kind, params, symbol, pid) for i, pid in enumerate(the_book.portfolio_ids)]
    compiled = compile_rules(rules, market.symbols, the_book.portfolio_ids)
    assert compiled.unknown == {}
    return evaluate(compiled, market, the_book, now=1e9)


# ------------------------------------------------------------------------------------------------ normalize_params


def test_defaults_are_filled():
    assert normalize_params("price_cross", {"level": 100}) == {"level": 100.0, "direction": "either"}
    assert normalize_params("move", {"pct": 0.05}) == {"pct": 0.05, "days": 1, "direction": "either"}
    assert normalize_params("rsi", {}) == {"period": 14, "upper": 70.0, "lower": 30.0, "zone": "either"}
    assert normalize_params("ma_cross", {}) == {"fast": 50, "slow": 200, "direction": "either"}
    assert normalize_params("var", {"pct": 0.03}) == {"pct": 0.03, "lookback": 250}
    assert normalize_params("drift", {"pp": 5}) == {"pp": 5.0, "measure": "total"}
    assert normalize_params("daily_loss", {"amount": 500, "pct": None}) == {"amount": 500.0}
    assert normalize_params("move", {"pct": 0.05, "days": 5.0})["days"] == 5  # a whole float is accepted


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("foo", {}, "unknown kind 'foo'; expected one of price_cross, move, rsi, ma_cross, drawdown"),
        ("drawdown", {"pct": 1.5}, "drawdown: pct must be between 0% and 100% (exclusive); got 1.5"),
        ("drawdown", {"pct": 0}, "drawdown: pct must be between 0% and 100% (exclusive); got 0"),
        ("drawdown", {}, "drawdown: pct is required"),
        ("price_cross", {"level": -3}, "price_cross: level must be positive; got -3"),
        ("price_cross", {"level": 0}, "price_cross: level must be positive"),
        ("price_cross", {"level": "ten"}, "price_cross: level must be a number; got 'ten'"),
        ("price_cross", {"level": True}, "price_cross: level must be a number; got True"),
        ("price_cross", {"level": float("nan")}, "price_cross: level must be a finite number"),
        ("price_cross", {"level": 5, "direction": "up"}, "direction must be one of above, below, either; got 'up'"),
        ("price_cross", {"level": 5, "lvl": 3}, "price_cross: unknown field 'lvl'; expected level, direction"),
        ("move", {"pct": 12}, "move: pct must be above 0% and at most 1000%; got 12"),
        ("move", {"pct": 0.05, "days": 0}, "move: days must be a whole number between 1 and 252; got 0"),
        ("move", {"pct": 0.05, "days": 253}, "move: days must be a whole number between 1 and 252; got 253"),
        ("move", {"pct": 0.05, "days": 2.5}, "move: days must be a whole number; got 2.5"),
        ("rsi", {"period": 1}, "rsi: period must be a whole number between 2 and 100; got 1"),
        ("rsi", {"period": 101}, "rsi: period must be a whole number between 2 and 100"),
        ("rsi", {"upper": 100}, "rsi: upper must be between 0 and 100 (exclusive); got 100"),
        ("rsi", {"lower": 0}, "rsi: lower must be between 0 and 100 (exclusive); got 0"),
        ("rsi", {"lower": 80, "upper": 70}, "rsi: lower (80) must be below upper (70)"),
        ("rsi", {"lower": 70}, "rsi: lower (70) must be below upper (70)"),
        ("ma_cross", {"fast": 0}, "ma_cross: fast must be a whole number at least 1; got 0"),
        ("ma_cross", {"slow": 401}, "ma_cross: slow must be a whole number between 2 and 400; got 401"),
        ("ma_cross", {"slow": 30}, "ma_cross: slow (30) must be above fast (50)"),
        ("ma_cross", {"fast": 20, "slow": 20}, "ma_cross: slow (20) must be above fast (20)"),
        ("daily_loss", {"amount": 5, "pct": 0.1}, "daily_loss: give exactly one of amount (money) or pct"),
        ("daily_loss", {}, "got neither"),
        ("daily_loss", {"amount": -5}, "daily_loss: amount must be positive; got -5"),
        ("daily_loss", {"pct": 1}, "daily_loss: pct must be between 0% and 100% (exclusive); got 1"),
        ("var", {"pct": 0.05, "lookback": 19}, "var: lookback must be a whole number between 20 and 2520; got 19"),
        ("var", {"pct": 1.0}, "var: pct must be between 0% and 100% (exclusive); got 1.0"),
        ("concentration", {"pct": 1.01}, "concentration: pct must be above 0% and at most 100%; got 1.01"),
        ("drift", {"pp": 0}, "drift: pp must be above 0 and at most 100; got 0"),
        ("drift", {"pp": 120}, "drift: pp must be above 0 and at most 100; got 120"),
        ("drift", {"pp": 5, "measure": "max"}, "drift: measure must be one of total, position; got 'max'"),
        ("var", [0.05], "var: params must be a mapping"),
    ],
)
def test_impossible_params_are_refused_with_a_message(kind, params, message):
    with pytest.raises(AnalyticsError) as refused:
        normalize_params(kind, params)
    assert message in str(refused.value)


def test_the_largest_legal_thresholds_are_accepted():
    assert normalize_params("concentration", {"pct": 1})["pct"] == 1.0
    assert normalize_params("move", {"pct": 10, "days": 252})["days"] == 252
    assert normalize_params("drift", {"pp": 100})["pp"] == 100.0


# ------------------------------------------------------------------------------------------------ compile_rules


def test_rules_outside_the_universe_or_malformed_are_listed_not_raised():
    rules = [
        RuleSpec(1, "move", {"pct": 0.05}, "AAPL"),
        RuleSpec(2, "move", {"pct": 0.05}, "NOPE"),
        RuleSpec(3, "drawdown", {"pct": 0.1}, None, 99),
        RuleSpec(4, "rsi", {"lower": 80}, "AAPL"),
        RuleSpec(5, "price_cross", {"level": 3}),
        RuleSpec(6, "drawdown", {"pct": 0.1}, "AAPL", 7),
        RuleSpec(7, "concentration", {"pct": 0.2}, "AAPL", 7),
        RuleSpec(8, "var", {"pct": 0.02}),
        RuleSpec(9, "move", {"pct": 0.05}, "AAPL", cooldown_seconds=-1),
        RuleSpec(10, "bogus", {}, "AAPL"),
    ]
    compiled = compile_rules(rules, ["AAPL", "SPY"], [7])
    assert compiled.rule_id.tolist() == [1, 7]
    assert compiled.unknown.pop(10).startswith("unknown kind 'bogus'; expected one of")
    assert compiled.unknown == {
        2: "symbol 'NOPE' is not in the market data",
        3: "portfolio 99 is not in the portfolio book",
        4: "rsi: lower (80) must be below upper (70)",
        5: "price_cross rules need a symbol",
        6: "drawdown rules watch a whole portfolio; leave the symbol empty",
        8: "var rules need a portfolio",
        9: "cooldown_seconds must be a finite number ≥ 0; got -1",
    }
    assert (compiled.symbol.tolist(), compiled.portfolio.tolist()) == ([0, 0], [-1, 0])
    assert set(compiled.groups) == {"move", "concentration"}
    with pytest.raises(AnalyticsError, match="rule id 1 appears twice"):
        compile_rules([rules[0], rules[0]], ["AAPL"], [])


def test_required_days_is_the_longest_lookback_plus_one():
    def needs(*rules):
        return required_days(compile_rules([RuleSpec(i, *r) for i, r in enumerate(rules)], ["A"], [1]))

    assert needs(("price_cross", {"level": 1}, "A")) == 2
    assert needs(("move", {"pct": 0.1, "days": 21}, "A"), ("ma_cross", {"fast": 5, "slow": 10}, "A")) == 22
    assert needs(("rsi", {"period": 14}, "A")) == 11 * 14 + 1
    assert needs(("var", {"pct": 0.1, "lookback": 500}, None, 1), ("drawdown", {"pct": 0.1}, None, 1)) == 501
    assert needs() == 1


# ------------------------------------------------------------------------------------------------ symbol rules


@pytest.mark.parametrize(
    ("closes", "direction", "fires"),
    [
        ([9, 11], "above", True),
        ([9, 10], "above", True),  # reaching the level counts
        ([10, 11], "above", False),  # leaving it does not
        ([9, 11], "below", False),
        ([9, 11], "either", True),
        ([11, 10], "below", True),
        ([11, 9], "either", True),
        ([11, 12], "either", False),
        ([9, np.nan, 11], "above", True),  # the previous close skips a day without one
    ],
)
def test_price_cross_by_hand(closes, direction, fires):
    result = one("price_cross", {"level": 10, "direction": direction}, tiny_market(closes))
    assert result.fires.tolist() == [fires]
    assert (result.value[0], result.threshold[0]) == (closes[-1], 10.0)


def aapl_2008_replay(closes: pd.DataFrame, rules: list[RuleSpec]) -> tuple[ar.History, pd.DataFrame]:
    frame = closes.loc["2007":"2008", ["AAPL", "XOM", "SPY"]]
    market = window(frame)
    compiled = compile_rules(rules, market.symbols, [])
    first = int(np.searchsorted(market.dates, np.datetime64("2008-01-01")))
    return evaluate_history(compiled, market, first), frame


def test_move_down_5pct_fires_on_the_days_pandas_finds(closes):
    rules = [
        RuleSpec(1, "move", {"pct": 0.05, "direction": "down"}, "AAPL"),
        RuleSpec(2, "move", {"pct": 0.10, "days": 5, "direction": "up"}, "AAPL"),
        RuleSpec(3, "move", {"pct": 0.04, "days": 2}, "XOM"),
    ]
    history, frame = aapl_2008_replay(closes, rules)
    in_2008 = frame.index >= "2008-01-01"
    down = frame["AAPL"].pct_change()[in_2008] <= -0.05
    up = frame["AAPL"].pct_change(5)[in_2008] >= 0.10
    either = frame["XOM"].pct_change(2)[in_2008].abs() >= 0.04
    assert down.sum() == 19 and up.sum() > 5 and either.sum() > 20
    np.testing.assert_array_equal(history.fires, np.column_stack([down, up, either]))
    np.testing.assert_allclose(history.value[:, 0], frame["AAPL"].pct_change()[in_2008], rtol=1e-15)


def test_cooldown_suppresses_refiring_within_it_and_allows_it_after(closes):
    cooldown = 7 * DAY
    history, frame = aapl_2008_replay(
        closes, [RuleSpec(1, "move", {"pct": 0.05, "direction": "down"}, "AAPL", cooldown_seconds=cooldown)]
    )
    days = frame.index[frame.index >= "2008-01-01"]
    condition = (frame["AAPL"].pct_change() <= -0.05)[days].to_numpy()
    expected, last = [], -np.inf
    for day, met in zip(days, condition, strict=True):  # the cooldown by hand, day by day
        now = day.timestamp()
        fires = bool(met) and now - last >= cooldown
        last = now if fires else last
        expected.append(fires)
    assert history.condition[:, 0].tolist() == condition.tolist()
    assert history.fires[:, 0].tolist() == expected
    assert 0 < sum(expected) < condition.sum()
    # 2008-01-15 fired, 2008-01-16 is a day later: suppressed; 2008-01-23 is 8 days later: allowed again
    fired = set(history.dates[history.fires[:, 0]].astype(str))
    assert {"2008-01-15", "2008-01-23"} <= fired and "2008-01-16" not in fired


def test_cooldown_boundary_by_hand():
    market = tiny_market([100, 90])
    rule = dict(kind="move", params={"pct": 0.05}, symbol="A", cooldown_seconds=3600.0)
    for last, fires in [(None, True), (1e9 - 3599, False), (1e9 - 3600, True)]:
        compiled = compile_rules([RuleSpec(1, **rule, last_fired=last)], market.symbols, [])
        result = evaluate(compiled, market, None, now=1e9)
        assert (result.condition[0], result.fires[0]) == (True, fires)


def test_rsi_rule_matches_pandas_wilder_rsi_day_by_day(closes):
    rules = [
        RuleSpec(1, "rsi", {"zone": "below"}, "AAPL"),
        RuleSpec(2, "rsi", {"period": 5, "upper": 80, "lower": 20}, "XOM"),
        RuleSpec(3, "rsi", {"period": 5, "zone": "above"}, "AAPL"),
    ]
    history, frame = aapl_2008_replay(closes, rules)
    in_2008 = frame.index >= "2008-01-01"
    aapl14, xom5, aapl5 = (pandas_rsi(frame[s], p)[in_2008] for s, p in [("AAPL", 14), ("XOM", 5), ("AAPL", 5)])
    np.testing.assert_allclose(history.value, np.column_stack([aapl14, xom5, aapl5]), rtol=1e-10)
    expected = np.column_stack([aapl14 < 30, (xom5 > 80) | (xom5 < 20), aapl5 > 70])
    assert expected.sum(axis=0).min() > 3
    np.testing.assert_array_equal(history.fires, expected)


def test_ma_cross_fires_where_a_plain_loop_sees_the_averages_cross(closes):
    frame = closes.loc["2005":"2010", ["AAPL", "GOOG", "SPY"]]
    market = window(frame)
    rules = [
        RuleSpec(1, "ma_cross", {"fast": 20, "slow": 50}, "AAPL"),
        RuleSpec(2, "ma_cross", {"fast": 50, "slow": 200, "direction": "golden"}, "SPY"),
        RuleSpec(3, "ma_cross", {"fast": 10, "slow": 30, "direction": "death"}, "GOOG"),
    ]
    history = evaluate_history(compile_rules(rules, market.symbols, []), market, first_day=0)
    cross = {}
    for symbol, fast, slow in [("AAPL", 20, 50), ("SPY", 50, 200), ("GOOG", 10, 30)]:
        x = (frame[symbol].rolling(fast).mean() - frame[symbol].rolling(slow).mean()).to_numpy()[:, None]
        cross[symbol] = plain_crossings(x)[:, 0]
    expected = np.column_stack([cross["AAPL"] != 0, cross["SPY"] == 1, cross["GOOG"] == -1])
    assert expected.sum(axis=0).min() >= 2
    np.testing.assert_array_equal(history.fires, expected)
    ratio = frame["AAPL"].rolling(20).mean() / frame["AAPL"].rolling(50).mean() - 1
    assert history.not_evaluable[:50, 0].all()  # a crossing needs yesterday's slow average too: 51 closes
    np.testing.assert_allclose(history.value[50:, 0], ratio[50:], rtol=1e-9, atol=1e-13)


def test_late_listing_gap_and_missing_close_are_not_evaluable_and_never_fire(closes):
    frame = closes.loc["2012-05-01":"2012-06-29", ["AAPL", "META"]].copy()
    frame.iloc[-1, 0] = np.nan  # no AAPL close on the last day
    market = window(frame)
    rules = [
        RuleSpec(1, "move", {"pct": 0.01}, "AAPL"),
        RuleSpec(2, "move", {"pct": 0.01, "days": 40}, "META"),
        RuleSpec(3, "rsi", {"period": 30}, "META"),
        RuleSpec(4, "ma_cross", {"fast": 5, "slow": 50}, "META"),
        RuleSpec(5, "move", {"pct": 0.01, "days": 5}, "META"),
        RuleSpec(6, "drawdown", {"pct": 0.1}, None, 1),
    ]
    result = evaluate(compile_rules(rules, market.symbols, [1]), market, None, now=1e9)
    assert result.reason.tolist() == [
        "no close on the evaluation day",
        "too little price history for the rule's lookback",  # META has 30 closes, 40 days asked
        "too little price history for the rule's lookback",  # RSI(30) needs 31
        "too little price history for the rule's lookback",
        "",
        "no portfolio data given",
    ]
    assert result.not_evaluable.tolist() == [True, True, True, True, False, True]
    assert np.isnan(result.value[result.not_evaluable]).all() and not result.fires[result.not_evaluable].any()
    history = evaluate_history(compile_rules(rules[1:2], market.symbols, []), market)
    assert not history.fires.any() and history.not_evaluable.all()


def test_a_missing_start_close_and_a_flat_price_have_their_reasons():
    market = tiny_market([5, 5, 5, 5, 5, 5], [4, np.nan, 4.1, 4.2, 4.3, 4.4])
    compiled = compile_rules(
        [RuleSpec(1, "rsi", {"period": 3}, "A"), RuleSpec(2, "move", {"pct": 0.05, "days": 4}, "B")], market.symbols, []
    )
    result = evaluate(compiled, market, None, now=0.0)
    assert result.reason.tolist() == ["RSI undefined: the price has not changed", "no close at the start of the move"]


# ------------------------------------------------------------------------------------------------ portfolio rules


def test_drawdown_by_hand():
    market = tiny_market([1, 1, 1])
    values = [[100.0, 200.0], [120.0, 210.0], [90.0, 205.0]]
    the_book = book(np.zeros((2, 1)), values=values, prior_peak=[np.nan, 250.0])
    result = judge("drawdown", {"pct": 0.2}, the_book, market)
    np.testing.assert_allclose(result.value, [90 / 120 - 1, 205 / 250 - 1])  # −25 %, −18 %
    assert result.fires.tolist() == [True, False] and result.threshold.tolist() == [-0.2, -0.2]


def test_daily_loss_by_amount_and_by_pct():
    market = tiny_market([1])
    the_book = book(np.zeros((3, 1)), pnl_today=[-600.0, -400.0, np.nan], return_today=[-0.01, -0.03, 0.0])
    rules = [
        RuleSpec(1, "daily_loss", {"amount": 500}, None, 10),
        RuleSpec(2, "daily_loss", {"amount": 500}, None, 11),
        RuleSpec(3, "daily_loss", {"pct": 0.02}, None, 10),
        RuleSpec(4, "daily_loss", {"pct": 0.02}, None, 11),
        RuleSpec(5, "daily_loss", {"amount": 1}, None, 12),
    ]
    result = evaluate(compile_rules(rules, market.symbols, the_book.portfolio_ids), market, the_book, now=0.0)
    assert result.fires.tolist() == [True, False, False, True, False]
    assert result.threshold.tolist() == [-500, -500, -0.02, -0.02, -1]
    assert result.reason[4] == "no daily P&L for the portfolio"


def test_var_matches_analytics_risk_and_numpy_quantile(closes):
    frame = closes.loc["2011":"2012"]
    market = window(frame)
    symbols = list(frame.columns)
    weights = np.zeros((3, len(symbols)))
    weights[0, [symbols.index(s) for s in ("AAPL", "XOM", "JPM")]] = [0.4, 0.3, 0.2]  # 10 % cash
    weights[1, [symbols.index(s) for s in ("SPY", "AMZN")]] = [0.5, 0.5]
    weights[2, symbols.index("META")] = 0.9  # listed in May 2012: too few returns for 250 days
    the_book = book(weights, values=np.full((len(frame), 3), 1e5))
    result = judge("var", {"pct": 0.02}, the_book, market)
    returns = frame.pct_change(fill_method=None).iloc[-250:].fillna(0).to_numpy()
    for p in (0, 1):
        portfolio = returns @ weights[p]
        expected = value_at_risk(portfolio, 0.95, "historical").var
        assert result.value[p] == pytest.approx(expected, rel=1e-12)
        assert result.value[p] == pytest.approx(-np.quantile(portfolio, 0.05), rel=1e-12)
        assert result.fires[p] == (expected >= 0.02)
    assert result.value[0] > 0.01
    assert result.reason[2] == "a held symbol lacks returns over the VaR lookback"
    short = judge("var", {"pct": 0.02, "lookback": 60}, the_book, market)
    meta = frame["META"].pct_change().iloc[-60:].to_numpy() * 0.9
    assert short.value[2] == pytest.approx(-np.quantile(meta, 0.05), rel=1e-12)


def test_an_all_cash_portfolio_has_no_var_and_no_concentration():
    market = tiny_market(*[[1.0 + 0.01 * np.sin(t) for t in range(30)]] * 2)
    the_book = book(np.zeros((1, 2)), values=np.full((30, 1), 500.0))
    var = judge("var", {"pct": 0.01, "lookback": 20}, the_book, market)
    concentration = judge("concentration", {"pct": 0.01}, the_book, market)
    assert (var.value[0], var.fires[0]) == (0.0, False)
    assert (concentration.value[0], concentration.position[0], concentration.fires[0]) == (0.0, -1, False)


def test_concentration_by_hand():
    market = tiny_market([1], [1], [1])
    the_book = book([[0.2, 0.5, 0.3], [0.1, 0.1, 0.1]])
    result = judge("concentration", {"pct": 0.4}, the_book, market)
    assert result.value.tolist() == [0.5, 0.1] and result.position.tolist() == [1, 0]
    assert result.fires.tolist() == [True, False]
    mine = judge("concentration", {"pct": 0.25}, the_book, market, symbol="C")
    assert mine.value.tolist() == [0.3, 0.1] and mine.position.tolist() == [2, 2]
    assert mine.fires.tolist() == [True, False]


def test_drift_by_hand():
    market = tiny_market([1], [1])
    weights = [[0.6, 0.4], [0.45, 0.45], [0.5, 0.5]]
    targets = [[0.5, 0.5], [0.4, 0.35], [np.nan, np.nan]]
    the_book = book(weights, targets, target_cash=[0.0, 0.25, np.nan])
    total = judge("drift", {"pp": 9.99}, the_book, market)
    # 60/40 against 50/50: ½(10 + 10) = 10 pp; 45/45/10 cash against 40/35/25: ½(5 + 10 + 15) = 15 pp
    np.testing.assert_allclose(total.value[:2], [10.0, 15.0])
    assert total.fires.tolist() == [True, True, False]
    assert total.reason[2] == "the portfolio has no target allocation"
    position = judge("drift", {"pp": 12, "measure": "position"}, the_book, market)
    np.testing.assert_allclose(position.value[:2], [10.0, 15.0])  # the largest gap: a symbol, then the cash
    assert position.position.tolist() == [0, -1, -1] and position.fires.tolist() == [False, True, False]


def test_portfolio_without_value_today_is_not_evaluable():
    market = tiny_market([1, 1])
    the_book = book([[0.5]], [[0.5]], [0.5], values=[[100.0], [np.nan]])
    for kind, params in [("drawdown", {"pct": 0.1}), ("concentration", {"pct": 0.1}), ("drift", {"pp": 1})]:
        assert judge(kind, params, the_book, market).reason[0] == "no positive portfolio value on the evaluation day"


# ------------------------------------------------------------------------------------------------ inputs


def test_bad_market_and_book_are_refused_with_their_reason():
    dates = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]")
    with pytest.raises(
        AnalyticsError, match=re.escape("the close of B on 2024-01-02 is -1.0; closes must be positive")
    ):
        MarketWindow(("A", "B"), dates, [[1.0, 1.0], [1.0, -1.0]])
    with pytest.raises(AnalyticsError, match="strictly increasing"):
        MarketWindow(("A",), dates[::-1], [[1.0], [1.0]])
    with pytest.raises(AnalyticsError, match="every symbol and the cash, or nothing"):
        book([[0.5, 0.5]], [[0.5, np.nan]], [0.0])
    market = tiny_market([1.0], [2.0])
    compiled = compile_rules([RuleSpec(1, "move", {"pct": 0.1}, "A")], ["B", "A"], [])
    with pytest.raises(AnalyticsError, match="symbols differ"):
        evaluate(compiled, market, None, now=0.0)
    compiled = compile_rules([RuleSpec(1, "drift", {"pp": 1}, None, 10)], market.symbols, [10])
    with pytest.raises(AnalyticsError, match="cover the market's 1 days and 2 symbols"):
        evaluate(compiled, market, book([[0.5, 0.2]], values=np.ones((3, 1))), now=0.0)
