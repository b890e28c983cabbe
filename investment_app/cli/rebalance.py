"""`rebalance plan|execute|sync`: a tax-aware plan as JSON, its execution through a broker, open orders brought up
to date. The shell is trusted to act for a user; ownership and roles still apply."""

from __future__ import annotations

import argparse
import dataclasses
import json

from investment_app.db import check_connection, session_scope
from investment_app.models.portfolio import Portfolio
from investment_app.models.rebalance import PlanStatus, RebalancePlan
from investment_app.services import accounts, execution, portfolios, rebalance
from investment_app.services.errors import Forbidden


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("rebalance", help="rebalancing plans and their execution")
    sub = group.add_subparsers(dest="rebalance_command", required=True, metavar="ACTION")
    plan = sub.add_parser("plan", help="compute and store a proposed plan; print it as JSON")
    plan.add_argument("--user", required=True, help="e-mail of the user to act as")
    plan.add_argument("--portfolio", required=True, help="portfolio name")
    flow = plan.add_mutually_exclusive_group()
    flow.add_argument("--deposit", type=float, help="plan the investment of a deposit of this amount")
    flow.add_argument("--withdraw", type=float, help="plan raising cash for a withdrawal of this amount")
    plan.set_defaults(handler=make_plan)
    run = sub.add_parser("execute", help="approve (if proposed) and execute a plan; print the execution as JSON")
    run.add_argument("--plan", required=True, type=int, help="the plan's id")
    run.add_argument("--broker", choices=("paper", "alpaca"), help="default: the portfolio's broker setting")
    run.add_argument("--user", help="e-mail of the user to act as (default: the portfolio's owner)")
    run.set_defaults(handler=execute)
    sub.add_parser("sync", help="bring open orders up to date and book their fills").set_defaults(handler=sync)


def _print(payload: dict) -> None:
    print(json.dumps(payload, indent=2, default=str))


def make_plan(args: argparse.Namespace) -> int:
    check_connection()
    amount = args.deposit if args.deposit is not None else -args.withdraw if args.withdraw is not None else None
    with session_scope() as db:
        viewer = accounts.acting_as(db, args.user)
        portfolio = portfolios.by_name(db, viewer, args.portfolio)
        flow = rebalance.Flow(amount) if amount is not None else None
        plan = rebalance.create_plan(db, viewer, portfolio.id, trigger="cli", flow=flow)
        db.commit()
        _print(rebalance.plan_json(db, plan))
    return 0


def execute(args: argparse.Namespace) -> int:
    check_connection()
    with session_scope() as db:
        plan = db.get(RebalancePlan, args.plan)
        portfolio = db.get(Portfolio, plan.portfolio_id) if plan else None
        owner = accounts.viewer_for(db, portfolio.owner_id, "cli") if portfolio else None
        viewer = accounts.acting_as(db, args.user) if args.user else owner
        if viewer is None:
            raise Forbidden(rebalance.PLAN_NOT_FOUND)
        if rebalance.get_plan(db, viewer, args.plan).status == PlanStatus.PROPOSED.value:
            rebalance.decide(db, viewer, args.plan, approve=True, note="approved from the command line")
            db.commit()
        report = execution.execute_plan(db, viewer, args.plan, args.broker)
        _print(dataclasses.asdict(report))
    return 0


def sync(args: argparse.Namespace) -> int:
    check_connection()
    with session_scope() as db:
        _print(dataclasses.asdict(execution.sync_open_orders(db)))
    return 0
