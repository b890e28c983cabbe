"""Alert rules on real bundled prices, replayed day by day through the monitor, against pandas on the CSVs;
rule validation; the alert life cycle (acknowledge, resolve) with who and when; ownership checks.

Ledger: 100,000 deposited on 2019-01-02; 200 AAPL and 300 JPM bought on 2019-01-03, held (no later flows), so
the portfolio's value is cash + Σ quantity × close and its drawdown can be worked out from the CSVs.
"""

from __future__ import annotations

import datetime as dt
import threading
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from investment_app.db import get_engine
from investment_app.models.alerts import Alert, AlertRule
from investment_app.models.audit import AuditRecord
from investment_app.services import accounts, alert_rules, alerts, monitor, portfolios
from investment_app.services.errors import Forbidden, InvalidInput
from tests.two_stocks import CASH, QUANTITY, bundled_closes, two_stocks

COVID = ("2020-02-18", "2020-04-30")


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    return bundled_closes()


@pytest.fixture
def setup(db_url):
    with two_stocks(db_url) as ready:
        yield ready


def _replay(url: str, days: pd.DatetimeIndex) -> dict[int, list[dt.date]]:
    """Check the rules on each day as if its prices had just arrived (at midnight UTC after the close)."""
    fired: dict[int, list[dt.date]] = {}
    for day in days:
        report = monitor.check(url, as_of=day.date(), now=datetime.combine(day.date(), dt.time(), UTC))
        for alert_id in report.fired:
            with Session(get_engine(url)) as db:
                alert = db.get(Alert, alert_id)
                fired.setdefault(alert.rule_id, []).append(alert.as_of)
    return fired


def test_symbol_and_portfolio_rules_fire_on_the_days_pandas_finds(setup, db_url, closes) -> None:
    db, viewer, pid = setup
    drop = alert_rules.create(
        db, viewer, kind="move", symbol="aapl", params={"pct": 0.05, "days": 1, "direction": "down"}, cooldown_minutes=0
    )
    deep = alert_rules.create(db, viewer, kind="drawdown", portfolio_id=pid, params={"pct": 0.15}, cooldown_minutes=0)
    weekly = alert_rules.create(
        db, viewer, kind="move", symbol="JPM", params={"pct": 0.04, "days": 1}, cooldown_minutes=7 * 24 * 60
    )
    db.commit()
    window = closes.loc[COVID[0] : COVID[1]].index
    fired = _replay(db_url, window)

    aapl = closes["AAPL"].pct_change()
    assert fired.get(drop.id) == [d.date() for d in window if aapl[d] <= -0.05] != []
    value = CASH + sum(QUANTITY[s] * closes[s].loc["2019-01-03":] for s in QUANTITY)
    drawdown = value / value.cummax() - 1
    assert fired.get(deep.id) == [d.date() for d in window if drawdown[d] <= -0.15] != []
    # ±4 % JPM moves, but at most one alert per 7 days: walk the days as the cooldown does.
    jpm, expected, last = closes["JPM"].pct_change(), [], None
    for d in window:
        if abs(jpm[d]) >= 0.04 and (last is None or (d - last).days >= 7):
            expected.append(d.date())
            last = d
    assert fired[weekly.id] == expected and len(expected) >= 3


def test_values_are_recorded_and_a_date_fires_once(setup, db_url, closes) -> None:
    db, viewer, pid = setup
    heavy = alert_rules.create(db, viewer, kind="concentration", portfolio_id=pid, params={"pct": 0.3}, severity="high")
    db.commit()
    day = dt.date(2024, 11, 29)
    first = monitor.check(db_url, as_of=day)
    assert monitor.check(db_url, as_of=day).fired == []  # the same date again adds nothing
    [alert] = [db.get(Alert, i) for i in first.fired]
    last = closes.loc[pd.Timestamp(day)]
    held = {s: QUANTITY[s] * last[s] for s in QUANTITY}
    total = CASH + sum(held.values())
    assert alert.rule_id == heavy.id and alert.severity == "high" and alert.state == "open"
    assert alert.value == pytest.approx(max(held.values()) / total, rel=1e-9)
    assert f"({max(held, key=held.get)})" in alert.title and alert.threshold == pytest.approx(0.3)


def test_rules_are_validated_and_nothing_partial_is_written(setup, db_url) -> None:
    db, viewer, pid = setup
    other = accounts.acting_as(db, "other@example.com")
    cases = [
        (dict(kind="move", symbol="NOPE", params={"pct": 0.05}), InvalidInput, "Unknown symbol 'NOPE'"),
        (dict(kind="drawdown", portfolio_id=pid, params={"pct": 1.5}), InvalidInput, "drawdown"),
        (dict(kind="rsi", symbol="AAPL", params={"lower": 80, "upper": 70}), InvalidInput, "rsi"),
        (dict(kind="price_cross", symbol="AAPL", params={"level": -3}), InvalidInput, "level"),
        (dict(kind="move", params={"pct": 0.05}), InvalidInput, "needs a symbol"),
        (dict(kind="teleport", symbol="AAPL", params={}), InvalidInput, "Unknown alert kind"),
        (dict(kind="move", symbol="AAPL", params={"pct": 0.05}, severity="urgent"), InvalidInput, "severity"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            alert_rules.create(db, viewer, **kwargs)
    with pytest.raises(Forbidden):
        alert_rules.create(db, other, kind="drawdown", portfolio_id=pid, params={"pct": 0.1})
    db.rollback()
    assert db.exec(select(AlertRule)).all() == []


def test_acknowledge_resolve_with_who_and_when_owner_only(setup, db_url) -> None:
    db, viewer, pid = setup
    alert_rules.create(db, viewer, kind="concentration", portfolio_id=pid, params={"pct": 0.1})
    db.commit()
    [alert_id] = monitor.check(db_url, as_of=dt.date(2024, 11, 29)).fired
    other = accounts.acting_as(db, "other@example.com")
    assert alerts.open_count(db, viewer.user_id) == 1
    assert alerts.list_alerts(db, other) == []
    with pytest.raises(Forbidden):
        alerts.acknowledge(db, other, alert_id)
    alerts.acknowledge(db, viewer, alert_id)
    db.commit()
    assert alerts.open_count(db, viewer.user_id) == 0
    with pytest.raises(InvalidInput, match="already acknowledged"):
        alerts.acknowledge(db, viewer, alert_id)
    alerts.resolve(db, viewer, alert_id)
    db.commit()
    [row] = alerts.list_alerts(db, viewer, alerts.Filters(state="resolved"))
    who = viewer.display_name
    assert row.handled.startswith(f"acknowledged by {who} 20") and f"; resolved by {who} 20" in row.handled
    assert alerts.list_alerts(db, viewer, alerts.Filters(state="open")) == []
    actions = db.exec(select(AuditRecord.action).where(AuditRecord.entity == "alert")).all()
    assert sorted(actions) == ["alert.acknowledge", "alert.resolve"]


def test_a_rule_on_a_portfolio_no_longer_readable_is_skipped(setup, db_url) -> None:
    """Even when the owner watches the same portfolio (its data is loaded anyway), the reader's rule is judged
    only while the portfolio is shared with them."""
    db, viewer, pid = setup
    other = accounts.acting_as(db, "other@example.com")
    mine = alert_rules.create(db, viewer, kind="concentration", portfolio_id=pid, params={"pct": 0.1})
    portfolios.share(db, viewer, pid, other.email)
    theirs = alert_rules.create(db, other, kind="concentration", portfolio_id=pid, params={"pct": 0.1})
    db.commit()
    portfolios.unshare(db, viewer, pid, other.user_id)
    db.commit()
    report = monitor.check(db_url, as_of=dt.date(2024, 11, 29))
    assert [db.get(Alert, i).rule_id for i in report.fired] == [mine.id]
    assert theirs.id in report.skipped and alerts.list_alerts(db, other) == []


def test_concurrent_checks_record_a_firing_once(setup, db_url) -> None:
    db, viewer, pid = setup
    rule = alert_rules.create(db, viewer, kind="concentration", portfolio_id=pid, params={"pct": 0.1})
    db.commit()
    barrier, outcomes = threading.Barrier(2), []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(len(monitor.check(db_url, as_of=dt.date(2024, 11, 29)).fired))
        except IntegrityError:
            outcomes.append("conflict")  # the other check recorded it first: this one wrote nothing

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(map(str, outcomes)) in (["0", "1"], ["1", "conflict"])
    assert len(db.exec(select(Alert).where(Alert.rule_id == rule.id)).all()) == 1


def test_rsi_and_crossover_rules_match_an_independent_computation(setup, db_url, closes) -> None:
    db, viewer, _ = setup
    rsi = alert_rules.create(db, viewer, kind="rsi", symbol="SPY", params={"zone": "below"}, cooldown_minutes=0)
    cross = alert_rules.create(
        db, viewer, kind="ma_cross", symbol="SPY", params={"fast": 20, "slow": 50}, cooldown_minutes=0
    )
    db.commit()
    window = closes.loc[COVID[0] : COVID[1]].index
    fired = _replay(db_url, window)
    spy = closes["SPY"]
    change = spy.diff()
    gain = change.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
    loss = (-change.clip(upper=0)).ewm(alpha=1 / 14, adjust=False).mean()
    wilder = 100 - 100 / (1 + gain / loss)  # long history: the seed no longer matters
    assert fired.get(rsi.id, []) == [d.date() for d in window if wilder[d] < 30] != []
    gap = np.sign(spy.rolling(20).mean() - spy.rolling(50).mean())
    assert fired.get(cross.id, []) == [d.date() for d in window if gap[d] != gap.shift()[d]] != []
