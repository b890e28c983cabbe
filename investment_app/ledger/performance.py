"""Performance of a valued portfolio over a period: TWR, MWR (XIRR) and simple return, with the benchmark.

A period (start, end] is measured from the close of its base day, the last valued day before
``start`` (value V_0), to the close of the last valued day on or before ``end``. "MAX" starts
before the first transaction (V_0 = 0). Flows inside the period are those of days after the base day.
The benchmark's TWR is its total-return (adjusted close) change from the base day to the end day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

from investment_app.analytics.returns import annualized, daily_returns, linked, simple_return, xirr
from investment_app.ledger.valuation import Valuation

PERIODS = ("1M", "3M", "YTD", "1Y", "3Y", "5Y", "MAX")
_OFFSETS = {
    "1M": relativedelta(months=1),
    "3M": relativedelta(months=3),
    "1Y": relativedelta(years=1),
    "3Y": relativedelta(years=3),
    "5Y": relativedelta(years=5),
}
EXPLAIN = {
    "twr": "Time-weighted: daily returns V_t / (V_t-1 + flows_t) − 1, linked; flows do not move it.",
    "mwr": "Money-weighted: the annual rate (XIRR) at which your deposits and withdrawals grow to the end value.",
    "simple_return": "Simple: (end value − start value − net flows) / (start value + money put in).",
}


@dataclass(frozen=True)
class PeriodResult:
    """The three returns of one period, with the benchmark's, and what they were computed from."""

    label: str
    start: dt.date
    end: dt.date
    start_value: float
    end_value: float
    net_flows: float
    twr: float
    twr_annualized: float | None
    mwr: float | None
    simple_return: float | None
    benchmark_twr: float | None


def period_start(label: str, end: dt.date, first: dt.date) -> dt.date:
    """The first day of a named period ending on ``end`` (never before the first transaction)."""
    if label == "MAX":
        return first
    start = dt.date(end.year, 1, 1) if label == "YTD" else end - _OFFSETS[label] + dt.timedelta(days=1)
    return max(start, first)


def _benchmark(prices: pd.Series, base: pd.Timestamp | None, end: pd.Timestamp) -> float | None:
    series = prices.dropna()
    series = series[series.index <= end]
    if base is not None:
        series = series[series.index >= base]
    if len(series) < 2:
        return None
    return float(series.iloc[-1] / series.iloc[0] - 1.0)


def measure(valuation: Valuation, benchmark: pd.Series, start: dt.date, end: dt.date, label: str = "") -> PeriodResult:
    """All three returns and the benchmark's over (start, end], from the daily valuation."""
    dates, total, flow = valuation.dates, valuation.total, valuation.net_flow
    last = int(dates.searchsorted(pd.Timestamp(end), side="right")) - 1
    first = int(dates.searchsorted(pd.Timestamp(start)))
    if last < 0 or first > last:
        raise ValueError(f"no valued day between {start} and {end}")
    base = first - 1  # −1: the period starts before the first transaction
    start_value = float(total[base]) if base >= 0 else 0.0
    window = slice(first, last + 1)
    returns = daily_returns(total, flow)[window]
    flows = flow[window]
    base_day = dates[base] if base >= 0 else dates[first] - pd.Timedelta(days=1)
    offsets = np.concatenate(([0], (dates[window] - base_day).days.to_numpy()))
    cash_flows = np.concatenate(([-start_value], -flows))
    cash_flows[-1] += float(total[last])
    span = float(offsets[-1])
    twr = linked(returns)
    return PeriodResult(
        label=label,
        start=dates[first].date(),
        end=dates[last].date(),
        start_value=start_value,
        end_value=float(total[last]),
        net_flows=float(flows.sum()),
        twr=twr,
        twr_annualized=annualized(twr, span),
        mwr=xirr(offsets, cash_flows),
        simple_return=simple_return(start_value, float(total[last]), flows),
        benchmark_twr=_benchmark(benchmark, dates[base] if base >= 0 else None, dates[last]),
    )


def breakdown(valuation: Valuation, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The per-day trace of a period: value at the close, flow, daily return and linked TWR so far."""
    frame = valuation.frame()
    frame["daily_return"] = daily_returns(valuation.total, valuation.net_flow)
    frame = frame[(frame.index >= pd.Timestamp(start)) & (frame.index <= pd.Timestamp(end))]
    frame["twr_to_date"] = np.cumprod(1.0 + frame["daily_return"].to_numpy()) - 1.0
    return frame
