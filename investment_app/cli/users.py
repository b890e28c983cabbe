"""`users create-admin`, `users list`, `users set-role`: account administration from the shell."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlmodel import col, select

from investment_app.db import check_connection, session_scope
from investment_app.models.user import Role, User
from investment_app.services import accounts, audit
from investment_app.services.errors import InvalidInput


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("users", help="manage user accounts")
    sub = group.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create = sub.add_parser("create-admin", help="create an admin account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--password", help="the password (default: prompt, or read one line from stdin)")
    create.set_defaults(handler=create_admin)
    sub.add_parser("list", help="list every account").set_defaults(handler=list_users)
    role = sub.add_parser("set-role", help="change an account's role")
    role.add_argument("email")
    role.add_argument("role", choices=[r.value for r in Role])
    role.set_defaults(handler=set_role)


def _read_password(given: str | None) -> str:
    if given:
        return given
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise InvalidInput("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\n")


def create_admin(args: argparse.Namespace) -> int:
    check_connection()
    password = _read_password(args.password)
    with session_scope() as db:
        user = accounts.create_user(db, args.email, password, args.name, role=Role.ADMIN)
    print(f"created admin {user.email} (id {user.id})")
    return 0


def list_users(_args: argparse.Namespace) -> int:
    check_connection()
    with session_scope() as db:
        users = db.exec(select(User).order_by(col(User.id))).all()
    print(f"{'id':>4}  {'email':<36} {'role':<8} {'active':<6} created")
    for u in users:
        print(f"{u.id:>4}  {u.email:<36} {u.role.value:<8} {'yes' if u.is_active else 'no':<6} {u.created_at:%Y-%m-%d}")
    return 0


def set_role(args: argparse.Namespace) -> int:
    check_connection()
    with session_scope() as db:
        user = db.exec(select(User).where(User.email == accounts.normalize_email(args.email))).first()
        if user is None:
            raise InvalidInput(f"No account with e-mail {args.email}.")
        before = user.role.value
        user.role = Role(args.role)
        db.add(user)
        audit.record(db, None, "user.role", "user", user.id, before={"role": before}, after={"role": args.role})
    print(f"{user.email}: {before} -> {args.role}")
    return 0
