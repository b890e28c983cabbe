"""Transactions: a filterable list; add, edit and delete with validation; CSV import, template and exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page, error_callout
from investment_app.components.portfolio_picker import portfolio_picker
from investment_app.components.tables import scroll_table
from investment_app.db import session_scope
from investment_app.ledger import csv_format
from investment_app.ledger.csv_format import ImportRejected
from investment_app.models.transaction import TxType
from investment_app.models.user import Role
from investment_app.services import transactions
from investment_app.services.errors import ServiceError
from investment_app.services.transactions import LotChoice
from investment_app.state import PortfolioState, authorized

TYPES = [t.value for t in TxType]
FORM_FIELDS = ("date", "type", "symbol", "quantity", "price", "fees", "amount", "ratio", "account", "note")
UPLOAD_ID = "transactions-upload"
PAGE_SIZE = 100


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


class TransactionsState(PortfolioState):
    """The transactions page."""

    can_change: bool = False
    rows: list[dict[str, str]] = []
    kind: str = "all"
    symbol: str = ""
    start: str = ""
    end: str = ""
    editing: str = ""
    form: dict[str, str] = {}
    form_open: bool = False
    form_errors: list[str] = []
    import_errors: list[str] = []
    import_report: str = ""
    limit: int = PAGE_SIZE
    more: bool = False
    lot_choices: list[LotChoice] = []
    lots_for: str = ""
    lots_error: str = ""

    def _reload(self, viewer: Viewer) -> None:
        pid = int(self.selected)
        with session_scope() as db:
            self.rows = transactions.list_rows(
                db,
                viewer,
                pid,
                "" if self.kind == "all" else self.kind,
                self.symbol,
                _date(self.start),
                _date(self.end),
            )
        self.can_change = self.selected_is_mine and viewer.role.allows(Role.ANALYST)

    @rx.event
    @authorized()
    def load(self, viewer: Viewer) -> None:
        self.import_errors, self.import_report = [], ""
        if self._choose(viewer):
            self._reload(viewer)

    @rx.event
    @authorized()
    def select(self, viewer: Viewer, portfolio_id: str) -> None:
        self.selected = portfolio_id
        self._reload(viewer)

    @rx.event
    @authorized()
    def show_more(self, viewer: Viewer) -> None:
        self.limit += PAGE_SIZE
        self._reload(viewer)

    @rx.event
    @authorized()
    def apply_filters(self, viewer: Viewer, filters: dict) -> None:
        self.limit = PAGE_SIZE
        self.kind = filters.get("kind") or "all"
        self.symbol, self.start, self.end = (filters.get(k, "").strip() for k in ("symbol", "start", "end"))
        self._reload(viewer)

    @rx.event
    @authorized(Role.ANALYST)
    def open_form(self, viewer: Viewer, transaction_id: str) -> None:
        """Open the add (empty id) or edit dialog."""
        row = next((r for r in self.rows if r["id"] == transaction_id), None)
        self.editing = transaction_id if row else ""
        today = dt.date.today().isoformat()
        self.form = {f: (row or {}).get(f, "") for f in FORM_FIELDS} if row else {"date": today, "type": "buy"}
        self.form_errors, self.form_open = [], True

    @rx.event
    @authorized(Role.ANALYST)
    def close_form(self, viewer: Viewer) -> None:
        self.form_open = False

    @rx.event
    @authorized(Role.ANALYST)
    def save(self, viewer: Viewer, form: dict):
        """Validate the fields and the resulting ledger, then add or change the transaction."""
        try:
            tx = csv_format.validate({k: str(form.get(k, "")) for k in FORM_FIELDS})
            with session_scope() as db:
                if self.editing:
                    transactions.edit(db, viewer, int(self.selected), int(self.editing), tx)
                else:
                    transactions.add(db, viewer, int(self.selected), tx)
        except ImportRejected as exc:
            self.form_errors = [e.field_message for e in exc.errors]
            return None
        except ServiceError as exc:
            self.form_errors = [str(exc)]
            return None
        self.form_open = False
        self._reload(viewer)
        return rx.toast.success("Transaction saved.")

    @rx.event
    @authorized(Role.ANALYST)
    def open_lots(self, viewer: Viewer, transaction_id: str) -> None:
        """Show the lots open before a sale, to pick which it relieves (specific identification)."""
        with session_scope() as db:
            self.lot_choices = transactions.lots_for_sale(db, viewer, int(self.selected), int(transaction_id))
        self.lots_for, self.lots_error = transaction_id, ""

    @rx.event
    @authorized(Role.ANALYST)
    def close_lots(self, viewer: Viewer) -> None:
        self.lots_for = ""

    @rx.event
    @authorized(Role.ANALYST)
    def save_lots(self, viewer: Viewer, form: dict):
        try:
            picks = {int(k): Decimal(v) for k, v in form.items() if k.isdigit() and str(v).strip()}
        except InvalidOperation:
            self.lots_error = "Quantities must be numbers."
            return None
        try:
            with session_scope() as db:
                transactions.pick_lots(db, viewer, int(self.selected), int(self.lots_for), picks)
        except ServiceError as exc:
            self.lots_error = str(exc)
            return None
        self.lots_for = ""
        return rx.toast.success("Lots recorded for this sale." if picks else "Back to the portfolio's method.")

    @rx.event
    @authorized(Role.ANALYST)
    def delete(self, viewer: Viewer, transaction_id: str):
        with session_scope() as db:
            transactions.delete(db, viewer, int(self.selected), int(transaction_id))
        self._reload(viewer)
        return rx.toast.success("Transaction deleted.")

    @rx.event
    @authorized(Role.ANALYST)
    async def upload(self, viewer: Viewer, files: list[rx.UploadFile]):
        """Import an uploaded CSV: every row is validated, then all are written or none."""
        self.import_errors, self.import_report = [], ""
        if not files:
            self.import_errors = ["Choose a CSV file first."]
            return None
        data = await files[0].read()
        try:
            with session_scope() as db:
                report = transactions.import_csv(db, viewer, int(self.selected), data)
        except ImportRejected as exc:
            self.import_errors = [str(e) for e in exc.errors]
            return None
        self.import_report = f"Imported {report.added} transaction(s); {report.skipped} already present."
        self.import_errors = report.warnings
        self._reload(viewer)
        return rx.clear_selected_files(UPLOAD_ID)

    @rx.event
    @authorized()
    def download(self, viewer: Viewer, what: str):
        """The template, the transactions or the realized gains as a CSV download."""
        if what == "template":
            return rx.download(data=csv_format.TEMPLATE, filename="transactions-template.csv")
        export = transactions.export_realized if what == "realized" else transactions.export_transactions
        with session_scope() as db:
            data = export(db, viewer, int(self.selected))
        return rx.download(data=data, filename=f"{what}.csv")


def _input(name: str, label: str, kind: str = "text", **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", weight="medium"),
        rx.input(
            name=name,
            id=f"tx-{name}",
            type=kind,
            default_value=TransactionsState.form[name].to(str),
            width="100%",
            **props,
        ),
        spacing="1",
        width="100%",
    )


def _actions(on_cancel: rx.EventHandler, **save: str) -> rx.Component:
    """Cancel and Save at the foot of a dialog's form."""
    return rx.hstack(
        rx.button("Cancel", variant="soft", color_scheme="gray", type="button", on_click=on_cancel),
        rx.button("Save", type="submit", **save),
        justify="end",
        width="100%",
    )


def tx_form() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(TransactionsState.editing != "", "Edit transaction", "Add a transaction")),
            rx.dialog.description(
                "Shares and prices for trades; amount for cash movements; ratio for splits.", size="2"
            ),
            rx.form(
                rx.vstack(
                    rx.foreach(
                        TransactionsState.form_errors,
                        lambda e: rx.callout(e, color_scheme="red", size="1", icon="triangle-alert", width="100%"),
                    ),
                    rx.grid(
                        _input("date", "Date", "date"),
                        rx.vstack(
                            rx.text("Type", size="1", weight="medium"),
                            rx.select(
                                TYPES, name="type", default_value=TransactionsState.form["type"].to(str), width="100%"
                            ),
                            spacing="1",
                            width="100%",
                        ),
                        _input("symbol", "Symbol", placeholder="AAPL"),
                        _input("quantity", "Quantity", input_mode="decimal"),
                        _input("price", "Price", input_mode="decimal"),
                        _input("fees", "Fees", input_mode="decimal"),
                        _input("amount", "Amount (cash)", input_mode="decimal"),
                        _input("ratio", "Split ratio", input_mode="decimal", placeholder="4 = 4-for-1"),
                        _input("account", "Account", placeholder="Main"),
                        _input("note", "Note"),
                        columns=rx.breakpoints(initial="1", sm="2"),
                        spacing="3",
                        width="100%",
                    ),
                    _actions(TransactionsState.close_form, id="tx-save"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=TransactionsState.save,
                width="100%",
            ),
            max_width="640px",
        ),
        open=TransactionsState.form_open,
    )


def importer() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Import a CSV", size="4"),
            rx.text(
                "Columns: date, type, symbol, quantity, price, fees, amount, and optionally ratio, account, note, "
                "external_id. Every row is checked first; then all are imported or none. Importing a file again "
                "adds nothing.",
                size="2",
                color_scheme="gray",
            ),
            rx.upload(
                rx.vstack(
                    rx.icon("upload", size=20),
                    rx.text("Drop a CSV here or click to choose one", size="2"),
                    rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.badge(f)),
                    align="center",
                ),
                id=UPLOAD_ID,
                accept={"text/csv": [".csv"]},
                max_files=1,
                border="1px dashed",
                border_color=rx.color("gray", 7),
                border_radius="8px",
                padding="1rem",
                width="100%",
            ),
            rx.hstack(
                rx.button(
                    "Import",
                    id="import-submit",
                    on_click=TransactionsState.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                ),
                rx.button("Download template", variant="soft", on_click=TransactionsState.download("template")),
                wrap="wrap",
            ),
            rx.cond(
                TransactionsState.import_report != "",
                rx.callout(TransactionsState.import_report, icon="check", color_scheme="green", width="100%"),
            ),
            rx.foreach(TransactionsState.import_errors, lambda e: rx.text(e, size="1", color_scheme="red")),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.select(["all", *TYPES], name="kind", default_value="all", size="2"),
            rx.input(name="symbol", placeholder="Symbol", size="2", width="7rem"),
            rx.input(name="start", type="date", size="2", aria_label="From"),
            rx.input(name="end", type="date", size="2", aria_label="To"),
            rx.button("Filter", type="submit", size="2", variant="soft"),
            wrap="wrap",
            spacing="2",
            align="center",
        ),
        on_submit=TransactionsState.apply_filters,
    )


def lots_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Choose the lots this sale relieves"),
            rx.dialog.description(
                "Specific identification: enter how many shares come from each lot; they must "
                "add up to the sale. Leave all empty to use the portfolio's method.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    error_callout(TransactionsState.lots_error),
                    rx.foreach(
                        TransactionsState.lot_choices,
                        lambda lot: rx.hstack(
                            rx.text(
                                "Lot of ", lot.opened, ": ", lot.quantity, " at ", lot.unit_cost, size="2", flex="1"
                            ),
                            rx.input(
                                name=lot.lot_id.to_string(),
                                default_value=lot.picked,
                                width="7rem",
                                input_mode="decimal",
                                aria_label="Shares from this lot",
                            ),
                            width="100%",
                            align="center",
                        ),
                    ),
                    _actions(TransactionsState.close_lots),
                    spacing="3",
                    width="100%",
                ),
                on_submit=TransactionsState.save_lots,
                width="100%",
            ),
            max_width="560px",
        ),
        open=TransactionsState.lots_for != "",
    )


def tx_row(r: rx.Var) -> rx.Component:
    num = {"text_align": "right", "white_space": "nowrap"}
    return rx.table.row(
        rx.table.cell(r["date"], white_space="nowrap"),
        rx.table.cell(rx.badge(r["type"], variant="soft")),
        rx.table.cell(rx.text(r["symbol"], weight="bold")),
        rx.table.cell(r["quantity"], style=num),
        rx.table.cell(r["price"], style=num),
        rx.table.cell(r["fees"], style=num),
        rx.table.cell(r["amount"], style=num),
        rx.table.cell(r["ratio"], style=num),
        rx.table.cell(r["account"]),
        rx.table.cell(rx.text(r["note"], size="1")),
        rx.table.cell(
            rx.cond(
                TransactionsState.can_change,
                rx.hstack(
                    rx.cond(
                        r["type"] == "sell",
                        rx.icon_button(
                            rx.icon("layers", size=14),
                            size="1",
                            variant="ghost",
                            aria_label="Choose lots",
                            on_click=TransactionsState.open_lots(r["id"]),
                        ),
                    ),
                    rx.icon_button(
                        rx.icon("pencil", size=14),
                        size="1",
                        variant="ghost",
                        aria_label="Edit",
                        on_click=TransactionsState.open_form(r["id"]),
                    ),
                    rx.alert_dialog.root(
                        rx.alert_dialog.trigger(
                            rx.icon_button(
                                rx.icon("trash-2", size=14),
                                size="1",
                                variant="ghost",
                                color_scheme="red",
                                aria_label="Delete",
                            )
                        ),
                        rx.alert_dialog.content(
                            rx.alert_dialog.title("Delete this transaction?"),
                            rx.alert_dialog.description(
                                r["date"],
                                " ",
                                r["type"],
                                " ",
                                r["symbol"],
                                ". It is refused if a later sale depends on it.",
                            ),
                            rx.hstack(
                                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                                rx.alert_dialog.action(
                                    rx.button("Delete", color_scheme="red", on_click=TransactionsState.delete(r["id"]))
                                ),
                                justify="end",
                                margin_top="1rem",
                            ),
                        ),
                    ),
                    spacing="2",
                ),
            )
        ),
    )


def tx_table() -> rx.Component:
    headers = ["Date", "Type", "Symbol", "Qty", "Price", "Fees", "Amount", "Ratio", "Account", "Note", ""]
    return scroll_table(headers, rx.foreach(TransactionsState.rows, tx_row))


@app_page("/transactions", "Transactions", on_load=TransactionsState.load)
def transactions_page() -> rx.Component:
    return rx.vstack(
        portfolio_picker(
            TransactionsState.select,
            rx.cond(
                TransactionsState.can_change,
                rx.button(
                    rx.icon("plus", size=16), "Add", id="add-transaction", on_click=TransactionsState.open_form("")
                ),
            ),
            rx.button("Export", variant="soft", on_click=TransactionsState.download("transactions")),
            rx.button("Realized gains", variant="soft", on_click=TransactionsState.download("realized")),
        ),
        error_callout(rx.cond(TransactionsState.selected == "", "Create a portfolio first, on Portfolios.", "")),
        rx.cond(TransactionsState.can_change, importer()),
        filters(),
        tx_table(),
        rx.cond(TransactionsState.more, rx.button("Show more", variant="soft", on_click=TransactionsState.show_more)),
        tx_form(),
        lots_dialog(),
        spacing="3",
        width="100%",
    )
