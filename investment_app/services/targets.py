"""A portfolio's target allocation typed in by hand (symbols or GICS sectors, with a cash reserve), and its drift.

Conventions:
- Weights are fractions of the portfolio's whole value (holdings + cash); the weights and the cash reserve sum to
  100 % within ``rebalance.SUM_TOLERANCE`` (1e-6); no weight is negative (targets hold no shorts).
- Names are matched without regard to case and stored as the Symbol table spells them (symbols upper case,
  sectors as GICS names them, e.g. "Information Technology").
- A sectors target is spread over symbols by ``resolve``: a sector's weight goes to the symbols of that sector the
  portfolio holds, in proportion to their current values; a sector with a weight but no holding is refused (we do
  not pick symbols for the user). Held symbols outside the target's sectors have a target of 0.
- Drift is ``analytics.rebalance.drift`` (Betterment's): d_i = w_i − t_i per symbol and for cash, total ½ Σ |d|,
  on the weights of the portfolio's last valued day (value = quantity × close; cash its own "CASH" row).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.rebalance import CASH, Drift, Target, drift
from investment_app.auth.viewer import Viewer
from investment_app.models._time import utcnow
from investment_app.models.market import Symbol
from investment_app.models.optimization import TargetAllocation
from investment_app.services import audit, performance, portfolios
from investment_app.services.errors import InvalidInput

BASES = ("symbols", "sectors")


@dataclass(frozen=True)
class TargetInput:
    """A target as typed: ``basis`` "symbols" or "sectors", name → weight (fractions), the cash reserve."""

    basis: str
    weights: dict[str, float]
    cash_reserve: float = 0.0


@dataclass(frozen=True)
class DriftRow:
    """One symbol (or "CASH"): current weight, target weight, drift = weight − target."""

    symbol: str
    weight: float
    target: float
    drift: float


@dataclass(frozen=True)
class DriftReport:
    """Drift per position (largest |drift| first) and in total, on the last valued day."""

    rows: list[DriftRow]
    total: float
    as_of: dt.date
    target_source: str
    basis: str
    cash_reserve: float

    @property
    def drift(self) -> Drift:
        """The report as ``analytics.rebalance.Drift`` (what ``analytics.triggers.check_triggers`` takes)."""
        return Drift(pd.Series({r.symbol: r.drift for r in self.rows}, dtype=float), self.total)


def target_json(target: TargetAllocation | None) -> dict[str, Any] | None:
    """A target allocation as the audit record keeps it (None when there is none)."""
    if target is None:
        return None
    return {
        "basis": target.basis,
        "weights": target.weights,
        "cash_reserve": target.cash_reserve,
        "source": target.source,
        "run": target.run_id,
    }


def _sector_names(db: Session) -> dict[str, str]:
    """Lower-case GICS sector → its spelling in the Symbol table."""
    rows = db.exec(select(Symbol.gics_sector).where(col(Symbol.gics_sector) != "").distinct()).all()
    return {str(s).lower(): str(s) for s in rows}


def _spelled(db: Session, inp: TargetInput) -> dict[str, str]:
    """Typed name → the Symbol table's spelling (symbols: upper case; sectors: refused by name when unknown)."""
    if inp.basis == "symbols":
        return {n: n.strip().upper() for n in inp.weights}
    sectors = _sector_names(db)
    unknown = sorted(n for n in inp.weights if n.strip().lower() not in sectors)
    if unknown:
        raise InvalidInput(
            f"Unknown GICS sector(s) in the target: {', '.join(unknown)}. "
            f"Known sectors: {', '.join(sorted(sectors.values()))}."
        )
    return {n: sectors[n.strip().lower()] for n in inp.weights}


def _number(label: str, value: Any) -> float:
    """``value`` as a float; InvalidInput "The weight of X is not a number" otherwise."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{label[0].upper()}{label[1:]} is not a number ({value!r}).") from None


def _clean(db: Session, inp: TargetInput) -> dict[str, float]:
    """The weights keyed as the Symbol table spells them, checked (module doc); InvalidInput naming the problem."""
    if inp.basis not in BASES:
        raise InvalidInput(f"Unknown target basis {inp.basis!r}; use symbols or sectors.")
    if not inp.weights:
        raise InvalidInput("The target is empty: give at least one symbol or sector with its weight.")
    spelled = _spelled(db, inp)
    twice = sorted(name for name, n in Counter(spelled.values()).items() if n > 1)
    if twice:
        raise InvalidInput(f"{', '.join(twice)} appear(s) more than once in the target (names ignore case).")
    weights = {spelled[n]: _number(f"the weight of {n}", w) for n, w in inp.weights.items()}
    universe = None
    if inp.basis == "symbols":
        universe = frozenset(db.exec(select(Symbol.symbol).where(col(Symbol.symbol).in_(list(weights)))).all())
    try:
        Target(weights, _number("the cash reserve", inp.cash_reserve), universe=universe)
    except AnalyticsError as exc:
        raise InvalidInput(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from exc
    return weights


def set_target(db: Session, viewer: Viewer, portfolio_id: int, inp: TargetInput) -> TargetAllocation:
    """Make ``inp`` the portfolio's target (source "manual"; owner, analyst or admin), audited as "target.set";
    InvalidInput with nothing written when it breaks a rule (module doc)."""
    portfolios.writable(db, viewer, portfolio_id)
    weights = _clean(db, inp)
    target = db.get(TargetAllocation, portfolio_id)
    before = target_json(target)
    target = target or TargetAllocation(portfolio_id=portfolio_id, weights={})
    target.weights, target.basis, target.cash_reserve = weights, inp.basis, float(inp.cash_reserve)
    target.source, target.run_id, target.updated_by, target.updated_at = "manual", None, viewer.user_id, utcnow()
    db.add(target)
    audit.record(db, viewer, "target.set", "portfolio", portfolio_id, before=before, after=target_json(target))
    return target


def clear_target(db: Session, viewer: Viewer, portfolio_id: int) -> None:
    """Remove the portfolio's target (owner, analyst or admin), audited as "target.clear"; no target, no change."""
    portfolios.writable(db, viewer, portfolio_id)
    target = db.get(TargetAllocation, portfolio_id)
    if target is None:
        return
    audit.record(db, viewer, "target.clear", "portfolio", portfolio_id, before=target_json(target))
    db.delete(target)


def resolve(db: Session, target: TargetAllocation, holdings_values: dict[str, float]) -> Target:
    """The target over symbols: a symbols target as it is; a sectors target's weight w_S spread over the held
    symbols i of sector S as t_i = w_S · v_i / Σ_{j ∈ S} v_j (v: current values > 0). InvalidInput for a sector
    with a weight and no holding."""
    if target.basis == "symbols":
        return Target(target.weights, target.cash_reserve)
    values = pd.Series(holdings_values, dtype=float)
    values = values[values > 0]
    rows = db.exec(select(Symbol.symbol, Symbol.gics_sector).where(col(Symbol.symbol).in_(list(values.index))))
    sector = pd.Series(dict(rows.all()), dtype=object).reindex(values.index)
    missing = [s for s, w in target.weights.items() if w > 0 and not (sector == s).any()]
    if missing:
        raise InvalidInput(
            f"No holding in sector {', '.join(missing)}: add a symbol of that sector or use a symbols target."
        )
    share = values / values.groupby(sector).transform("sum")
    weights = (share * sector.map(target.weights)).fillna(0.0)  # a holding outside the target's sectors: 0
    return Target(weights.to_dict(), target.cash_reserve)


def _holdings(snap: performance.Snapshot) -> tuple[pd.Series, float]:
    """Value of each holding (quantity × close) and the cash on the snapshot's last valued day."""
    v = snap.valuation
    values = pd.Series(v.positions[-1] * v.prices[-1], index=v.symbols, dtype=float)
    return values[v.positions[-1] != 0], float(v.cash[-1])


def drift_report(db: Session, viewer: Viewer, portfolio_id: int) -> DriftReport | None:
    """The drift of the portfolio from its target on the last valued day (for anyone who may read it); None when
    it has no target; NoTransactions (an InvalidInput) when it has nothing to value yet."""
    portfolios.readable(db, viewer, portfolio_id)
    target = db.get(TargetAllocation, portfolio_id)
    if target is None:
        return None
    snap = performance.snapshot(db, viewer, portfolio_id)
    values, cash = _holdings(snap)
    total = float(values.sum()) + cash
    if total <= 0:
        raise InvalidInput("The portfolio's value is not positive, so it has no weights to compare with a target.")
    resolved = resolve(db, target, values.to_dict())
    d = drift((values / total).to_dict(), resolved)
    index = d.by_symbol.index
    weight = pd.concat([values / total, pd.Series({CASH: cash / total})]).reindex(index, fill_value=0.0)
    goal = pd.Series({**resolved.weights, CASH: resolved.cash}, dtype=float).reindex(index, fill_value=0.0)
    rows = [DriftRow(str(s), float(weight[s]), float(goal[s]), float(x)) for s, x in d.by_symbol.items()]
    rows.sort(key=lambda r: (-abs(r.drift), r.symbol))
    return DriftReport(
        rows, d.total, snap.valuation.dates[-1].date(), target.source, target.basis, float(target.cash_reserve)
    )
