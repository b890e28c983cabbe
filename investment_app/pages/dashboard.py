"""Dashboard: the viewer's portfolios and the market data at hand (the ledger issue fills it out)."""

from __future__ import annotations

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page
from investment_app.db import session_scope
from investment_app.services.overview import PortfolioCard, overview
from investment_app.state import AppState, authorized


class DashboardState(AppState):
    """The dashboard's view data."""

    portfolios: list[PortfolioCard] = []
    symbols: str = ""
    bars: str = ""
    first_date: str = ""
    last_date: str = ""

    @rx.event
    @authorized()
    def load(self, viewer: Viewer) -> None:
        with session_scope() as db:
            data = overview(db, viewer)
        self.portfolios = data.portfolios
        self.symbols, self.bars = f"{data.symbols:,}", f"{data.bars:,}"
        self.first_date, self.last_date = data.first_date, data.last_date


def stat(label: str, value: rx.Var | str, hint: rx.Var | str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="6"),
            rx.text(hint, size="1", color_scheme="gray"),
            spacing="1",
        ),
        width="100%",
    )


def portfolio_card(p: PortfolioCard) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon("briefcase", size=20),
            rx.vstack(
                rx.text(p.name, weight="bold"),
                rx.text("Benchmark ", p.benchmark, " · ", p.currency, size="1", color_scheme="gray"),
                spacing="0",
            ),
            align="center",
            spacing="3",
        ),
        width="100%",
    )


@app_page("/", "Dashboard", on_load=DashboardState.load)
def dashboard() -> rx.Component:
    return rx.vstack(
        rx.text("Welcome back, ", rx.text.strong(AppState.user_name), ".", size="3"),
        rx.grid(
            stat("Portfolios", DashboardState.portfolios.length().to_string()),
            stat("Symbols with prices", DashboardState.symbols),
            stat(
                "Daily bars",
                DashboardState.bars,
                DashboardState.first_date + " → " + DashboardState.last_date,
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
        rx.heading("Your portfolios", size="4", margin_top="1rem"),
        rx.cond(
            DashboardState.portfolios.length() > 0,
            rx.grid(
                rx.foreach(DashboardState.portfolios, portfolio_card),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.text("No portfolio yet.", color_scheme="gray"),
        ),
        rx.callout(
            "Holdings, performance and risk arrive here as the ledger is filled in.",
            icon="info",
            variant="surface",
            width="100%",
            margin_top="1rem",
        ),
        spacing="3",
        width="100%",
        align="start",
    )
