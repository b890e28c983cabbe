"""The built-in paper broker: orders are ``broker_order`` rows (broker "paper"), filled from the stored daily bars.

Conventions:
- The paper market stands at the close of the symbol's latest stored bar D. An order is placed "as of" D
  (``placed_on``) and matched at once against D, of which only the close counts (open = high = low = close);
  ``match_open_orders`` matches resting GTC orders against each later bar, when new prices arrive.
- A bar without open, high or low (the bundled closes) uses its close for them; unknown volume caps nothing.
- Per bar, with o, h, l its open, high and low, L the limit and S the stop price, the reference price is:
  market: o. Limit buy if l ≤ L: min(o, L); limit sell if h ≥ L: max(o, L). Stop buy triggers when h ≥ S,
  at max(o, S); stop sell when l ≤ S, at min(o, S); after its trigger bar a stop is a market order.
  Stop-limit: triggers like a stop; on the trigger bar it fills only if the trigger price is within the limit
  (buy ≤ L, sell ≥ L), at that price; after it, it is a limit order. On the placement bar this reads: market
  at the close, limit if the close is marketable, stop if the close has crossed S.
- Price = reference × (1 + s) for a buy, × (1 − s) for a sell, s = slippage_bps / 10⁴, rounded half up to
  4 decimals, then capped at the limit: a buy never pays above L, a sell never gets below L.
- Participation: one bar fills at most participation × volume shares, floored to whole shares for a whole-share
  order and to 10⁻⁶ share for a fractional one. A day order expires with whatever its placement bar did not
  fill (D is over once the order has met D's close); a GTC order rests until filled or canceled.
- Commission per fill = max(commission_min, quantity × price × commission_bps / 10⁴), rounded half up to cents.
- A fill is a ``broker_fill`` row keyed "{bar date}:{n}" (the order's n-th fill), booked in the ledger later by
  the execution service. The order's ``average_price`` = Σ qᵢ pᵢ / Σ qᵢ over its fills, to 6 decimals.
- A notional order buys or sells notional / close(D) shares, rounded down to 10⁻⁶ share.
- Replay: an order resumes after the bar of its last fill (a fill uses its bar up) or, without fills, from its
  placement bar. Matching is deterministic, so bars that filled nothing fill nothing when read again; an order
  with a fill has triggered its stop.
- ``account`` and ``positions`` are the ledger's (booked fills only) for the broker's account, at latest closes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from investment_app.broker.base import (
    SIDES,
    TIMES_IN_FORCE,
    AccountInfo,
    Asset,
    BrokerError,
    Clock,
    Fill,
    OrderRequest,
    OrderState,
    Position,
)
from investment_app.ledger.entries import ZERO, effects
from investment_app.ledger.lots import LotBook, build_lots, plain
from investment_app.models._time import utcnow
from investment_app.models.market import DailyBar, Symbol
from investment_app.models.portfolio import Account, Portfolio
from investment_app.models.trading import BrokerFill, BrokerKind, BrokerOrder, OrderStatus
from investment_app.services.transactions import load_entries, load_picks

PAPER = BrokerKind.PAPER.value
ORDER_TYPES = ("market", "limit", "stop", "stop_limit")
NEEDS = {"limit": ("limit_price",), "stop": ("stop_price",), "stop_limit": ("limit_price", "stop_price")}
MATCHED = (OrderStatus.NEW.value, OrderStatus.ACCEPTED.value, OrderStatus.PARTIALLY_FILLED.value)
"""Open orders the paper broker has received ("pending" rows were written but never sent)."""
BPS = Decimal(10_000)
SHARE, QTY_STEP = Decimal(1), Decimal("0.000001")
PRICE_STEP, AVERAGE_STEP, CENT = Decimal("0.0001"), Decimal("0.000001"), Decimal("0.01")
BAR_FIELDS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class PaperConfig:
    """Slippage and commission in basis points, a minimum commission per fill, and the largest share of a
    bar's volume one order may fill on that bar."""

    slippage_bps: float = 5.0
    commission_bps: float = 0.0
    commission_min: float = 0.0
    participation: float = 0.10

    def __post_init__(self) -> None:
        for name in ("slippage_bps", "commission_bps", "commission_min", "participation"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"PaperConfig.{name} must be a finite number ≥ 0, not {value!r}")
        if not 0 < self.participation <= 1:
            raise ValueError(f"PaperConfig.participation must be in (0, 1], not {self.participation!r}")

    def commission(self, value: Decimal) -> Decimal:
        """max(commission_min, value × commission_bps / 10⁴), rounded half up to cents."""
        rate = _decimal(self.commission_bps) / BPS
        return max(_decimal(self.commission_min), value * rate).quantize(CENT, ROUND_HALF_UP)


# --- pure matching ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bars:
    """One symbol's daily bars in date order: ``dates`` datetime64[D], prices float, volume NaN when unknown."""

    dates: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Bars:
        """Columns date, open, high, low, close, volume (None where unknown); a missing open/high/low is the close."""
        close = frame["close"].to_numpy(float)
        prices = {name: frame[name].astype(float).to_numpy() for name in ("open", "high", "low")}
        return cls(
            dates=pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[D]"),
            close=close,
            volume=frame["volume"].astype(float).to_numpy(),
            **{name: np.where(np.isnan(value), close, value) for name, value in prices.items()},
        )

    def __len__(self) -> int:
        return len(self.dates)

    def since(self, first: dt.date) -> Bars:
        """The bars dated ``first`` or later."""
        start = int(self.dates.searchsorted(np.datetime64(first, "D")))
        return Bars(*(getattr(self, name)[start:] for name in ("dates", *BAR_FIELDS)))

    def at_close(self) -> Bars:
        """The first bar seen at its close only (open = high = low = close): the placement bar."""
        if not len(self):
            return self
        first = {name: getattr(self, name).copy() for name in ("open", "high", "low")}
        for values in first.values():
            values[0] = self.close[0]
        return replace(self, **first)

    def date(self, position: int) -> dt.date:
        return self.dates[position].astype(object)


@dataclass(frozen=True)
class Terms:
    """What matching needs of an order: the quantity still to fill, its prices, whether it trades whole shares
    and whether its stop has already triggered."""

    side: str
    order_type: str
    remaining: Decimal
    limit: Decimal | None = None
    stop: Decimal | None = None
    whole: bool = True
    triggered: bool = False


@dataclass(frozen=True)
class Execution:
    """One fill: the bar it happened on (position in the bars), quantity, price and commission."""

    position: int
    quantity: Decimal
    price: Decimal
    commission: Decimal


def _eligible(terms: Terms, bars: Bars) -> tuple[np.ndarray, np.ndarray]:
    """Per bar: may the order fill there, and at which reference price (before slippage)."""
    buy = terms.side == "buy"
    ok, reference = np.ones(len(bars), dtype=bool), bars.open.copy()
    if terms.limit is not None:
        limit = float(terms.limit)
        ok = bars.low <= limit if buy else bars.high >= limit
        reference = np.minimum(bars.open, limit) if buy else np.maximum(bars.open, limit)
    if terms.stop is not None and not terms.triggered:
        stop = float(terms.stop)
        hits = np.flatnonzero(bars.high >= stop if buy else bars.low <= stop)
        if not hits.size:
            return np.zeros(len(bars), dtype=bool), reference
        k = hits[0]
        trigger = max(bars.open[k], stop) if buy else min(bars.open[k], stop)
        ok[:k] = False
        ok[k] = terms.limit is None or (trigger <= float(terms.limit) if buy else trigger >= float(terms.limit))
        reference[k] = trigger
    return ok, reference


def _price(reference: float, terms: Terms, slippage_bps: float) -> Decimal:
    """reference × (1 ± s), rounded half up to 4 decimals, capped at the limit."""
    s = _decimal(slippage_bps) / BPS
    buy = terms.side == "buy"
    price = (_decimal(reference) * (1 + s if buy else 1 - s)).quantize(PRICE_STEP, ROUND_HALF_UP)
    if terms.limit is None:
        return price
    return min(price, terms.limit) if buy else max(price, terms.limit)


def _cap(volume: float, participation: float, whole: bool) -> Decimal | None:
    """⌊participation × volume⌋ in whole shares or 10⁻⁶ share (exact decimal arithmetic); None when unknown."""
    if np.isnan(volume):
        return None
    return (Decimal(int(volume)) * _decimal(participation)).quantize(SHARE if whole else QTY_STEP, ROUND_FLOOR)


def match(terms: Terms, bars: Bars, config: PaperConfig) -> list[Execution]:
    """The fills of an order over ``bars`` (its first bar is where matching resumes), per this module's rules."""
    ok, reference = _eligible(terms, bars)
    executions, left = [], terms.remaining
    for i in np.flatnonzero(ok):
        cap = _cap(bars.volume[i], config.participation, terms.whole)
        quantity = left if cap is None else min(left, cap)
        if quantity > 0:
            price = _price(float(reference[i]), terms, config.slippage_bps)
            executions.append(Execution(int(i), quantity, price, config.commission(quantity * price)))
            left -= quantity
        if left <= 0:
            break
    return executions


def _decimal(value: float) -> Decimal:
    return Decimal(str(float(value)))


# --- the broker -------------------------------------------------------------------------------------------------


def _invalid(message: str) -> BrokerError:
    return BrokerError("invalid_order", message)


def _amount(request: OrderRequest, name: str) -> Decimal | None:
    """A positive finite decimal, or None when the request leaves it out."""
    value = getattr(request, name)
    if value is None:
        return None
    try:
        value = Decimal(str(value))
    except InvalidOperation:
        raise _invalid(f"{name} {value!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise _invalid(f"{name} must be a finite number above 0, not {value}")
    return value


def _fields(request: OrderRequest) -> dict[str, Any]:
    """The request as order columns, validated; raises BrokerError("invalid_order") naming the problem."""
    kind = request.order_type
    if request.order_class != "simple":
        raise _invalid(f"the paper broker does not support {request.order_class} orders (only simple ones)")
    if kind not in ORDER_TYPES:
        raise _invalid(f"the paper broker does not support {kind} orders (only {', '.join(ORDER_TYPES)})")
    if request.side not in SIDES:
        raise _invalid(f"side must be buy or sell, not {request.side!r}")
    if request.time_in_force not in TIMES_IN_FORCE:
        raise _invalid(f"time in force must be day or gtc, not {request.time_in_force!r}")
    if not request.symbol or not request.symbol.strip():
        raise _invalid("the order has no symbol")
    if not request.client_order_id or len(request.client_order_id) > 64:
        raise _invalid("client_order_id must have 1 to 64 characters")
    quantity, notional = _amount(request, "quantity"), _amount(request, "notional")
    if (quantity is None) == (notional is None):
        raise _invalid("give either a quantity above 0 or a notional above 0, not both")
    if quantity is not None and quantity != quantity.quantize(QTY_STEP, ROUND_DOWN):
        raise _invalid(f"quantity {quantity} has more than 6 decimals")
    prices = {name: _amount(request, name) for name in NEEDS.get(kind, ())}
    missing = [name for name, value in prices.items() if value is None]
    if missing:
        raise _invalid(f"a {kind} order needs {' and '.join(missing)}")
    return {
        "symbol": request.symbol.strip().upper(),
        "side": request.side,
        "order_type": kind,
        "time_in_force": request.time_in_force,
        "quantity": quantity,
        "notional": notional,
        "limit_price": prices.get("limit_price"),
        "stop_price": prices.get("stop_price"),
    }


def _terms(row: BrokerOrder, triggered: bool) -> Terms:
    whole = row.quantity == row.quantity.to_integral_value()
    remaining = row.quantity - row.filled_quantity
    return Terms(row.side, row.order_type, remaining, row.limit_price, row.stop_price, whole, triggered)


def _state(row: BrokerOrder, message: str | None = None) -> OrderState:
    return OrderState(
        client_order_id=row.client_order_id,
        broker_order_id=row.broker_order_id or "",
        symbol=row.symbol,
        side=row.side,
        status=row.status,
        quantity=row.quantity,
        filled_quantity=row.filled_quantity,
        average_price=row.average_price,
        message=row.message if message is None else message,
    )


def _fill(row: BrokerOrder, fill: BrokerFill) -> Fill:
    return Fill(
        client_order_id=row.client_order_id,
        key=fill.fill_key,
        symbol=row.symbol,
        side=row.side,
        quantity=fill.quantity,
        price=fill.price,
        commission=fill.commission,
        trade_date=fill.trade_date,
    )


@dataclass
class _History:
    """An order's earlier fills: how many, the last bar date, and Σ quantity × price."""

    count: int = 0
    last: dt.date | None = None
    value: Decimal = ZERO

    def resume(self, placed_on: dt.date) -> dt.date:
        """The first bar date matching goes on from: the placement bar, or the day after the last fill."""
        return placed_on if self.last is None else self.last + dt.timedelta(days=1)


class PaperBroker:
    """The paper account ``account_id`` of portfolio ``portfolio_id``, trading at stored prices (see the module)."""

    name = PAPER

    def __init__(self, db: Session, portfolio_id: int, account_id: int, config: PaperConfig = PaperConfig()) -> None:
        account = db.get(Account, account_id)
        if account is None or account.portfolio_id != portfolio_id:
            raise ValueError(f"account #{account_id} is not an account of portfolio #{portfolio_id}")
        self.db, self.portfolio_id, self.account_id, self.config = db, portfolio_id, account_id, config

    # orders

    def submit(self, request: OrderRequest) -> OrderState:
        """Place the order and match it at once against its placement bar; idempotent on client_order_id.

        A known key returns that order unchanged; a "pending" row with the key (written before sending) becomes
        the order. Flushes, never commits."""
        row = self._keyed(request.client_order_id)
        if row is not None and row.status != OrderStatus.PENDING.value:
            return _state(row)
        fields = _fields(request)
        bars = self._latest_bar(fields["symbol"])
        if not len(bars):
            raise _invalid(f"{fields['symbol']} has no stored prices: the paper broker cannot trade it")
        if fields["notional"] is not None:
            fields["quantity"] = (fields["notional"] / _decimal(bars.close[0])).quantize(QTY_STEP, ROUND_DOWN)
            if not fields["quantity"]:
                raise _invalid(f"notional {fields['notional']} buys less than 0.000001 share of {fields['symbol']}")
        row = row or BrokerOrder(
            portfolio_id=self.portfolio_id, account_id=self.account_id, client_order_id=request.client_order_id
        )
        row.sqlmodel_update({**fields, "broker": PAPER, "status": OrderStatus.NEW.value, "placed_on": bars.date(0)})
        self.db.add(row)
        self.db.flush()
        row.broker_order_id = f"paper-{row.id}"
        self._record(row, match(_terms(row, False), bars, self.config), bars, _History())
        if row.time_in_force == "day" and row.status in MATCHED:
            left = row.quantity - row.filled_quantity
            row.status = OrderStatus.EXPIRED.value
            row.message = f"day order: {plain(left)} not filled on {bars.date(0)}"
        self.db.flush()
        return _state(row)

    def match_open_orders(self, through: dt.date | None = None) -> list[Fill]:
        """Match this portfolio's resting orders against the bars stored after where each left off (up to
        ``through``); returns the new fills. Flushes, never commits."""
        rows = self.db.exec(self._orders(open_only=True).with_for_update()).all()
        if not rows:
            return []
        history = self._history([row.id for row in rows])
        starts = {row.id: history[row.id].resume(row.placed_on) for row in rows}
        bars = self._bars({row.symbol for row in rows}, min(starts.values()), through)
        fills = []
        for row in rows:
            h = history[row.id]
            window = bars[row.symbol].since(starts[row.id])
            if h.count == 0 and len(window) and window.date(0) == row.placed_on:
                window = window.at_close()
            fills += self._record(row, match(_terms(row, h.count > 0), window, self.config), window, h)
        self.db.flush()
        return fills

    def cancel(self, client_order_id: str) -> OrderState:
        """Cancel an open order; a closed one is returned unchanged, with a message saying so."""
        row = self._owned(client_order_id, lock=True)
        if row is None:
            raise BrokerError("not_found", f"the paper broker has no order {client_order_id!r}")
        if row.status not in MATCHED:
            return _state(row, f"order {client_order_id} is already {row.status}; nothing to cancel")
        row.status, row.message, row.updated_at = OrderStatus.CANCELED.value, "canceled", utcnow()
        self.db.add(row)
        self.db.flush()
        return _state(row)

    def order(self, client_order_id: str) -> OrderState | None:
        row = self._owned(client_order_id)
        return None if row is None else _state(row)

    def orders(self, open_only: bool = False) -> list[OrderState]:
        return [_state(row) for row in self.db.exec(self._orders(open_only)).all()]

    def fills(self, client_order_id: str) -> list[Fill]:
        row = self._owned(client_order_id)
        if row is None:
            return []
        stmt = select(BrokerFill).where(BrokerFill.order_id == row.id).order_by(col(BrokerFill.id))
        return [_fill(row, fill) for fill in self.db.exec(stmt).all()]

    # account

    def account(self) -> AccountInfo:
        """Cash (ledger cash of the account, to cents), buying power = cash (no margin), equity = cash + the
        positions' market value (their cost where no close is stored)."""
        entries, book = self._ledger()
        cash = Decimal(f"{effects(entries).cash.sum():.2f}")
        positions = self._positions(book)
        value = sum(
            (p.quantity * p.average_price if p.market_value is None else p.market_value for p in positions), ZERO
        )
        return AccountInfo(cash=cash, buying_power=cash, equity=(cash + value).quantize(CENT, ROUND_HALF_UP))

    def positions(self) -> list[Position]:
        """Shares per symbol from the account's open lots, average cost = Σ lot cost / Σ shares, valued at the
        latest close (to cents; None without a stored close)."""
        return self._positions(self._ledger()[1])

    def clock(self) -> Clock:
        return Clock(is_open=True)

    def asset(self, symbol: str) -> Asset | None:
        """None for a symbol the app does not know; tradable when it has stored bars."""
        symbol = symbol.strip().upper()
        if self.db.get(Symbol, symbol) is None:
            return None
        has_bars = self.db.exec(select(DailyBar.date).where(DailyBar.symbol == symbol).limit(1)).first()
        return Asset(symbol=symbol, tradable=has_bars is not None, fractionable=True)

    # helpers

    def _keyed(self, client_order_id: str) -> BrokerOrder | None:
        row = self.db.exec(select(BrokerOrder).where(BrokerOrder.client_order_id == client_order_id)).first()
        if row is not None and (row.portfolio_id != self.portfolio_id or row.broker != PAPER):
            raise _invalid(f"client_order_id {client_order_id!r} already names another order")
        return row

    def _owned(self, client_order_id: str, lock: bool = False) -> BrokerOrder | None:
        """The portfolio's paper order with this key, if the broker received it (not "pending")."""
        stmt = self._orders().where(BrokerOrder.client_order_id == client_order_id)
        return self.db.exec(stmt.with_for_update() if lock else stmt).first()

    def _orders(self, open_only: bool = False):
        stmt = select(BrokerOrder).where(
            BrokerOrder.portfolio_id == self.portfolio_id,
            BrokerOrder.broker == PAPER,
            col(BrokerOrder.status).in_(MATCHED) if open_only else BrokerOrder.status != OrderStatus.PENDING.value,
        )
        return stmt.order_by(col(BrokerOrder.id))

    def _history(self, order_ids: list[int]) -> dict[int, _History]:
        history = {order_id: _History() for order_id in order_ids}
        stmt = select(BrokerFill.order_id, BrokerFill.trade_date, BrokerFill.quantity, BrokerFill.price).where(
            col(BrokerFill.order_id).in_(order_ids)
        )
        for order_id, day, quantity, price in self.db.exec(stmt).all():
            h = history[order_id]
            h.count, h.last, h.value = h.count + 1, max(day, h.last or day), h.value + quantity * price
        return history

    def _record(self, row: BrokerOrder, executions: list[Execution], bars: Bars, history: _History) -> list[Fill]:
        """Write the executions as fills (numbered after the earlier ones) and bring the order up to date."""
        fills = []
        for n, ex in enumerate(executions, start=history.count + 1):
            day = bars.date(ex.position)
            fill = BrokerFill(
                order_id=row.id,
                fill_key=f"{day.isoformat()}:{n}",
                trade_date=day,
                quantity=ex.quantity,
                price=ex.price,
                commission=ex.commission,
            )
            self.db.add(fill)
            fills.append(_fill(row, fill))
            history.value += ex.quantity * ex.price
            row.filled_quantity += ex.quantity
        if executions:
            row.average_price = (history.value / row.filled_quantity).quantize(AVERAGE_STEP, ROUND_HALF_UP)
            done = row.filled_quantity >= row.quantity
            row.status = (OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED).value
            row.updated_at = utcnow()
            self.db.add(row)
        return fills

    def _bar_query(self, symbols: Iterable[str]):
        columns = [DailyBar.symbol, DailyBar.date, *(getattr(DailyBar, name) for name in BAR_FIELDS)]
        return select(*columns).where(col(DailyBar.symbol).in_(list(symbols)))

    def _frame(self, stmt) -> pd.DataFrame:
        return pd.DataFrame([tuple(row) for row in self.db.exec(stmt).all()], columns=["symbol", "date", *BAR_FIELDS])

    def _latest_bar(self, symbol: str) -> Bars:
        """The symbol's latest stored bar seen at its close (the placement bar); empty when it has none."""
        stmt = self._bar_query([symbol]).order_by(col(DailyBar.date).desc()).limit(1)
        return Bars.from_frame(self._frame(stmt)).at_close()

    def _bars(self, symbols: set[str], first: dt.date, through: dt.date | None) -> dict[str, Bars]:
        """The bars of ``symbols`` from ``first`` to ``through`` in one query, per symbol."""
        stmt = self._bar_query(symbols).where(col(DailyBar.date) >= first)
        if through is not None:
            stmt = stmt.where(col(DailyBar.date) <= through)
        frame = self._frame(stmt.order_by(col(DailyBar.symbol), col(DailyBar.date)))
        by_symbol, empty = dict(iter(frame.groupby("symbol"))), frame.iloc[:0]
        return {symbol: Bars.from_frame(by_symbol.get(symbol, empty)) for symbol in symbols}

    def _ledger(self) -> tuple[list, LotBook]:
        """The account's ledger entries and its lots (by the portfolio's cost-basis method)."""
        entries = [e for e in load_entries(self.db, self.portfolio_id) if e.account_id == self.account_id]
        method = self.db.get(Portfolio, self.portfolio_id).cost_basis_method
        return entries, build_lots(entries, method, load_picks(self.db, self.portfolio_id))

    def _positions(self, book: LotBook) -> list[Position]:
        held = {symbol: lots for symbol, lots in sorted(book.open_lots.items()) if book.quantity(symbol) > 0}
        closes = self._closes(list(held))
        positions = []
        for symbol, lots in held.items():
            quantity = book.quantity(symbol)
            average = (sum((lot.cost for lot in lots), ZERO) / quantity).quantize(AVERAGE_STEP, ROUND_HALF_UP)
            close = closes.get(symbol)
            value = None if close is None else (quantity * _decimal(close)).quantize(CENT, ROUND_HALF_UP)
            positions.append(Position(symbol, quantity, average, value))
        return positions

    def _closes(self, symbols: list[str]) -> dict[str, float]:
        """The latest stored close of each symbol."""
        if not symbols:
            return {}
        latest = (
            select(DailyBar.symbol, func.max(DailyBar.date).label("day"))
            .where(col(DailyBar.symbol).in_(symbols))
            .group_by(DailyBar.symbol)
            .subquery()
        )
        stmt = select(DailyBar.symbol, DailyBar.close).join(
            latest, and_(DailyBar.symbol == latest.c.symbol, DailyBar.date == latest.c.day)
        )
        return dict(self.db.exec(stmt).all())
