"""SQLModel tables, one module per aggregate. Importing this package registers them all."""

from investment_app.models.alerts import Alert, AlertKind, AlertRule, AlertState, NotificationSettings, Severity
from investment_app.models.audit import AuditRecord
from investment_app.models.job import JobCommand, JobRun, scheduler_jobs_table
from investment_app.models.market import DailyBar, PriceSeries, Symbol
from investment_app.models.optimization import OptimizationRun, TargetAllocation
from investment_app.models.portfolio import Account, AccountKind, CostBasisMethod, Portfolio, PortfolioShare
from investment_app.models.rebalance import PlanStatus, RebalancePlan, RebalanceSettings, TaxSettings
from investment_app.models.reports import ReportDelivery, ReportFrequency, ReportSubscription
from investment_app.models.trading import BrokerConnection, BrokerFill, BrokerKind, BrokerOrder, OrderStatus
from investment_app.models.transaction import LotPick, Transaction, TxSource, TxType
from investment_app.models.user import AuthSession, LoginFailure, LoginTicket, Role, User

__all__ = [
    "Account",
    "AccountKind",
    "Alert",
    "AlertKind",
    "AlertRule",
    "AlertState",
    "AuditRecord",
    "AuthSession",
    "BrokerConnection",
    "BrokerFill",
    "BrokerKind",
    "BrokerOrder",
    "CostBasisMethod",
    "DailyBar",
    "JobCommand",
    "JobRun",
    "LoginFailure",
    "LoginTicket",
    "LotPick",
    "NotificationSettings",
    "OptimizationRun",
    "OrderStatus",
    "PlanStatus",
    "Portfolio",
    "PortfolioShare",
    "PriceSeries",
    "RebalancePlan",
    "RebalanceSettings",
    "ReportDelivery",
    "ReportFrequency",
    "ReportSubscription",
    "Role",
    "Severity",
    "Symbol",
    "TargetAllocation",
    "TaxSettings",
    "Transaction",
    "TxSource",
    "TxType",
    "User",
    "scheduler_jobs_table",
]
