"""Pages; importing a module registers its routes and its State."""

from investment_app.pages import (
    admin,
    dashboard,
    holdings,
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
    "dashboard",
    "holdings",
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
