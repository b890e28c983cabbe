"""Seed benchmark: the bundled dataset into a fresh SQLite file and a fresh PostgreSQL database.

Run from the project root: ``python -m tests.benchmarks.bench_seed``. For each backend it times the
first load and an idempotent re-load with ``load_bars`` (plus the ``load_bundled`` re-seed fast path),
and the same two steps with a naive peer: ``DataFrame.to_sql(method="multi")`` into a same-shaped
scratch table, the re-load filtering out stored keys with a pandas anti-join first.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sqlalchemy import Column, Engine, MetaData, Table, create_engine, text
from sqlalchemy.engine import make_url

from investment_app import schema
from investment_app.db import get_engine
from investment_app.marketdata.bundled import bundled_bars, bundled_symbols, load_bundled
from investment_app.marketdata.store import BAR_TABLE, load_bars

POSTGRES_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SCRATCH_TABLE = "bench_naive_daily_bar"


def timed(step: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def naive_load(engine: Engine, bars: pd.DataFrame) -> None:
    """The pandas way: read the stored keys, anti-join, ``to_sql(method="multi")`` what is new."""
    with engine.begin() as conn:
        stored = pd.read_sql(text(f"SELECT symbol, date FROM {SCRATCH_TABLE}"), conn)
        stored["date"] = pd.to_datetime(stored["date"]).dt.date
        merged = bars.merge(stored, on=["symbol", "date"], how="left", indicator=True)
        new = merged[merged["_merge"] == "left_only"].drop(columns="_merge")
        new.to_sql(SCRATCH_TABLE, conn, if_exists="append", index=False, method="multi", chunksize=1000)


def bench(backend: str, url: str) -> None:
    """Migrate ``url``, time both loaders twice and print one line."""
    schema.upgrade(url)
    engine = get_engine(url)
    columns = [Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in BAR_TABLE.columns]
    Table(SCRATCH_TABLE, MetaData(), *columns).create(engine)
    symbols, bars = bundled_symbols(), bundled_bars()
    first, again = (timed(lambda: load_bars(engine, symbols, bars)) for _ in range(2))
    reseed = timed(lambda: load_bundled(url))
    naive_first, naive_again = (timed(lambda: naive_load(engine, bars)) for _ in range(2))
    print(
        f"{backend:<10} {len(bars)} bars | first load {first:.2f} s (to_sql multi {naive_first:.2f} s, "
        f"{naive_first / first:.1f}x) | re-load {again:.2f} s (anti-join + to_sql {naive_again:.2f} s, "
        f"{naive_again / again:.1f}x) | load_bundled re-seed {reseed * 1000:.0f} ms"
    )
    engine.dispose()


def main() -> None:
    """SQLite always; PostgreSQL when the local server answers."""
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")
    admin = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"bench_seed_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means no PostgreSQL here
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        return
    try:
        bench("postgresql", make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
