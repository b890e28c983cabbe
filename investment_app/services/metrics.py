"""The Performance page's numbers: every metric over a chosen period against the benchmark, the equity
curve, drawdowns, monthly returns and rolling metrics of the portfolio's daily time-weighted returns.

Risk-free rate: zero, or the bundled 3-month Treasury bill (per-day rate from its yield; see
``analytics.riskfree``). Periods are the dashboard's (1M … MAX), ending on the last valued day.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session

from investment_app.analytics import metrics as m
from investment_app.analytics.riskfree import per_period
from investment_app.analytics.rolling import rolling_metrics
from investment_app.analytics.summary import Summary, summarize
from investment_app.auth.viewer import Viewer
from investment_app.ledger.performance import PERIODS, period_start
from investment_app.marketdata.treasury import three_month_yield
from investment_app.services import analysis
from investment_app.services.cache import ResultCache
from investment_app.services.errors import InvalidInput

RISK_FREE = {"zero": "0%", "treasury": "3-month Treasury"}
WINDOWS = {"3M": 63, "6M": 126, "1Y": 252}
_cache = ResultCache(32)


@dataclass(frozen=True)
class Request:
    """The period, the risk-free choice and the rolling window."""

    period: str = "MAX"
    risk_free: str = "zero"
    window: str = "6M"

    def check(self) -> None:
        for value, allowed, name in (
            (self.period, PERIODS, "Period"),
            (self.risk_free, RISK_FREE, "Risk-free rate"),
            (self.window, WINDOWS, "Rolling window"),
        ):
            if value not in allowed:
                raise InvalidInput(f"{name} must be one of {', '.join(allowed)}.")


@dataclass(frozen=True)
class MetricsReport:
    """The summary of the period and the chart series."""

    request: Request
    benchmark_symbol: str
    summary: Summary
    benchmark_summary: Summary
    growth: pd.DataFrame
    drawdown: pd.Series
    rolling: pd.DataFrame | None
    rolling_note: str
    risk_free_note: str | None


def _risk_free(choice: str, dates: pd.DatetimeIndex) -> tuple[float | pd.Series, str | None]:
    if choice == "zero":
        return 0.0, None
    rates, note = per_period(three_month_yield(), dates)
    return pd.Series(rates, index=dates), note


def _build(inputs: analysis.Inputs, request: Request) -> MetricsReport:
    last = inputs.returns.index[-1].date()
    start = period_start(request.period, last, inputs.returns.index[0].date())
    returns = inputs.returns[inputs.returns.index >= pd.Timestamp(start)]
    bench = inputs.benchmark.reindex(returns.index)
    risk_free, note = _risk_free(request.risk_free, returns.index)
    summary = summarize(returns, bench, risk_free=risk_free)
    bench_summary = summarize(bench.dropna(), risk_free=risk_free)
    growth = pd.DataFrame(
        {"portfolio": (1 + returns).cumprod(), "benchmark": (1 + bench.fillna(0.0)).cumprod()}, index=returns.index
    )
    window = WINDOWS[request.window]
    rolling, rolling_note = None, ""
    if len(returns) >= window:
        rolling = rolling_metrics(returns, bench.fillna(0.0), window, risk_free=risk_free).dropna(how="all")
    else:
        rolling_note = f"Rolling metrics need at least {window} trading days (this period has {len(returns)})."
    drawdown = pd.Series(m.drawdowns(returns.to_numpy()), index=returns.index)
    return MetricsReport(
        request, inputs.benchmark_symbol, summary, bench_summary, growth, drawdown, rolling, rolling_note, note
    )


def report(db: Session, viewer: Viewer, portfolio_id: int, request: Request) -> MetricsReport:
    """The Performance page's report (cached per data version and request)."""
    request.check()
    inputs = analysis.inputs(db, viewer, portfolio_id)
    return _cache.get((inputs.key, request), lambda: _build(inputs, request))
