"""`prices refresh` and `alerts check` from the command line, on a store cut short of the bundled data."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, select

from investment_app.db import get_engine, session_scope
from investment_app.marketdata import series
from investment_app.marketdata.bundled import bundled_bars, load_bundled
from investment_app.models.market import DailyBar
from investment_app.models.user import Role
from investment_app.services import accounts, alert_rules
from tests.conftest import run_cli


def test_refresh_brings_the_missing_bundled_bars_then_the_rules_are_checked(db_url: str) -> None:
    load_bundled(db_url)
    bars = bundled_bars()
    last = bars["date"].max()
    with get_engine(db_url).begin() as conn:
        conn.execute(delete(DailyBar).where(DailyBar.date == last))
        series.rebuild(conn, bars["symbol"].unique())
    with session_scope(db_url) as db:
        accounts.create_user(db, "owner@example.com", "correct horse 42", role=Role.ANALYST)
        owner = accounts.acting_as(db, "owner@example.com")
        alert_rules.create(db, owner, kind="price_cross", symbol="SPY", params={"level": 1.0, "direction": "above"})

    refreshed = run_cli("prices", "refresh", db_url=db_url)
    assert refreshed.returncode == 0, refreshed.stderr
    report = json.loads(refreshed.stdout)
    expected = bars[bars["date"] == last]
    assert report["total_added"] == len(expected) and report["new_dates"] == [last.isoformat()]
    assert report["rejected"] == []
    with get_engine(db_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(DailyBar)).scalar_one() == len(bars)

    checked = run_cli("alerts", "check", db_url=db_url)
    assert checked.returncode == 0, checked.stderr
    result = json.loads(checked.stdout)
    assert result["as_of"] == last.isoformat() and result["rules"] == 1
    assert result["fired"] == [] and result["emails_sent"] == 0  # SPY has been above 1 for decades: no cross
