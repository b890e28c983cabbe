"""Rebalancing plans: built from the ledger, the target and the portfolio's settings; stored; edited, approved or
rejected by someone who may change the portfolio, every decision audited.

A plan is computed on the last price date (its trade date: lots held a year by then are long term) by
``analytics.rebalance``. Wash sales are checked across all the owner's portfolios: a buy is blocked for a symbol
(or its declared substantially identical group) sold at a loss in the last 30 days, and a lot is not harvested
when its group was bought in the last 30 days (the harvest would be washed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from investment_app.analytics import rebalance as rb
from investment_app.analytics import wash_sale
from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.triggers import CALENDARS
from investment_app.auth.viewer import Viewer
from investment_app.ledger.lots import LotBook
from investment_app.marketdata.price_book import price_frame
from investment_app.models import Portfolio, Symbol, TxType
from investment_app.models._time import utcnow
from investment_app.models.optimization import TargetAllocation
from investment_app.models.rebalance import PlanStatus, RebalancePlan, RebalanceSettings, TaxSettings
from investment_app.models.trading import BrokerConnection
from investment_app.services import accounts, audit, performance, portfolios, targets
from investment_app.services.errors import Forbidden, InvalidInput, NoTransactions
from investment_app.services.transactions import load_entries

PLAN_NOT_FOUND = "No such plan, or you do not have access to it."
LOOKBACK_DAYS = 10  # a target symbol's last close is looked for this many days before the price date


@dataclass(frozen=True)
class Flow:
    """A cash flow to plan for: a deposit (> 0) buys underweights first, a withdrawal (< 0) sells overweights."""

    amount: float


def settings_for(db: Session, portfolio_id: int) -> RebalanceSettings:
    """The portfolio's settings, or the defaults (not stored) when it has none."""
    return db.get(RebalanceSettings, portfolio_id) or RebalanceSettings(portfolio_id=portfolio_id)


def identical_groups(db: Session, user_id: int) -> dict[str, list[str]]:
    """The user's declared groups of substantially identical symbols, keyed by their first member."""
    row = db.get(TaxSettings, user_id)
    return {group[0]: list(group) for group in (row.identical_groups if row else []) if group}


def plan_settings(s: RebalanceSettings, blocked: frozenset[str] = frozenset()) -> rb.PlanSettings:
    """The analytics' settings from the stored ones."""
    return rb.PlanSettings(
        band=s.band,
        total_threshold=s.drift_threshold,
        commission_bps=s.commission_bps,
        spread_bps=s.spread_bps,
        min_trade_value=s.min_trade_value,
        fractional=s.fractional,
        lot_method=s.lot_method,
        avoid_short_term_gains=s.avoid_short_term_gains,
        tlh_threshold=s.tlh_threshold,
        tlh_min_loss=s.tlh_min_loss,
        replacements=dict(s.replacements),
        blocked_buys=blocked,
    )


# --- wash sales across the owner's portfolios ---------------------------------------------------------------


def _trades_frame(db: Session, owner: Viewer, since: dt.date) -> pd.DataFrame:
    """Buys and sells (with their realized gains) since ``since`` in every portfolio the owner owns."""
    rows: list[tuple] = []
    owned = db.exec(select(Portfolio.id).where(Portfolio.owner_id == owner.user_id)).all()
    for pid in owned:
        try:
            book = performance.snapshot(db, owner, pid).book
        except NoTransactions:
            continue
        gains = _sale_gains(book)
        for e in load_entries(db, pid):
            if e.date >= since and e.type in (TxType.BUY, TxType.SELL) and e.symbol:
                side = "buy" if e.type is TxType.BUY else "sell"
                rows.append((pid, e.date, e.symbol, side, float(e.quantity), gains.get(e.id, np.nan)))
    return pd.DataFrame(rows, columns=list(wash_sale.COLUMNS))


def _sale_gains(book: LotBook) -> dict[int, float]:
    gains: dict[int, float] = {}
    for r in book.realized:
        gains[r.sell_id] = gains.get(r.sell_id, 0.0) + float(r.gain)
    return gains


def wash_sale_limits(
    db: Session, owner: Viewer, today: dt.date, groups: Mapping[str, list[str]]
) -> tuple[frozenset[str], frozenset[str]]:
    """(symbols a buy today would wash, symbols whose loss sale today would be washed by a recent buy)."""
    frame = _trades_frame(db, owner, today - dt.timedelta(days=wash_sale.WINDOW_DAYS))
    if frame.empty:
        return frozenset(), frozenset()
    blocked = wash_sale.blocked_buys(frame, today, groups)
    bought = frame.loc[frame["side"] == "buy"].assign(side="sell", gain=-1.0)  # a recent buy blocks like a loss sale
    return frozenset(blocked), frozenset(wash_sale.blocked_buys(bought, today, groups))


# --- building a plan ----------------------------------------------------------------------------------------


def _lot_arrays(book: LotBook) -> rb.LotArrays:
    lots = [lot for symbol_lots in book.open_lots.values() for lot in symbol_lots]
    return rb.LotArrays(
        lot_id=[lot.lot_id for lot in lots],
        symbol=[lot.symbol for lot in lots],
        opened=[np.datetime64(lot.opened, "D") for lot in lots],
        quantity=[float(lot.quantity) for lot in lots],
        unit_cost=[float(lot.unit_cost) for lot in lots],
    )


def last_closes(db: Session, symbols: list[str], day: dt.date) -> dict[str, float]:
    if not symbols:
        return {}
    frame = price_frame(db.get_bind(), symbols, day - dt.timedelta(days=LOOKBACK_DAYS), day, field="close")
    last = frame.ffill().iloc[-1] if len(frame) else pd.Series(dtype=float)
    missing = sorted(s for s in symbols if not np.isfinite(last.get(s, np.nan)))
    if missing:
        raise InvalidInput(f"No price on or shortly before {day} for {', '.join(missing)}; refresh prices first.")
    return {s: float(last[s]) for s in symbols}


def plan_input(db: Session, viewer: Viewer, portfolio: Portfolio, s: RebalanceSettings) -> rb.PlanInput:
    """Positions, cash, lots, the resolved target and the settings as of the last price date."""
    snap = performance.snapshot(db, viewer, portfolio.id)
    v = snap.valuation
    today = v.dates[-1].date()
    held = {sym: (float(v.positions[-1, j]), float(v.prices[-1, j])) for j, sym in enumerate(v.symbols)}
    held = {sym: qp for sym, qp in held.items() if qp[0] > 0}
    stored = db.get(TargetAllocation, portfolio.id)
    if stored is None:
        raise InvalidInput(f"Portfolio {portfolio.name!r} has no target allocation: set one first.")
    target = targets.resolve(db, stored, {sym: q * p for sym, (q, p) in held.items()})
    wanted = sorted((set(target.weights) | set(s.replacements.values())) - set(held))
    positions = held | {sym: (0.0, price) for sym, price in last_closes(db, wanted, today).items()}
    owner = _owner(db, viewer, portfolio)
    blocked, recently_bought = wash_sale_limits(db, owner, today, identical_groups(db, portfolio.owner_id))
    settings = plan_settings(s, blocked)
    if recently_bought:
        kept = {k: r for k, r in settings.replacements.items() if k not in recently_bought}
        settings = plan_settings(s.model_copy(update={"replacements": kept}), blocked)
    return rb.PlanInput(positions, float(v.cash[-1]), _lot_arrays(snap.book), target, today, settings)


def _owner(db: Session, viewer: Viewer, portfolio: Portfolio) -> Viewer:
    if portfolio.owner_id == viewer.user_id:
        return viewer
    owner = accounts.viewer_for(db, portfolio.owner_id, "rebalance")
    if owner is None:
        raise InvalidInput("The portfolio's owner is not active.")
    return owner


def _compute(inp: rb.PlanInput, flow: Flow | None) -> rb.Plan:
    try:
        if flow is None or flow.amount == 0:
            return rb.plan(inp)
        return rb.deploy_cash(inp, flow.amount) if flow.amount > 0 else rb.raise_cash(inp, -flow.amount)
    except AnalyticsError as exc:
        raise InvalidInput(str(exc).capitalize() + ".") from exc


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in frame.to_dict("records")]


def _weights(series: pd.Series) -> dict[str, float]:
    return {str(k): round(float(v), 10) for k, v in series.items()}


def _summary(p: rb.Plan, inp: rb.PlanInput) -> dict[str, Any]:
    return {
        "before": _weights(p.before),
        "after": _weights(p.after),
        "target": {**inp.target.weights, rb.CASH: inp.target.cash},
        "drift_before": p.drift_before,
        "drift_after": p.drift_after,
        "costs": p.costs,
        "turnover": p.turnover,
        "cash_after": p.cash_after,
        "realized_short_term": p.realized_short,
        "realized_long_term": p.realized_long,
        "blocked_buys": sorted(inp.settings.blocked_buys),
        "notes": list(p.notes),
    }


def _inputs(inp: rb.PlanInput, s: RebalanceSettings, flow: Flow | None) -> dict[str, Any]:
    return {
        "positions": {sym: [q, p] for sym, (q, p) in inp.positions.items()},
        "cash": inp.cash + (flow.amount if flow and flow.amount > 0 else 0.0),
        "withdrawal": -flow.amount if flow and flow.amount < 0 else 0.0,
        "cost_rate": inp.settings.cost_rate,
        "settings": s.model_dump(mode="json", exclude={"portfolio_id", "updated_at", "last_run_at"}),
    }


def create_plan(
    db: Session, viewer: Viewer, portfolio_id: int, trigger: str = "manual", flow: Flow | None = None
) -> RebalancePlan:
    """Compute and store a proposed plan (earlier proposed plans of the portfolio are superseded), audited."""
    portfolio = portfolios.writable(db, viewer, portfolio_id)
    s = settings_for(db, portfolio_id)
    inp = plan_input(db, viewer, portfolio, s)
    result = _compute(inp, flow)
    for old in db.exec(
        select(RebalancePlan).where(
            RebalancePlan.portfolio_id == portfolio_id, RebalancePlan.status == PlanStatus.PROPOSED.value
        )
    ).all():
        old.status = PlanStatus.SUPERSEDED.value
        db.add(old)
    plan = RebalancePlan(
        portfolio_id=portfolio_id,
        trigger=trigger,
        price_date=inp.today.isoformat(),
        inputs=_inputs(inp, s, flow),
        trades=_records(result.trades),
        lots=_records(result.lots),
        summary=_summary(result, inp),
        broker=s.broker,
        created_by=viewer.user_id,
    )
    db.add(plan)
    db.flush()
    audit.record(db, viewer, "plan.create", "rebalance_plan", plan.id, after=_audit_view(plan))
    return plan


def _audit_view(plan: RebalancePlan) -> dict[str, Any]:
    return {
        "portfolio": plan.portfolio_id,
        "status": plan.status,
        "trigger": plan.trigger,
        "trades": [f"{t['side']} {t['quantity']:g} {t['symbol']}" for t in plan.trades],
    }


# --- reading, editing and deciding ------------------------------------------------------------------------------


def get_plan(db: Session, viewer: Viewer, plan_id: int, write: bool = False) -> RebalancePlan:
    """A plan of a portfolio the viewer may read (or change, with ``write``)."""
    plan = db.get(RebalancePlan, plan_id)
    if plan is None:
        raise Forbidden(PLAN_NOT_FOUND)
    check = portfolios.writable if write else portfolios.readable
    try:
        check(db, viewer, plan.portfolio_id)
    except Forbidden as exc:
        raise Forbidden(PLAN_NOT_FOUND) from exc
    return plan


def list_plans(db: Session, viewer: Viewer, portfolio_id: int, limit: int = 50) -> list[RebalancePlan]:
    """The portfolio's plans, newest first."""
    portfolios.readable(db, viewer, portfolio_id)
    stmt = (
        select(RebalancePlan)
        .where(RebalancePlan.portfolio_id == portfolio_id)
        .order_by(col(RebalancePlan.id).desc())
        .limit(limit)
    )
    return list(db.exec(stmt).all())


def _proposed(db: Session, viewer: Viewer, plan_id: int) -> RebalancePlan:
    plan = get_plan(db, viewer, plan_id, write=True)
    if plan.status != PlanStatus.PROPOSED.value:
        raise InvalidInput(f"Plan #{plan.id} is {plan.status}; only a proposed plan can be changed.")
    return plan


def _edited_trades(plan: RebalancePlan, quantities: Mapping[int, float]) -> list[dict[str, Any]]:
    """The plan's trades, in order, with the new quantities (0 kept here, dropped later)."""
    trades = [dict(t) for t in plan.trades]
    for row, qty in quantities.items():
        if not 0 <= row < len(trades):
            raise InvalidInput(f"Plan #{plan.id} has no trade #{row + 1}.")
        if not (np.isfinite(qty) and qty >= 0):
            raise InvalidInput(f"Trade #{row + 1}: the quantity must be a number ≥ 0 (got {qty}).")
        t = trades[row]
        held = plan.inputs["positions"].get(t["symbol"], [0.0])[0]
        if t["side"] == "sell" and qty > held + 1e-9:
            raise InvalidInput(f"Trade #{row + 1}: selling {qty:g} {t['symbol']} is more than the {held:g} held.")
        if t["side"] == "sell" and qty > t["quantity"] + 1e-9:
            raise InvalidInput(
                f"Trade #{row + 1}: a sell can be reduced, not raised above the planned {t['quantity']:g} "
                "(its lots were chosen for that); change the settings and plan again."
            )
        t["quantity"] = float(qty)
        t["value"] = qty * t["price"]
        t["est_cost"] = t["value"] * plan.inputs["cost_rate"]
    return trades


def _relieved(plan: RebalancePlan, trades: list[dict]) -> list[dict[str, Any]]:
    """The planned lots of each kept sell, in their relief order, cut to its new quantity (gains scale with it:
    a lot's gain is linear in the quantity sold); trade rows renumbered as zero trades drop out."""
    kept = [i for i, t in enumerate(trades) if t["quantity"] > 0]
    new_row = {old: new for new, old in enumerate(kept)}
    left = {i: trades[i]["quantity"] for i in kept}
    lots = []
    for lot in plan.lots:
        i = lot["trade"]
        qty = min(lot["quantity"], left.get(i, 0.0))
        if qty > 1e-12:
            left[i] -= qty
            lots.append({**lot, "trade": new_row[i], "quantity": qty, "gain": lot["gain"] * qty / lot["quantity"]})
    return lots


def _after(plan: RebalancePlan, trades: list[dict]) -> tuple[dict[str, float], float]:
    """After-weights (cash as ``CASH``) and cash left once the trades, their costs and any withdrawal are paid."""
    pos = {sym: qp[0] for sym, qp in plan.inputs["positions"].items()}
    price = {sym: qp[1] for sym, qp in plan.inputs["positions"].items()}
    cash = plan.inputs["cash"] - plan.inputs["withdrawal"]
    for t in trades:
        sign = 1 if t["side"] == "buy" else -1
        pos[t["symbol"]] += sign * t["quantity"]
        cash -= sign * t["value"] + t["est_cost"]
    value = sum(pos[s] * price[s] for s in pos) + cash
    return {**{s: pos[s] * price[s] / value for s in pos}, rb.CASH: cash / value}, cash


def edit_plan(db: Session, viewer: Viewer, plan_id: int, quantities: Mapping[int, float]) -> RebalancePlan:
    """Change trade quantities of a proposed plan (row → quantity; 0 drops the trade); the lots, realized gains,
    costs and after-weights follow. Sells may only be reduced. Audited."""
    plan = _proposed(db, viewer, plan_id)
    before = _audit_view(plan)
    edited = _edited_trades(plan, quantities)
    lots = _relieved(plan, edited)
    trades = [t for t in edited if t["quantity"] > 0]
    after, cash = _after(plan, trades)
    if cash < -1e-6:
        raise InvalidInput(f"The edited trades need {-cash:,.2f} more cash than the portfolio has.")
    target = plan.summary["target"]
    value = sum(q * p for q, p in plan.inputs["positions"].values()) + plan.inputs["cash"]
    plan.summary = plan.summary | {
        "after": after,
        "drift_after": 0.5 * sum(abs(after.get(s, 0.0) - target.get(s, 0.0)) for s in set(after) | set(target)),
        "costs": sum(t["est_cost"] for t in trades),
        "turnover": sum(t["value"] for t in trades) / (2 * value),
        "cash_after": cash,
        "realized_short_term": sum(lot["gain"] for lot in lots if not lot["long_term"]),
        "realized_long_term": sum(lot["gain"] for lot in lots if lot["long_term"]),
    }
    plan.trades, plan.lots = trades, lots
    db.add(plan)
    audit.record(db, viewer, "plan.edit", "rebalance_plan", plan.id, before=before, after=_audit_view(plan))
    return plan


def decide(db: Session, viewer: Viewer, plan_id: int, approve: bool, note: str = "") -> RebalancePlan:
    """Approve or reject a proposed plan, recording who, when and why (audited)."""
    plan = _proposed(db, viewer, plan_id)
    if approve and not plan.trades:
        raise InvalidInput(f"Plan #{plan.id} has no trades to approve.")
    plan.status = (PlanStatus.APPROVED if approve else PlanStatus.REJECTED).value
    plan.decided_by, plan.decided_at, plan.note = viewer.user_id, utcnow(), note.strip()[:500]
    db.add(plan)
    action = "plan.approve" if approve else "plan.reject"
    audit.record(db, viewer, action, "rebalance_plan", plan.id, after={"status": plan.status, "note": plan.note})
    return plan


def plan_json(db: Session, plan: RebalancePlan) -> dict[str, Any]:
    """The plan as the CLI prints it (a stable contract: keys are only ever added)."""
    portfolio = db.get(Portfolio, plan.portfolio_id)
    return {
        "id": plan.id,
        "portfolio": portfolio.name if portfolio else None,
        "portfolio_id": plan.portfolio_id,
        "status": plan.status,
        "trigger": plan.trigger,
        "price_date": plan.price_date,
        "broker": plan.broker,
        "created_at": plan.created_at.isoformat(),
        "trades": plan.trades,
        "lots": plan.lots,
        **plan.summary,
    }


# --- settings ---------------------------------------------------------------------------------------------------

FRACTIONS = (
    "drift_threshold",
    "position_threshold",
    "band",
    "tlh_threshold",
    "max_position_weight",
    "max_daily_loss",
)
AMOUNTS = ("commission_bps", "spread_bps", "min_trade_value", "tlh_min_loss", "max_order_value")
CHOICES = {
    "calendar": CALENDARS,
    "mode": ("approve", "auto"),
    "broker": ("paper", "alpaca"),
    "lot_method": rb.LOT_METHODS,
}
SWITCHES = ("cash_flow", "fractional", "avoid_short_term_gains")
LABELS = {"tlh_threshold": "tax-loss harvesting threshold", "tlh_min_loss": "tax-loss harvesting minimum loss"}


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def _clean_setting(db: Session, owner_id: int, name: str, value: Any) -> Any:
    if name in FRACTIONS or name in AMOUNTS:
        if value is None or value == "":
            if name in ("commission_bps", "spread_bps", "min_trade_value"):
                raise InvalidInput(f"The {_label(name)} is required.")
            return None
        number = float(value)
        if not np.isfinite(number) or number < 0 or (name in FRACTIONS and number > 1):
            bound = "between 0% and 100%" if name in FRACTIONS else "a number ≥ 0"
            raise InvalidInput(f"The {_label(name)} must be {bound} (got {value}).")
        return number
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise InvalidInput(f"Unknown {_label(name)} {value!r}: choose one of {', '.join(CHOICES[name])}.")
        return value
    if name in SWITCHES:
        return bool(value)
    if name == "cooldown_days":
        if not isinstance(value, int) or not 0 <= value <= 366:
            raise InvalidInput(f"The cooldown must be 0 to 366 days (got {value}).")
        return value
    if name == "connection_id":
        conn = db.get(BrokerConnection, value) if value is not None else None
        if value is not None and (conn is None or conn.owner_id != owner_id):
            raise InvalidInput("That broker connection is not the portfolio owner's.")
        return value
    if name == "replacements":
        return _clean_replacements(db, value)
    raise InvalidInput(f"Unknown rebalancing setting {name!r}.")


def _clean_replacements(db: Session, value: Mapping[str, str]) -> dict[str, str]:
    pairs = {str(k).strip().upper(): str(v).strip().upper() for k, v in dict(value).items()}
    same = sorted(k for k, v in pairs.items() if k == v)
    if same:
        raise InvalidInput(f"A symbol cannot replace itself: {', '.join(same)}.")
    known = set(db.exec(select(Symbol.symbol).where(col(Symbol.symbol).in_([*pairs, *pairs.values()]))).all())
    unknown = sorted({*pairs, *pairs.values()} - known)
    if unknown:
        raise InvalidInput(f"Unknown symbol(s) in the replacements: {', '.join(unknown)}.")
    return pairs


def update_settings(db: Session, viewer: Viewer, portfolio_id: int, changes: Mapping[str, Any]) -> RebalanceSettings:
    """Validate every change first, then store them together (audited); an error names the setting."""
    portfolio = portfolios.writable(db, viewer, portfolio_id)
    clean = {name: _clean_setting(db, portfolio.owner_id, name, value) for name, value in changes.items()}
    s = settings_for(db, portfolio_id)
    merged = {**s.model_dump(), **clean}
    if merged["broker"] == "alpaca" and merged["connection_id"] is None:
        raise InvalidInput("Choose the Alpaca connection this portfolio trades through.")
    before = {k: getattr(s, k) for k in clean}
    for name, value in clean.items():
        setattr(s, name, value)
    s.updated_at = utcnow()
    db.add(s)
    audit.record(db, viewer, "rebalance.settings", "portfolio", portfolio_id, before=before, after=clean)
    return s


def set_identical_groups(db: Session, viewer: Viewer, groups: list[list[str]]) -> list[list[str]]:
    """Declare the viewer's groups of substantially identical symbols (each of 2+ known symbols, no symbol in two
    groups); they apply to the wash-sale rule across all the viewer's portfolios. Audited."""
    clean = [sorted({s.strip().upper() for s in g if s.strip()}) for g in groups]
    clean = [g for g in clean if g]
    if any(len(g) < 2 for g in clean):
        raise InvalidInput("Each group of substantially identical securities needs at least two symbols.")
    every = [s for g in clean for s in g]
    twice = sorted({s for s in every if every.count(s) > 1})
    if twice:
        raise InvalidInput(f"A symbol can be in one group only: {', '.join(twice)}.")
    known = set(db.exec(select(Symbol.symbol).where(col(Symbol.symbol).in_(every))).all())
    if set(every) - known:
        raise InvalidInput(f"Unknown symbol(s): {', '.join(sorted(set(every) - known))}.")
    row = db.get(TaxSettings, viewer.user_id) or TaxSettings(user_id=viewer.user_id)
    before = list(row.identical_groups)
    row.identical_groups, row.updated_at = clean, utcnow()
    db.add(row)
    audit.record(
        db, viewer, "tax.identical_groups", "user", viewer.user_id, before={"groups": before}, after={"groups": clean}
    )
    return clean
