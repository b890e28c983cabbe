"""Seeding: the bundled market data, the demo account and its `Demo` portfolio. Idempotent."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlmodel import select

from investment_app.db import get_engine, session_scope
from investment_app.marketdata.bundled import load_bundled
from investment_app.marketdata.store import price_frame
from investment_app.models.portfolio import Portfolio
from investment_app.models.user import Role, User
from investment_app.services import accounts, portfolios, transactions
from investment_app.services.demo import END, START, SYMBOLS, demo_transactions
from investment_app.settings import get_settings

DEMO_EMAIL = "demo@example.com"
DEMO_PORTFOLIO = "Demo"


@dataclass(frozen=True)
class SeedReport:
    """What one seed run added."""

    symbols_added: int
    bars_added: int
    demo_user_created: bool
    demo_transactions_added: int
    seconds: float

    def summary(self) -> str:
        return (
            f"seed: {self.symbols_added} symbols and {self.bars_added} daily bars added, demo account "
            f"{'created' if self.demo_user_created else 'present'}, {self.demo_transactions_added} demo "
            f"transactions added ({self.seconds:.2f} s)"
        )


def _ensure_demo(url: str | None) -> tuple[bool, int]:
    prices = price_frame(get_engine(url), SYMBOLS, START, END, field="close")
    with session_scope(url) as db:
        user = db.exec(select(User).where(User.email == DEMO_EMAIL)).first()
        created = user is None
        if user is None:
            accounts.create_user(db, DEMO_EMAIL, get_settings().demo_password, "Demo Investor", role=Role.ANALYST)
        viewer = accounts.acting_as(db, DEMO_EMAIL)
        portfolio = db.exec(
            select(Portfolio).where(Portfolio.owner_id == viewer.user_id, Portfolio.name == DEMO_PORTFOLIO)
        ).first() or portfolios.create(db, viewer, DEMO_PORTFOLIO)
        report = transactions.import_rows(db, viewer, portfolio.id, demo_transactions(prices))
        return created, report.added


def seed(url: str | None = None) -> SeedReport:
    """Load what is missing of the bundled dataset, then the demo account and its transactions."""
    started = time.perf_counter()
    market = load_bundled(url)
    user_created, added = _ensure_demo(url)
    return SeedReport(market.symbols_added, market.bars_added, user_created, added, time.perf_counter() - started)
