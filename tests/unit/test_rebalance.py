"""Rebalancing plan: hand-worked portfolios for every rule, the ledger's holding-period rule, random properties."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from investment_app.analytics.rebalance import (
    CASH,
    LotArrays,
    PlanInput,
    PlanSettings,
    Target,
    deploy_cash,
    drift,
    long_term_cutoff,
    plan,
    raise_cash,
)
from investment_app.ledger.lots import long_term_from

TODAY = dt.date(2024, 12, 2)


def lots(rows):
    """rows: (lot_id, symbol, opened, quantity, unit_cost)."""
    ids, syms, opened, qty, cost = zip(*rows, strict=True)
    return LotArrays(ids, syms, [np.datetime64(d, "D") for d in opened], qty, cost)


def inp(positions, cash, lot_rows, weights, reserve=0.0, **kw):
    return PlanInput(positions, cash, lots(lot_rows), Target(weights, reserve), TODAY, PlanSettings(**kw))


# Three symbols at $100: A 60 shares (two lots), B 30, C 10; cash 0 → V = 10,000, w = 60/30/10 %.
BASE_POS = {"A": (60, 100.0), "B": (30, 100.0), "C": (10, 100.0)}
BASE_LOTS = [
    (1, "A", "2020-01-02", 30, 50.0),  # long term, gain 50/share
    (2, "A", "2024-06-03", 30, 90.0),  # short term, gain 10/share
    (3, "B", "2022-01-03", 30, 100.0),
    (4, "C", "2023-01-03", 10, 100.0),
]


def test_drift_hand_examples():
    assert drift({"A": 0.6, "B": 0.4}, {"A": 0.5, "B": 0.5}).total == pytest.approx(0.10)
    d = drift({"A": 0.55, "B": 0.40}, Target({"A": 0.5, "B": 0.4}, 0.1))  # cash 5 % vs 10 %
    assert d.by_symbol.to_dict() == pytest.approx({"A": 0.05, "B": 0.0, CASH: -0.05})
    assert d.total == pytest.approx(0.05)
    assert drift({"A": 1.0}, {"B": 1.0}).total == pytest.approx(1.0)  # a symbol on one side only


def test_target_validation_messages():
    with pytest.raises(ValueError, match=r"add up to 97% with the 2% cash reserve; they must add up to 100%"):
        Target({"A": 0.5, "B": 0.45}, 0.02)
    with pytest.raises(ValueError, match="negative target weight for B"):
        Target({"A": 1.1, "B": -0.1})
    assert Target({"A": 1.1, "B": -0.1}, allow_shorts=True).weights["B"] == -0.1
    with pytest.raises(ValueError, match=r"unknown symbol.*ZZZ"):
        Target({"A": 0.5, "ZZZ": 0.5}, universe=frozenset({"A", "B"}))


def test_long_term_cutoff_matches_ledger_rule():
    days = pd.date_range("2019-01-01", "2025-12-31").date
    for today in [*days[::7].tolist(), dt.date(2024, 3, 1), dt.date(2025, 3, 1), dt.date(2021, 3, 1)]:
        cut = long_term_cutoff(today)
        assert today >= long_term_from(cut)
        assert today < long_term_from(cut + dt.timedelta(days=1))


def test_inside_band_no_trade():
    p = plan(inp(BASE_POS, 0.0, BASE_LOTS, {"A": 0.57, "B": 0.33, "C": 0.10}, band=0.05))
    assert p.trades.empty and p.lots.empty
    assert p.drift_after == pytest.approx(p.drift_before) == pytest.approx(0.03)


def test_hifo_and_loss_first_with_hand_gains():
    # target A 40 %: sell 20 A (2,000). HIFO takes lot 2 (cost 90, short term): gain 20 × 10 = 200 ST.
    p = plan(inp(BASE_POS, 0.0, BASE_LOTS, {"A": 0.4, "B": 0.3, "C": 0.3}, band=0.05))
    sell = p.trades[p.trades.side == "sell"]
    assert sell[["symbol", "quantity"]].values.tolist() == [["A", 20.0]]
    assert p.lots[["lot_id", "quantity"]].values.tolist() == [[2, 20.0]]
    assert (p.realized_short, p.realized_long) == (pytest.approx(200.0), 0.0)
    assert p.trades[p.trades.side == "buy"][["symbol", "quantity"]].values.tolist() == [["C", 20.0]]
    # loss_first with no loss lot: long term first → lot 1 (cost 50): 20 × 50 = 1,000 LT.
    p = plan(inp(BASE_POS, 0.0, BASE_LOTS, {"A": 0.4, "B": 0.3, "C": 0.3}, band=0.05, lot_method="loss_first"))
    assert p.lots[["lot_id", "quantity"]].values.tolist() == [[1, 20.0]]
    assert (p.realized_short, p.realized_long) == (0.0, pytest.approx(1000.0))
    # a loss lot (cost 120, opened 2024-06-03 → short term) goes first under loss_first, HIFO takes it too
    rows = [(1, "A", "2020-01-02", 30, 50.0), (2, "A", "2024-06-03", 10, 120.0), (5, "A", "2023-06-01", 20, 110.0)]
    rows += BASE_LOTS[2:]
    p = plan(inp(BASE_POS, 0.0, rows, {"A": 0.4, "B": 0.3, "C": 0.3}, band=0.05, lot_method="loss_first"))
    # loss lots: 2 (ST, −20/sh) and 5 (LT since 2024-06-02, −10/sh); loss first, then LT before ST → 5 then 2
    assert p.lots[["lot_id", "quantity"]].values.tolist() == [[5, 20.0]]
    assert p.realized_long == pytest.approx(-200.0)


def test_avoid_short_term_gains_sells_long_term_lot_and_notes_it():
    s = {"band": 0.05, "avoid_short_term_gains": True}
    p = plan(inp(BASE_POS, 0.0, BASE_LOTS, {"A": 0.4, "B": 0.3, "C": 0.3}, **s))
    assert p.lots["lot_id"].tolist() == [1]
    assert p.realized_short == 0.0 and p.realized_long == pytest.approx(1000.0)
    assert p.notes == ("A: kept 1 short-term lots; sold long-term lots instead",)


def test_whole_shares_reserve_min_trade_and_costs():
    # prices 30/70/110, reserve 5 %; V = 60·30 + 20·70 + 0 + 800 = 4,000: w = 45/35/0 % vs target 40/40/15 %
    pos = {"A": (60, 30.0), "B": (20, 70.0), "C": (0, 110.0)}
    rows = [(1, "A", "2020-01-02", 60, 30.0), (2, "B", "2020-01-02", 20, 70.0)]
    w = {"A": 0.40, "B": 0.40, "C": 0.15}
    p = plan(inp(pos, 800.0, rows, w, reserve=0.05, band=0.02, commission_bps=10, spread_bps=20))
    k = (10 + 20 / 2) / 1e4
    # A: sell round(0.05·4000/30) = round(6.67) = 7 shares (210); proceeds 210(1 − k)
    sell = p.trades.iloc[0]
    assert (sell.symbol, sell.side, sell.quantity) == ("A", "sell", 7.0)
    assert sell.est_cost == pytest.approx(210 * k)
    # budget = 800 + 210(1 − k) − 200 (reserve) = 809.58; C first (deficit 600): ⌊600/110⌋ = 5 shares;
    # then B (deficit 200, money left 209 ≥ 200(1 + k)): ⌊200/70⌋ = 2 shares
    buys = p.trades[p.trades.side == "buy"].set_index("symbol")["quantity"].to_dict()
    assert buys == {"B": 2.0, "C": 5.0}
    c_shares = 5
    assert p.costs == pytest.approx(k * (210 + 140 + 110 * c_shares))
    assert p.cash_after >= 200 - 1e-9
    # a minimum trade value of 150 drops the B buy (140): its money stays in cash
    p = plan(inp(pos, 800.0, rows, w, reserve=0.05, band=0.02, min_trade_value=150))
    assert "B" not in p.trades.symbol.tolist()


def test_tlh_sells_loss_lot_and_buys_replacement():
    pos = {"A": (60, 100.0), "B": (40, 50.0), "B2": (0, 50.0)}
    rows = [(1, "A", "2020-01-02", 60, 80.0), (2, "B", "2024-03-01", 30, 70.0), (3, "B", "2024-01-02", 10, 45.0)]
    w = {"A": 0.75, "B": 0.25}  # V = 8,000: exactly on target, no rebalance
    p = plan(inp(pos, 0.0, rows, w, band=0.05, tlh_threshold=0.2, replacements={"B": "B2"}))
    # lot 2 lost 20/70 = 28.6 % ≥ 20 %: harvested (30 × −20 = −600 ST); lot 3 has a gain and stays
    assert p.trades[["symbol", "side", "quantity", "reason"]].values.tolist() == [
        ["B", "sell", 30.0, "tlh"],
        ["B2", "buy", 30.0, "tlh-replacement"],
    ]
    assert p.realized_short == pytest.approx(-600.0)
    assert p.after.to_dict() == pytest.approx({"A": 0.75, "B": 0.0625, "B2": 0.1875, CASH: 0.0})
    blocked = plan(
        inp(pos, 0.0, rows, w, band=0.05, tlh_threshold=0.2, replacements={"B": "B2"}, blocked_buys=frozenset({"B2"}))
    )
    assert blocked.trades.empty and "replacement B2 is blocked" in blocked.notes[0]


def test_blocked_buy_money_goes_to_next_underweight():
    pos = {"A": (80, 100.0), "B": (10, 100.0), "C": (10, 100.0)}
    rows = [(1, "A", "2020-01-02", 80, 100.0), (2, "B", "2020-01-02", 10, 100.0), (3, "C", "2020-01-02", 10, 100.0)]
    w = {"A": 0.4, "B": 0.35, "C": 0.25}
    p = plan(inp(pos, 0.0, rows, w, band=0.05, blocked_buys=frozenset({"B"})))
    # sell 40 A (4,000); B is blocked; C takes its 1,500 deficit, the other 2,500 stay in cash
    assert p.trades[["symbol", "side", "quantity"]].values.tolist() == [["A", "sell", 40.0], ["C", "buy", 15.0]]
    assert p.cash_after == pytest.approx(2500.0)
    assert any("B: buy blocked" in n for n in p.notes)


def test_deposit_buys_most_underweight_first():
    # V after deposit = 10,000 + 1,000; deficits A 0, B (0.35 − 30/110)·11,000 = 850, C (0.15 − 10/110)·11,000 = 650
    p = deploy_cash(inp(BASE_POS, 0.0, BASE_LOTS, {"A": 0.5, "B": 0.35, "C": 0.15}), 1000.0)
    assert p.trades[["symbol", "quantity"]].values.tolist() == [["B", 8.0], ["C", 1.0]]
    # budget 1,000: B 850 fully (8 shares at the floor), C gets the remaining 150 → 1 share


def test_withdrawal_sells_most_overweight_first_and_rejects_too_much():
    # withdraw 2,000 from V = 10,000: V' = 8,000; A excess 6,000 − 0.4·8,000 = 2,800 covers it → 20 A
    p = raise_cash(inp(BASE_POS, 0.0, BASE_LOTS, {"A": 0.4, "B": 0.3, "C": 0.3}), 2000.0)
    assert p.trades[["symbol", "quantity", "reason"]].values.tolist() == [["A", 20.0, "cash-reserve"]]
    assert p.lots["lot_id"].tolist() == [2] and p.cash_after == pytest.approx(0.0)
    with pytest.raises(ValueError, match=r"withdrawal of 20,000\.00 is not less than the portfolio's value"):
        raise_cash(inp(BASE_POS, 0.0, BASE_LOTS, {"A": 0.4, "B": 0.3, "C": 0.3}), 20_000.0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="no position or price for Z"):
        plan(inp(BASE_POS, 0.0, BASE_LOTS, {"A": 0.5, "Z": 0.5}))
    with pytest.raises(ValueError, match="lots of A do not add up"):
        plan(inp(BASE_POS, 0.0, BASE_LOTS[1:], {"A": 0.5, "B": 0.5}))
    with pytest.raises(ValueError, match="unknown lot method"):
        PlanSettings(lot_method="fifo")


def _independent_after(i: PlanInput, p) -> pd.Series:
    """After-weights from positions + trades + costs, without the planner's arrays."""
    qty = {s: q for s, (q, _) in i.positions.items()}
    cash = i.cash
    for r in p.trades.itertuples():
        sign = 1 if r.side == "buy" else -1
        qty[r.symbol] += sign * r.quantity
        cash -= sign * r.quantity * r.price + r.est_cost
    values = {s: qty[s] * i.positions[s][1] for s in qty}
    total = sum(values.values()) + cash
    return pd.Series({**{s: v / total for s, v in values.items()}, CASH: cash / total})


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.booleans(), st.sampled_from(["hifo", "loss_first"]), st.booleans())
def test_random_portfolios_properties(seed, fractional, method, avoid):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 8))
    syms = [f"S{j}" for j in range(n)]
    n_lots = int(rng.integers(n, 4 * n))
    lot_sym = np.r_[np.arange(n), rng.integers(0, n, n_lots - n)]
    lot_q = rng.integers(1, 50, n_lots).astype(float)
    price = rng.uniform(5, 300, n)
    rows = [
        (
            j,
            syms[s],
            str(np.datetime64("2022-01-01") + int(rng.integers(0, 1000))),
            lot_q[j],
            price[s] * rng.uniform(0.5, 1.5),
        )
        for j, s in enumerate(lot_sym)
    ]
    held = np.bincount(lot_sym, lot_q, minlength=n)
    reserve = float(rng.uniform(0, 0.1))
    w = rng.dirichlet(np.ones(n)) * (1 - reserve)
    i = inp(
        {s: (held[j], price[j]) for j, s in enumerate(syms)},
        float(rng.uniform(0, 5000)),
        rows,
        dict(zip(syms, w, strict=True)),
        reserve=reserve,
        band=float(rng.uniform(0, 0.05)),
        commission_bps=float(rng.uniform(0, 20)),
        spread_bps=float(rng.uniform(0, 20)),
        fractional=fractional,
        lot_method=method,
        avoid_short_term_gains=avoid,
        min_trade_value=float(rng.uniform(0, 200)),
    )
    p = plan(i)
    assert np.allclose(_independent_after(i, p).reindex(p.after.index), p.after, atol=1e-9)
    value_before = sum(q * px for q, px in i.positions.values()) + i.cash
    assert p.cash_after >= reserve * value_before - 1e-6
    lot_q_by_id = dict(zip(i.lots.lot_id, i.lots.quantity, strict=True))
    assert all(q <= lot_q_by_id[lid] + 1e-9 for lid, q in zip(p.lots.lot_id, p.lots.quantity, strict=True))
    sold = p.trades[p.trades.side == "sell"].groupby("symbol")["quantity"].sum()
    relieved = p.lots.groupby("symbol")["quantity"].sum()
    assert np.allclose(sold.sort_index(), relieved.reindex(sold.index).sort_index())
    assert (p.trades["value"] >= i.settings.min_trade_value - 1e-9).all()
    if not fractional:
        assert np.allclose(p.trades["quantity"], np.round(p.trades["quantity"]))
