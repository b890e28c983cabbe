"""`reports send-due|send`: e-mail the tearsheet reports that are due, or one report now (JSON on stdout)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import UTC, datetime

from investment_app.db import check_connection, session_scope
from investment_app.services import reports


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("reports", help="e-mail tearsheet reports")
    sub = group.add_subparsers(dest="reports_command", required=True, metavar="ACTION")
    due = sub.add_parser("send-due", help="send every report that is due now, each once per period")
    due.add_argument(
        "--now", type=_timestamp, help="act as if it were this time (ISO 8601; UTC unless it has an offset)"
    )
    due.set_defaults(handler=send_due)
    one = sub.add_parser("send", help="render and send one portfolio's report now")
    one.add_argument("--user", required=True, help="e-mail of the user to act as")
    one.add_argument("--portfolio", required=True, help="portfolio name")
    one.add_argument("--to", required=True, help="the address to send it to")
    one.set_defaults(handler=send)


def _timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp; one without an offset is read as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 timestamp: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _print(payload: dict) -> None:
    print(json.dumps(payload, indent=2, default=str))


def send_due(args: argparse.Namespace) -> int:
    """Print the run's DeliveryReport; when a report failed, print it too, then fail with the reasons."""
    check_connection()
    try:
        report = reports.send_due(now=args.now)
    except reports.ReportsFailed as exc:
        if exc.report is not None:
            _print(exc.report.as_dict())
        raise
    _print(report.as_dict())
    return 0


def send(args: argparse.Namespace) -> int:
    """Print the delivery of one report sent now."""
    check_connection()
    with session_scope() as db:
        outcome = reports.send_one(db, args.user, args.portfolio, args.to)
    _print(dataclasses.asdict(outcome))
    return 0
