"""`metrics`, `var` and `tearsheet`: analytics of a return (or price) series read from CSV files.

Each prints one JSON object on stdout. Unusable input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.risk import METHODS, value_at_risk
from investment_app.analytics.riskfree import per_period
from investment_app.analytics.series_csv import read_series
from investment_app.analytics.summary import summarize
from investment_app.marketdata.treasury import three_month_yield

RISK_FREE_HELP = "risk-free rate per period, as empyrical (default 0); or 'treasury' for the bundled 3-month bill"


def register(commands: argparse._SubParsersAction) -> None:
    metrics = commands.add_parser("metrics", help="performance metrics of a return series as JSON")
    _series_arguments(metrics)
    metrics.add_argument("--benchmark", type=Path, help="CSV of the benchmark's returns (dates, one column)")
    metrics.add_argument("--benchmark-prices", type=Path, help="CSV of the benchmark's prices instead")
    metrics.add_argument("--risk-free-rate", default="0", help=RISK_FREE_HELP)
    metrics.add_argument("--periods-per-year", type=int, default=252, help="252 for daily data (default)")
    metrics.add_argument("--required-return", type=float, default=0.0, help="per period, for Sortino and downside")
    metrics.set_defaults(handler=run_metrics)

    var = commands.add_parser("var", help="value at risk and expected shortfall of a return series as JSON")
    _series_arguments(var)
    var.add_argument("--confidence", type=float, default=0.95, help="e.g. 0.95 or 0.99")
    var.add_argument("--method", choices=METHODS, default="historical")
    var.add_argument("--horizon-days", type=int, default=1)
    var.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo method")
    var.set_defaults(handler=run_var)

    sheet = commands.add_parser("tearsheet", help="an HTML (and PDF) tearsheet of a return series")
    _series_arguments(sheet)
    sheet.add_argument("--benchmark", type=Path, help="CSV of the benchmark's returns")
    sheet.add_argument("--benchmark-prices", type=Path, help="CSV of the benchmark's prices instead")
    sheet.add_argument("--title", help="heading of the document (default: the series' name)")
    sheet.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    sheet.add_argument("--pdf", type=Path, help="also write a PDF here")
    sheet.set_defaults(handler=run_tearsheet)


def _series_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--returns", type=Path, help="CSV: dates in the first column, simple returns in the second")
    source.add_argument("--prices", type=Path, help="CSV of prices instead (simple returns are taken)")


def _series(args: argparse.Namespace) -> pd.Series:
    return read_series(args.returns, "returns") if args.returns else read_series(args.prices, "prices")


def _benchmark(args: argparse.Namespace) -> pd.Series | None:
    if args.benchmark:
        return read_series(args.benchmark, "returns")
    return read_series(args.benchmark_prices, "prices") if args.benchmark_prices else None


def _risk_free(value: str, returns: pd.Series) -> tuple[float | pd.Series, str | None]:
    """A constant per-period rate, or the bundled 3-month Treasury bill's (with a note when it runs out)."""
    if value.lower() != "treasury":
        try:
            return float(value), None
        except ValueError:
            raise AnalyticsError(f"--risk-free-rate: {value!r} is neither a number nor 'treasury'") from None
    rates, note = per_period(three_month_yield(), returns.index)
    return pd.Series(rates, index=returns.index), note


def _print(payload: dict) -> int:
    print(json.dumps(payload, indent=2, allow_nan=False))
    return 0


def run_metrics(args: argparse.Namespace) -> int:
    returns = _series(args)
    risk_free, note = _risk_free(args.risk_free_rate, returns)
    summary = summarize(
        returns,
        _benchmark(args),
        risk_free=risk_free,
        periods_per_year=args.periods_per_year,
        required_return=args.required_return,
    )
    payload = summary.to_json()
    if note:
        payload["warnings"] = {**payload["warnings"], "risk_free": note}
    return _print({"series": returns.name, **payload})


def run_var(args: argparse.Namespace) -> int:
    returns = _series(args)
    clean = returns.dropna()
    result = value_at_risk(clean.to_numpy(), args.confidence, args.method, args.horizon_days, seed=args.seed)
    warnings = {"data": f"{len(returns) - len(clean)} missing values dropped"} if len(clean) < len(returns) else {}
    return _print(
        {
            "series": returns.name,
            "method": result.method,
            "confidence": result.confidence,
            "horizon_days": result.horizon_days,
            "var": result.var,
            "cvar": result.cvar,
            "observations": result.observations,
            "warnings": warnings,
        }
    )


def run_tearsheet(args: argparse.Namespace) -> int:
    from investment_app.tearsheet.build import build_tearsheet
    from investment_app.tearsheet.html import render_html

    returns = _series(args)
    data = build_tearsheet(returns, _benchmark(args), title=args.title or str(returns.name))
    args.out.write_text(render_html(data), encoding="utf-8")
    written = {"html": str(args.out)}
    if args.pdf:
        from investment_app.tearsheet.pdf import render_pdf

        args.pdf.write_bytes(render_pdf(data))
        written["pdf"] = str(args.pdf)
    return _print({"series": returns.name, "files": written, "observations": int(returns.notna().sum())})
