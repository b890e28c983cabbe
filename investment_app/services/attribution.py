"""Where a period's return came from: each holding's contribution, and Brinson-Fachler effects by sector.

Conventions:
- Trading days of the benchmark inside the period; a holding's weight on day t is its value at the
  previous trading day's close over the portfolio's base V_{t−1} + flows_t (the time-weighted return's
  denominator), its return the change of its split-adjusted close. What the holdings do not explain —
  cash, dividends, fees, the same-day effect of trades — is one line, so the contributions add up to
  the period's time-weighted return (Carino linking, ``analytics.attribution``).
- Sectors: the invested part only (weights over the holdings' value). The benchmark's own holdings are
  not bundled, so the comparison is with the bundled stock universe, equal-weighted each day and
  grouped by GICS sector; the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlmodel import Session

from investment_app.analytics.attribution import brinson_fachler_linked, contributions, sector_view, universe_benchmark
from investment_app.auth.viewer import Viewer
from investment_app.ledger.performance import period_start
from investment_app.marketdata.price_book import price_frame
from investment_app.services import analysis, performance
from investment_app.services.cache import ResultCache
from investment_app.services.errors import InvalidInput

OTHER = "Cash, income and trades"
_cache = ResultCache(16)


@dataclass(frozen=True)
class Attribution:
    """Contributions per holding (adding up to ``total``) and sector effects against ``benchmark_label``."""

    start: str
    end: str
    total: float
    contributions: pd.Series
    sectors: pd.DataFrame
    benchmark_label: str
    note: str


def _daily(snap: performance.Snapshot, trading: pd.DatetimeIndex, start: pd.Timestamp):
    """Start-of-day weights (over the TWR base and over the invested value) and returns on trading days."""
    v = snap.valuation
    keep = np.flatnonzero(v.dates.isin(trading))
    values = v.positions[keep] * v.prices[keep]
    flows = np.diff(np.cumsum(v.net_flow)[keep])  # the flows after the previous trading day, up to this one
    base = v.total[keep[:-1]] + flows
    held = values[:-1]
    returns = v.prices[keep[1:]] / np.where(v.prices[keep[:-1]] > 0, v.prices[keep[:-1]], np.nan) - 1.0
    twr = v.total[keep[1:]] / np.where(base > 0, base, np.nan) - 1.0
    dates = v.dates[keep[1:]]
    inside = (dates >= start) & (base > 0)
    frame = lambda a: pd.DataFrame(a[inside], index=dates[inside], columns=v.symbols)  # noqa: E731
    invested = held.sum(axis=1, keepdims=True)
    return (
        frame(held / base[:, None]),
        frame(np.where(invested > 0, held / np.where(invested > 0, invested, 1.0), 0.0)),
        frame(np.nan_to_num(returns)),
        pd.Series(twr[inside], index=dates[inside]),
    )


def _build(db: Session, snap: performance.Snapshot, inputs: analysis.Inputs, period: str) -> Attribution:
    last = inputs.returns.index[-1]
    start = pd.Timestamp(period_start(period, last.date(), inputs.returns.index[0].date()))
    weights, invested, returns, twr = _daily(snap, inputs.returns.index, start)
    if weights.empty:
        raise InvalidInput("The period has no trading day to attribute.")
    other = twr - (weights * returns).sum(axis=1)
    by_holding = contributions(weights.assign(**{OTHER: 1.0}), returns.assign(**{OTHER: other}))
    by_holding = by_holding[by_holding != 0].sort_values(ascending=False)
    universe = analysis.universe(db)
    prices = price_frame(db.get_bind(), list(universe.index), start - pd.Timedelta(days=10), last.date())
    bench_w, bench_r = universe_benchmark(prices.pct_change(fill_method=None).reindex(weights.index), universe)
    sectors = pd.concat([universe, inputs.sectors]).groupby(level=0).first()
    port_w, port_r = sector_view(invested, returns, sectors)
    return Attribution(
        weights.index[0].date().isoformat(),
        last.date().isoformat(),
        float(np.prod(1.0 + twr) - 1.0),
        by_holding,
        brinson_fachler_linked(port_w, port_r, bench_w, bench_r),
        f"the bundled {len(universe)}-stock universe, equal-weighted daily",
        f"{inputs.benchmark_symbol}'s holdings are not bundled, so sectors are compared with the bundled "
        f"{len(universe)}-stock universe, equal-weighted each day; the portfolio side is its invested part.",
    )


def attribution(db: Session, viewer: Viewer, portfolio_id: int, period: str = "MAX") -> Attribution:
    """The period's attribution (cached per data version and period)."""
    snap = performance.snapshot(db, viewer, portfolio_id)
    inputs = analysis.inputs(db, viewer, portfolio_id)
    return _cache.get((snap.key, "attribution", period), lambda: _build(db, snap, inputs, period))
