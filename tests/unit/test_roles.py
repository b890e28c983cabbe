"""Roles are checked on the server: in services, in every State handler and in API routes."""

import inspect

import pytest

from investment_app.auth import sessions
from investment_app.auth.viewer import Viewer
from investment_app.models.user import Role
from investment_app.services import accounts, admin, audit
from investment_app.services.errors import Forbidden


def test_role_order():
    assert Role.ADMIN.allows(Role.ANALYST) and Role.ADMIN.allows(Role.VIEWER)
    assert Role.ANALYST.allows(Role.VIEWER) and not Role.ANALYST.allows(Role.ADMIN)
    assert not Role.VIEWER.allows(Role.ANALYST)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
def test_admin_services_refuse_non_admins(db, role):
    user = accounts.create_user(db, "ann@example.com", "correct horse 42", role=role)
    target = accounts.create_user(db, "bob@example.com", "correct horse 42")
    viewer = Viewer(user.id, user.email, "", role, "s")
    for call in (
        lambda: admin.list_users(db, viewer),
        lambda: admin.set_role(db, viewer, target.id, "admin"),
        lambda: admin.set_active(db, viewer, target.id, False),
        lambda: audit.browse(db, viewer),
    ):
        with pytest.raises(Forbidden):
            call()
    assert target.role is Role.ANALYST and target.is_active


def test_admin_changes_are_audited_and_deactivation_ends_sessions(db):
    boss = accounts.create_user(db, "boss@example.com", "correct horse 42", role=Role.ADMIN)
    bob = accounts.create_user(db, "bob@example.com", "correct horse 42")
    token = sessions.redeem_ticket(db, sessions.issue_ticket(db, bob.id))
    viewer = Viewer(boss.id, boss.email, "", Role.ADMIN, "s")
    admin.set_role(db, viewer, bob.id, "viewer")
    admin.set_active(db, viewer, bob.id, False)
    db.commit()
    assert sessions.resolve(db, token) is None
    actions = [r.action for r in audit.browse(db, viewer)]
    assert actions[:2] == ["user.active", "user.role"]
    with pytest.raises(Exception, match="own role"):
        admin.set_role(db, viewer, boss.id, "viewer")


def _handlers():
    """Every event handler defined by the app's State classes."""
    from investment_app import pages  # noqa: F401
    from investment_app.state import AppState

    stack, seen = [AppState], []
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        seen.extend((cls.__name__, name, handler.fn) for name, handler in cls.event_handlers.items())
    return seen


PUBLIC = {("SignInState", "on_load"), ("SignInState", "sign_in"), ("RegisterState", "register")}


def test_every_state_handler_checks_the_viewer():
    unguarded = [
        (cls, name)
        for cls, name, fn in _handlers()
        if (cls, name) not in PUBLIC
        and not hasattr(fn, "required_role")
        and inspect.getmodule(fn).__name__.startswith("investment_app")
    ]
    assert unguarded == []


def test_admin_page_handlers_need_the_admin_role():
    roles = {
        name: fn.required_role for cls, name, fn in _handlers() if cls == "AdminState" and hasattr(fn, "required_role")
    }
    assert roles and set(roles.values()) == {Role.ADMIN}
