"""The alert-rule engine: thousands of rules on symbols and portfolios, evaluated on the last day of a window.

Rules are validated (``normalize_params``), compiled once into arrays grouped by kind (``compile_rules``) and
evaluated on the last day of a ``MarketWindow`` and a ``PortfolioBook`` (``evaluate``): each kind's group is one
vectorized pass with fancy indexing, and each indicator is computed only where a rule needs it (Wilder's RSI
once per distinct period over the symbols that use it; moving averages from one running sum per symbol).
``evaluate_history`` replays a window day by day, carrying the cooldowns.

Fractions are decimals (0.05 = 5 %). For each kind, ``value`` is the observed figure and the condition compares it
with ``threshold`` (on the last day T; p = adjusted close, "previous" = the symbol's previous close, skipping days
without one, see ``indicators``):

==============  ============================================  ==========  =============================================
kind            value                                         threshold   condition
==============  ============================================  ==========  =============================================
price_cross     p_T                                           level       above: p_prev < level ≤ p_T; below: p_prev >
                                                                          level ≥ p_T; either: one of them
move            r = p_T / p_{T−days} − 1 (rows of the window) pct         up: r ≥ pct; down: r ≤ −pct; either: |r| ≥ pct
rsi             Wilder's RSI(period) of the closes            upper or    above: RSI > upper; below: RSI < lower
                                                              lower
ma_cross        SMA_fast / SMA_slow − 1                       0           golden: SMA_fast − SMA_slow turns from < 0 to
                                                                          ≥ 0 today; death: from > 0 to ≤ 0
drawdown        V_T / max(prior peak, V over the window) − 1  −pct        value ≤ −pct
daily_loss      pnl_today (amount) or return_today (pct)      −amount or  value ≤ threshold
                                                              −pct
var             1-day historical VaR at 95 % of R·w           pct         value ≥ pct
concentration   the largest weight (or the rule's symbol's)   pct         value > pct
drift           total: 100·½(Σ|w − t| + |cash − t_cash|);      pp          value > pp
                position: 100·max(|w − t|, |cash − t_cash|)
==============  ============================================  ==========  =============================================

VaR: R = the last ``lookback`` daily simple returns of the symbols (rows of the window), w = today's weights
(cash earns 0), VaR = −q with q the 5 % quantile of R·w by numpy's linear interpolation, the same convention as
``risk.value_at_risk(method="historical")`` (that function takes one series, so it is not called per portfolio).

A rule that cannot be judged today is ``not_evaluable`` with a reason (``REASONS``): no close on the last day,
too little history, no portfolio data or value, no target allocation…; its condition is False and its value NaN.
A rule ``fires`` when its condition holds and its cooldown has passed: ``last_fired`` is None or
now − last_fired ≥ cooldown_seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_array

from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.indicators import (
    Observations,
    cross_direction,
    observations,
    rsi_of_observations,
)

KINDS = ("price_cross", "move", "rsi", "ma_cross", "drawdown", "daily_loss", "var", "concentration", "drift")
SYMBOL_KINDS = frozenset(KINDS[:4])
PORTFOLIO_KINDS = frozenset(KINDS[4:])
VAR_CONFIDENCE = 0.95
RSI_WARMUP_PERIODS = 10
"""Wilder periods of history loaded before the RSI is read: the seed then weighs (1 − 1/n)^(10n) < e^−10."""

REASONS = (
    "",
    "no close on the evaluation day",
    "too little price history for the rule's lookback",
    "no close at the start of the move",
    "RSI undefined: the price has not changed",
    "no portfolio data given",
    "no positive portfolio value on the evaluation day",
    "the portfolio has no target allocation",
    "a held symbol lacks returns over the VaR lookback",
    "no daily P&L for the portfolio",
)
OK, NO_CLOSE, SHORT_HISTORY, NO_START_CLOSE, RSI_FLAT, NO_BOOK, NO_VALUE, NO_TARGET, VAR_GAP, NO_PNL = range(
    len(REASONS)
)
_SIDES = (1, -1, 0)  # up / above / golden, down / below / death, either


# ---------------------------------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class _Number:
    """A numeric field: bounds (open or closed), whole or real, shown as a percentage or not, default or required."""

    low: float
    high: float | None = None
    low_open: bool = True
    high_open: bool = False
    whole: bool = False
    percent: bool = False
    default: float | None = None
    optional: bool = False

    def _show(self, x: float) -> str:
        return f"{x * 100:g}%" if self.percent else f"{x:g}"

    def _bounds(self) -> str:
        noun = "a whole number " if self.whole else ""
        lower = f"{'above' if self.low_open else 'at least'} {self._show(self.low)}"
        if self.high is None:
            return "must be positive" if self.low == 0 and self.low_open else f"must be {noun}{lower}"
        if self.low_open == self.high_open:
            ends = f"between {self._show(self.low)} and {self._show(self.high)}"
            return f"must be {noun}{ends}{' (exclusive)' if self.low_open else ''}"
        return f"must be {noun}{lower} and {'below' if self.high_open else 'at most'} {self._show(self.high)}"

    def read(self, where: str, raw: Any) -> float | int:
        if isinstance(raw, bool) or not isinstance(raw, Real):
            raise AnalyticsError(f"{where} must be a number; got {raw!r}")
        x = float(raw)
        if not math.isfinite(x):
            raise AnalyticsError(f"{where} must be a finite number; got {raw!r}")
        if self.whole and not x.is_integer():
            raise AnalyticsError(f"{where} must be a whole number; got {raw!r}")
        too_low = x <= self.low if self.low_open else x < self.low
        too_high = self.high is not None and (x >= self.high if self.high_open else x > self.high)
        if too_low or too_high:
            raise AnalyticsError(f"{where} {self._bounds()}; got {raw!r}")
        return int(x) if self.whole else x

    def default_value(self) -> float | int | None:
        if self.default is None:
            return None
        return int(self.default) if self.whole else float(self.default)


@dataclass(frozen=True)
class _Choice:
    """One of ``options`` (each coded as the matching entry of ``codes``), with a default."""

    options: tuple[str, ...]
    default: str
    codes: tuple[int, ...] = _SIDES
    optional: bool = False

    def read(self, where: str, raw: Any) -> str:
        if raw not in self.options:
            raise AnalyticsError(f"{where} must be one of {', '.join(self.options)}; got {raw!r}")
        return str(raw)

    def default_value(self) -> str:
        return self.default


_WHOLE = {"low_open": False, "whole": True}
_FRACTION = {"high": 1.0, "high_open": True, "percent": True}
_PARAMS: dict[str, dict[str, _Number | _Choice]] = {
    "price_cross": {"level": _Number(0.0), "direction": _Choice(("above", "below", "either"), "either")},
    "move": {
        "pct": _Number(0.0, 10.0, percent=True),
        "days": _Number(1, 252, default=1, **_WHOLE),
        "direction": _Choice(("up", "down", "either"), "either"),
    },
    "rsi": {
        "period": _Number(2, 100, default=14, **_WHOLE),
        "upper": _Number(0.0, 100.0, high_open=True, default=70.0),
        "lower": _Number(0.0, 100.0, high_open=True, default=30.0),
        "zone": _Choice(("above", "below", "either"), "either"),
    },
    "ma_cross": {
        "fast": _Number(1, default=50, **_WHOLE),
        "slow": _Number(2, 400, default=200, **_WHOLE),
        "direction": _Choice(("golden", "death", "either"), "either"),
    },
    "drawdown": {"pct": _Number(0.0, **_FRACTION)},
    "daily_loss": {"amount": _Number(0.0, optional=True), "pct": _Number(0.0, optional=True, **_FRACTION)},
    "var": {"pct": _Number(0.0, **_FRACTION), "lookback": _Number(20, 2520, default=250, **_WHOLE)},
    "concentration": {"pct": _Number(0.0, 1.0, percent=True)},
    "drift": {"pp": _Number(0.0, 100.0), "measure": _Choice(("total", "position"), "total", (0, 1))},
}


def _check_together(kind: str, p: dict[str, Any]) -> None:
    """Conditions between fields: RSI bands in order, the slow average slower, one daily-loss threshold."""
    if kind == "rsi" and p["lower"] >= p["upper"]:
        raise AnalyticsError(f"rsi: lower ({p['lower']:g}) must be below upper ({p['upper']:g})")
    if kind == "ma_cross" and p["slow"] <= p["fast"]:
        raise AnalyticsError(f"ma_cross: slow ({p['slow']}) must be above fast ({p['fast']})")
    if kind == "daily_loss" and len(p) != 1:
        got = "both" if p else "neither"
        raise AnalyticsError(f"daily_loss: give exactly one of amount (money) or pct (a fraction of value); got {got}")


def normalize_params(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Validated params with defaults filled (see the module's table and ``_PARAMS`` for each kind's fields).

    Raises ``AnalyticsError`` (a ValueError) naming the kind, the field and the problem, e.g.
    "drawdown: pct must be between 0% and 100% (exclusive); got 1.5". A field given as None counts as absent.
    """
    spec = _PARAMS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise AnalyticsError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not isinstance(params, Mapping):
        raise AnalyticsError(f"{kind}: params must be a mapping of field names to values; got {type(params).__name__}")
    extra = sorted(str(name) for name in params if name not in spec)
    if extra:
        raise AnalyticsError(f"{kind}: unknown field {', '.join(map(repr, extra))}; expected {', '.join(spec)}")
    out: dict[str, Any] = {}
    for name, rule in spec.items():
        raw = params.get(name)
        if raw is not None:
            out[name] = rule.read(f"{kind}: {name}", raw)
        elif rule.default_value() is not None:
            out[name] = rule.default_value()
        elif not rule.optional:
            raise AnalyticsError(f"{kind}: {name} is required")
    _check_together(kind, out)
    return out


# ---------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class RuleSpec:
    """One rule as stored: its kind's params, the symbol or portfolio it watches, its cooldown and last firing.

    Symbol kinds need ``symbol`` (``portfolio_id`` is then only the owner's context); portfolio kinds need
    ``portfolio_id``, and only ``concentration`` may name a ``symbol`` (that position's weight instead of the
    largest). Times are Unix seconds.
    """

    id: int
    kind: str
    params: Mapping[str, Any]
    symbol: str | None = None
    portfolio_id: int | None = None
    cooldown_seconds: float = 0.0
    last_fired: float | None = None


def _set(instance: object, **values: Any) -> None:
    for name, value in values.items():
        object.__setattr__(instance, name, value)


@dataclass(frozen=True, eq=False)
class MarketWindow:
    """The trailing window of adjusted closes: ``closes[t, j]`` of ``symbols[j]`` on ``dates[t]`` (NaN = none).

    Dates strictly increase; the last one is the evaluation day. Present closes must be positive and finite.
    """

    symbols: tuple[str, ...]
    dates: np.ndarray
    closes: np.ndarray

    def __post_init__(self) -> None:
        symbols = tuple(str(s) for s in self.symbols)
        dates = np.asarray(self.dates, dtype="datetime64[D]")
        closes = np.asarray(self.closes, dtype=np.float64)
        if not symbols or len(set(symbols)) != len(symbols):
            raise AnalyticsError("the market window needs at least one symbol and no symbol twice")
        if dates.ndim != 1 or dates.size == 0 or (np.diff(dates) <= np.timedelta64(0, "D")).any():
            raise AnalyticsError("the market window needs at least one date, in strictly increasing order")
        if closes.shape != (dates.size, len(symbols)):
            raise AnalyticsError(f"closes must be dates × symbols = {(dates.size, len(symbols))} (got {closes.shape})")
        bad = np.isinf(closes) | (closes <= 0)
        if bad.any():
            t, j = (int(k[0]) for k in np.nonzero(bad))
            raise AnalyticsError(f"the close of {symbols[j]} on {dates[t]} is {closes[t, j]}; closes must be positive")
        _set(self, symbols=symbols, dates=dates, closes=closes)

    @classmethod
    def from_frame(cls, closes: pd.DataFrame) -> MarketWindow:
        """From a DataFrame of closes indexed by date with one column per symbol."""
        dates = pd.DatetimeIndex(closes.index).to_numpy().astype("datetime64[D]")
        return cls(tuple(map(str, closes.columns)), dates, closes.to_numpy(dtype=np.float64))

    def until(self, day: int) -> MarketWindow:
        """The window ending on row ``day`` (inclusive): that day's view of the market, for a replay."""
        return MarketWindow(self.symbols, self.dates[: day + 1], self.closes[: day + 1])


def _vector(values: Any, size: int, what: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (size,):
        raise AnalyticsError(f"{what} must have one entry per portfolio ({size}); got shape {v.shape}")
    return v


@dataclass(frozen=True, eq=False)
class PortfolioBook:
    """Today's portfolios, aligned with a ``MarketWindow``.

    - ``values``: days × portfolios, the value series on the market's dates (NaN before a portfolio starts). Only
      the drawdown reads it: pass a flow-adjusted wealth index to keep deposits and withdrawals out of it.
    - ``pnl_today``, ``return_today``: per portfolio, today's change excluding flows (NaN = unknown).
    - ``weights``: portfolios × symbols of the market, each position's value over the total value incl. cash
      (cash = 1 − Σ weights).
    - ``target_weights`` (portfolios × symbols) and ``target_cash``: the target allocation; a NaN row (and NaN
      cash) = no target.
    - ``prior_peak``: the highest value before the window's first day (NaN or None = not known).
    """

    portfolio_ids: tuple[int, ...]
    values: np.ndarray
    pnl_today: np.ndarray
    return_today: np.ndarray
    weights: np.ndarray
    target_weights: np.ndarray
    target_cash: np.ndarray
    prior_peak: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        ids = tuple(int(p) for p in self.portfolio_ids)
        n = len(ids)
        if len(set(ids)) != n:
            raise AnalyticsError("the portfolio book lists a portfolio twice")
        values = np.asarray(self.values, dtype=np.float64)
        weights = np.asarray(self.weights, dtype=np.float64)
        targets = np.asarray(self.target_weights, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != n:
            raise AnalyticsError(f"values must be days × portfolios ({n}); got shape {values.shape}")
        if weights.ndim != 2 or weights.shape[0] != n or targets.shape != weights.shape:
            raise AnalyticsError(
                f"weights and target_weights must both be portfolios ({n}) × symbols; got {weights.shape} and "
                f"{targets.shape}"
            )
        if np.isinf(values).any() or not np.isfinite(weights).all():
            raise AnalyticsError("values contain infinities or weights are not all finite")
        target_cash = _vector(self.target_cash, n, "target_cash")
        without = np.isnan(targets)
        if (without.any(axis=1) != without.all(axis=1)).any() or (without.all(axis=1) != np.isnan(target_cash)).any():
            raise AnalyticsError("a target allocation must give every symbol and the cash, or nothing (all NaN)")
        peak = np.full(n, np.nan) if self.prior_peak is None else _vector(self.prior_peak, n, "prior_peak")
        _set(
            self,
            portfolio_ids=ids,
            values=values,
            pnl_today=_vector(self.pnl_today, n, "pnl_today"),
            return_today=_vector(self.return_today, n, "return_today"),
            weights=weights,
            target_weights=targets,
            target_cash=target_cash,
            prior_peak=peak,
        )


# ---------------------------------------------------------------------------------------------------- compiling


@dataclass(frozen=True, eq=False)
class RuleGroup:
    """The rules of one kind: their ``rows`` in ``CompiledRules``, symbol and portfolio indices, param arrays.

    Choices are coded: +1 above/up/golden, −1 below/down/death, 0 either; drift's measure 0 total, 1 position.
    A param a rule leaves out (daily_loss' amount or pct) is NaN.
    """

    rows: np.ndarray
    symbol: np.ndarray
    portfolio: np.ndarray
    params: dict[str, np.ndarray]


@dataclass(frozen=True, eq=False)
class CompiledRules:
    """Rules as arrays (one entry per accepted rule, in input order) and grouped by kind.

    ``symbol`` and ``portfolio`` index ``symbols`` and ``portfolio_ids`` (−1 = none); ``last_fired`` is NaN when
    a rule never fired. ``unknown`` maps each refused rule's id to the reason.
    """

    symbols: tuple[str, ...]
    portfolio_ids: tuple[int, ...]
    rule_id: np.ndarray
    kind: np.ndarray
    symbol: np.ndarray
    portfolio: np.ndarray
    cooldown: np.ndarray
    last_fired: np.ndarray
    groups: dict[str, RuleGroup]
    unknown: dict[int, str]


def _place(rule: RuleSpec, symbol_at: Mapping[str, int], portfolio_at: Mapping[int, int]) -> tuple[int, int]:
    """(symbol index, portfolio index) of a rule, −1 for none; AnalyticsError when it is not in the universe."""
    portfolio = -1
    if rule.kind in SYMBOL_KINDS and rule.symbol is None:
        raise AnalyticsError(f"{rule.kind} rules need a symbol")
    if rule.kind in PORTFOLIO_KINDS:
        if rule.portfolio_id is None:
            raise AnalyticsError(f"{rule.kind} rules need a portfolio")
        if rule.portfolio_id not in portfolio_at:
            raise AnalyticsError(f"portfolio {rule.portfolio_id} is not in the portfolio book")
        if rule.symbol is not None and rule.kind != "concentration":
            raise AnalyticsError(f"{rule.kind} rules watch a whole portfolio; leave the symbol empty")
        portfolio = portfolio_at[rule.portfolio_id]
    if rule.symbol is None:
        return -1, portfolio
    if rule.symbol not in symbol_at:
        raise AnalyticsError(f"symbol {rule.symbol!r} is not in the market data")
    return symbol_at[rule.symbol], portfolio


def _timing(rule: RuleSpec) -> tuple[float, float]:
    """(cooldown, last fired or NaN), both checked."""
    cooldown = rule.cooldown_seconds
    if isinstance(cooldown, bool) or not isinstance(cooldown, Real) or not 0 <= cooldown < math.inf:
        raise AnalyticsError(f"cooldown_seconds must be a finite number ≥ 0; got {cooldown!r}")
    last = rule.last_fired
    if last is not None and (isinstance(last, bool) or not isinstance(last, Real) or not math.isfinite(last)):
        raise AnalyticsError(f"last_fired must be Unix seconds or None; got {last!r}")
    return float(cooldown), math.nan if last is None else float(last)


def _param_arrays(kind: str, params: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    arrays = {}
    for name, rule in _PARAMS[kind].items():
        given = [p.get(name) for p in params]
        if isinstance(rule, _Choice):
            arrays[name] = np.array([rule.codes[rule.options.index(v)] for v in given], dtype=np.int8)
        else:
            floats = np.array([math.nan if v is None else v for v in given], dtype=np.float64)
            arrays[name] = floats.astype(np.int64) if rule.whole else floats
    return arrays


def compile_rules(rules: Sequence[RuleSpec], symbols: Sequence[str], portfolio_ids: Sequence[int]) -> CompiledRules:
    """Validate every rule and pack the accepted ones into arrays grouped by kind.

    A rule with bad params, an unknown kind, or a symbol or portfolio outside ``symbols`` / ``portfolio_ids`` goes
    to ``unknown`` with the reason; it never stops the others. Two rules with the same id are a caller's error.
    """
    symbol_at = {s: i for i, s in enumerate(symbols)}
    portfolio_at = {int(p): i for i, p in enumerate(portfolio_ids)}
    if len(symbol_at) != len(symbols) or len(portfolio_at) != len(portfolio_ids):
        raise AnalyticsError("symbols and portfolio_ids must not repeat")
    accepted: list[tuple[RuleSpec, dict[str, Any], tuple[int, int], tuple[float, float]]] = []
    unknown: dict[int, str] = {}
    seen: set[int] = set()
    for rule in rules:
        if rule.id in seen:
            raise AnalyticsError(f"rule id {rule.id} appears twice")
        seen.add(rule.id)
        try:
            params = normalize_params(rule.kind, rule.params)
            place, timing = _place(rule, symbol_at, portfolio_at), _timing(rule)
        except AnalyticsError as error:
            unknown[rule.id] = str(error)
            continue
        accepted.append((rule, params, place, timing))
    kind = np.array([KINDS.index(r.kind) for r, *_ in accepted], dtype=np.int8)
    symbol = np.array([place[0] for _, _, place, _ in accepted], dtype=np.int64)
    portfolio = np.array([place[1] for _, _, place, _ in accepted], dtype=np.int64)
    groups = {}
    for code, name in enumerate(KINDS):
        rows = np.flatnonzero(kind == code)
        if rows.size:
            params = _param_arrays(name, [accepted[i][1] for i in rows])
            groups[name] = RuleGroup(rows, symbol[rows], portfolio[rows], params)
    return CompiledRules(
        symbols=tuple(symbols),
        portfolio_ids=tuple(int(p) for p in portfolio_ids),
        rule_id=np.array([r.id for r, *_ in accepted], dtype=np.int64),
        kind=kind,
        symbol=symbol,
        portfolio=portfolio,
        cooldown=np.array([timing[0] for *_, timing in accepted], dtype=np.float64),
        last_fired=np.array([timing[1] for *_, timing in accepted], dtype=np.float64),
        groups=groups,
        unknown=unknown,
    )


def required_days(compiled: CompiledRules) -> int:
    """Rows of closes the window needs so every rule can be judged: the largest lookback + 1.

    price_cross 2; move days + 1; rsi (1 + RSI_WARMUP_PERIODS)·period + 1; ma_cross slow + 1; var lookback + 1;
    the others 1 (the drawdown's peak is over the window, or ``PortfolioBook.prior_peak``).
    """
    needs = [1]
    for kind, group in compiled.groups.items():
        p = group.params
        if kind == "price_cross":
            needs.append(2)
        elif kind == "move":
            needs.append(int(p["days"].max()) + 1)
        elif kind == "rsi":
            needs.append((1 + RSI_WARMUP_PERIODS) * int(p["period"].max()) + 1)
        elif kind == "ma_cross":
            needs.append(int(p["slow"].max()) + 1)
        elif kind == "var":
            needs.append(int(p["lookback"].max()) + 1)
    return max(needs)


# ---------------------------------------------------------------------------------------------------- evaluating


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The verdict on every compiled rule (same order as ``CompiledRules``) for the window's last ``date``.

    ``position``: the symbol index behind a concentration or position-drift value (−1 = cash or none).
    ``reason``: "" when evaluable, else why not (``REASONS``).
    """

    date: np.datetime64
    rule_id: np.ndarray
    kind: np.ndarray
    condition: np.ndarray
    fires: np.ndarray
    value: np.ndarray
    threshold: np.ndarray
    position: np.ndarray
    not_evaluable: np.ndarray
    reason: np.ndarray

    @property
    def fired_rule_ids(self) -> np.ndarray:
        return self.rule_id[self.fires]


@dataclass(frozen=True, eq=False)
class _Outcome:
    value: np.ndarray
    threshold: np.ndarray
    condition: np.ndarray
    reason: np.ndarray
    position: np.ndarray | None = None


class _Day:
    """What the evaluators share on one evaluation day (indicators computed once, on first use)."""

    def __init__(self, market: MarketWindow, book: PortfolioBook | None) -> None:
        self.market, self.book = market, book

    @cached_property
    def obs(self) -> Observations:
        return observations(self.market.closes)

    @cached_property
    def today(self) -> np.ndarray:
        return self.market.closes[-1]

    def symbol_reason(self, symbol: np.ndarray, needed: np.ndarray | int) -> np.ndarray:
        """NO_CLOSE without a close today, SHORT_HISTORY with fewer than ``needed`` closes, else OK."""
        conditions = [np.isnan(self.today[symbol]), self.obs.counts[symbol] < needed]
        return np.select(conditions, [NO_CLOSE, SHORT_HISTORY], OK)

    def value_reason(self, portfolio: np.ndarray) -> np.ndarray:
        """NO_VALUE where the portfolio's value today is missing or not positive, else OK."""
        return np.where(self.book.values[-1, portfolio] > 0, OK, NO_VALUE)


def _wanted(direction: np.ndarray, side: np.ndarray) -> np.ndarray:
    """A crossing in the rule's direction (side 0 = either)."""
    return (direction != 0) & ((side == 0) | (side == direction))


def _beyond(x: np.ndarray, side: np.ndarray, high: np.ndarray, low: np.ndarray, strict: bool) -> np.ndarray:
    """x beyond ``high`` (side ≥ 0) or below ``low`` (side ≤ 0); ``strict`` excludes equality."""
    up = x > high if strict else x >= high
    down = x < low if strict else x <= low
    return ((side >= 0) & up) | ((side <= 0) & down)


def _price_cross(g: RuleGroup, day: _Day) -> _Outcome:
    j, level = g.symbol, g.params["level"]
    before = day.obs.values[np.maximum(day.obs.counts[j] - 2, 0), j]
    crossed = cross_direction(before - level, day.today[j] - level)
    return _Outcome(day.today[j], level, _wanted(crossed, g.params["direction"]), day.symbol_reason(j, 2))


def _move(g: RuleGroup, day: _Day) -> _Outcome:
    j, pct, days = g.symbol, g.params["pct"], g.params["days"]
    start = len(day.market.dates) - 1 - days
    then = day.market.closes[np.maximum(start, 0), j]
    r = day.today[j] / then - 1.0
    reason = np.select(
        [np.isnan(day.today[j]), start < day.obs.first_day[j], np.isnan(then)],
        [NO_CLOSE, SHORT_HISTORY, NO_START_CLOSE],
        OK,
    )
    return _Outcome(r, pct, _beyond(r, g.params["direction"], pct, -pct, strict=False), reason)


def _last_rsi(day: _Day, symbol: np.ndarray, period: np.ndarray) -> np.ndarray:
    """RSI on each symbol's last close, computed once per distinct (period, symbol)."""
    rsi = np.full(symbol.shape, np.nan)
    for n in np.unique(period):
        chosen = np.flatnonzero(period == n)
        columns, back = np.unique(symbol[chosen], return_inverse=True)
        counts = day.obs.counts[columns]
        packed = rsi_of_observations(day.obs.values[: max(int(counts.max()), 1), columns], int(n))
        rsi[chosen] = packed[np.maximum(counts - 1, 0), np.arange(columns.size)][back]
    return rsi


def _rsi(g: RuleGroup, day: _Day) -> _Outcome:
    j, period, upper, lower, zone = g.symbol, *(g.params[k] for k in ("period", "upper", "lower", "zone"))
    rsi = _last_rsi(day, j, period)
    reason = day.symbol_reason(j, period + 1)
    reason = np.where((reason == OK) & np.isnan(rsi), RSI_FLAT, reason)
    high_side = (zone > 0) | ((zone == 0) & (rsi >= (upper + lower) / 2))
    return _Outcome(rsi, np.where(high_side, upper, lower), _beyond(rsi, zone, upper, lower, strict=True), reason)


def _ma_cross(g: RuleGroup, day: _Day) -> _Outcome:
    j, fast, slow = g.symbol, g.params["fast"], g.params["slow"]
    n, mean = day.obs.counts[j], day.obs.trailing_mean
    now_fast, now_slow = mean(j, n, fast), mean(j, n, slow)
    crossed = cross_direction(mean(j, n - 1, fast) - mean(j, n - 1, slow), now_fast - now_slow)
    with np.errstate(invalid="ignore"):
        value = now_fast / now_slow - 1.0
    condition = _wanted(crossed, g.params["direction"])
    return _Outcome(value, np.zeros(j.size), condition, day.symbol_reason(j, slow + 1))


def _drawdown(g: RuleGroup, day: _Day) -> _Outcome:
    book, p, pct = day.book, g.portfolio, g.params["pct"]
    ports, back = np.unique(p, return_inverse=True)
    peak = np.fmax(np.fmax.reduce(book.values[:, ports], axis=0), book.prior_peak[ports])
    with np.errstate(invalid="ignore", divide="ignore"):
        drawdown = (book.values[-1, ports] / peak - 1.0)[back]
    return _Outcome(drawdown, -pct, drawdown <= -pct, day.value_reason(p))


def _daily_loss(g: RuleGroup, day: _Day) -> _Outcome:
    p, amount, pct = g.portfolio, g.params["amount"], g.params["pct"]
    by_amount = ~np.isnan(amount)
    value = np.where(by_amount, day.book.pnl_today[p], day.book.return_today[p])
    threshold = np.where(by_amount, -amount, -pct)
    return _Outcome(value, threshold, value <= threshold, np.where(np.isnan(value), NO_PNL, OK))


def _var(g: RuleGroup, day: _Day) -> _Outcome:
    """VaR of R·w per distinct lookback, R·w as a sparse product.

    Portfolios hold few of the symbols, and a dense ``@`` would call multithreaded BLAS, whose spinning threads
    slowed the whole evaluation threefold on a two-core machine for a few milliseconds of work.
    """
    p, lookback, closes = g.portfolio, g.params["lookback"], day.market.closes
    depth = min(int(lookback.max()), len(closes) - 1)
    returns = (closes[len(closes) - depth :] / closes[len(closes) - depth - 1 : -1] - 1.0).T  # symbols × days
    var, reason = np.full(p.size, np.nan), np.full(p.size, SHORT_HISTORY)
    for n in np.unique(lookback[lookback <= depth]):
        chosen = np.flatnonzero(lookback == n)
        ports, back = np.unique(p[chosen], return_inverse=True)
        weights = day.book.weights[ports]
        window = returns[:, depth - n :]
        gap = np.isnan(window)
        lacking = (weights[:, gap.any(axis=1)] != 0).any(axis=1)
        portfolio_returns = csr_array(weights) @ np.where(gap, 0.0, window)  # portfolios × days
        quantile = np.quantile(portfolio_returns, 1.0 - VAR_CONFIDENCE, axis=1, method="linear")
        var[chosen] = -quantile[back] + 0.0
        reason[chosen] = np.where(lacking[back], VAR_GAP, OK)
    reason = np.where(day.value_reason(p) == OK, reason, NO_VALUE)
    return _Outcome(var, g.params["pct"], var >= g.params["pct"], reason)


def _concentration(g: RuleGroup, day: _Day) -> _Outcome:
    p, j = g.portfolio, g.symbol
    largest = day.book.weights.argmax(axis=1)
    position = np.where(j >= 0, j, largest[p])
    weight = day.book.weights[p, position]
    position = np.where(weight > 0, position, -1)
    return _Outcome(weight, g.params["pct"], weight > g.params["pct"], day.value_reason(p), position)


def _drift(g: RuleGroup, day: _Day) -> _Outcome:
    book, p = day.book, g.portfolio
    ports, back = np.unique(p, return_inverse=True)
    gap = np.abs(book.weights[ports] - book.target_weights[ports])
    cash_gap = np.abs(1.0 - book.weights[ports].sum(axis=1) - book.target_cash[ports])
    worst = gap.argmax(axis=1)
    largest = gap[np.arange(ports.size), worst]
    total = 50.0 * (gap.sum(axis=1) + cash_gap)
    by_position = g.params["measure"] == 1
    value = np.where(by_position, 100.0 * np.fmax(largest, cash_gap)[back], total[back])
    position = np.where(by_position & (largest >= cash_gap)[back], worst[back], -1)
    reason = np.where(np.isnan(book.target_cash[p]), NO_TARGET, day.value_reason(p))
    return _Outcome(value, g.params["pp"], value > g.params["pp"], reason, position)


_EVALUATORS: dict[str, Callable[[RuleGroup, _Day], _Outcome]] = {
    "price_cross": _price_cross,
    "move": _move,
    "rsi": _rsi,
    "ma_cross": _ma_cross,
    "drawdown": _drawdown,
    "daily_loss": _daily_loss,
    "var": _var,
    "concentration": _concentration,
    "drift": _drift,
}


def _check_inputs(compiled: CompiledRules, market: MarketWindow, book: PortfolioBook | None, now: float) -> None:
    if market.symbols != compiled.symbols:
        raise AnalyticsError("the market window's symbols differ from those the rules were compiled for")
    if not math.isfinite(now):
        raise AnalyticsError(f"now must be Unix seconds; got {now!r}")
    if book is None:
        return
    if book.portfolio_ids != compiled.portfolio_ids:
        raise AnalyticsError("the book's portfolios differ from those the rules were compiled for")
    if book.values.shape[0] != market.dates.size or book.weights.shape[1] != len(market.symbols):
        raise AnalyticsError(
            f"the book must cover the market's {market.dates.size} days and {len(market.symbols)} symbols; its values "
            f"have {book.values.shape[0]} days and its weights {book.weights.shape[1]} symbols"
        )


def evaluate(compiled: CompiledRules, market: MarketWindow, book: PortfolioBook | None, now: float) -> Evaluation:
    """Judge every compiled rule on the window's last day (see the module's table), at Unix time ``now``.

    ``market.symbols`` and the book's portfolios must be those the rules were compiled for. Without a book every
    portfolio rule is not evaluable ("no portfolio data given").
    """
    _check_inputs(compiled, market, book, now)
    day, n = _Day(market, book), compiled.rule_id.size
    value, threshold = np.full(n, np.nan), np.full(n, np.nan)
    condition, reason, position = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64), np.full(n, -1)
    for kind, group in compiled.groups.items():
        if kind in PORTFOLIO_KINDS and book is None:
            reason[group.rows] = NO_BOOK
            continue
        out = _EVALUATORS[kind](group, day)
        rows = group.rows
        value[rows], threshold[rows], condition[rows], reason[rows] = (
            out.value,
            out.threshold,
            out.condition,
            out.reason,
        )
        if out.position is not None:
            position[rows] = out.position
    blocked = reason != OK
    value[blocked], condition[blocked], position[blocked] = np.nan, False, -1
    cooled = np.isnan(compiled.last_fired) | (now - compiled.last_fired >= compiled.cooldown)
    return Evaluation(
        date=market.dates[-1],
        rule_id=compiled.rule_id,
        kind=np.asarray(KINDS, dtype=object)[compiled.kind],
        condition=condition,
        fires=condition & cooled,
        value=value,
        threshold=threshold,
        position=position,
        not_evaluable=blocked,
        reason=np.asarray(REASONS, dtype=object)[reason],
    )


@dataclass(frozen=True, eq=False)
class History:
    """A replay: row d of each days × rules array is ``evaluate`` on ``dates[d]``."""

    dates: np.ndarray
    rule_id: np.ndarray
    condition: np.ndarray
    fires: np.ndarray
    value: np.ndarray
    not_evaluable: np.ndarray


def evaluate_history(
    compiled: CompiledRules,
    market: MarketWindow,
    first_day: int = 0,
    times: np.ndarray | None = None,
    book_at: Callable[[int], PortfolioBook | None] | None = None,
) -> History:
    """Replay the window day by day from row ``first_day``, as if each day's prices had just arrived.

    Day d is judged on ``market.until(d)`` (all closes up to it) and ``book_at(d)`` (None: no book) at
    ``times[d]`` (Unix seconds; default midnight UTC of the date). A rule that fires on day d has
    ``last_fired = times[d]`` from then on, so the cooldown carries over; this dependence of each day on the
    previous one is why the days are a loop.
    """
    if times is None:
        times = market.dates.astype("datetime64[s]").astype(np.float64)
    if not 0 <= first_day < market.dates.size or len(times) != market.dates.size:
        raise AnalyticsError(f"first_day must be a row of the window and times give one time per day (got {first_day})")
    last_fired, rows = compiled.last_fired.copy(), []
    for d in range(first_day, market.dates.size):
        state = replace(compiled, last_fired=last_fired)
        result = evaluate(state, market.until(d), book_at(d) if book_at else None, float(times[d]))
        last_fired = np.where(result.fires, float(times[d]), last_fired)
        rows.append(result)
    return History(
        dates=market.dates[first_day:],
        rule_id=compiled.rule_id,
        condition=np.array([r.condition for r in rows]),
        fires=np.array([r.fires for r in rows]),
        value=np.array([r.value for r in rows]),
        not_evaluable=np.array([r.not_evaluable for r in rows]),
    )
