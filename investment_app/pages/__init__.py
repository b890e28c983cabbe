"""Pages; importing a module registers its routes and its State."""

from investment_app.pages import admin, dashboard, holdings, portfolios, register, settings, signin, transactions

__all__ = ["admin", "dashboard", "holdings", "portfolios", "register", "settings", "signin", "transactions"]
