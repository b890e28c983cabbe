"""Alert rules: created, listed, switched on and off and deleted by their owner; every change audited.

A rule watches a symbol (price_cross, move, rsi, ma_cross) or a portfolio the owner can read (drawdown,
daily_loss, var, concentration, drift). Its thresholds are checked by ``analytics.alert_rules.normalize_params``,
so an impossible one (a drawdown beyond 100 %, RSI bounds outside 0-100) is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from investment_app.analytics.alert_rules import PORTFOLIO_KINDS, SYMBOL_KINDS, normalize_params
from investment_app.auth.viewer import Viewer
from investment_app.models.alerts import AlertRule, Severity
from investment_app.models.market import Symbol
from investment_app.models.portfolio import Portfolio
from investment_app.services import audit, portfolios
from investment_app.services.errors import Forbidden, InvalidInput

MAX_COOLDOWN_MINUTES = 366 * 24 * 60
NOT_FOUND = "No such alert rule."


@dataclass(frozen=True)
class RuleRow:
    """A rule as the alert centre lists it."""

    id: int
    name: str
    kind: str
    target: str
    condition: str
    severity: str
    cooldown: str
    email: bool
    enabled: bool
    last_fired: str


def _pct(value: float) -> str:
    return f"{value * 100:g}%"


def describe(kind: str, params: dict[str, Any], target: str) -> str:
    """The rule in words, e.g. "AAPL closes above 150" or "Growth: drawdown beyond 10%"."""
    p = params
    texts = {
        "price_cross": lambda: (
            f"{target} crosses {p['level']:g}" + ("" if p["direction"] == "either" else f" going {p['direction']}")
        ),
        "move": lambda: (
            f"{target} moves {'±' if p['direction'] == 'either' else '+' if p['direction'] == 'up' else '−'}"
            f"{_pct(p['pct'])} over {p['days']} day{'s' * (p['days'] != 1)}"
        ),
        "rsi": lambda: (
            f"{target} RSI({p['period']})"
            + {"above": f" above {p['upper']:g}", "below": f" below {p['lower']:g}"}.get(
                p["zone"], f" above {p['upper']:g} or below {p['lower']:g}"
            )
        ),
        "ma_cross": lambda: (
            f"{target} SMA {p['fast']}/{p['slow']} "
            + {"golden": "golden cross", "death": "death cross"}.get(p["direction"], "crossover")
        ),
        "drawdown": lambda: f"{target}: drawdown beyond {_pct(p['pct'])}",
        "daily_loss": lambda: (
            f"{target}: daily loss beyond " + (f"{p['amount']:,.2f}" if p.get("amount") is not None else _pct(p["pct"]))
        ),
        "var": lambda: f"{target}: 1-day 95% VaR above {_pct(p['pct'])} of value",
        "concentration": lambda: f"{target}: a position above {_pct(p['pct'])}",
        "drift": lambda: f"{target}: {'total' if p['measure'] == 'total' else 'a position'} drift above {p['pp']:g} pp",
    }
    return texts[kind]()


def _cooldown(minutes: int) -> str:
    if minutes % 1440 == 0 and minutes:
        return f"{minutes // 1440} d"
    return f"{minutes // 60} h" if minutes % 60 == 0 and minutes else f"{minutes} min"


def _target(db: Session, rule: AlertRule) -> str:
    if rule.symbol:
        return rule.symbol
    portfolio = db.get(Portfolio, rule.portfolio_id)
    return portfolio.name if portfolio else "(deleted portfolio)"


def _row(db: Session, rule: AlertRule) -> RuleRow:
    target = _target(db, rule)
    condition = describe(rule.kind, rule.params, target)
    return RuleRow(
        id=rule.id or 0,
        name=rule.name or condition,
        kind=rule.kind,
        target=target,
        condition=condition,
        severity=rule.severity,
        cooldown=_cooldown(rule.cooldown_minutes),
        email=rule.email,
        enabled=rule.enabled,
        last_fired=rule.last_fired_at.strftime("%Y-%m-%d %H:%M") if rule.last_fired_at else "",
    )


def _check_target(db: Session, viewer: Viewer, kind: str, symbol: str | None, portfolio_id: int | None) -> str | None:
    """The symbol (upper-cased, known to the price store) for a symbol kind; the portfolio check for the others."""
    if kind in SYMBOL_KINDS:
        symbol = (symbol or "").strip().upper()
        if not symbol:
            raise InvalidInput(f"A {kind} rule needs a symbol.")
        if db.get(Symbol, symbol) is None:
            raise InvalidInput(f"Unknown symbol {symbol!r}: it has no prices here.")
        return symbol
    if portfolio_id is None:
        raise InvalidInput(f"A {kind} rule needs a portfolio.")
    portfolios.readable(db, viewer, portfolio_id)
    return None


def create(
    db: Session,
    viewer: Viewer,
    *,
    kind: str,
    params: dict[str, Any],
    symbol: str | None = None,
    portfolio_id: int | None = None,
    severity: str = "medium",
    cooldown_minutes: int = 1440,
    email: bool = False,
    name: str = "",
) -> RuleRow:
    """Validate everything, then store the rule (audited)."""
    if kind not in SYMBOL_KINDS | PORTFOLIO_KINDS:
        raise InvalidInput(
            f"Unknown alert kind {kind!r}; expected one of {', '.join(sorted(SYMBOL_KINDS | PORTFOLIO_KINDS))}."
        )
    symbol = _check_target(db, viewer, kind, symbol, portfolio_id)
    try:
        params = normalize_params(kind, params)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if severity not in {s.value for s in Severity}:
        raise InvalidInput(f"Unknown severity {severity!r}; expected low, medium, high or critical.")
    if not 0 <= cooldown_minutes <= MAX_COOLDOWN_MINUTES:
        raise InvalidInput(f"The cooldown must be between 0 minutes and a year; got {cooldown_minutes} minutes.")
    rule = AlertRule(
        owner_id=viewer.user_id,
        portfolio_id=None if symbol else portfolio_id,
        symbol=symbol,
        kind=kind,
        params=params,
        severity=severity,
        cooldown_minutes=cooldown_minutes,
        email=email,
        name=" ".join(name.split())[:120],  # one line: it becomes an e-mail subject
    )
    db.add(rule)
    db.flush()
    audit.record(db, viewer, "alert_rule.create", "alert_rule", rule.id, after=_row(db, rule).__dict__)
    return _row(db, rule)


def owned(db: Session, viewer: Viewer, rule_id: int) -> AlertRule:
    """The viewer's own rule; Forbidden (as not found) otherwise."""
    rule = db.get(AlertRule, rule_id)
    if rule is None or rule.owner_id != viewer.user_id:
        raise Forbidden(NOT_FOUND)
    return rule


def list_rules(db: Session, viewer: Viewer) -> list[RuleRow]:
    """The viewer's rules, newest first."""
    rules = db.exec(select(AlertRule).where(AlertRule.owner_id == viewer.user_id).order_by(col(AlertRule.id).desc()))
    return [_row(db, rule) for rule in rules.all()]


def set_enabled(db: Session, viewer: Viewer, rule_id: int, enabled: bool) -> None:
    """Switch a rule on or off (audited)."""
    rule = owned(db, viewer, rule_id)
    if rule.enabled != enabled:
        rule.enabled = enabled
        db.add(rule)
        audit.record(
            db, viewer, "alert_rule.enabled", "alert_rule", rule_id, {"enabled": not enabled}, {"enabled": enabled}
        )


def delete(db: Session, viewer: Viewer, rule_id: int) -> None:
    """Delete a rule; the alerts it fired stay, detached from it (audited)."""
    rule = owned(db, viewer, rule_id)
    before = _row(db, rule).__dict__
    db.delete(rule)
    audit.record(db, viewer, "alert_rule.delete", "alert_rule", rule_id, before=before)
