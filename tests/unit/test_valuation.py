"""Daily valuation against a hand-worked case and, by property, against a naive day-by-day replay."""

import datetime as dt
from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from investment_app.ledger.entries import Entry
from investment_app.ledger.lots import build_lots
from investment_app.ledger.valuation import value_portfolio
from investment_app.models.transaction import TxType as T

DAYS = pd.bdate_range("2024-01-01", periods=8)


def _d(i: int) -> dt.date:
    return DAYS[i].date()


def test_hand_worked_portfolio_with_fee_dividend_split_and_sale():
    prices = pd.DataFrame({"XYZ": [50, 52, 55, 56, 60, 61, np.nan, 62]}, index=DAYS, dtype=float)  # split-adjusted
    entries = [
        Entry(1, _d(0), T.DEPOSIT, amount=D(10000)),
        Entry(2, _d(0), T.BUY, "XYZ", D(10), D(100), D(5)),  # 10 shares at 100 before a 2:1 split
        Entry(3, _d(2), T.DIVIDEND, "XYZ", amount=D(20)),
        Entry(4, _d(3), T.SPLIT, "XYZ", ratio=D(2)),
        Entry(5, _d(4), T.SELL, "XYZ", D(5), D(60), D(1)),
        Entry(6, _d(5), T.WITHDRAWAL, amount=D(1000)),
    ]
    book = build_lots(entries)
    v = value_portfolio(entries, prices, book, _d(7))
    assert v.positions[:, 0].tolist() == [20, 20, 20, 20, 15, 15, 15, 15]
    assert v.cash.tolist() == [8995, 8995, 9015, 9015, 9314, 8314, 8314, 8314]
    assert v.market_value.tolist() == [1000, 1040, 1100, 1120, 900, 915, 915, 930]
    assert v.net_flow.tolist() == [10000, 0, 0, 0, 0, -1000, 0, 0]
    assert v.cost_basis.tolist() == [1005, 1005, 1005, 1005, 753.75, 753.75, 753.75, 753.75]
    assert v.income.tolist() == [0, 0, 20, 0, 0, 0, 0, 0]
    assert not v.stale.any() and not v.at_cost.any()


def test_gaps_beyond_five_days_are_flagged_and_early_trades_valued_at_cost():
    index = pd.bdate_range("2024-01-01", periods=12)
    prices = pd.DataFrame({"NEW": [np.nan, np.nan, 10, 11] + [np.nan] * 7 + [12]}, index=index)
    entries = [Entry(1, index[0].date(), T.BUY, "NEW", D(3), D(9))]
    v = value_portfolio(entries, prices, build_lots(entries), index[-1].date())
    assert v.at_cost[:, 0].tolist() == [True, True] + [False] * 10
    assert v.market_value[:2].tolist() == [27, 27]
    assert v.stale[:, 0].tolist() == [False] * 9 + [True, True, False]  # carried 1..5 days is fine, 6+ is not
    assert v.market_value[9] == 33  # still valued at the last close while flagged


def _raw_price(rng, days, splits):
    """Raw closes with drops at splits, and the split-adjusted series the store would hold."""
    raw = 100 * np.cumprod(1 + rng.normal(0, 0.02, len(days)))
    for day, ratio in splits:
        raw[day:] /= ratio
    adjusted = raw.copy()
    for day, ratio in splits:
        adjusted[:day] /= ratio
    return raw, adjusted


@st.composite
def histories(draw):
    n_days = draw(st.integers(5, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    split_days = sorted(draw(st.sets(st.integers(1, n_days - 1), max_size=2)))
    splits = [(d, draw(st.sampled_from([2, 3, 4]))) for d in split_days]
    entries, held, next_id = [Entry(1, DAYS_LONG[0].date(), T.DEPOSIT, amount=D(100000))], D(0), 2
    raw, _ = _raw_price(np.random.default_rng(seed), DAYS_LONG[:n_days], splits)
    for day in range(n_days):
        date = DAYS_LONG[day].date()
        for split_day, ratio in splits:
            if split_day == day:
                entries.append(Entry(next_id, date, T.SPLIT, "XYZ", ratio=D(ratio)))
                held *= ratio
                next_id += 1
        action = draw(st.sampled_from(["buy", "sell", "dividend", "fee", "deposit", "none"]))
        price = D(str(round(float(raw[day]), 2)))
        if action == "buy":
            qty = D(draw(st.integers(1, 50))) / 4
            entries.append(Entry(next_id, date, T.BUY, "XYZ", qty, price, D(draw(st.integers(0, 5)))))
            held += qty
        elif action == "sell" and held > 0:
            qty = min(held, D(draw(st.integers(1, 50))) / 4)
            entries.append(Entry(next_id, date, T.SELL, "XYZ", qty, price, D(1)))
            held -= qty
        elif action == "dividend":
            entries.append(Entry(next_id, date, T.DIVIDEND, "XYZ", amount=D(draw(st.integers(1, 30)))))
        elif action == "fee":
            entries.append(Entry(next_id, date, T.FEE, amount=D(draw(st.integers(1, 9)))))
        elif action == "deposit":
            entries.append(Entry(next_id, date, T.DEPOSIT, amount=D(draw(st.integers(1, 5000)))))
        next_id += 1
    return n_days, seed, splits, entries


DAYS_LONG = pd.bdate_range("2023-01-02", periods=40)


@settings(max_examples=60, deadline=None)
@given(histories())
def test_properties_over_random_histories(history):
    n_days, seed, splits, entries = history
    days = DAYS_LONG[:n_days]
    raw, adjusted = _raw_price(np.random.default_rng(seed), days, splits)
    book = build_lots(entries)
    v = value_portfolio(entries, pd.DataFrame({"XYZ": adjusted}, index=days), book, days[-1].date())

    # value = Σ quantity × price + cash on every day, replayed naively in raw (unadjusted) units
    qty, cash = 0.0, 0.0
    for i, day in enumerate(days):
        for e in (e for e in entries if e.date == day.date()):
            q, p, f, a = float(e.quantity), float(e.price), float(e.fees), float(e.amount)
            if e.type is T.SPLIT:
                qty *= float(e.ratio)
            qty += {T.BUY: q, T.SELL: -q}.get(e.type, 0.0)
            cash += {T.DEPOSIT: a, T.DIVIDEND: a, T.FEE: -a, T.BUY: -(q * p + f), T.SELL: q * p - f}.get(e.type, 0.0)
        assert v.market_value[i] + v.cash[i] == pytest.approx(qty * raw[i] + cash, rel=1e-9, abs=1e-6)

    # the lots of the holding add up to its quantity
    assert float(book.quantity("XYZ")) == pytest.approx(v.positions[-1, 0] if v.symbols else 0.0, abs=1e-9)
    assert float(book.quantity("XYZ")) == pytest.approx(qty, abs=1e-9)

    # realized + unrealized + income − fees = end value − start value − net external flows
    realized = sum(float(r.gain) for r in book.realized)
    unrealized = sum(float(lot.quantity) * raw[-1] - float(lot.cost) for lot in book.open_lots.get("XYZ", []))
    income = sum(float(e.amount) for e in entries if e.type is T.DIVIDEND)
    fees = sum(float(e.amount) for e in entries if e.type is T.FEE)
    gain = v.total[-1] - 0.0 - v.net_flow.sum()
    assert realized + unrealized + income - fees == pytest.approx(gain, rel=1e-9, abs=1e-6)
