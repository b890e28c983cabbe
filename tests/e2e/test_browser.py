"""End to end in headless Chromium against the production build started like `make run`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from investment_app.db import session_scope
from investment_app.models.user import Role, User
from investment_app.services import accounts
from tests.e2e.conftest import DEMO_PASSWORD, screenshot

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse 42"


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/signin")
    expect(page.locator("#sign-in-submit")).to_be_enabled()  # hydrated: the form is handled by the app
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in-submit")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=20_000)


def make_user(db_url: str, email: str, role: Role) -> None:
    with session_scope(db_url) as db:
        if db.exec(select(User).where(User.email == email)).first() is None:
            accounts.create_user(db, email, PASSWORD, email.split("@")[0].title(), role=role)


def test_register_sign_in_dashboard_sign_out(desktop: Page):
    desktop.goto("/")
    expect(desktop).to_have_url(re.compile(r"/signin"), timeout=20_000)
    desktop.get_by_role("link", name="Create an account").click()
    desktop.fill("#name", "Ada Lovelace")
    desktop.fill("#email", "ada@example.com")
    desktop.fill("#password", "short")
    desktop.fill("#confirm", "short")
    desktop.click("#register-submit")
    expect(desktop.get_by_role("alert")).to_contain_text("at least 10 characters")
    desktop.fill("#password", PASSWORD)
    desktop.fill("#confirm", PASSWORD)
    desktop.click("#register-submit")
    expect(desktop.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=20_000)
    expect(desktop.get_by_text("Ada Lovelace")).to_be_visible()
    expect(desktop.get_by_text("You have no portfolios yet.")).to_be_visible()
    cookies = {c["name"]: c for c in desktop.context.cookies()}
    assert cookies["inv_session"]["httpOnly"] and cookies["inv_session"]["sameSite"] == "Lax"
    assert "inv_session" not in desktop.evaluate("document.cookie")
    desktop.click("#sign-out")
    expect(desktop.get_by_text("You are signed out.")).to_be_visible(timeout=20_000)
    desktop.goto("/settings")
    expect(desktop).to_have_url(re.compile(r"/signin"), timeout=20_000)
    sign_in(desktop, "ada@example.com", PASSWORD)


def test_wrong_password_reads_like_an_unknown_account(desktop: Page):
    messages = []
    for email in ("demo@example.com", "nobody@example.com"):
        desktop.goto("/signin")
        expect(desktop.locator("#sign-in-submit")).to_be_enabled()
        desktop.fill("#email", email)
        desktop.fill("#password", "wrong password 9")
        desktop.click("#sign-in-submit")
        alert = desktop.get_by_role("alert")
        expect(alert).to_be_visible(timeout=20_000)
        messages.append(alert.inner_text())
    assert messages[0] == messages[1] == "E-mail or password is incorrect."


def test_demo_account_signs_in_and_sees_its_portfolio(desktop: Page):
    sign_in(desktop, "demo@example.com", DEMO_PASSWORD)
    expect(desktop.get_by_text("Demo", exact=True)).to_be_visible()
    expect(desktop.get_by_role("link", name="Admin")).to_have_count(0)
    screenshot(desktop, "dashboard-desktop")


def test_viewer_cannot_open_admin(desktop: Page, live_app):
    make_user(live_app.db_url, "viewer@example.com", Role.VIEWER)
    sign_in(desktop, "viewer@example.com", PASSWORD)
    desktop.goto("/admin")
    expect(desktop.get_by_text("This page needs the admin role.")).to_be_visible(timeout=20_000)
    expect(desktop).not_to_have_url(re.compile(r"/admin"))
    expect(desktop.get_by_text("viewer@example.com")).to_have_count(0)


def test_admin_sees_users_and_audit_log(desktop: Page, live_app):
    make_user(live_app.db_url, "root@example.com", Role.ADMIN)
    sign_in(desktop, "root@example.com", PASSWORD)
    desktop.get_by_role("link", name="Admin").first.click()
    expect(desktop.get_by_text("demo@example.com")).to_be_visible(timeout=20_000)
    screenshot(desktop, "admin-desktop")
    desktop.get_by_role("tab", name="Audit log").click()
    expect(desktop.get_by_text("user.create").first).to_be_visible()


def test_tampered_cookie_signs_out_without_an_error_page(desktop: Page, live_app):
    desktop.context.add_cookies([{"name": "inv_session", "value": "forged-value", "url": live_app.url}])
    desktop.goto("/settings")
    expect(desktop).to_have_url(re.compile(r"/signin"), timeout=20_000)
    expect(desktop.get_by_role("heading", name="Sign in")).to_be_visible()


def test_phone_shows_bottom_navigation(phone: Page):
    sign_in(phone, "demo@example.com", DEMO_PASSWORD)
    expect(phone.get_by_text("Time-weighted (TWR)")).to_be_visible(timeout=30_000)
    expect(phone.locator("#bottom-nav")).to_be_visible()
    expect(phone.locator("#sign-out")).to_be_hidden()  # the desktop sidebar is not shown
    box = phone.locator("#bottom-nav").bounding_box()
    assert box["y"] + box["height"] == pytest.approx(844, abs=2) and box["width"] == pytest.approx(390, abs=1)
    screenshot(phone, "dashboard-phone")
    phone.locator("#bottom-nav").get_by_text("Settings").click()
    expect(phone.get_by_role("heading", name="Sessions")).to_be_visible(timeout=20_000)
    screenshot(phone, "settings-phone")


def test_app_is_installable(installed: Page):
    installed.goto("/signin")
    assert installed.evaluate("navigator.serviceWorker.ready.then(r => r.active.scriptURL)").endswith("/sw.js")
    cdp = installed.context.new_cdp_session(installed)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [] and manifest["url"].endswith("/manifest.webmanifest")
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []


def test_offline_page_is_served_when_the_network_is_gone(installed: Page):
    installed.goto("/signin")
    installed.evaluate("navigator.serviceWorker.ready")
    installed.reload()  # now controlled by the service worker
    installed.context.set_offline(True)
    installed.goto("/settings")
    expect(installed.get_by_role("heading", name="You are offline")).to_be_visible()
