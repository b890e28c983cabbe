"""Fill a ``TearsheetData`` from a return series (and its benchmark) with ``investment_app.analytics``.

Everything the renderers show comes from here: the summary's metrics (each None with its reason), the
growth and drawdown curves, the monthly table, rolling metrics, the five worst drawdowns, VaR and CVaR by
the four methods, and the series' own path through each bundled crisis window. A caller that knows more
(a portfolio's holdings-based VaR, its stress replay, its contributions) passes those rows instead.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from investment_app.analytics import metrics as m
from investment_app.analytics.catalogue import CATALOGUE, VAR_METHODS
from investment_app.analytics.errors import InsufficientData
from investment_app.analytics.risk import VaR, var_table
from investment_app.analytics.rolling import rolling_metrics
from investment_app.analytics.stress import CRISES
from investment_app.analytics.summary import Summary, summarize
from investment_app.tearsheet.model import DrawdownRow, HoldingRow, MetricRow, StressRow, TearsheetData, VarRow

ROLLING_WINDOW = 126
MIN_WINDOW_DAYS = 5


def _metric_rows(mine: Summary, theirs: Summary | None) -> list[MetricRow]:
    rows = [
        MetricRow(
            info.label,
            mine.values[key],
            theirs.values[key] if theirs and theirs.values[key] is not None else None,
            "pct" if info.kind == "share" else info.kind,
            mine.warnings.get(key),
        )
        for key, info in CATALOGUE.items()
    ]
    if mine.drawdowns:
        deepest = mine.drawdowns[0]
        rows += [
            MetricRow("Max drawdown peak", deepest.peak, kind="date"),
            MetricRow("Max drawdown trough", deepest.trough, kind="date"),
            MetricRow("Recovered", deepest.recovery, kind="date", reason=None if deepest.recovery else "not yet"),
            MetricRow("Max drawdown length", deepest.duration_days, kind="days"),
        ]
    return rows


def var_rows(table: list[VaR]) -> list[VarRow]:
    """VaR results as tearsheet rows: method names for people, losses as negative returns."""
    return [
        VarRow(VAR_METHODS[v.method], v.confidence, v.horizon_days, -v.var, -v.cvar)
        for v in table
        if v.var is not None and v.cvar is not None
    ]


def _var_rows(returns: np.ndarray, notes: list[str]) -> list[VarRow]:
    try:
        return var_rows(var_table(returns))
    except InsufficientData as exc:
        notes.append(f"Value at risk: {exc}.")
        return []


def series_stress(returns: pd.Series, benchmark: pd.Series | None) -> list[StressRow]:
    """The series' own compounded return over each crisis window it covers (and the benchmark's)."""
    rows = []
    for crisis in CRISES:
        start, end = pd.Timestamp(crisis.start), pd.Timestamp(crisis.end)
        if returns.index[0] > start or returns.index[-1] < end:
            continue
        inside = (returns.index > start) & (returns.index <= end)
        if inside.sum() < MIN_WINDOW_DAYS:
            continue
        mine = float(np.prod(1.0 + returns[inside].to_numpy()) - 1.0)
        theirs = None if benchmark is None else float(np.prod(1.0 + benchmark[inside].fillna(0.0).to_numpy()) - 1.0)
        rows.append(StressRow(crisis.name, crisis.start, crisis.end, mine, theirs))
    return rows


def _rolling(returns: pd.Series, benchmark: pd.Series | None, risk_free, window: int) -> pd.DataFrame | None:
    if len(returns) < window + 1:
        return None
    table = rolling_metrics(returns, benchmark, window, risk_free=risk_free)
    keep = [c for c in table.columns if table[c].notna().sum() >= 2]
    return table[keep] if keep else None


def build_tearsheet(
    returns: pd.Series,
    benchmark: pd.Series | None = None,
    *,
    title: str,
    subtitle: str | None = None,
    risk_free: float | pd.Series = 0.0,
    rolling_window: int = ROLLING_WINDOW,
    var: list[VarRow] | None = None,
    stress: list[StressRow] | None = None,
    holdings: list[HoldingRow] | None = None,
    notes: list[str] | tuple[str, ...] = (),
    portfolio_name: str | None = None,
    benchmark_name: str | None = None,
    currency: str = "",
) -> TearsheetData:
    """The tearsheet of ``returns`` (simple, one per period) against ``benchmark``; see the module doc."""
    mine = summarize(returns, benchmark, risk_free=risk_free)
    clean = returns.dropna()
    clean.index = pd.DatetimeIndex(clean.index)
    notes = list(notes) + [w for k, w in mine.warnings.items() if k == "data"]
    bench = None
    theirs = None
    if benchmark is not None and mine.benchmark_observations:
        bench = benchmark.copy()
        bench.index = pd.DatetimeIndex(bench.index)
        bench = bench.reindex(clean.index).fillna(0.0)
        theirs = summarize(bench, risk_free=risk_free)
    rf = risk_free.reindex(clean.index) if isinstance(risk_free, pd.Series) else risk_free
    name = portfolio_name or str(returns.name or "Portfolio")
    bench_label = benchmark_name or (str(benchmark.name) if benchmark is not None and benchmark.name else "Benchmark")
    return TearsheetData(
        title=title,
        subtitle=subtitle or (f"vs {bench_label}" if bench is not None else "No benchmark"),
        generated_at=dt.datetime.now(dt.UTC),
        start=mine.start,
        end=mine.end,
        metrics=_metric_rows(mine, theirs),
        equity=(1.0 + clean).cumprod(),
        drawdown=pd.Series(m.drawdowns(clean.to_numpy()), index=clean.index),
        daily_returns=clean,
        monthly_returns=mine.monthly,
        benchmark_equity=None if bench is None else (1.0 + bench).cumprod(),
        benchmark_returns=bench,
        rolling=_rolling(clean, bench, rf, rolling_window),
        rolling_window=rolling_window,
        drawdowns=[DrawdownRow(d.peak, d.trough, d.recovery, d.depth, d.duration_days) for d in mine.drawdowns],
        var=var if var is not None else _var_rows(clean.to_numpy(), notes),
        stress=stress if stress is not None else series_stress(clean, bench),
        holdings=holdings,
        notes=notes,
        portfolio_name=name,
        benchmark_name=bench_label,
        currency=currency,
    )
