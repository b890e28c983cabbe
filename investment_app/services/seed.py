"""Seeding: the bundled market data, the demo account and its `Demo` portfolio. Idempotent."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlmodel import select

from investment_app.db import session_scope
from investment_app.marketdata.bundled import load_bundled
from investment_app.models.portfolio import Portfolio
from investment_app.models.user import Role, User
from investment_app.services import accounts, audit
from investment_app.settings import get_settings

DEMO_EMAIL = "demo@example.com"
DEMO_PORTFOLIO = "Demo"


@dataclass(frozen=True)
class SeedReport:
    """What one seed run added."""

    symbols_added: int
    bars_added: int
    demo_user_created: bool
    demo_portfolio_created: bool
    seconds: float

    def summary(self) -> str:
        return (
            f"seed: {self.symbols_added} symbols and {self.bars_added} daily bars added, demo account "
            f"{'created' if self.demo_user_created else 'present'}, portfolio '{DEMO_PORTFOLIO}' "
            f"{'created' if self.demo_portfolio_created else 'present'} ({self.seconds:.2f} s)"
        )


def _ensure_demo(url: str | None) -> tuple[bool, bool]:
    with session_scope(url) as db:
        user = db.exec(select(User).where(User.email == DEMO_EMAIL)).first()
        user_created = user is None
        if user is None:
            user = accounts.create_user(
                db, DEMO_EMAIL, get_settings().demo_password, "Demo Investor", role=Role.ANALYST
            )
        portfolio = db.exec(
            select(Portfolio).where(Portfolio.owner_id == user.id, Portfolio.name == DEMO_PORTFOLIO)
        ).first()
        portfolio_created = portfolio is None
        if portfolio is None:
            portfolio = Portfolio(owner_id=user.id, name=DEMO_PORTFOLIO)
            db.add(portfolio)
            db.flush()
            audit.record(
                db,
                None,
                "portfolio.create",
                "portfolio",
                portfolio.id,
                after={"name": DEMO_PORTFOLIO, "owner": DEMO_EMAIL},
            )
        return user_created, portfolio_created


def seed(url: str | None = None) -> SeedReport:
    """Load what is missing of the bundled dataset, then the demo account and portfolio."""
    started = time.perf_counter()
    market = load_bundled(url)
    user_created, portfolio_created = _ensure_demo(url)
    return SeedReport(
        market.symbols_added, market.bars_added, user_created, portfolio_created, time.perf_counter() - started
    )
