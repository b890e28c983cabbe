"""`seed`: load the bundled dataset and the demo account (idempotent)."""

from __future__ import annotations

import argparse

from investment_app.db import check_connection
from investment_app.services import seed as seed_service


def register(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("seed", help="load the bundled market data and the demo account").set_defaults(handler=run)


def run(_args: argparse.Namespace) -> int:
    check_connection()
    report = seed_service.seed()
    print(report.summary())
    return 0
