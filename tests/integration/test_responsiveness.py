"""A large recomputation runs off the event loop: another session's events keep being served meanwhile."""

import asyncio
import time

import numpy as np

from investment_app.db import session_scope
from investment_app.marketdata.bundled import load_bundled
from investment_app.pages.dashboard import _compute
from investment_app.services import accounts, performance, portfolios, transactions
from tests.benchmarks import bench_ledger


async def test_a_large_valuation_does_not_block_other_sessions(app_db, monkeypatch):
    monkeypatch.setattr(bench_ledger, "HOLDINGS", 200)
    monkeypatch.setattr(bench_ledger, "TRANSACTIONS", 6000)
    monkeypatch.setattr(bench_ledger, "DAYS", 1500)
    prices = bench_ledger.synthetic_prices()
    load_bundled(app_db)
    bench_ledger.store_prices(app_db, prices)
    with session_scope() as db:
        accounts.create_user(db, "big@example.com", "correct horse 42")
    with session_scope() as db:
        viewer = accounts.acting_as(db, "big@example.com")
        pid = portfolios.create(db, viewer, "Big").id
        transactions.import_rows(db, viewer, pid, bench_ledger.synthetic_ledger(prices))
    performance._cache.clear()

    gaps: list[float] = []

    async def other_session() -> None:  # stands for another user's events on the same server loop
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(other_session())
    began = time.perf_counter()
    result = await asyncio.to_thread(_compute, viewer, pid)  # what the dashboard's load handler awaits
    took = time.perf_counter() - began
    ticker.cancel()
    assert result.summary.total_value > 0 and took > 0.1  # the work was real and took many 5 ms ticks
    # blocked, the other session would see one gap as long as the whole computation and no ticks in between
    assert max(gaps) < took / 3 and len(gaps) > took / 0.05 and np.median(gaps) < 0.02
