"""The guard runs on the server inside the event handler: a viewer triggering an admin event gets nothing."""

import json
import logging
from contextlib import nullcontext

import pytest
import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.logs import JsonFormatter
from investment_app.models.user import Role
from investment_app.pages.admin import AdminState
from investment_app.services import accounts


@pytest.fixture
def admin_state(db, monkeypatch):
    """An AdminState in a real state tree whose server-side viewer lookup is pointed at the test database."""
    accounts.create_user(db, "other@example.com", "correct horse 42")
    db.commit()
    monkeypatch.setattr("investment_app.state.session_scope", lambda: nullcontext(db))
    return AdminState()


def _as(monkeypatch, state, role: Role | None):
    viewer = Viewer(99, "x@example.com", "X", role, "sid") if role else None
    monkeypatch.setattr(type(state), "_resolve", lambda self: (viewer, 0))


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
def test_non_admin_triggering_admin_events_loads_and_changes_nothing(admin_state, monkeypatch, role):
    _as(monkeypatch, admin_state, role)
    for event in (
        admin_state.load,
        admin_state.load_more,
        lambda: admin_state.set_role(1, "admin"),
        lambda: admin_state.set_active(1, False),
    ):
        result = event()
        assert isinstance(result, list) and any("toast" in str(spec) for spec in result)
    assert admin_state.users == [] and admin_state.audit_rows == []


def test_signed_out_visitor_is_sent_to_sign_in(admin_state, monkeypatch):
    _as(monkeypatch, admin_state, None)
    result = admin_state.load()
    assert isinstance(result, rx.event.EventSpec) and "/signin" in str(result)
    assert admin_state.users == [] and admin_state.user_email == ""


def test_admin_gets_the_users(admin_state, monkeypatch, db):
    _as(monkeypatch, admin_state, Role.ADMIN)
    monkeypatch.setattr("investment_app.pages.admin.session_scope", lambda: nullcontext(db))
    admin_state.load()
    assert [u.email for u in admin_state.users] == ["other@example.com"]


def test_json_log_lines_carry_time_level_message_and_extras():
    record = logging.LogRecord("app", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.portfolio_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING" and line["message"] == "hello world" and line["portfolio_id"] == 7
    assert line["time"].endswith("+00:00")
