"""The transactions CSV format: parse and validate every row, then hand back clean rows or all errors.

Columns (header row required, comma-separated, UTF-8):

| column        | required | meaning                                                                        |
|---------------|----------|--------------------------------------------------------------------------------|
| `date`        | yes      | trade date, ISO `YYYY-MM-DD`                                                   |
| `type`        | yes      | buy, sell, deposit, withdrawal, dividend, interest, fee, split, transfer_in,    |
|               |          | transfer_out                                                                   |
| `symbol`      | yes*     | ticker (buy, sell, dividend, split, transfers)                                 |
| `quantity`    | yes*     | shares (> 0) for buy, sell, transfers; shares bought for a reinvested dividend |
| `price`       | yes*     | price per share (> 0 for buy and sell; cost basis for transfer_in)             |
| `fees`        | yes      | commission and fees (≥ 0; may be empty)                                        |
| `amount`      | yes*     | cash for deposit, withdrawal, dividend, interest, fee (> 0)                    |
| `ratio`       | no       | new shares per old share for a split (e.g. 4 for 4-for-1; 0.1 for 1-for-10);  |
|               |          | when the column is absent, a split's `quantity` is read as the ratio          |
| `account`     | no       | account name inside the portfolio (default `Main`; created when new)          |
| `note`        | no       | free text (≤ 500 characters)                                                   |
| `external_id` | no       | your id for the row; a row whose id is already stored is skipped               |

(*) required for the types that use it; empty cells count as 0. A row without `external_id` gets
one derived from its content, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from investment_app.ledger.entries import ZERO
from investment_app.models.transaction import TxType

REQUIRED = ("date", "type", "symbol", "quantity", "price", "fees", "amount")
OPTIONAL = ("ratio", "account", "note", "external_id")
COLUMNS = REQUIRED + OPTIONAL
MAX_BYTES = 10 * 1024 * 1024
MAX_ERRORS = 50
DEFAULT_ACCOUNT = "Main"
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,15}$")
NEEDS_SYMBOL = frozenset(
    {TxType.BUY, TxType.SELL, TxType.DIVIDEND, TxType.SPLIT, TxType.TRANSFER_IN, TxType.TRANSFER_OUT}
)
NEEDS_QUANTITY = frozenset({TxType.BUY, TxType.SELL, TxType.TRANSFER_IN, TxType.TRANSFER_OUT})
NEEDS_AMOUNT = frozenset({TxType.DEPOSIT, TxType.WITHDRAWAL, TxType.INTEREST, TxType.FEE})
TEMPLATE = (
    ",".join(COLUMNS) + "\n"
    "2024-01-02,deposit,,,,,10000,Main,Initial deposit,\n"
    "2024-01-03,buy,AAPL,10,185.64,1.00,,Main,,\n"
    "2024-02-15,dividend,AAPL,,,,2.40,Main,Quarterly dividend,\n"
    "2024-06-10,split,NVDA,,,,,,10-for-1 split,\n"
    "2024-07-01,sell,AAPL,4,216.75,1.00,,Main,,\n"
)


@dataclass(frozen=True)
class RowError:
    """A problem in one cell (or the whole file when ``row`` is 0)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, column {self.column}" if self.row else (self.column or "file")
        return f"{where}: {self.message}"

    @property
    def field_message(self) -> str:
        """The message for a form: "quantity: must not be negative"."""
        return f"{self.column}: {self.message}"


@dataclass(frozen=True)
class TxInput:
    """A validated transaction, ready to be stored (``row`` is its line in the file, header = 1)."""

    row: int
    date: dt.date
    type: TxType
    symbol: str | None
    quantity: Decimal
    price: Decimal
    fees: Decimal
    amount: Decimal
    ratio: Decimal | None
    account: str
    note: str
    external_id: str


class ImportRejected(ValueError):
    """The file has errors; nothing was written. ``errors`` lists them by row and column."""

    def __init__(self, errors: list[RowError]) -> None:
        shown = "; ".join(map(str, errors[:5])) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        super().__init__(f"{len(errors)} problem(s), nothing imported: {shown}")
        self.errors = errors


def _decimal(raw: str, column: str, row: int, errors: list[RowError]) -> Decimal:
    text = raw.strip().replace(",", "") if raw else ""
    if not text:
        return ZERO
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors.append(RowError(row, column, f"{raw!r} is not a number"))
        return ZERO
    if not value.is_finite():
        errors.append(RowError(row, column, f"{raw!r} is not a finite number"))
        return ZERO
    if value < 0:
        errors.append(RowError(row, column, f"must not be negative (got {raw})"))
    return value


def _date(raw: str, row: int, errors: list[RowError]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw.strip())
    except (ValueError, AttributeError):
        errors.append(RowError(row, "date", f"{raw!r} is not an ISO date like 2024-01-31"))
        return None


def _type(raw: str, row: int, errors: list[RowError]) -> TxType | None:
    try:
        return TxType((raw or "").strip().lower())
    except ValueError:
        errors.append(RowError(row, "type", f"unknown type {raw!r}; use one of {', '.join(t.value for t in TxType)}"))
        return None


def _symbol(raw: str, kind: TxType, row: int, errors: list[RowError]) -> str | None:
    symbol = (raw or "").strip().upper()
    if kind not in NEEDS_SYMBOL:
        return symbol or None
    if not _SYMBOL.match(symbol):
        errors.append(RowError(row, "symbol", f"{kind.value} needs a ticker like AAPL (got {raw!r})"))
    return symbol


def _check_amounts(tx: dict, kind: TxType, row: int, errors: list[RowError]) -> None:
    if kind in NEEDS_QUANTITY and tx["quantity"] <= 0:
        errors.append(RowError(row, "quantity", f"{kind.value} needs a quantity above 0"))
    if kind in (TxType.BUY, TxType.SELL) and tx["price"] <= 0:
        errors.append(RowError(row, "price", f"{kind.value} needs a price above 0"))
    if kind in NEEDS_AMOUNT and tx["amount"] <= 0:
        errors.append(RowError(row, "amount", f"{kind.value} needs an amount above 0"))
    if kind is TxType.DIVIDEND and tx["amount"] <= 0 and tx["quantity"] <= 0:
        errors.append(RowError(row, "amount", "dividend needs an amount (cash) or a quantity (reinvested)"))
    if kind is TxType.SPLIT and (tx["ratio"] is None or tx["ratio"] <= 0 or tx["ratio"] == 1):
        errors.append(RowError(row, "ratio", "split needs a ratio above 0 and other than 1 (e.g. 4 for 4-for-1)"))


def _fingerprint(record: dict[str, str], occurrence: int) -> str:
    content = "|".join((record.get(c) or "").strip() for c in COLUMNS if c != "external_id")
    return "fp:" + hashlib.sha256(f"{content}|{occurrence}".encode()).hexdigest()[:32]


def _row(record: dict[str, str], row: int, occurrence: int, has_ratio: bool, errors: list[RowError]) -> TxInput | None:
    before = len(errors)
    date, kind = _date(record.get("date", ""), row, errors), _type(record.get("type", ""), row, errors)
    if kind is None:
        return None
    values = {c: _decimal(record.get(c, ""), c, row, errors) for c in ("quantity", "price", "fees", "amount")}
    ratio_text = record.get("ratio", "") if has_ratio else record.get("quantity", "")
    values["ratio"] = _decimal(ratio_text, "ratio", row, errors) if kind is TxType.SPLIT else None
    if kind is TxType.SPLIT:
        values["quantity"] = ZERO
    if kind is TxType.DIVIDEND and values["quantity"] > 0 and values["amount"] <= 0:
        values["amount"] = values["quantity"] * values["price"] + values["fees"]  # fully reinvested
    symbol = _symbol(record.get("symbol", ""), kind, row, errors)
    _check_amounts(values, kind, row, errors)
    note = (record.get("note") or "").strip()
    if len(note) > 500:
        errors.append(RowError(row, "note", "must be at most 500 characters"))
    external_id = (record.get("external_id") or "").strip()[:120] or _fingerprint(record, occurrence)
    if len(errors) > before or date is None:
        return None
    account = (record.get("account") or "").strip()[:120] or DEFAULT_ACCOUNT
    return TxInput(
        row,
        date,
        kind,
        symbol,
        values["quantity"],
        values["price"],
        values["fees"],
        values["amount"],
        values["ratio"],
        account,
        note,
        external_id,
    )


def _header_problem(fields: list[str]) -> RowError | None:
    if len(fields) == 1 and any(sep in fields[0] for sep in (";", "\t", "|")):
        return RowError(0, "header", "columns must be separated by commas (found ';', tab or '|')")
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        return RowError(0, "header", f"missing column(s): {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    return None


def parse(data: bytes) -> list[TxInput]:
    """Every row of a transactions CSV, validated; raises ImportRejected listing all problems."""
    if len(data) > MAX_BYTES:
        raise ImportRejected([RowError(0, "file", f"is {len(data) / 2**20:.1f} MB; the limit is 10 MB")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([RowError(0, "file", "is not UTF-8 text")]) from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [(f or "").strip().lower() for f in reader.fieldnames or []]
    if problem := _header_problem(fields):
        raise ImportRejected([problem])
    reader.fieldnames = fields
    rows, errors, seen, ids = [], [], Counter(), Counter()
    for number, record in enumerate(reader, start=2):
        key = tuple((record.get(c) or "").strip() for c in COLUMNS)
        seen[key] += 1
        parsed = _row(record, number, seen[key], "ratio" in fields, errors)
        if parsed is not None:
            ids[parsed.external_id] += 1
            if ids[parsed.external_id] > 1:
                errors.append(RowError(number, "external_id", f"{parsed.external_id!r} appears twice in the file"))
            rows.append(parsed)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected([RowError(0, "file", "has no transactions below the header")])
    return rows


def validate(record: dict[str, str]) -> TxInput:
    """One transaction typed into a form (same fields as a CSV row); raises ImportRejected naming the fields."""
    errors: list[RowError] = []
    parsed = _row({k: str(v) for k, v in record.items()}, 0, 1, "ratio" in record, errors)
    if errors or parsed is None:
        raise ImportRejected(errors or [RowError(0, "form", "could not be read")])
    return parsed


def to_csv(rows: list[dict[str, object]], columns: tuple[str, ...]) -> str:
    """Rows as CSV text with the given columns (for the exports)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
