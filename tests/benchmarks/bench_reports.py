"""Report benchmark (issue 6, item 5): the daily tearsheet reports of 1,000 portfolios, rendered and e-mailed.

Run from the project root: ``python -m tests.benchmarks.bench_reports``. A temporary SQLite database gets the
bundled prices and 1,000 synthetic portfolios sharing its 19 stocks (each: a deposit, then 3 to 8 buys on one
day between 2015 and 2022, and a second round of buys a year later; benchmark SPY), each with a daily
subscription. Every configuration runs ``reports.send_due`` in its own process on its own copy of that
database, against one aiosmtpd server in this process that counts what it accepts. It reports total time,
time per report (split into the tearsheet's data, the e-mail with its HTML and PDF, and SMTP), the price
reads, peak RSS, and the tracemalloc peak of a separate run of ``MEMORY_PORTFOLIOS`` reports.

Configurations, side by side on the same portfolios:
- shared: as delivered; every price read of the run (snapshot, analysis inputs, attribution, stress) is cut from
  the run's ``marketdata.price_book.PriceBook``;
- peer, no sharing: ``shared_prices`` turned off, every portfolio reads and aligns its own prices.
The peer configuration runs on the first ``PEER_PORTFOLIOS`` portfolios (the shared one also runs there,
for a like-for-like row); per-report figures compare directly, totals scale linearly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from aiosmtpd.controller import Controller
from sqlalchemy import event, update
from sqlmodel import col

from investment_app import schema
from investment_app.db import dispose_engine, get_engine, session_scope
from investment_app.ledger.csv_format import TxInput
from investment_app.marketdata.bundled import bundled_bars, load_bundled
from investment_app.models.reports import ReportSubscription
from investment_app.models.transaction import TxType
from investment_app.services import accounts, portfolios, transactions

PORTFOLIOS = 1000
PEER_PORTFOLIOS = 200
MEMORY_PORTFOLIOS = 50
NOW = dt.datetime(2024, 12, 2, 7, tzinfo=dt.UTC)
SUBSCRIBED = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)
USER = "bench@example.com"
MODES = {"shared": "shared (as delivered)", "none": "peer: no sharing"}


class Counter:
    """An aiosmtpd handler that accepts everything and counts messages and bytes."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.messages += 1
            self.bytes += len(envelope.original_content)
        return "250 OK"


def synthetic_ledgers(count: int, seed: int = 5) -> list[list[TxInput]]:
    """Per portfolio: 100,000 deposited, 3 to 8 stocks bought with it, more of them a year later."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="close")
    closes = closes.set_axis(pd.DatetimeIndex(closes.index)).loc["2015-01-01":]
    stocks = [s for s in closes.columns if s != "SPY"]
    rng = np.random.default_rng(seed)
    ledgers = []
    for _ in range(count):
        first = int(rng.integers(0, len(closes.loc[:"2022-12-31"]) - 260))
        held = [s for s in rng.choice(stocks, size=int(rng.integers(3, 9)), replace=False) if closes[s].iloc[first] > 0]
        rows = [_tx(1, closes.index[first], TxType.DEPOSIT, None, 0, 0, 100_000)]
        for day in (first, first + 252):
            for symbol in held:
                price = Decimal(f"{closes[symbol].iloc[day]:.2f}")
                quantity = int((6_000 if day == first else 2_000) / float(price)) or 1
                rows.append(_tx(len(rows) + 1, closes.index[day], TxType.BUY, symbol, quantity, price, 0))
        ledgers.append(rows)
    return ledgers


def _tx(row: int, day: object, kind: TxType, symbol: str | None, qty: int, price: Decimal | int, amount: int):
    fees = Decimal(1) if symbol else Decimal(0)
    date = pd.Timestamp(day).date()
    symbol = str(symbol) if symbol else None
    return TxInput(
        row, date, kind, symbol, Decimal(qty), Decimal(price), fees, Decimal(amount), None, "Main", "", f"r{row}"
    )


def build(url: str, count: int) -> float:
    """The database: bundled prices, one user, ``count`` portfolios with daily subscriptions; seconds taken."""
    began = time.perf_counter()
    schema.upgrade(url)
    load_bundled(url)
    with session_scope(url) as db:
        accounts.create_user(db, USER, "correct horse 42")
    ledgers = synthetic_ledgers(count)
    with session_scope(url) as db:
        viewer = accounts.acting_as(db, USER)
        for n, ledger in enumerate(ledgers):
            portfolio = portfolios.create(db, viewer, f"Portfolio {n:04d}")
            transactions.import_rows(db, viewer, portfolio.id, ledger)
            db.add(
                ReportSubscription(
                    owner_id=viewer.user_id,
                    portfolio_id=portfolio.id,
                    frequency="daily",
                    recipient=f"reader{n}@example.com",
                    created_at=SUBSCRIBED,
                )
            )
    return time.perf_counter() - began


@contextlib.contextmanager
def configured(mode: str):
    """Turn the shared price book off for the peer (this process only) and time every read from the store."""
    from investment_app.marketdata import price_book
    from investment_app.services import reports

    timings = {"price_s": 0.0, "price_calls": 0}
    saved = (price_book.wide_frame, reports.shared_prices)

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return saved[0](*args, **kwargs)
        finally:
            timings["price_s"] += time.perf_counter() - began
            timings["price_calls"] += 1

    price_book.wide_frame = timed
    if mode == "none":
        reports.shared_prices = lambda engine: contextlib.nullcontext()
    try:
        yield timings
    finally:
        price_book.wide_frame, reports.shared_prices = saved


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def child(mode: str, count: int, memory: bool) -> dict:
    """One configuration's run (in its own process): ``count`` reports sent; JSON-ready figures."""
    from investment_app.mail import SmtpSession
    from investment_app.services import reports

    url = os.environ["REFLEX_DB_URL"]
    with session_scope(url) as db:
        db.exec(update(ReportSubscription).where(col(ReportSubscription.id) > count).values(active=False))
    queries = {"series": 0}

    def count_reads(conn, cursor, statement, *args) -> None:
        if "FROM price_series" in statement and "price_series.dates" in statement:
            queries["series"] += 1

    event.listen(get_engine(url), "before_cursor_execute", count_reads)
    stages = {"data_s": 0.0, "email_s": 0.0, "smtp_s": 0.0}
    originals = (reports.tearsheets.portfolio_tearsheet, reports.compose_report_email, SmtpSession.send)

    def staged(function, key):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                stages[key] += time.perf_counter() - began

        return wrapper

    reports.tearsheets.portfolio_tearsheet = staged(originals[0], "data_s")
    reports.compose_report_email = staged(originals[1], "email_s")
    SmtpSession.send = staged(originals[2], "smtp_s")
    rss_before = _rss_mb()
    with configured(mode) as timings:
        if memory:
            tracemalloc.start()
        began = time.perf_counter()
        try:
            report = reports.send_due(now=NOW)
        except reports.ReportsFailed as failure:  # recorded like any failed report; listed with its reason
            report = failure.report
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] if memory else 0
    return {
        "mode": mode,
        "reports": len(report.sent),
        "failed": [f"{o.recipient}: {o.detail}" for o in report.failed],
        "seconds": seconds,
        "series_queries": queries["series"],
        "rss_before_mb": rss_before,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "tracemalloc_peak_mb": peak / 2**20,
        **timings,
        **stages,
    }


def run(folder: Path, source: Path, port: int, mode: str, count: int, memory: bool = False) -> dict:
    """``child`` in a fresh process on a copy of the prepared database."""
    copy = folder / f"{mode}-{count}-{int(memory)}.db"
    shutil.copy(source, copy)
    env = {
        **os.environ,
        "REFLEX_DB_URL": f"sqlite:///{copy}",
        "DATA_DIR": str(folder),
        "SECRET_KEY": "bench-secret",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": "Reports <reports@example.org>",
        "PUBLIC_URL": "https://invest.example.org",
        "REPORT_HOUR_UTC": "6",
        "LOG_LEVEL": "WARNING",
    }
    args = [sys.executable, "-m", "tests.benchmarks.bench_reports", "--child", mode, str(count), str(int(memory))]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} run failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(result: dict) -> str:
    n = max(result["reports"], 1)
    failed = "".join(f"\n    not sent: {reason}" for reason in result["failed"])
    return (
        f"  {MODES[result['mode']]:<28} {result['reports']:>5} {result['seconds']:>8.1f} s "
        f"{result['seconds'] / n * 1000:>7.1f} ms   data {result['data_s'] / n * 1000:>5.1f}  "
        f"e-mail {result['email_s'] / n * 1000:>5.1f}  smtp {result['smtp_s'] / n * 1000:>4.1f}  "
        f"prices {result['price_s'] / n * 1000:>5.2f} ms/report ({result['price_calls']} calls, "
        f"{result['series_queries']} series queries)   RSS {result['rss_before_mb']:.0f} → "
        f"{result['rss_peak_mb']:.0f} MB{failed}"
    )


def main(portfolios_count: int = PORTFOLIOS, peer_count: int = PEER_PORTFOLIOS) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        folder = Path(tmp)
        source = folder / "source.db"
        os.environ.setdefault("SECRET_KEY", "bench-secret")
        built = build(f"sqlite:///{source}", portfolios_count)
        print(f"  setup: {portfolios_count} portfolios with daily subscriptions in {built:.1f} s", flush=True)
        dispose_engine(f"sqlite:///{source}")  # checkpoints the WAL: the copies get everything
        counter = Counter()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(counter, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            print("  configuration                reports    total   per report  (ms per report)", flush=True)
            results = [run(folder, source, port, "shared", portfolios_count)]
            print(_row(results[-1]), flush=True)
            for mode in ("shared", "none"):
                results.append(run(folder, source, port, mode, peer_count))
                print(_row(results[-1]), flush=True)
            for mode in ("shared", "none"):
                memory = run(folder, source, port, mode, MEMORY_PORTFOLIOS, memory=True)
                results.append(memory)
                print(
                    f"  tracemalloc peak, {MODES[mode]}, {MEMORY_PORTFOLIOS} reports: "
                    f"{memory['tracemalloc_peak_mb']:.1f} MB",
                    flush=True,
                )
        finally:
            controller.stop()
        sent = sum(r["reports"] for r in results)
        print(f"  accepted by the SMTP server: {counter.messages} of {sent} sent ({counter.bytes / 2**20:.0f} MB)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        mode, count, memory = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
        print(json.dumps(child(mode, count, memory)))
    else:
        main()
