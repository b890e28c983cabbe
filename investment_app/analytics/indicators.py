"""Technical indicators on a grid of daily closes: SMA, Wilder's RSI, N-day return, crossings.

Every function takes a 2-D float array (days × symbols, oldest day first, NaN = no close that day) and returns
an array of the same shape, vectorized over days and symbols.

Missing closes. SMA, RSI and crossings are computed on each symbol's own observations: a day without a close
is skipped, never filled, so a symbol listed later simply starts later, and after a gap (an interior NaN) the
next change is measured from the last close before it. Their value on a day without a close is NaN (0 for
crossings). To do this without a loop over symbols, ``observations`` packs each column's closes to the top
of the array in order (row k = the symbol's k-th close), the indicator runs on the packed rows (all series
start at row 0, so Wilder's seed falls on the same row for every symbol) and ``Observations.unpack`` puts
each result back on its day. The N-day return is the exception: "a move over N days" is a statement about
the calendar of the grid, so it compares the closes ``days`` rows apart and is NaN when either is missing
(pandas' ``pct_change(days, fill_method=None)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from numbers import Real

import numpy as np
from scipy.signal import lfilter

from investment_app.analytics.errors import AnalyticsError


def _grid(values: np.ndarray) -> np.ndarray:
    """A 2-D float64 array without infinities (NaN allowed: a missing value)."""
    grid = np.asarray(values, dtype=np.float64)
    if grid.ndim != 2:
        raise AnalyticsError(f"indicators need a 2-D array of days × symbols (got shape {grid.shape})")
    if np.isinf(grid).any():
        raise AnalyticsError("the values contain infinities; use NaN for a missing close")
    return grid


def _length(n: int, what: str, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, Real) or int(n) != n or n < minimum:
        raise AnalyticsError(f"{what} must be a whole number of at least {minimum} (got {n})")
    return int(n)


@dataclass(frozen=True, eq=False)
class Observations:
    """Each column's non-missing values packed to the top in day order.

    ``values[k, j]`` is symbol j's (k+1)-th observation (NaN for k ≥ ``counts[j]``); ``present`` marks the days
    with an observation; ``first_day[j]`` is the day of the first one (the number of days when there is none).
    """

    values: np.ndarray
    counts: np.ndarray
    first_day: np.ndarray
    present: np.ndarray

    @cached_property
    def rank(self) -> np.ndarray:
        """rank[t, j]: the packed row of day t's observation, −1 when day t has none."""
        rank = np.cumsum(self.present, axis=0) - 1
        rank[~self.present] = -1
        return rank

    def unpack(self, packed: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Put a packed result (one row per observation) back on the days of the grid; ``fill`` elsewhere.

        The result keeps ``packed``'s dtype, so ``fill`` must fit it (0 for integer results).
        """
        out = np.full(self.present.shape, fill, dtype=packed.dtype)
        days, columns = np.nonzero(self.present)
        out[days, columns] = packed[self.rank[days, columns], columns]
        return out

    @cached_property
    def _sums(self) -> tuple[np.ndarray, np.ndarray]:
        """(S, c): S[k, j] = Σ_{i<k} (x_ij − c_j), one zero row on top; c = each column's first value.

        Centring on the first value keeps the running sums small, so the differences of two of them (window
        sums) lose no more than a few ulps of the prices.
        """
        centre = np.nan_to_num(self.values[0])
        centred = np.nan_to_num(self.values - centre, nan=0.0, copy=False)
        sums = np.zeros((self.values.shape[0] + 1, self.values.shape[1]))
        np.cumsum(centred, axis=0, out=sums[1:])
        return sums, centre

    def trailing_mean(self, column: np.ndarray, end: np.ndarray, window: np.ndarray) -> np.ndarray:
        """Mean of observations ``end − window`` … ``end − 1`` of each ``column`` (arrays broadcast together).

        NaN where the window starts before the first observation or ends after the last one.
        """
        sums, centre = self._sums
        column, end, window = np.broadcast_arrays(column, end, window)
        start = end - window
        inside = (start >= 0) & (end <= self.counts[column])
        total = sums[np.where(inside, end, 0), column] - sums[np.where(inside, start, 0), column]
        return np.where(inside, total / np.maximum(window, 1) + centre[column], np.nan)


def observations(grid: np.ndarray) -> Observations:
    """Pack a days × symbols grid (NaN = missing) into ``Observations``; complete columns are copied as they are."""
    grid = _grid(grid)
    days = grid.shape[0]
    present = ~np.isnan(grid)
    counts = present.sum(axis=0)
    packed = grid.copy()
    gappy = np.flatnonzero(counts < days)
    if gappy.size:
        mask = present[:, gappy]
        rows, columns = np.nonzero(mask)
        block = np.full((days, gappy.size), np.nan)
        block[(np.cumsum(mask, axis=0) - 1)[rows, columns], columns] = grid[:, gappy][rows, columns]
        packed[:, gappy] = block
    first_day = np.where(counts > 0, present.argmax(axis=0), days)
    return Observations(packed, counts, first_day, present)


def sma(closes: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average: the mean of each symbol's last ``window`` closes up to and including the day.

    NaN until the symbol has ``window`` closes and on days without a close (pandas'
    ``series.dropna().rolling(window).mean()`` per column, put back on the grid's days).
    """
    window = _length(window, "the SMA window")
    obs = observations(closes)
    days, width = obs.values.shape
    end = np.arange(1, days + 1)[:, None]
    return obs.unpack(obs.trailing_mean(np.arange(width)[None, :], end, window))


def _wilder_average(x: np.ndarray, period: int) -> np.ndarray:
    """Wilder's smoothing of packed rows: A_n = mean(x_1 … x_n) at row n − 1, then A_t = A_{t−1} + (x_t − A_{t−1})/n.

    The recursion A_t = (1 − α)A_{t−1} + αx_t (α = 1/n) is the IIR filter b = [α], a = [1, α − 1], run by
    ``scipy.signal.lfilter`` along the rows with the seed as its initial state (zi = (1 − α)A_seed).
    Rows n − 1 … end of the result; NaN in x (past a column's last observation) propagates downwards only.
    """
    alpha = 1.0 / period
    seed = x[:period].mean(axis=0)
    rest, _ = lfilter([alpha], [1.0, alpha - 1.0], x[period:], axis=0, zi=((1.0 - alpha) * seed)[None, :])
    return np.vstack([seed[None, :], rest])


def rsi_of_observations(values: np.ndarray, period: int) -> np.ndarray:
    """Wilder's RSI of packed observations (``Observations.values``: each column's closes from row 0).

    Changes d_k = x_k − x_{k−1}, gains max(d, 0) and losses max(−d, 0); their averages G and L are seeded
    with the simple mean of the first ``period`` changes and smoothed by Wilder's recursion
    (``_wilder_average``), as Wilder (1978) and StockCharts do. RSI = 100 − 100/(1 + G/L) = 100·G/(G + L):
    100 when L = 0, NaN when G = L = 0 (no change at all). The first RSI is on row ``period``.
    """
    period = _length(period, "the RSI period")
    out = np.full(values.shape, np.nan)
    if values.shape[0] <= period:
        return out
    change = np.diff(values, axis=0)
    gain = _wilder_average(np.clip(change, 0.0, None), period)
    loss = _wilder_average(np.clip(-change, 0.0, None), period)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[period:] = 100.0 * gain / (gain + loss)
    return out


def wilder_rsi(closes: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder's RSI (``rsi_of_observations``) of each symbol's own closes, on the grid's days.

    NaN before the symbol's (period + 1)-th close and on days without a close. The smoothing remembers
    every change since the seed with weight (1 − 1/period)^age, so two windows starting on different days
    agree only after a warm-up (StockCharts advises about 250 closes; 10 periods bring the seed's weight
    below e^−10).
    """
    obs = observations(closes)
    return obs.unpack(rsi_of_observations(obs.values, period))


def n_day_return(closes: np.ndarray, days: int) -> np.ndarray:
    """Simple return over ``days`` rows of the grid: r_t = p_t / p_{t−days} − 1.

    NaN for the first ``days`` rows and wherever either close is missing (pandas'
    ``pct_change(days, fill_method=None)``).
    """
    days = _length(days, "the number of days")
    grid = _grid(closes)
    out = np.full(grid.shape, np.nan)
    out[days:] = grid[days:] / grid[:-days] - 1.0
    return out


def cross_direction(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """+1 where x crosses zero upwards (before < 0 ≤ after), −1 downwards (before > 0 ≥ after), else 0.

    Touching zero counts as crossing, and leaving it does not, so −1, 0, +1 is one upward crossing (on the
    0). A NaN on either side gives 0.
    """
    before, after = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
    up = (before < 0.0) & (after >= 0.0)
    down = (before > 0.0) & (after <= 0.0)
    return up.astype(np.int8) - down.astype(np.int8)


def crossings(x: np.ndarray) -> np.ndarray:
    """``cross_direction`` between each observation of x and the one before it, per column, on the grid's days.

    For a moving-average crossover pass x = SMA_fast − SMA_slow (+1 = golden cross, −1 = death cross); for a
    price level, x = close − level. Days without a value, and each column's first value, give 0.
    """
    obs = observations(x)
    packed = np.zeros(obs.values.shape, dtype=np.int8)
    packed[1:] = cross_direction(obs.values[:-1], obs.values[1:])
    return obs.unpack(packed, fill=0)
