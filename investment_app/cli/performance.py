"""`performance`: one JSON object with the portfolio's returns over a period."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json

from investment_app.db import check_connection, session_scope
from investment_app.ledger.performance import EXPLAIN
from investment_app.services import accounts, portfolios
from investment_app.services import performance as perf


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("performance", help="time-weighted, money-weighted and simple return as JSON")
    parser.add_argument("--user", required=True, help="e-mail of the user to act as")
    parser.add_argument("--portfolio", required=True, help="portfolio name")
    parser.add_argument("--start", type=dt.date.fromisoformat, help="first day (ISO date; default: inception)")
    parser.add_argument("--end", type=dt.date.fromisoformat, help="last day (ISO date; default: last price)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    check_connection()
    with session_scope() as db:
        viewer = accounts.acting_as(db, args.user)
        portfolio = portfolios.by_name(db, viewer, args.portfolio)
        result = perf.performance(db, viewer, portfolio.id, args.start, args.end)
        snap = perf.snapshot(db, viewer, portfolio.id, args.end)
    payload = {
        "portfolio": portfolio.name,
        **dataclasses.asdict(result),
        "benchmark": snap.benchmark_symbol,
        "mwr_convention": "annualized XIRR (365-day years)",
        "explain": EXPLAIN,
        "timings": {"load_s": round(snap.load_s, 4), "compute_s": round(snap.compute_s, 4)},
    }
    print(json.dumps(payload, default=str, indent=2))
    return 0
