"""Portfolio constraints for the optimiser: what they mean, how they are checked, and which ones contradict.

Conventions (every weight is a fraction of the whole portfolio's value, cash included):

- Cash reserve c: a cash weight held out of the optimised assets, so the asset weights w sum to exactly the
  budget b = 1 − c. Cash earns the risk-free rate in the optimiser's figures.
- Bounds: lo_i ≤ w_i ≤ hi_i from ``bounds`` (all assets) overridden per asset by ``asset_bounds``; a negative
  lower bound allows shorts. ``max_weight`` m further caps every asset: w_i ≤ min(hi_i, m).
- Groups (GICS sectors or any user group): floor_g ≤ Σ_{i∈g} w_i ≤ cap_g, pypfopt's ``add_sector_constraints``.
  Members outside the universe are ignored.
- Max holdings K: #{i : |w_i| > tolerance} ≤ K (a cardinality limit; the optimiser meets it by a heuristic).
- Turnover against the current weights w0 (default: none held, all cash): Σ|w_i − w0_i| ≤ T, counting buys and
  sells (Riskfolio-Lib's ``turnover`` constraint). A transaction cost of k bps charges k/10⁴ · Σ|w_i − w0_i|
  in the objective (pypfopt's ``objective_functions.transaction_cost`` with k/10⁴), and L2 regularisation
  γ‖w‖² (pypfopt's ``objective_functions.L2_reg``).

``conflicts`` is the cheap pre-check (no solver) that names contradicting constraints; ``check`` lists what a
given set of weights violates.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError

TOLERANCE = 1e-6  # weights within this of a limit satisfy it; |w| ≤ this is not a holding


def pct(x: float) -> str:
    """``0.05`` → ``"5%"`` (four significant digits), for messages."""
    return f"{100 * x:.4g}%"


def _finite(name: str, *values: float) -> None:
    """Raise unless every value is a finite number."""
    if not all(isinstance(v, numbers.Real) and math.isfinite(v) for v in values):
        raise AnalyticsError(f"{name} must be finite numbers (got {values})")


@dataclass(frozen=True)
class GroupLimit:
    """floor ≤ Σ w over ``members`` ≤ cap (fractions of the portfolio)."""

    members: frozenset[str]
    floor: float = 0.0
    cap: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", frozenset(self.members))
        _finite("a group's floor and cap", self.floor, self.cap)
        if not self.members:
            raise AnalyticsError("a group needs at least one member")
        if self.floor > self.cap:
            raise AnalyticsError(f"a group floor of {pct(self.floor)} exceeds its cap of {pct(self.cap)}")


def sector_groups(
    sectors: Mapping[str, str], floors: Mapping[str, float], caps: Mapping[str, float]
) -> dict[str, GroupLimit]:
    """Groups from a symbol → sector map and floors/caps per sector (pypfopt's ``add_sector_constraints`` inputs).

    A sector with only a floor gets cap 1, one with only a cap gets floor 0.
    """
    unknown = sorted((set(floors) | set(caps)) - set(sectors.values()))
    if unknown:
        raise AnalyticsError(f"no symbol belongs to the sector(s) {', '.join(unknown)}")
    return {
        s: GroupLimit(frozenset(t for t, sec in sectors.items() if sec == s), floors.get(s, 0.0), caps.get(s, 1.0))
        for s in sorted(set(floors) | set(caps))
    }


@dataclass(frozen=True)
class Constraints:
    """Everything a portfolio must satisfy (see the module docstring for the conventions).

    ``groups`` values may be ``GroupLimit`` or ``(members, floor, cap)`` tuples; mappings are stored read-only.
    """

    bounds: tuple[float, float] = (0.0, 1.0)
    asset_bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    max_weight: float | None = None
    groups: Mapping[str, GroupLimit | tuple[Iterable[str], float, float]] = field(default_factory=dict)
    cash: float = 0.0
    max_holdings: int | None = None
    max_turnover: float | None = None
    current: Mapping[str, float] = field(default_factory=dict)
    cost_bps: float = 0.0
    l2_gamma: float = 0.0

    def __post_init__(self) -> None:
        groups = {
            g: v if isinstance(v, GroupLimit) else GroupLimit(frozenset(v[0]), v[1], v[2])
            for g, v in self.groups.items()
        }
        object.__setattr__(self, "groups", MappingProxyType(groups))
        object.__setattr__(self, "asset_bounds", MappingProxyType({s: tuple(b) for s, b in self.asset_bounds.items()}))
        object.__setattr__(self, "current", MappingProxyType(dict(self.current)))
        for name, (lo, hi) in [("bounds", self.bounds), *self.asset_bounds.items()]:
            _finite(f"the weight bounds of {name}", lo, hi)
            if lo > hi:
                raise AnalyticsError(
                    f"the lower weight bound of {name} ({pct(lo)}) exceeds its upper bound ({pct(hi)})"
                )
        _finite("cash reserve, transaction cost and L2 gamma", self.cash, self.cost_bps, self.l2_gamma)
        _finite("current weights", *self.current.values())
        if not 0 <= self.cash < 1:
            raise AnalyticsError(f"the cash reserve must lie in [0%, 100%) (got {pct(self.cash)})")
        if self.max_weight is not None and not (math.isfinite(self.max_weight) and self.max_weight > 0):
            raise AnalyticsError(f"max weight must be a positive fraction (got {self.max_weight})")
        if self.max_holdings is not None and (
            not isinstance(self.max_holdings, numbers.Integral) or self.max_holdings < 1
        ):
            raise AnalyticsError(f"max holdings must be a whole number ≥ 1 (got {self.max_holdings})")
        if self.max_turnover is not None and not (math.isfinite(self.max_turnover) and self.max_turnover >= 0):
            raise AnalyticsError(f"max turnover must be a fraction ≥ 0 (got {self.max_turnover})")
        if self.cost_bps < 0 or self.l2_gamma < 0:
            raise AnalyticsError("transaction cost (bps) and L2 gamma must be ≥ 0")

    @property
    def budget(self) -> float:
        """Σ w of the assets: 1 − cash."""
        return 1.0 - self.cash

    def resolve(self, tickers: Sequence[str]) -> ConstraintArrays:
        """The constraints as arrays aligned with ``tickers``; symbols outside the universe raise, group members
        outside it are ignored."""
        tickers = list(tickers)
        if len(set(tickers)) != len(tickers):
            raise AnalyticsError("the universe lists a symbol twice")
        for what, names in (("per-asset bounds", self.asset_bounds), ("current weights", self.current)):
            unknown = sorted(set(names) - set(tickers))
            if unknown:
                raise AnalyticsError(f"{what} name symbols outside the universe: {', '.join(unknown)}")
        bounds = np.tile(np.asarray(self.bounds, dtype=float), (len(tickers), 1))
        if self.asset_bounds:
            bounds[pd.Index(tickers).get_indexer(list(self.asset_bounds))] = list(self.asset_bounds.values())
        names = list(self.groups)
        matrix = np.array([np.isin(tickers, list(self.groups[g].members)) for g in names], dtype=float)
        return ConstraintArrays(
            constraints=self,
            tickers=tuple(tickers),
            lower=bounds[:, 0],
            bound_upper=bounds[:, 1],
            upper=np.minimum(bounds[:, 1], np.inf if self.max_weight is None else self.max_weight),
            group_names=tuple(names),
            group_matrix=matrix.reshape(len(names), len(tickers)),
            floors=np.array([self.groups[g].floor for g in names]),
            caps=np.array([self.groups[g].cap for g in names]),
            current=pd.Series(dict(self.current), dtype=float).reindex(tickers, fill_value=0.0).to_numpy(),
        )


@dataclass(frozen=True)
class ConstraintArrays:
    """``Constraints`` resolved on a universe: ``lower`` ≤ w ≤ ``upper`` (= min(bound_upper, max_weight)),
    ``floors`` ≤ ``group_matrix`` @ w ≤ ``caps``, ``current`` = w0, all aligned with ``tickers``."""

    constraints: Constraints
    tickers: tuple[str, ...]
    lower: np.ndarray
    bound_upper: np.ndarray
    upper: np.ndarray
    group_names: tuple[str, ...]
    group_matrix: np.ndarray
    floors: np.ndarray
    caps: np.ndarray
    current: np.ndarray


def _must_sum(c: Constraints) -> str:
    """'the assets must sum to 95% after the 5% cash reserve' (or to 100%)."""
    tail = f" after the {pct(c.cash)} cash reserve" if c.cash > 0 else ""
    return f"the assets must sum to {pct(c.budget)}{tail}"


def _upper_phrase(a: ConstraintArrays, idx: np.ndarray) -> str:
    """How the upper limits of assets ``idx`` add up, e.g. '2 × max weight 5% = 10%'."""
    m = a.constraints.max_weight
    total = float(a.upper[idx].sum())
    if m is not None and np.all(a.upper[idx] == m):
        return f"{idx.size} × max weight {pct(m)} = {pct(total)}"
    return f"their upper weight bounds add up to {pct(total)}"


def min_turnover(a: ConstraintArrays) -> float:
    """The least Σ|w − w0| that reaches lower ≤ w ≤ upper with Σ w = budget (needs Σ lower ≤ budget ≤ Σ upper).

    Moving each w0_i to its nearest point c_i in [lo_i, hi_i] and then shifting the sum is optimal:
    |w_i − w0_i| = |w_i − c_i| + |c_i − w0_i| inside the box, so Σ|w − w0| ≥ Σ|c − w0| + |budget − Σ c|.
    """
    clipped = np.clip(a.current, a.lower, a.upper)
    return float(np.abs(clipped - a.current).sum() + abs(a.constraints.budget - clipped.sum()))


def _sum_conflicts(a: ConstraintArrays) -> list[str]:
    """Each asset's minimum against max weight; the bounds against the budget."""
    c = a.constraints
    out = [
        f"{t}'s minimum weight {pct(lo)} exceeds max weight {pct(c.max_weight)}"
        for t, lo in _where(a.lower > a.upper + TOLERANCE, np.array(a.tickers), a.lower)
    ]
    if a.lower.sum() > c.budget + TOLERANCE:
        out.append(f"the minimum weights add up to {pct(a.lower.sum())} but {_must_sum(c)}")
    if a.upper.sum() < c.budget - TOLERANCE:
        out.append(f"the assets' maximum weights allow {_upper_phrase(a, np.arange(a.upper.size))} but {_must_sum(c)}")
    return out


def _group_conflicts(a: ConstraintArrays) -> list[str]:
    """Each group against its members' bounds; disjoint groups' floors and caps against the budget."""
    c, out = a.constraints, []
    for name, row, floor, cap in zip(a.group_names, a.group_matrix, a.floors, a.caps, strict=True):
        idx = np.flatnonzero(row)
        if idx.size == 0:
            if floor > TOLERANCE:
                out.append(f"floor of {name} {pct(floor)} but none of its members is in the universe")
            continue
        if floor > a.upper[idx].sum() + TOLERANCE:
            out.append(f"floor of {name} {pct(floor)} exceeds what its members may hold: {_upper_phrase(a, idx)}")
        if cap < a.lower[idx].sum() - TOLERANCE:
            out.append(f"cap of {name} {pct(cap)} is below its members' minimum weights ({pct(a.lower[idx].sum())})")
    disjoint = a.group_matrix.sum(axis=0).max(initial=0) <= 1
    if disjoint and a.group_names and np.all(a.lower >= 0) and a.floors.sum() > c.budget + TOLERANCE:
        out.append(f"group floors add up to {pct(a.floors.sum())} but {_must_sum(c)}")
    if disjoint and a.group_names and a.group_matrix.sum(axis=0).min() == 1 and a.caps.sum() < c.budget - TOLERANCE:
        out.append(f"group caps add up to {pct(a.caps.sum())} but {_must_sum(c)}")
    return out


def _holdings_conflicts(a: ConstraintArrays) -> list[str]:
    """Max holdings against forced holdings, the largest upper bounds and disjoint groups with floors."""
    c, k = a.constraints, a.constraints.max_holdings
    if k is None:
        return []
    out = []
    forced = int(np.sum((a.lower > TOLERANCE) | (a.upper < -TOLERANCE)))
    if forced > k:
        out.append(f"max holdings {k} but {forced} assets have a minimum weight above zero")
    largest = float(np.sort(a.upper)[::-1][:k].sum())
    if largest < c.budget - TOLERANCE:
        out.append(f"max holdings {k} with their maximum weights allow at most {pct(largest)} but {_must_sum(c)}")
    floored = int(np.sum(a.floors > TOLERANCE))
    if a.group_matrix.sum(axis=0).max(initial=0) <= 1 and floored > k:
        out.append(f"max holdings {k} but {floored} separate groups have floors, each needing a holding")
    return out


def conflicts(a: ConstraintArrays) -> list[str]:
    """Contradictions found without a solver, each naming the constraints involved (empty: none found).

    Necessary conditions only: a set that passes may still be infeasible (the optimiser then diagnoses it).
    """
    out = _sum_conflicts(a) + _group_conflicts(a) + _holdings_conflicts(a)
    t = a.constraints.max_turnover
    if t is not None and not _sum_conflicts(a) and min_turnover(a) > t + TOLERANCE:
        out.append(
            f"max turnover {pct(t)} cannot reach the weight bounds from the current weights:"
            f" at least {pct(min_turnover(a))} is needed"
        )
    return out


def require_consistent(a: ConstraintArrays) -> None:
    """Raise ``AnalyticsError`` listing every contradiction ``conflicts`` finds."""
    found = conflicts(a)
    if found:
        raise AnalyticsError("the constraints contradict each other: " + "; ".join(found))


def violations(w: np.ndarray, a: ConstraintArrays, tolerance: float = TOLERANCE) -> list[str]:
    """What the weights ``w`` (aligned with ``a.tickers``) violate, each within ``tolerance``; empty: nothing.

    Bounds and max weight, Σ w = 1 − cash, group floors and caps, max holdings (|w| > tolerance counts) and
    max turnover Σ|w − w0|.
    """
    c, names = a.constraints, np.array(a.tickers)
    if not np.isfinite(w).all():
        return ["weights contain NaN or infinite values"]
    out = [
        f"{t} weight {pct(x)} is below its minimum {pct(lo)}"
        for t, x, lo in _where(w < a.lower - tolerance, names, w, a.lower)
    ]
    out += [
        f"{t} weight {pct(x)} is above its maximum {pct(hi)}"
        for t, x, hi in _where(w > a.upper + tolerance, names, w, a.upper)
    ]
    if abs(w.sum() - c.budget) > tolerance:
        out.append(f"the weights sum to {pct(w.sum())} but {_must_sum(c)}")
    sums, groups = a.group_matrix @ w, np.array(a.group_names)
    out += [
        f"{g} holds {pct(s)}, below its floor {pct(f)}"
        for g, s, f in _where(sums < a.floors - tolerance, groups, sums, a.floors)
    ]
    out += [
        f"{g} holds {pct(s)}, above its cap {pct(m)}"
        for g, s, m in _where(sums > a.caps + tolerance, groups, sums, a.caps)
    ]
    held = int(np.sum(np.abs(w) > tolerance))
    if c.max_holdings is not None and held > c.max_holdings:
        out.append(f"{held} holdings exceed max holdings {c.max_holdings}")
    turnover = float(np.abs(w - a.current).sum())
    if c.max_turnover is not None and turnover > c.max_turnover + tolerance:
        out.append(f"turnover {pct(turnover)} exceeds max turnover {pct(c.max_turnover)}")
    return out


def _where(mask: np.ndarray, *columns: np.ndarray) -> list[tuple]:
    """Rows of ``columns`` where ``mask`` holds (only the few violating entries reach Python)."""
    return list(zip(*(col[mask] for col in columns), strict=True))


def check(weights: pd.Series, constraints: Constraints, tolerance: float = TOLERANCE) -> list[str]:
    """What asset ``weights`` (symbol → fraction of the portfolio, cash excluded) violate; empty: nothing.

    Symbols the constraints name (current weights, per-asset bounds) but ``weights`` omit hold 0; see ``violations``.
    """
    named = [s for s in (*constraints.current, *constraints.asset_bounds) if s not in weights.index]
    full = pd.concat([weights.astype(float), pd.Series(0.0, index=list(dict.fromkeys(named)))])
    return violations(full.to_numpy(), constraints.resolve(list(full.index)), tolerance)
