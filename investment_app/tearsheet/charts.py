"""The tearsheet's charts, drawn as SVG from already computed series.

Time charts share one layout: title, legend when two series, a y-axis label above the plot, nice y ticks with
grid lines, year ticks on x, each line decimated by M4 to at most 4 points per pixel-wide bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from investment_app.tearsheet import palette
from investment_app.tearsheet.formatting import number, percent, tick_labels
from investment_app.tearsheet.model import MetricKind, TearsheetData
from investment_app.tearsheet.svg import (
    Chart,
    Scale,
    bars_path,
    date_ticks,
    decimate,
    line_path,
    nice_ticks,
    step_path,
    tag,
    text,
)

WIDTH = 440  # viewBox units: about 1:1 in a desktop grid column, ≥ 0.8 on a 390 px phone
LEFT, RIGHT, BOTTOM = 50, 12, 26
TITLE_SIZE, LABEL_SIZE = 15, 12
LABEL_HALF_WIDTH = 4.2  # half the width of one label character at the phone CSS's 14 px
LEGEND_CHARS = 22  # longer series names are cut with "…" so two fit side by side
BUCKETS = 250  # M4 keeps ≤ 4 points per bucket: ≤ 1,000 points per line
HISTOGRAM_BINS = 50
HISTOGRAM_TAIL = 0.5  # percent of days on each side pooled into the end bins
ROLLING_TITLES = {"volatility": "Rolling volatility", "sharpe": "Rolling Sharpe ratio", "beta": "Rolling beta"}
ROLLING_KINDS: dict[str, MetricKind] = {"volatility": "pct", "sharpe": "ratio", "beta": "ratio"}


@dataclass(frozen=True)
class Line:
    """One series of a time chart: x in days since 1970, y possibly NaN (a gap), optionally filled down to 0."""

    label: str
    x: np.ndarray
    y: np.ndarray
    color: str
    fill: bool = False


def epoch_days(index: pd.DatetimeIndex) -> np.ndarray:
    """Calendar days since 1970-01-01 as float (the x coordinate of every time chart)."""
    return index.to_numpy().astype("datetime64[D]").astype(np.int64).astype(float)


def small_text(x: float, y: float, content: str, anchor: str = "start") -> str:
    """Muted tick, axis and legend text (class "tick": the page's phone CSS enlarges it)."""
    return text(x, y, content, text_anchor=anchor, font_size=LABEL_SIZE - 1, fill=palette.MUTED, class_="tick")


def header(title: str, names: list[tuple[str, str]], y_label: str) -> tuple[str, float]:
    """Title, legend (only for two or more series) and y-axis label; returns the markup and the plot's top."""
    title_attrs = {"font_size": TITLE_SIZE, "font_weight": "bold", "fill": palette.INK, "class_": "title"}
    parts = [text(WIDTH / 2, 20, title, text_anchor="middle", **title_attrs)]
    top = 30.0
    if len(names) > 1:
        x = LEFT
        for name, color in names:
            label = name if len(name) <= LEGEND_CHARS else name[: LEGEND_CHARS - 1] + "…"
            parts.append(tag("rect", x=x, y=top + 2, width=14, height=4, fill=color))
            parts.append(text(x + 19, top + 8, label, font_size=LABEL_SIZE, fill=palette.INK, class_="tick"))
            x += 30 + 8.5 * len(label)
        top += 16
    parts.append(small_text(LEFT - 44, top + 14, y_label))
    return "".join(parts), top + 26


def y_axis(ticks: np.ndarray, step: float, scale: Scale, kind: MetricKind) -> str:
    """Horizontal grid lines with right-aligned labels left of the plot."""
    ys = scale(ticks)
    grid = "".join(f"M{LEFT},{y:.1f}H{WIDTH - RIGHT}" for y in ys)
    labels = "".join(
        small_text(LEFT - 6, y + 4, label, "end") for y, label in zip(ys, tick_labels(ticks, step, kind), strict=True)
    )
    return tag("path", d=grid, stroke=palette.GRID, stroke_width=1, fill="none") + labels


def x_axis(positions: np.ndarray, labels: list[str], baseline: float) -> str:
    """Axis line, tick marks and labels centred below them, nudged inwards where they would cross the edge."""
    marks = "".join(f"M{x:.1f},{baseline:.1f}v4" for x in positions)
    line = tag("path", d=f"M{LEFT},{baseline:.1f}H{WIDTH - RIGHT}{marks}", stroke=palette.AXIS, fill="none")
    half = [LABEL_HALF_WIDTH * len(label) for label in labels]
    centres = [min(max(x, h + 2), WIDTH - 2 - h) for x, h in zip(positions, half, strict=True)]
    texts = "".join(small_text(x, baseline + 17, label, "middle") for x, label in zip(centres, labels, strict=True))
    return line + texts


def draw_line(line: Line, sx: Scale, sy: Scale) -> str:
    """The decimated line, with an area down to y = 0 underneath when ``line.fill``."""
    kept, move = decimate(line.x, line.y, BUCKETS)
    xs, ys = sx(line.x[kept]), sy(line.y[kept])
    d = line_path(xs, ys, move)
    stroke = tag("path", d=d, fill="none", stroke=line.color, stroke_width=1.5, stroke_linejoin="round")
    if not line.fill:
        return stroke
    zero = float(sy(0.0))
    area = f"{d}L{xs[-1]:.1f},{zero:.1f}L{xs[0]:.1f},{zero:.1f}Z"
    return tag("path", d=area, fill=line.color, fill_opacity=0.18, stroke="none") + stroke


def time_chart(
    title: str, y_label: str, kind: MetricKind, lines: list[Line], height: int, description: str, include: tuple = ()
) -> Chart:
    """A line (or area) chart over dates with a nice y axis covering the data and the values in ``include``."""
    head, top = header(title, [(line.label, line.color) for line in lines], y_label)
    bottom = height - BOTTOM
    values = np.concatenate([line.y[np.isfinite(line.y)] for line in lines] + [np.array(include, dtype=float)])
    ticks, step = nice_ticks(float(values.min()), float(values.max()))
    x_lo = min(float(line.x[0]) for line in lines)
    x_hi = max(float(line.x[-1]) for line in lines)
    sx, sy = Scale(x_lo, x_hi, LEFT, WIDTH - RIGHT), Scale(float(ticks[0]), float(ticks[-1]), bottom, top)
    x_ticks, x_labels = date_ticks(int(x_lo), int(x_hi))
    body = head + y_axis(ticks, step, sy, kind) + "".join(draw_line(line, sx, sy) for line in lines)
    body += x_axis(sx(x_ticks), x_labels, bottom)
    return Chart(title, description, WIDTH, height, body)


def span_text(index: pd.DatetimeIndex) -> str:
    """ "from 2014-01-03 to 2024-12-31" for chart descriptions."""
    return f"from {index[0].date().isoformat()} to {index[-1].date().isoformat()}"


def equity_chart(data: TearsheetData) -> Chart:
    """Growth of 1 for the portfolio and, when given, the benchmark."""
    lines = [Line(data.portfolio_name, epoch_days(data.equity.index), data.equity.to_numpy(float), palette.PORTFOLIO)]
    ends = [f"{data.portfolio_name} ends at {number(float(data.equity.iloc[-1]))}"]
    if data.benchmark_equity is not None:
        bench = data.benchmark_equity
        lines.append(Line(data.benchmark_name, epoch_days(bench.index), bench.to_numpy(float), palette.BENCHMARK))
        ends.append(f"{data.benchmark_name} at {number(float(bench.iloc[-1]))}")
    description = f"Growth of 1 {span_text(data.equity.index)}: {', '.join(ends)}."
    return time_chart("Cumulative growth", "Growth of 1", "number", lines, 260, description)


def drawdown_chart(data: TearsheetData) -> Chart:
    """The underwater curve: drawdown from the running peak as a filled area below 0 (the axis shows at least −1%)."""
    dd = data.drawdown
    line = Line(data.portfolio_name, epoch_days(dd.index), dd.to_numpy(float), palette.LOSS, fill=True)
    worst = f"deepest {percent(float(dd.min()))} on {dd.idxmin().date().isoformat()}"
    description = f"Drawdown {span_text(dd.index)}, {worst}."
    return time_chart("Drawdown", "% below peak", "pct", [line], 200, description, include=(0.0, -0.01))


def rolling_charts(data: TearsheetData) -> list[Chart]:
    """One chart per rolling metric present (volatility annualised, Sharpe ratio, beta against the benchmark)."""
    if data.rolling is None:
        return []
    charts = []
    days = epoch_days(data.rolling.index)
    for column in data.rolling.columns:
        values = data.rolling[column].to_numpy(float)
        title = f"{ROLLING_TITLES[column]} ({data.rolling_window} days)"
        kind = ROLLING_KINDS[column]
        line = Line(data.portfolio_name, days, values, palette.PORTFOLIO)
        description = f"{title} {span_text(data.rolling.index)}."
        charts.append(time_chart(title, "annualised" if column == "volatility" else "", kind, [line], 190, description))
    return charts


def histogram_chart(data: TearsheetData) -> Chart:
    """Share of days per daily-return bin: portfolio bars, the benchmark's outline, on common bins.

    The bins span the 0.5th to 99.5th percentile of all returns shown; the rarer tails are counted in the end
    bins, so a single crash day does not squeeze the body of the distribution into a few bars.
    """
    series = [(data.portfolio_name, data.daily_returns.to_numpy(float), palette.PORTFOLIO)]
    if data.benchmark_returns is not None:
        series.append((data.benchmark_name, data.benchmark_returns.to_numpy(float), palette.BENCHMARK))
    lo, hi = np.percentile(np.concatenate([v for _, v, _ in series]), [HISTOGRAM_TAIL, 100 - HISTOGRAM_TAIL])
    lo, hi = (lo - 0.001, hi + 0.001) if hi - lo < 1e-9 else (lo, hi)  # constant returns: one ±0.1% bin range
    edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
    shares = [np.histogram(np.clip(v, lo, hi), bins=edges)[0] / v.size for _, v, _ in series]
    title, height = "Distribution of daily returns", 250
    head, top = header(title, [(name, color) for name, _, color in series], "% of days")
    bottom = height - BOTTOM - 14
    x_ticks, x_step = nice_ticks(float(lo), float(hi), max_ticks=6)
    y_ticks, y_step = nice_ticks(0.0, float(max(share.max() for share in shares)), max_ticks=4)
    sx, sy = Scale(float(x_ticks[0]), float(x_ticks[-1]), LEFT, WIDTH - RIGHT), Scale(0.0, y_ticks[-1], bottom, top)
    base, x = float(sy(0.0)), sx(edges)
    body = head + y_axis(y_ticks, y_step, sy, "pct")
    bars = bars_path(x[:-1] + 0.3, x[1:] - 0.3, sy(shares[0]), base)
    body += tag("path", d=bars, fill=series[0][2], fill_opacity=0.75)
    if len(shares) > 1:
        outline = step_path(x, sy(shares[1]), base)
        body += tag("path", d=outline, fill="none", stroke=series[1][2], stroke_width=1.5, stroke_linejoin="round")
    body += x_axis(sx(x_ticks), tick_labels(x_ticks, x_step, "pct"), bottom)
    axis_label = f"Daily return (end bins include the {number(HISTOGRAM_TAIL, 1)}% tails)"
    body += small_text(WIDTH / 2, height - 6, axis_label, "middle")
    description = f"Histogram of {len(data.daily_returns):,} daily returns in {HISTOGRAM_BINS} bins."
    return Chart(title, description, WIDTH, height, body)
