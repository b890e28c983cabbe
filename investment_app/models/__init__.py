"""SQLModel tables, one module per aggregate. Importing this package registers them all."""

from investment_app.models.audit import AuditRecord
from investment_app.models.job import JobRun, scheduler_jobs_table
from investment_app.models.market import DailyBar, Symbol
from investment_app.models.portfolio import Portfolio
from investment_app.models.user import AuthSession, LoginFailure, LoginTicket, Role, User

__all__ = [
    "AuditRecord",
    "AuthSession",
    "DailyBar",
    "JobRun",
    "LoginFailure",
    "LoginTicket",
    "Portfolio",
    "Role",
    "Symbol",
    "User",
    "scheduler_jobs_table",
]
