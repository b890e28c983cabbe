"""Execution: an approved plan (or one order) through a broker, checked before anything leaves, idempotent, with
fills booked into the ledger and every step audited.

- Which broker: the built-in paper broker (default) or the owner's Alpaca connection (keys sealed at rest).
  Orders are booked to the portfolio's ledger account of that broker's kind, else its first account; a
  portfolio traded through Alpaca mirrors that Alpaca account (reconciliation compares the two).
- Idempotency: every order is written (status "pending") with its ``client_order_id`` — "p{plan}-{row}" for a
  plan's trade — and committed before it is sent; the broker returns the existing order for a known key, so a
  retry, a second run or a restart never places an order twice. A send that is not confirmed (timeout, lost
  connection) leaves the order pending; the next sync sends it again under the same key.
- Sells are sent first, then buys. Fills are booked once each (unique per order and fill key): a buy or sell
  transaction (source "broker", fees = commission) and, for a plan's sell, lot picks of the plan's chosen lots.
- These functions commit as they go: each order's state is durable before the next one is sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from investment_app.auth.secrets_box import unseal
from investment_app.auth.viewer import Viewer
from investment_app.broker.base import (
    ORDER_CLASSES,
    ORDER_TYPES,
    SIDES,
    TIMES_IN_FORCE,
    Broker,
    BrokerError,
    Fill,
    OrderRequest,
    OrderState,
)
from investment_app.ledger.lots import plain
from investment_app.models import Account, AccountKind, LotPick, Portfolio, Transaction, TxSource, TxType
from investment_app.models._time import utcnow
from investment_app.models.rebalance import PlanStatus, RebalancePlan
from investment_app.models.trading import OPEN_STATUSES, BrokerConnection, BrokerFill, BrokerKind, BrokerOrder
from investment_app.services import audit, performance, portfolios, pretrade, rebalance
from investment_app.services.errors import Forbidden, InvalidInput
from investment_app.settings import get_settings

SEND_ATTEMPTS = 3
SEND_BACKOFF_S = 0.5
ORDER_NOT_FOUND = "No such order, or you do not have access to it."


@dataclass(frozen=True)
class ExecutionReport:
    """What one execution or sync did."""

    plan_id: int | None
    sent: int
    filled: int
    open: int
    rejected: list[str]
    booked: int
    status: str


# --- brokers and accounts ---------------------------------------------------------------------------------------


def connection_broker(db: Session, owner_id: int, connection_id: int | None) -> tuple[Broker, BrokerConnection]:
    """The owner's Alpaca connection as a broker (the keys are unsealed here, in memory only)."""
    from investment_app.broker.alpaca import AlpacaBroker

    conn = db.get(BrokerConnection, connection_id) if connection_id else None
    if conn is None or conn.owner_id != owner_id:
        raise InvalidInput("Connect an Alpaca account in Settings → Brokers, and choose it for this portfolio.")
    key = get_settings().secret_key
    broker = AlpacaBroker(
        unseal(conn.key_id_encrypted, key),
        unseal(conn.secret_encrypted, key),
        paper=not conn.live,
        url_override=conn.url_override or None,
    )
    return broker, conn


def _ledger_account(db: Session, portfolio: Portfolio, kind: str) -> Account:
    accounts = db.exec(select(Account).where(Account.portfolio_id == portfolio.id).order_by(col(Account.id))).all()
    matching = [a for a in accounts if a.kind == AccountKind(kind)]
    return (matching or list(accounts))[0]


def broker_for(
    db: Session, portfolio: Portfolio, kind: str, connection_id: int | None = None
) -> tuple[Broker, Account, int | None]:
    """(broker, ledger account, connection id) for ``kind`` ("paper" or "alpaca")."""
    if kind not in {k.value for k in BrokerKind}:
        raise InvalidInput(f"Unknown broker {kind!r}: choose paper or alpaca.")
    account = _ledger_account(db, portfolio, kind)
    if kind == BrokerKind.PAPER.value:
        from investment_app.broker.paper import PaperBroker

        return PaperBroker(db, portfolio.id, account.id), account, None
    connection_id = connection_id or rebalance.settings_for(db, portfolio.id).connection_id
    broker, conn = connection_broker(db, portfolio.owner_id, connection_id)
    return broker, account, conn.id


# --- pre-trade checks -----------------------------------------------------------------------------------------


def _book(db: Session, viewer: Viewer, portfolio: Portfolio, broker: Broker, extra: dict[str, float]) -> pretrade.Book:
    snap = performance.snapshot(db, viewer, portfolio.id)
    v = snap.valuation
    held = {s: snap.book.quantity(s) for s in snap.book.open_lots}
    prices = {s: float(v.prices[-1, j]) for j, s in enumerate(v.symbols)} | extra
    total = v.total
    day_pnl = float(total[-1] - total[-2] - v.net_flow[-1]) if len(total) > 1 else 0.0
    external = broker.name != BrokerKind.PAPER.value
    broker_held = {p.symbol: p.quantity for p in broker.positions()} if external else None
    return pretrade.Book(held, broker_held, prices, float(total[-1]), day_pnl)


def _limits(db: Session, portfolio_id: int, cost_rate: float) -> pretrade.Limits:
    s = rebalance.settings_for(db, portfolio_id)
    return pretrade.Limits(s.max_order_value, s.max_position_weight, s.max_daily_loss, cost_rate)


def _checked(
    db: Session, viewer: Viewer, portfolio: Portfolio, broker: Broker, intents: list[pretrade.Intent], cost_rate: float
) -> None:
    """Raise InvalidInput listing every problem; nothing has been written or sent."""
    try:
        account, clock = broker.account(), broker.clock()
        assets = {s: broker.asset(s) for s in {i.symbol for i in intents}}
        book = _book(db, viewer, portfolio, broker, {i.symbol: i.price for i in intents})
    except BrokerError as exc:
        raise InvalidInput(f"The broker could not be asked for the pre-trade checks: {exc}") from exc
    problems = pretrade.check(intents, account, clock, assets, book, _limits(db, portfolio.id, cost_rate))
    if problems:
        raise InvalidInput("Nothing was sent: " + "; ".join(problems) + ".")


# --- sending, syncing and booking -------------------------------------------------------------------------------


def _request(order: BrokerOrder) -> OrderRequest:
    legs = order.legs or {}
    return OrderRequest(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=order.quantity,
        notional=order.notional,
        order_type=order.order_type,
        time_in_force=order.time_in_force,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        trail_percent=order.trail_percent,
        order_class=order.order_class,
        take_profit=Decimal(legs["take_profit"]) if legs.get("take_profit") else None,
        stop_loss=Decimal(legs["stop_loss"]) if legs.get("stop_loss") else None,
    )


def _apply(order: BrokerOrder, state: OrderState) -> None:
    order.broker_order_id = state.broker_order_id or order.broker_order_id
    order.status = state.status
    order.filled_quantity = state.filled_quantity
    order.average_price = state.average_price
    order.message = state.message[:500]
    order.updated_at = utcnow()


def _send(db: Session, broker: Broker, order: BrokerOrder) -> None:
    """Submit a pending order under its key, retrying what may succeed later; audited; committed."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            _apply(order, broker.submit(_request(order)))
            break
        except BrokerError as exc:
            if exc.retryable and attempt + 1 < SEND_ATTEMPTS:
                time.sleep(SEND_BACKOFF_S * 2**attempt)
                continue
            order.message = str(exc)[:500]
            if not exc.retryable:
                order.status = "rejected"
            break
    db.add(order)
    audit.record(db, None, "order.submit", "broker_order", order.id, after=_order_view(order))
    db.commit()


def _order_view(order: BrokerOrder) -> dict:
    qty = plain(order.quantity) if order.quantity is not None else f"${plain(order.notional)}"
    return {
        "key": order.client_order_id,
        "order": f"{order.side} {qty} {order.symbol} {order.order_type}",
        "status": order.status,
        "message": order.message,
    }


def _picks(db: Session, order: BrokerOrder, quantity: Decimal) -> list[tuple[int, Decimal]]:
    """The plan's lots for this sell, less what the order's earlier fills took; none when they cannot cover it."""
    plan = db.get(RebalancePlan, order.plan_id) if order.plan_id else None
    if plan is None or order.plan_row is None:
        return []
    taken: dict[int, Decimal] = {}
    earlier = db.exec(
        select(LotPick.lot_id, LotPick.quantity)
        .join(BrokerFill, col(BrokerFill.transaction_id) == LotPick.sell_id)
        .where(BrokerFill.order_id == order.id)
    ).all()
    for lot_id, qty in earlier:
        taken[lot_id] = taken.get(lot_id, Decimal(0)) + qty
    picks, left = [], quantity
    for lot in (x for x in plan.lots if x["trade"] == order.plan_row):
        free = Decimal(str(round(lot["quantity"], 10))) - taken.get(lot["lot_id"], Decimal(0))
        take = min(free, left)
        if take > 0:
            picks.append((lot["lot_id"], take))
            left -= take
    return picks if left == 0 else []


def _fill_row(db: Session, order: BrokerOrder, fill: Fill) -> BrokerFill | None:
    """The fill's row to book: the broker's own record of it (paper), or for a cumulative report (Alpaca: one
    key whose quantity grows) a new row for the increase since the last sync, keyed "{key}@{cumulative qty}" and
    priced so the booked rows add up to the reported quantity × average price. None when nothing is new."""
    rows = db.exec(select(BrokerFill).where(BrokerFill.order_id == order.id)).all()
    exact = next((r for r in rows if r.fill_key == fill.key), None)
    if exact is not None:
        return exact if exact.transaction_id is None else None
    seen = [r for r in rows if r.fill_key.startswith(f"{fill.key}@")]
    quantity = sum((r.quantity for r in seen), Decimal(0))
    if fill.quantity <= quantity:
        return None
    value = sum((r.quantity * r.price for r in seen), Decimal(0))
    increase = fill.quantity - quantity
    return BrokerFill(
        order_id=order.id,
        fill_key=f"{fill.key}@{plain(fill.quantity)}",
        trade_date=fill.trade_date,
        quantity=increase,
        price=((fill.quantity * fill.price - value) / increase).quantize(Decimal("1e-6")),
        commission=fill.commission - sum((r.commission for r in seen), Decimal(0)),
    )


def _book_fill(db: Session, order: BrokerOrder, fill: Fill) -> bool:
    """Book one fill (or a cumulative fill's increase) in the ledger once; True when something was booked."""
    row = _fill_row(db, order, fill)
    if row is None:
        return False
    tx = Transaction(
        portfolio_id=order.portfolio_id,
        account_id=order.account_id,
        type=TxType.BUY if fill.side == "buy" else TxType.SELL,
        trade_date=row.trade_date,
        symbol=fill.symbol,
        quantity=row.quantity,
        price=row.price,
        fees=row.commission,
        note=f"{order.broker} order {order.client_order_id}",
        source=TxSource.BROKER,
        external_id=f"fill:{order.client_order_id}:{row.fill_key}"[:120],
    )
    db.add(tx)
    db.flush()
    if fill.side == "sell" and fill.symbol == order.symbol:
        for lot_id, qty in _picks(db, order, row.quantity):
            db.add(LotPick(sell_id=tx.id, lot_id=lot_id, quantity=qty))
    row.transaction_id = tx.id
    db.add(row)
    return True


def _sync(db: Session, broker: Broker, order: BrokerOrder) -> int:
    """Refresh one order from the broker and book its new fills; returns how many were booked."""
    if order.status == "pending":
        _send(db, broker, order)
    state = broker.order(order.client_order_id)
    if state is not None:
        _apply(order, state)
    fills = broker.fills(order.client_order_id) if state is not None else []
    booked = sum(_book_fill(db, order, f) for f in fills)
    db.add(order)
    if booked:
        portfolio = db.get(Portfolio, order.portfolio_id)
        portfolio.ledger_version += 1
        db.add(portfolio)
        audit.record(db, None, "order.fill", "broker_order", order.id, after=_order_view(order))
    db.commit()
    return booked


# --- use cases --------------------------------------------------------------------------------------------------


def _plan_orders(db: Session, plan: RebalancePlan) -> list[BrokerOrder]:
    stmt = select(BrokerOrder).where(BrokerOrder.plan_id == plan.id).order_by(col(BrokerOrder.plan_row))
    return sorted(db.exec(stmt).all(), key=lambda o: (o.side != "sell", o.plan_row))


def _write_orders(db: Session, viewer: Viewer, plan: RebalancePlan, account: Account, kind: str, conn: int | None):
    for row, t in enumerate(plan.trades):
        db.add(
            BrokerOrder(
                portfolio_id=plan.portfolio_id,
                account_id=account.id,
                plan_id=plan.id,
                plan_row=row,
                broker=kind,
                connection_id=conn,
                client_order_id=f"p{plan.id}-{row}",
                symbol=t["symbol"],
                side=t["side"],
                quantity=Decimal(str(round(t["quantity"], 6))),
                created_by=viewer.user_id,
            )
        )
    plan.status, plan.broker = PlanStatus.EXECUTING.value, kind
    db.add(plan)
    audit.record(db, viewer, "plan.execute", "rebalance_plan", plan.id, after={"broker": kind})
    db.commit()


def execute_plan(db: Session, viewer: Viewer, plan_id: int, broker_kind: str | None = None) -> ExecutionReport:
    """Send an approved plan's orders (or resume an executing one), then book what filled."""
    plan = rebalance.get_plan(db, viewer, plan_id, write=True)
    if plan.status not in (PlanStatus.APPROVED.value, PlanStatus.EXECUTING.value):
        raise InvalidInput(f"Plan #{plan.id} is {plan.status}; only an approved plan can be executed.")
    portfolio = db.get(Portfolio, plan.portfolio_id)
    kind = broker_kind or plan.broker
    if plan.status == PlanStatus.EXECUTING.value and kind != plan.broker:
        raise InvalidInput(f"Plan #{plan.id} is already executing through {plan.broker}.")
    broker, account, conn = broker_for(db, portfolio, kind)
    if plan.status == PlanStatus.APPROVED.value:
        latest = performance.price_version(db)[2]
        if latest is not None and plan.price_date != latest.isoformat():
            raise InvalidInput(
                f"Plan #{plan.id} was computed on the prices of {plan.price_date}; prices now go to {latest}. "
                "Plan again so the trades match the market."
            )
        intents = [
            pretrade.Intent(t["symbol"], t["side"], Decimal(str(round(t["quantity"], 6))), t["price"])
            for t in plan.trades
        ]
        _checked(db, viewer, portfolio, broker, intents, plan.inputs.get("cost_rate", 0.0))
        _write_orders(db, viewer, plan, account, kind, conn)
    orders = _plan_orders(db, plan)
    booked = sum(_sync(db, broker, o) for o in orders)
    return _finish(db, plan, orders, booked)


def _finish(db: Session, plan: RebalancePlan, orders: list[BrokerOrder], booked: int) -> ExecutionReport:
    still_open = [o for o in orders if o.status in OPEN_STATUSES]
    if not still_open and plan.status == PlanStatus.EXECUTING.value:
        plan.status, plan.executed_at = PlanStatus.EXECUTED.value, utcnow()
        db.add(plan)
        audit.record(db, None, "plan.executed", "rebalance_plan", plan.id, after={"orders": len(orders)})
        db.commit()
    return ExecutionReport(
        plan.id,
        sent=sum(o.status != "pending" for o in orders),
        filled=sum(o.status == "filled" for o in orders),
        open=len(still_open),
        rejected=[f"{o.side} {o.symbol}: {o.message}" for o in orders if o.status == "rejected"],
        booked=booked,
        status=plan.status,
    )


def _validate(o: OrderRequest) -> None:
    for value, allowed, what in (
        (o.side, SIDES, "side"),
        (o.order_type, ORDER_TYPES, "order type"),
        (o.time_in_force, TIMES_IN_FORCE, "time in force"),
        (o.order_class, ORDER_CLASSES, "order class"),
    ):
        if value not in allowed:
            raise InvalidInput(f"Unknown {what} {value!r}: choose one of {', '.join(allowed)}.")
    if (o.quantity is None) == (o.notional is None):
        raise InvalidInput("Give either a quantity of shares or an amount of money, not both.")
    needs = {"limit": ("limit_price",), "stop": ("stop_price",), "stop_limit": ("limit_price", "stop_price")}
    needs["trailing_stop"] = ("trail_percent",)
    for name in needs.get(o.order_type, ()):
        value = getattr(o, name)
        if value is None or not value.is_finite() or value <= 0:
            raise InvalidInput(f"A {o.order_type.replace('_', '-')} order needs a {name.replace('_', ' ')} above 0.")


def place_order(
    db: Session, viewer: Viewer, portfolio_id: int, o: OrderRequest, broker_kind: str | None = None
) -> BrokerOrder:
    """Check, write and send one order (owner or a role that may change the portfolio); audited. The order's
    ``client_order_id`` is assigned here (leave it empty)."""
    portfolio = portfolios.writable(db, viewer, portfolio_id)
    _validate(o)
    kind = broker_kind or rebalance.settings_for(db, portfolio_id).broker
    broker, account, conn = broker_for(db, portfolio, kind)
    price = rebalance.last_closes(db, [o.symbol], performance.price_version(db)[2])[o.symbol]
    quantity = o.quantity if o.quantity is not None else (o.notional / Decimal(str(price))).quantize(Decimal("1e-6"))
    cost_rate = rebalance.plan_settings(rebalance.settings_for(db, portfolio_id)).cost_rate
    _checked(db, viewer, portfolio, broker, [pretrade.Intent(o.symbol, o.side, quantity, price)], cost_rate)
    order = BrokerOrder(
        portfolio_id=portfolio_id,
        account_id=account.id,
        broker=kind,
        connection_id=conn,
        client_order_id=f"o{portfolio_id}-{utcnow():%Y%m%d%H%M%S%f}",
        symbol=o.symbol,
        side=o.side,
        order_type=o.order_type,
        order_class=o.order_class,
        time_in_force=o.time_in_force,
        quantity=o.quantity,
        notional=o.notional,
        limit_price=o.limit_price,
        stop_price=o.stop_price,
        trail_percent=o.trail_percent,
        legs={k: f"{v:f}" for k, v in (("take_profit", o.take_profit), ("stop_loss", o.stop_loss)) if v is not None},
        created_by=viewer.user_id,
    )
    db.add(order)
    audit.record(db, viewer, "order.create", "broker_order", order.client_order_id, after=_order_view(order))
    db.commit()
    _sync(db, broker, order)
    return order


def _owned_order(db: Session, viewer: Viewer, order_id: int) -> BrokerOrder:
    order = db.get(BrokerOrder, order_id)
    if order is None:
        raise Forbidden(ORDER_NOT_FOUND)
    try:
        portfolios.writable(db, viewer, order.portfolio_id)
    except Forbidden as exc:
        raise Forbidden(ORDER_NOT_FOUND) from exc
    return order


def _order_broker(db: Session, order: BrokerOrder) -> Broker:
    portfolio = db.get(Portfolio, order.portfolio_id)
    return broker_for(db, portfolio, order.broker, order.connection_id)[0]


def cancel_order(db: Session, viewer: Viewer, order_id: int) -> BrokerOrder:
    """Cancel an open order at its broker (a pending one that never left is just canceled here); audited."""
    order = _owned_order(db, viewer, order_id)
    if order.status not in OPEN_STATUSES:
        raise InvalidInput(f"Order {order.client_order_id} is {order.status}; only an open order can be canceled.")
    broker = _order_broker(db, order)
    before = _order_view(order)
    try:
        state = broker.cancel(order.client_order_id) if broker.order(order.client_order_id) else None
    except BrokerError as exc:
        raise InvalidInput(f"The broker did not cancel order {order.client_order_id}: {exc}") from exc
    if state is None:
        order.status, order.updated_at = "canceled", utcnow()
    else:
        _apply(order, state)
    db.add(order)
    audit.record(db, viewer, "order.cancel", "broker_order", order.id, before=before, after=_order_view(order))
    db.commit()
    _sync(db, broker, order)
    return order


def sync_portfolio_orders(db: Session, viewer: Viewer, portfolio_id: int) -> ExecutionReport:
    """``sync_open_orders`` for one portfolio, asked for by someone who may change it."""
    portfolios.writable(db, viewer, portfolio_id)
    return sync_open_orders(db, portfolio_id)


def sync_open_orders(db: Session, portfolio_id: int | None = None) -> ExecutionReport:
    """Bring every open order (of one portfolio, or all) up to date, match paper orders against new bars, book
    fills, and close plans whose orders are all done. Run by the job runner."""
    stmt = select(BrokerOrder).where(col(BrokerOrder.status).in_([s.value for s in OPEN_STATUSES]))
    if portfolio_id is not None:
        stmt = stmt.where(BrokerOrder.portfolio_id == portfolio_id)
    orders = list(db.exec(stmt.order_by(col(BrokerOrder.id))).all())
    brokers: dict[tuple, Broker] = {}
    booked = 0
    for order in orders:
        key = (order.portfolio_id, order.broker, order.connection_id)
        if key not in brokers:
            brokers[key] = _order_broker(db, order)
            if order.broker == BrokerKind.PAPER.value:
                brokers[key].match_open_orders()
        booked += _sync(db, brokers[key], order)
    for plan in db.exec(select(RebalancePlan).where(RebalancePlan.status == PlanStatus.EXECUTING.value)).all():
        _finish(db, plan, _plan_orders(db, plan), 0)
    still_open = sum(o.status in OPEN_STATUSES for o in orders)
    return ExecutionReport(None, len(orders), sum(o.status == "filled" for o in orders), still_open, [], booked, "")


@dataclass(frozen=True)
class OrderRow:
    """An order as the orders page shows it."""

    id: int
    client_order_id: str
    created: str
    broker: str
    symbol: str
    side: str
    description: str
    status: str
    filled: str
    average_price: str
    message: str
    plan_id: int | None
    is_open: bool


def _describe(o: BrokerOrder) -> str:
    size = plain(o.quantity) if o.quantity is not None else f"${o.notional:,.2f}"
    parts = [o.order_type.replace("_", "-"), size]
    if o.limit_price is not None:
        parts.append(f"limit {o.limit_price:,.2f}")
    if o.stop_price is not None:
        parts.append(f"stop {o.stop_price:,.2f}")
    if o.trail_percent is not None:
        parts.append(f"trail {plain(o.trail_percent)}%")
    if o.order_class != "simple":
        parts.append(o.order_class)
    return " · ".join([*parts, o.time_in_force.upper()])


def list_orders(db: Session, viewer: Viewer, portfolio_id: int, limit: int = 200) -> list[OrderRow]:
    """The portfolio's orders, newest first (anyone who may read the portfolio)."""
    portfolios.readable(db, viewer, portfolio_id)
    stmt = (
        select(BrokerOrder)
        .where(BrokerOrder.portfolio_id == portfolio_id)
        .order_by(col(BrokerOrder.id).desc())
        .limit(limit)
    )
    return [
        OrderRow(
            o.id,
            o.client_order_id,
            f"{o.created_at:%Y-%m-%d %H:%M}",
            o.broker,
            o.symbol,
            o.side,
            _describe(o),
            o.status.replace("_", " "),
            plain(o.filled_quantity),
            f"{o.average_price:,.2f}" if o.average_price is not None else "",
            o.message,
            o.plan_id,
            o.status in OPEN_STATUSES,
        )
        for o in db.exec(stmt).all()
    ]


@dataclass(frozen=True)
class PositionDifference:
    """A symbol whose shares differ between the ledger and the broker."""

    symbol: str
    ledger: Decimal
    broker: Decimal
    broker_average_price: Decimal

    @property
    def difference(self) -> Decimal:
        return self.broker - self.ledger


def reconcile(db: Session, viewer: Viewer, portfolio_id: int) -> list[PositionDifference]:
    """The portfolio's holdings against its Alpaca account's positions, symbol by symbol (differences only)."""
    portfolio = portfolios.readable(db, viewer, portfolio_id)
    broker, _, _ = broker_for(db, portfolio, BrokerKind.ALPACA.value)
    try:
        positions = {p.symbol: p for p in broker.positions()}
    except BrokerError as exc:
        raise InvalidInput(f"Alpaca did not answer: {exc}") from exc
    book = performance.snapshot(db, viewer, portfolio_id).book
    symbols = sorted(set(positions) | {s for s in book.open_lots if book.quantity(s)})
    rows = [
        PositionDifference(
            s,
            book.quantity(s),
            positions[s].quantity if s in positions else Decimal(0),
            positions[s].average_price if s in positions else Decimal(0),
        )
        for s in symbols
    ]
    return [r for r in rows if r.difference != 0]


def adopt_broker_position(db: Session, viewer: Viewer, portfolio_id: int, symbol: str) -> Transaction:
    """Resolve one difference by the broker's count: a transfer in (at the broker's average price) or out, dated
    the last price date, written as an explicit, audited ledger entry (never a silent overwrite)."""
    portfolio = portfolios.writable(db, viewer, portfolio_id)
    diff = next((d for d in reconcile(db, viewer, portfolio_id) if d.symbol == symbol), None)
    if diff is None:
        raise InvalidInput(f"The ledger and Alpaca agree on {symbol}; there is nothing to resolve.")
    account = _ledger_account(db, portfolio, BrokerKind.ALPACA.value)
    incoming = diff.difference > 0
    tx = Transaction(
        portfolio_id=portfolio_id,
        account_id=account.id,
        type=TxType.TRANSFER_IN if incoming else TxType.TRANSFER_OUT,
        trade_date=performance.price_version(db)[2],
        symbol=symbol,
        quantity=abs(diff.difference),
        price=diff.broker_average_price if incoming else Decimal(0),
        note=f"reconciliation with Alpaca: ledger {plain(diff.ledger)}, broker {plain(diff.broker)}",
        source=TxSource.BROKER,
    )
    db.add(tx)
    portfolio.ledger_version += 1
    db.add(portfolio)
    db.flush()
    audit.record(
        db,
        viewer,
        "reconcile.adopt",
        "portfolio",
        portfolio_id,
        before={"symbol": symbol, "ledger": plain(diff.ledger)},
        after={"broker": plain(diff.broker), "transaction": tx.id},
    )
    db.commit()
    return tx
