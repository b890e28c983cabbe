"""A fake of Alpaca's REST API on 127.0.0.1, so tests drive the real alpaca-py SDK without the internet.

``FakeAlpaca`` is a threaded HTTP server on a free port with a small ``Router`` (method + path pattern →
handler). Every request is logged (``requests``), checked for Alpaca's key headers (APCA-API-KEY-ID and
APCA-API-SECRET-KEY: 401 with Alpaca's JSON error body when wrong), and may be answered by a queued fault
(``fail``: 429, 500, ...), answered late (``delay``: the SDK times out while the request still takes effect)
or not at all (``drop_after_accept``: the next accepted ``POST /v2/orders`` is recorded, then the socket is closed
without an answer). To add an endpoint (account, orders, positions, clock), write a handler taking a
``Request`` and returning a ``Response`` and register it: ``fake.router.add("GET", "/v2/orders/{order_id}", h)``;
``request.params["order_id"]`` holds the path parameter and ``request.body`` the parsed JSON body. A ``Response``
whose body is None goes out empty (e.g. 204). The trading API (account, assets, orders, positions, clock) lives in
``tests/fakes/alpaca_trading.py`` and registers itself on this server.

Market data: ``GET /v2/stocks/bars`` (multi-symbol, the shape alpaca-py's ``get_stock_bars`` reads) serves
daily bars of real unadjusted prices (``tests/resources/ohlcv_spy_gspc_2018.csv``: SPY and ^GSPC in 2018). It
honours ``symbols``, ``timeframe`` (1Day only), ``start`` and ``end`` (RFC 3339 or a date, inclusive, compared
with the bar timestamp), ``limit`` (1-10000; pages are further capped by ``page_size`` to exercise paging),
``page_token`` / ``next_page_token`` (opaque; the fake encodes an offset), ``adjustment`` (raw, split, dividend,
all), ``feed`` and ``sort`` (asc). Bars come sorted by symbol, then time, keyed by symbol; a bar's ``t`` is
midnight New York in UTC, like Alpaca's daily bars.

Corporate actions are the test's to declare: ``split`` rewrites the raw bars from the ex-date as if the split had
happened (prices ÷ ratio, volume × ratio) and records it; ``dividend`` records a cash dividend. Adjusted answers
follow the usual factor convention: a split divides the prices before its ex-date by the ratio (volume ×
ratio); a dividend D multiplies the prices before its ex-date by 1 − D / (raw close of the day before).
Adjusted prices are rounded to 4 decimals.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
import pytest

BARS_CSV = Path(__file__).resolve().parent.parent / "resources" / "ohlcv_spy_gspc_2018.csv"
API_KEY = "PKFAKE0123456789"
SECRET_KEY = "fake-secret-abcdefghijklmnop"
MAX_LIMIT = 10_000
EXCHANGE_TZ = "America/New_York"
ORDERS_PATH = "/v2/orders"
ADJUSTMENTS = ("raw", "split", "dividend", "all")
FEEDS = ("sip", "iex", "delayed_sip", "otc", "boats", "overnight")
FAULT_MESSAGES = {
    401: (40110000, "request is not authorized"),
    403: (40310000, "forbidden"),
    429: (42910000, "rate limit exceeded"),
    500: (50010000, "internal server error occurred"),
    503: (50310000, "service unavailable"),
}


@dataclass(frozen=True)
class Request:
    """One HTTP request as a handler sees it; header names are lower case."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    """A JSON answer (no body when ``body`` is None), sent ``delay`` seconds late, or never when ``drop``."""

    status: int
    body: Any
    delay: float = 0.0
    drop: bool = False


Handler = Callable[[Request], Response]


def error(status: int, code: int, message: str) -> Response:
    """Alpaca's error body: ``{"code": ..., "message": ...}``."""
    return Response(status, {"code": code, "message": message})


class Router:
    """Method + path pattern → handler; ``{name}`` in a pattern matches one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` requests whose path matches ``pattern``."""
        regex = re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + r"\Z")
        self._routes.append((method.upper(), regex, handler))

    def dispatch(self, request: Request) -> Response:
        """The matching handler's answer; 404 for an unknown path, 405 for a known path and another method."""
        path_known = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            path_known = True
            if method == request.method:
                return handler(replace(request, params=match.groupdict()))
        if path_known:
            return error(405, 40510000, f"method {request.method} not allowed")
        return error(404, 40410000, f"endpoint {request.path} not found")


def load_resource_bars() -> pd.DataFrame:
    """The real 2018 OHLCV of SPY and ^GSPC, dates as Timestamps."""
    bars = pd.read_csv(BARS_CSV, dtype={"symbol": str}, parse_dates=["date"])
    return bars.astype({"volume": "int64"})


class FakeAlpaca:
    """The fake server; ``bars`` holds the raw daily bars (symbol, date, open, high, low, close, volume)."""

    def __init__(
        self,
        bars: pd.DataFrame,
        api_key: str = API_KEY,
        secret_key: str = SECRET_KEY,
        page_size: int = MAX_LIMIT,
    ) -> None:
        self.bars = bars.sort_values(["symbol", "date"], kind="mergesort", ignore_index=True)
        self.api_key = api_key
        self.secret_key = secret_key
        self.page_size = page_size
        self.splits: list[tuple[str, pd.Timestamp, float]] = []
        self.dividends: list[tuple[str, pd.Timestamp, float]] = []
        self.requests: list[Request] = []
        self.router = Router()
        self.router.add("GET", "/v2/stocks/bars", self.stock_bars)
        self._plan: deque[int | None] = deque()  # per coming request: a fault status, or None to answer it
        self._delays: deque[float] = deque()  # per coming request: seconds to hold the answer back
        self._drop_next_order = False
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give alpaca-py as ``url_override`` (no /v2)."""
        assert self._server is not None, "the fake is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAlpaca:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-alpaca", daemon=True
        )  # polls for shutdown every 50 ms (the default 0.5 s made every test's teardown wait)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    # --- test switches ---------------------------------------------------------------------------------------

    def fail(self, status: int, times: int = 1, after: int = 0) -> None:
        """Answer ``times`` requests with ``status`` and Alpaca's error body, after ``after`` normal answers."""
        with self._lock:
            self._plan.extend([None] * after + [status] * times)

    def delay(self, seconds: float, times: int = 1) -> None:
        """Hold back the answers to the next ``times`` requests by ``seconds``; each is handled at once (an order is
        placed), so a client that times out meanwhile does not know its request took effect."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def drop_after_accept(self) -> None:
        """Record the next ``POST /v2/orders`` that is accepted (200), then close the socket without any answer."""
        with self._lock:
            self._drop_next_order = True

    def set_bar(self, symbol: str, day: dt.date, **values: float) -> None:
        """Change fields of one raw bar (e.g. ``high=1.0``) to serve a doctored bar."""
        row = (self.bars["symbol"] == symbol) & (self.bars["date"] == pd.Timestamp(day))
        assert row.sum() == 1, f"no single bar {symbol} {day}"
        for name, value in values.items():
            self.bars.loc[row, name] = value

    def add_bar(self, symbol: str, day: dt.date, **values: float) -> None:
        """Serve one more bar (a copy of ``symbol``'s bar on ``day`` with ``values`` changed, or a new one)."""
        same = self.bars[(self.bars["symbol"] == symbol) & (self.bars["date"] == pd.Timestamp(day))]
        base = same.iloc[0].to_dict() if len(same) else {"symbol": symbol, "date": pd.Timestamp(day)}
        extra = pd.DataFrame([{**base, **values}])
        self.bars = pd.concat([self.bars, extra], ignore_index=True).sort_values(
            ["symbol", "date"], kind="mergesort", ignore_index=True
        )

    def split(self, symbol: str, ex_date: dt.date, ratio: float) -> None:
        """Make ``symbol`` split ``ratio``-for-1 on ``ex_date``: raw bars from then on ÷ ratio (volume × ratio)."""
        after = (self.bars["symbol"] == symbol) & (self.bars["date"] >= pd.Timestamp(ex_date))
        prices = ["open", "high", "low", "close"]
        self.bars.loc[after, prices] = (self.bars.loc[after, prices] / ratio).round(4)
        self.bars.loc[after, "volume"] = (self.bars.loc[after, "volume"] * ratio).round().astype("int64")
        self.splits.append((symbol, pd.Timestamp(ex_date), ratio))

    def dividend(self, symbol: str, ex_date: dt.date, amount: float) -> None:
        """Record a cash dividend of ``amount`` per share going ex on ``ex_date``."""
        self.dividends.append((symbol, pd.Timestamp(ex_date), amount))

    def bar_requests(self) -> list[Request]:
        """The requests made to /v2/stocks/bars, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == "/v2/stocks/bars"]

    # --- request handling ------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Log, apply a queued fault, check the keys, route; then apply a queued delay or the order drop."""
        with self._lock:
            self.requests.append(request)
            fault = self._plan.popleft() if self._plan else None
            pause = self._delays.popleft() if self._delays else 0.0
        response = self._answer(request, fault)
        accepted_order = request.method == "POST" and request.path == ORDERS_PATH and response.status == 200
        with self._lock:
            drop = accepted_order and self._drop_next_order
            if drop:
                self._drop_next_order = False
        return replace(response, delay=pause, drop=drop)

    def _answer(self, request: Request, fault: int | None) -> Response:
        if fault is not None:
            return error(fault, *FAULT_MESSAGES.get(fault, (fault * 100000, "fault injected by the test")))
        if (request.headers.get("apca-api-key-id"), request.headers.get("apca-api-secret-key")) != (
            self.api_key,
            self.secret_key,
        ):
            return error(401, *FAULT_MESSAGES[401])
        return self.router.dispatch(request)

    def stock_bars(self, request: Request) -> Response:
        """GET /v2/stocks/bars (see the module docstring)."""
        query = request.query
        symbols = [s for s in query.get("symbols", "").split(",") if s]
        adjustment = query.get("adjustment", "raw")
        problem = _bars_query_problem(query, symbols, adjustment)
        if problem:
            return error(422, 42210000, problem)
        try:
            start = _instant(query.get("start"), default=pd.Timestamp.now(tz="UTC").normalize())
            end = _instant(query.get("end"), default=pd.Timestamp.now(tz="UTC"))
            offset = _offset(query.get("page_token"))
        except ValueError as exc:
            return error(422, 42210000, str(exc))
        bars = self._adjusted(adjustment)
        bars = bars[bars["symbol"].isin(symbols) & (bars["t"] >= start) & (bars["t"] <= end)]
        size = min(int(query.get("limit", "1000")), self.page_size)
        page = bars.iloc[offset : offset + size]
        more = offset + size < len(bars)
        return Response(
            200,
            {
                "bars": {symbol: _records(group) for symbol, group in page.groupby("symbol", sort=False)},
                "next_page_token": _token(offset + size) if more else None,
            },
        )

    def _adjusted(self, adjustment: str) -> pd.DataFrame:
        """The raw bars with ``adjustment`` applied and their timestamps ``t`` (UTC)."""
        bars = self.bars.copy()
        price = np.ones(len(bars))
        volume = np.ones(len(bars))
        if adjustment in ("split", "all"):
            for symbol, ex_date, ratio in self.splits:
                before = ((bars["symbol"] == symbol) & (bars["date"] < ex_date)).to_numpy()
                price[before] /= ratio
                volume[before] *= ratio
        if adjustment in ("dividend", "all"):
            for symbol, ex_date, amount in self.dividends:
                before = ((bars["symbol"] == symbol) & (bars["date"] < ex_date)).to_numpy()
                price[before] *= 1 - amount / bars["close"][before].iloc[-1]
        if adjustment != "raw":
            for name in ("open", "high", "low", "close"):
                bars[name] = (bars[name] * price).round(4)
            bars["volume"] = (bars["volume"] * volume).round().astype("int64")
        bars["t"] = bars["date"].dt.tz_localize(EXCHANGE_TZ).dt.tz_convert("UTC")
        return bars


def _bars_query_problem(query: dict[str, str], symbols: list[str], adjustment: str) -> str | None:
    """What is wrong with a bars query, if anything (Alpaca answers 422 with such a message)."""
    if not symbols:
        return "symbols is required"
    if query.get("timeframe") != "1Day":
        return f"invalid timeframe {query.get('timeframe')!r} (this fake serves 1Day)"
    if adjustment not in ADJUSTMENTS:
        return f"invalid adjustment {adjustment!r}"
    if query.get("feed", "sip") not in FEEDS:
        return f"invalid feed {query.get('feed')!r}"
    if query.get("sort", "asc") != "asc":
        return "invalid sort (this fake serves asc)"
    limit = query.get("limit", "1000")
    if not (limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
        return f"invalid limit {limit!r}: must be between 1 and {MAX_LIMIT}"
    return None


def _instant(raw: str | None, default: pd.Timestamp) -> pd.Timestamp:
    """An RFC 3339 time or a date (midnight UTC) as a UTC Timestamp."""
    if not raw:
        return default
    try:
        value = pd.Timestamp(dt.datetime.fromisoformat(raw))
    except ValueError as exc:
        raise ValueError(f"invalid time {raw!r}: use RFC 3339") from exc
    return value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"invalid page token {token!r}") from exc


def _records(group: pd.DataFrame) -> list[dict[str, Any]]:
    """Bars in Alpaca's short keys; ``n`` and ``vw`` are unknown for these prices, so null."""
    return [
        {"t": t, "o": o, "h": h, "l": low, "c": c, "v": int(v), "n": None, "vw": None}
        for t, o, h, low, c, v in zip(
            group["t"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            group["open"],
            group["high"],
            group["low"],
            group["close"],
            group["volume"],
            strict=True,
        )
    ]


def _handler_class(fake: FakeAlpaca) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``fake``."""

    class AlpacaHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=json.loads(raw) if raw else None,
            )
            response = fake.handle(request)
            if response.drop:
                self.close_connection = True
                return
            time.sleep(response.delay)
            payload = b"" if response.body is None else json.dumps(response.body).encode()
            try:
                self.send_response(response.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (``delay``)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the fake keeps its own request log."""

    return AlpacaHandler


@pytest.fixture(name="alpaca_server")
def alpaca_server_fixture() -> Iterator[FakeAlpaca]:
    """``alpaca_server``: a running fake with the real 2018 bars of SPY and ^GSPC in pages of 40; stopped after.

    Import ``alpaca_server_fixture`` into a test module to use it (a non-root conftest may not declare plugins).
    """
    fake = FakeAlpaca(load_resource_bars(), page_size=40).start()
    try:
        yield fake
    finally:
        fake.stop()
