"""The ledger in the browser: dashboard numbers, portfolio creation, adding and importing transactions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from investment_app.models.user import Role
from tests.e2e.conftest import DEMO_PASSWORD, screenshot
from tests.e2e.test_browser import PASSWORD, make_user, sign_in

pytestmark = pytest.mark.e2e
CSV = (
    "date,type,symbol,quantity,price,fees,amount\n"
    "2021-01-04,deposit,,,,,5000\n"
    "2021-01-05,buy,AAPL,10,131.01,1,\n"
    "2021-06-01,sell,AAPL,4,124.28,1,\n"
)


def test_demo_dashboard_shows_returns_holdings_and_traces_the_numbers(desktop: Page):
    sign_in(desktop, "demo@example.com", DEMO_PASSWORD)
    expect(desktop.get_by_text("Time-weighted (TWR)")).to_be_visible(timeout=30_000)
    expect(desktop.get_by_text("Money-weighted (XIRR, a year)")).to_be_visible()
    expect(desktop.get_by_role("cell", name=re.compile("AAPL"))).to_be_visible()
    desktop.get_by_text("1Y", exact=True).first.click()
    expect(desktop.get_by_text(re.compile(r"2023-11-\d\d → 2024-11-29"))).to_be_visible()
    desktop.get_by_label("Custom range start").fill("2020-01-01")
    desktop.get_by_label("Custom range end").fill("2020-12-31")
    desktop.get_by_role("button", name="Custom range").click()
    expect(desktop.get_by_text(re.compile(r"2020-01-02 → 2020-12-31"))).to_be_visible()
    desktop.get_by_role("button", name="Trace the numbers").click()
    expect(desktop.get_by_role("dialog")).to_contain_text("Per-day breakdown")
    expect(desktop.get_by_role("dialog").get_by_role("row")).not_to_have_count(1)
    screenshot(desktop, "dashboard-trace")


def test_create_portfolio_add_and_import_transactions(desktop: Page, live_app, tmp_path):
    make_user(live_app.db_url, "ledger@example.com", Role.ANALYST)
    sign_in(desktop, "ledger@example.com", PASSWORD)
    desktop.goto("/portfolios")
    desktop.fill("#new-portfolio-name", "Retirement")
    desktop.click("#create-portfolio")
    expect(desktop.locator("#portfolio-list")).to_contain_text("Retirement", timeout=20_000)

    desktop.goto("/transactions")
    desktop.click("#add-transaction")
    desktop.fill("#tx-date", "2020-03-02")
    desktop.get_by_role("dialog").get_by_role("combobox").click()
    desktop.get_by_role("option", name="deposit").click()
    desktop.fill("#tx-amount", "-5")
    desktop.click("#tx-save")
    expect(desktop.get_by_role("dialog")).to_contain_text("amount: must not be negative")
    desktop.fill("#tx-amount", "2500")
    desktop.click("#tx-save")
    expect(desktop.get_by_role("cell", name="2500")).to_be_visible(timeout=20_000)

    csv_file = tmp_path / "tx.csv"
    csv_file.write_text(CSV)
    desktop.locator("#transactions-upload input[type=file]").set_input_files(str(csv_file))
    desktop.click("#import-submit")
    expect(desktop.get_by_text("Imported 3 transaction(s); 0 already present.")).to_be_visible(timeout=20_000)
    again = tmp_path / "same-rows-again.csv"
    again.write_text(CSV)
    desktop.locator("#transactions-upload input[type=file]").set_input_files(str(again))
    desktop.click("#import-submit")
    expect(desktop.get_by_text("Imported 0 transaction(s); 3 already present.")).to_be_visible(timeout=20_000)

    desktop.goto("/")
    expect(desktop.get_by_text("Time-weighted (TWR)")).to_be_visible(timeout=30_000)
    expect(desktop.get_by_text("net deposits $7,500.00")).to_be_visible()


def test_viewer_sees_no_editing_controls(desktop: Page, live_app):
    make_user(live_app.db_url, "reader@example.com", Role.VIEWER)
    sign_in(desktop, "reader@example.com", PASSWORD)
    desktop.goto("/transactions")
    expect(desktop.get_by_role("heading", name="Transactions")).to_be_visible(timeout=20_000)
    expect(desktop.locator("#add-transaction")).to_have_count(0)
    expect(desktop.locator("#import-submit")).to_have_count(0)


def test_phone_dashboard_and_holdings(phone: Page):
    sign_in(phone, "demo@example.com", DEMO_PASSWORD)
    expect(phone.get_by_text("Time-weighted (TWR)")).to_be_visible(timeout=30_000)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "dashboard-ledger-phone")
    phone.locator("#bottom-nav").get_by_text("Holdings").click()
    expect(phone.get_by_role("heading", name="Holdings & lots")).to_be_visible(timeout=20_000)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "holdings-phone")
