"""Holdings, open lots and realized gains by tax year, checked against numbers worked out by hand.

The ledger (FIFO, prices from the bundled dataset, whose last day is 2024-11-29):

    2020-01-03 buy AAPL 10 @ 300 + 1 fee   lot A: unit cost 300.10, cost 3001.00
    2020-03-02 buy JPM   5 @ 120           lot J: unit cost 120, cost 600
    2020-06-01 sell AAPL 4 @ 320 − 1 fee   A: proceeds 1279, cost 1200.40, gain 78.60, short (2020)
    2020-08-31 split AAPL 4-for-1          A: 6 → 24 shares at 75.025
    2021-01-04 sell AAPL 8 @ 130           A: proceeds 1040, cost 600.20, gain 439.80, long (anniversary 2021-01-03)
    2021-02-01 sell JPM 2 @ 130            J: proceeds 260, cost 240, gain 20, short
    2021-03-02 sell JPM 1 @ 140            J: proceeds 140, cost 120, gain 20, short (on the anniversary itself)
    2021-03-03 sell JPM 1 @ 150            J: proceeds 150, cost 120, gain 30, long (the day after)
    2023-11-28 buy AAPL 2 @ 190            lot B: long on 2024-11-29 (the day after its anniversary)
    2023-11-29 buy AAPL 3 @ 189            lot C: short on 2024-11-29 (its anniversary), long from 2024-11-30

Tax years: 2021 short 40.00, long 469.80, total 509.80; 2020 short 78.60, long 0, total 78.60.
"""

import datetime as dt

import pytest
from sqlmodel import Session

from investment_app.db import get_engine
from investment_app.marketdata.bundled import load_bundled
from investment_app.models.user import Role
from investment_app.services import accounts, holdings, performance, portfolios, sharing, transactions
from investment_app.services.errors import Forbidden, InvalidInput

AS_OF = dt.date(2024, 11, 29)
AAPL_CLOSE = 237.3300018310547  # bundled pypfopt_stock_prices_1990_2024.csv, 2024-11-29
JPM_CLOSE = 249.72000122070312  # same file, same day

LEDGER = """date,type,symbol,quantity,price,fees,amount
2020-01-02,deposit,,,,,100000
2020-01-03,buy,AAPL,10,300,1,
2020-03-02,buy,JPM,5,120,0,
2020-06-01,sell,AAPL,4,320,1,
2020-08-31,split,AAPL,4,,,
2021-01-04,sell,AAPL,8,130,0,
2021-02-01,sell,JPM,2,130,0,
2021-03-02,sell,JPM,1,140,0,
2021-03-03,sell,JPM,1,150,0,
2023-11-28,buy,AAPL,2,190,0,
2023-11-29,buy,AAPL,3,189,0,
"""


@pytest.fixture
def setup(db_url):
    """An analyst owning portfolio P with the ledger above, and a second user."""
    load_bundled(db_url)
    performance._cache.clear()  # snapshots are cached by portfolio id and versions, not by database
    with Session(get_engine(db_url), expire_on_commit=False) as db:
        owner = accounts.create_user(db, "owner@example.com", "correct horse 42", role=Role.ANALYST)
        accounts.create_user(db, "friend@example.com", "correct horse 42", role=Role.VIEWER)
        viewer = accounts.acting_as(db, owner.email)
        pid = portfolios.create(db, viewer, "P").id
        db.commit()
        transactions.import_csv(db, viewer, pid, LEDGER.encode())
        db.commit()
        yield db, viewer, pid
    performance._cache.clear()


def test_bundled_closes_used_below(setup):
    db, viewer, pid = setup
    v = performance.snapshot(db, viewer, pid).valuation
    assert v.dates[-1].date() == AS_OF
    assert v.prices[-1, v.symbols.index("AAPL")] == AAPL_CLOSE
    assert v.prices[-1, v.symbols.index("JPM")] == JPM_CLOSE


def test_open_lots_with_holding_period_as_of_the_last_valued_day(setup):
    db, viewer, pid = setup
    report = holdings.holdings(db, viewer, pid)
    assert report.as_of == AS_OF
    aapl, jpm = report.holdings
    assert (aapl.symbol, jpm.symbol) == ("AAPL", "JPM")

    lots = [(lot.opened, lot.quantity, lot.unit_cost, lot.cost, lot.long_term) for lot in aapl.lots]
    assert lots == [
        (dt.date(2020, 1, 3), 16.0, 75.025, pytest.approx(1200.40), True),
        (dt.date(2023, 11, 28), 2.0, 190.0, 380.0, True),
        (dt.date(2023, 11, 29), 3.0, 189.0, 567.0, False),
    ]
    assert [lot.long_term_from for lot in aapl.lots] == [
        dt.date(2021, 1, 4),
        dt.date(2024, 11, 29),
        dt.date(2024, 11, 30),
    ]
    for lot in aapl.lots:
        assert lot.value == pytest.approx(lot.quantity * AAPL_CLOSE)
        assert lot.unrealized == pytest.approx(lot.quantity * AAPL_CLOSE - lot.cost)
        assert lot.unrealized_pct == pytest.approx((lot.quantity * AAPL_CLOSE - lot.cost) / lot.cost)

    assert aapl.quantity == 21.0 and aapl.price == pytest.approx(AAPL_CLOSE)
    assert aapl.cost == pytest.approx(1200.40 + 380 + 567)
    assert aapl.value == pytest.approx(21 * AAPL_CLOSE)
    assert aapl.unrealized == pytest.approx(21 * AAPL_CLOSE - 2147.40)
    assert aapl.name == "Apple Inc." and not aapl.stale

    (j_lot,) = jpm.lots
    assert (j_lot.opened, j_lot.quantity, j_lot.cost, j_lot.long_term) == (dt.date(2020, 3, 2), 1.0, 120.0, True)
    assert jpm.unrealized == pytest.approx(JPM_CLOSE - 120)


def test_realized_gains_by_tax_year_and_term(setup):
    db, viewer, pid = setup
    report = holdings.holdings(db, viewer, pid)
    years = [(y.year, y.short_term, y.long_term, y.total) for y in report.tax_years]
    assert years == [
        (2021, pytest.approx(40.0), pytest.approx(469.80), pytest.approx(509.80)),
        (2020, pytest.approx(78.60), 0.0, pytest.approx(78.60)),
    ]
    assert [(y.proceeds, y.cost) for y in report.tax_years] == [
        (pytest.approx(1040 + 260 + 140 + 150), pytest.approx(600.20 + 240 + 120 + 120)),
        (pytest.approx(1279.0), pytest.approx(1200.40)),
    ]
    detail = [(r.closed, r.symbol, r.quantity, r.proceeds, r.cost, r.gain, r.long_term) for r in report.realized]
    assert detail == [
        (dt.date(2021, 3, 3), "JPM", 1.0, 150.0, 120.0, 30.0, True),
        (dt.date(2021, 3, 2), "JPM", 1.0, 140.0, 120.0, 20.0, False),
        (dt.date(2021, 2, 1), "JPM", 2.0, 260.0, 240.0, 20.0, False),
        (dt.date(2021, 1, 4), "AAPL", 8.0, 1040.0, pytest.approx(600.20), pytest.approx(439.80), True),
        (dt.date(2020, 6, 1), "AAPL", 4.0, 1279.0, pytest.approx(1200.40), pytest.approx(78.60), False),
    ]
    assert {r.opened for r in report.realized if r.symbol == "AAPL"} == {dt.date(2020, 1, 3)}


def test_long_term_starts_the_day_after_the_anniversary():
    assert holdings.long_term_from(dt.date(2023, 11, 29)) == dt.date(2024, 11, 30)
    assert holdings.long_term_from(dt.date(2020, 2, 29)) == dt.date(2021, 3, 1)  # anniversary 28 February
    assert holdings.long_term_from(dt.date(2023, 12, 31)) == dt.date(2025, 1, 1)


def test_read_access_and_sharing(setup):
    db, viewer, pid = setup
    assert sharing.shares(db, viewer, pid) == []
    portfolios.share(db, viewer, pid, "friend@example.com")
    db.commit()
    (row,) = sharing.shares(db, viewer, pid)
    assert row.email == "friend@example.com" and row.user_id > 0 and len(row.since) == 10

    friend = accounts.acting_as(db, "friend@example.com")
    assert [h.symbol for h in holdings.holdings(db, friend, pid).holdings] == ["AAPL", "JPM"]
    with pytest.raises(Forbidden, match="read-only"):
        sharing.shares(db, friend, pid)

    portfolios.unshare(db, viewer, pid, row.user_id)
    db.commit()
    assert sharing.shares(db, viewer, pid) == []
    with pytest.raises(Forbidden, match="No such portfolio"):
        holdings.holdings(db, friend, pid)


def test_a_portfolio_without_transactions_is_reported_as_empty(setup):
    db, viewer, _ = setup
    empty = portfolios.create(db, viewer, "Empty").id
    db.commit()
    with pytest.raises(InvalidInput, match="has no transactions"):
        holdings.holdings(db, viewer, empty)
