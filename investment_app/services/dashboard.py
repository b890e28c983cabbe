"""The dashboard's numbers for one portfolio: summary, returns by period, holdings, allocation, charts.

Gains: total gain = end value − net external flows = realized + unrealized + income − fees paid
outside trades (trade fees are in the lots' cost and the sales' proceeds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlmodel import Session, col, select

from investment_app.analytics.returns import daily_returns
from investment_app.auth.viewer import Viewer
from investment_app.ledger.performance import PeriodResult
from investment_app.models.market import Symbol
from investment_app.models.portfolio import Account
from investment_app.models.transaction import Transaction, TxType
from investment_app.services import performance, portfolios


@dataclass(frozen=True)
class Holding:
    """One position on the last valued day (quantities in today's share units)."""

    symbol: str
    name: str
    sector: str
    quantity: float
    price: float
    value: float
    weight: float
    day_change: float
    day_change_pct: float
    cost: float
    unrealized: float
    unrealized_pct: float
    stale: bool


@dataclass(frozen=True)
class Summary:
    """The headline figures."""

    as_of: str
    total_value: float
    cash: float
    day_change: float
    day_change_pct: float
    net_flows: float
    total_gain: float
    realized: float
    unrealized: float
    income: float
    warnings: list[str]


@dataclass(frozen=True)
class Series:
    """Daily series for the charts: value, money put in, and growth of 100 for portfolio and benchmark."""

    dates: list[str]
    value: list[float]
    invested: list[float]
    growth: list[float]
    benchmark_growth: list[float]


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows."""

    summary: Summary
    periods: list[PeriodResult]
    holdings: list[Holding]
    sectors: dict[str, float]
    series: Series
    recent: list[dict[str, str]] = field(default_factory=list)
    benchmark: str = "SPY"


def _holdings(db: Session, snap: performance.Snapshot) -> list[Holding]:
    v, book = snap.valuation, snap.book
    names = {s.symbol: s for s in db.exec(select(Symbol).where(col(Symbol.symbol).in_(v.symbols))).all()}
    total = float(v.total[-1]) or 1.0
    previous = v.prices[-2] if len(v.dates) > 1 else v.prices[-1]
    rows = []
    for j, symbol in enumerate(v.symbols):
        lots = book.open_lots.get(symbol, [])
        quantity = float(sum(lot.quantity for lot in lots))
        if not quantity:
            continue
        price, cost = float(v.prices[-1, j]), float(sum(lot.cost for lot in lots))
        value = quantity * price
        change = quantity * (price - float(previous[j]))
        meta = names.get(symbol)
        rows.append(
            Holding(
                symbol,
                meta.name if meta else symbol,
                (meta.gics_sector if meta else "") or "Other",
                quantity,
                price,
                value,
                value / total,
                change,
                change / (value - change) if value != change else 0.0,
                cost,
                value - cost,
                (value - cost) / cost if cost else 0.0,
                bool(v.stale[-1, j] or v.at_cost[-1, j]),
            )
        )
    return sorted(rows, key=lambda h: -h.value)


def _summary(snap: performance.Snapshot, holdings: list[Holding]) -> Summary:
    v = snap.valuation
    total, flows = float(v.total[-1]), float(v.net_flow.sum())
    change = float(v.total[-1] - (v.total[-2] if len(v.total) > 1 else 0.0) - v.net_flow[-1])
    base = float(v.total[-2] + v.net_flow[-1]) if len(v.total) > 1 else 0.0
    warnings = [f"{h.symbol}: no recent price; valued at its last known price or at cost" for h in holdings if h.stale]
    return Summary(
        as_of=v.dates[-1].date().isoformat(),
        total_value=total,
        cash=float(v.cash[-1]),
        day_change=change,
        day_change_pct=change / base if base > 0 else 0.0,
        net_flows=flows,
        total_gain=total - flows,
        realized=float(sum(r.gain for r in snap.book.realized)),
        unrealized=sum(h.unrealized for h in holdings),
        income=float(v.income.sum()),
        warnings=warnings,
    )


def _series(snap: performance.Snapshot) -> Series:
    v = snap.valuation
    growth = 100.0 * np.cumprod(1.0 + daily_returns(v.total, v.net_flow))
    bench = snap.benchmark.reindex(v.dates).ffill().bfill().to_numpy()
    return Series(
        dates=[d.date().isoformat() for d in v.dates],
        value=np.round(v.total, 2).tolist(),
        invested=np.round(np.cumsum(v.net_flow), 2).tolist(),
        growth=np.round(growth, 4).tolist(),
        benchmark_growth=np.round(100.0 * bench / bench[0], 4).tolist() if len(bench) else [],
    )


def _recent(db: Session, portfolio_id: int, count: int = 8) -> list[dict[str, str]]:
    stmt = (
        select(Transaction, Account.name)
        .join(Account, col(Account.id) == Transaction.account_id)
        .where(Transaction.portfolio_id == portfolio_id)
        .order_by(col(Transaction.trade_date).desc(), col(Transaction.id).desc())
        .limit(count)
    )
    return [
        {
            "date": t.trade_date.isoformat(),
            "type": t.type.value,
            "symbol": t.symbol or "",
            "detail": _detail(t),
            "account": account,
        }
        for t, account in db.exec(stmt).all()
    ]


def _detail(t: Transaction) -> str:
    if t.type is TxType.SPLIT:
        return f"{t.ratio.normalize():f}-for-1"
    if t.quantity:
        return f"{t.quantity.normalize():f} @ {t.price:,.2f}"
    return f"{t.amount:,.2f}"


def dashboard(db: Session, viewer: Viewer, portfolio_id: int) -> Dashboard:
    """The dashboard of a portfolio the viewer can read."""
    portfolio = portfolios.readable(db, viewer, portfolio_id)
    snap = performance.snapshot(db, viewer, portfolio_id)
    holdings = _holdings(db, snap)
    sectors: dict[str, float] = {}
    for h in holdings:
        sectors[h.sector] = sectors.get(h.sector, 0.0) + h.value
    sectors["Cash"] = float(snap.valuation.cash[-1])
    return Dashboard(
        summary=_summary(snap, holdings),
        periods=performance.periods(db, viewer, portfolio_id),
        holdings=holdings,
        sectors=sectors,
        series=_series(snap),
        recent=_recent(db, portfolio_id),
        benchmark=portfolio.benchmark_symbol,
    )
