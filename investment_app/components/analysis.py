"""Pieces shared by the analysis pages: their sub-navigation, the progress of a run, figure tiles."""

from __future__ import annotations

from typing import Any

import reflex as rx

from investment_app.components.portfolio_picker import empty_state, portfolio_picker
from investment_app.state import AnalysisState

PAGES = (
    ("Performance", "/performance"),
    ("Risk", "/risk"),
    ("Stress", "/stress"),
    ("Projection", "/projection"),
    ("Optimize", "/optimize"),
)


def sub_nav(active: str) -> rx.Component:
    """Links between the analysis pages, the current one marked."""
    return rx.hstack(
        *[
            rx.link(
                rx.button(label, variant="solid" if route == active else "soft", size="2", tab_index=-1),
                href=route,
                aria_current="page" if route == active else None,
            )
            for label, route in PAGES
        ],
        spacing="2",
        wrap="wrap",
    )


def progress(state: type[AnalysisState]) -> rx.Component:
    """A progress bar with the current step while a run is going, and the run's error when it failed."""
    return rx.fragment(
        rx.cond(
            state.running,
            rx.vstack(
                rx.progress(value=state.progress, width="100%"),
                rx.text(state.stage, "…", size="1", color_scheme="gray"),
                width="100%",
                spacing="1",
                role="status",
            ),
        ),
        rx.cond(
            state.error != "",
            rx.callout(state.error, icon="triangle-alert", color_scheme="red", role="alert", width="100%"),
        ),
    )


def analysis_page(state: type[AnalysisState], active: str, *content: rx.Component, controls: Any = ()) -> rx.Component:
    """The common frame: portfolio picker, sub-navigation, progress, then ``content`` once there is data."""
    return rx.vstack(
        portfolio_picker(state.select, *controls),
        sub_nav(active),
        progress(state),
        rx.cond(
            state.empty | (state.selected == ""),
            empty_state(),
            rx.vstack(*content, spacing="3", width="100%"),
        ),
        spacing="3",
        width="100%",
    )


def tile(
    label: rx.Var | str, value: rx.Var | str, note: rx.Var | str = "", color: rx.Var | str = "gray"
) -> rx.Component:
    """One figure: a small grey label, the value, an optional grey note (e.g. why it is missing)."""
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="4", weight="bold", color_scheme=color),
        rx.cond(note != "", rx.text(note, size="1", color_scheme="gray")),
        spacing="0",
        align="start",
        min_width="0",
    )


def tile_grid(rows: rx.Var) -> rx.Component:
    """Tiles for a list of {"label", "value", "note", "tone"} dicts, 2 columns on a phone, 4 on a desktop."""
    return rx.grid(
        rx.foreach(rows, lambda r: tile(r["label"], r["value"], r["note"], r["tone"])),
        columns=rx.breakpoints(initial="2", sm="3", lg="4"),
        spacing="4",
        width="100%",
    )
