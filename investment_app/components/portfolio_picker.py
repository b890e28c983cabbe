"""The portfolio chooser at the top of the ledger pages."""

from __future__ import annotations

import reflex as rx

from investment_app.state import PortfolioState


def portfolio_picker(on_change: rx.EventHandler, *extra: rx.Component) -> rx.Component:
    """A select of the viewer's portfolios (shared ones marked), then ``extra`` controls on the right."""
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(placeholder="Choose a portfolio", min_width="12rem"),
            rx.select.content(
                rx.foreach(
                    PortfolioState.portfolios,
                    lambda p: rx.select.item(rx.cond(p.mine, p.name, p.name + " (shared)"), value=p.id.to_string()),
                )
            ),
            value=PortfolioState.selected,
            on_change=on_change,
        ),
        rx.spacer(),
        *extra,
        width="100%",
        align="center",
        wrap="wrap",
        spacing="2",
    )


def empty_state() -> rx.Component:
    """What a ledger page shows instead of figures when there is no portfolio or nothing in it."""
    return rx.callout(
        rx.cond(
            PortfolioState.selected == "",
            "You have no portfolios yet. Create one on the Portfolios page.",
            "This portfolio has no transactions yet. Import a CSV or add them on the Transactions page.",
        ),
        icon="info",
        width="100%",
    )
