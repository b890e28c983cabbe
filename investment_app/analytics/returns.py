"""Portfolio return measures: time-weighted (daily linked), money-weighted (XIRR) and simple.

Conventions (GIPS-style daily valuation):
- Daily time-weighted return with external flows at the start of the day:
  r_t = V_t / (V_{t-1} + F_t) − 1, and 0 on a day whose base V_{t-1} + F_t is not positive.
  TWR over a period = Π (1 + r_t) − 1 (geometric linking).
- Money-weighted return = XIRR, the annual rate r solving Σ c_i (1 + r)^(−d_i / 365) = 0 over the
  investor's cash flows c_i (value at the start and flows in as negative, value at the end as
  positive), d_i = days since the first flow (Excel's XIRR convention).
- Simple return = (V_end − V_start − net flows) / (V_start + inflows): the gain over what was put in.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

DAYS_PER_YEAR = 365.0


def daily_returns(total: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Daily time-weighted returns r_t = V_t / (V_{t-1} + F_t) − 1 (V_{-1} = 0)."""
    base = np.concatenate(([0.0], total[:-1])) + flow
    safe = np.where(base > 0, base, 1.0)
    return np.where(base > 0, total / safe - 1.0, 0.0)


def linked(returns: np.ndarray) -> float:
    """Geometrically linked return Π (1 + r) − 1."""
    return float(np.prod(1.0 + returns) - 1.0)


def annualized(total_return: float, days: float) -> float | None:
    """(1 + R)^(365 / days) − 1; None for periods shorter than a day."""
    return None if days < 1 else float((1.0 + total_return) ** (DAYS_PER_YEAR / days) - 1.0)


def _npv(rate: float, years: np.ndarray, amounts: np.ndarray) -> float:
    return float(np.sum(amounts / (1.0 + rate) ** years))


def xirr(days: np.ndarray, amounts: np.ndarray) -> float | None:
    """The annual rate that makes the net present value of ``amounts`` zero; None if there is none.

    ``days`` are offsets from the first flow. Needs at least one negative and one positive flow.
    The root is bracketed between −99.9999 % and +1,000,000 % and found with Brent's method.
    """
    amounts = np.asarray(amounts, dtype=float)
    if not (np.any(amounts < 0) and np.any(amounts > 0)):
        return None
    years = np.asarray(days, dtype=float) / DAYS_PER_YEAR
    low, high = -0.999999, 1e4
    if np.sign(_npv(low, years, amounts)) == np.sign(_npv(high, years, amounts)):
        return None
    return float(brentq(_npv, low, high, args=(years, amounts), xtol=1e-12, rtol=1e-12, maxiter=500))


def simple_return(start_value: float, end_value: float, flows: np.ndarray) -> float | None:
    """(V_end − V_start − Σ F) / (V_start + Σ F⁺); None when nothing was invested."""
    invested = start_value + float(np.sum(flows[flows > 0]))
    if invested <= 0:
        return None
    return (end_value - start_value - float(np.sum(flows))) / invested
