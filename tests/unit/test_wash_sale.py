"""Wash sales: IRS Pub. 550's examples, window edges, identical groups, two portfolios, against a plain loop."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from investment_app.analytics.wash_sale import blocked_buys, wash_sale_violations

DAY0 = dt.date(2024, 1, 2)


def tx(*rows):
    """rows: (portfolio_id, day offset, symbol, side, quantity, gain)."""
    return pd.DataFrame(
        [(p, DAY0 + dt.timedelta(days=d), s, side, q, g) for p, d, s, side, q, g in rows],
        columns=["portfolio_id", "date", "symbol", "side", "quantity", "gain"],
    )


def washed(t, groups=None):
    return wash_sale_violations(t, groups)[["symbol", "washed"]].values.tolist()


@pytest.mark.parametrize(("rebuy_day", "expected"), [(25, [["XYZ", 100.0]]), (41, []), (40, [["XYZ", 100.0]])])
def test_pub_550_buy_sell_rebuy(rebuy_day, expected):
    # buy 100 on day 0, sell at a loss on day 10; a buy on day 25 (15 days after) washes it, day 41 does not,
    # day 40 is exactly 30 days after: still in the window
    t = tx(
        (1, 0, "XYZ", "buy", 100, np.nan),
        (1, 10, "XYZ", "sell", 100, -500.0),
        (1, rebuy_day, "XYZ", "buy", 100, np.nan),
    )
    assert washed(t) == expected


def test_window_before_edges_and_doubling_up():
    # hold 100 from long ago, buy 100 more, sell the old 100 at a loss: the new 100 wash it when bought within 30 days
    for buy_day, expected in ((70, [["XYZ", 100.0]]), (69, [])):  # sale on day 100: day 70 is 30 days before
        t = tx(
            (1, 0, "XYZ", "buy", 100, np.nan),
            (1, buy_day, "XYZ", "buy", 100, np.nan),
            (1, 100, "XYZ", "sell", 100, -1.0),
        )
        assert washed(t) == expected


def test_gain_sale_is_never_washed_and_partial_replacement():
    t = tx((1, 0, "A", "sell", 100, 50.0), (1, 5, "A", "buy", 100, np.nan))
    assert washed(t) == []
    t = tx((1, 0, "A", "buy", 100, np.nan), (1, 10, "A", "sell", 100, -1.0), (1, 12, "A", "buy", 40, np.nan))
    assert washed(t) == [["A", 40.0]]


def test_identical_group_and_other_portfolio():
    t = tx((1, 0, "VOO", "buy", 10, np.nan), (1, 10, "VOO", "sell", 10, -80.0), (2, 20, "IVV", "buy", 10, np.nan))
    assert washed(t) == []  # different symbols, not declared identical
    out = wash_sale_violations(t, {"VOO": ["IVV"]})
    assert out[["portfolio_id", "symbol", "washed"]].values.tolist() == [[1, "VOO", 10.0]]


def test_blocked_buys_window():
    t = tx((1, 0, "VOO", "buy", 10, np.nan), (2, 10, "VOO", "sell", 10, -80.0), (1, 10, "MSFT", "sell", 5, 30.0))
    groups = {"VOO": ["IVV", "SPLG"]}
    assert blocked_buys(t, DAY0 + dt.timedelta(days=40), groups) == {"VOO", "IVV", "SPLG"}  # 30 days after: in
    assert blocked_buys(t, DAY0 + dt.timedelta(days=41), groups) == set()  # 31 days: out
    assert blocked_buys(t, DAY0 + dt.timedelta(days=12)) == {"VOO"}  # gain sale of MSFT blocks nothing


def test_bad_input():
    with pytest.raises(ValueError, match="side must be buy or sell"):
        wash_sale_violations(tx((1, 0, "A", "hold", 1, np.nan)))
    with pytest.raises(ValueError, match="lack the column"):
        wash_sale_violations(pd.DataFrame({"symbol": ["A"]}))


def loop_reference(t: pd.DataFrame, window: int = 30) -> list[float]:
    """The module doc's rule, one loss sale at a time with plain Python (no groups)."""
    out = []
    for sale in t.itertuples():
        if sale.side != "sell" or not sale.gain < 0:
            continue
        mine = t[t.symbol == sale.symbol]
        lag = np.array([(d - sale.date).days for d in mine.date])
        buys = (mine.side == "buy").to_numpy()
        held = max(sum(q if b else -q for q, b, g in zip(mine.quantity, buys, lag, strict=True) if g < -window), 0)
        before = mine.quantity[buys & (lag >= -window) & (lag <= 0)].sum()
        after = mine.quantity[buys & (lag > 0) & (lag <= window)].sum()
        out.append(min(sale.quantity, after + max(before - max(sale.quantity - held, 0), 0)))
    return out


def test_random_against_loop():
    rng = np.random.default_rng(3)
    n = 400
    sides = rng.choice(["buy", "sell"], n)
    t = tx(
        *[
            (
                int(rng.integers(1, 4)),
                int(rng.integers(0, 365)),
                str(rng.choice(["A", "B", "C"])),
                s,
                float(rng.integers(1, 50)),
                np.nan if s == "buy" else float(rng.normal()),
            )
            for s in sides
        ]
    )
    ref = np.array(loop_reference(t))
    out = wash_sale_violations(t)
    assert np.allclose(np.sort(out["washed"]), np.sort(ref[ref > 0]))
