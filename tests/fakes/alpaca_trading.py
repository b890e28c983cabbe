"""Alpaca's trading API on the fake server (tests/fakes/alpaca_server.py), for the real alpaca-py TradingClient.

``FakeTrading(server)`` registers, on the same ``FakeAlpaca`` (same key checks, request log and ``fail`` /
``delay`` / ``drop_after_accept`` faults): GET /v2/account; GET /v2/assets/{symbol_or_id}; POST /v2/orders;
GET /v2/orders (status=open|closed|all, limit 1-500 (50), nested, direction, symbols); GET /v2/orders/{order_id}
(nested); GET /v2/orders:by_client_order_id (legs not rolled up, like GET by id without nested); DELETE
/v2/orders/{order_id} (204; 422 when the order is no longer open); GET /v2/positions; GET /v2/positions/{symbol};
GET /v2/clock. Shapes are Alpaca's: UUID strings, RFC 3339 times, numbers as strings where Alpaca sends strings.

The account is a cash account (multiplier 1): ``buying_power`` = ``cash`` − the cost of open buy orders (remaining
qty × limit price, else stop price, else the market price; or the notional); equity = cash + Σ qty × price.
``prices`` holds the market price per symbol (default: the symbol's last close in the server's bars, e.g. SPY's
real 2018-12-31 close 249.92); ``market_open`` the clock. When open, market orders fill at once at the price and
limit orders fill at the price when marketable (buy: price ≤ limit; sell: price ≥ limit), else rest as "new";
stop, stop-limit and trailing-stop orders rest. When closed, every new order is "accepted" and nothing fills.
``execute`` fills (part of) a resting order or a leg at a given price, as the exchange would.

Bracket: the entry with two sell (buy) legs, take-profit limit and stop-loss stop, both "held" until the entry
fills, then the take-profit is "new". OCO: the take-profit limit is the order, the stop its one leg ("held").
When an exit fills, the other exits are canceled. Positions follow fills (signed qty, average entry price that
only changes when the position grows or flips).

Refusals, as Alpaca answers them: an invalid shape → 422 ``{"code": 40010001, "message": ...}`` (limit without
limit_price, qty and notional both, fractional or notional where not allowed: fractional needs a fractionable
asset and a simple market/limit day order, notional a simple market day order); a reused client_order_id → 422
"client_order_id must be unique"; a buy beyond buying power → 403 ``{"buying_power", "code": 40310000,
"cost_basis", "message": "insufficient buying power"}``; a sell beyond the held quantity not reserved by open sells
(unless shorting is enabled and the asset shortable) → 403 "insufficient qty available for order (requested: q,
available: a)", which is how Alpaca refuses it.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.alpaca_server import ORDERS_PATH, FakeAlpaca, Handler, Request, Response, error, load_resource_bars

ACCOUNT_ID = "3f1c2a9e-6b1d-4c8e-9a47-0d2b8e5f7c11"
INVALID = 40010001
FORBIDDEN = 40310000
NOT_FOUND = 40410000
NOT_CANCELABLE = 42210000
OPEN_STATUSES = frozenset(
    {"new", "accepted", "pending_new", "partially_filled", "held", "pending_cancel", "done_for_day", "calculated"}
)
PRICE_FIELDS = {
    "market": (),
    "limit": ("limit_price",),
    "stop": ("stop_price",),
    "stop_limit": ("limit_price", "stop_price"),
    "trailing_stop": (),
}
NINE_PLACES = Decimal("1e-9")


def _num(value: Decimal | None) -> str | None:
    """A Decimal as Alpaca's numeric string ("10", "0.5", "249.92")."""
    return None if value is None else format(value.normalize(), "f")


def _time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Refusal(Exception):
    """An order the fake refuses: carries Alpaca's error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.body.get("message"))
        self.response = response


def _invalid(message: str) -> Refusal:
    return Refusal(error(422, INVALID, message))


@dataclass
class FakeAsset:
    """One tradable symbol."""

    symbol: str
    exchange: str = "ARCA"
    tradable: bool = True
    fractionable: bool = True
    shortable: bool = False
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "class": "us_equity",
            "exchange": self.exchange,
            "symbol": self.symbol,
            "name": f"{self.symbol} (fake)",
            "status": "active",
            "tradable": self.tradable,
            "marginable": True,
            "maintenance_margin_requirement": 30,
            "shortable": self.shortable,
            "easy_to_borrow": self.shortable,
            "fractionable": self.fractionable,
            "attributes": [],
        }


@dataclass(eq=False)
class FakeOrder:
    """An order (or a leg) as the fake keeps it; ``seq`` is the submission order; compared by identity."""

    seq: int
    client_order_id: str
    asset: FakeAsset
    side: str
    type: str
    time_in_force: str
    order_class: str
    qty: Decimal | None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    status: str = "new"
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    legs: list[FakeOrder] = field(default_factory=list)
    parent: FakeOrder | None = field(default=None, repr=False)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: dt.datetime = field(default_factory=_now)
    updated_at: dt.datetime = field(default_factory=_now)
    filled_at: dt.datetime | None = None
    canceled_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        return (self.qty or Decimal(0)) - self.filled_qty

    def json(self, nested: bool) -> dict[str, Any]:
        """Alpaca's order object; legs rolled up only when ``nested``."""
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": _time(self.created_at),
            "updated_at": _time(self.updated_at),
            "submitted_at": _time(self.created_at),
            "filled_at": _time(self.filled_at),
            "expired_at": None,
            "canceled_at": _time(self.canceled_at),
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": self.asset.id,
            "symbol": self.asset.symbol,
            "asset_class": "us_equity",
            "notional": _num(self.notional),
            "qty": _num(self.qty),
            "filled_qty": _num(self.filled_qty),
            "filled_avg_price": _num(self.filled_avg_price),
            "order_class": self.order_class,
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "time_in_force": self.time_in_force,
            "limit_price": _num(self.limit_price),
            "stop_price": _num(self.stop_price),
            "status": self.status,
            "extended_hours": False,
            "legs": [leg.json(nested) for leg in self.legs] if nested and self.legs else None,
            "trail_percent": _num(self.trail_percent),
            "trail_price": None,
            "hwm": _num(self.hwm),
        }


class FakeTrading:
    """Account, assets, orders, positions and clock of one fake Alpaca account; see the module docstring."""

    def __init__(self, server: FakeAlpaca, cash: Decimal = Decimal(100_000)) -> None:
        self.server = server
        self.cash = cash
        self.market_open = True
        self.shorting_enabled = False
        last = server.bars.groupby("symbol")["close"].last()
        self.prices: dict[str, Decimal] = {symbol: Decimal(str(close)) for symbol, close in last.items()}
        self.assets: dict[str, FakeAsset] = {"SPY": FakeAsset("SPY")}
        self.orders: list[FakeOrder] = []  # top-level orders, legs hang below them
        self.positions: dict[str, tuple[Decimal, Decimal]] = {}  # symbol → (signed qty, average entry price)
        today = _now().date()
        self.next_open = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(13, 30), dt.UTC)
        self.next_close = dt.datetime.combine(today, dt.time(21, 0), dt.UTC)
        self._lock = threading.RLock()
        for method, path, handler in (
            ("GET", "/v2/account", self.get_account),
            ("GET", "/v2/assets/{symbol_or_id}", self.get_asset),
            ("POST", ORDERS_PATH, self.post_order),
            ("GET", ORDERS_PATH, self.list_orders),
            ("GET", "/v2/orders:by_client_order_id", self.get_order_by_client_id),
            ("GET", "/v2/orders/{order_id}", self.get_order),
            ("DELETE", "/v2/orders/{order_id}", self.delete_order),
            ("GET", "/v2/positions", self.list_positions),
            ("GET", "/v2/positions/{symbol}", self.get_position),
            ("GET", "/v2/clock", self.get_clock),
        ):
            server.router.add(method, path, self._locked(handler))

    # --- test switches and views -----------------------------------------------------------------------------

    def add_asset(self, symbol: str, price: Decimal, **flags: Any) -> FakeAsset:
        """Make ``symbol`` tradable at ``price`` (flags: exchange, tradable, fractionable, shortable)."""
        with self._lock:
            self.assets[symbol] = FakeAsset(symbol, **flags)
            self.prices[symbol] = price
            return self.assets[symbol]

    def hold(self, symbol: str, qty: Decimal, avg_entry_price: Decimal) -> None:
        """Start with a position (no cash changes hands)."""
        with self._lock:
            self.positions[symbol] = (qty, avg_entry_price)

    def execute(self, client_order_id: str, qty: Decimal, price: Decimal, leg: int | None = None) -> FakeOrder:
        """Fill ``qty`` of the open order (or its ``leg``-th leg) at ``price``."""
        with self._lock:
            order = self._by_client_id(client_order_id)
            assert order is not None, f"no order {client_order_id}"
            target = order if leg is None else order.legs[leg]
            assert target.is_open and target.qty is not None and qty <= target.remaining, "cannot fill that"
            self._fill(target, qty, price)
            return target

    def order_posts(self) -> list[Request]:
        """The POST /v2/orders requests received, in order."""
        return [r for r in self.server.requests if r.method == "POST" and r.path == ORDERS_PATH]

    def all_orders(self) -> list[FakeOrder]:
        """Every order and leg held."""
        return [o for top in self.orders for o in (top, *top.legs)]

    # --- handlers --------------------------------------------------------------------------------------------

    def _locked(self, handler: Handler) -> Handler:
        def locked(request: Request) -> Response:
            with self._lock:
                return handler(request)

        return locked

    def get_account(self, request: Request) -> Response:
        values = [qty * self.prices[symbol] for symbol, (qty, _) in self.positions.items()]
        long_value = sum((v for v in values if v > 0), Decimal(0))
        short_value = sum((v for v in values if v < 0), Decimal(0))
        equity = self.cash + long_value + short_value
        power = self.buying_power()
        return Response(
            200,
            {
                "id": ACCOUNT_ID,
                "account_number": "PA3FAKE00001",
                "status": "ACTIVE",
                "currency": "USD",
                "buying_power": _num(power),
                "regt_buying_power": _num(power),
                "non_marginable_buying_power": _num(power),
                "cash": _num(self.cash),
                "accrued_fees": "0",
                "pending_transfer_in": "0",
                "portfolio_value": _num(equity),
                "equity": _num(equity),
                "last_equity": _num(equity),
                "long_market_value": _num(long_value),
                "short_market_value": _num(short_value),
                "initial_margin": "0",
                "maintenance_margin": "0",
                "last_maintenance_margin": "0",
                "sma": "0",
                "multiplier": "1",
                "shorting_enabled": self.shorting_enabled,
                "trading_blocked": False,
                "transfers_blocked": False,
                "account_blocked": False,
                "trade_suspended_by_user": False,
                "created_at": "2018-01-02T14:30:00Z",
            },
        )

    def get_asset(self, request: Request) -> Response:
        key = request.params["symbol_or_id"]
        found = self.assets.get(key) or next((a for a in self.assets.values() if a.id == key), None)
        if found is None:
            return error(404, NOT_FOUND, f"asset not found for {key}")
        return Response(200, found.json())

    def post_order(self, request: Request) -> Response:
        body = request.body if isinstance(request.body, dict) else {}
        try:
            order = self._new_order(body)
        except Refusal as refusal:
            return refusal.response
        self.orders.append(order)
        self._route(order)
        return Response(200, order.json(nested=True))

    def list_orders(self, request: Request) -> Response:
        query = request.query
        status = query.get("status", "open")
        limit = query.get("limit", "50")
        if status not in ("open", "closed", "all") or not (limit.isdigit() and 1 <= int(limit) <= 500):
            return error(422, INVALID, f"invalid status {status!r} or limit {limit!r} (limit 1-500)")
        nested = _flag(query.get("nested"))
        pool = self.orders if nested else self.all_orders()
        symbols = set(query["symbols"].split(",")) if query.get("symbols") else None
        chosen = [
            o
            for o in sorted(pool, key=lambda o: o.seq, reverse=query.get("direction", "desc") == "desc")
            if (status == "all" or o.is_open == (status == "open")) and (symbols is None or o.asset.symbol in symbols)
        ]
        return Response(200, [o.json(nested) for o in chosen[: int(limit)]])

    def get_order(self, request: Request) -> Response:
        order_id = request.params["order_id"]
        found = self._by_id(order_id)
        if found is None:
            return error(404, NOT_FOUND, f"order not found for {order_id}")
        return Response(200, found.json(_flag(request.query.get("nested"))))

    def get_order_by_client_id(self, request: Request) -> Response:
        client_order_id = request.query.get("client_order_id", "")
        found = self._by_client_id(client_order_id)
        if found is None:
            return error(404, NOT_FOUND, f"order not found for {client_order_id}")
        return Response(200, found.json(nested=False))

    def delete_order(self, request: Request) -> Response:
        order_id = request.params["order_id"]
        found = self._by_id(order_id)
        if found is None:
            return error(404, NOT_FOUND, f"order not found for {order_id}")
        if not found.is_open:
            return error(422, NOT_CANCELABLE, f'order is already in "{found.status}" state')
        for order in (found, *found.legs):
            self._cancel(order)
        return Response(204, None)

    def list_positions(self, request: Request) -> Response:
        return Response(200, [self._position_json(symbol) for symbol in sorted(self.positions)])

    def get_position(self, request: Request) -> Response:
        symbol = request.params["symbol"]
        if symbol not in self.positions:
            return error(404, NOT_FOUND, "position does not exist")
        return Response(200, self._position_json(symbol))

    def get_clock(self, request: Request) -> Response:
        eastern = ZoneInfo("America/New_York")  # Alpaca's clock speaks New York time
        return Response(
            200,
            {
                "timestamp": _now().astimezone(eastern).isoformat(),
                "is_open": self.market_open,
                "next_open": self.next_open.astimezone(eastern).isoformat(),
                "next_close": self.next_close.astimezone(eastern).isoformat(),
            },
        )

    # --- the order book --------------------------------------------------------------------------------------

    def buying_power(self) -> Decimal:
        """Cash less the cost of open buy orders (top-level ones; legs are contingent)."""
        reserved = sum((self._cost(o, o.remaining) for o in self.orders if o.is_open and o.side == "buy"), Decimal(0))
        return self.cash - reserved

    def _cost(self, order: FakeOrder, qty: Decimal) -> Decimal:
        if order.notional is not None:
            return order.notional
        return qty * (order.limit_price or order.stop_price or self.prices[order.asset.symbol])

    def _reserved_sells(self, asset: FakeAsset) -> Decimal:
        """Shares promised to open sell orders (top-level ones) of ``asset``."""
        return sum(
            (o.remaining for o in self.orders if o.is_open and o.side == "sell" and o.asset is asset), Decimal(0)
        )

    def _by_id(self, order_id: str) -> FakeOrder | None:
        return next((o for o in self.all_orders() if o.id == order_id), None)

    def _by_client_id(self, client_order_id: str) -> FakeOrder | None:
        return next((o for o in self.all_orders() if o.client_order_id == client_order_id), None)

    def _new_order(self, body: dict[str, Any]) -> FakeOrder:
        """The order ``body`` asks for, or a Refusal with Alpaca's error."""
        client_order_id = str(body.get("client_order_id") or uuid.uuid4())
        if self._by_client_id(client_order_id) is not None:
            raise _invalid("client_order_id must be unique")
        asset = self.assets.get(str(body.get("symbol", "")))
        if asset is None or not asset.tradable:
            raise _invalid(f"asset {body.get('symbol')!r} not found or not tradable")
        order = _parse_order(body, asset, client_order_id, seq=len(self.orders))
        _check_fractional(order)
        if order.side == "buy":
            self._check_buying_power(order)
        else:
            self._check_held(order)
        return order

    def _check_buying_power(self, order: FakeOrder) -> None:
        cost, power = self._cost(order, order.qty or Decimal(0)), self.buying_power()
        if cost > power:
            body = {"buying_power": _num(power), "code": FORBIDDEN, "cost_basis": _num(cost)}
            raise Refusal(Response(403, {**body, "message": "insufficient buying power"}))

    def _check_held(self, order: FakeOrder) -> None:
        symbol = order.asset.symbol
        wanted = order.qty if order.qty is not None else order.notional / self.prices[symbol]
        held = max(self.positions.get(symbol, (Decimal(0), Decimal(0)))[0], Decimal(0))
        reserved = self._reserved_sells(order.asset)
        if wanted > held - reserved and not (self.shorting_enabled and order.asset.shortable):
            available = _num(held - reserved)
            message = f"insufficient qty available for order (requested: {_num(wanted)}, available: {available})"
            raise Refusal(error(403, FORBIDDEN, message))

    def _route(self, order: FakeOrder) -> None:
        """After acceptance: "accepted" when closed; else fill a market or marketable limit order at the price."""
        price = self.prices[order.asset.symbol]
        if order.type == "trailing_stop":  # stop = high-water mark ∓ trail_percent (sell below, buy above)
            away = order.trail_percent / 100 if order.side == "buy" else -order.trail_percent / 100
            order.hwm, order.stop_price = price, (price * (1 + away)).quantize(Decimal("0.01"))
        if not self.market_open:
            order.status = "accepted"
            return
        marketable = order.type == "market" or (
            order.type == "limit"
            and (price <= order.limit_price if order.side == "buy" else price >= order.limit_price)
        )
        if marketable and order.notional is not None:
            self._fill(order, (order.notional / price).quantize(NINE_PLACES, ROUND_DOWN), price)
        elif marketable:
            self._fill(order, order.qty, price)

    def _fill(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        """Book ``qty`` at ``price``: the order's cumulative figures, the position, the cash, linked orders."""
        total = order.filled_qty + qty
        paid = order.filled_qty * (order.filled_avg_price or Decimal(0)) + qty * price
        order.filled_qty, order.filled_avg_price = total, (paid / total).quantize(NINE_PLACES)
        order.updated_at = _now()
        done = order.qty is None or total == order.qty
        order.status = "filled" if done else "partially_filled"
        order.filled_at = order.updated_at if done else None
        signed = qty if order.side == "buy" else -qty
        self.cash -= signed * price
        self._move_position(order.asset.symbol, signed, price)
        if done:
            self._after_fill(order)

    def _after_fill(self, order: FakeOrder) -> None:
        """A filled bracket entry arms its take-profit; a filled exit cancels the other exits."""
        if order.order_class == "bracket" and order.parent is None:
            order.legs[0].status = "new"
            return
        root = order.parent or order
        exits = [root, *root.legs] if root.order_class == "oco" else root.legs
        if order in exits:
            for other in exits:
                if other is not order and other.is_open:
                    self._cancel(other)

    def _move_position(self, symbol: str, signed: Decimal, price: Decimal) -> None:
        """Average entry: weighted when the position grows, kept when it shrinks, ``price`` when it flips."""
        qty, average = self.positions.get(symbol, (Decimal(0), Decimal(0)))
        new = qty + signed
        if new == 0:
            self.positions.pop(symbol, None)
            return
        if qty == 0 or (qty > 0) != (new > 0):
            average = price
        elif abs(new) > abs(qty):
            average = ((qty * average + signed * price) / new).quantize(NINE_PLACES)
        self.positions[symbol] = (new, average)

    def _cancel(self, order: FakeOrder) -> None:
        order.status, order.canceled_at = "canceled", _now()
        order.updated_at = order.canceled_at

    def _position_json(self, symbol: str) -> dict[str, Any]:
        qty, average = self.positions[symbol]
        price = self.prices[symbol]
        asset = self.assets.get(symbol) or FakeAsset(symbol)
        value, cost = qty * price, qty * average
        reserved = self._reserved_sells(asset)
        return {
            "asset_id": asset.id,
            "symbol": symbol,
            "exchange": asset.exchange,
            "asset_class": "us_equity",
            "asset_marginable": True,
            "qty": _num(qty),
            "qty_available": _num(qty - reserved),
            "avg_entry_price": _num(average),
            "side": "long" if qty > 0 else "short",
            "market_value": _num(value),
            "cost_basis": _num(cost),
            "unrealized_pl": _num(value - cost),
            "unrealized_plpc": _num(((value - cost) / abs(cost)).quantize(Decimal("1e-6"))),
            "unrealized_intraday_pl": "0",
            "unrealized_intraday_plpc": "0",
            "current_price": _num(price),
            "lastday_price": _num(price),
            "change_today": "0",
        }


def _flag(raw: str | None) -> bool:
    return (raw or "").lower() == "true"


def _decimal(body: dict[str, Any], key: str) -> Decimal | None:
    """A positive number sent as a JSON number or string, or None when absent."""
    raw = body.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise _invalid(f"invalid {key} {raw!r}") from None
    if not value.is_finite() or value <= 0 or isinstance(raw, bool):
        raise _invalid(f"{key} must be > 0")
    return value


def _parse_order(body: dict[str, Any], asset: FakeAsset, client_order_id: str, seq: int) -> FakeOrder:
    """A FakeOrder (with legs) from Alpaca's order request, or a Refusal for an invalid shape."""
    side, kind, tif = body.get("side"), body.get("type"), body.get("time_in_force")
    order_class = body.get("order_class") or "simple"
    if side not in ("buy", "sell") or kind not in PRICE_FIELDS or tif not in ("day", "gtc"):
        raise _invalid(f"invalid side {side!r}, type {kind!r} or time_in_force {tif!r} (this fake serves day, gtc)")
    qty, notional = _decimal(body, "qty"), _decimal(body, "notional")
    if (qty is None) == (notional is None):
        raise _invalid("exactly one of qty or notional is required")
    prices = {name: _decimal(body, name) for name in ("limit_price", "stop_price", "trail_percent")}
    required = () if order_class == "oco" else PRICE_FIELDS[kind]
    missing = [name for name in required if prices[name] is None]
    if missing or (kind == "trailing_stop" and prices["trail_percent"] is None):
        raise _invalid(f"{(missing or ['trail_percent'])[0]} is required for {kind} orders")
    order = FakeOrder(seq, client_order_id, asset, side, kind, tif, order_class, qty, notional, **prices)
    order.legs = _legs(body, order)
    return order


def _legs(body: dict[str, Any], order: FakeOrder) -> list[FakeOrder]:
    """Bracket: take-profit limit and stop-loss stop legs; OCO: the order is the take-profit, the stop its leg."""
    if order.order_class == "simple":
        if body.get("take_profit") or body.get("stop_loss"):
            raise _invalid("take_profit and stop_loss need order_class bracket or oco")
        return []
    if order.order_class not in ("bracket", "oco"):
        raise _invalid(f"invalid order_class {order.order_class!r} (this fake serves simple, bracket, oco)")
    take = _decimal(body.get("take_profit") or {}, "limit_price")
    stop = _decimal(body.get("stop_loss") or {}, "stop_price")
    if take is None or stop is None or order.qty is None:
        raise _invalid(f"{order.order_class} orders require qty, take_profit.limit_price and stop_loss.stop_price")
    if order.order_class == "oco":
        if order.type != "limit" or order.limit_price is not None:
            raise _invalid("oco orders must be limit orders whose limit is take_profit.limit_price")
        order.limit_price = take
        return [_leg(order, order.side, "stop", stop_price=stop)]
    exit_side = "sell" if order.side == "buy" else "buy"
    return [_leg(order, exit_side, "limit", limit_price=take), _leg(order, exit_side, "stop", stop_price=stop)]


def _leg(parent: FakeOrder, side: str, kind: str, **price: Decimal) -> FakeOrder:
    """A "held" leg of ``parent`` with its own (generated) client_order_id, as Alpaca makes them."""
    return FakeOrder(
        seq=parent.seq,
        client_order_id=str(uuid.uuid4()),
        asset=parent.asset,
        side=side,
        type=kind,
        time_in_force=parent.time_in_force,
        order_class=parent.order_class,
        qty=parent.qty,
        status="held",
        parent=parent,
        **price,
    )


def _check_fractional(order: FakeOrder) -> None:
    """Fractional qty: fractionable asset, simple market/limit day order; notional: simple market day order."""
    fractional = order.qty is not None and order.qty != order.qty.to_integral_value()
    if not (fractional or order.notional is not None):
        return
    kinds = ("market",) if order.notional is not None else ("market", "limit")
    if not order.asset.fractionable:
        raise _invalid(f"asset {order.asset.symbol} is not fractionable")
    if order.type not in kinds or order.time_in_force != "day" or order.order_class != "simple":
        raise _invalid("fractional orders must be simple day orders (notional: market only; qty: market or limit)")


@pytest.fixture(name="alpaca_trading")
def alpaca_trading_fixture() -> Iterator[FakeTrading]:
    """``alpaca_trading``: a running fake with the trading API (cash 100,000, market open, SPY at its real
    2018-12-31 close); ``.server`` is the FakeAlpaca (request log, faults). Import ``alpaca_trading_fixture``."""
    server = FakeAlpaca(load_resource_bars()).start()
    try:
        yield FakeTrading(server)
    finally:
        server.stop()
