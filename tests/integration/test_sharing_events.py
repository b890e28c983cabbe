"""Read-only sharing holds in the event handlers too: a grantee's change events change nothing."""

import pytest
from sqlalchemy import func
from sqlmodel import select

from investment_app.db import session_scope
from investment_app.marketdata.bundled import load_bundled
from investment_app.models.transaction import Transaction
from investment_app.models.user import Role
from investment_app.pages.portfolios import PortfoliosState
from investment_app.pages.transactions import TransactionsState
from investment_app.services import accounts, portfolios, transactions

CSV = b"date,type,symbol,quantity,price,fees,amount\n2021-01-04,deposit,,,,,5000\n2021-01-05,buy,AAPL,10,131,1,\n"


@pytest.fixture
def shared(app_db):
    load_bundled(app_db)
    with session_scope() as db:
        accounts.create_user(db, "owner@example.com", "correct horse 42", role=Role.ANALYST)
        accounts.create_user(db, "friend@example.com", "correct horse 42", role=Role.ANALYST)
    with session_scope() as db:
        owner = accounts.acting_as(db, "owner@example.com")
        pid = portfolios.create(db, owner, "P").id
        transactions.import_csv(db, owner, pid, CSV)
        portfolios.share(db, owner, pid, "friend@example.com")
    with session_scope() as db:
        return pid, accounts.acting_as(db, "friend@example.com")


def _count() -> int:
    with session_scope() as db:
        return db.exec(select(func.count()).select_from(Transaction)).one()


def _as(monkeypatch, state_cls, viewer):
    monkeypatch.setattr(state_cls, "_resolve", lambda self: (viewer, 0))
    return state_cls()


def test_grantee_events_cannot_change_a_shared_portfolio(shared, monkeypatch):
    pid, friend = shared
    state = _as(monkeypatch, TransactionsState, friend)
    state.selected = str(pid)
    state.load()
    assert len(state.rows) == 2 and not state.can_change  # reads, and sees no editing controls
    result = state.delete(state.rows[0]["id"])
    assert "read-only" in str(result) and _count() == 2
    state.editing = ""
    state.save({"date": "2021-02-01", "type": "deposit", "amount": "100"})
    assert state.form_errors == ["This portfolio is shared with you read-only."] and _count() == 2


def test_grantee_cannot_rename_share_or_delete_from_the_portfolios_page(shared, monkeypatch):
    pid, friend = shared
    state = _as(monkeypatch, PortfoliosState, friend)
    state.load()  # the first guarded event binds the state to this user (and clears anything else)
    state.target_id, state.target_name = pid, "P"
    state.save_edit({"edit-name": "Mine", "edit-benchmark": "SPY", "method": "fifo"})
    assert "read-only" in state.dialog_error
    state.dialog_error = ""
    state.add_share({"share-email": "owner@example.com"})
    assert "read-only" in state.dialog_error
    state.dialog_error = ""
    state.delete({"delete-confirm-name": "P"})
    assert "read-only" in state.dialog_error
    with session_scope() as db:
        assert portfolios.readable(db, friend, pid).name == "P"
