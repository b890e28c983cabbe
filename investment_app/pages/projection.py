"""Projection: Monte Carlo fan chart of the portfolio's future value, with contributions and a goal."""

from __future__ import annotations

import plotly.graph_objects as go
import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components import charts
from investment_app.components.analysis import analysis_page, tile_grid
from investment_app.components.layout import app_page, plot, section, titled_card
from investment_app.components.numbers import money, pct
from investment_app.db import session_scope
from investment_app.services import projection as service
from investment_app.services.errors import InvalidInput
from investment_app.state import AnalysisState, authorized

ROUTE = "/projection"


def _compute(viewer: Viewer, portfolio_id: int, request: service.Request) -> service.Result:
    with session_scope() as db:
        return service.projection(db, viewer, portfolio_id, request)


def _number(form: dict, name: str, label: str, kind: type = float, optional: bool = False) -> float | int | None:
    text = str(form.get(name, "")).replace(",", "").strip()
    if optional and not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{label}: {text!r} is not a number.") from None


def _request(form: dict) -> service.Request:
    return service.Request(
        method=str(form.get("method") or "normal"),
        years=_number(form, "years", "Horizon", int),
        paths=_number(form, "paths", "Paths", int),
        monthly_contribution=_number(form, "contribution", "Monthly contribution"),
        goal=_number(form, "goal", "Goal", optional=True),
        seed=_number(form, "seed", "Seed", int),
    )


def _tiles(result: service.Result, request: service.Request) -> list[dict[str, str]]:
    p = result.projection
    final = p.final_percentiles
    rows = [
        ("Value today", money(result.initial_value, digits=0), ""),
        ("Median in " + f"{request.years} years", money(final[50], digits=0), ""),
        ("5th – 95th percentile", f"{money(final[5], digits=0)} – {money(final[95], digits=0)}", ""),
        ("Mean", money(p.mean_final, digits=0), ""),
        (
            "Chance of reaching the goal",
            pct(p.prob_goal, 1).lstrip("+") if p.prob_goal is not None else "—",
            "" if request.goal else "set a goal below",
        ),
        ("Chance of running out", pct(p.prob_depleted, 1).lstrip("+") or "0.0%", "value reaches zero at any time"),
    ]
    return [{"label": label, "value": value, "note": note, "tone": "gray"} for label, value, note in rows]


class ProjectionState(AnalysisState):
    """The projection form's last request and the result as display data."""

    figure: go.Figure = go.Figure()
    tiles: list[dict[str, str]] = []
    basis: str = ""
    _request: service.Request = service.Request()

    @rx.event
    @authorized()
    def load(self, viewer: Viewer):
        if self._choose(viewer):
            return ProjectionState.compute
        return None

    @rx.event
    @authorized()
    def select(self, viewer: Viewer, portfolio_id: str):
        self.selected = portfolio_id
        return ProjectionState.compute

    @rx.event
    @authorized()
    def submit(self, viewer: Viewer, form: dict):
        """Validate the form, then simulate in the background."""
        try:
            request = _request(form)
            request.check()
        except (ValueError, InvalidInput) as exc:
            self.error = str(exc)
            return None
        self._request = request
        return ProjectionState.compute

    @rx.event(background=True)
    @authorized(background=True)
    async def compute(self, viewer: Viewer):
        portfolio_id, request = int(self.selected), self._request
        results = await self._staged([("Simulating", lambda: _compute(viewer, portfolio_id, request))])
        if results is None:
            return
        (result,) = results
        p = result.projection
        async with self:
            self.tiles = _tiles(result, request)
            self.figure = charts.fan_chart(
                (p.days / 252).tolist(), {k: v.tolist() for k, v in p.percentiles.items()}, request.goal
            )
            self.basis = (
                f"{request.paths:,} paths, {service.METHODS[request.method]}, seed {request.seed}; "
                f"estimated from {result.history_days:,} trading days ({result.history_start} to "
                f"{result.history_end}) of {', '.join(result.symbols)}. Holdings are bought and held; "
                "contributions are invested in today's weights."
            )


def form() -> rx.Component:
    def labelled(label: str, control: rx.Component) -> rx.Component:
        return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")

    def number(name: str, default: str, **props) -> rx.Component:
        return rx.input(name=name, default_value=default, type="number", width="100%", aria_label=name, **props)

    return titled_card(
        "Assumptions",
        "Daily returns are drawn from the holdings' history; amounts are in today's dollars, before taxes and fees.",
        rx.form(
            rx.grid(
                labelled(
                    "Method",
                    rx.select.root(
                        rx.select.trigger(width="100%"),
                        rx.select.content(
                            *[rx.select.item(label, value=key) for key, label in service.METHODS.items()]
                        ),
                        name="method",
                        default_value="normal",
                    ),
                ),
                labelled("Horizon (years)", number("years", "10", min=1, max=50)),
                labelled("Paths", number("paths", "10000", min=100, max=50000, step=100)),
                labelled("Monthly contribution (− to withdraw)", number("contribution", "0", step="any")),
                labelled("Goal (value to reach)", number("goal", "", step="any", placeholder="optional")),
                labelled("Seed", number("seed", "0")),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="3",
                width="100%",
            ),
            rx.button("Run projection", type="submit", margin_top="1rem", loading=ProjectionState.running),
            on_submit=ProjectionState.submit,
            width="100%",
        ),
    )


@app_page(ROUTE, "Projection", on_load=ProjectionState.load)
def projection_page() -> rx.Component:
    return analysis_page(
        ProjectionState,
        ROUTE,
        form(),
        rx.cond(
            ProjectionState.tiles.length() > 0,
            section(
                "Projected value",
                tile_grid(ProjectionState.tiles),
                plot(ProjectionState.figure, "360px"),
                rx.text(ProjectionState.basis, size="1", color_scheme="gray"),
            ),
        ),
    )
