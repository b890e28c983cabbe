"""The analysis pages in the browser: performance, risk, stress, projection, and the tearsheet downloads."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from investment_app.models.user import Role
from tests.e2e.conftest import DEMO_PASSWORD, screenshot
from tests.e2e.test_browser import PASSWORD, make_user, sign_in

pytestmark = pytest.mark.e2e
PERCENT = re.compile(r"[+−]?\d+\.\d\d%")


def test_performance_metrics_charts_and_attribution(desktop: Page):
    sign_in(desktop, "demo@example.com", DEMO_PASSWORD)
    desktop.get_by_role("link", name="Analysis").first.click()
    expect(desktop.get_by_role("heading", name="Metrics", exact=True)).to_be_visible(timeout=30_000)
    sharpe = desktop.get_by_role("row", name=re.compile(r"^Sharpe"))
    expect(sharpe).to_contain_text(re.compile(r"\d\.\d\d"))
    expect(desktop.get_by_role("row", name=re.compile(r"^Max drawdown"))).to_contain_text(PERCENT)
    expect(desktop.get_by_text(re.compile(r"Brinson-Fachler"))).to_be_visible()
    expect(desktop.get_by_text(re.compile(r"holdings are not bundled"))).to_be_visible()
    desktop.get_by_role("radiogroup", name="Period").get_by_role("radio", name="1Y").click()
    expect(desktop.get_by_text(re.compile(r"trading days, 2023-1[12]-\d\d to 2024-11-29"))).to_be_visible()
    screenshot(desktop, "performance-desktop")


def test_risk_var_table_and_contributions(desktop: Page):
    sign_in(desktop, "demo@example.com", DEMO_PASSWORD)
    desktop.goto("/risk")
    expect(desktop.get_by_role("heading", name="Value at risk")).to_be_visible(timeout=30_000)
    for method in ("Historical", "Parametric (normal)", "Cornish-Fisher", "Monte Carlo"):
        expect(desktop.get_by_role("row", name=re.compile(re.escape(method)))).to_contain_text("$")
    expect(desktop.get_by_role("heading", name="Contributions to VaR")).to_be_visible()
    expect(desktop.get_by_role("cell", name=re.compile("^AAPL"))).to_be_visible()
    desktop.get_by_role("radio", name="5Y").click()
    expect(desktop.get_by_text(re.compile(r"over 1,2\d\d trading days"))).to_be_visible(timeout=20_000)
    screenshot(desktop, "risk-desktop")


def test_stress_crises_and_custom_shock(desktop: Page):
    sign_in(desktop, "demo@example.com", DEMO_PASSWORD)
    desktop.goto("/stress")
    covid = desktop.get_by_role("row", name=re.compile("COVID"))
    expect(covid).to_contain_text(PERCENT, timeout=30_000)
    covid.get_by_role("link").click()
    expect(desktop.get_by_role("heading", name=re.compile("COVID"))).to_be_visible()
    desktop.get_by_label("Market shock in percent").fill("-20")
    desktop.get_by_role("button", name="Apply shock").click()
    expect(desktop.get_by_role("heading", name=re.compile(r"Custom shock: portfolio −\d"))).to_be_visible(
        timeout=20_000
    )
    expect(desktop.get_by_text(re.compile(r"β \d\.\d\d × market")).first).to_be_visible()
    screenshot(desktop, "stress-desktop")


def test_projection_fan_chart_with_goal(desktop: Page):
    sign_in(desktop, "demo@example.com", DEMO_PASSWORD)
    desktop.goto("/projection")
    expect(desktop.get_by_role("heading", name="Projected value")).to_be_visible(timeout=30_000)
    desktop.get_by_label("years").fill("5")
    desktop.get_by_label("paths").fill("2000")
    desktop.get_by_label("goal").fill("800000")
    desktop.get_by_role("button", name="Run projection").click()
    expect(desktop.get_by_text("Median in 5 years")).to_be_visible(timeout=20_000)
    expect(desktop.get_by_text(re.compile(r"2,000 paths, Multivariate normal"))).to_be_visible()
    expect(desktop.get_by_text(re.compile(r"^\d+\.\d%$")).first).to_be_visible()
    screenshot(desktop, "projection-desktop")


def test_tearsheet_downloads_check_the_session_and_the_portfolio(desktop: Page, live_app):
    sign_in(desktop, "demo@example.com", DEMO_PASSWORD)
    html = desktop.request.get("/api/v1/portfolios/1/tearsheet.html")
    assert html.status == 200 and "attachment" in html.headers["content-disposition"]
    body = html.text()
    assert "Monthly returns" in body and "Value at risk" in body and not re.search(r"\b(nan|inf)\b", body, re.I)
    pdf = desktop.request.get("/api/v1/portfolios/1/tearsheet.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    anonymous = desktop.context.browser.new_context(base_url=live_app.url)
    assert anonymous.request.get("/api/v1/portfolios/1/tearsheet.html").status == 401
    make_user(live_app.db_url, "stranger@example.com", Role.ANALYST)
    stranger = anonymous.new_page()
    sign_in(stranger, "stranger@example.com", PASSWORD)
    assert stranger.request.get("/api/v1/portfolios/1/tearsheet.pdf").status == 404
    anonymous.close()


def test_phone_analysis_pages(phone: Page):
    sign_in(phone, "demo@example.com", DEMO_PASSWORD)
    for route, heading, ready in (
        ("/performance", "Metrics", ".js-plotly-plot"),
        ("/risk", "Value at risk", ".js-plotly-plot"),
        ("/stress", "Historical crises", "text=COVID"),
        ("/projection", "Projected value", ".js-plotly-plot"),
    ):
        phone.goto(route)
        expect(phone.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=30_000)
        expect(phone.locator(ready).first).to_be_visible(timeout=30_000)
        expect(phone.get_by_role("status")).to_have_count(0, timeout=30_000)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"{route} is {width}px wide on a 390px phone"
        screenshot(phone, f"{route.strip('/')}-phone")
