"""`db upgrade` and `db current`: schema migrations from the command line."""

from __future__ import annotations

import argparse

from investment_app import schema
from investment_app.db import check_connection


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("db", help="database schema migrations")
    sub = group.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    sub.add_parser("upgrade", help="apply every migration up to head").set_defaults(handler=upgrade)
    sub.add_parser("current", help="print the database's and the code's revisions").set_defaults(handler=current)


def upgrade(_args: argparse.Namespace) -> int:
    check_connection()
    schema.upgrade()
    print(f"database at revision {schema.current_revision()}")
    return 0


def current(_args: argparse.Namespace) -> int:
    check_connection()
    print(f"database: {schema.current_revision()}  code head: {schema.head_revision()}")
    return 0
