"""Seeding is idempotent on SQLite and PostgreSQL: a second run adds nothing."""

from sqlalchemy import func
from sqlmodel import Session, select

from investment_app.auth.passwords import verify_password
from investment_app.db import get_engine
from investment_app.models.audit import AuditRecord
from investment_app.models.market import DailyBar, Symbol
from investment_app.models.portfolio import Portfolio
from investment_app.models.user import User
from investment_app.services.seed import DEMO_EMAIL, DEMO_PORTFOLIO, seed
from investment_app.settings import get_settings


def _counts(url: str) -> tuple[int, ...]:
    with Session(get_engine(url)) as db:
        return tuple(
            db.exec(select(func.count()).select_from(m)).one() for m in (Symbol, DailyBar, User, Portfolio, AuditRecord)
        )


def test_seed_twice_adds_nothing_the_second_time(db_url):
    first = seed(db_url)
    after_first = _counts(db_url)
    second = seed(db_url)
    assert first.demo_user_created and first.demo_transactions_added > 300 and first.bars_added > 140_000
    assert (second.symbols_added, second.bars_added, second.demo_user_created, second.demo_transactions_added) == (
        0,
        0,
        False,
        0,
    )
    assert _counts(db_url) == after_first
    assert after_first[:4] == (20, first.bars_added, 1, 1)


def test_demo_account_owns_the_demo_portfolio(db_url):
    seed(db_url)
    with Session(get_engine(db_url)) as db:
        user = db.exec(select(User).where(User.email == DEMO_EMAIL)).one()
        portfolio = db.exec(select(Portfolio).where(Portfolio.owner_id == user.id)).one()
    assert portfolio.name == DEMO_PORTFOLIO and portfolio.benchmark_symbol == "SPY"
    assert verify_password(user.password_hash, get_settings().demo_password)
