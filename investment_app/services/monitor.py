"""Checking the alert rules on stored prices and portfolios, recording what fires, and e-mailing it.

``check`` runs every enabled rule on one price date (default: the newest in the store): it loads the trailing
window of adjusted closes the rules need (``analytics.alert_rules.required_days``), builds each watched
portfolio's book from its ledger valuation (flow-adjusted wealth for the drawdown, today's P&L and return
excluding flows, weights, target allocation), evaluates everything at once and stores one Alert per firing.
A rule fires at most once per price date (a re-run on the same data adds nothing), and not again before its
cooldown has passed. A portfolio rule whose owner can no longer read the portfolio is skipped.

``send_alert_emails`` sends the e-mails that are due: each alert is claimed by one conditional UPDATE, so two
senders never send it twice; a refused message is marked failed with the server's answer and retried later.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

import numpy as np
import pandas as pd
from sqlalchemy import func, or_, update
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
from investment_app.analytics.returns import daily_returns
from investment_app.auth.viewer import Viewer
from investment_app.db import session_scope
from investment_app.mail.smtp import DeliveryFailed, SmtpConfig, send_message
from investment_app.marketdata.series import wide_frame
from investment_app.models._time import as_utc, utcnow
from investment_app.models.alerts import Alert, AlertRule
from investment_app.models.optimization import TargetAllocation
from investment_app.models.portfolio import Portfolio
from investment_app.models.user import User
from investment_app.services import notifications, performance
from investment_app.services.alert_rules import describe
from investment_app.services.errors import ServiceError
from investment_app.settings import get_settings

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


def _owner_viewer(db: Session, user_id: int) -> Viewer | None:
    user = db.get(User, user_id)
    return Viewer(user.id, user.email, user.display_name, user.role, "monitor") if user and user.is_active else None


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
        if rule.kind not in PORTFOLIO_KINDS or rule.portfolio_id in positions:
            continue
        portfolio = db.get(Portfolio, rule.portfolio_id)
        viewer = _owner_viewer(db, rule.owner_id)
        try:
            if portfolio is None or viewer is None:
                raise ServiceError("the portfolio or its owner is gone")
            positions[portfolio.id or 0] = _position(db, portfolio, viewer, as_of)
        except ServiceError as exc:
            skipped[rule.id or 0] = str(exc)
    return list(positions), positions


def _portfolio_book(
    ids: list[int], positions: dict[int, _Position], market: MarketWindow, targets: dict[int, TargetAllocation]
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
            target_cash[i] = target.cash_reserve
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


def _format(kind: str, value: float) -> str:
    if kind == "price_cross":
        return f"{value:,.2f}"
    if kind == "rsi":
        return f"{value:.1f}"
    if kind == "drift":
        return f"{value:.1f} pp"
    if kind == "daily_loss" and abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value * 100:.2f}%"


def _alert(rule: AlertRule, result: Evaluation, k: int, target: str, as_of: dt.date, market: MarketWindow) -> Alert:
    value = float(result.value[k])
    condition = describe(rule.kind, rule.params, target)
    where = f" ({market.symbols[result.position[k]]})" if result.position[k] >= 0 else ""
    return Alert(
        rule_id=rule.id,
        owner_id=rule.owner_id,
        portfolio_id=rule.portfolio_id,
        symbol=rule.symbol,
        kind=rule.kind,
        severity=rule.severity,
        title=f"{rule.name or condition}: {_format(rule.kind, value)}{where}",
        message=f"{condition}. On {as_of:%d %b %Y} the value was {_format(rule.kind, value)}{where}.",
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
        if as_of is None or not rules:
            return report
        report.rules = len(rules)
        ids, positions = _book(db, rules, as_of, report.skipped)
        specs = [s for s in _specs(db, rules, as_of) if s.id not in report.skipped]
        held = {s for p in positions.values() for s in p.weights}
        symbols = sorted({s.symbol for s in specs if s.symbol} | held)
        compiled = compile_rules(specs, symbols, ids)
        report.skipped |= compiled.unknown
        market = _market(db, symbols, compiled, as_of) if symbols else None
        if market is None:
            report.skipped |= {s.id: f"no prices on {as_of}" for s in specs if s.id not in compiled.unknown}
            return report
        targets = {
            t.portfolio_id: t
            for t in db.exec(select(TargetAllocation).where(col(TargetAllocation.portfolio_id).in_(ids)))
        }
        book = _portfolio_book(ids, positions, market, targets) if ids else None
        result = evaluate(compiled, market, book, now.timestamp())
        by_id = {rule.id: rule for rule in rules}
        names = dict(db.exec(select(Portfolio.id, Portfolio.name).where(col(Portfolio.id).in_(ids))).all())
        for k in np.flatnonzero(result.fires):
            rule = by_id[int(result.rule_id[k])]
            alert = _alert(rule, result, int(k), rule.symbol or names.get(rule.portfolio_id, ""), as_of, market)
            _email_status(db, alert, rule, now)
            rule.last_fired_at = now
            db.add_all([alert, rule])
            db.flush()
            report.fired.append(alert.id or 0)
        report.skipped |= {
            int(r): str(why)
            for r, why in zip(result.rule_id[result.not_evaluable], result.reason[result.not_evaluable], strict=True)
        }
    report.seconds = time.perf_counter() - started
    return report


def _alert_message(alert: Alert, to: str) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["Subject"] = f"[{alert.severity.upper()}] {alert.title}"
    message["From"] = settings.smtp_from
    message["To"] = to
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<alert.{alert.id}.{int(as_utc(alert.fired_at).timestamp())}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"{alert.message}\n\nSeverity: {alert.severity}\nAlert centre: {settings.public_url}/alerts\n\n"
        f"Change which alerts are e-mailed, or quiet hours: {settings.public_url}/settings/notifications\n"
    )
    return message


def send_alert_emails(url: str | None = None, now: datetime | None = None, smtp: SmtpConfig | None = None) -> int:
    """Send every alert e-mail that is due (pending, failed, or deferred past its time); how many were sent.

    With no SMTP_HOST (e-mail off) nothing is sent and the e-mails stay due.
    """
    if smtp is None and not get_settings().smtp_host:
        return 0
    now = now or utcnow()
    due = or_(
        col(Alert.email_status).in_(["pending", "failed"]),
        (col(Alert.email_status) == "deferred") & (col(Alert.email_due_at) <= now),
    )
    with session_scope(url) as db:
        waiting = list(db.exec(select(Alert).where(due).order_by(col(Alert.id))).all())
    sent = 0
    for alert in waiting:
        with session_scope(url) as db:
            claim = update(Alert).where(col(Alert.id) == alert.id, col(Alert.email_status) == alert.email_status)
            if db.exec(claim.values(email_status="sending")).rowcount != 1:  # type: ignore[call-overload]
                continue
            to = notifications.settings_row(db, alert.owner_id).email
        status, error = "sent", None
        try:
            send_message(_alert_message(alert, to), smtp or SmtpConfig.from_settings(get_settings()))
            sent += 1
        except DeliveryFailed as exc:
            status, error = "failed", str(exc)
        with session_scope(url) as db:
            values = {"email_status": status, "email_error": error, "emailed_at": now if status == "sent" else None}
            db.exec(update(Alert).where(col(Alert.id) == alert.id).values(**values))  # type: ignore[call-overload]
    return sent
