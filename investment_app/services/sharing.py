"""Who a portfolio is shared with: the owner's view of the read-only grants (granting and
withdrawing them is ``portfolios.share`` / ``portfolios.unshare``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from investment_app.auth.viewer import Viewer
from investment_app.models.portfolio import PortfolioShare
from investment_app.models.user import User
from investment_app.services import portfolios


@dataclass(frozen=True)
class ShareRow:
    """One user who may read the portfolio."""

    user_id: int
    email: str
    display_name: str
    since: str


def shares(db: Session, viewer: Viewer, portfolio_id: int) -> list[ShareRow]:
    """The users a portfolio is shared with, by e-mail; only its owner (analyst or admin) may list them."""
    portfolios.writable(db, viewer, portfolio_id)
    stmt = (
        select(PortfolioShare, User)
        .join(User, col(User.id) == PortfolioShare.user_id)
        .where(PortfolioShare.portfolio_id == portfolio_id)
        .order_by(col(User.email))
    )
    return [
        ShareRow(user.id, user.email, user.display_name, grant.created_at.date().isoformat())
        for grant, user in db.exec(stmt).all()
    ]
