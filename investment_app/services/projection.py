"""Monte Carlo projection of a portfolio's current holdings (see ``analytics.projection`` for the model).

The history is the holdings' daily total returns over the last ``LOOKBACK_YEARS`` years on the days all
of them traded; cash is a holding with a zero return. Contributions are monthly (every 21 trading days).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlmodel import Session

from investment_app.analytics.projection import Projection, project
from investment_app.auth.viewer import Viewer
from investment_app.services import analysis
from investment_app.services.cache import ResultCache
from investment_app.services.errors import InvalidInput

LOOKBACK_YEARS = 10
MIN_HISTORY_DAYS = 252
MONTH_DAYS = 21
METHODS = {"normal": "Multivariate normal", "student_t": "Student-t", "bootstrap": "Block bootstrap of history"}
_cache = ResultCache(16)


@dataclass(frozen=True)
class Request:
    """What the user asked for."""

    method: str = "normal"
    years: int = 10
    paths: int = 10_000
    monthly_contribution: float = 0.0
    goal: float | None = None
    seed: int = 0

    def check(self) -> None:
        """Refuse values the simulation cannot honour, naming the field."""
        if self.method not in METHODS:
            raise InvalidInput(f"Method must be one of {', '.join(METHODS)}.")
        if not 1 <= self.years <= 50:
            raise InvalidInput("Horizon must be between 1 and 50 years.")
        if not 100 <= self.paths <= 50_000:
            raise InvalidInput("Paths must be between 100 and 50,000.")
        if self.goal is not None and self.goal <= 0:
            raise InvalidInput("The goal must be a positive amount.")


@dataclass(frozen=True)
class Result:
    """The projection and what it was computed from."""

    projection: Projection
    initial_value: float
    history_start: str
    history_end: str
    history_days: int
    symbols: list[str]


def history(inputs: analysis.Inputs) -> tuple[np.ndarray, np.ndarray, list[str], tuple[str, str]]:
    """Daily returns (days × holdings, plus a zero cash column) on the days every holding traded, and weights."""
    frame = inputs.common_returns(LOOKBACK_YEARS * 252, MIN_HISTORY_DAYS, "the projection")
    returns = np.column_stack([frame.to_numpy(), np.zeros(len(frame))])
    weights = np.append(inputs.values.to_numpy(), inputs.cash) / inputs.total_value
    span = (frame.index[0].date().isoformat(), frame.index[-1].date().isoformat())
    return returns, weights, [*inputs.values.index, "Cash"], span


def projection(db: Session, viewer: Viewer, portfolio_id: int, request: Request) -> Result:
    """Simulate the portfolio's value over the requested horizon (cached per data version and request)."""
    request.check()
    inputs = analysis.inputs(db, viewer, portfolio_id)

    def build() -> Result:
        returns, weights, symbols, (start, end) = history(inputs)
        result = project(
            returns,
            weights,
            inputs.total_value,
            request.years * 252,
            n_paths=request.paths,
            method=request.method,
            seed=request.seed,
            contribution=request.monthly_contribution,
            contribution_every=MONTH_DAYS,
            goal=request.goal,
        )
        return Result(result, inputs.total_value, start, end, len(returns), symbols)

    return _cache.get((inputs.key, request), build)
