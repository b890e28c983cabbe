"""Admin: users (roles, activation) and the audit log. Every handler requires the admin role."""

from __future__ import annotations

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page
from investment_app.components.tables import scroll_table
from investment_app.db import session_scope
from investment_app.models.user import Role
from investment_app.services import admin, audit
from investment_app.services.admin import UserRow
from investment_app.services.audit import AuditRow
from investment_app.state import AppState, authorized

PAGE_SIZE = 50
ACTIONS = [
    "all",
    "user.create",
    "user.role",
    "user.active",
    "user.password",
    "user.profile",
    "session.create",
    "session.end",
    "session.revoke",
    "session.revoke_all",
    "portfolio.create",
]


class AdminState(AppState):
    """The admin page's view data."""

    users: list[UserRow] = []
    audit_rows: list[AuditRow] = []
    action: str = "all"
    more: bool = False

    def _reload(self, viewer: Viewer, append: bool = False) -> None:
        before = self.audit_rows[-1].id if append and self.audit_rows else None
        with session_scope() as db:
            self.users = admin.list_users(db, viewer)
            rows = audit.browse(db, viewer, "" if self.action == "all" else self.action, PAGE_SIZE, before)
        self.audit_rows = [*self.audit_rows, *rows] if append else rows
        self.more = len(rows) == PAGE_SIZE

    @rx.event
    @authorized(Role.ADMIN)
    def load(self, viewer: Viewer) -> None:
        self._reload(viewer)

    @rx.event
    @authorized(Role.ADMIN)
    def filter_action(self, viewer: Viewer, action: str) -> None:
        self.action = action if action in ACTIONS else "all"
        self._reload(viewer)

    @rx.event
    @authorized(Role.ADMIN)
    def load_more(self, viewer: Viewer) -> None:
        self._reload(viewer, append=True)

    @rx.event
    @authorized(Role.ADMIN)
    def set_role(self, viewer: Viewer, user_id: int, role: str):
        with session_scope() as db:
            admin.set_role(db, viewer, user_id, role)
        self._reload(viewer)
        return rx.toast.success(f"Role changed to {role}.")

    @rx.event
    @authorized(Role.ADMIN)
    def set_active(self, viewer: Viewer, user_id: int, active: bool):
        with session_scope() as db:
            admin.set_active(db, viewer, user_id, active)
        self._reload(viewer)
        return rx.toast.success("User reactivated." if active else "User deactivated and signed out.")


def user_row(u: UserRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(u.display_name, weight="medium"), rx.text(u.email, size="1", color_scheme="gray"), spacing="0"
            )
        ),
        rx.table.cell(
            rx.select(
                ["admin", "analyst", "viewer"],
                value=u.role,
                size="1",
                on_change=lambda role: AdminState.set_role(u.id, role),
            )
        ),
        rx.table.cell(rx.switch(checked=u.active, on_change=lambda on: AdminState.set_active(u.id, on))),
        rx.table.cell(u.created),
    )


def users_table() -> rx.Component:
    return scroll_table(["User", "Role", "Active", "Since"], rx.foreach(AdminState.users, user_row), size="2")


def audit_row(r: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.at, white_space="nowrap"),
        rx.table.cell(r.actor),
        rx.table.cell(rx.badge(r.action, variant="soft")),
        rx.table.cell(r.entity, " ", r.entity_id),
        rx.table.cell(rx.text(r.before, size="1")),
        rx.table.cell(rx.text(r.after, size="1")),
    )


def audit_table() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Action", size="2"),
            rx.select(ACTIONS, value=AdminState.action, on_change=AdminState.filter_action, size="2"),
            align="center",
        ),
        scroll_table(
            ["When (UTC)", "Who", "Action", "What", "Before", "After"], rx.foreach(AdminState.audit_rows, audit_row)
        ),
        rx.cond(AdminState.more, rx.button("Load more", variant="soft", on_click=AdminState.load_more)),
        width="100%",
        spacing="3",
    )


@app_page("/admin", "Admin", on_load=AdminState.load)
def admin_page() -> rx.Component:
    return rx.tabs.root(
        rx.hstack(
            rx.tabs.list(rx.tabs.trigger("Users", value="users"), rx.tabs.trigger("Audit log", value="audit")),
            rx.spacer(),
            rx.link(
                rx.hstack(rx.icon("clock", size=16), "Scheduled jobs", align="center", spacing="1"), href="/admin/jobs"
            ),
            align="center",
            width="100%",
        ),
        rx.tabs.content(users_table(), value="users", padding_top="1rem"),
        rx.tabs.content(audit_table(), value="audit", padding_top="1rem"),
        default_value="users",
        width="100%",
    )
