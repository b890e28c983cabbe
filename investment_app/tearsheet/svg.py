"""SVG primitives for the tearsheet charts: scales, nice ticks, M4 decimation and path strings from whole arrays.

The subset used (svg, path, rect and text with presentation attributes) renders the same in browsers and in
fpdf2's SVG importer, so one chart serves the HTML page and the PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from html import escape

import numpy as np

FONT_STACK = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class Scale:
    """Linear map of the data interval [lo, hi] onto the pixel interval [start, stop] (stop < start on a y axis)."""

    lo: float
    hi: float
    start: float
    stop: float

    def __call__(self, values: np.ndarray | float) -> np.ndarray:
        """start + (v − lo) × (stop − start) / (hi − lo), element-wise."""
        slope = (self.stop - self.start) / (self.hi - self.lo)
        return self.start + (np.asarray(values, dtype=float) - self.lo) * slope


@dataclass(frozen=True)
class Chart:
    """A finished chart: its title (shown and announced), a one-sentence description, size and drawn body."""

    title: str
    description: str
    width: int
    height: int
    body: str

    def svg(self, font_family: str = FONT_STACK, accessible: bool = True) -> str:
        """The standalone <svg> element; ``accessible`` adds <title>/<desc> (fpdf2 ignores them with a warning)."""
        label = f"<title>{escape(self.title)}</title><desc>{escape(self.description)}</desc>" if accessible else ""
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'width="{self.width}" height="{self.height}" role="img" font-family="{escape(font_family)}">'
            f"{label}{self.body}</svg>"
        )


def tag(name: str, content: str | None = None, **attrs: object) -> str:
    """One escaped element; attribute names use "_" for "-" (stroke_width → stroke-width, class_ → class)."""
    attributes = "".join(f' {key.rstrip("_").replace("_", "-")}="{escape(str(value))}"' for key, value in attrs.items())
    return f"<{name}{attributes}/>" if content is None else f"<{name}{attributes}>{content}</{name}>"


def text(x: float, y: float, content: str, **attrs: object) -> str:
    """A <text> element at (x, y) with the string escaped."""
    return tag("text", escape(content), x=f"{x:.1f}", y=f"{y:.1f}", **attrs)


def nice_step(span: float, max_ticks: int) -> float:
    """The smallest step of 1, 2 or 5 × 10^k giving at most ``max_ticks`` intervals (Heckbert, Graphics Gems 1990)."""
    raw = span / max_ticks
    magnitude = 10.0 ** np.floor(np.log10(raw))
    return float(next(m * magnitude for m in (1.0, 2.0, 5.0, 10.0) if m * magnitude >= raw * (1 - 1e-9)))


def nice_ticks(lo: float, hi: float, max_ticks: int = 5) -> tuple[np.ndarray, float]:
    """Ticks at multiples of a nice step covering [lo, hi] (the axis extends to the outer ticks), and the step."""
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - 0.5 * max(abs(lo), 1e-3), hi + 0.5 * max(abs(hi), 1e-3)
    step = nice_step(hi - lo, max_ticks)
    first, last = np.floor(lo / step + 1e-9), np.ceil(hi / step - 1e-9)
    return np.arange(first, last + 1) * step + 0.0, step


def date_ticks(lo: int, hi: int, max_ticks: int = 6) -> tuple[np.ndarray, list[str]]:
    """Ticks on 1 January every 1, 2, 5, 10… years inside [lo, hi] (days since 1970), labelled by year.

    Spans holding fewer than two new years fall back to the first of every 1, 2, 3 or 6 months ("2024-03"),
    spans of under two months to every 1, 2, 5, 10… days ("2024-03-05", at most 4 ticks).
    """
    days = np.array([lo, hi], dtype="datetime64[D]")
    years = np.arange(days[0].astype("datetime64[Y]") + 1, days[1].astype("datetime64[Y]") + 1)
    if years.size >= 2:
        step = int(nice_step(years.size, max_ticks)) if years.size > max_ticks else 1
        years = years[(years.astype(int) + 1970) % step == 0]
        return years.astype("datetime64[D]").astype(np.int64), [str(y) for y in years]
    months = np.arange(days[0].astype("datetime64[M]") + 1, days[1].astype("datetime64[M]") + 1)
    if months.size >= 2:
        step = next((s for s in (1, 2, 3, 6) if months.size <= s * max_ticks), 12)
        months = months[months.astype(int) % step == 0]
        return months.astype("datetime64[D]").astype(np.int64), [str(m) for m in months]
    step = max(1, int(nice_step(max(hi - lo, 1), 4)))
    ticks = np.arange(-(-lo // step) * step, hi + 1, step)
    return ticks, [str(d) for d in ticks.astype("datetime64[D]")]


def m4_indices(x: np.ndarray, y: np.ndarray, buckets: int) -> np.ndarray:
    """Indices kept by M4 decimation: first, last, min and max of ``y`` in each of ``buckets`` equal x intervals.

    Jugel et al., "M4: A Visualization-Oriented Time Series Data Aggregation", VLDB 2014: a line drawn through
    these ≤ 4 × buckets points is pixel-identical to the full line at ``buckets`` pixels wide, so peaks and
    drawdown troughs survive. ``x`` ascending, ``y`` finite; short series are returned whole.
    """
    n = y.size
    if n <= 4 * buckets:
        return np.arange(n)
    bucket = np.minimum(((x - x[0]) * (buckets / (x[-1] - x[0]))).astype(np.int64), buckets - 1)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    counts = np.diff(np.r_[starts, n])
    position = np.arange(n)
    lowest = np.repeat(np.minimum.reduceat(y, starts), counts)
    highest = np.repeat(np.maximum.reduceat(y, starts), counts)
    first_min = np.minimum.reduceat(np.where(y == lowest, position, n), starts)
    first_max = np.minimum.reduceat(np.where(y == highest, position, n), starts)
    return np.unique(np.concatenate([starts, starts + counts - 1, first_min, first_max]))


def decimate(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """M4 over the finite values; returns the kept indices and, per kept point, whether a gap (NaN) precedes it."""
    finite = np.flatnonzero(np.isfinite(y))
    kept = finite[m4_indices(x[finite], y[finite], buckets)]
    gaps = np.cumsum(~np.isfinite(y))[kept]
    return kept, np.r_[True, gaps[1:] != gaps[:-1]]


def coordinates(values: np.ndarray) -> np.ndarray:
    """Pixel values rounded to 0.1 as shortest strings ("12.3", "40.0"; no "-0.0")."""
    return (np.round(values, 1) + 0.0).astype(str)


def line_path(x: np.ndarray, y: np.ndarray, move: np.ndarray) -> str:
    """SVG path data "M x,y L x,y …", starting a new sub-path where ``move`` is True."""
    points = np.strings.add(np.strings.add(coordinates(x), ","), coordinates(y))
    return "".join(np.strings.add(np.where(move, "M", "L"), points))


def bars_path(left: np.ndarray, right: np.ndarray, top: np.ndarray, base: float) -> str:
    """One path of closed rectangles from ``base`` up to ``top`` between ``left`` and ``right``."""
    b = f"{base:.1f}"
    parts = ("M", coordinates(left), f",{b}V", coordinates(top), "H", coordinates(right), f"V{b}Z")
    return "".join(reduce(np.strings.add, parts))


def step_path(edges: np.ndarray, top: np.ndarray, base: float) -> str:
    """The outline of a histogram: up and across each bin from ``base``, back down at the last edge."""
    across = "".join(np.strings.add(np.strings.add(np.strings.add("V", coordinates(top)), "H"), coordinates(edges[1:])))
    return f"M{edges[0]:.1f},{base:.1f}{across}V{base:.1f}"
