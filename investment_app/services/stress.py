"""Stress tests of a portfolio's current holdings: real crises replayed, and shocks the user defines.

Replays use each holding's own adjusted closes over the crisis window, or a proxy through its beta to
the benchmark when it has no prices there (see ``analytics.stress``). Shocks propagate through betas
estimated over the last ``BETA_YEARS`` years; sector factors are equal-weighted over every stock of
that sector in the price store, not only the holdings.
"""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session

from investment_app.analytics.stress import CRISES, StressResult, factor_returns, replay, shock
from investment_app.auth.viewer import Viewer
from investment_app.marketdata.price_book import price_frame
from investment_app.services import analysis
from investment_app.services.cache import ResultCache
from investment_app.services.errors import InvalidInput

BETA_YEARS = 5
MAX_SHOCK = 0.99
_cache = ResultCache(16)


def crises(db: Session, viewer: Viewer, portfolio_id: int) -> list[StressResult]:
    """Every bundled crisis replayed on today's holdings (cached per data version)."""
    inputs = analysis.inputs(db, viewer, portfolio_id)

    def build() -> list[StressResult]:
        bench = inputs.prices[inputs.benchmark_symbol]
        held = inputs.prices[inputs.values.index]
        return [replay(c, inputs.values, held, bench, cash=inputs.cash) for c in CRISES]

    return _cache.get((inputs.key, "crises"), build)


def _factors(db: Session, inputs: analysis.Inputs, sectors: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    symbols = sorted({*sectors.index, *inputs.values.index})
    days = BETA_YEARS * 252
    prices = price_frame(db.get_bind(), [*symbols, inputs.benchmark_symbol], None, inputs.as_of)
    returns = prices.pct_change(fill_method=None).iloc[-days:]
    factors = factor_returns(returns[symbols], returns[inputs.benchmark_symbol], sectors)
    return returns[list(inputs.values.index)], factors


def custom_shock(
    db: Session,
    viewer: Viewer,
    portfolio_id: int,
    market: float = 0.0,
    sectors: dict[str, float] | None = None,
    symbols: dict[str, float] | None = None,
) -> StressResult:
    """The holdings' expected P&L when the market, sectors or symbols move by the given fractions."""
    shocks = {"market": market} if market else {}
    shocks |= {f"sector:{name}": size for name, size in (sectors or {}).items() if size}
    shocks |= {f"symbol:{name}": size for name, size in (symbols or {}).items() if size}
    if not shocks:
        raise InvalidInput("Enter at least one shock: the market, a sector or a symbol.")
    for name, size in shocks.items():
        if not -MAX_SHOCK <= size <= 10:
            raise InvalidInput(f"The shock to {name} must be between −99% and +1000%.")
    inputs = analysis.inputs(db, viewer, portfolio_id)
    asset_returns, factors = _factors(db, inputs, analysis.universe(db))
    return shock(inputs.values, asset_returns, factors, shocks, cash=inputs.cash)
