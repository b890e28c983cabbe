"""Pages; importing a module registers its routes and its State."""

from investment_app.pages import (
    admin,
    alerts,
    dashboard,
    holdings,
    jobs,
    notifications,
    optimize,
    performance,
    portfolios,
    projection,
    register,
    risk,
    settings,
    signin,
    stress,
    transactions,
)

__all__ = [
    "admin",
    "alerts",
    "dashboard",
    "holdings",
    "jobs",
    "notifications",
    "optimize",
    "performance",
    "portfolios",
    "projection",
    "register",
    "risk",
    "settings",
    "signin",
    "stress",
    "transactions",
]
