"""Transaction use cases: import, add, delete, list and export; every change keeps the ledger valid.

A change is validated against the whole resulting ledger (no sale larger than the position held
at its date), then written in the caller's transaction together with its audit record, or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from investment_app.auth.viewer import Viewer
from investment_app.ledger import csv_format
from investment_app.ledger.csv_format import ImportRejected, RowError, TxInput
from investment_app.ledger.entries import Entry
from investment_app.ledger.lots import LedgerError, build_lots, plain
from investment_app.models.market import DailyBar, Symbol
from investment_app.models.portfolio import Account, Portfolio
from investment_app.models.transaction import LotPick, Transaction, TxSource, TxType
from investment_app.services import audit, portfolios
from investment_app.services.errors import InvalidInput

BLANK_WHEN_ZERO = ("quantity", "price", "fees", "amount")
STAGED = 10**12  # ids of rows not stored yet: after every stored id, in file order
EXPORT_COLUMNS = (*csv_format.COLUMNS, "id", "source")
REALIZED_COLUMNS = (
    "symbol",
    "quantity",
    "opened",
    "closed",
    "proceeds",
    "cost",
    "gain",
    "term",
    "tax_year",
    "sell_id",
    "lot_id",
)


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    added: int
    skipped: int
    warnings: list[str]


def to_entry(tx: Transaction) -> Entry:
    """A stored transaction as the ledger engine sees it."""
    return Entry(
        tx.id, tx.trade_date, tx.type, tx.symbol, tx.quantity, tx.price, tx.fees, tx.amount, tx.ratio, tx.account_id
    )


ENTRY_COLUMNS = (
    Transaction.id,
    Transaction.trade_date,
    Transaction.type,
    Transaction.symbol,
    Transaction.quantity,
    Transaction.price,
    Transaction.fees,
    Transaction.amount,
    Transaction.ratio,
    Transaction.account_id,
)


def load_entries(db: Session, portfolio_id: int) -> list[Entry]:
    """The portfolio's ledger entries in ledger order, read as plain rows (no ORM objects: fast)."""
    stmt = (
        select(*ENTRY_COLUMNS)
        .where(Transaction.portfolio_id == portfolio_id)
        .order_by(col(Transaction.trade_date), col(Transaction.id))
    )
    return [Entry(*row) for row in db.connection().execute(stmt).all()]


def load_picks(db: Session, portfolio_id: int) -> dict[int, list[tuple[int, Decimal]]]:
    """The lots picked for the portfolio's sales (specific identification), by sale id."""
    picks: dict[int, list[tuple[int, Decimal]]] = {}
    stmt = (
        select(LotPick)
        .join(Transaction, col(Transaction.id) == LotPick.sell_id)
        .where(Transaction.portfolio_id == portfolio_id)
    )
    for pick in db.exec(stmt).all():
        picks.setdefault(pick.sell_id, []).append((pick.lot_id, pick.quantity))
    return picks


def load_ledger(db: Session, portfolio_id: int) -> tuple[list[Transaction], dict[int, list[tuple[int, Decimal]]]]:
    """All transactions of a portfolio in ledger order, and the lot picks of its sales."""
    rows = db.exec(
        select(Transaction)
        .where(Transaction.portfolio_id == portfolio_id)
        .order_by(col(Transaction.trade_date), col(Transaction.id))
    ).all()
    picks: dict[int, list[tuple[int, Decimal]]] = {}
    stmt = (
        select(LotPick)
        .join(Transaction, col(Transaction.id) == LotPick.sell_id)
        .where(Transaction.portfolio_id == portfolio_id)
    )
    for pick in db.exec(stmt).all():
        picks.setdefault(pick.sell_id, []).append((pick.lot_id, pick.quantity))
    return list(rows), picks


def _check_ledger(portfolio: Portfolio, entries: Sequence[Entry], picks, row_of: dict[int, int]) -> None:
    try:
        build_lots(entries, portfolio.cost_basis_method, picks)
    except LedgerError as exc:
        row = row_of.get(exc.entry_id, 0)
        raise ImportRejected([RowError(row, "quantity", str(exc))]) from None


def _price_warnings(db: Session, inputs: Sequence[TxInput]) -> list[str]:
    """Trades dated before the first price of their symbol: accepted, valued at cost until prices exist."""
    symbols = {t.symbol for t in inputs if t.symbol}
    first = dict(
        db.exec(
            select(DailyBar.symbol, func.min(DailyBar.date))
            .where(col(DailyBar.symbol).in_(symbols))
            .group_by(DailyBar.symbol)
        ).all()
    )
    early = {}
    for t in inputs:
        if t.symbol and t.quantity > 0 and (t.symbol not in first or t.date < first[t.symbol]):
            early.setdefault(t.symbol, t)
    return [
        f"row {t.row}: {s} has no price on or before {t.date}; it is valued at cost until prices exist"
        for s, t in sorted(early.items())
    ]


def _new_symbols(db: Session, inputs: Sequence[TxInput]) -> list[str]:
    symbols = {t.symbol for t in inputs if t.symbol}
    known = set(db.exec(select(Symbol.symbol).where(col(Symbol.symbol).in_(symbols))).all())
    return sorted(symbols - known)


def _stored_ids(db: Session, portfolio_id: int, ids: set[str]) -> set[str]:
    stmt = select(Transaction.external_id).where(
        Transaction.portfolio_id == portfolio_id, col(Transaction.external_id).in_(ids)
    )
    return set(db.exec(stmt).all())


def import_rows(
    db: Session, viewer: Viewer, portfolio_id: int, inputs: Sequence[TxInput], source: TxSource = TxSource.IMPORT
) -> ImportReport:
    """Add the rows not stored yet (by external id); all or nothing."""
    portfolio = portfolios.writable(db, viewer, portfolio_id)
    stored = _stored_ids(db, portfolio_id, {t.external_id for t in inputs if t.external_id})
    fresh = [t for t in inputs if not t.external_id or t.external_id not in stored]
    existing, picks = load_ledger(db, portfolio_id)
    staged = [
        Entry(STAGED + t.row, t.date, t.type, t.symbol, t.quantity, t.price, t.fees, t.amount, t.ratio) for t in fresh
    ]
    _check_ledger(portfolio, [*map(to_entry, existing), *staged], picks, {STAGED + t.row: t.row for t in fresh})
    warnings = _price_warnings(db, fresh)
    for symbol in _new_symbols(db, fresh):
        db.add(Symbol(symbol=symbol, name=symbol, asset_class="equity"))
    accounts = portfolios.account_ids(db, portfolio, {t.account for t in fresh})
    db.add_all(
        Transaction(
            portfolio_id=portfolio_id,
            account_id=accounts[t.account],
            type=t.type,
            trade_date=t.date,
            symbol=t.symbol,
            quantity=t.quantity,
            price=t.price,
            fees=t.fees,
            amount=t.amount,
            ratio=t.ratio,
            note=t.note,
            source=source,
            external_id=t.external_id,
        )
        for t in fresh
    )
    if fresh:
        _new_version(db, portfolio)
        audit.record(
            db,
            viewer,
            "transactions.import",
            "portfolio",
            portfolio_id,
            after={"added": len(fresh), "skipped": len(inputs) - len(fresh)},
        )
    return ImportReport(len(fresh), len(inputs) - len(fresh), warnings)


def import_csv(db: Session, viewer: Viewer, portfolio_id: int, data: bytes) -> ImportReport:
    """Parse and validate a CSV (see ledger/csv_format.py), then import it all or nothing."""
    return import_rows(db, viewer, portfolio_id, csv_format.parse(data))


def add(db: Session, viewer: Viewer, portfolio_id: int, tx: TxInput) -> ImportReport:
    """Add one transaction entered by hand (validated against the whole ledger)."""
    return import_rows(db, viewer, portfolio_id, [replace(tx, external_id="")], TxSource.MANUAL)


def edit(db: Session, viewer: Viewer, portfolio_id: int, transaction_id: int, tx: TxInput) -> None:
    """Change one transaction, unless the ledger would become invalid (e.g. a later sale too large)."""
    portfolio = portfolios.writable(db, viewer, portfolio_id)
    row = _owned(db, portfolio_id, transaction_id)
    existing, picks = load_ledger(db, portfolio_id)
    changed = Entry(transaction_id, tx.date, tx.type, tx.symbol, tx.quantity, tx.price, tx.fees, tx.amount, tx.ratio)
    entries = [changed if t.id == transaction_id else to_entry(t) for t in existing]
    try:
        build_lots(entries, portfolio.cost_basis_method, picks)
    except LedgerError as exc:
        raise InvalidInput(f"That change would break the ledger: {exc}") from None
    before = describe(row)
    account = portfolios.account_ids(db, portfolio, {tx.account})[tx.account]
    for name in ("type", "symbol", "quantity", "price", "fees", "amount", "ratio", "note"):
        setattr(row, name, getattr(tx, name))
    row.trade_date, row.account_id = tx.date, account
    db.add(row)
    _new_version(db, portfolio)
    audit.record(db, viewer, "transaction.edit", "transaction", transaction_id, before=before, after=describe(row))


@dataclass(frozen=True)
class LotChoice:
    """An open lot a sale may relieve, with the quantity currently picked from it."""

    lot_id: int
    opened: str
    quantity: str
    unit_cost: str
    picked: str


def lots_for_sale(db: Session, viewer: Viewer, portfolio_id: int, sell_id: int) -> list[LotChoice]:
    """The lots open just before a sale, for choosing them by specific identification."""
    portfolio = portfolios.readable(db, viewer, portfolio_id)
    sale = _owned(db, portfolio_id, sell_id)
    if sale.type is not TxType.SELL:
        raise InvalidInput(f"Transaction #{sell_id} is not a sale.")
    entries, picks = load_entries(db, portfolio_id), load_picks(db, portfolio_id)
    before = [e for e in entries if (e.date, e.id) < (sale.trade_date, sale.id)]
    book = build_lots(before, portfolio.cost_basis_method, {k: v for k, v in picks.items() if k != sell_id})
    chosen = dict(picks.get(sell_id, []))
    return [
        LotChoice(
            lot.lot_id,
            lot.opened.isoformat(),
            plain(lot.quantity),
            f"{lot.unit_cost:.4f}",
            plain(chosen[lot.lot_id]) if lot.lot_id in chosen else "",
        )
        for lot in book.open_lots.get(sale.symbol or "", [])
    ]


def pick_lots(db: Session, viewer: Viewer, portfolio_id: int, sell_id: int, picks: dict[int, Decimal]) -> None:
    """Record which lots a sale relieves (specific identification); they must add up to the sale."""
    portfolio = portfolios.writable(db, viewer, portfolio_id)
    chosen = [(lot_id, qty) for lot_id, qty in picks.items() if qty > 0]
    entries, existing = load_entries(db, portfolio_id), load_picks(db, portfolio_id)
    try:
        build_lots(entries, portfolio.cost_basis_method, {**existing, sell_id: chosen})
    except LedgerError as exc:
        raise InvalidInput(str(exc)) from None
    for old in db.exec(select(LotPick).where(LotPick.sell_id == sell_id)).all():
        db.delete(old)
    db.add_all(LotPick(sell_id=sell_id, lot_id=lot_id, quantity=qty) for lot_id, qty in chosen)
    _new_version(db, portfolio)
    audit.record(
        db,
        viewer,
        "transaction.lots",
        "transaction",
        sell_id,
        before={str(k): plain(v) for k, v in existing.get(sell_id, [])},
        after={str(k): plain(v) for k, v in chosen},
    )


def _owned(db: Session, portfolio_id: int, transaction_id: int) -> Transaction:
    tx = db.get(Transaction, transaction_id)
    if tx is None or tx.portfolio_id != portfolio_id:
        raise InvalidInput(f"No transaction #{transaction_id} in this portfolio.")
    return tx


def _new_version(db: Session, portfolio: Portfolio) -> None:
    portfolio.ledger_version += 1
    db.add(portfolio)


def delete(db: Session, viewer: Viewer, portfolio_id: int, transaction_id: int) -> None:
    """Delete one transaction, unless that would leave a sale larger than its position."""
    portfolio = portfolios.writable(db, viewer, portfolio_id)
    tx = _owned(db, portfolio_id, transaction_id)
    existing, picks = load_ledger(db, portfolio_id)
    try:
        build_lots(
            [to_entry(t) for t in existing if t.id != transaction_id],
            portfolio.cost_basis_method,
            {k: v for k, v in picks.items() if k != transaction_id},
        )
    except LedgerError as exc:
        raise InvalidInput(f"Deleting it would break a later transaction: {exc}") from None
    audit.record(db, viewer, "transaction.delete", "transaction", transaction_id, before=describe(tx))
    db.delete(tx)
    _new_version(db, portfolio)


def describe(tx: Transaction) -> dict[str, str]:
    """A transaction as plain text fields (for the audit log and the exports)."""
    return {
        "date": tx.trade_date.isoformat(),
        "type": tx.type.value,
        "symbol": tx.symbol or "",
        "quantity": plain(tx.quantity),
        "price": plain(tx.price),
        "fees": plain(tx.fees),
        "amount": plain(tx.amount),
        "ratio": plain(tx.ratio) if tx.ratio is not None else "",
        "note": tx.note,
        "external_id": tx.external_id or "",
    }


def list_rows(
    db: Session,
    viewer: Viewer,
    portfolio_id: int,
    kind: str = "",
    symbol: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = 500,
) -> list[dict[str, str]]:
    """The newest transactions first, filtered by type, symbol and date range, as display fields."""
    portfolios.readable(db, viewer, portfolio_id)
    stmt = (
        select(Transaction, Account.name)
        .join(Account, col(Account.id) == Transaction.account_id)
        .where(Transaction.portfolio_id == portfolio_id)
    )
    if kind:
        stmt = stmt.where(Transaction.type == kind)
    if symbol:
        stmt = stmt.where(Transaction.symbol == symbol.strip().upper())
    if start:
        stmt = stmt.where(col(Transaction.trade_date) >= start)
    if end:
        stmt = stmt.where(col(Transaction.trade_date) <= end)
    stmt = stmt.order_by(col(Transaction.trade_date).desc(), col(Transaction.id).desc()).limit(limit)
    return [
        {
            **{k: "" if k in BLANK_WHEN_ZERO and v == "0" else v for k, v in describe(t).items()},
            "id": str(t.id),
            "account": name,
            "source": t.source.value,
        }
        for t, name in db.exec(stmt).all()
    ]


def export_transactions(db: Session, viewer: Viewer, portfolio_id: int) -> str:
    """Every transaction as CSV in the import format (plus id and source)."""
    portfolios.readable(db, viewer, portfolio_id)
    rows, _ = load_ledger(db, portfolio_id)
    names = dict(db.exec(select(Account.id, Account.name).where(Account.portfolio_id == portfolio_id)).all())
    return csv_format.to_csv(
        [{**describe(t), "account": names.get(t.account_id, ""), "id": t.id, "source": t.source.value} for t in rows],
        EXPORT_COLUMNS,
    )


def export_realized(db: Session, viewer: Viewer, portfolio_id: int) -> str:
    """Realized gains per relieved lot as CSV, with holding period and tax year."""
    portfolio = portfolios.readable(db, viewer, portfolio_id)
    rows, picks = load_ledger(db, portfolio_id)
    book = build_lots(map(to_entry, rows), portfolio.cost_basis_method, picks)
    return csv_format.to_csv(
        [
            {
                "symbol": r.symbol,
                "quantity": plain(r.quantity),
                "opened": r.opened,
                "closed": r.closed,
                "proceeds": f"{r.proceeds:.2f}",
                "cost": f"{r.cost:.2f}",
                "gain": f"{r.gain:.2f}",
                "term": "long" if r.long_term else "short",
                "tax_year": r.closed.year,
                "sell_id": r.sell_id,
                "lot_id": r.lot_id,
            }
            for r in book.realized
        ],
        REALIZED_COLUMNS,
    )
