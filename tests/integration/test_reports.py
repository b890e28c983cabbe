"""Scheduled report e-mails end to end, on SQLite and PostgreSQL, through a real SMTP server (aiosmtpd on
127.0.0.1): what arrives is parsed with the standard ``email`` package, the unsubscribe link is followed through
the FastAPI app, and refusals, an unreachable server and concurrent runs are played out for real.

Ledgers: "Two stocks" = 100,000 deposited on 2019-01-02, 200 AAPL at 38 and 300 JPM at 98 bought on 2019-01-03,
held to the data's end (2024-11-29); "Growth" = 50,000 on 2020-01-02 and 100 MA at 300 on 2020-01-03. The
e-mail's figures are checked against empyrical on the buy-and-hold value worked out here from the bundled
closes. Subscriptions are back-dated to 2024-11-01 and the runs happen at NOW = Monday 2024-12-02 07:00 UTC
(report hour 6), when the due periods are the day 2024-12-01, the week 2024-W48 and the month 2024-11.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import empyrical
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from investment_app.api import create_api
from investment_app.db import get_engine
from investment_app.mail import SmtpConfig, make_unsubscribe_token
from investment_app.marketdata import price_book
from investment_app.marketdata.bundled import bundled_bars, load_bundled
from investment_app.marketdata.series import wide_frame
from investment_app.marketdata.store import load_bars
from investment_app.models.audit import AuditRecord
from investment_app.models.reports import ReportDelivery, ReportSubscription
from investment_app.models.user import Role
from investment_app.services import accounts, portfolios, reports, transactions
from investment_app.services.errors import Forbidden, InvalidInput
from investment_app.settings import get_settings
from jobs.execute import run_job
from jobs.runs import last_run
from tests.conftest import ROOT, run_cli
from tests.fakes.smtp import Inbox, free_port, smtp_servers
from tests.two_stocks import CASH, LEDGER, QUANTITY, bundled_closes

SENDER = "Portfolio reports <reports@example.org>"
PUBLIC = "https://invest.example.org"
OWNER, OTHER = "owner@example.com", "other@example.com"
NOW = datetime(2024, 12, 2, 7, 0, tzinfo=UTC)
SUBSCRIBED = datetime(2024, 11, 1, tzinfo=UTC)
MINUS = "\u2212"
GROWTH = b"date,type,symbol,quantity,price,fees,amount\n2020-01-02,deposit,,,,,50000\n2020-01-03,buy,MA,100,300,0,\n"


@pytest.fixture
def smtp(env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Inbox]]:
    """start(port=None) → an Inbox served by a real aiosmtpd server on 127.0.0.1, which SMTP_PORT then names."""
    with smtp_servers() as serve:

        def start(port: int | None = None) -> Inbox:
            inbox = Inbox()
            monkeypatch.setenv("SMTP_PORT", str(serve(inbox, port)))
            get_settings.cache_clear()
            return inbox

        yield start


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's settings on the test database, with SMTP on 127.0.0.1 (port set by ``smtp``)."""
    for name, value in {
        "REFLEX_DB_URL": db_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": SENDER,
        "PUBLIC_URL": PUBLIC,
        "REPORT_HOUR_UTC": "6",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


@pytest.fixture
def ledger(env: str) -> dict[str, int]:
    """Owner with "Two stocks" and "Growth", another analyst with nothing; portfolio ids by name."""
    load_bundled(env)
    with Session(get_engine(env), expire_on_commit=False) as db:
        owner = accounts.create_user(db, OWNER, "correct horse 42", role=Role.ANALYST)
        accounts.create_user(db, OTHER, "correct horse 42", role=Role.ANALYST)
        viewer = accounts.acting_as(db, owner.email)
        ids = {name: portfolios.create(db, viewer, name).id for name in ("Two stocks", "Growth")}
        db.commit()
        transactions.import_csv(db, viewer, ids["Two stocks"], LEDGER)
        transactions.import_csv(db, viewer, ids["Growth"], GROWTH)
        db.commit()
    return ids


def subscribe(url: str, email: str, portfolio_id: int, frequency: str, recipient: str | None = None) -> int:
    with Session(get_engine(url), expire_on_commit=False) as db:
        row = reports.subscribe(db, accounts.acting_as(db, email), portfolio_id, frequency, recipient)
        db.commit()
    return row.id


def backdate(url: str) -> None:
    """Every subscription as if made on 2024-11-01."""
    with Session(get_engine(url)) as db:
        db.exec(update(ReportSubscription).values(created_at=SUBSCRIBED))  # type: ignore[call-overload]
        db.commit()


def deliveries(url: str) -> list[ReportDelivery]:
    with Session(get_engine(url)) as db:
        return list(db.exec(select(ReportDelivery).order_by(ReportDelivery.id)).all())


def subscriptions(url: str) -> dict[int, ReportSubscription]:
    with Session(get_engine(url)) as db:
        return {s.id: s for s in db.exec(select(ReportSubscription)).all()}


def expected_message_id(subscription_id: int, period: str) -> str:
    return f"<report.{hashlib.sha256(f'report:{subscription_id}:{period}'.encode()).hexdigest()[:32]}@example.org>"


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%".replace("-", MINUS)


def two_stocks_returns() -> pd.Series:
    """Daily returns of the buy-and-hold ledger: 100,000 cash on 2019-01-02, then cash + Σ quantity × close."""
    closes = bundled_closes().loc["2019-01-02":]
    value = CASH + sum(QUANTITY[s] * closes[s] for s in QUANTITY)
    value.iloc[0] = 100_000.0
    return value.pct_change().iloc[1:]


def test_due_reports_arrive_once_and_the_link_stops_only_that_one(ledger, smtp) -> None:
    url, inbox = get_settings().database_url, smtp()
    daily = subscribe(url, OWNER, ledger["Two stocks"], "daily")
    weekly = subscribe(url, OWNER, ledger["Two stocks"], "weekly")
    monthly = subscribe(url, OWNER, ledger["Growth"], "monthly")
    backdate(url)

    report = reports.send_due(now=NOW)
    assert (len(report.sent), len(report.skipped), len(report.failed)) == (3, 0, 0)
    mail = inbox.by_subject()
    assert set(mail) == {
        "Daily report: Two stocks, 2024-12-01",
        "Weekly report: Two stocks, 2024-W48",
        "Monthly report: Growth, 2024-11",
    }
    first = mail["Daily report: Two stocks, 2024-12-01"]
    assert (first["From"], first["To"], first["Auto-Submitted"]) == (SENDER, OWNER, "auto-generated")
    assert first["Message-ID"] == expected_message_id(daily, "2024-12-01")
    assert mail["Weekly report: Two stocks, 2024-W48"]["Message-ID"] == expected_message_id(weekly, "2024-W48")
    assert mail["Monthly report: Growth, 2024-11"]["Message-ID"] == expected_message_id(monthly, "2024-11")
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The body's five figures: empyrical on the buy-and-hold returns worked out from the bundled closes, and the
    # same strings in the attached tearsheet.
    returns = two_stocks_returns()
    expected = {
        "Total return": _pct(empyrical.cum_returns_final(returns)),
        "Annual return (CAGR)": _pct(empyrical.annual_return(returns)),
        "Annual volatility": _pct(empyrical.annual_volatility(returns)),
        "Sharpe": f"{empyrical.sharpe_ratio(returns):.2f}",
        "Max drawdown": _pct(empyrical.max_drawdown(returns)),
    }
    body = first.get_body(("html",)).get_content()
    attachments = {part.get_content_type(): part for part in first.iter_attachments()}
    assert set(attachments) == {"text/html", "application/pdf"}
    tearsheet = attachments["text/html"].get_content()
    for label, value in expected.items():
        assert f"{label}</td>" in body and f">{value}</td>" in body, (label, value)
        assert value in tearsheet, (label, value)
    assert "Two stocks" in tearsheet and len(tearsheet) > 10_000
    pdf = attachments["application/pdf"].get_content()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    assert attachments["application/pdf"].get_filename() == "tearsheet-Two-stocks-2024-11-29.pdf"

    rows = {row.subscription_id: row for row in deliveries(url)}
    assert {r.status for r in rows.values()} == {"sent"} and {r.attempts for r in rows.values()} == {1}
    assert rows[daily].message_id == first["Message-ID"] and rows[daily].sent_at is not None

    # Follow the daily one's link: GET names it and changes nothing; POST (one-click) ends only it.
    link = urlsplit(first["List-Unsubscribe"].strip("<>"))
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{PUBLIC}/api/v1/reports/unsubscribe"
    assert f'href="{first["List-Unsubscribe"].strip("<>")}"' in body
    client = TestClient(create_api())
    page = client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200 and "Two stocks" in page.text and "daily" in page.text
    assert page.headers["cache-control"] == "no-store" and '<form method="post"' in page.text
    assert subscriptions(url)[daily].active
    for _ in range(2):  # twice: the second changes nothing
        done = client.post(
            f"{link.path}?{link.query}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200 and "no longer receive the daily report" in done.text
    state = {i: s.active for i, s in subscriptions(url).items()}
    assert state == {daily: False, weekly: True, monthly: True}
    with Session(get_engine(url)) as db:
        audits = db.exec(select(AuditRecord).where(AuditRecord.action == "report.unsubscribe")).all()
    assert [(a.entity_id, a.actor_id, a.actor_email, a.after["via"]) for a in audits] == [
        (str(daily), None, "system", "link")
    ]

    # A day later: no daily report any more; the week's and the month's were sent already.
    later = reports.send_due(now=NOW + timedelta(days=1))
    assert len(later.sent) == 0 and [o.detail for o in later.skipped] == ["already sent"] * 2
    assert len(inbox.messages) == 3


def test_twice_and_concurrently_one_copy_per_subscription_and_period(ledger, smtp) -> None:
    url, inbox = get_settings().database_url, smtp()
    ids = {
        subscribe(url, OWNER, ledger[name], frequency, recipient)
        for name in ("Two stocks", "Growth")
        for frequency in ("daily", "weekly")
        for recipient in (OWNER, "partner@example.com")
    }
    backdate(url)
    results: list[reports.DeliveryReport] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        results.append(reports.send_due(now=NOW))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == 2
    sent = [o.subscription_id for r in results for o in r.sent]
    assert sorted(sent) == sorted(ids)  # each by exactly one of the two runs
    others = {"claimed by another run", "being sent by another run", "already sent"}
    assert {o.detail for r in results for o in r.skipped} <= others
    assert len(inbox.messages) == len(ids) == len({m["Message-ID"] for m in inbox.messages})

    again = reports.send_due(now=NOW + timedelta(hours=3))
    assert (len(again.sent), len(again.skipped)) == (0, len(ids))
    assert len(inbox.messages) == len(ids)
    assert [(r.status, r.attempts) for r in deliveries(url)] == [("sent", 1)] * len(ids)


def test_refusing_server_fails_the_job_with_its_answer_then_sends_once(ledger, smtp) -> None:
    """The job as the scheduler runs it (real time: the back-dated subscriptions are due)."""
    url, inbox = get_settings().database_url, smtp()
    ids = {subscribe(url, OWNER, ledger[name], "daily") for name in ("Two stocks", "Growth")}
    backdate(url)

    inbox.refuse_rcpt = "550 5.1.1 mailbox unavailable"
    run_job("reports", url=url)
    run = last_run("reports", url)
    assert run.status == "failed" and "ReportsFailed" in run.error and "550 5.1.1 mailbox unavailable" in run.error
    assert {(r.status, r.attempts, r.error) for r in deliveries(url)} == {
        ("failed", 1, f"recipients refused: 550 {OWNER}: 550 5.1.1 mailbox unavailable")
    }

    inbox.refuse_rcpt, inbox.refuse_data = None, "451 4.3.0 try again later"
    run_job("reports", url=url)
    assert "451 4.3.0 try again later" in last_run("reports", url).error
    assert {(r.status, r.attempts, r.error) for r in deliveries(url)} == {
        ("failed", 2, "server refused: 451 4.3.0 try again later")
    }
    assert inbox.messages == []

    inbox.refuse_data = None
    run_job("reports", url=url)
    run = last_run("reports", url)
    assert (run.status, run.items, run.error) == ("ok", 2, None)
    run_job("reports", url=url)
    assert (last_run("reports", url).status, last_run("reports", url).items) == ("ok", 0)
    assert sorted(m["To"] for m in inbox.messages) == [OWNER, OWNER]
    assert {(r.subscription_id, r.status, r.attempts, r.error) for r in deliveries(url)} == {
        (i, "sent", 3, None) for i in ids
    }


def test_server_down_then_back_sends_each_report_once(ledger, smtp) -> None:
    url = get_settings().database_url
    sid = subscribe(url, OWNER, ledger["Two stocks"], "weekly")
    backdate(url)
    port = free_port()  # nothing listens here yet
    with pytest.raises(reports.ReportsFailed, match="ConnectionRefusedError") as failure:
        reports.send_due(now=NOW, smtp=SmtpConfig("127.0.0.1", port, "none", timeout=5))
    assert failure.value.report is not None and failure.value.report.sent == []
    [row] = deliveries(url)
    assert (row.status, row.attempts, row.period) == ("failed", 1, "2024-W48")
    assert row.error.startswith("connection: ConnectionRefusedError")

    inbox = smtp(port)
    # A week later the server is back: the missed week goes out (retry) with the new one.
    report = reports.send_due(now=NOW + timedelta(days=7))
    assert sorted(o.period for o in report.sent) == ["2024-W48", "2024-W49"]
    assert sorted(m["Subject"] for m in inbox.messages) == [
        "Weekly report: Two stocks, 2024-W48",
        "Weekly report: Two stocks, 2024-W49",
    ]
    assert inbox.by_subject()["Weekly report: Two stocks, 2024-W48"]["Message-ID"] == expected_message_id(
        sid, "2024-W48"
    )
    assert reports.send_due(now=NOW + timedelta(days=7)).sent == []


def test_subscriptions_rules_and_bad_input_write_nothing(ledger, smtp, monkeypatch) -> None:
    url, inbox = get_settings().database_url, smtp()
    with Session(get_engine(url), expire_on_commit=False) as db:
        owner, other = accounts.acting_as(db, OWNER), accounts.acting_as(db, OTHER)
        with pytest.raises(InvalidInput, match="Unknown report frequency 'hourly'"):
            reports.subscribe(db, owner, ledger["Growth"], "hourly")
        with pytest.raises(Forbidden, match="No such portfolio"):
            reports.subscribe(db, other, ledger["Growth"], "daily")
        with pytest.raises(Forbidden, match="No such portfolio"):
            reports.subscribe(db, owner, 999_999, "daily")
        with pytest.raises(InvalidInput, match="valid e-mail address"):
            reports.subscribe(db, owner, ledger["Growth"], "daily", "not an address")
        db.rollback()
        assert db.exec(select(ReportSubscription)).all() == []

        first = reports.subscribe(db, owner, ledger["Growth"], "daily")
        assert reports.subscribe(db, owner, ledger["Growth"], "daily") == first  # unchanged
        db.commit()
        with pytest.raises(Forbidden, match="No such report subscription"):
            reports.unsubscribe(db, other, first.id)
        portfolios.share(db, owner, ledger["Growth"], OTHER)
        with pytest.raises(InvalidInput, match="already receives the daily report"):
            reports.subscribe(db, other, ledger["Growth"], "daily", OWNER)
        db.rollback()
        assert reports.unsubscribe(db, owner, first.id).active is False
        again = reports.subscribe(db, owner, ledger["Growth"], "daily")  # re-activates the same row
        db.commit()
        assert (again.id, again.active) == (first.id, True)
        assert [r.id for r in reports.list_subscriptions(db, owner)] == [first.id]
        assert reports.list_subscriptions(db, other) == []
        actions = db.exec(select(AuditRecord.action).where(AuditRecord.entity == "report_subscription")).all()
        assert actions == ["report.subscribe", "report.unsubscribe", "report.subscribe"]

    # Made now (2026), after the periods due at NOW (2024) ended: nothing is due for them.
    assert reports.send_due(now=NOW).sent == [] and deliveries(url) == []

    # Tampered, expired and malformed links: 400 with the reason, nothing changed.
    client = TestClient(create_api())
    token = make_unsubscribe_token(first.id, get_settings().secret_key)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    expired = make_unsubscribe_token(first.id, get_settings().secret_key, datetime(2020, 1, 1, tzinfo=UTC))
    for bad, reason in ((tampered, "bad signature"), (expired, "expired"), ("v1.x", "malformed token")):
        for answer in (
            client.get(reports.UNSUBSCRIBE_PATH, params={"token": bad}),
            client.post(reports.UNSUBSCRIBE_PATH, params={"token": bad}),
        ):
            assert answer.status_code == 400 and reason in answer.text
    assert subscriptions(url)[first.id].active

    # No SMTP configured: a clear message and nothing claimed.
    monkeypatch.setenv("SMTP_HOST", "")
    get_settings.cache_clear()
    backdate(url)
    with pytest.raises(InvalidInput, match="SMTP_HOST is not set"):
        reports.send_due(now=NOW)
    assert deliveries(url) == [] and inbox.messages == []


def test_price_book_answers_as_the_store_and_reads_each_symbol_once(env) -> None:
    """``price_book.price_frame`` inside ``shared_prices`` against ``wide_frame`` itself, on random requests."""
    load_bundled(env)
    engine = get_engine(env)
    symbols = [*sorted(bundled_bars()["symbol"].unique()), "NOPE"]
    rng = np.random.default_rng(3)
    asked: set[tuple[str, str]] = set()
    with price_book.shared_prices(engine) as book:
        for _ in range(60):
            pick = list(rng.choice(symbols, size=int(rng.integers(0, 6)), replace=False))
            start, end = (
                None if rng.random() < 0.4 else date(1990, 1, 1) + timedelta(days=int(d))
                for d in rng.integers(0, 13_000, 2)
            )
            field = str(rng.choice(["close", "adj_close"]))
            mine = price_book.price_frame(engine, pick, start, end, field)
            pd.testing.assert_frame_equal(mine, wide_frame(engine, pick, start, end, field))
            asked |= {(field, s) for s in pick}
        assert book.reads == len(asked)

        # New bars change the store's version: the book starts again and serves them.
        bars = pd.DataFrame({"symbol": ["ZZZ"], "date": [date(2024, 12, 2)], "close": [10.0], "adj_close": [10.0]})
        bars["source"] = "test"
        listing = {"symbol": "ZZZ", "name": "ZZZ", "gics_sector": "", "gics_sub_industry": "", "asset_class": "equity"}
        load_bars(engine, pd.DataFrame([listing]), bars)
        fresh = price_book.price_frame(engine, ["SPY", "ZZZ"])
        pd.testing.assert_frame_equal(fresh, wide_frame(engine, ["SPY", "ZZZ"]))
        assert fresh.loc["2024-12-02", "ZZZ"] == 10.0 and book.reads == len(asked) + 2
    price_book.price_frame(engine, ["SPY"])
    assert book.reads == len(asked) + 2  # outside the block the store is read directly


# --- command line ------------------------------------------------------------------------------------------


def test_cli_send_one_now_and_bad_input(ledger, smtp) -> None:
    url, inbox = get_settings().database_url, smtp()
    done = run_cli(
        "reports", "send", "--user", OWNER, "--portfolio", "Two stocks", "--to", "Pat@Example.com", db_url=url
    )
    assert done.returncode == 0, done.stderr
    sent = json.loads(done.stdout)
    assert (sent["status"], sent["subscription_id"], sent["recipient"]) == ("sent", None, "pat@example.com")
    [message] = inbox.messages
    assert message["To"] == "pat@example.com" and message["Message-ID"] == sent["message_id"]
    assert message["Subject"].startswith("Report: Two stocks, ") and message["List-Unsubscribe"] is None
    assert {p.get_content_type() for p in message.iter_attachments()} == {"text/html", "application/pdf"}
    [row] = deliveries(url)
    assert (row.status, row.subscription_id, row.idempotency_key.startswith("once:")) == ("sent", None, True)

    for args, problem in (
        (("--user", "nobody@example.com", "--portfolio", "Two stocks", "--to", OWNER), "No active user"),
        (("--user", OWNER, "--portfolio", "Nope", "--to", OWNER), "No portfolio named 'Nope'"),
        (("--user", OTHER, "--portfolio", "Two stocks", "--to", OTHER), "No portfolio named 'Two stocks'"),
        (("--user", OWNER, "--portfolio", "Two stocks", "--to", "pat at example"), "valid e-mail address"),
    ):
        refused = run_cli("reports", "send", *args, db_url=url)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.startswith("error: ") and problem in refused.stderr and refused.stderr.count("\n") == 1
    assert len(deliveries(url)) == 1 and len(inbox.messages) == 1

    inbox.refuse_rcpt = "550 5.7.1 relaying denied"
    failed = run_cli("reports", "send", "--user", OWNER, "--portfolio", "Growth", "--to", OWNER, db_url=url)
    assert failed.returncode == 2 and "550 5.7.1 relaying denied" in failed.stderr
    assert [(r.status, r.error) for r in deliveries(url)][1] == (
        "failed",
        f"recipients refused: 550 {OWNER}: 550 5.7.1 relaying denied",
    )
    bad_time = run_cli("reports", "send-due", "--now", "yesterday", db_url=url)
    assert bad_time.returncode == 2 and "not an ISO 8601 timestamp" in bad_time.stderr


def test_cli_send_due_killed_mid_run_then_completes_exactly_once(ledger, smtp) -> None:
    """The SMTP server SIGKILLs the sender when the third message arrives, before accepting it."""
    url, inbox = get_settings().database_url, smtp()
    recipients = [f"reader{i}@example.com" for i in range(1, 6)]
    ids = {subscribe(url, OWNER, ledger["Two stocks"], "daily", r): r for r in recipients}
    backdate(url)
    command = [sys.executable, "-m", "investment_app", "reports", "send-due", "--now", NOW.isoformat()]
    killed = subprocess.Popen(command, env={**os.environ, "REFLEX_DB_URL": url}, cwd=ROOT, stdout=subprocess.PIPE)
    inbox.kill_pid, inbox.kill_at = killed.pid, 3
    assert killed.wait(120) == -signal.SIGKILL
    assert len(inbox.messages) == 2
    assert sorted((r.status, r.attempts) for r in deliveries(url)) == [("sending", 1), ("sent", 1), ("sent", 1)]

    # Restarted at once: the claimed report is still leased to the dead run, the others go out.
    again = run_cli("reports", "send-due", "--now", NOW.isoformat(), db_url=url)
    assert again.returncode == 0, again.stderr
    counts = json.loads(again.stdout)["counts"]
    assert counts == {"sent": 2, "skipped": 3, "failed": 0} and len(inbox.messages) == 4

    # After the lease (10 minutes) the dead run's report is taken back and sent, with its own Message-ID.
    later = run_cli("reports", "send-due", "--now", (NOW + timedelta(minutes=11)).isoformat(), db_url=url)
    assert later.returncode == 0, later.stderr
    [taken] = json.loads(later.stdout)["sent"]
    assert taken["attempts"] == 2
    assert taken["message_id"] == expected_message_id(taken["subscription_id"], "2024-12-01")
    assert sorted(m["To"] for m in inbox.messages) == recipients
    assert {(r.subscription_id, r.status) for r in deliveries(url)} == {(i, "sent") for i in ids}
