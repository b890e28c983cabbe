"""Command-line interface: one module per command group, each adding its subcommands.

Commands must not import Reflex, so they start fast. Each handler returns an exit code;
a ServiceError, an AnalyticsError or an unreachable database becomes one clear line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from investment_app.analytics.errors import AnalyticsError
from investment_app.cli import (
    analytics,
    db,
    monitor,
    optimize,
    performance,
    rebalance,
    reports,
    seed,
    serve,
    transactions,
    users,
)
from investment_app.db import DatabaseUnavailable
from investment_app.services.errors import ServiceError

GROUPS = (analytics, db, monitor, optimize, performance, rebalance, reports, seed, serve, transactions, users)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command group registered."""
    parser = argparse.ArgumentParser(prog="python -m investment_app", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ServiceError, DatabaseUnavailable, AnalyticsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
