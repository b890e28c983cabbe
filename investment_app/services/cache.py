"""A small thread-safe LRU cache for computed results, keyed by everything they depend on.

Keys carry the database URL, the portfolio, its ledger version and the price store's version, so new
transactions or new prices make a fresh key instead of needing an invalidation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class ResultCache:
    """Least-recently-used results, at most ``size`` of them."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The cached value for ``key``, else ``build()`` (run outside the lock) stored under it."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (tests that reuse ids across databases)."""
        with self._lock:
            self._items.clear()
