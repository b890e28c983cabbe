"""Lot relief by FIFO, LIFO, HIFO and specific identification, against hand-worked cases."""

import datetime as dt
from decimal import Decimal as D

import pytest

from investment_app.ledger.entries import Entry
from investment_app.ledger.lots import LedgerError, build_lots
from investment_app.models.portfolio import CostBasisMethod as M
from investment_app.models.transaction import TxType as T

# Three buys of XYZ: 10 @ 100 (fee 1), 10 @ 120, 10 @ 90; then a sale of 15 @ 130 with a 3 fee.
BUYS = [
    Entry(1, dt.date(2020, 1, 2), T.BUY, "XYZ", D(10), D(100), D(1)),
    Entry(2, dt.date(2020, 6, 1), T.BUY, "XYZ", D(10), D(120)),
    Entry(3, dt.date(2021, 3, 1), T.BUY, "XYZ", D(10), D(90)),
]
SALE = Entry(4, dt.date(2021, 3, 15), T.SELL, "XYZ", D(15), D(130), D(3))


def _relieved(method, picks=None):
    book = build_lots([*BUYS, SALE], method, picks)
    return [(r.lot_id, r.quantity, r.cost) for r in book.realized], book


def test_fifo_relieves_oldest_first_with_fees_in_cost():
    relieved, book = _relieved(M.FIFO)
    assert relieved == [(1, D(10), D(1001)), (2, D(5), D(600))]
    # proceeds 15 × 130 − 3 = 1947, shared by quantity: 1298 and 649
    assert [r.proceeds for r in book.realized] == [D(1298), D(649)]
    assert sum(r.gain for r in book.realized) == D(1947) - D(1601)
    assert [(lot.lot_id, lot.quantity) for lot in book.open_lots["XYZ"]] == [(2, D(5)), (3, D(10))]


def test_lifo_relieves_newest_first():
    relieved, _ = _relieved(M.LIFO)
    assert relieved == [(3, D(10), D(900)), (2, D(5), D(600))]


def test_hifo_relieves_highest_cost_first():
    relieved, _ = _relieved(M.HIFO)
    assert relieved == [(2, D(10), D(1200)), (1, D(5), D("500.5"))]


def test_specific_identification_uses_the_picks():
    relieved, _ = _relieved(M.SPECIFIC, {4: [(3, D(10)), (1, D(5))]})
    assert relieved == [(3, D(10), D(900)), (1, D(5), D("500.5"))]


def test_picks_that_do_not_add_up_are_refused():
    with pytest.raises(LedgerError, match="do not add up"):
        build_lots([*BUYS, SALE], M.SPECIFIC, {4: [(3, D(10))]})
    with pytest.raises(LedgerError, match="does not hold"):
        build_lots([*BUYS, SALE], M.SPECIFIC, {4: [(3, D(12)), (1, D(3))]})


def test_holding_period_short_up_to_one_year_long_after():
    _, book = _relieved(M.FIFO)
    assert [r.long_term for r in book.realized] == [True, False]  # 2020-01-02 → 2021-03-15 is long
    on_anniversary = build_lots([BUYS[0], Entry(9, dt.date(2021, 1, 2), T.SELL, "XYZ", D(1), D(1))]).realized[0]
    day_after = build_lots([BUYS[0], Entry(9, dt.date(2021, 1, 3), T.SELL, "XYZ", D(1), D(1))]).realized[0]
    assert not on_anniversary.long_term and day_after.long_term


def test_split_multiplies_quantity_keeps_cost_and_dates():
    split = Entry(5, dt.date(2021, 4, 1), T.SPLIT, "XYZ", ratio=D(4))
    book = build_lots([*BUYS, SALE, split])
    assert [(lot.lot_id, lot.quantity, lot.cost, lot.opened) for lot in book.open_lots["XYZ"]] == [
        (2, D(20), D(600), dt.date(2020, 6, 1)),
        (3, D(40), D(900), dt.date(2021, 3, 1)),
    ]
    after = Entry(6, dt.date(2021, 5, 1), T.SELL, "XYZ", D(30), D(40))
    relieved = build_lots([*BUYS, SALE, split, after]).realized[-2:]
    assert [(r.lot_id, r.quantity, r.cost) for r in relieved] == [(2, D(20), D(600)), (3, D(10), D(225))]


def test_fractional_shares():
    book = build_lots(
        [
            Entry(1, dt.date(2020, 1, 2), T.BUY, "XYZ", D("0.125"), D(800)),
            Entry(2, dt.date(2020, 2, 2), T.SELL, "XYZ", D("0.05"), D(1000)),
        ]
    )
    assert book.quantity("XYZ") == D("0.075") and book.realized[0].gain == D(10)


def test_selling_more_than_held_names_the_problem():
    with pytest.raises(LedgerError, match=r"sell of 31 XYZ on 2021-03-15 exceeds the 30 held"):
        build_lots([*BUYS, Entry(4, dt.date(2021, 3, 15), T.SELL, "XYZ", D(31), D(130))])


def test_transfer_out_relieves_without_realized_gain():
    book = build_lots([*BUYS, Entry(4, dt.date(2021, 3, 15), T.TRANSFER_OUT, "XYZ", D(15))])
    assert book.realized == [] and book.quantity("XYZ") == D(15)
    assert sum(change for _, change in book.cost_changes) == D(1500)  # 3101 opened − 1601 relieved
