"""Portfolio use cases and the access rule every other service relies on.

Reading a portfolio needs ownership or a read-only share; changing it needs ownership and at
least the analyst role. A portfolio the viewer may not read is reported as not found, so its
existence is not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import Session, col, select

from investment_app.auth.viewer import Viewer
from investment_app.ledger.csv_format import DEFAULT_ACCOUNT
from investment_app.models.market import Symbol
from investment_app.models.portfolio import Account, CostBasisMethod, Portfolio, PortfolioShare
from investment_app.models.user import Role, User
from investment_app.services import audit
from investment_app.services.errors import Forbidden, InvalidInput

NOT_FOUND = "No such portfolio, or you do not have access to it."


@dataclass(frozen=True)
class PortfolioRow:
    """A portfolio as listed for the viewer."""

    id: int
    name: str
    benchmark: str
    method: str
    owner: str
    mine: bool


def readable(db: Session, viewer: Viewer, portfolio_id: int) -> Portfolio:
    """The portfolio when the viewer owns it or it is shared with them; else Forbidden (as not found)."""
    portfolio = db.get(Portfolio, portfolio_id)
    if portfolio is None:
        raise Forbidden(NOT_FOUND)
    if portfolio.owner_id != viewer.user_id and db.get(PortfolioShare, (portfolio_id, viewer.user_id)) is None:
        raise Forbidden(NOT_FOUND)
    return portfolio


def writable(db: Session, viewer: Viewer, portfolio_id: int) -> Portfolio:
    """The portfolio when the viewer owns it and may change data (analyst or admin)."""
    portfolio = readable(db, viewer, portfolio_id)
    if portfolio.owner_id != viewer.user_id:
        raise Forbidden("This portfolio is shared with you read-only.")
    viewer.require(Role.ANALYST)
    return portfolio


def by_name(db: Session, viewer: Viewer, name: str) -> Portfolio:
    """The viewer's own portfolio called ``name``, else one shared with them (for the CLI)."""
    stmt = (
        select(Portfolio)
        .outerjoin(PortfolioShare, col(PortfolioShare.portfolio_id) == Portfolio.id)
        .where(
            Portfolio.name == name, or_(Portfolio.owner_id == viewer.user_id, PortfolioShare.user_id == viewer.user_id)
        )
        .order_by(col(Portfolio.owner_id) != viewer.user_id)
    )
    portfolio = db.exec(stmt).first()
    if portfolio is None:
        raise Forbidden(f"No portfolio named {name!r} that {viewer.email} can see.")
    return portfolio


def list_portfolios(db: Session, viewer: Viewer) -> list[PortfolioRow]:
    """The viewer's own portfolios, then those shared with them."""
    shared = select(PortfolioShare.portfolio_id).where(PortfolioShare.user_id == viewer.user_id)
    stmt = (
        select(Portfolio, User.email)
        .join(User, col(User.id) == Portfolio.owner_id)
        .where(or_(Portfolio.owner_id == viewer.user_id, col(Portfolio.id).in_(shared)))
        .order_by(col(Portfolio.owner_id) != viewer.user_id, col(Portfolio.name))
    )
    return [
        PortfolioRow(p.id, p.name, p.benchmark_symbol, p.cost_basis_method.value, email, p.owner_id == viewer.user_id)
        for p, email in db.exec(stmt).all()
    ]


def _clean(db: Session, name: str, benchmark: str, method: str) -> tuple[str, str, CostBasisMethod]:
    name, benchmark = name.strip(), benchmark.strip().upper()
    if not 1 <= len(name) <= 120:
        raise InvalidInput("Portfolio name must be 1 to 120 characters.")
    if db.get(Symbol, benchmark) is None:
        raise InvalidInput(f"Unknown benchmark symbol {benchmark!r}; pick one that has prices.")
    try:
        return name, benchmark, CostBasisMethod(method)
    except ValueError:
        raise InvalidInput(f"Unknown cost-basis method {method!r}; use fifo, lifo, hifo or specific.") from None


def _name_taken(db: Session, owner_id: int, name: str, except_id: int | None = None) -> bool:
    stmt = select(Portfolio.id).where(Portfolio.owner_id == owner_id, Portfolio.name == name)
    return any(pid != except_id for pid in db.exec(stmt).all())


def create(db: Session, viewer: Viewer, name: str, benchmark: str = "SPY", method: str = "fifo") -> Portfolio:
    """A new portfolio with one manual account named Main."""
    viewer.require(Role.ANALYST)
    name, benchmark, basis = _clean(db, name, benchmark, method)
    if _name_taken(db, viewer.user_id, name):
        raise InvalidInput(f"You already have a portfolio named {name!r}.")
    portfolio = Portfolio(owner_id=viewer.user_id, name=name, benchmark_symbol=benchmark, cost_basis_method=basis)
    db.add(portfolio)
    db.flush()
    db.add(Account(portfolio_id=portfolio.id, name=DEFAULT_ACCOUNT))
    audit.record(
        db,
        viewer,
        "portfolio.create",
        "portfolio",
        portfolio.id,
        after={"name": name, "benchmark": benchmark, "method": basis.value},
    )
    return portfolio


def update(db: Session, viewer: Viewer, portfolio_id: int, name: str, benchmark: str, method: str) -> None:
    """Rename, or change the benchmark or the cost-basis method."""
    portfolio = writable(db, viewer, portfolio_id)
    name, benchmark, basis = _clean(db, name, benchmark, method)
    if _name_taken(db, viewer.user_id, name, except_id=portfolio_id):
        raise InvalidInput(f"You already have a portfolio named {name!r}.")
    before = {
        "name": portfolio.name,
        "benchmark": portfolio.benchmark_symbol,
        "method": portfolio.cost_basis_method.value,
    }
    portfolio.name, portfolio.benchmark_symbol, portfolio.cost_basis_method = name, benchmark, basis
    portfolio.ledger_version += 1
    db.add(portfolio)
    audit.record(
        db,
        viewer,
        "portfolio.update",
        "portfolio",
        portfolio_id,
        before=before,
        after={"name": name, "benchmark": benchmark, "method": basis.value},
    )


def delete(db: Session, viewer: Viewer, portfolio_id: int, confirm_name: str) -> None:
    """Delete a portfolio and everything in it; the owner must type its name to confirm."""
    portfolio = writable(db, viewer, portfolio_id)
    if confirm_name.strip() != portfolio.name:
        raise InvalidInput(f"Type the portfolio's name, {portfolio.name!r}, to confirm the deletion.")
    audit.record(db, viewer, "portfolio.delete", "portfolio", portfolio_id, before={"name": portfolio.name})
    db.delete(portfolio)


def share(db: Session, viewer: Viewer, portfolio_id: int, email: str) -> None:
    """Grant another user read-only access."""
    writable(db, viewer, portfolio_id)
    grantee = db.exec(select(User).where(User.email == email.strip().lower())).first()
    if grantee is None or not grantee.is_active:
        raise InvalidInput(f"No active user with e-mail {email.strip()}.")
    if grantee.id == viewer.user_id:
        raise InvalidInput("You already own this portfolio.")
    if db.get(PortfolioShare, (portfolio_id, grantee.id)) is None:
        db.add(PortfolioShare(portfolio_id=portfolio_id, user_id=grantee.id))
        audit.record(db, viewer, "portfolio.share", "portfolio", portfolio_id, after={"grantee": grantee.email})


def unshare(db: Session, viewer: Viewer, portfolio_id: int, user_id: int) -> None:
    """Withdraw a read-only share."""
    writable(db, viewer, portfolio_id)
    grant = db.get(PortfolioShare, (portfolio_id, user_id))
    if grant is not None:
        db.delete(grant)
        audit.record(db, viewer, "portfolio.unshare", "portfolio", portfolio_id, before={"grantee_id": user_id})


def account_ids(db: Session, portfolio: Portfolio, names: set[str]) -> dict[str, int]:
    """Account ids by name, creating the missing manual accounts."""
    existing = {a.name: a.id for a in db.exec(select(Account).where(Account.portfolio_id == portfolio.id)).all()}
    for name in sorted(names - existing.keys()):
        account = Account(portfolio_id=portfolio.id, name=name)
        db.add(account)
        db.flush()
        existing[name] = account.id
    return existing
