"""Ledger benchmark: 500 holdings, 20,000 transactions, 10 years of daily prices (issue 3's targets).

Run from the project root: ``python -m tests.benchmarks.bench_ledger``. Prices are synthetic but built
from real returns: each of the 500 symbols replays the daily returns of one bundled stock from a
random starting year. It reports, for SQLite and PostgreSQL:
- valuation and every performance figure end to end, cold (database load vs compute): goal ≤ 1 s;
- the dashboard's server time on a second visit (cached snapshot): goal ≤ 300 ms;
- the same valuation done the naive way (a Python loop over days, as trackers commonly do) as a peer.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from investment_app import schema
from investment_app.db import dispose_engine, get_engine, session_scope
from investment_app.ledger.csv_format import TxInput
from investment_app.ledger.lots import build_lots
from investment_app.marketdata.bundled import bundled_bars, load_bundled
from investment_app.marketdata.store import load_bars
from investment_app.models.transaction import TxType
from investment_app.services import accounts, dashboard, performance, portfolios, transactions

HOLDINGS, TRANSACTIONS, DAYS = 500, 20_000, 2520
POSTGRES_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def synthetic_prices(seed: int = 1) -> pd.DataFrame:
    """500 symbols × 10 years of closes replaying real bundled daily returns."""
    bars = bundled_bars()
    real = bars.pivot(index="date", columns="symbol", values="close").pct_change(fill_method=None)
    real = real.loc[:, real.notna().sum() > DAYS + 300]
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2014-01-02", periods=DAYS)
    columns = {}
    for i in range(HOLDINGS):
        source = real.iloc[:, i % real.shape[1]].dropna().to_numpy()
        start = rng.integers(0, len(source) - DAYS)
        columns[f"S{i:03d}"] = 20 * np.cumprod(1 + source[start : start + DAYS])
    return pd.DataFrame(columns, index=dates)


def store_prices(url: str, prices: pd.DataFrame) -> None:
    long = prices.stack().rename("close").reset_index().rename(columns={"level_0": "date", "level_1": "symbol"})
    long["date"] = long["date"].dt.date
    long["adj_close"], long["source"] = long["close"], "synthetic"
    symbols = pd.DataFrame(
        {
            "symbol": prices.columns,
            "name": prices.columns,
            "gics_sector": "Synthetic",
            "gics_sub_industry": "",
            "asset_class": "equity",
        }
    )
    load_bars(get_engine(url), symbols, long)


def synthetic_ledger(prices: pd.DataFrame, seed: int = 2) -> list[TxInput]:
    """Deposits, then buys and sells spread over 10 years, never selling more than held."""
    rng = np.random.default_rng(seed)
    rows, held = [], np.zeros(HOLDINGS)
    days = np.sort(rng.integers(0, DAYS, TRANSACTIONS))
    for n, d in enumerate(days):
        date, j = prices.index[d].date(), int(rng.integers(0, HOLDINGS))
        price = Decimal(f"{prices.iat[d, j]:.2f}")
        if n % 20 == 0:
            kind, qty, amount = TxType.DEPOSIT, Decimal(0), Decimal(50_000)
        elif held[j] > 10 and rng.random() < 0.3:
            kind, qty, amount = TxType.SELL, Decimal(int(held[j] // 2)), Decimal(0)
            held[j] -= int(held[j] // 2)
        else:
            kind, qty, amount = TxType.BUY, Decimal(int(rng.integers(1, 50))), Decimal(0)
            held[j] += int(qty)
        symbol = None if kind is TxType.DEPOSIT else prices.columns[j]
        rows.append(
            TxInput(
                n + 2,
                date,
                kind,
                symbol,
                qty,
                price if symbol else Decimal(0),
                Decimal(1) if symbol else Decimal(0),
                amount,
                None,
                "Main",
                "",
                f"b{n}",
            )
        )
    return rows


def naive_values(entries, prices: pd.DataFrame) -> list[float]:
    """The peer: walk the days in Python, applying each day's transactions, valuing every position."""
    by_day: dict[dt.date, list] = {}
    for e in entries:
        by_day.setdefault(e.date, []).append(e)
    quantities: dict[str, float] = {}
    cash, values = 0.0, []
    for day, row in zip(prices.index, prices.to_dict("records"), strict=True):
        for e in by_day.get(day.date(), []):
            trade = float(e.quantity) * float(e.price)
            if e.type is TxType.BUY:
                quantities[e.symbol] = quantities.get(e.symbol, 0.0) + float(e.quantity)
                cash -= trade + float(e.fees)
            elif e.type is TxType.SELL:
                quantities[e.symbol] -= float(e.quantity)
                cash += trade - float(e.fees)
            else:
                cash += float(e.amount)
        values.append(cash + sum(q * row[s] for s, q in quantities.items()))
    return values


def bench(backend: str, url: str, prices: pd.DataFrame, ledger: list[TxInput]) -> None:
    schema.upgrade(url)
    load_bundled(url)
    store_prices(url, prices)
    with session_scope(url) as db:
        accounts.create_user(db, "bench@example.com", "correct horse 42")
    with session_scope(url) as db:
        viewer = accounts.acting_as(db, "bench@example.com")
        pid = portfolios.create(db, viewer, "Bench").id
    began = time.perf_counter()
    with session_scope(url) as db:
        transactions.import_rows(db, viewer, pid, ledger)
    imported = time.perf_counter() - began
    performance._cache.clear()
    with session_scope(url) as db:
        began = time.perf_counter()
        periods = performance.periods(db, viewer, pid)
        cold = time.perf_counter() - began
        snap = performance.snapshot(db, viewer, pid)
        dashboard.dashboard(db, viewer, pid)
        began = time.perf_counter()
        dashboard.dashboard(db, viewer, pid)
        warm = time.perf_counter() - began
        rows, _ = transactions.load_ledger(db, pid)
    entries = [transactions.to_entry(t) for t in rows]
    began = time.perf_counter()
    build_lots(entries)
    naive = naive_values(entries, prices.loc[snap.valuation.dates[0] :])
    peer = time.perf_counter() - began
    assert abs(naive[-1] - snap.valuation.total[-1]) < 1e-6 * abs(naive[-1]), "peer and ledger disagree"
    print(
        f"{backend:<10} import {len(ledger)} rows {imported:.2f} s | valuation + {len(periods)} periods cold "
        f"{cold * 1000:.0f} ms (load {snap.load_s * 1000:.0f} ms, compute {snap.compute_s * 1000:.0f} ms; goal "
        f"≤ 1000) | dashboard again {warm * 1000:.0f} ms (goal ≤ 300) | naive day loop {peer * 1000:.0f} ms "
        f"({peer / snap.compute_s:.0f}× our compute)"
    )


def main() -> None:
    prices = synthetic_prices()
    ledger = synthetic_ledger(prices)
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", prices, ledger)
    admin = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"bench_ledger_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL here
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        return
    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        bench("postgresql", url, prices, ledger)
    finally:
        dispose_engine(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
