"""Portfolios: list own and shared ones, create, edit, share read-only, and delete with a typed confirmation."""

from __future__ import annotations

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page, error_callout, field, titled_card
from investment_app.db import session_scope
from investment_app.models.user import Role
from investment_app.services import portfolios, sharing
from investment_app.services.errors import ServiceError
from investment_app.services.portfolios import PortfolioRow
from investment_app.services.sharing import ShareRow
from investment_app.state import AppState, authorized

METHODS = {
    "fifo": "FIFO · oldest lots first",
    "lifo": "LIFO · newest lots first",
    "hifo": "HIFO · highest cost first",
    "specific": "Specific lots · pick per sale",
}
DIALOGS = ("edit", "share", "delete")
WIDE_ONLY = {"display": rx.breakpoints(initial="none", sm="table-cell")}  # hidden on phones
PHONE_ONLY = rx.breakpoints(initial="block", sm="none")


def _row_view(p: PortfolioRow) -> dict[str, str]:
    return {
        "id": str(p.id),
        "name": p.name,
        "benchmark": p.benchmark,
        "method": METHODS.get(p.method, p.method).split(" · ")[0],
        "owner": p.owner,
        "mine": "yes" if p.mine else "",
    }


class PortfoliosState(AppState):
    """The portfolios page's list, forms and dialogs."""

    rows: list[dict[str, str]] = []
    create_error: str = ""
    dialog: str = ""
    target_id: int = 0
    target_name: str = ""
    target_benchmark: str = ""
    target_method: str = "fifo"
    dialog_error: str = ""
    shares: list[ShareRow] = []

    def _reload(self, viewer: Viewer) -> None:
        with session_scope() as db:
            self.rows = [_row_view(p) for p in portfolios.list_portfolios(db, viewer)]

    def _close(self) -> None:
        self.dialog, self.dialog_error, self.target_id, self.shares = "", "", 0, []

    @rx.event
    @authorized()
    def load(self, viewer: Viewer) -> None:
        self.create_error = ""
        self._close()
        self._reload(viewer)

    @rx.event
    @authorized(Role.ANALYST)
    def create(self, viewer: Viewer, form: dict):
        try:
            with session_scope() as db:
                created = portfolios.create(
                    db,
                    viewer,
                    form.get("new-portfolio-name", ""),
                    form.get("new-portfolio-benchmark", "") or "SPY",
                    form.get("method", "") or "fifo",
                )
                name = created.name
        except ServiceError as exc:
            self.create_error = str(exc)
            return None
        self.create_error = ""
        self._reload(viewer)
        return [rx.set_value("new-portfolio-name", ""), rx.toast.success(f"Portfolio {name!r} created.")]

    @rx.event
    @authorized(Role.ANALYST)
    def open_dialog(self, viewer: Viewer, kind: str, portfolio_id: str) -> None:
        """Open the edit, share or delete dialog of one of the viewer's own portfolios."""
        if kind not in DIALOGS:
            return
        with session_scope() as db:
            portfolio = portfolios.writable(db, viewer, int(portfolio_id))
            self.shares = sharing.shares(db, viewer, portfolio.id) if kind == "share" else []
        self.target_id, self.target_name = portfolio.id, portfolio.name
        self.target_benchmark, self.target_method = portfolio.benchmark_symbol, portfolio.cost_basis_method.value
        self.dialog, self.dialog_error = kind, ""

    @rx.event
    @authorized()
    def set_dialog_open(self, viewer: Viewer, is_open: bool) -> None:
        """Dialogs open only through ``open_dialog``; this closes them (Escape, outside click, Cancel)."""
        if not is_open:
            self._close()

    def _done(self, viewer: Viewer, message: str):
        self._close()
        self._reload(viewer)
        return rx.toast.success(message)

    @rx.event
    @authorized(Role.ANALYST)
    def save_edit(self, viewer: Viewer, form: dict):
        try:
            with session_scope() as db:
                portfolios.update(
                    db,
                    viewer,
                    self.target_id,
                    form.get("edit-name", ""),
                    form.get("edit-benchmark", ""),
                    form.get("method", ""),
                )
        except ServiceError as exc:
            self.dialog_error = str(exc)
            return None
        return self._done(viewer, "Portfolio saved.")

    @rx.event
    @authorized(Role.ANALYST)
    def add_share(self, viewer: Viewer, form: dict):
        email = form.get("share-email", "").strip()
        try:
            with session_scope() as db:
                portfolios.share(db, viewer, self.target_id, email)
                self.shares = sharing.shares(db, viewer, self.target_id)
        except ServiceError as exc:
            self.dialog_error = str(exc)
            return None
        self.dialog_error = ""
        return [rx.set_value("share-email", ""), rx.toast.success(f"Shared read-only with {email}.")]

    @rx.event
    @authorized(Role.ANALYST)
    def revoke_share(self, viewer: Viewer, user_id: int):
        with session_scope() as db:
            portfolios.unshare(db, viewer, self.target_id, int(user_id))
            self.shares = sharing.shares(db, viewer, self.target_id)
        return rx.toast.success("Access withdrawn.")

    @rx.event
    @authorized(Role.ANALYST)
    def delete(self, viewer: Viewer, form: dict):
        name = self.target_name
        try:
            with session_scope() as db:
                portfolios.delete(db, viewer, self.target_id, form.get("delete-confirm-name", ""))
        except ServiceError as exc:
            self.dialog_error = str(exc)
            return None
        return self._done(viewer, f"Portfolio {name!r} deleted.")


def method_select(default: rx.Var | str, select_id: str) -> rx.Component:
    return rx.vstack(
        rx.text("Cost-basis method", as_="label", html_for=select_id, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(id=select_id, width="100%"),
            rx.select.content(*[rx.select.item(label, value=value) for value, label in METHODS.items()]),
            default_value=default,
            name="method",
            size="3",
        ),
        spacing="1",
        width="100%",
    )


def create_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            error_callout(PortfoliosState.create_error),
            rx.grid(
                field("Name", "new-portfolio-name", required=True, max_length=120, placeholder="Retirement"),
                field("Benchmark symbol", "new-portfolio-benchmark", default_value="SPY", max_length=16),
                method_select("fifo", "new-portfolio-method"),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.button(rx.icon("plus", size=16), "Create portfolio", type="submit", id="create-portfolio"),
            spacing="3",
            width="100%",
            align="start",
        ),
        on_submit=PortfoliosState.create,
        id="create-portfolio-form",
        width="100%",
    )


def _action(icon: str, label: str, kind: str, row: rx.Var, color: str = "gray") -> rx.Component:
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icon, size=16),
            variant="soft",
            size="2",
            color_scheme=color,
            on_click=PortfoliosState.open_dialog(kind, row["id"]),
            aria_label=f"{label} " + row["name"],
            id=f"{kind}-portfolio-" + row["id"],
        ),
        content=label,
    )


def portfolio_row(p: rx.Var) -> rx.Component:
    mine = p["mine"] != ""
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(p["name"], weight="bold"),
                    rx.cond(~mine, rx.badge("shared with you", color_scheme="blue", variant="soft")),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(~mine, rx.text("owner ", p["owner"], size="1", color_scheme="gray")),
                rx.text(p["benchmark"], " · ", p["method"], size="1", color_scheme="gray", display=PHONE_ONLY),
                spacing="0",
            )
        ),
        rx.table.cell(p["benchmark"], **WIDE_ONLY),
        rx.table.cell(p["method"], white_space="nowrap", **WIDE_ONLY),
        rx.table.cell(
            rx.hstack(
                rx.link("Holdings", href="/holdings?p=" + p["id"], size="2"),
                rx.link("Dashboard", href="/?p=" + p["id"], size="2"),
                rx.cond(
                    mine & AppState.can_edit,
                    rx.hstack(
                        _action("pencil", "Edit", "edit", p),
                        _action("share-2", "Share", "share", p),
                        _action("trash-2", "Delete", "delete", p, color="red"),
                        spacing="2",
                    ),
                    rx.badge("read-only", color_scheme="gray", variant="outline"),
                ),
                spacing="3",
                align="center",
                justify="end",
                wrap="wrap",
            ),
        ),
        key=p["id"],
    )


def portfolio_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Portfolio"),
                    rx.table.column_header_cell("Benchmark", **WIDE_ONLY),
                    rx.table.column_header_cell("Cost basis", **WIDE_ONLY),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(PortfoliosState.rows, portfolio_row)),
            variant="surface",
            width="100%",
        ),
        rx.cond(
            PortfoliosState.rows.length() == 0,
            rx.text("No portfolios yet.", size="2", color_scheme="gray", margin_top="0.5rem"),
        ),
        overflow_x="auto",
        width="100%",
        id="portfolio-list",
    )


def _dialog(kind: str, title: rx.Component | str, *children: rx.Component) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            *children,
            max_width="480px",
        ),
        open=PortfoliosState.dialog == kind,
        on_open_change=PortfoliosState.set_dialog_open,
    )


def _buttons(label: str, button_id: str, **style: str) -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(label, type="submit", id=button_id, **style),
        justify="end",
        spacing="3",
        width="100%",
    )


def edit_dialog() -> rx.Component:
    return _dialog(
        "edit",
        "Edit portfolio",
        rx.form(
            rx.vstack(
                error_callout(PortfoliosState.dialog_error),
                field("Name", "edit-name", default_value=PortfoliosState.target_name, required=True, max_length=120),
                field("Benchmark symbol", "edit-benchmark", default_value=PortfoliosState.target_benchmark),
                method_select(PortfoliosState.target_method, "edit-method"),
                rx.text(
                    "Changing the method recomputes every lot and realized gain of this portfolio.",
                    size="1",
                    color_scheme="gray",
                ),
                _buttons("Save", "save-portfolio"),
                spacing="3",
                width="100%",
            ),
            on_submit=PortfoliosState.save_edit,
            key=PortfoliosState.target_id.to_string(),
            width="100%",
        ),
    )


def share_row(s: ShareRow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(s.email, size="2", weight="medium"),
            rx.text(s.display_name, " · since ", s.since, size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.button(
            "Revoke",
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=PortfoliosState.revoke_share(s.user_id),
            id="revoke-share-" + s.user_id.to_string(),
            aria_label="Revoke access of " + s.email,
        ),
        align="center",
        width="100%",
        padding_y="0.4rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def share_dialog() -> rx.Component:
    return _dialog(
        "share",
        rx.text("Share ", PortfoliosState.target_name),
        rx.dialog.description(
            "People you share with can see this portfolio but not change it.", size="2", margin_bottom="0.75rem"
        ),
        rx.form(
            rx.vstack(
                error_callout(PortfoliosState.dialog_error),
                rx.hstack(
                    rx.input(
                        name="share-email",
                        id="share-email",
                        type="email",
                        placeholder="colleague@example.com",
                        required=True,
                        size="3",
                        flex="1",
                        aria_label="E-mail of the user to share with",
                    ),
                    rx.button("Share", type="submit", size="3", id="share-submit"),
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=PortfoliosState.add_share,
            width="100%",
        ),
        rx.text("Shared with", size="2", weight="medium", margin_top="1rem"),
        rx.cond(
            PortfoliosState.shares.length() == 0,
            rx.text("Nobody yet.", size="2", color_scheme="gray"),
            rx.vstack(rx.foreach(PortfoliosState.shares, share_row), spacing="0", width="100%", id="share-list"),
        ),
        rx.hstack(
            rx.dialog.close(rx.button("Done", variant="soft", id="share-done")),
            justify="end",
            width="100%",
            margin_top="1rem",
        ),
    )


def delete_dialog() -> rx.Component:
    return _dialog(
        "delete",
        rx.text("Delete ", PortfoliosState.target_name),
        rx.dialog.description(
            "This deletes the portfolio with all its accounts, transactions and shares. It cannot be undone.",
            size="2",
            margin_bottom="0.75rem",
        ),
        rx.form(
            rx.vstack(
                error_callout(PortfoliosState.dialog_error),
                rx.text("Type ", rx.text.strong(PortfoliosState.target_name), " to confirm.", size="2"),
                rx.input(
                    name="delete-confirm-name",
                    id="delete-confirm-name",
                    required=True,
                    size="3",
                    width="100%",
                    auto_complete="off",
                    aria_label="Portfolio name to confirm the deletion",
                ),
                _buttons("Delete portfolio", "confirm-delete", color_scheme="red"),
                spacing="3",
                width="100%",
            ),
            on_submit=PortfoliosState.delete,
            width="100%",
        ),
    )


@app_page("/portfolios", "Portfolios", on_load=PortfoliosState.load)
def portfolios_page() -> rx.Component:
    return rx.vstack(
        titled_card(
            "Your portfolios",
            "Your own portfolios, then those others shared with you (read-only).",
            portfolio_table(),
        ),
        rx.cond(
            AppState.can_edit,
            titled_card(
                "New portfolio",
                "The benchmark is compared with your returns; the cost-basis method decides which lots a sale "
                "relieves, and so your realized gains.",
                create_form(),
            ),
        ),
        edit_dialog(),
        share_dialog(),
        delete_dialog(),
        spacing="4",
        width="100%",
    )
