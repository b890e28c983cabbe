"""What the dashboard shows until the ledger fills it: the viewer's portfolios and the price store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from investment_app.auth.viewer import Viewer
from investment_app.models.market import DailyBar, Symbol
from investment_app.models.portfolio import Portfolio


@dataclass(frozen=True)
class PortfolioCard:
    """A portfolio as listed on the dashboard."""

    id: int
    name: str
    benchmark: str
    currency: str


@dataclass(frozen=True)
class Overview:
    """The viewer's portfolios and a summary of the market data available."""

    portfolios: list[PortfolioCard]
    symbols: int
    bars: int
    first_date: str
    last_date: str


def overview(db: Session, viewer: Viewer) -> Overview:
    """The viewer's own portfolios (never anyone else's) and the price store's coverage."""
    rows = db.exec(select(Portfolio).where(Portfolio.owner_id == viewer.user_id).order_by(col(Portfolio.name))).all()
    symbols = db.exec(select(func.count()).select_from(Symbol)).one()
    bars, first, last = db.exec(select(func.count(), func.min(DailyBar.date), func.max(DailyBar.date))).one()
    return Overview(
        [PortfolioCard(p.id, p.name, p.benchmark_symbol, p.base_currency) for p in rows],
        symbols,
        bars,
        str(first or "—"),
        str(last or "—"),
    )
