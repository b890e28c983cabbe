"""Rebalancing and trading in the browser: a target typed on /rebalance (a bad one refused with its message), its
drift, a plan edited, approved and executed through the paper broker, the filled orders on /orders and the new
quantities on /holdings; a resting limit order canceled; an Alpaca connection whose secret never reaches the page;
a reader of a shared portfolio who sees it all read-only; the phone layout.

The portfolio is tests/two_stocks.py's ledger (100,000 deposited, 200 AAPL at 38 and 300 JPM at 98 bought on
2019-01-03) in the e2e server's database. References: the weights and drift are worked out from the bundled CSV
closes (w = q · close / V, V = Σ q · close + cash; drift = ½ Σ |w − t| over the symbols and cash); fill prices are the
last close × (1 ± 5 bp), the paper broker's default slippage; the new share counts are 200 + the edited AAPL buy and
300 − the JPM sell shown in the plan.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from investment_app.db import session_scope
from investment_app.models.optimization import TargetAllocation
from investment_app.models.rebalance import RebalanceSettings, TaxSettings
from investment_app.models.trading import BrokerConnection
from investment_app.models.transaction import Transaction, TxType
from investment_app.models.user import Role
from investment_app.services import accounts, brokers, portfolios, rebalance, targets, transactions
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import PASSWORD, make_user, sign_in
from tests.fakes.alpaca_server import API_KEY, SECRET_KEY
from tests.fakes.alpaca_trading import FakeTrading, alpaca_trading_fixture  # noqa: F401
from tests.two_stocks import CASH, LEDGER, QUANTITY, bundled_closes

pytestmark = pytest.mark.e2e
OWNER, READER = "rebalancer@example.com", "rebalance-reader@example.com"
ALPACA_OWNER = "alpaca-owner@example.com"
TARGET = {"AAPL": 0.40, "JPM": 0.30, "SPY": 0.25}
RESERVE = 0.05
SLIPPAGE = 5 / 10_000
CHART = """() => {
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    const plot = plots.find(p => (p.data || []).some(t => t.name === 'Target'));
    if (!plot) return null;
    const axes = plot.layout;
    return {names: plot.data.map(t => t.name), x: axes.xaxis.title.text, format: axes.xaxis.tickformat,
            y: axes.yaxis.title.text};
}"""


@pytest.fixture(scope="module")
def portfolio_id(live_app) -> int:
    """The owner's "Two stocks" portfolio (tests/two_stocks.py's ledger), shared read-only with a viewer."""
    make_user(live_app.db_url, OWNER, Role.ANALYST)
    make_user(live_app.db_url, READER, Role.VIEWER)
    with session_scope(live_app.db_url) as db:
        owner = accounts.acting_as(db, OWNER)
        pid = portfolios.create(db, owner, "Two stocks").id
        transactions.import_csv(db, owner, pid, LEDGER)
        portfolios.share(db, owner, pid, READER)
    return pid


def ensure_target(url: str, pid: int) -> None:
    """TARGET and RESERVE as the portfolio's target, unless it has one (set through the page by the first test)."""
    with session_scope(url) as db:
        if db.get(TargetAllocation, pid) is None:
            targets.set_target(db, accounts.acting_as(db, OWNER), pid, targets.TargetInput("symbols", TARGET, RESERVE))


def hand_drift() -> tuple[float, dict[str, float]]:
    """Total drift and each symbol's weight − target on the last bundled day, from the CSV closes."""
    last = bundled_closes().iloc[-1]
    values = {s: QUANTITY[s] * float(last[s]) for s in QUANTITY}
    total = sum(values.values()) + CASH
    gaps = {s: values.get(s, 0.0) / total - TARGET.get(s, 0.0) for s in ("AAPL", "JPM", "SPY")}
    gaps["CASH"] = CASH / total - RESERVE
    return 0.5 * sum(abs(g) for g in gaps.values()), gaps


def still_screenshot(page: Page, name: str) -> None:
    """The e2e screenshot once the toasts are gone, from the top of the page (the desktop sidebar is sticky)."""
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def fill_target_row(page: Page, row: int, name: str, percent: str) -> None:
    page.get_by_label("Symbol or sector").nth(row).fill(name)
    page.get_by_label("Weight (%)").nth(row).fill(percent)


def shown_number(text: str) -> float:
    """ "$1,234.56" or "77" → the number."""
    return float(re.sub(r"[^0-9.\-]", "", text))


def test_target_drift_plan_edit_approve_execute(desktop: Page, live_app, portfolio_id):
    sign_in(desktop, OWNER, PASSWORD)
    desktop.goto(f"/rebalance?p={portfolio_id}")
    expect(desktop.get_by_text("No target allocation yet")).to_be_visible(timeout=20_000)

    fill_target_row(desktop, 0, "AAPL", "40")
    for row, (symbol, percent) in enumerate((("JPM", "30"), ("SPY", "20")), start=1):
        desktop.get_by_role("button", name="Add row").click()
        fill_target_row(desktop, row, symbol, percent)
    desktop.fill("#cash_reserve", "5")
    desktop.click("#save-target")
    expect(desktop.get_by_role("alert")).to_contain_text("add up to 95%", timeout=10_000)
    expect(desktop.get_by_role("alert")).to_contain_text("must add up to 100%")
    desktop.get_by_label("Weight (%)").nth(2).fill("25")
    desktop.click("#save-target")
    expect(desktop.get_by_text("Target saved.")).to_be_visible(timeout=10_000)

    total, gaps = hand_drift()
    expect(desktop.locator("#drift-total")).to_have_text(f"{100 * total:.2f}%", timeout=20_000)
    spy = desktop.get_by_role("row").filter(has=desktop.get_by_role("cell", name="SPY", exact=True)).first
    expect(spy).to_contain_text(f"−{100 * abs(gaps['SPY']):.2f} pp")
    expect(desktop.get_by_text("Source: manual")).to_be_visible()
    desktop.wait_for_function(f"({CHART})() !== null", timeout=20_000)  # plotly.js loads on demand
    chart = desktop.evaluate(CHART)
    assert chart == {
        "names": ["Current", "Target"],
        "x": "Weight (% of portfolio value)",
        "format": ".0%",
        "y": "Position",
    }
    still_screenshot(desktop, "rebalance-desktop")
    desktop.goto("/")
    expect(desktop.locator("#dashboard-drift")).to_have_text(f"{100 * total:.2f}%", timeout=30_000)

    desktop.get_by_role("link", name="Rebalance", exact=True).last.click()
    desktop.get_by_role("tab", name="Plan").click()
    desktop.click("#plan-now")
    plan = desktop.locator("#plan")
    expect(plan).to_contain_text("proposed", timeout=20_000)
    jpm_sell = shown_number(plan.get_by_label("Quantity of JPM").input_value())
    spy_buy = shown_number(plan.get_by_label("Quantity of SPY").input_value())
    assert jpm_sell > 0 and spy_buy > 0
    plan.get_by_label("Quantity of AAPL").fill("10")
    desktop.click("#save-edits")
    expect(desktop.get_by_text(re.compile(r"Plan #\d+ updated\."))).to_be_visible(timeout=10_000)
    expect(plan.get_by_label("Quantity of AAPL")).to_have_value("10")
    desktop.get_by_label("Decision note").fill("AAPL buy cut to 10 shares")
    desktop.click("#approve-plan")
    expect(plan).to_contain_text("approved", timeout=10_000)
    expect(plan).to_contain_text("AAPL buy cut to 10 shares")
    desktop.click("#execute-plan")
    desktop.click("#confirm-execute")
    report = desktop.locator("#execution-report")
    expect(report).to_contain_text("is executed: 3 order(s) sent, 3 filled, 0 still open, 0 rejected", timeout=30_000)
    expect(desktop.get_by_role("row", name=re.compile(r"executed"))).to_contain_text(OWNER)
    still_screenshot(desktop, "rebalance-plan-desktop")

    last = bundled_closes().iloc[-1]
    desktop.goto(f"/orders?p={portfolio_id}")
    past = desktop.locator("#past-orders")
    expect(past).to_be_visible(timeout=20_000)
    for symbol, side, quantity in (("JPM", "sell", jpm_sell), ("SPY", "buy", spy_buy), ("AAPL", "buy", 10)):
        row = past.locator(".order-row", has_text=symbol).filter(has=desktop.get_by_text("filled", exact=True))
        expect(row).to_have_count(1)
        cells = row.get_by_role("cell").all_inner_texts()
        assert shown_number(cells[4]) == quantity, cells
        expected = float(last[symbol]) * (1 + SLIPPAGE if side == "buy" else 1 - SLIPPAGE)
        assert shown_number(cells[5]) == pytest.approx(expected, abs=0.0051), (symbol, cells)

    desktop.goto(f"/holdings?p={portfolio_id}")
    for symbol, held in (("AAPL", 210), ("JPM", 300 - jpm_sell), ("SPY", spy_buy)):
        row = desktop.locator("tr", has=desktop.locator(f"#lots-toggle-{symbol}"))
        expect(row.get_by_role("cell").nth(2)).to_have_text(f"{held:,.0f}", timeout=20_000)


def stored_settings(url: str, pid: int) -> tuple[RebalanceSettings | None, list[list[str]]]:
    with session_scope(url) as db:
        owner = accounts.acting_as(db, OWNER)
        tax = db.get(TaxSettings, owner.user_id)
        return db.get(RebalanceSettings, pid), tax.identical_groups if tax else []


def test_settings_typed_in_percent_are_saved_all_or_nothing(desktop: Page, live_app, portfolio_id):
    sign_in(desktop, OWNER, PASSWORD)
    desktop.goto(f"/rebalance?p={portfolio_id}")
    desktop.get_by_role("tab", name="Settings").click()
    expect(desktop.locator("#drift_threshold")).to_have_value("5", timeout=20_000)  # the default 0.05, in percent
    desktop.fill("#drift_threshold", "7.5")
    desktop.fill("#band", "150")
    desktop.fill("#tlh_min_loss", "1,500")
    desktop.fill("#replacements", "JPM→BAC")
    desktop.fill("#groups", "bac, jpm")
    desktop.click("#save-settings")
    expect(desktop.get_by_role("alert")).to_contain_text(
        "The band must be between 0% and 100% (got 1.5)", timeout=10_000
    )
    before, groups = stored_settings(live_app.db_url, portfolio_id)
    assert (before is None or before.drift_threshold == 0.05) and groups == []  # nothing written
    desktop.fill("#band", "2.5")
    desktop.click("#save-settings")
    expect(desktop.get_by_text("Rebalancing settings saved.")).to_be_visible(timeout=10_000)
    saved, groups = stored_settings(live_app.db_url, portfolio_id)
    assert (saved.drift_threshold, saved.band, saved.tlh_min_loss) == (0.075, 0.025, 1500.0)
    assert saved.replacements == {"JPM": "BAC"} and groups == [["BAC", "JPM"]]
    assert saved.avoid_short_term_gains and not saved.fractional and saved.cooldown_days == 7  # untouched defaults
    expect(desktop.locator("#band")).to_have_value("2.5")


def test_a_limit_order_far_below_the_market_rests_until_canceled(desktop: Page, live_app, portfolio_id):
    sign_in(desktop, OWNER, PASSWORD)
    desktop.goto(f"/orders?p={portfolio_id}")
    expect(desktop.locator("#place-order")).to_be_visible(timeout=20_000)
    desktop.fill("#symbol", "aapl")
    desktop.fill("#size", "1")
    desktop.get_by_role("combobox", name="Type").click()
    desktop.get_by_role("option", name="Limit", exact=True).click()
    desktop.get_by_role("combobox", name="Time in force").click()
    desktop.get_by_role("option", name="Good till canceled").click()
    desktop.click("#place-order")
    expect(desktop.get_by_role("alert")).to_contain_text("needs a limit price above 0", timeout=10_000)
    desktop.fill("#limit_price", "1.00")
    desktop.click("#place-order")
    open_orders = desktop.locator("#open-orders")
    expect(open_orders).to_contain_text("limit · 1 · limit 1.00 · GTC", timeout=20_000)
    expect(open_orders.locator(".order-row")).to_contain_text("new")
    still_screenshot(desktop, "orders-desktop")

    open_orders.get_by_role("button", name="Cancel").click()
    expect(desktop.get_by_role("alertdialog")).to_contain_text("Cancel order")
    desktop.get_by_role("button", name="Cancel order").click()
    expect(desktop.get_by_text("No open orders.")).to_be_visible(timeout=20_000)
    expect(desktop.locator("#past-orders .order-row").first).to_contain_text("canceled")


def test_a_broker_connection_keeps_its_secret_off_the_page(desktop: Page, live_app):
    secret, key_id = "sk-e2e-SECRET-9f8e7d6c5b4a", "PKE2EKEYID00QRST"
    received: list[str] = []
    desktop.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda f: received.append(f if isinstance(f, str) else f.decode("utf-8"))),
    )
    sign_in(desktop, OWNER, PASSWORD)
    desktop.goto("/settings/brokers")
    expect(desktop.locator("#add-connection")).to_be_visible(timeout=20_000)
    desktop.fill("#name", "E2E paper keys")
    desktop.fill("#key_id", key_id)
    desktop.fill("#secret", "short")
    desktop.click("#add-connection")
    expect(desktop.get_by_role("alert")).to_contain_text("Enter the API key id and secret", timeout=10_000)
    desktop.fill("#secret", secret)
    desktop.click("#add-connection")
    expect(desktop.locator(".connection")).to_contain_text("Key …QRST", timeout=10_000)
    expect(desktop.locator("#secret")).to_have_value("")
    still_screenshot(desktop, "brokers-desktop")

    for text in (desktop.content(), *received):
        assert secret not in text and key_id not in text
    with session_scope(live_app.db_url) as db:
        stored = db.exec(select(BrokerConnection).where(BrokerConnection.name == "E2E paper keys")).one()
        assert stored.key_hint == "QRST" and secret not in stored.secret_encrypted

    desktop.get_by_role("button", name="Delete").click()
    desktop.click("#confirm-delete")
    expect(desktop.get_by_text("No connections yet")).to_be_visible(timeout=10_000)


def test_a_reader_sees_drift_plans_and_orders_read_only(desktop: Page, live_app, portfolio_id):
    ensure_target(live_app.db_url, portfolio_id)
    sign_in(desktop, READER, PASSWORD)
    desktop.goto(f"/rebalance?p={portfolio_id}")
    expect(desktop.locator("#drift-total")).to_have_text(re.compile(r"\d+\.\d\d%"), timeout=20_000)
    expect(desktop.get_by_label("Symbol or sector").first).to_be_disabled()
    for button in ("Save target", "Add row"):
        expect(desktop.get_by_role("button", name=button)).to_have_count(0)
    desktop.get_by_role("tab", name="Plan").click()
    expect(desktop.get_by_role("button", name="Plan now")).to_have_count(0)
    for button in ("#approve-plan", "#execute-plan", "#save-edits"):
        expect(desktop.locator(button)).to_have_count(0)
    desktop.get_by_role("tab", name="Settings").click()
    expect(desktop.locator("#save-settings")).to_have_count(0)
    expect(desktop.locator("#cooldown_days")).to_be_disabled()

    desktop.goto(f"/orders?p={portfolio_id}")
    expect(desktop.get_by_role("heading", name="Open orders")).to_be_visible(timeout=20_000)
    expect(desktop.get_by_role("heading", name="New order")).to_have_count(0)
    expect(desktop.locator("#sync-orders")).to_have_count(0)


def test_phone_rebalance_and_orders(phone: Page, live_app, portfolio_id):
    ensure_target(live_app.db_url, portfolio_id)
    sign_in(phone, OWNER, PASSWORD)
    expect(phone.locator("#dashboard-drift")).to_have_text(re.compile(r"^\d+\.\d\d%$"), timeout=30_000)
    phone.get_by_role("button", name="Account menu").tap()  # Rebalance is in the account menu: the bar has 6 items
    phone.get_by_role("menuitem", name="Rebalance", exact=True).click()
    expect(phone.locator("#drift-total")).to_be_visible(timeout=20_000)
    expect(phone.locator(".js-plotly-plot").first).to_be_visible()
    for route, name in (("/rebalance", "rebalance-phone"), ("/orders", "orders-phone")):
        if route != "/rebalance":
            phone.goto(route)
            expect(phone.get_by_role("heading", name="Past orders")).to_be_visible(timeout=20_000)
        phone.wait_for_timeout(500)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"{route} is {width}px wide on a 390px phone"
        still_screenshot(phone, name)


def test_alpaca_positions_reconciled_with_the_ledger(desktop: Page, live_app, alpaca_trading: FakeTrading):
    """The fake Alpaca account holds 200 AAPL (as the ledger) and 305 JPM (the ledger: 300): one difference, +5 JPM,
    resolved by adopting Alpaca's count, a transfer in of 5 JPM at Alpaca's average price 100."""
    for symbol, quantity, average in (("AAPL", 200, "38"), ("JPM", 305, "100")):
        alpaca_trading.add_asset(symbol, Decimal(str(bundled_closes()[symbol].iloc[-1])))
        alpaca_trading.hold(symbol, Decimal(quantity), Decimal(average))
    make_user(live_app.db_url, ALPACA_OWNER, Role.ANALYST)
    with session_scope(live_app.db_url) as db:
        owner = accounts.acting_as(db, ALPACA_OWNER)
        pid = portfolios.create(db, owner, "Alpaca mirror").id
        transactions.import_csv(db, owner, pid, LEDGER)
        conn = brokers.add_connection(
            db, owner, "Fake Alpaca", API_KEY, SECRET_KEY, url_override=alpaca_trading.server.url
        )
        rebalance.update_settings(db, owner, pid, {"broker": "alpaca", "connection_id": conn.id})

    sign_in(desktop, ALPACA_OWNER, PASSWORD)
    desktop.goto(f"/orders?p={pid}")
    card = desktop.locator("#reconciliation")
    jpm = card.get_by_role("row").filter(has=desktop.get_by_role("cell", name="JPM", exact=True))
    expect(jpm).to_contain_text("300", timeout=30_000)
    expect(jpm).to_contain_text("305")
    expect(jpm).to_contain_text("+5")
    expect(card.get_by_role("cell", name="AAPL", exact=True)).to_have_count(0)
    still_screenshot(desktop, "orders-alpaca-desktop")
    jpm.get_by_role("button", name="Adopt broker count").click()
    expect(card).to_contain_text("The ledger and Alpaca agree on every position.", timeout=30_000)
    with session_scope(live_app.db_url) as db:
        adopted = db.exec(
            select(Transaction).where(Transaction.portfolio_id == pid, Transaction.type == TxType.TRANSFER_IN)
        ).one()
        assert (adopted.symbol, adopted.quantity, adopted.price) == ("JPM", Decimal(5), Decimal(100))
