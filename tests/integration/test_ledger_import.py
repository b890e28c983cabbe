"""CSV import: validated first, written all or nothing, idempotent; sharing is read-only everywhere."""

import dataclasses
import json
from decimal import Decimal as D

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from investment_app.db import get_engine
from investment_app.ledger import csv_format
from investment_app.ledger.csv_format import TEMPLATE, ImportRejected
from investment_app.marketdata.bundled import load_bundled
from investment_app.models.transaction import Transaction
from investment_app.models.user import Role
from investment_app.services import accounts, portfolios, transactions
from investment_app.services.errors import Forbidden, InvalidInput
from tests.conftest import run_cli

HEADER = "date,type,symbol,quantity,price,fees,amount,account,note,external_id\n"
GOOD = HEADER + (
    "2020-01-02,deposit,,,,,10000,,,\n"
    "2020-01-03,buy,AAPL,10,300,1,,,,\n"
    "2020-03-02,buy,JPM,5,120.5,1,,Broker B,,\n"
    "2020-06-01,sell,AAPL,4,320,1,,,,\n"
    "2020-08-31,split,AAPL,4,,,,,,\n"
    "2020-09-15,dividend,JPM,,,,4.50,Broker B,,\n"
)


@pytest.fixture
def setup(db_url):
    """A migrated database with an analyst owning portfolio P, plus a second user."""
    load_bundled(db_url)
    with Session(get_engine(db_url), expire_on_commit=False) as db:
        owner = accounts.create_user(db, "owner@example.com", "correct horse 42", role=Role.ANALYST)
        accounts.create_user(db, "friend@example.com", "correct horse 42", role=Role.ANALYST)
        viewer = accounts.acting_as(db, owner.email)
        portfolio = portfolios.create(db, viewer, "P")
        db.commit()
        yield db, viewer, portfolio.id


def _count(db, portfolio_id) -> int:
    return db.exec(select(func.count()).select_from(Transaction).where(Transaction.portfolio_id == portfolio_id)).one()


def test_import_twice_adds_nothing_the_second_time(setup):
    db, viewer, pid = setup
    first = transactions.import_csv(db, viewer, pid, GOOD.encode())
    db.commit()
    second = transactions.import_csv(db, viewer, pid, GOOD.encode())
    assert (first.added, first.skipped, second.added, second.skipped) == (6, 0, 0, 6)
    assert _count(db, pid) == 6
    exported = transactions.export_transactions(db, viewer, pid)
    assert exported.splitlines()[0].startswith("date,type,symbol") and "Broker B" in exported
    realized = transactions.export_realized(db, viewer, pid).splitlines()
    assert realized[1].startswith("AAPL,4,2020-01-03,2020-06-01,1279.00,1200.40,78.60,short,2020")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (GOOD.replace(",", ";"), "separated by commas"),
        ("date,type,symbol,quantity\n2020-01-02,deposit,,1\n", "missing column(s): price, fees, amount"),
        (HEADER + "2020-13-45,deposit,,,,,100,,,\n", "row 2, column date: '2020-13-45' is not an ISO date"),
        (HEADER + "2020-01-02,buy,AAPL,ten,300,1,,,,\n", "row 2, column quantity: 'ten' is not a number"),
        (HEADER + "2020-01-02,buy,AAPL,-5,300,1,,,,\n", "row 2, column quantity: must not be negative"),
        (HEADER + "2020-01-02,gift,AAPL,5,300,1,,,,\n", "row 2, column type: unknown type 'gift'"),
        (
            HEADER + "2020-01-02,buy,AAPL,5,300,1,,,,\n2020-02-03,sell,AAPL,6,310,1,,,,\n",
            "row 3, column quantity: sell of 6 AAPL on 2020-02-03 exceeds the 5 held",
        ),
        (HEADER, "has no transactions"),
    ],
)
def test_bad_files_name_row_and_column_and_write_nothing(setup, content, expected):
    db, viewer, pid = setup
    with pytest.raises(ImportRejected) as rejected:
        transactions.import_csv(db, viewer, pid, content.encode())
    db.rollback()
    assert expected in str(rejected.value)
    assert _count(db, pid) == 0


def test_a_50_mb_file_is_refused_before_parsing(setup):
    db, viewer, pid = setup
    with pytest.raises(ImportRejected, match=r"is 50\.0 MB; the limit is 10 MB"):
        transactions.import_csv(db, viewer, pid, GOOD.encode() + b"x" * (50 * 2**20 - len(GOOD)))


def test_trade_before_the_first_price_is_accepted_with_a_warning(setup):
    db, viewer, pid = setup
    report = transactions.import_csv(
        db, viewer, pid, (HEADER + "2014-01-02,buy,META,3,55,0,,,,\n2014-01-02,buy,NEWCO,3,10,0,,,,\n").encode()
    )
    assert report.added == 2
    assert report.warnings == [
        "row 3: NEWCO has no price on or before 2014-01-02; it is valued at cost until prices exist",
    ]


def test_template_imports_cleanly(setup):
    db, viewer, pid = setup
    template = TEMPLATE.replace("NVDA", "AAPL").replace("split,AAPL,,,,,,", "split,AAPL,,,,,4,")
    assert transactions.import_csv(db, viewer, pid, template.encode()).added == 5


def test_shared_portfolio_is_read_only_for_the_grantee(setup, db_url):
    db, viewer, pid = setup
    transactions.import_csv(db, viewer, pid, GOOD.encode())
    portfolios.share(db, viewer, pid, "friend@example.com")
    db.commit()
    friend = accounts.acting_as(db, "friend@example.com")
    assert [p.name for p in portfolios.list_portfolios(db, friend)] == ["P"]
    assert "AAPL" in transactions.export_transactions(db, friend, pid)
    for change in (
        lambda: transactions.import_csv(db, friend, pid, GOOD.encode()),
        lambda: portfolios.update(db, friend, pid, "Mine", "SPY", "fifo"),
        lambda: portfolios.delete(db, friend, pid, "P"),
        lambda: transactions.delete(db, friend, pid, 1),
    ):
        with pytest.raises(Forbidden, match="read-only"):
            change()
    stranger = accounts.create_user(db, "stranger@example.com", "correct horse 42")
    with pytest.raises(Forbidden, match="No such portfolio"):
        transactions.export_transactions(db, accounts.acting_as(db, stranger.email), pid)


def test_cli_import_and_performance_respect_sharing(setup, db_url, tmp_path):
    db, viewer, pid = setup
    portfolios.share(db, viewer, pid, "friend@example.com")
    db.commit()
    csv_file = tmp_path / "tx.csv"
    csv_file.write_text(GOOD)
    refused = run_cli(
        "transactions", "import", "--user", "friend@example.com", "--portfolio", "P", str(csv_file), db_url=db_url
    )
    assert refused.returncode == 2 and "read-only" in refused.stderr
    done = run_cli(
        "transactions", "import", "--user", "owner@example.com", "--portfolio", "P", str(csv_file), db_url=db_url
    )
    assert done.returncode == 0 and "imported 6" in done.stdout
    report = run_cli(
        "performance", "--user", "friend@example.com", "--portfolio", "P", "--end", "2020-12-31", db_url=db_url
    )
    assert report.returncode == 0, report.stderr
    payload = json.loads(report.stdout)
    for key in ("twr", "mwr", "simple_return", "start_value", "end_value", "net_flows", "benchmark_twr"):
        assert key in payload
    assert payload["net_flows"] == 10000 and payload["end"] == "2020-12-31"


def test_specific_identification_picks_and_edits_keep_the_ledger_valid(setup):
    db, viewer, pid = setup
    lots_csv = HEADER + (
        "2020-01-02,buy,AAPL,10,100,0,,,,\n2020-02-03,buy,AAPL,10,150,0,,,,\n2020-03-02,sell,AAPL,5,200,0,,,,\n"
    )
    transactions.import_csv(db, viewer, pid, lots_csv.encode())
    db.commit()
    sale = db.exec(select(Transaction).where(Transaction.type == "sell")).one()
    choices = transactions.lots_for_sale(db, viewer, pid, sale.id)
    assert [(c.quantity, c.unit_cost) for c in choices] == [("10", "100.0000"), ("10", "150.0000")]
    with pytest.raises(InvalidInput, match="do not add up"):
        transactions.pick_lots(db, viewer, pid, sale.id, {choices[1].lot_id: D(4)})
    transactions.pick_lots(db, viewer, pid, sale.id, {choices[1].lot_id: D(5)})
    db.commit()
    realized = transactions.export_realized(db, viewer, pid).splitlines()[1]
    assert realized.startswith("AAPL,5,2020-02-03,2020-03-02,1000.00,750.00,250.00,short")
    bigger = csv_format.validate(
        {
            "date": "2020-03-02",
            "type": "sell",
            "symbol": "AAPL",
            "quantity": "25",
            "price": "200",
            "fees": "",
            "amount": "",
            "account": "Main",
        }
    )
    with pytest.raises(InvalidInput, match="exceeds the 20 held"):
        transactions.edit(db, viewer, pid, sale.id, bigger)
    transactions.edit(db, viewer, pid, sale.id, dataclasses.replace(bigger, quantity=D(5), price=D(210)))
    db.commit()
    assert db.get(Transaction, sale.id).price == D(210)
