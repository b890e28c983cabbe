"""`transactions import|export|template`: the ledger's CSV format from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from investment_app.db import check_connection, session_scope
from investment_app.ledger import csv_format
from investment_app.services import accounts, portfolios, transactions


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("transactions", help="import and export a portfolio's transactions (CSV)")
    sub = group.add_subparsers(dest="transactions_command", required=True, metavar="ACTION")
    imp = sub.add_parser("import", help="import a CSV file: all rows or none")
    _target(imp)
    imp.add_argument("file", type=Path)
    imp.set_defaults(handler=run_import)
    exp = sub.add_parser("export", help="print the transactions (or --realized gains) as CSV")
    _target(exp)
    exp.add_argument("--realized", action="store_true", help="export realized gains per lot instead")
    exp.set_defaults(handler=run_export)
    sub.add_parser("template", help="print an example CSV with every column").set_defaults(handler=template)


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="e-mail of the user to act as")
    parser.add_argument("--portfolio", required=True, help="portfolio name")


def run_import(args: argparse.Namespace) -> int:
    check_connection()
    data = args.file.read_bytes()
    try:
        with session_scope() as db:
            viewer = accounts.acting_as(db, args.user)
            portfolio = portfolios.by_name(db, viewer, args.portfolio)
            report = transactions.import_csv(db, viewer, portfolio.id, data)
    except csv_format.ImportRejected as exc:
        print(f"error: {args.file}: {len(exc.errors)} problem(s), nothing imported", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 2
    print(f"imported {report.added} transaction(s), skipped {report.skipped} already present")
    for warning in report.warnings:
        print(f"warning: {warning}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    check_connection()
    with session_scope() as db:
        viewer = accounts.acting_as(db, args.user)
        portfolio = portfolios.by_name(db, viewer, args.portfolio)
        export = transactions.export_realized if args.realized else transactions.export_transactions
        sys.stdout.write(export(db, viewer, portfolio.id))
    return 0


def template(_args: argparse.Namespace) -> int:
    sys.stdout.write(csv_format.TEMPLATE)
    return 0
