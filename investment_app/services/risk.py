"""Risk of a portfolio's current holdings: VaR and CVaR by four methods, contributions per holding,
correlations, concentration and betas.

Convention: the risk is ex ante, of today's holdings (and cash, which has no risk) applied to the
holdings' daily total returns over the chosen lookback, on the days all of them traded. The rolling
correlation to the benchmark is ex post, from the portfolio's own daily time-weighted returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlmodel import Session

from investment_app.analytics.concentration import Concentration, concentration
from investment_app.analytics.risk import VaR, betas, component_var, correlation, rolling_correlation, var_table
from investment_app.auth.viewer import Viewer
from investment_app.services import analysis
from investment_app.services.cache import ResultCache
from investment_app.services.errors import InvalidInput

LOOKBACKS = {"1Y": 252, "2Y": 504, "5Y": 1260}
ROLLING_WINDOW = 63
MIN_DAYS = 100
_cache = ResultCache(16)


@dataclass(frozen=True)
class Contribution:
    """One holding's share of the portfolio's 1-day 95% parametric VaR (Euler allocation)."""

    symbol: str
    sector: str
    value: float
    weight: float
    beta: float
    marginal_var: float
    component_var: float
    share: float
    es_contribution: float


@dataclass(frozen=True)
class RiskReport:
    """Everything the Risk page shows."""

    total_value: float
    lookback: str
    start: str
    end: str
    days: int
    var: list[VaR]
    contributions: list[Contribution]
    correlation: pd.DataFrame
    rolling_correlation: pd.Series
    concentration: Concentration
    portfolio_beta: float


def _build(inputs: analysis.Inputs, lookback: str) -> RiskReport:
    frame = inputs.common_returns(LOOKBACKS[lookback], MIN_DAYS, "risk")
    assets = frame.to_numpy()
    weights = inputs.values.to_numpy() / inputs.total_value
    bench = inputs.prices[inputs.benchmark_symbol].pct_change(fill_method=None).reindex(frame.index)
    beta = betas(assets, bench.fillna(0.0).to_numpy())
    parts = component_var(assets, weights, 0.95, 1)
    contributions = [
        Contribution(
            symbol,
            str(inputs.sectors[symbol]),
            float(inputs.values[symbol]),
            float(weights[i]),
            float(beta[i]),
            float(parts.marginal[i]),
            float(parts.component[i]),
            float(parts.percent[i]),
            float(parts.cvar_component[i]),
        )
        for i, symbol in enumerate(inputs.values.index)
    ]
    matrix, order = correlation(frame)
    paired = pd.concat([inputs.returns, inputs.benchmark], axis=1).dropna()
    rolling = rolling_correlation(paired.iloc[:, 0], paired.iloc[:, 1], ROLLING_WINDOW)
    return RiskReport(
        inputs.total_value,
        lookback,
        frame.index[0].date().isoformat(),
        frame.index[-1].date().isoformat(),
        len(frame),
        var_table(assets @ weights),
        sorted(contributions, key=lambda c: -c.component_var),
        matrix.loc[order, order],
        rolling.dropna(),
        concentration(inputs.values, inputs.sectors),
        float(np.dot(weights, beta)),
    )


def risk(db: Session, viewer: Viewer, portfolio_id: int, lookback: str = "2Y") -> RiskReport:
    """The risk report over ``lookback`` (1Y, 2Y or 5Y), cached per data version."""
    if lookback not in LOOKBACKS:
        raise InvalidInput(f"Lookback must be one of {', '.join(LOOKBACKS)}.")
    inputs = analysis.inputs(db, viewer, portfolio_id)
    return _cache.get((inputs.key, lookback), lambda: _build(inputs, lookback))
