"""The test ledger several integration tests work out figures from: 100,000 deposited on 2019-01-02, 200 AAPL
and 300 JPM bought on 2019-01-03 (no fees), held to the bundled data's last day. With no later flows, the
portfolio's value on a day is cash + Σ quantity × close, straight from the bundled CSVs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
from sqlmodel import Session

from investment_app.auth.viewer import Viewer
from investment_app.db import get_engine
from investment_app.marketdata.bundled import bundled_bars, load_bundled
from investment_app.models.user import Role
from investment_app.services import accounts, portfolios, transactions

QUANTITY = {"AAPL": 200.0, "JPM": 300.0}
PRICE = {"AAPL": 38.0, "JPM": 98.0}
CASH = 100_000 - sum(QUANTITY[s] * PRICE[s] for s in QUANTITY)
LEDGER = (
    "date,type,symbol,quantity,price,fees,amount\n2019-01-02,deposit,,,,,100000\n"
    + "".join(f"2019-01-03,buy,{s},{QUANTITY[s]:.0f},{PRICE[s]},0,\n" for s in QUANTITY)
).encode()
OWNER, OTHER, PASSWORD = "owner@example.com", "other@example.com", "correct horse 42"


def bundled_closes() -> pd.DataFrame:
    """Adjusted closes of AAPL, JPM and SPY from the bundled CSVs (the store keeps close = adj_close)."""
    frame = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")[["AAPL", "JPM", "SPY"]]
    frame.index = pd.DatetimeIndex(frame.index)
    return frame


@contextmanager
def two_stocks(url: str, other: bool = True) -> Iterator[tuple[Session, Viewer, int]]:
    """The bundled prices, an owner with the "Two stocks" portfolio (and another analyst): (session, owner, id)."""
    load_bundled(url)
    with Session(get_engine(url), expire_on_commit=False) as db:
        accounts.create_user(db, OWNER, PASSWORD, role=Role.ANALYST)
        if other:
            accounts.create_user(db, OTHER, PASSWORD, role=Role.ANALYST)
        viewer = accounts.acting_as(db, OWNER)
        pid = portfolios.create(db, viewer, "Two stocks").id
        db.commit()
        transactions.import_csv(db, viewer, pid, LEDGER)
        db.commit()
        yield db, viewer, pid
