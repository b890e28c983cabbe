"""Number formatting for the pages: money with thousands separators, signed percentages, quantities."""

from __future__ import annotations


def money(value: float | None, currency: str = "$", digits: int = 2) -> str:
    """-1234.5 → "−$1,234.50"; None → "—"."""
    if value is None:
        return "—"
    sign = "−" if round(value, digits) < 0 else ""
    return f"{sign}{currency}{abs(value):,.{digits}f}"


def signed_money(value: float | None) -> str:
    """Money with an explicit + for gains."""
    return "—" if value is None else ("+" if value > 0 else "") + money(value)


def pct(value: float | None, digits: int = 2) -> str:
    """0.1234 → "+12.34%"; a value that rounds to zero has no sign; None → "—"."""
    if value is None:
        return "—"
    shown = round(value * 100, digits)
    sign = "+" if shown > 0 else "−" if shown < 0 else ""
    return f"{sign}{abs(value) * 100:.{digits}f}%"


def quantity(value: float) -> str:
    """Shares without trailing zeros: 12.500 → "12.5"."""
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def tone(value: float | None) -> str:
    """A Radix colour for a gain (green), a loss (red) or nothing (gray)."""
    if not value:
        return "gray"
    return "green" if value > 0 else "red"
