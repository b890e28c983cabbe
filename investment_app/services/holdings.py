"""Holdings with their open tax lots, and realized gains by tax year, for one portfolio.

Conventions (the same as ``ledger/lots.py`` and ``ledger/valuation.py``):
- Everything is as of the last valued day of the portfolio's snapshot (``as_of``), priced at that
  day's close (split-adjusted, so quantities are in today's share units; a stale or missing price is
  carried as the valuation carries it and the holding is flagged ``stale``).
- A lot's cost is quantity × unit cost and includes the buy's fees; value = quantity × price;
  unrealized gain = value − cost; unrealized % = unrealized / cost (0 when the cost is 0).
- Holding period: long term when ``as_of`` (for an open lot) or the sale date (for a realized lot)
  is after the lot's one-year anniversary, i.e. the day after the anniversary or later; short term
  otherwise (IRS Pub. 550). A lot opened on 29 February has its anniversary on 28 February.
- A realized row is the part of one sale that relieved one lot: proceeds (quantity × price − the
  sale's fees, shared by quantity) − cost = gain. Its tax year is the calendar year of the sale.
- Money is summed in Decimal and handed out as float.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from investment_app.auth.viewer import Viewer
from investment_app.ledger.entries import ZERO
from investment_app.ledger.lots import Lot, Realized, long_term_from
from investment_app.models.market import Symbol
from investment_app.services import performance


@dataclass(frozen=True)
class LotRow:
    """One open lot of a holding."""

    lot_id: int
    opened: dt.date
    quantity: float
    unit_cost: float
    cost: float
    value: float
    unrealized: float
    unrealized_pct: float
    long_term: bool
    long_term_from: dt.date
    """The first day on which a sale would be long term."""


@dataclass(frozen=True)
class HoldingRow:
    """One position and its open lots (oldest first)."""

    symbol: str
    name: str
    quantity: float
    price: float
    value: float
    cost: float
    unrealized: float
    unrealized_pct: float
    stale: bool
    lots: list[LotRow]


@dataclass(frozen=True)
class TaxYear:
    """Realized gains of one calendar year, split by holding period."""

    year: int
    short_term: float
    long_term: float
    total: float
    proceeds: float
    cost: float


@dataclass(frozen=True)
class RealizedRow:
    """The part of one sale that relieved one lot."""

    sell_id: int
    lot_id: int
    symbol: str
    opened: dt.date
    closed: dt.date
    quantity: float
    proceeds: float
    cost: float
    gain: float
    long_term: bool


@dataclass(frozen=True)
class HoldingsReport:
    """Everything the holdings page shows; years and realized lots newest first."""

    as_of: dt.date
    holdings: list[HoldingRow]
    tax_years: list[TaxYear]
    realized: list[RealizedRow]


def _ratio(gain: float, cost: float) -> float:
    return gain / cost if cost else 0.0


def _lot_row(lot: Lot, price: Decimal, as_of: dt.date) -> LotRow:
    value = lot.quantity * price
    starts = long_term_from(lot.opened)
    return LotRow(
        lot.lot_id,
        lot.opened,
        float(lot.quantity),
        float(lot.unit_cost),
        float(lot.cost),
        float(value),
        float(value - lot.cost),
        _ratio(float(value - lot.cost), float(lot.cost)),
        as_of >= starts,
        starts,
    )


def _holdings(db: Session, snap: performance.Snapshot, as_of: dt.date) -> list[HoldingRow]:
    v, book = snap.valuation, snap.book
    names = dict(db.exec(select(Symbol.symbol, Symbol.name).where(col(Symbol.symbol).in_(v.symbols))).all())
    rows = []
    for j, symbol in enumerate(v.symbols):
        lots = sorted(book.open_lots.get(symbol, []), key=lambda lot: (lot.opened, lot.lot_id))
        quantity = sum((lot.quantity for lot in lots), ZERO)
        if not quantity:
            continue
        price = Decimal(repr(float(v.prices[-1, j])))
        cost = sum((lot.cost for lot in lots), ZERO)
        value = quantity * price
        rows.append(
            HoldingRow(
                symbol,
                names.get(symbol) or symbol,
                float(quantity),
                float(price),
                float(value),
                float(cost),
                float(value - cost),
                _ratio(float(value - cost), float(cost)),
                bool(v.stale[-1, j] or v.at_cost[-1, j]),
                [_lot_row(lot, price, as_of) for lot in lots],
            )
        )
    return sorted(rows, key=lambda h: (-h.value, h.symbol))


def _realized_row(r: Realized) -> RealizedRow:
    return RealizedRow(
        r.sell_id,
        r.lot_id,
        r.symbol,
        r.opened,
        r.closed,
        float(r.quantity),
        float(r.proceeds),
        float(r.cost),
        float(r.gain),
        r.long_term,
    )


def tax_years(realized: list[Realized]) -> list[TaxYear]:
    """Realized gains summed per calendar year of the sale, newest year first."""
    sums: dict[int, dict[str, Decimal]] = {}
    for r in realized:
        year = sums.setdefault(r.closed.year, {"short": ZERO, "long": ZERO, "proceeds": ZERO, "cost": ZERO})
        year["long" if r.long_term else "short"] += r.gain
        year["proceeds"] += r.proceeds
        year["cost"] += r.cost
    return [
        TaxYear(
            year,
            float(s["short"]),
            float(s["long"]),
            float(s["short"] + s["long"]),
            float(s["proceeds"]),
            float(s["cost"]),
        )
        for year, s in sorted(sums.items(), reverse=True)
    ]


def holdings(db: Session, viewer: Viewer, portfolio_id: int) -> HoldingsReport:
    """Holdings, open lots and realized gains of a portfolio the viewer can read.

    Raises InvalidInput when the portfolio has no transactions yet (see ``performance.snapshot``).
    """
    snap = performance.snapshot(db, viewer, portfolio_id)
    as_of = snap.valuation.dates[-1].date()
    realized = sorted(snap.book.realized, key=lambda r: (r.closed, r.sell_id, r.lot_id), reverse=True)
    return HoldingsReport(
        as_of=as_of,
        holdings=_holdings(db, snap, as_of),
        tax_years=tax_years(realized),
        realized=[_realized_row(r) for r in realized],
    )
