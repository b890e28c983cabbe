"""Plotly figures for the pages: labelled axes, hover values, a range selector, readable on a phone."""

from __future__ import annotations

import plotly.graph_objects as go

PALETTE = [
    "#0f766e",
    "#2563eb",
    "#d97706",
    "#7c3aed",
    "#db2777",
    "#059669",
    "#dc2626",
    "#4b5563",
    "#0891b2",
    "#65a30d",
    "#9333ea",
    "#ea580c",
]
RANGES = [
    dict(count=1, label="1M", step="month", stepmode="backward"),
    dict(count=3, label="3M", step="month", stepmode="backward"),
    dict(count=1, label="YTD", step="year", stepmode="todate"),
    dict(count=1, label="1Y", step="year", stepmode="backward"),
    dict(count=3, label="3Y", step="year", stepmode="backward"),
    dict(count=5, label="5Y", step="year", stepmode="backward"),
    dict(label="Max", step="all"),
]


def _layout(fig: go.Figure, y_title: str, y_format: str) -> go.Figure:
    fig.update_layout(
        margin=dict(l=10, r=10, t=10, b=10),
        height=340,
        hovermode="x unified",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(size=12),
        xaxis=dict(rangeselector=dict(buttons=RANGES, x=0, y=-0.22), type="date", gridcolor="rgba(128,128,128,0.15)"),
        yaxis=dict(title=y_title, tickformat=y_format, gridcolor="rgba(128,128,128,0.15)"),
    )
    return fig


def value_chart(dates: list[str], value: list[float], invested: list[float]) -> go.Figure:
    """Total value against the money put in (cumulative net deposits)."""
    fig = go.Figure(
        [
            go.Scatter(
                x=dates,
                y=value,
                name="Value",
                line=dict(color=PALETTE[0], width=2),
                fill="tozeroy",
                fillcolor="rgba(15,118,110,0.10)",
                hovertemplate="%{y:$,.2f}",
            ),
            go.Scatter(
                x=dates,
                y=invested,
                name="Net deposits",
                line=dict(color=PALETTE[7], width=1.5, dash="dot"),
                hovertemplate="%{y:$,.2f}",
            ),
        ]
    )
    return _layout(fig, "Value (USD)", "$,.0f")


def growth_chart(dates: list[str], growth: list[float], benchmark: list[float], benchmark_name: str) -> go.Figure:
    """Growth of 100: the portfolio's time-weighted return against the benchmark's total return."""
    fig = go.Figure(
        [
            go.Scatter(
                x=dates,
                y=growth,
                name="Portfolio (TWR)",
                line=dict(color=PALETTE[0], width=2),
                hovertemplate="%{y:.1f}",
            ),
            go.Scatter(
                x=dates,
                y=benchmark,
                name=f"{benchmark_name} (total return)",
                line=dict(color=PALETTE[1], width=1.5),
                hovertemplate="%{y:.1f}",
            ),
        ]
    )
    return _layout(fig, "Growth of 100", ",.0f")


def allocation_chart(labels: list[str], values: list[float]) -> go.Figure:
    """A donut of weights."""
    fig = go.Figure(
        go.Pie(
            labels=labels,
            values=values,
            hole=0.55,
            sort=False,
            textinfo="percent",
            marker=dict(colors=PALETTE),
            hovertemplate="%{label}: %{value:$,.0f} (%{percent})",
        )
    )
    fig.update_layout(
        margin=dict(l=10, r=10, t=10, b=10),
        height=300,
        showlegend=True,
        legend=dict(orientation="v", x=1, y=0.5),
        paper_bgcolor="rgba(0,0,0,0)",
        font=dict(size=12),
    )
    return fig


def fan_chart(years: list[float], bands: dict[int, list[float]], goal: float | None) -> go.Figure:
    """Percentiles of simulated value: a light 5–95 band, a darker 25–75 band, the median, the goal."""
    teal = "15,118,110"
    traces = []
    for low, high, alpha in ((5, 95, 0.12), (25, 75, 0.25)):
        traces += [
            go.Scatter(x=years, y=bands[high], line=dict(width=0), hoverinfo="skip", showlegend=False),
            go.Scatter(
                x=years,
                y=bands[low],
                fill="tonexty",
                fillcolor=f"rgba({teal},{alpha})",
                line=dict(width=0),
                name=f"{low}th–{high}th percentile",
                hoverinfo="skip",
            ),
        ]
    for p in (5, 25, 75, 95):
        traces.append(
            go.Scatter(
                x=years, y=bands[p], name=f"{p}th", line=dict(width=0), showlegend=False, hovertemplate="%{y:$,.0f}"
            )
        )
    traces.append(go.Scatter(x=years, y=bands[50], name="Median", line=dict(color=PALETTE[0], width=2.5)))
    fig = go.Figure(traces)
    if goal:
        fig.add_hline(y=goal, line=dict(color=PALETTE[2], dash="dash"), annotation_text="Goal")
    fig.update_traces(selector=dict(name="Median"), hovertemplate="%{y:$,.0f}")
    fig = _layout(fig, "Value (USD)", "$,.0f")
    fig.update_layout(xaxis=dict(type="linear", title="Years from now", rangeselector=None))
    return fig


def correlation_heatmap(labels: list[str], matrix: list[list[float]]) -> go.Figure:
    """A correlation matrix from −1 (red) through 0 (white) to +1 (teal), in the order given."""
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            zmin=-1,
            zmax=1,
            colorscale=[[0, "#dc2626"], [0.5, "#ffffff"], [1, "#0f766e"]],
            colorbar=dict(title="ρ", thickness=12),
            hovertemplate="%{y} · %{x}: %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        margin=dict(l=10, r=10, t=10, b=10),
        height=380,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(size=11),
        yaxis=dict(autorange="reversed"),
    )
    return fig


def lines_chart(dates: list[str], lines: dict[str, list[float]], y_title: str, y_format: str) -> go.Figure:
    """One or more dated lines sharing a y axis (e.g. rolling metrics)."""
    fig = go.Figure(
        [
            go.Scatter(x=dates, y=values, name=name, line=dict(color=PALETTE[i], width=1.8))
            for i, (name, values) in enumerate(lines.items())
        ]
    )
    return _layout(fig, y_title, y_format)


def bars_chart(labels: list[str], values: list[float], x_title: str, x_format: str) -> go.Figure:
    """Horizontal bars, largest at the top (weights, contributions)."""
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker_color=[PALETTE[0] if v >= 0 else PALETTE[6] for v in values],
            hovertemplate=f"%{{y}}: %{{x:{x_format}}}<extra></extra>",
        )
    )
    fig.update_layout(
        margin=dict(l=10, r=10, t=10, b=10),
        height=max(200, 28 * len(labels) + 60),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(size=12),
        xaxis=dict(title=x_title, tickformat=x_format, gridcolor="rgba(128,128,128,0.15)"),
        yaxis=dict(autorange="reversed"),
    )
    return fig


FRONTIER_MARKS = {  # name → (marker, colour, size); drawn in this order, so the optimised portfolio sits on top
    "Current": ("diamond", PALETTE[2], 13),
    "Min volatility": ("square", PALETTE[4], 12),
    "Max Sharpe": ("circle", PALETTE[3], 12),
    "Optimised": ("star", PALETTE[6], 18),
}


def frontier_chart(
    curve: list[tuple[float, float, str]],
    assets: list[tuple[str, float, float]],
    portfolios: dict[str, tuple[float, float, str]],
    cml: list[tuple[float, float]] | None = None,
) -> go.Figure:
    """Return against volatility: the efficient frontier (``curve``: volatility, return, hover text), each asset
    labelled (symbol, volatility, return), the portfolios named in ``FRONTIER_MARKS`` as markers (name → volatility,
    return, hover text) and the capital market line through ``cml``'s points."""
    traces = [
        go.Scatter(
            x=[v for v, _, _ in curve],
            y=[r for _, r, _ in curve],
            name="Efficient frontier",
            mode="lines",
            line=dict(color=PALETTE[0], width=2.5),
            text=[h for _, _, h in curve],
            hovertemplate="%{text}<extra></extra>",
        ),
        go.Scatter(
            x=[v for _, v, _ in assets],
            y=[r for _, _, r in assets],
            name="Assets",
            mode="markers+text",
            text=[s for s, _, _ in assets],
            textposition="top center",
            textfont=dict(size=10),
            marker=dict(color=PALETTE[7], size=7, opacity=0.7),
            hovertemplate="%{text}: return %{y:.1%}, volatility %{x:.1%}<extra></extra>",
        ),
    ]
    if cml:
        traces.append(
            go.Scatter(
                x=[v for v, _ in cml],
                y=[r for _, r in cml],
                name="Capital market line",
                mode="lines",
                line=dict(color=PALETTE[7], width=1.2, dash="dash"),
                hoverinfo="skip",
            )
        )
    for name, (symbol, colour, size) in FRONTIER_MARKS.items():
        if name in portfolios:
            volatility, expected, hover = portfolios[name]
            traces.append(
                go.Scatter(
                    x=[volatility],
                    y=[expected],
                    name=name,
                    mode="markers",
                    marker=dict(color=colour, size=size, symbol=symbol, line=dict(color="white", width=1)),
                    text=[hover],
                    hovertemplate="%{text}<extra></extra>",
                )
            )
    fig = go.Figure(traces)
    fig.update_layout(
        margin=dict(l=10, r=10, t=10, b=10),
        height=440,
        hovermode="closest",
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(size=12),
        xaxis=dict(
            title="Volatility (annual)", tickformat=".0%", gridcolor="rgba(128,128,128,0.15)", rangemode="tozero"
        ),
        yaxis=dict(title="Expected return (annual)", tickformat=".0%", gridcolor="rgba(128,128,128,0.15)"),
    )
    return fig
