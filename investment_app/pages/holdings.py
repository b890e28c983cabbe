"""Holdings & lots: each position with its open tax lots, realized gains by tax year, CSV exports."""

from __future__ import annotations

import dataclasses
import re

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page
from investment_app.components.numbers import money, pct, quantity, signed_money, tone
from investment_app.components.portfolio_picker import empty_state, portfolio_picker
from investment_app.components.tables import RIGHT, WIDE_ONLY, header, scroll_table
from investment_app.db import session_scope
from investment_app.services import holdings as holdings_service
from investment_app.services import transactions
from investment_app.state import PortfolioState, authorized

PHONE_ONLY = rx.breakpoints(initial="flex", sm="none")  # shown on phones only
LOT_HEADERS = ("Opened", "Quantity", "Unit cost", "Cost", "Value", "Gain", "Term")
WIDE_LOT_COLUMNS = ("Quantity", "Unit cost", "Cost", "Term")


@dataclasses.dataclass
class HoldingView:
    """One holding as displayed, with its open lots."""

    symbol: str = ""
    name: str = ""
    quantity: str = ""
    price: str = ""
    value: str = ""
    cost: str = ""
    gain: str = ""
    gain_pct: str = ""
    gain_tone: str = "gray"
    stale: bool = False
    lot_count: str = ""
    lots: list[dict[str, str]] = dataclasses.field(default_factory=list)


def _compute(viewer: Viewer, portfolio_id: int) -> holdings_service.HoldingsReport:
    with session_scope() as db:
        return holdings_service.holdings(db, viewer, portfolio_id)


def _lot_view(lot: holdings_service.LotRow) -> dict[str, str]:
    return {
        "opened": lot.opened.isoformat(),
        "quantity": quantity(lot.quantity),
        "unit_cost": money(lot.unit_cost),
        "cost": money(lot.cost),
        "value": money(lot.value),
        "gain": signed_money(lot.unrealized),
        "gain_pct": pct(lot.unrealized_pct),
        "gain_tone": tone(lot.unrealized),
        "term": "long" if lot.long_term else "short",
        "term_note": "" if lot.long_term else f"long from {lot.long_term_from.isoformat()}",
    }


def _holding_view(h: holdings_service.HoldingRow) -> HoldingView:
    return HoldingView(
        symbol=h.symbol,
        name=h.name,
        quantity=quantity(h.quantity),
        price=money(h.price),
        value=money(h.value),
        cost=money(h.cost),
        gain=signed_money(h.unrealized),
        gain_pct=pct(h.unrealized_pct),
        gain_tone=tone(h.unrealized),
        stale=h.stale,
        lot_count=f"{len(h.lots)} lot" + ("" if len(h.lots) == 1 else "s"),
        lots=[_lot_view(lot) for lot in h.lots],
    )


def _year_view(y: holdings_service.TaxYear) -> dict[str, str]:
    return {
        "year": str(y.year),
        "short": signed_money(y.short_term),
        "long": signed_money(y.long_term),
        "total": signed_money(y.total),
        "short_tone": tone(y.short_term),
        "long_tone": tone(y.long_term),
        "total_tone": tone(y.total),
    }


def _realized_view(r: holdings_service.RealizedRow) -> dict[str, str]:
    return {
        "key": f"{r.sell_id}-{r.lot_id}",
        "closed": r.closed.isoformat(),
        "opened": r.opened.isoformat(),
        "symbol": r.symbol,
        "quantity": quantity(r.quantity),
        "proceeds": money(r.proceeds),
        "cost": money(r.cost),
        "gain": signed_money(r.gain),
        "gain_tone": tone(r.gain),
        "term": "long" if r.long_term else "short",
    }


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "portfolio"


class HoldingsState(PortfolioState):
    """The holdings page's view data (display strings; the numbers stay on the server)."""

    as_of: str = ""
    totals: dict[str, str] = {}
    holdings: list[HoldingView] = []
    expanded: list[str] = []
    years: list[dict[str, str]] = []
    realized: list[dict[str, str]] = []

    @rx.event
    @authorized()
    async def load(self, viewer: Viewer):
        """Show the chosen portfolio (``?p=<id>``, the current choice, else the first)."""
        if self._choose(viewer):
            await self._refresh(viewer)

    @rx.event
    @authorized()
    async def select(self, viewer: Viewer, portfolio_id: str):
        self.selected = portfolio_id
        self.expanded = []
        await self._refresh(viewer)

    async def _refresh(self, viewer: Viewer) -> None:
        report = await self._computed(viewer, _compute)
        if report is None:
            self.holdings, self.years, self.realized = [], [], []
        else:
            self._apply(report)

    def _apply(self, report: holdings_service.HoldingsReport) -> None:
        self.as_of = report.as_of.isoformat()
        value = sum(h.value for h in report.holdings)
        cost = sum(h.cost for h in report.holdings)
        self.totals = {
            "value": money(value),
            "cost": money(cost),
            "gain": signed_money(value - cost),
            "gain_pct": pct((value - cost) / cost if cost else 0.0),
            "gain_tone": tone(value - cost),
            "realized": signed_money(sum(y.total for y in report.tax_years)),
            "realized_tone": tone(sum(y.total for y in report.tax_years)),
        }
        self.holdings = [_holding_view(h) for h in report.holdings]
        self.expanded = [s for s in self.expanded if any(h.symbol == s for h in report.holdings)]
        self.years = [_year_view(y) for y in report.tax_years]
        self.realized = [_realized_view(r) for r in report.realized]

    @rx.event
    @authorized()
    def toggle(self, viewer: Viewer, symbol: str) -> None:
        """Show or hide the open lots of one holding."""
        self.expanded = (
            [s for s in self.expanded if s != symbol] if symbol in self.expanded else [*self.expanded, symbol]
        )

    def _portfolio_name(self) -> str:
        return next((p.name for p in self.portfolios if str(p.id) == self.selected), "portfolio")

    @rx.event
    @authorized()
    def download_transactions(self, viewer: Viewer):
        """Every transaction of the selected portfolio as CSV, in the import format."""
        if not self.selected:
            return rx.toast.error("Choose a portfolio first.")
        with session_scope() as db:
            data = transactions.export_transactions(db, viewer, int(self.selected))
        return rx.download(data=data, filename=f"{_file_stem(self._portfolio_name())}-transactions.csv")

    @rx.event
    @authorized()
    def download_realized(self, viewer: Viewer):
        """Realized gains per relieved lot of the selected portfolio as CSV."""
        if not self.selected:
            return rx.toast.error("Choose a portfolio first.")
        with session_scope() as db:
            data = transactions.export_realized(db, viewer, int(self.selected))
        return rx.download(data=data, filename=f"{_file_stem(self._portfolio_name())}-realized-gains.csv")


def picker() -> rx.Component:
    return portfolio_picker(
        HoldingsState.select,
        rx.cond(HoldingsState.loading, rx.spinner()),
        rx.button(
            rx.icon("download", size=16),
            "Transactions CSV",
            variant="soft",
            size="2",
            on_click=HoldingsState.download_transactions,
            disabled=HoldingsState.selected == "",
            id="download-transactions",
        ),
        rx.button(
            rx.icon("download", size=16),
            "Realized gains CSV",
            variant="soft",
            size="2",
            on_click=HoldingsState.download_realized,
            disabled=HoldingsState.selected == "",
            id="download-realized",
        ),
    )


def summary_line() -> rx.Component:
    t = HoldingsState.totals
    return rx.hstack(
        rx.text("As of ", rx.text.strong(HoldingsState.as_of), size="2"),
        rx.text("Market value ", rx.text.strong(t["value"]), size="2"),
        rx.text("Cost ", rx.text.strong(t["cost"]), size="2"),
        rx.text(
            "Unrealized ",
            rx.text.strong(t["gain"], color_scheme=t["gain_tone"]),
            " (",
            t["gain_pct"],
            ")",
            size="2",
        ),
        rx.text("Realized ", rx.text.strong(t["realized"], color_scheme=t["realized_tone"]), size="2"),
        spacing="4",
        wrap="wrap",
        width="100%",
    )


def term_badge(term: rx.Var) -> rx.Component:
    return rx.badge(term, color_scheme=rx.cond(term == "long", "green", "orange"), variant="soft")


def lot_row(lot: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(lot["opened"], white_space="nowrap"),
            rx.vstack(
                rx.text(lot["quantity"], " sh", size="1", color_scheme="gray", white_space="nowrap"),
                term_badge(lot["term"]),
                display=PHONE_ONLY,
                spacing="1",
                align="start",
            ),
        ),
        rx.table.cell(lot["quantity"], style=RIGHT, **WIDE_ONLY),
        rx.table.cell(lot["unit_cost"], style=RIGHT, **WIDE_ONLY),
        rx.table.cell(lot["cost"], style=RIGHT, **WIDE_ONLY),
        rx.table.cell(lot["value"], style=RIGHT),
        rx.table.cell(
            rx.text(lot["gain"], color_scheme=lot["gain_tone"]),
            rx.text(lot["gain_pct"], size="1", color_scheme="gray"),
            style=RIGHT,
        ),
        rx.table.cell(
            term_badge(lot["term"]),
            rx.cond(lot["term_note"] != "", rx.text(lot["term_note"], size="1", color_scheme="gray")),
            white_space="nowrap",
            **WIDE_ONLY,
        ),
    )


def lots_table(h: HoldingView) -> rx.Component:
    headers = [header(label, label not in ("Opened", "Term"), label in WIDE_LOT_COLUMNS) for label in LOT_HEADERS]
    return scroll_table(headers, rx.foreach(h.lots, lot_row), padding_y="0.5rem")


def holding_rows(h: HoldingView) -> rx.Component:
    is_open = HoldingsState.expanded.contains(h.symbol)
    return rx.fragment(
        rx.table.row(
            rx.table.cell(
                rx.icon_button(
                    rx.cond(is_open, rx.icon("chevron-down", size=16), rx.icon("chevron-right", size=16)),
                    variant="ghost",
                    size="1",
                    on_click=HoldingsState.toggle(h.symbol),
                    aria_label="Show or hide the lots of " + h.symbol,
                    aria_expanded=rx.cond(is_open, "true", "false"),
                    id="lots-toggle-" + h.symbol,
                ),
                width="2rem",
            ),
            rx.table.cell(
                rx.vstack(
                    rx.hstack(
                        rx.text(h.symbol, weight="bold"),
                        rx.cond(h.stale, rx.badge("stale price", color_scheme="orange")),
                        spacing="2",
                    ),
                    rx.text(h.name, size="1", color_scheme="gray"),
                    rx.text(h.lot_count, size="1", color_scheme="gray"),
                    spacing="0",
                )
            ),
            rx.table.cell(h.quantity, style=RIGHT, **WIDE_ONLY),
            rx.table.cell(h.price, style=RIGHT, **WIDE_ONLY),
            rx.table.cell(h.value, style=RIGHT),
            rx.table.cell(h.cost, style=RIGHT, **WIDE_ONLY),
            rx.table.cell(
                rx.text(h.gain, color_scheme=h.gain_tone),
                rx.text(h.gain_pct, size="1", color_scheme="gray"),
                style=RIGHT,
            ),
        ),
        rx.cond(is_open, rx.table.row(rx.table.cell(lots_table(h), col_span=7))),
    )


def holdings_table() -> rx.Component:
    headers = [("", None), ("Holding", None), ("Quantity", True), ("Price", True), ("Value", None)]
    headers += [("Cost", True), ("Gain", None)]
    return rx.card(
        rx.heading("Holdings", size="4", margin_bottom="0.25rem"),
        rx.text(
            "Gain: unrealized, value − cost. Open a holding to see its tax lots; long term: held more than a year "
            "as of the last valued day.",
            size="1",
            color_scheme="gray",
            margin_bottom="0.5rem",
        ),
        scroll_table(
            [header(label, label not in ("", "Holding"), bool(wide)) for label, wide in headers],
            rx.foreach(HoldingsState.holdings, holding_rows),
        ),
        rx.cond(
            HoldingsState.holdings.length() == 0,
            rx.text("No open positions.", size="2", color_scheme="gray", margin_top="0.5rem"),
        ),
        width="100%",
    )


def year_row(y: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(y["year"], weight="bold")),
        rx.table.cell(rx.text(y["short"], color_scheme=y["short_tone"]), style=RIGHT),
        rx.table.cell(rx.text(y["long"], color_scheme=y["long_tone"]), style=RIGHT),
        rx.table.cell(rx.text(y["total"], color_scheme=y["total_tone"], weight="medium"), style=RIGHT),
    )


def tax_year_table() -> rx.Component:
    headers = [header("Tax year"), *[header(h, right=True) for h in ("Short-term gain", "Long-term gain", "Total")]]
    return scroll_table(headers, rx.foreach(HoldingsState.years, year_row), id="tax-years")


def realized_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(r["closed"], white_space="nowrap"),
            rx.text("opened ", r["opened"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(
            rx.text(r["symbol"], weight="bold"),
            rx.vstack(
                rx.text(r["quantity"], " sh", size="1", color_scheme="gray", white_space="nowrap"),
                term_badge(r["term"]),
                display=PHONE_ONLY,
                spacing="1",
                align="start",
            ),
        ),
        rx.table.cell(r["quantity"], style=RIGHT, **WIDE_ONLY),
        rx.table.cell(r["proceeds"], style=RIGHT, **WIDE_ONLY),
        rx.table.cell(r["cost"], style=RIGHT, **WIDE_ONLY),
        rx.table.cell(rx.text(r["gain"], color_scheme=r["gain_tone"]), style=RIGHT),
        rx.table.cell(term_badge(r["term"]), **WIDE_ONLY),
        key=r["key"],
    )


def realized_table() -> rx.Component:
    headers = [header("Closed"), header("Symbol"), header("Quantity", True, True), header("Proceeds", True, True)]
    headers += [header("Cost", True, True), header("Gain", True), header("Term", wide_only=True)]
    return scroll_table(
        headers,
        rx.foreach(HoldingsState.realized, realized_row),
        max_height="28rem",
        overflow_y="auto",
        id="realized-lots",
    )


def realized_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Realized gains", size="4"),
            rx.text(
                "Proceeds after the sale's fees minus the relieved lots' cost (fees included). "
                "Long term: sold more than a year after the lot was opened. Tax year: the year of the sale.",
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                HoldingsState.realized.length() == 0,
                rx.text("Nothing sold yet.", size="2", color_scheme="gray"),
                rx.vstack(
                    tax_year_table(),
                    rx.heading("Realized lots", size="3", margin_top="0.5rem"),
                    realized_table(),
                    spacing="3",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@app_page("/holdings", "Holdings & lots", on_load=HoldingsState.load)
def holdings_page() -> rx.Component:
    return rx.vstack(
        picker(),
        rx.cond(
            HoldingsState.empty | (HoldingsState.selected == ""),
            empty_state(),
            rx.vstack(summary_line(), holdings_table(), realized_card(), spacing="3", width="100%"),
        ),
        spacing="3",
        width="100%",
    )
