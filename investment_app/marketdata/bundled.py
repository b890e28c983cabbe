"""The bundled real dataset in ``investment_app/sample_data`` (see its NOTICE.md for origin and licences).

PyPortfolioOpt's 19-stock panel of adjusted closes (1990-2024, NaN before each IPO) and SPY as the
benchmark, with GICS sectors from ``sectors_gics.csv``. The series carry adjusted closes only, so a
bar stores close = adj_close and leaves open, high, low and volume empty. Missing values are dropped,
never filled.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import pandas as pd

from investment_app.db import get_engine
from investment_app.marketdata.store import LoadReport, count_bars, load_bars

SAMPLE_DATA_DIR = Path(__file__).resolve().parent.parent / "sample_data"
STOCK_PRICES_CSV = SAMPLE_DATA_DIR / "pypfopt_stock_prices_1990_2024.csv"
SPY_PRICES_CSV = SAMPLE_DATA_DIR / "pypfopt_spy_prices_1993_2024.csv"
SECTORS_CSV = SAMPLE_DATA_DIR / "sectors_gics.csv"
PRICE_CSVS = (STOCK_PRICES_CSV, SPY_PRICES_CSV)

SOURCE = "bundled"
BENCHMARK = "SPY"
BENCHMARK_NAME = "SPDR S&P 500 ETF Trust"
SYMBOL_COLUMNS = ["symbol", "name", "gics_sector", "gics_sub_industry", "asset_class"]
BAR_COLUMNS = ["symbol", "date", "close", "adj_close", "source"]


def _stock_tickers() -> list[str]:
    """The stock panel's tickers, in file order (its header without ``date``)."""
    return pd.read_csv(STOCK_PRICES_CSV, nrows=0).columns.drop("date").tolist()


def bundled_symbols() -> pd.DataFrame:
    """The 19 stocks (asset_class "equity", names and GICS from sectors_gics.csv) and SPY ("etf")."""
    tickers = _stock_tickers()
    sectors = pd.read_csv(SECTORS_CSV, dtype=str, keep_default_na=False).set_index("ticker")
    unmapped = sorted(set(tickers) - set(sectors.index))
    if unmapped:
        raise ValueError(f"{SECTORS_CSV.name} has no sector for {', '.join(unmapped)}")
    stocks = (
        sectors.loc[tickers, ["name", "gics_sector", "gics_sub_industry"]]
        .rename_axis("symbol")
        .reset_index()
        .assign(asset_class="equity")
    )
    benchmark = pd.DataFrame(
        {
            "symbol": [BENCHMARK],
            "name": [BENCHMARK_NAME],
            "gics_sector": [""],
            "gics_sub_industry": [""],
            "asset_class": ["etf"],
        }
    )
    return pd.concat([stocks, benchmark], ignore_index=True)[SYMBOL_COLUMNS]


def _tidy_closes(path: Path) -> pd.DataFrame:
    """One wide CSV of adjusted closes (``date`` + one column per symbol) as long rows, NaN dropped."""
    long = pd.read_csv(path).melt(id_vars="date", var_name="symbol", value_name="adj_close").dropna()
    long["date"] = pd.to_datetime(long["date"], format="%Y-%m-%d").dt.date
    return long


def bundled_bars() -> pd.DataFrame:
    """Every non-missing adjusted close of the bundled files, one row per (symbol, date), sorted."""
    bars = pd.concat([_tidy_closes(path) for path in PRICE_CSVS], ignore_index=True)
    bars = bars.assign(close=bars["adj_close"], source=SOURCE)
    return bars.sort_values(["symbol", "date"], ignore_index=True)[BAR_COLUMNS]


@lru_cache(maxsize=1)
def bundled_bar_count() -> int:
    """How many non-missing closes the bundled price files hold (counted once per process)."""
    return sum(int(pd.read_csv(path, index_col="date").count().sum()) for path in PRICE_CSVS)


def load_bundled(url: str | None = None) -> LoadReport:
    """Seed the store at ``url`` (default: the configured database) with the bundled dataset.

    Idempotent: when the store holds as many bundled-source bars as the files (those rows can only
    come from them) it returns at once; otherwise only the missing symbols and bars are inserted.
    """
    start = time.perf_counter()
    engine = get_engine(url)
    expected = bundled_bar_count()
    if count_bars(engine, source=SOURCE) == expected:
        return LoadReport(symbols_added=0, bars_added=0, bars_skipped=expected, seconds=time.perf_counter() - start)
    return load_bars(engine, bundled_symbols(), bundled_bars())
