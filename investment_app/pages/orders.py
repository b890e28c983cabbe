"""Orders: the portfolio's open and past orders (cancel open ones), a sync with the broker, a new order form, and
when the portfolio trades through Alpaca, its positions reconciled with the ledger (differences resolved by hand)."""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.broker.base import ORDER_CLASSES, ORDER_TYPES, SIDES, OrderRequest
from investment_app.components.layout import app_page, error_callout, field, field_row, section
from investment_app.components.numbers import money, quantity
from investment_app.components.portfolio_picker import empty_state, portfolio_picker
from investment_app.components.tables import RIGHT, WIDE_ONLY, header, scroll_table
from investment_app.db import session_scope
from investment_app.models.user import Role
from investment_app.services import execution, rebalance
from investment_app.services.errors import InvalidInput, ServiceError
from investment_app.services.execution import OrderRow
from investment_app.state import PortfolioState, authorized

TYPE_LABELS = {
    "market": "Market",
    "limit": "Limit",
    "stop": "Stop",
    "stop_limit": "Stop-limit",
    "trailing_stop": "Trailing stop",
}
CLASS_LABELS = {"simple": "Simple", "bracket": "Bracket (take-profit + stop-loss)", "oco": "OCO (one cancels other)"}
TIF_LABELS = {"day": "Day", "gtc": "Good till canceled"}
SIZE_LABELS = {"shares": "Shares", "money": "Amount ($)"}
PRICE_LABELS = {
    "limit_price": "Limit price",
    "stop_price": "Stop price",
    "trail_percent": "Trail (%)",
    "take_profit": "Take-profit limit price",
    "stop_loss": "Stop-loss stop price",
}
STATUS_COLOR = {
    "filled": "green",
    "partially filled": "orange",
    "new": "blue",
    "accepted": "blue",
    "pending": "yellow",
    "rejected": "red",
    "canceled": "gray",
    "expired": "gray",
}


def decimal(raw: Any, label: str) -> Decimal | None:
    """A typed amount as a Decimal (thousands separators allowed); None when blank; it must be a number above 0."""
    text = str(raw if raw is not None else "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{label} must be a number; got {text!r}.") from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"{label} must be a number above 0; got {text!r}.")
    return value


def order_input(form: dict[str, Any], order_type: str, order_class: str, size_by: str) -> OrderRequest:
    """The order typed in the form; the form shows (and so submits) only the prices its type and class use."""
    symbol = str(form.get("symbol", "")).strip().upper()
    if not symbol:
        raise InvalidInput("Enter the symbol to trade.")
    size = decimal(form.get("size"), "The amount" if size_by == "money" else "The quantity")
    if size is None:
        raise InvalidInput("Enter a quantity of shares or an amount of money.")
    prices = {name: decimal(form.get(name), label) for name, label in PRICE_LABELS.items()}
    return OrderRequest(
        client_order_id="",
        symbol=symbol,
        side=str(form.get("side", "")),
        quantity=size if size_by == "shares" else None,
        notional=size if size_by == "money" else None,
        order_type=order_type,
        time_in_force=str(form.get("time_in_force", "")),
        order_class=order_class,
        **prices,
    )


def _differences(viewer: Viewer, portfolio_id: int) -> list[dict[str, str]]:
    """The ledger against Alpaca, symbol by symbol (differences only)."""
    with session_scope() as db:
        rows = execution.reconcile(db, viewer, portfolio_id)
    return [
        {
            "symbol": d.symbol,
            "ledger": quantity(float(d.ledger)),
            "broker": quantity(float(d.broker)),
            "difference": f"{'+' if d.difference > 0 else '−'}{quantity(abs(float(d.difference)))}",
            "price": money(float(d.broker_average_price)),
        }
        for d in rows
    ]


def _orders(viewer: Viewer, portfolio_id: int) -> tuple[list[OrderRow], str]:
    """The portfolio's orders (the read check) and the broker it trades through."""
    with session_scope() as db:
        return execution.list_orders(db, viewer, portfolio_id), rebalance.settings_for(db, portfolio_id).broker


def _place(viewer: Viewer, portfolio_id: int, inp: OrderRequest) -> tuple[str, str, str]:
    with session_scope() as db:
        order = execution.place_order(db, viewer, portfolio_id, inp)
        return order.client_order_id, order.status, order.message


def _cancel(viewer: Viewer, order_id: int) -> str:
    with session_scope() as db:
        return execution.cancel_order(db, viewer, order_id).status


def _sync(viewer: Viewer, portfolio_id: int) -> execution.ExecutionReport:
    """Sync the portfolio's open orders (it writes fills into the ledger, so only for who may change it)."""
    with session_scope() as db:
        return execution.sync_portfolio_orders(db, viewer, portfolio_id)


def _adopt(viewer: Viewer, portfolio_id: int, symbol: str) -> None:
    with session_scope() as db:
        execution.adopt_broker_position(db, viewer, portfolio_id, symbol)


class OrdersState(PortfolioState):
    """The orders page's view data."""

    orders: list[OrderRow] = []
    broker: str = "paper"
    can_change: bool = False
    order_type: str = "market"
    order_class: str = "simple"
    size_by: str = "shares"
    form_error: str = ""
    form_version: int = 0
    differences: list[dict[str, str]] = []
    reconcile_error: str = ""
    reconciling: bool = False

    @rx.var
    def open_orders(self) -> list[OrderRow]:
        return [o for o in self.orders if o.is_open]

    @rx.var
    def past_orders(self) -> list[OrderRow]:
        return [o for o in self.orders if not o.is_open]

    @rx.event
    @authorized()
    async def load(self, viewer: Viewer):
        """Show the chosen portfolio (``?p=<id>``, the current choice, else the first)."""
        return await self._refresh(viewer) if self._choose(viewer) else []

    @rx.event
    @authorized()
    async def select(self, viewer: Viewer, portfolio_id: str):
        self.selected, self.form_error = portfolio_id, ""
        self.differences, self.reconcile_error = [], ""
        return await self._refresh(viewer)

    async def _refresh(self, viewer: Viewer) -> list:
        """Reload the orders; then, for a portfolio trading through Alpaca, compare positions in the background."""
        self.loading = True
        try:
            self.orders, self.broker = await asyncio.to_thread(_orders, viewer, int(self.selected))
        finally:
            self.loading = False
        self.can_change = self.selected_is_mine and viewer.role.allows(Role.ANALYST)
        return [OrdersState.reconcile] if self.broker == "alpaca" else []

    @rx.event(background=True)
    @authorized(background=True)
    async def reconcile(self, viewer: Viewer):
        """Alpaca's positions against the ledger (the broker may take seconds to answer; the page stays live)."""
        async with self:
            portfolio_id, self.reconciling = int(self.selected), True
        try:
            rows, error = await asyncio.to_thread(_differences, viewer, portfolio_id), ""
        except ServiceError as exc:
            rows, error = [], str(exc)
        async with self:
            self.reconciling = False
            if self.selected == str(portfolio_id):
                self.differences, self.reconcile_error = rows, error

    @rx.event
    @authorized()
    def choose(self, viewer: Viewer, which: str, value: str) -> None:
        """The form's order type, class or size unit (they decide which inputs it shows)."""
        if which == "type" and value in ORDER_TYPES:
            self.order_type = value
        elif which == "class" and value in ORDER_CLASSES:
            self.order_class = value
        elif which == "size" and value in SIZE_LABELS:
            self.size_by = value

    @rx.event
    @authorized()
    async def place(self, viewer: Viewer, form: dict):
        try:
            inp = order_input(form, self.order_type, self.order_class, self.size_by)
            key, status, message = await asyncio.to_thread(_place, viewer, int(self.selected), inp)
        except ServiceError as exc:
            self.form_error = str(exc)
            return None
        self.form_error = f"The broker rejected order {key}: {message}" if status == "rejected" else ""
        self.form_version += 1
        return [rx.toast.success(f"Order {key} is {status.replace('_', ' ')}."), *await self._refresh(viewer)]

    @rx.event
    @authorized()
    async def cancel(self, viewer: Viewer, order_id: int):
        status = await asyncio.to_thread(_cancel, viewer, order_id)
        return [rx.toast.success(f"The order is {status.replace('_', ' ')}."), *await self._refresh(viewer)]

    @rx.event
    @authorized()
    async def sync(self, viewer: Viewer):
        report = await asyncio.to_thread(_sync, viewer, int(self.selected))
        message = (
            f"Synced {report.sent} open order(s): {report.filled} filled, {report.open} still open, "
            f"{report.booked} fill(s) booked."
        )
        return [rx.toast.success(message), *await self._refresh(viewer)]

    @rx.event
    @authorized()
    async def adopt(self, viewer: Viewer, symbol: str):
        await asyncio.to_thread(_adopt, viewer, int(self.selected), symbol)
        return [
            rx.toast.success(f"The ledger now counts Alpaca's {symbol} shares (a transfer, audited)."),
            *await self._refresh(viewer),
        ]


# --- components -----------------------------------------------------------------------------------------------------

S = OrdersState


def status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, *STATUS_COLOR.items(), "gray"), variant="soft")


def cancel_button(o: OrderRow) -> rx.Component:
    """Cancel, after a confirmation."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Cancel", size="1", variant="soft", color_scheme="red")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel order ", o.client_order_id, "?"),
            rx.alert_dialog.description(o.side, " ", o.symbol, ": ", o.description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Cancel order", color_scheme="red", on_click=S.cancel(o.id))),
                justify="end",
                spacing="2",
                margin_top="1rem",
            ),
        ),
    )


def order_row(o: OrderRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(o.symbol, weight="bold")),
        rx.table.cell(rx.badge(o.side, color_scheme=rx.cond(o.side == "buy", "green", "red"), variant="soft")),
        rx.table.cell(status_badge(o.status)),
        rx.table.cell(rx.cond(S.can_change & o.is_open, cancel_button(o))),
        rx.table.cell(o.filled, style=RIGHT),
        rx.table.cell(rx.cond(o.average_price != "", "$" + o.average_price.to(str), ""), style=RIGHT),
        rx.table.cell(o.description, white_space="nowrap"),
        rx.table.cell(o.created, white_space="nowrap", **WIDE_ONLY),
        rx.table.cell(o.broker, **WIDE_ONLY),
        rx.table.cell(rx.text(o.message, size="1", color_scheme="gray"), min_width="8rem", **WIDE_ONLY),
        class_name="order-row",
    )


def orders_table(rows: rx.Var, table_id: str) -> rx.Component:
    return scroll_table(
        [
            header("Symbol"),
            header("Side"),
            header("Status"),
            header(""),
            header("Filled", right=True),
            header("Avg price", right=True),
            header("Order"),
            header("Created (UTC)", wide_only=True),
            header("Broker", wide_only=True),
            header("Message", wide_only=True),
        ],
        rx.foreach(rows, order_row),
        id=table_id,
    )


def _select(label: str, name: str, options: dict[str, str], **props: Any) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", aria_label=label),
            rx.select.content(*[rx.select.item(text, value=value) for value, text in options.items()]),
            name=name,
            size="3",
            **props,
        ),
        spacing="1",
        width="100%",
    )


def _price(name: str) -> rx.Component:
    return field(PRICE_LABELS[name], name, input_mode="decimal")


def order_form() -> rx.Component:
    prices = rx.match(
        S.order_type,
        ("limit", field_row(_price("limit_price"))),
        ("stop", field_row(_price("stop_price"))),
        ("stop_limit", field_row(_price("limit_price"), _price("stop_price"))),
        ("trailing_stop", field_row(_price("trail_percent"))),
        rx.fragment(),
    )
    return rx.form(
        rx.vstack(
            field_row(
                field("Symbol", "symbol", placeholder="AAPL", max_length=16, text_transform="uppercase"),
                _select("Side", "side", {s: s.title() for s in SIDES}, default_value="buy"),
                _select("Size in", "size_by", SIZE_LABELS, value=S.size_by, on_change=lambda v: S.choose("size", v)),
                field(rx.cond(S.size_by == "money", "Amount ($)", "Quantity"), "size", input_mode="decimal"),
            ),
            field_row(
                _select("Type", "order_type", TYPE_LABELS, value=S.order_type, on_change=lambda v: S.choose("type", v)),
                _select("Time in force", "time_in_force", TIF_LABELS, default_value="day"),
                _select(
                    "Class", "order_class", CLASS_LABELS, value=S.order_class, on_change=lambda v: S.choose("class", v)
                ),
            ),
            rx.box(
                prices,
                rx.cond(S.order_class != "simple", field_row(_price("take_profit"), _price("stop_loss"))),
                width="100%",
                max_width="40rem",
            ),
            rx.cond(
                S.broker == "paper",
                rx.text(
                    "The paper broker fills at the latest stored close (± slippage); it takes market, limit, stop and "
                    "stop-limit simple orders. A day order it cannot fill on that close expires.",
                    size="1",
                    color_scheme="gray",
                ),
            ),
            error_callout(S.form_error),
            rx.button("Place order", type="submit", size="3", id="place-order"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.place,
        key=S.form_version,
        id="order-form",
        width="100%",
    )


def reconciliation_card() -> rx.Component:
    table = scroll_table(
        [
            header("Symbol"),
            header("Ledger", right=True),
            header("Alpaca", right=True),
            header("Difference", right=True),
            header("Alpaca avg price", right=True, wide_only=True),
            header(""),
        ],
        rx.foreach(
            S.differences,
            lambda d: rx.table.row(
                rx.table.cell(rx.text(d["symbol"], weight="bold")),
                rx.table.cell(d["ledger"], style=RIGHT),
                rx.table.cell(d["broker"], style=RIGHT),
                rx.table.cell(d["difference"], style=RIGHT),
                rx.table.cell(d["price"], style=RIGHT, **WIDE_ONLY),
                rx.table.cell(
                    rx.cond(
                        S.can_change,
                        rx.button("Adopt broker count", size="1", variant="soft", on_click=S.adopt(d["symbol"])),
                    )
                ),
            ),
        ),
    )
    return section(
        "Reconciliation with Alpaca",
        rx.cond(S.reconciling, rx.hstack(rx.spinner(), rx.text("Asking Alpaca…", size="2"), align="center")),
        error_callout(S.reconcile_error),
        rx.cond(
            S.differences.length() > 0,
            table,
            rx.cond(
                (S.reconcile_error == "") & ~S.reconciling,
                rx.text("The ledger and Alpaca agree on every position.", size="2"),
            ),
        ),
        note="Shares in the ledger against the Alpaca account's positions. Adopting writes a transfer in or out at "
        "Alpaca's count, audited; nothing is overwritten silently.",
    )


@app_page("/orders", "Orders", on_load=OrdersState.load)
def orders_page() -> rx.Component:
    return rx.vstack(
        portfolio_picker(
            S.select,
            rx.cond(S.loading, rx.spinner()),
            rx.cond(S.can_change, rx.button("Sync now", variant="soft", on_click=S.sync, id="sync-orders")),
            rx.link("Rebalance", href="/rebalance", size="2"),
        ),
        rx.cond(
            S.selected == "",
            empty_state(),
            rx.vstack(
                rx.text(
                    "Orders go through the ",
                    rx.text.strong(S.broker),
                    " broker (set on Rebalance → Settings).",
                    size="2",
                ),
                section(
                    "Open orders",
                    rx.cond(
                        S.open_orders.length() > 0,
                        orders_table(S.open_orders, "open-orders"),
                        rx.text("No open orders.", size="2", color_scheme="gray"),
                    ),
                ),
                rx.cond(S.can_change, section("New order", order_form())),
                rx.cond(S.broker == "alpaca", rx.box(reconciliation_card(), id="reconciliation", width="100%")),
                section(
                    "Past orders",
                    rx.cond(
                        S.past_orders.length() > 0,
                        orders_table(S.past_orders, "past-orders"),
                        rx.text("No past orders yet.", size="2", color_scheme="gray"),
                    ),
                ),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )
