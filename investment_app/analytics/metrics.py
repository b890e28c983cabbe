"""Performance metrics of a simple-return series, vectorized, following empyrical's definitions.

Every function takes a 1-D float array of simple returns without NaN (callers drop or report gaps)
and, where it annualises, ``periods_per_year`` (252 for daily data). Rates such as the risk-free
rate are per period. Each docstring gives the formula; tests compare each one with
empyrical-reloaded (and quantstats where the two agree) on real bundled returns.
"""

from __future__ import annotations

import numpy as np

TRADING_DAYS = 252


def total_return(r: np.ndarray) -> float:
    """Π(1 + r) − 1 (empyrical ``cum_returns_final``)."""
    return float(np.prod(1.0 + r) - 1.0)


def annual_return(r: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float:
    """CAGR over the number of periods: (1 + total)^(periods_per_year / n) − 1 (empyrical)."""
    return float((1.0 + total_return(r)) ** (periods_per_year / len(r)) - 1.0)


def annual_volatility(r: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float:
    """Sample standard deviation (ddof = 1) × √periods_per_year."""
    return float(np.std(r, ddof=1) * np.sqrt(periods_per_year))


def sharpe(r: np.ndarray, risk_free: float = 0.0, periods_per_year: int = TRADING_DAYS) -> float:
    """mean(r − rf) / std(r − rf, ddof = 1) × √periods_per_year."""
    excess = r - risk_free
    return float(np.mean(excess) / np.std(excess, ddof=1) * np.sqrt(periods_per_year))


def downside_risk(r: np.ndarray, required_return: float = 0.0, periods_per_year: int = TRADING_DAYS) -> float:
    """√(mean(min(r − required, 0)²)) × √periods_per_year: the mean runs over all periods (empyrical)."""
    shortfall = np.minimum(r - required_return, 0.0)
    return float(np.sqrt(np.mean(shortfall**2)) * np.sqrt(periods_per_year))


def sortino(r: np.ndarray, required_return: float = 0.0, periods_per_year: int = TRADING_DAYS) -> float:
    """mean(r − required) × periods_per_year / downside_risk (empyrical)."""
    return float(np.mean(r - required_return) * periods_per_year / downside_risk(r, required_return, periods_per_year))


def drawdowns(r: np.ndarray) -> np.ndarray:
    """Drawdown after each period: wealth / running peak − 1, the peak starting at the initial 1."""
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    return (wealth / np.maximum.accumulate(wealth) - 1.0)[1:]


def max_drawdown(r: np.ndarray) -> float:
    """The deepest drawdown, a negative number (empyrical)."""
    return float(min(drawdowns(r).min(), 0.0))


def calmar(r: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float | None:
    """annual_return / |max_drawdown|; None without a drawdown."""
    depth = max_drawdown(r)
    return None if depth == 0 else annual_return(r, periods_per_year) / abs(depth)


def omega(
    r: np.ndarray, risk_free: float = 0.0, required_return: float = 0.0, periods_per_year: int = TRADING_DAYS
) -> float | None:
    """Σ gains over the threshold / Σ losses under it; threshold = (1 + required)^(1/ppy) − 1 (empyrical)."""
    threshold = (1.0 + required_return) ** (1.0 / periods_per_year) - 1.0
    excess = r - risk_free - threshold
    losses = -excess[excess < 0].sum()
    return None if losses <= 0 else float(excess[excess > 0].sum() / losses)


def tail_ratio(r: np.ndarray) -> float:
    """|95th percentile| / |5th percentile| (empyrical)."""
    return float(abs(np.percentile(r, 95)) / abs(np.percentile(r, 5)))


def skew(r: np.ndarray) -> float:
    """Sample skewness, bias-corrected (pandas' and quantstats' definition)."""
    n, centred = len(r), r - r.mean()
    g1 = np.mean(centred**3) / np.mean(centred**2) ** 1.5
    return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))


def kurtosis(r: np.ndarray) -> float:
    """Sample excess kurtosis, bias-corrected (pandas' and quantstats' definition)."""
    n, centred = len(r), r - r.mean()
    g2 = np.mean(centred**4) / np.mean(centred**2) ** 2 - 3.0
    return float((n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6.0))


def alpha_beta(
    r: np.ndarray, b: np.ndarray, risk_free: float = 0.0, periods_per_year: int = TRADING_DAYS
) -> tuple[float, float]:
    """β = cov(r − rf, b − rf) / var(b − rf); α = (1 + mean(r − rf − β(b − rf)))^ppy − 1 (empyrical)."""
    y, x = r - risk_free, b - risk_free
    xc = x - x.mean()
    beta = float(np.sum(xc * (y - y.mean())) / np.sum(xc**2))
    return float((1.0 + np.mean(y - beta * x)) ** periods_per_year - 1.0), beta


def r_squared(r: np.ndarray, b: np.ndarray) -> float:
    """Share of the variance explained by the benchmark: corr(r, b)²."""
    return float(np.corrcoef(r, b)[0, 1] ** 2)


def tracking_error(r: np.ndarray, b: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float:
    """std(r − b, ddof = 1) × √periods_per_year."""
    return float(np.std(r - b, ddof=1) * np.sqrt(periods_per_year))


def information_ratio(r: np.ndarray, b: np.ndarray, periods_per_year: int = TRADING_DAYS) -> float:
    """Annualised active return over tracking error: mean(r − b) / std(r − b, ddof = 1) × √ppy
    (empyrical's ``excess_sharpe`` × √ppy)."""
    active = r - b
    return float(np.mean(active) / np.std(active, ddof=1) * np.sqrt(periods_per_year))


def capture(r: np.ndarray, b: np.ndarray, up: bool, periods_per_year: int = TRADING_DAYS) -> float:
    """Up (down) capture: annual_return(r) / annual_return(b) over the periods where b > 0 (b < 0) (empyrical)."""
    mask = b > 0 if up else b < 0
    return annual_return(r[mask], periods_per_year) / annual_return(b[mask], periods_per_year)
