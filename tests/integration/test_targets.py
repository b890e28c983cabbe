"""Target allocations typed in by hand and their drift, on the bundled real prices (tests/two_stocks.py: 200 AAPL and
300 JPM bought on 2019-01-03 with 63,000 left in cash, held to the bundled data's last day).

References: the weights are worked out from the bundled CSV closes (w_i = q_i · close_i / (Σ q · close + cash)),
the drift by hand (d = w − t, total ½ Σ |d|), the sectors from sample_data/sectors_gics.csv read with pandas.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlmodel import Session, col, select

from investment_app.db import get_engine
from investment_app.marketdata.bundled import SECTORS_CSV
from investment_app.models.audit import AuditRecord
from investment_app.models.optimization import TargetAllocation
from investment_app.models.user import Role
from investment_app.services import accounts, portfolios
from investment_app.services.errors import Forbidden, InvalidInput
from investment_app.services.targets import TargetInput, clear_target, drift_report, resolve, set_target
from tests.two_stocks import CASH, OTHER, PASSWORD, QUANTITY, bundled_closes, two_stocks

READER = "reader@example.com"


@pytest.fixture(scope="module")
def last_closes() -> pd.Series:
    closes = bundled_closes()
    return closes.iloc[-1]


@pytest.fixture(scope="module")
def sector_of() -> dict[str, str]:
    table = pd.read_csv(SECTORS_CSV, dtype=str, keep_default_na=False)
    return dict(zip(table["ticker"], table["gics_sector"], strict=True))


@pytest.fixture
def setup(db_url):
    with two_stocks(db_url) as (db, owner, pid):
        accounts.create_user(db, READER, PASSWORD, role=Role.VIEWER)
        portfolios.share(db, owner, pid, READER)
        db.commit()
        yield db, owner, pid


def hand_weights(last_closes: pd.Series) -> tuple[dict[str, float], float]:
    """w_i = q_i · close_i / V and cash / V, V = Σ q · close + cash, on the last bundled day."""
    values = {s: QUANTITY[s] * float(last_closes[s]) for s in QUANTITY}
    total = sum(values.values()) + CASH
    return {s: v / total for s, v in values.items()}, CASH / total


def _audits(url: str) -> list[AuditRecord]:
    with Session(get_engine(url)) as fresh:
        stmt = select(AuditRecord).where(col(AuditRecord.action).startswith("target.")).order_by(AuditRecord.id)
        return list(fresh.exec(stmt))


def test_drift_rows_and_total_match_the_csv_closes(setup, last_closes) -> None:
    db, owner, pid = setup
    assert drift_report(db, owner, pid) is None  # no target yet
    set_target(db, owner, pid, TargetInput("symbols", {"AAPL": 0.4, "JPM": 0.3, "amd": 0.1}, 0.2))
    db.commit()
    report = drift_report(db, owner, pid)

    w, cash = hand_weights(last_closes)
    target = {"AAPL": 0.4, "JPM": 0.3, "AMD": 0.1, "CASH": 0.2}
    weight = {**w, "AMD": 0.0, "CASH": cash}  # AMD is in the target, not held
    expected = {s: weight[s] - target[s] for s in target}
    assert report.as_of == last_closes.name.date()
    assert (report.basis, report.target_source, report.cash_reserve) == ("symbols", "manual", 0.2)
    assert [r.symbol for r in report.rows] == sorted(expected, key=lambda s: -abs(expected[s]))
    for row in report.rows:
        assert (row.weight, row.target, row.drift) == pytest.approx(
            (weight[row.symbol], target[row.symbol], expected[row.symbol]), abs=1e-12
        )
    assert report.total == pytest.approx(0.5 * sum(abs(d) for d in expected.values()), abs=1e-12)
    # 200 × 237.33 + 300 × 249.72 = 122,382 in stocks, 63,000 cash: AAPL 25.6 %, JPM 40.4 %, cash 34.0 %.
    assert report.total == pytest.approx(0.5 * (0.144 + 0.104 + 0.1 + 0.14), abs=1e-3)
    assert report.drift.by_symbol.to_dict() == pytest.approx(expected, abs=1e-12)


def test_a_sector_target_goes_to_the_held_symbols_of_each_sector(setup, last_closes, sector_of) -> None:
    db, owner, pid = setup
    tech, banks = sector_of["AAPL"], sector_of["JPM"]
    assert (tech, banks) == ("Information Technology", "Financials")
    set_target(db, owner, pid, TargetInput("sectors", {tech.upper(): 0.5, banks.lower(): 0.4}, 0.1))
    db.commit()
    stored = db.get(TargetAllocation, pid)
    assert (stored.basis, stored.weights) == ("sectors", {tech: 0.5, banks: 0.4})  # spelled as GICS spells them

    report = drift_report(db, owner, pid)
    w, cash = hand_weights(last_closes)
    rows = {r.symbol: r for r in report.rows}
    assert {s: r.target for s, r in rows.items()} == pytest.approx({"AAPL": 0.5, "JPM": 0.4, "CASH": 0.1})
    assert rows["AAPL"].drift == pytest.approx(w["AAPL"] - 0.5, abs=1e-12)
    assert rows["CASH"].drift == pytest.approx(cash - 0.1, abs=1e-12)
    assert report.basis == "sectors"


def test_resolve_spreads_a_sector_in_proportion_to_the_holdings(setup, sector_of) -> None:
    db, _, pid = setup
    assert sector_of["AMD"] == "Information Technology" and sector_of["JPM"] == "Financials"
    target = TargetAllocation(
        portfolio_id=pid, basis="sectors", weights={"Information Technology": 0.6, "Financials": 0.3}, cash_reserve=0.1
    )
    # AAPL 3,000 and AMD 1,000 share IT's 60 % as 3:1; SPY has no GICS sector, so no target.
    resolved = resolve(db, target, {"AAPL": 3000.0, "AMD": 1000.0, "JPM": 500.0, "SPY": 500.0})
    assert resolved.weights == pytest.approx({"AAPL": 0.45, "AMD": 0.15, "JPM": 0.3, "SPY": 0.0})
    assert resolved.cash == 0.1

    target.weights = {"Information Technology": 0.6, "Health Care": 0.3}
    with pytest.raises(InvalidInput, match="No holding in sector Health Care: add a symbol of that sector"):
        resolve(db, target, {"AAPL": 3000.0, "JPM": 500.0})
    symbols = TargetAllocation(portfolio_id=pid, weights={"AAPL": 0.7, "JPM": 0.3})
    assert resolve(db, symbols, {"JPM": 1.0}).weights == {"AAPL": 0.7, "JPM": 0.3}  # a symbols target as it is


BAD = [
    (TargetInput("symbols", {"AAPL": 0.5, "JPM": 0.4}, 0.05), r"add up to 95% with the 5% cash reserve"),
    (TargetInput("symbols", {"AAPL": 0.5, "JPM": 0.5}, 0.1), r"add up to 110% with the 10% cash reserve"),
    (TargetInput("symbols", {"AAPL": 0.5, "ZZZZ": 0.5}), r"Unknown symbol\(s\) in the target: ZZZZ"),
    (TargetInput("sectors", {"Financials": 0.5, "Crypto": 0.5}), r"Unknown GICS sector\(s\) in the target: Crypto"),
    (TargetInput("symbols", {"AAPL": 1.2, "JPM": -0.2}), r"Negative target weight for JPM .*shorts are not allowed"),
    (TargetInput("sectors", {"Financials": 1.1, "Energy": -0.1}), r"Negative target weight for Energy"),
    (TargetInput("symbols", {}, 1.0), r"The target is empty"),
    (TargetInput("symbols", {"AAPL": 0.5, "aapl ": 0.5}), r"AAPL appear\(s\) more than once"),
    (TargetInput("symbols", {"AAPL": "lots"}), r"The weight of AAPL is not a number"),
    (TargetInput("symbols", {"AAPL": 0.5}, 1.5), r"cash reserve must lie between 0% and 100% \(got 150%\)"),
    (TargetInput("tickers", {"AAPL": 1.0}), r"Unknown target basis 'tickers'"),
]


@pytest.mark.parametrize(("inp", "message"), BAD)
def test_bad_input_names_the_problem_and_writes_nothing(setup, db_url, inp, message) -> None:
    db, owner, pid = setup
    with pytest.raises(InvalidInput, match=message):
        set_target(db, owner, pid, inp)
    db.commit()  # whatever the call left in the session would be written now
    with Session(get_engine(db_url)) as fresh:
        assert fresh.get(TargetAllocation, pid) is None
    assert _audits(db_url) == []


def test_set_replace_and_clear_are_audited_and_a_bad_input_keeps_the_old_target(setup, db_url) -> None:
    db, owner, pid = setup
    set_target(db, owner, pid, TargetInput("symbols", {"aapl": 0.6, "JPM": 0.4}))
    db.rollback()  # the target and its audit record share one transaction
    assert db.get(TargetAllocation, pid) is None and _audits(db_url) == []

    first = set_target(db, owner, pid, TargetInput("symbols", {"aapl": 0.6, "JPM": 0.4}))
    db.commit()
    assert (first.weights, first.source, first.run_id, first.updated_by) == (
        {"AAPL": 0.6, "JPM": 0.4},
        "manual",
        None,
        owner.user_id,
    )
    with pytest.raises(InvalidInput):
        set_target(db, owner, pid, TargetInput("symbols", {"AAPL": 0.6}))
    db.commit()
    with Session(get_engine(db_url)) as fresh:
        assert fresh.get(TargetAllocation, pid).weights == {"AAPL": 0.6, "JPM": 0.4}

    set_target(db, owner, pid, TargetInput("sectors", {"Financials": 0.9}, 0.1))
    clear_target(db, owner, pid)
    db.commit()
    clear_target(db, owner, pid)  # nothing left to clear: no record
    db.commit()
    records = _audits(db_url)
    assert [r.action for r in records] == ["target.set", "target.set", "target.clear"]
    assert records[0].before is None
    assert records[0].after == {
        "basis": "symbols",
        "weights": {"AAPL": 0.6, "JPM": 0.4},
        "cash_reserve": 0.0,
        "source": "manual",
        "run": None,
    }
    assert records[1].before == records[0].after
    assert records[1].after["basis"] == "sectors" and records[1].after["weights"] == {"Financials": 0.9}
    assert records[2].before == records[1].after and records[2].after is None
    assert {r.actor_email for r in records} == {owner.email}
    assert drift_report(db, owner, pid) is None


def test_a_reader_sees_the_drift_but_cannot_set_or_clear_the_target(setup, db_url) -> None:
    db, owner, pid = setup
    set_target(db, owner, pid, TargetInput("symbols", {"AAPL": 0.5, "JPM": 0.5}))
    db.commit()
    reader, other = accounts.acting_as(db, READER), accounts.acting_as(db, OTHER)
    assert drift_report(db, reader, pid) == drift_report(db, owner, pid)
    for call in (
        lambda who: set_target(db, who, pid, TargetInput("symbols", {"AAPL": 1.0})),
        lambda who: clear_target(db, who, pid),
    ):
        with pytest.raises(Forbidden):
            call(reader)
        with pytest.raises(Forbidden, match="No such portfolio"):
            call(other)  # not shared with them
    with pytest.raises(Forbidden, match="No such portfolio"):
        drift_report(db, other, pid)
    db.commit()
    assert db.get(TargetAllocation, pid).weights == {"AAPL": 0.5, "JPM": 0.5}
    assert len(_audits(db_url)) == 1
