"""Errors raised by the analytics: each message names the problem in words a user can act on."""

from __future__ import annotations


class AnalyticsError(ValueError):
    """An input the analytics cannot work with (the message says why)."""


class InsufficientData(AnalyticsError):
    """Too few observations for a computation."""

    def __init__(self, what: str, needs: int, has: int) -> None:
        super().__init__(f"{what} needs at least {needs} observations (has {has})")
        self.needs, self.has = needs, has
