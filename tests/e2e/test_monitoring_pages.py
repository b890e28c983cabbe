"""Monitoring in the browser: a price update pushes a toast and the badge to an open page with no click; the
alert centre (acknowledge, rules with their validation); notification settings; the admin's jobs page."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from investment_app.db import get_engine, session_scope
from investment_app.marketdata import series
from investment_app.models.alerts import Alert, AlertRule
from investment_app.models.job import JobRun
from investment_app.models.market import DailyBar
from investment_app.models.user import Role
from investment_app.services import accounts, alert_rules, monitor
from investment_app.services.price_refresh import refresh
from tests.e2e.conftest import DEMO_PASSWORD, screenshot
from tests.e2e.test_browser import PASSWORD, make_user, sign_in

pytestmark = pytest.mark.e2e
DEMO = "demo@example.com"


@dataclass(frozen=True)
class OneBar:
    """A price source with a single new bar: ``symbol`` on ``day`` at ``close``."""

    symbol: str
    day: dt.date
    close: float
    name: str = "test"

    def fetch(self, symbols: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "symbol": [self.symbol],
                "date": [self.day],
                "open": [float("nan")],
                "high": [float("nan")],
                "low": [float("nan")],
                "close": [self.close],
                "adj_close": [self.close],
                "volume": [float("nan")],
            }
        )


@contextmanager
def new_bar(url: str, symbol: str, change: float) -> Iterator[dt.date]:
    """Store one new bar of ``symbol`` (its last close × (1 + change)) through the price refresh; undo it after."""
    closes = series.wide_frame(get_engine(url), [symbol])[symbol].dropna()
    day = (closes.index[-1] + pd.offsets.BDay(1)).date()
    report = refresh(
        url, source=OneBar(symbol, day, float(closes.iloc[-1]) * (1 + change)), today=day, symbols=[symbol]
    )
    assert report.new_dates == (day,), report.to_json()
    try:
        yield day
    finally:
        with get_engine(url).begin() as conn:
            conn.execute(delete(DailyBar).where(DailyBar.symbol == symbol, DailyBar.date == day))
            series.rebuild(conn, [symbol])


def _rule(url: str, **kwargs) -> int:
    with session_scope(url) as db:
        return alert_rules.create(db, accounts.acting_as(db, DEMO), **kwargs).id


def _disable(url: str, rule_id: int) -> None:
    with session_scope(url) as db:
        rule = db.get(AlertRule, rule_id)
        rule.enabled = False
        db.add(rule)


def test_a_price_update_pushes_a_toast_and_the_badge_to_an_open_page(desktop: Page, live_app):
    sign_in(desktop, DEMO, DEMO_PASSWORD)
    desktop.goto("/holdings")
    expect(desktop.get_by_text("Demo Investor")).to_be_visible(timeout=20_000)  # connected, viewer resolved
    rule = _rule(
        live_app.db_url,
        kind="move",
        symbol="SPY",
        params={"pct": 0.05, "direction": "up"},
        severity="high",
        cooldown_minutes=0,
        name="SPY jumped",
    )
    try:
        with new_bar(live_app.db_url, "SPY", 0.08):
            started = time.monotonic()
            with contextlib.suppress(IntegrityError):  # the app's own alert job may record it first
                monitor.check(live_app.db_url)
            with session_scope(live_app.db_url) as db:
                assert len(db.exec(select(Alert).where(Alert.rule_id == rule)).all()) == 1
            toast = desktop.get_by_text("SPY jumped: +8.00%")
            expect(toast).to_be_visible(timeout=10_000)  # no click, no reload: pushed by the server
            print(f"alert fired to toast on screen: {time.monotonic() - started:.2f} s")
            expect(desktop.locator(".alert-badge").first).to_be_visible()
            screenshot(desktop, "alert-toast-desktop")
    finally:
        _disable(live_app.db_url, rule)

    desktop.goto("/alerts")
    card = desktop.locator(".alert-card", has_text="SPY jumped").first
    expect(card).to_be_visible(timeout=20_000)
    screenshot(desktop, "alerts-desktop")
    card.get_by_role("button", name="Acknowledge").click()
    expect(desktop.locator(".alert-card", has_text="SPY jumped")).to_have_count(0, timeout=10_000)  # filter: open


def test_rules_form_refuses_an_impossible_threshold_and_creates_a_rule(desktop: Page):
    sign_in(desktop, DEMO, DEMO_PASSWORD)
    desktop.goto("/alerts")
    desktop.get_by_role("tab", name="Rules").click()
    desktop.get_by_role("combobox").first.click()
    desktop.get_by_role("option", name="Portfolio drawdown").click()
    desktop.locator("#rule-form button[role=combobox]").nth(1).click()  # the portfolio select
    desktop.get_by_role("option").first.click()
    desktop.fill("#p-pct", "150")
    desktop.click("#create-rule")
    expect(desktop.get_by_role("alert")).to_contain_text("drawdown", timeout=10_000)
    desktop.fill("#p-pct", "12.5")
    desktop.click("#create-rule")
    expect(desktop.locator("#rule-list")).to_contain_text("drawdown beyond 12.5%", timeout=10_000)
    screenshot(desktop, "alert-rules-desktop")


def test_notification_settings_validate_and_save(desktop: Page):
    sign_in(desktop, DEMO, DEMO_PASSWORD)
    desktop.goto("/settings/notifications")
    expect(desktop.get_by_role("heading", name="Alert e-mails")).to_be_visible(timeout=20_000)
    desktop.fill("#timezone", "Mars/Olympus")
    desktop.click("#save-notifications")
    expect(desktop.get_by_role("alert")).to_contain_text("Unknown time zone", timeout=10_000)
    desktop.fill("#timezone", "Europe/Paris")
    desktop.fill("#quiet-start", "22:00")
    desktop.fill("#quiet-end", "07:00")
    desktop.click("#save-notifications")
    expect(desktop.get_by_text("Notification settings saved.")).to_be_visible(timeout=10_000)
    screenshot(desktop, "notifications-desktop")


def test_admin_runs_a_job_now(desktop: Page, live_app):
    make_user(live_app.db_url, "ops@example.com", Role.ADMIN)
    sign_in(desktop, "ops@example.com", PASSWORD)
    desktop.goto("/admin/jobs")
    card = desktop.locator("#job-alerts")
    expect(card).to_contain_text("Alert monitor", timeout=20_000)
    before = _ok_runs(live_app.db_url, "alerts")
    card.get_by_role("button", name="Run now").click()
    expect(desktop.get_by_text("Run requested.")).to_be_visible(timeout=10_000)
    deadline = time.monotonic() + 30
    while _ok_runs(live_app.db_url, "alerts") == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _ok_runs(live_app.db_url, "alerts") == before + 1
    desktop.get_by_role("button", name="Refresh").click()
    expect(card.get_by_text("ok", exact=True).first).to_be_visible()
    screenshot(desktop, "jobs-desktop")


def _ok_runs(url: str, job_id: str) -> int:
    with session_scope(url) as db:
        return len(db.exec(select(JobRun).where(JobRun.job_id == job_id, JobRun.status == "ok")).all())


def test_phone_monitoring_pages(phone: Page):
    sign_in(phone, DEMO, DEMO_PASSWORD)
    for route, heading in (("/alerts", "Alerts"), ("/settings/notifications", "Notifications")):
        phone.goto(route)
        expect(phone.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=20_000)
        phone.wait_for_timeout(500)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"{route} is {width}px wide on a 390px phone"
        screenshot(phone, f"{route.strip('/').replace('/', '-')}-phone")
    expect(phone.get_by_role("link", name="Alerts")).to_be_visible()
