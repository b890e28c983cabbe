"""Tables that scroll sideways inside their box on narrow screens instead of widening the page."""

from __future__ import annotations

from typing import Any

import reflex as rx


def scroll_table(headers: list[rx.Component | str], body: rx.Component, size: str = "1", **box: Any) -> rx.Component:
    """A Radix table (header cells from ``headers``; plain strings become header cells) in a scrolling box."""
    cells = [h if isinstance(h, rx.Component) else rx.table.column_header_cell(h) for h in headers]
    return rx.box(
        rx.table.root(rx.table.header(rx.table.row(*cells)), rx.table.body(body), size=size, width="100%"),
        overflow_x="auto",
        width="100%",
        **box,
    )


RIGHT = {"text_align": "right", "white_space": "nowrap"}
"""Style of a cell holding a number."""

WIDE_ONLY = {"display": rx.breakpoints(initial="none", sm="table-cell")}
"""Props of a cell hidden on phones."""


def header(label: str, right: bool = False, wide_only: bool = False) -> rx.Component:
    """A header cell: right-aligned for numbers, optionally hidden on phones."""
    return rx.table.column_header_cell(
        label, text_align="right" if right else "left", white_space="nowrap", **(WIDE_ONLY if wide_only else {})
    )
