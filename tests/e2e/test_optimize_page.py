"""The Optimization lab in the browser: max Sharpe on the demo portfolio, the frontier, save, apply as target."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from investment_app.db import session_scope
from investment_app.models.audit import AuditRecord
from investment_app.models.optimization import OptimizationRun, TargetAllocation
from tests.e2e.conftest import DEMO_PASSWORD, screenshot
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.e2e
PERCENT = re.compile(r"\d+\.\d%")
FRONTIER = """() => {
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    const traces = plots.flatMap(p => p.data || []);
    const line = traces.find(t => t.name === 'Efficient frontier');
    return line ? {points: line.x.length, hover: line.text[0], names: traces.map(t => t.name)} : null;
}"""


def test_max_sharpe_on_the_demo_portfolio_saved_and_applied_as_target(desktop: Page, live_app):
    sign_in(desktop, "demo@example.com", DEMO_PASSWORD)
    desktop.goto("/optimize")
    expect(desktop.get_by_role("heading", name="Efficient frontier")).to_be_visible(timeout=60_000)
    desktop.get_by_label("symbols").fill("BAC, T")
    desktop.get_by_role("button", name="Run optimization").click()
    expect(desktop.get_by_text(re.compile(r"Max Sharpe ratio on 11 symbols"))).to_be_visible(timeout=60_000)
    expect(desktop.get_by_role("row", name=re.compile(r"^AAPL Information Technology"))).to_contain_text(PERCENT)
    expect(desktop.get_by_text("Sharpe ratio", exact=True)).to_be_visible()
    expect(desktop.get_by_text("1-day CVaR 95%")).to_be_visible()
    frontier = desktop.wait_for_function(FRONTIER, timeout=30_000).json_value()  # Plotly draws after the text
    assert frontier["points"] == 50 and re.search(r"return \d+\.\d%.*Sharpe", frontier["hover"])
    assert {"Assets", "Optimised", "Current", "Max Sharpe", "Min volatility", "Capital market line"} <= set(
        frontier["names"]
    )
    expect(desktop.get_by_role("heading", name="Trades")).to_be_visible()

    desktop.get_by_label("Run name").fill("E2E max Sharpe")
    desktop.get_by_role("button", name="Save run").click()
    expect(desktop.get_by_role("cell", name=re.compile("E2E max Sharpe"))).to_be_visible(timeout=20_000)
    desktop.get_by_role("button", name="Apply as target allocation").click()
    expect(desktop.get_by_text(re.compile(r"Target allocation: \d+ assets"))).to_be_visible(timeout=20_000)
    desktop.get_by_role("button", name="Re-run").click()
    expect(desktop.get_by_text(re.compile(r"Re-run of 'E2E max Sharpe' on today's data"))).to_be_visible(timeout=60_000)
    screenshot(desktop, "optimize-desktop")

    with session_scope(live_app.db_url) as db:
        run = db.exec(select(OptimizationRun).where(OptimizationRun.name == "E2E max Sharpe")).one()
        target = db.get(TargetAllocation, run.portfolio_id)
        assert target.run_id == run.id and target.source == "optimization" and target.weights == run.result["weights"]
        assert db.exec(select(AuditRecord).where(AuditRecord.action == "target.apply")).first() is not None


def test_phone_layout_is_stacked(phone: Page):
    sign_in(phone, "demo@example.com", DEMO_PASSWORD)
    phone.goto("/optimize")
    expect(phone.get_by_role("heading", name="Efficient frontier")).to_be_visible(timeout=60_000)
    expect(phone.get_by_role("status")).to_have_count(0, timeout=30_000)
    expect(phone.locator(".js-plotly-plot").first).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"/optimize is {width}px wide on a 390px phone"
    screenshot(phone, "optimize-phone")
