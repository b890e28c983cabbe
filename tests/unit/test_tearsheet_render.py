"""Tearsheet rendering on real bundled returns (AAPL vs SPY, 2014–2024).

The input is built here with pandas and empyrical, never with the tearsheet's own code; the checks parse the
output (html.parser, xml.etree) and compare what a reader sees with independently formatted values.
"""

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import empyrical
import numpy as np
import pandas as pd
import pytest

from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.marketdata.bundled import bundled_bars
from investment_app.tearsheet import (
    DrawdownRow,
    HoldingRow,
    MetricRow,
    StressRow,
    TearsheetData,
    VarRow,
    render_html,
    render_pdf,
)
from investment_app.tearsheet.formatting import format_value, number, tick_labels
from investment_app.tearsheet.svg import date_ticks, m4_indices, nice_ticks

MINUS = "\u2212"
SECTIONS = [
    "Summary",
    "Monthly returns (%)",
    "Return distribution and rolling risk",
    "Worst drawdowns",
    "Value at risk",
    "Stress tests",
    "Holdings",
    "Notes",
]
VOID = {"meta", "br", "img", "hr", "input", "link"}


@pytest.fixture(scope="module")
def returns() -> tuple[pd.Series, pd.Series]:
    """AAPL and SPY daily simple returns from adjusted closes, 2014–2024, on a DatetimeIndex."""
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")[["AAPL", "SPY"]]
    closes.index = pd.DatetimeIndex(pd.to_datetime(closes.index))
    daily = closes.loc["2014-01-01":].pct_change().dropna()
    return daily["AAPL"], daily["SPY"]


def pct(value: float) -> str:
    """The expected display of a fraction: ×100, 2 decimals, separators, real minus sign."""
    return f"{value * 100:,.2f}%".replace("-", MINUS)


def monthly_table(r: pd.Series) -> pd.DataFrame:
    """Year × month compounded returns with a full-year column, by pandas resampling."""
    monthly = (1 + r).resample("ME").prod() - 1
    table = monthly.groupby([monthly.index.year, monthly.index.month]).first().unstack()
    table = table.reindex(columns=range(1, 13)).astype(float)
    table.columns = list(table.columns)
    table["Year"] = (1 + r).groupby(r.index.year).prod() - 1
    return table


def worst_drawdown(equity: pd.Series) -> DrawdownRow:
    """Peak, trough and recovery of the deepest drawdown, found with pandas."""
    underwater = equity / equity.cummax() - 1
    trough = underwater.idxmin()
    peak = equity[:trough].idxmax()
    recovered = equity[trough:][equity[trough:] >= equity[peak]]
    recovery = recovered.index[0].date() if len(recovered) else None
    days = ((recovered.index[0] if len(recovered) else equity.index[-1]) - peak).days
    return DrawdownRow(peak.date(), trough.date(), recovery, float(underwater.min()), days)


@pytest.fixture(scope="module")
def data(returns) -> TearsheetData:
    """A full tearsheet input built with pandas and empyrical."""
    r, b = returns
    equity, bench = (1 + r).cumprod(), (1 + b).cumprod()
    window = 126
    rolling = pd.DataFrame(
        {
            "volatility": r.rolling(window).std() * np.sqrt(252),
            "sharpe": r.rolling(window).mean() / r.rolling(window).std() * np.sqrt(252),
            "beta": r.rolling(window).cov(b) / b.rolling(window).var(),
        }
    )
    alpha, beta = empyrical.alpha_beta(r, b)
    metrics = [
        MetricRow("Total return", empyrical.cum_returns_final(r), empyrical.cum_returns_final(b), "pct"),
        MetricRow("CAGR", empyrical.annual_return(r), empyrical.annual_return(b), "pct"),
        MetricRow("Volatility", empyrical.annual_volatility(r), empyrical.annual_volatility(b), "pct"),
        MetricRow("Sharpe ratio", empyrical.sharpe_ratio(r), empyrical.sharpe_ratio(b), "ratio"),
        MetricRow("Max drawdown", empyrical.max_drawdown(r), empyrical.max_drawdown(b), "pct"),
        MetricRow("Skew", r.skew(), b.skew(), "number"),
        MetricRow("Beta", beta, None, "ratio", reason="The benchmark is the reference"),
        MetricRow("Alpha", alpha, None, "pct", reason="The benchmark is the reference"),
        MetricRow("Trading days", len(r), len(b), "int"),
        MetricRow("Worst day", r.idxmin().date(), b.idxmin().date(), "date"),
        MetricRow("Longest drawdown", 634, 301, "days"),
    ]
    cutoff = np.percentile(r, 5)
    covid = (date(2020, 2, 19), date(2020, 3, 23))

    def window_return(curve: pd.Series) -> float:
        return float(curve[pd.Timestamp(covid[1])] / curve[pd.Timestamp(covid[0])] - 1)

    return TearsheetData(
        title="AAPL vs SPY",
        subtitle="vs SPY",
        generated_at=datetime(2025, 1, 5, 14, 3, tzinfo=UTC),
        start=r.index[0].date(),
        end=r.index[-1].date(),
        metrics=metrics,
        equity=equity,
        drawdown=equity / equity.cummax() - 1,
        daily_returns=r,
        monthly_returns=monthly_table(r),
        benchmark_equity=bench,
        benchmark_returns=b,
        rolling=rolling,
        rolling_window=window,
        drawdowns=[worst_drawdown(equity)],
        var=[VarRow("Historical", 0.95, 1, float(cutoff), float(r[r <= cutoff].mean()))],
        stress=[StressRow("COVID crash", *covid, window_return(equity), window_return(bench), None)],
        holdings=[HoldingRow("AAPL", 1.0, float(empyrical.cum_returns_final(r)))],
        notes=["Simple daily returns of adjusted closes; 252 days a year; rf = 0."],
        portfolio_name="AAPL",
        benchmark_name="SPY",
        currency="USD",
    )


@pytest.fixture(scope="module")
def page(data) -> str:
    return render_html(data)


@pytest.fixture(scope="module")
def plain_pdf(data) -> bytes:
    """Uncompressed, core fonts: the page text appears literally in the content streams."""
    return render_pdf(data, compress=False, font_dir=None)


class TagChecker(HTMLParser):
    """Records tags that close out of order or never close."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(tag)


def test_html_parses_with_balanced_tags(page):
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert page.startswith("<!DOCTYPE html>")
    assert checker.errors == [] and checker.open == []


def test_html_has_every_section_and_metric(page, data):
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == SECTIONS
    rows = dict(re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', page))
    for metric in data.metrics:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[metric.label])
        assert len(cells) == 2, metric.label
        expected = {
            "pct": pct,
            "ratio": lambda v: f"{v:,.2f}".replace("-", MINUS),
            "number": lambda v: f"{v:,.2f}".replace("-", MINUS),
            "int": lambda v: f"{v:,d}",
            "days": lambda v: f"{v:,d} days",
            "date": date.isoformat,
        }[metric.kind]
        for cell, value in zip(cells, (metric.value, metric.benchmark), strict=True):
            assert cell == (expected(value) if value is not None else "–<sup>1</sup>"), metric.label
    assert rows["Beta"].endswith('title="The benchmark is the reference">–<sup>1</sup></td>')
    assert "<li>The benchmark is the reference</li>" in page


def test_tables_show_values_computed_by_pandas(page, data, returns):
    r, _ = returns
    monthly = monthly_table(r)
    march_2020 = float(monthly.loc[2020, 3])
    assert f">{f'{march_2020 * 100:.2f}'.replace('-', MINUS)}</td>" in page
    worst_month = monthly.iloc[:, :12].stack().min()
    strongest_red = "#f87171"  # the heatmap's full-loss colour, reached at the 95th percentile of |month|
    worst_text = f"{worst_month * 100:.2f}".replace("-", MINUS)
    assert f'<td style="background:{strongest_red}">{worst_text}</td>' in page
    dd = data.drawdowns[0]
    assert f'<td class="neg">{pct(empyrical.max_drawdown(r))}</td>' in page
    assert dd.peak.isoformat() in page and dd.trough.isoformat() in page
    assert pct(np.percentile(r, 5)) in page


def test_svg_charts_are_well_formed_and_decimated(page):
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(svgs) == 6  # growth, drawdown, histogram, 3 rolling
    ns = {"s": "http://www.w3.org/2000/svg"}
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.find("s:title", ns).text
        assert root.findall(".//s:text", ns) and root.findall(".//s:path", ns)
        for path in root.findall(".//s:path", ns):
            assert len(re.findall(r"[ML]", path.get("d"))) <= 1000


def test_drawdown_chart_keeps_the_true_trough(page, data):
    """Map the drawn line back to values through the chart's own tick labels: its lowest point is the trough."""
    svg = re.findall(r"<svg.*?</svg>", page, flags=re.S)[1]
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    paths = root.findall(".//s:path", ns)
    grid = [float(y) for y in re.findall(r"M[\d.]+,([\d.]+)H", paths[0].get("d"))]
    labels = [t.text for t in root.findall(".//s:text", ns) if t.get("text-anchor") == "end"]
    values = [float(label.replace(MINUS, "-").rstrip("%")) / 100 for label in labels]
    line = next(p for p in paths if p.get("fill") == "none" and p.get("stroke-width") == "1.5")
    lowest = max(float(y) for y in re.findall(r"[ML][\d.]+,([\d.]+)", line.get("d")))
    value_at = np.interp(lowest, grid[::-1], values[::-1])
    pixel = (grid[0] - grid[-1]) / (values[0] - values[-1])
    assert value_at == pytest.approx(data.drawdown.min(), abs=0.06 / abs(pixel))


def test_m4_keeps_each_buckets_first_last_min_and_max(data):
    y = data.drawdown.to_numpy()
    x = data.drawdown.index.to_numpy().astype("datetime64[D]").astype(float)
    kept = m4_indices(x, y, 250)
    assert len(kept) <= 1000 and y[kept].min() == y.min() and np.argmin(y) in kept
    bucket = np.minimum(np.floor((x - x[0]) / (x[-1] - x[0]) * 250), 249)
    full = pd.DataFrame({"b": bucket, "y": y}).groupby("b")["y"].agg(["first", "last", "min", "max"])
    reduced = pd.DataFrame({"b": bucket[kept], "y": y[kept]}).groupby("b")["y"].agg(["first", "last", "min", "max"])
    pd.testing.assert_frame_equal(full, reduced)


def test_no_nan_or_infinity_anywhere(page, plain_pdf):
    assert not re.search(r"\b(nan|inf|infinity)\b", page, flags=re.I)
    assert not re.search(rb"\b(nan|inf|infinity)\b", plain_pdf, flags=re.I)


def test_strings_are_escaped(data):
    hostile = replace(
        data,
        title="<script>alert(1)</script> & Co",
        portfolio_name='A<B "fund"',
        notes=["x</li><script>"],
        metrics=[MetricRow("<b>bold</b>", 0.1, 0.2, "pct", reason='<img src=x onerror="y">')],
    )
    page = render_html(hostile)
    assert "<script>" not in page and "<b>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        ET.fromstring(svg)  # the legend's A<B is escaped inside the SVG too


def test_formatting_by_hand():
    assert format_value(-0.123456, "pct") == "−12.35%"
    assert format_value(-0.00001, "pct") == "0.00%"
    assert format_value(12345.678, "ratio") == "12,345.68"
    assert format_value(2746, "int") == "2,746"
    assert format_value(None, "pct") == "–"
    assert number(-1234567.891) == "−1,234,567.89"
    ticks, step = nice_ticks(-0.43, 0.0)
    assert step == pytest.approx(0.1) and tick_labels(ticks, step, "pct") == [
        "−50%",
        "−40%",
        "−30%",
        "−20%",
        "−10%",
        "0%",
    ]
    days = np.array(["2014-01-03", "2024-12-31", "2024-02-12"], dtype="datetime64[D]").astype(int)
    assert date_ticks(days[0], days[1])[1] == ["2016", "2018", "2020", "2022", "2024"]
    assert date_ticks(days[2], days[1])[1] == ["2024-03", "2024-05", "2024-07", "2024-09", "2024-11"]


def test_without_benchmark(data):
    alone = replace(
        data,
        benchmark_equity=None,
        benchmark_returns=None,
        rolling=data.rolling[["volatility", "sharpe"]],
        metrics=[replace(m, benchmark=None) for m in data.metrics],
        stress=[replace(s, benchmark=None) for s in data.stress],
    )
    page = render_html(alone)
    assert '<th scope="col">SPY</th>' not in page and "#d97706" not in page  # no column, no orange line
    assert len(re.findall(r"<svg", page)) == 5
    assert render_pdf(alone).startswith(b"%PDF-")


def test_short_series_with_empty_sections(data, returns):
    r = returns[0]["2024-10-01":"2024-11-15"]
    equity = (1 + r).cumprod()
    short = TearsheetData(
        title="Six weeks",
        subtitle="",
        generated_at=datetime(2025, 1, 5, 14, 3),
        start=r.index[0].date(),
        end=r.index[-1].date(),
        metrics=[],
        equity=equity,
        drawdown=equity / equity.cummax() - 1,
        daily_returns=r,
        monthly_returns=monthly_table(r),
    )
    page = render_html(short)
    for message in ("No metrics were computed.", "No drawdown in the period.", "No stress scenario was run."):
        assert message in page
    growth = re.findall(r"<svg.*?</svg>", page, flags=re.S)[0]
    ticks = re.findall(r">(\d{4}-\d\d-\d\d)</text>", growth)  # under two months: dates on the x axis
    assert len(ticks) >= 2 and all("2024-10-01" <= tick <= "2024-11-15" for tick in ticks)
    assert "Holdings" not in page  # none given
    assert render_pdf(short).startswith(b"%PDF-")


def test_bad_input_is_refused_with_a_reason(data):
    broken = data.equity.copy()
    broken.iloc[10] = np.nan
    with pytest.raises(AnalyticsError, match="equity curve has 1 NaN"):
        replace(data, equity=broken)
    with pytest.raises(AnalyticsError, match="metric 'Sharpe'"):
        replace(data, metrics=[MetricRow("Sharpe", float("inf"))])
    with pytest.raises(AnalyticsError, match=re.escape("metric 'Worst day' of kind 'date' cannot show 3.5")):
        replace(data, metrics=[MetricRow("Worst day", 3.5, kind="date")])
    with pytest.raises(InsufficientData, match="equity curve needs at least 2"):
        replace(data, equity=data.equity.iloc[:1])
    with pytest.raises(AnalyticsError, match="monthly returns need"):
        replace(data, monthly_returns=data.monthly_returns.iloc[:, :12])
    with pytest.raises(AnalyticsError, match="drawdowns are ≤ 0"):
        replace(data, drawdown=-data.drawdown + 0.01)


def test_pdf_document(data, plain_pdf):
    pdf = render_pdf(data)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert 2 <= len(re.findall(rb"/Type /Page\b", pdf)) <= 6
    assert b"/Title (AAPL vs SPY)" in pdf
    assert b"(AAPL vs SPY) Tj" in plain_pdf and b"Page 1 of " in plain_pdf
    assert b"(-38.52%) Tj" in plain_pdf and "−".encode() not in plain_pdf  # core fonts print an ASCII minus


def test_html_renders_within_budget(data):
    """The brief's budget: 150 ms for the HTML of 10 years of daily data with benchmark (quantstats: ~6.6 s)."""
    best = min(_seconds(render_html, data) for _ in range(3))
    assert best < 0.15


def _seconds(render, data) -> float:
    start = time.perf_counter()
    render(data)
    return time.perf_counter() - start
