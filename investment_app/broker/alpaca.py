"""The Alpaca broker: base.Broker over alpaca-py's TradingClient (paper or live keys; ``url_override`` for tests).

Orders map onto the SDK's request classes (MarketOrderRequest, LimitOrderRequest, StopOrderRequest,
StopLimitOrderRequest, TrailingStopOrderRequest with trail_percent); bracket = entry + ``take_profit`` limit +
``stop_loss`` stop; OCO = a limit exit whose limit is ``take_profit`` and whose leg is the ``stop_loss`` stop. Every
order carries our client_order_id. Alpaca's rules are checked before anything is sent (BrokerError
"invalid_order"): a fractional quantity needs a fractionable asset and a simple market or limit day order;
a notional needs a fractionable asset and a simple market day order; at most 9 decimals.

Idempotent submit. Alpaca refuses a second order under a client_order_id it holds (422 "client_order_id must be
unique"), so a POST may be repeated safely; ``submit`` never places twice and never reports a placed order as
failed: when the POST fails without a definite answer (timeout, dropped connection, 429, 5xx) it looks the key up
(GET /v2/orders:by_client_order_id) and returns the order if Alpaca has it; otherwise it waits ``backoff`` × 2^n
seconds and posts again, ``attempts`` POSTs at most. A 422 duplicate-key answer means an earlier attempt landed:
that order is fetched and returned (if it is the same symbol, side and quantity; else "invalid_order").

alpaca-py's own retries. RESTClient retries any request answered 429 or 504 (``retry_exception_codes``) up to
``retry_attempts`` = 3 times, 3 s apart, POST included; it never retries a timeout or a dropped connection (requests
raises them) and sets no timeout at all. Its retried POST could not double-place (same client_order_id: the
repeat would get the 422 above), but it would block 9 s and hide what happened, and TradingClient does not expose
these settings. So this class sets the client's retries to 0 and gives its session ``timeout``: one retry policy,
here. Reads (and the cancel DELETE, which is idempotent) are retried the same bounded way.

Fills. TradingClient in alpaca-py 0.44 has no account-activities call (GET /v2/account/activities/FILL is only in
BrokerClient), so ``fills`` is derived from the order as Alpaca reports it: one cumulative Fill per order or leg
with something filled, key "cumulative" (a leg: "cumulative:<leg id>"), quantity = filled_qty, price =
filled_avg_price, commission 0 (Alpaca charges none on stocks), trade_date = the New York date of filled_at (of
updated_at while partially filled). The same key comes back with a larger quantity as the order fills: the
caller books the increment since its last sync (Δqty at (qty·avg − qty₀·avg₀) / Δqty).

Errors become BrokerError: 401 unauthorized; 403 insufficient_buying_power when Alpaca says "insufficient buying
power", invalid_order when it says "insufficient qty" (a sell of more than is held), else forbidden; 400/422 and
other 4xx invalid_order; 404 not_found; 429 rate_limited; 5xx unavailable; timeout; a lost connection
unavailable; the last four retryable. Messages keep Alpaca's text; keys never appear in messages or logs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrderByIdRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)
from alpaca.trading.requests import OrderRequest as AlpacaOrderRequest

from investment_app.broker.base import (
    ORDER_CLASSES,
    ORDER_TYPES,
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

log = logging.getLogger(__name__)
T = TypeVar("T")
NEW_YORK = ZoneInfo("America/New_York")
MAX_ORDERS = 500  # Alpaca's largest page of GET /v2/orders
MAX_DECIMALS = 9
DUPLICATE_KEY = "client_order_id must be unique"
CANCELED = ("canceled", "pending_cancel")
REQUEST_CLASSES: dict[str, type[AlpacaOrderRequest]] = {
    "market": MarketOrderRequest,
    "limit": LimitOrderRequest,
    "stop": StopOrderRequest,
    "stop_limit": StopLimitOrderRequest,
    "trailing_stop": TrailingStopOrderRequest,
}
PRICE_FIELDS = {
    "market": (),
    "limit": ("limit_price",),
    "stop": ("stop_price",),
    "stop_limit": ("limit_price", "stop_price"),
    "trailing_stop": ("trail_percent",),
}
STATUS_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}


class _TimeoutSession(requests.Session):
    """A requests Session whose requests time out after ``timeout`` seconds (alpaca-py passes none)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


class AlpacaBroker:
    """Broker over Alpaca's trading API; see the module docstring for idempotency, retries and fills."""

    name = "alpaca"

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        paper: bool = True,
        url_override: str | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.25,
    ) -> None:
        if not api_key or not secret_key:
            raise ValueError("Alpaca needs an API key and its secret key")
        if timeout <= 0 or attempts < 1 or backoff < 0:
            raise ValueError("timeout must be > 0, attempts ≥ 1 and backoff ≥ 0")
        self._client = TradingClient(api_key, secret_key, paper=paper, url_override=url_override or None)
        self._client._retry = 0  # the SDK's own 429/504 retries: off, see the module docstring
        self._client._session = _TimeoutSession(timeout)
        self._timeout = timeout
        self._attempts = attempts
        self._backoff = backoff

    # --- reads -----------------------------------------------------------------------------------------------

    def account(self) -> AccountInfo:
        found = self._read(self._client.get_account)
        return AccountInfo(
            cash=_decimal(found.cash) or Decimal(0),
            buying_power=_decimal(found.buying_power) or Decimal(0),
            equity=_decimal(found.equity or found.portfolio_value) or Decimal(0),
            currency=found.currency or "USD",
            status=_text(found.status),
        )

    def positions(self) -> list[Position]:
        return [
            Position(p.symbol, Decimal(p.qty), Decimal(p.avg_entry_price), _decimal(p.market_value))
            for p in self._read(self._client.get_all_positions)
        ]

    def orders(self, open_only: bool = False) -> list[OrderState]:
        """The most recent orders first (Alpaca's largest page: 500), legs under their orders."""
        status = QueryOrderStatus.OPEN if open_only else QueryOrderStatus.ALL
        found = self._read(self._client.get_orders, GetOrdersRequest(status=status, limit=MAX_ORDERS, nested=True))
        return [_order_state(order) for order in found]

    def order(self, client_order_id: str) -> OrderState | None:
        found = self._fetch(client_order_id)
        return None if found is None else _order_state(found)

    def fills(self, client_order_id: str) -> list[Fill]:
        """The cumulative fill of the order and of each leg (see the module docstring)."""
        found = self._fetch(client_order_id)
        if found is None:
            raise BrokerError("not_found", f"Alpaca has no order with client_order_id {client_order_id!r}")
        parts = [("cumulative", found)] + [(f"cumulative:{leg.id}", leg) for leg in found.legs or ()]
        return [_fill(client_order_id, key, part) for key, part in parts if (_decimal(part.filled_qty) or 0) > 0]

    def clock(self) -> Clock:
        found = self._read(self._client.get_clock)
        return Clock(found.is_open, found.next_open.astimezone(dt.UTC), found.next_close.astimezone(dt.UTC))

    def asset(self, symbol: str) -> Asset | None:
        try:
            found = self._read(self._client.get_asset, symbol)
        except BrokerError as error:
            if error.code == "not_found":
                return None
            raise
        extra = {"exchange": _text(found.exchange), "status": _text(found.status), "name": found.name}
        return Asset(found.symbol, found.tradable, found.fractionable, found.shortable, extra)

    # --- orders ----------------------------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> OrderState:
        """Place the order once, whatever the network does (see the module docstring). Raises BrokerError."""
        self._check(request)
        body = _alpaca_request(request)
        failures = 0
        while True:
            try:
                placed = _order_state(self._call(self._client.submit_order, body))
                log.info("alpaca order %s placed: %s", request.client_order_id, placed.status)
                return placed
            except BrokerError as error:
                if error.code == "invalid_order" and DUPLICATE_KEY in str(error).lower():
                    return self._existing(request, error)
                if not error.retryable:
                    raise
                failures += 1
                landed = self._landed(request)
                if landed is not None:
                    return landed
                if failures >= self._attempts:
                    raise
                log.warning("alpaca order %s not placed (%s); posting again", request.client_order_id, error.code)
            time.sleep(self._backoff * 2 ** (failures - 1))

    def cancel(self, client_order_id: str) -> OrderState:
        """Cancel by Alpaca's id of that order; an order already canceled comes back as it is."""
        found = self._fetch(client_order_id)
        if found is None:
            raise BrokerError("not_found", f"Alpaca has no order with client_order_id {client_order_id!r}")
        refusal = None
        try:
            self._read(self._client.cancel_order_by_id, found.id)
        except BrokerError as error:
            if error.code != "invalid_order":
                raise
            refusal = error
        current = self._fetch(client_order_id) or found
        if refusal is not None and _text(current.status) not in CANCELED:
            raise refusal
        return _order_state(current)

    # --- plumbing --------------------------------------------------------------------------------------------

    def _check(self, request: OrderRequest) -> None:
        """Refuse, before sending an order, what Alpaca would refuse (fractionability needs the asset)."""
        problem = _shape_problem(request)
        if problem is None and _is_fractional(request):
            asset = self.asset(request.symbol)
            if asset is None or not asset.fractionable:
                what = "is unknown to Alpaca" if asset is None else "is not fractionable at Alpaca"
                problem = f"{request.symbol} {what}: order whole shares"
        if problem is not None:
            raise BrokerError("invalid_order", f"order {request.client_order_id}: {problem}")

    def _fetch(self, client_order_id: str) -> Order | None:
        """The SDK's order with this key, legs rolled up; None when Alpaca answers 404."""
        try:
            found = self._read(self._client.get_order_by_client_id, client_order_id)
        except BrokerError as error:
            if error.code == "not_found":
                return None
            raise
        if found.order_class not in (OrderClass.SIMPLE, None) and not found.legs:
            found = self._read(self._client.get_order_by_id, found.id, GetOrderByIdRequest(nested=True))
        return found

    def _landed(self, request: OrderRequest) -> OrderState | None:
        """After a failed POST: the order if Alpaca has it; None when it has not, or cannot say now."""
        try:
            found = self.order(request.client_order_id)
        except BrokerError as error:
            if error.retryable:
                return None
            raise
        return None if found is None else _same_order(found, request)

    def _existing(self, request: OrderRequest, refusal: BrokerError) -> OrderState:
        """The order Alpaca already holds under this key (a duplicate-key 422)."""
        found = self.order(request.client_order_id)
        if found is None:
            raise refusal
        return _same_order(found, request)

    def _read(self, method: Callable[..., T], *args: Any) -> T:
        """``method(*args)``, repeated on retryable errors: ``attempts`` calls at most, backoff × 2^n apart."""
        failures = 0
        while True:
            try:
                return self._call(method, *args)
            except BrokerError as error:
                failures += 1
                if not error.retryable or failures >= self._attempts:
                    raise
                log.warning("alpaca %s failed (%s); retrying", getattr(method, "__name__", "call"), error.code)
            time.sleep(self._backoff * 2 ** (failures - 1))

    def _call(self, method: Callable[..., T], *args: Any) -> T:
        """One SDK call; its failures as BrokerError (without the SDK's request, which carries the keys)."""
        try:
            return method(*args)
        except APIError as exc:
            raise _api_error(exc) from None
        except requests.Timeout:
            raise BrokerError("timeout", f"Alpaca did not answer within {self._timeout:g} s", True) from None
        except requests.RequestException as exc:
            raise BrokerError("unavailable", f"Alpaca could not be reached: {exc}", True) from None


def _shape_problem(request: OrderRequest) -> str | None:
    """What Alpaca would refuse in the order's shape, if anything (no network needed)."""
    if not request.symbol or not request.client_order_id:
        return "symbol and client_order_id are required"
    choices = ((request.side, SIDES), (request.order_type, ORDER_TYPES), (request.time_in_force, TIMES_IN_FORCE))
    for value, allowed in (*choices, (request.order_class, ORDER_CLASSES)):
        if value not in allowed:
            return f"{value!r} is not one of {', '.join(allowed)}"
    return _amount_problem(request) or _price_problem(request) or _class_problem(request) or _fraction_problem(request)


def _amount_problem(request: OrderRequest) -> str | None:
    if (request.quantity is None) == (request.notional is None):
        return "give exactly one of quantity or notional"
    amount = request.quantity if request.quantity is not None else request.notional
    if not amount.is_finite() or amount <= 0:
        return "the quantity or notional must be positive"
    if -amount.normalize().as_tuple().exponent > MAX_DECIMALS:
        return f"Alpaca takes at most {MAX_DECIMALS} decimals"
    return None


def _price_problem(request: OrderRequest) -> str | None:
    """Each type's prices present and positive, no others (an OCO's limit is its take_profit)."""
    wanted = () if request.order_class == "oco" else PRICE_FIELDS[request.order_type]
    for name in ("limit_price", "stop_price", "trail_percent"):
        value = getattr(request, name)
        if (value is not None) != (name in wanted):
            verb = "needs" if value is None else "takes no"
            return f"a {request.order_class} {request.order_type} order {verb} {name}"
        if value is not None and not (value.is_finite() and value > 0):
            return f"{name} must be positive"
    return None


def _class_problem(request: OrderRequest) -> str | None:
    """Bracket: any entry but trailing_stop, with both legs; OCO: a limit exit with both legs; simple: no legs."""
    legs = (request.take_profit, request.stop_loss)
    if request.order_class == "simple":
        return None if legs == (None, None) else "take_profit and stop_loss need order_class bracket or oco"
    if None in legs or not all(leg.is_finite() and leg > 0 for leg in legs):
        return f"a {request.order_class} order needs positive take_profit and stop_loss prices"
    if request.order_class == "oco" and request.order_type != "limit":
        return "an oco order is a limit order (its limit is take_profit)"
    if request.order_type == "trailing_stop":
        return "a bracket entry cannot be a trailing stop"
    return None


def _fraction_problem(request: OrderRequest) -> str | None:
    """Fractional quantity: simple market/limit day orders; notional: simple market day orders."""
    simple_day = (request.time_in_force, request.order_class) == ("day", "simple")
    if request.notional is not None and not (simple_day and request.order_type == "market"):
        return "a notional order must be a simple market day order"
    if _is_fractional(request) and not (simple_day and request.order_type in ("market", "limit")):
        return "a fractional quantity needs a simple market or limit day order"
    return None


def _is_fractional(request: OrderRequest) -> bool:
    """Notional, or a quantity that is not whole: both need a fractionable asset."""
    quantity = request.quantity
    return request.notional is not None or (quantity is not None and quantity != quantity.to_integral_value())


def _alpaca_request(request: OrderRequest) -> AlpacaOrderRequest:
    """The SDK's request for ``request`` (it sends numbers as JSON floats)."""
    fields: dict[str, Any] = {
        "symbol": request.symbol,
        "side": OrderSide(request.side),
        "time_in_force": TimeInForce(request.time_in_force),
        "client_order_id": request.client_order_id,
        "qty": request.quantity,
        "notional": request.notional,
        "limit_price": request.limit_price,
        "stop_price": request.stop_price,
        "trail_percent": request.trail_percent,
    }
    if request.order_class != "simple":
        fields["order_class"] = OrderClass(request.order_class)
        fields["take_profit"] = TakeProfitRequest(limit_price=float(request.take_profit))
        fields["stop_loss"] = StopLossRequest(stop_price=float(request.stop_loss))
    chosen = {name: float(v) if isinstance(v, Decimal) else v for name, v in fields.items() if v is not None}
    try:
        return REQUEST_CLASSES[request.order_type](**chosen)
    except ValueError as exc:  # pydantic's ValidationError; _shape_problem should have caught it first
        raise BrokerError("invalid_order", f"order {request.client_order_id}: {exc}") from None


def _same_order(found: OrderState, request: OrderRequest) -> OrderState:
    """``found`` when it is the order ``request`` describes; a key reused for another order is refused."""
    same = (found.symbol, found.side) == (request.symbol, request.side) and (
        request.quantity is None or found.quantity == request.quantity
    )
    if not same:
        raise BrokerError(
            "invalid_order",
            f"client_order_id {request.client_order_id!r} already names another order at Alpaca "
            f"({found.side} {found.quantity} {found.symbol})",
        )
    return found


def _order_state(order: Order) -> OrderState:
    filled = _decimal(order.filled_qty) or Decimal(0)
    return OrderState(
        client_order_id=order.client_order_id,
        broker_order_id=str(order.id),
        symbol=order.symbol or "",
        side=_text(order.side),
        status=_text(order.status),
        quantity=_decimal(order.qty),
        filled_quantity=filled,
        average_price=_decimal(order.filled_avg_price) if filled > 0 else None,
        legs=tuple(_order_state(leg) for leg in order.legs or ()),
    )


def _fill(client_order_id: str, key: str, order: Order) -> Fill:
    """The cumulative fill of ``order`` (see the module docstring)."""
    moment = order.filled_at or order.updated_at
    return Fill(
        client_order_id=client_order_id,
        key=key,
        symbol=order.symbol or "",
        side=_text(order.side),
        quantity=Decimal(str(order.filled_qty)),
        price=Decimal(str(order.filled_avg_price)),
        commission=Decimal(0),
        trade_date=moment.astimezone(NEW_YORK).date(),
    )


def _api_error(exc: APIError) -> BrokerError:
    """Alpaca's HTTP error as a BrokerError (see the module docstring)."""
    status = exc.status_code or 0
    message = _alpaca_message(str(exc))
    lowered = message.lower()
    if status == 403 and "insufficient buying power" in lowered:
        code = "insufficient_buying_power"
    elif status == 403 and "insufficient qty" in lowered:
        code = "invalid_order"
    elif status >= 500:
        code = "unavailable"
    else:
        code = STATUS_CODES.get(status, "invalid_order")
    return BrokerError(code, f"Alpaca {status}: {message}", retryable=status == 429 or status >= 500)


def _alpaca_message(text: str) -> str:
    """The ``message`` of Alpaca's JSON error body, or the body itself (shortened)."""
    try:
        body = json.loads(text)
    except ValueError:
        return text[:300]
    return str(body.get("message", text))[:300] if isinstance(body, dict) else text[:300]


def _decimal(value: object) -> Decimal | None:
    """Alpaca's numeric string (or float) as a Decimal; None for null or ""."""
    return None if value is None or value == "" else Decimal(str(value))


def _text(value: object) -> str:
    """An SDK enum's value, or the text itself."""
    return str(value.value) if isinstance(value, Enum) else str(value or "")
