"""Checking the alert rules on stored prices and portfolios, recording what fires, and e-mailing it.

``check`` runs every enabled rule on one price date (default: the newest in the store): it loads the trailing
window of adjusted closes the rules need (``analytics.alert_rules.required_days``), builds each watched
portfolio's book from its ledger valuation (flow-adjusted wealth for the drawdown, today's P&L and return
excluding flows, weights, target allocation), evaluates everything at once and stores one Alert per firing.
A rule fires at most once per price date (a re-run on the same data adds nothing), and not again before its
cooldown has passed; the unique (rule, date) index makes a concurrent check that would record a firing twice
fail as a whole (its job is retried and then finds the firing recorded). A portfolio rule whose owner can no
longer read the portfolio is skipped. The e-mails are sent by ``services.alert_mail``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from investment_app.analytics.alert_rules import (
    PORTFOLIO_KINDS,
    CompiledRules,
    Evaluation,
    MarketWindow,
    PortfolioBook,
    RuleSpec,
    compile_rules,
    evaluate,
    required_days,
)
from investment_app.analytics.rebalance import Target
from investment_app.analytics.returns import daily_returns
from investment_app.auth.viewer import Viewer
from investment_app.db import session_scope
from investment_app.marketdata.series import wide_frame
from investment_app.models._time import as_utc, utcnow
from investment_app.models.alerts import Alert, AlertRule
from investment_app.models.optimization import TargetAllocation
from investment_app.models.portfolio import Portfolio
from investment_app.services import accounts, notifications, performance, portfolios, targets
from investment_app.services.alert_rules import describe
from investment_app.services.errors import ServiceError

log = logging.getLogger(__name__)


@dataclass
class CheckReport:
    """What one check did: the price date, rules judged, alerts fired, rules that could not be judged (why)."""

    as_of: dt.date | None
    rules: int = 0
    fired: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "rules": self.rules,
            "fired": self.fired,
            "skipped": {str(k): v for k, v in self.skipped.items()},
            "seconds": round(self.seconds, 4),
        }


def _last_price_date(db: Session) -> dt.date | None:
    return performance.price_version(db)[2]


@dataclass(frozen=True)
class _Position:
    """One portfolio as the book needs it."""

    wealth: pd.Series
    pnl: float
    ret: float
    weights: dict[str, float]


def _position(db: Session, portfolio: Portfolio, viewer: Viewer, as_of: dt.date) -> _Position:
    """Flow-adjusted wealth, today's P&L and return excluding flows (since the previous price date), weights."""
    snap = performance.snapshot(db, viewer, portfolio.id or 0, as_of)
    v = snap.valuation
    returns = daily_returns(v.total, v.net_flow)
    wealth = pd.Series(np.cumprod(1.0 + returns), index=v.dates)
    total = v.total[-1]
    weights = dict(zip(v.symbols, v.positions[-1] * v.prices[-1] / total, strict=True)) if total > 0 else {}
    return _Position(
        wealth,
        float(total - v.total[-2] - v.net_flow[-1]) if len(v.total) > 1 else np.nan,
        float(returns[-1]),
        {s: w for s, w in weights.items() if w != 0},
    )


def _book(
    db: Session, rules: list[AlertRule], as_of: dt.date, skipped: dict[int, str]
) -> tuple[list[int], dict[int, _Position]]:
    """The positions of the portfolios the rules watch and their owners may read; others go to ``skipped``."""
    positions: dict[int, _Position] = {}
    for rule in rules:
        if rule.kind not in PORTFOLIO_KINDS:
            continue
        viewer = accounts.viewer_for(db, rule.owner_id, "monitor")
        try:
            if viewer is None:
                raise ServiceError("the rule's owner is no longer active")
            portfolio = portfolios.readable(db, viewer, rule.portfolio_id or 0)  # each rule's owner, every time
            if portfolio.id not in positions:
                positions[portfolio.id or 0] = _position(db, portfolio, viewer, as_of)
        except ServiceError as exc:
            skipped[rule.id or 0] = str(exc)
    return list(positions), positions


def _targets(db: Session, ids: list[int], positions: dict[int, _Position]) -> dict[int, Target]:
    """Each portfolio's target over symbols (a sectors target spread over its holdings; one that cannot be
    spread is left out, so its drift rules are not evaluable)."""
    resolved = {}
    for t in db.exec(select(TargetAllocation).where(col(TargetAllocation.portfolio_id).in_(ids))):
        try:
            resolved[t.portfolio_id] = targets.resolve(db, t, positions[t.portfolio_id].weights)
        except ServiceError:
            continue
    return resolved


def _portfolio_book(
    ids: list[int], positions: dict[int, _Position], market: MarketWindow, targets: dict[int, Target]
) -> PortfolioBook:
    symbols = list(market.symbols)
    dates = pd.DatetimeIndex(market.dates.astype("datetime64[ns]"))
    weights = np.zeros((len(ids), len(symbols)))
    target_weights = np.full((len(ids), len(symbols)), np.nan)
    target_cash = np.full(len(ids), np.nan)
    values = np.full((len(dates), len(ids)), np.nan)
    prior_peak = np.full(len(ids), np.nan)
    column = {s: j for j, s in enumerate(symbols)}
    for i, pid in enumerate(ids):
        pos = positions[pid]
        values[:, i] = pos.wealth.reindex(dates).to_numpy()
        before = pos.wealth[pos.wealth.index < dates[0]]
        prior_peak[i] = before.max() if len(before) else np.nan
        for symbol, weight in pos.weights.items():
            weights[i, column[symbol]] = weight
        if (target := targets.get(pid)) is not None:
            target_weights[i] = [target.weights.get(s, 0.0) for s in symbols]
            target_cash[i] = target.cash
    return PortfolioBook(
        tuple(ids),
        values,
        np.array([positions[p].pnl for p in ids]),
        np.array([positions[p].ret for p in ids]),
        weights,
        target_weights,
        target_cash,
        prior_peak,
    )


def _specs(db: Session, rules: list[AlertRule], as_of: dt.date) -> list[RuleSpec]:
    """Rules as the engine takes them; a rule that already fired on ``as_of`` is left out (once per date)."""
    query = select(Alert.rule_id, func.max(Alert.as_of)).where(col(Alert.rule_id).in_([r.id for r in rules]))
    last_as_of = dict(db.exec(query.group_by(col(Alert.rule_id))).all())  # type: ignore[call-overload]
    return [
        RuleSpec(
            rule.id or 0,
            rule.kind,
            rule.params,
            rule.symbol,
            rule.portfolio_id,
            rule.cooldown_minutes * 60.0,
            as_utc(rule.last_fired_at).timestamp() if rule.last_fired_at else None,
        )
        for rule in rules
        if last_as_of.get(rule.id) != as_of
    ]


def _market(db: Session, symbols: list[str], compiled: CompiledRules, as_of: dt.date) -> MarketWindow | None:
    frame = wide_frame(db.get_bind(), symbols, end=as_of)
    frame = frame.iloc[-required_days(compiled) :]
    if frame.empty or frame.index[-1].date() != as_of:
        return None
    return MarketWindow.from_frame(frame)


def _format(rule: AlertRule, value: float) -> str:
    """The observed value as the rule's kind reads: a price, an RSI, percentage points, money or a percentage."""
    if rule.kind == "price_cross":
        return f"{value:,.2f}"
    if rule.kind == "rsi":
        return f"{value:.1f}"
    if rule.kind == "drift":
        return f"{value:.1f} pp"
    if rule.kind == "daily_loss" and rule.params.get("amount") is not None:
        return f"{value:+,.2f}"
    return f"{value * 100:+.2f}%" if rule.kind in ("move", "daily_loss") else f"{value * 100:.2f}%"


def _alert(rule: AlertRule, result: Evaluation, k: int, target: str, as_of: dt.date, market: MarketWindow) -> Alert:
    value = float(result.value[k])
    condition = describe(rule.kind, rule.params, target)
    where = f" ({market.symbols[result.position[k]]})" if result.position[k] >= 0 else ""
    seen = f"{_format(rule, value)}{where}"
    return Alert(
        rule_id=rule.id,
        owner_id=rule.owner_id,
        portfolio_id=rule.portfolio_id,
        symbol=rule.symbol,
        kind=rule.kind,
        severity=rule.severity,
        title=f"{rule.name or condition}: {seen}",
        message=f"{condition}: {seen} on {as_of:%d %b %Y}.",
        value=value,
        threshold=float(result.threshold[k]),
        as_of=as_of,
    )


def _email_status(db: Session, alert: Alert, rule: AlertRule, now: datetime) -> None:
    if not rule.email:
        return
    decision = notifications.decide(notifications.settings_row(db, rule.owner_id), alert.severity, now)
    alert.email_status, alert.email_due_at, alert.email_error = decision.status, decision.due, decision.reason or None


def check(url: str | None = None, as_of: dt.date | None = None, now: datetime | None = None) -> CheckReport:
    """Judge every enabled rule on ``as_of`` at ``now`` and store what fires (one transaction)."""
    started, now = time.perf_counter(), now or utcnow()
    with session_scope(url) as db:
        as_of = as_of or _last_price_date(db)
        report = CheckReport(as_of)
        rules = list(db.exec(select(AlertRule).where(col(AlertRule.enabled))).all())
        if as_of is not None and rules:
            report.rules = len(rules)
            judged = _judge(db, rules, as_of, now, report.skipped)
            if judged is not None:
                report.fired = _record(db, rules, *judged, as_of, now)
    report.seconds = time.perf_counter() - started
    return report


def _judge(
    db: Session, rules: list[AlertRule], as_of: dt.date, now: datetime, skipped: dict[int, str]
) -> tuple[Evaluation, MarketWindow, dict[int, str]] | None:
    """Evaluate the rules on ``as_of``; the verdicts, the market window and the portfolios' names, or None
    without prices that day. Rules that cannot be judged go to ``skipped`` with the reason."""
    ids, positions = _book(db, rules, as_of, skipped)
    specs = [s for s in _specs(db, rules, as_of) if s.id not in skipped]
    held = {s for p in positions.values() for s in p.weights}
    symbols = sorted({s.symbol for s in specs if s.symbol} | held)
    compiled = compile_rules(specs, symbols, ids)
    skipped |= compiled.unknown
    market = _market(db, symbols, compiled, as_of) if symbols else None
    if market is None:
        skipped |= {s.id: f"no prices on {as_of}" for s in specs if s.id not in compiled.unknown}
        return None
    book = _portfolio_book(ids, positions, market, _targets(db, ids, positions)) if ids else None
    result = evaluate(compiled, market, book, now.timestamp())
    blocked = result.not_evaluable
    skipped |= {int(r): str(why) for r, why in zip(result.rule_id[blocked], result.reason[blocked], strict=True)}
    names = dict(db.exec(select(Portfolio.id, Portfolio.name).where(col(Portfolio.id).in_(ids))).all())
    return result, market, names  # type: ignore[return-value]


def _record(
    db: Session,
    rules: list[AlertRule],
    result: Evaluation,
    market: MarketWindow,
    names: dict[int, str],
    as_of: dt.date,
    now: datetime,
) -> list[int]:
    """Store an Alert per firing (with its e-mail decision) and the rules' last firing; the new alerts' ids."""
    by_id = {rule.id: rule for rule in rules}
    fired = []
    for k in np.flatnonzero(result.fires):
        rule = by_id[int(result.rule_id[k])]
        alert = _alert(rule, result, int(k), rule.symbol or names.get(rule.portfolio_id or 0, ""), as_of, market)
        _email_status(db, alert, rule, now)
        rule.last_fired_at = now
        db.add_all([alert, rule])
        db.flush()
        fired.append(alert.id or 0)
    return fired
