"""The optimization lab on a portfolio: its universe, the optimum, the frontier, the comparison with today's
holdings and the trades to get there; saved runs, and the target allocation the rebalancer works towards.

Conventions:
- Universe: the portfolio's current holdings (when ``include_holdings``) followed by ``symbols`` from the price
  store. Prices are the store's adjusted closes (total return) over the ``years`` calendar years ending on the
  portfolio's last valued day; estimators and objectives are ``analytics.lab``'s (PyPortfolioOpt's conventions,
  annual figures, Sharpe = (return − rf) / volatility with an annual rf). Sectors are GICS from the Symbol table.
- Weights are fractions of the portfolio's total value, cash included: a holding's current weight is its value /
  (holdings + cash); the optimised weights sum to 1 − cash reserve, and cash earns rf in the figures.
- Turnover Σ|w − w0| and transaction costs are measured against the current weights. A holding left out of the
  universe would be sold, so its weight counts against max turnover (the limit passed on is T − Σ w0 outside).
- Figures of a portfolio: expected return μᵀw + cash·rf, volatility √(wᵀΣw), Sharpe, on the estimates the
  optimum used (for Black-Litterman: the posterior), and the 1-day historical CVaR 95% (``analytics.risk``) of
  Σ w_i r_i over the lookback days on which every asset has a return (cash: a zero return). The current
  portfolio gets the same figures when all its holdings are in the universe.
- Frontier: ``FRONTIER_POINTS`` efficient portfolios under the same constraints, on the same estimates as the
  optimum (so a CAPM or Black-Litterman optimum lies on its own frontier), from the minimum-volatility portfolio
  up; the max-Sharpe portfolio and the capital market line rf → max Sharpe are drawn from it.
- Allocation: the total value × weights in whole shares at the last closes (``allocation.allocate``, greedy as
  PyPortfolioOpt's ``DiscreteAllocation``), and the trades from today's shares, costs at ``cost_bps``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from investment_app.analytics import lab
from investment_app.analytics.allocation import Allocation, Trades, allocate, latest_prices, trades
from investment_app.analytics.black_litterman import EXAMPLES, market_caps_from_text, views_from_text
from investment_app.analytics.constrained import OptimalPortfolio
from investment_app.analytics.constraints import Constraints, GroupLimit, check, pct, sector_groups
from investment_app.analytics.errors import AnalyticsError
from investment_app.analytics.estimators import performance as figures_of
from investment_app.analytics.frontier import EfficientPortfolio
from investment_app.analytics.hrp import LINKAGE_METHODS
from investment_app.analytics.risk import value_at_risk
from investment_app.auth.viewer import Viewer
from investment_app.marketdata.series import wide_frame
from investment_app.models._time import utcnow
from investment_app.models.market import Symbol
from investment_app.models.optimization import OptimizationRun, TargetAllocation
from investment_app.services import analysis, audit, performance, portfolios, targets
from investment_app.services.cache import ResultCache
from investment_app.services.errors import Forbidden, InvalidInput

OBJECTIVES = {
    "max_sharpe": "Max Sharpe ratio",
    "min_volatility": "Min volatility",
    "efficient_return": "Target return (least volatility)",
    "efficient_risk": "Target volatility (highest return)",
    "max_quadratic_utility": "Max quadratic utility",
    "hrp": "Hierarchical risk parity",
    "min_cvar": "Min CVaR",
    "min_cdar": "Min CDaR",
    "min_semivariance": "Min semivariance",
    "risk_parity": "Risk parity (equal risk)",
    "black_litterman": "Black-Litterman (max Sharpe on the posterior)",
}
RETURN_MODELS = {"mean_historical": "Mean historical", "ema": "Exponentially weighted", "capm": "CAPM"}
RISK_MODELS = {
    "sample": "Sample covariance",
    "ledoit_wolf": "Ledoit-Wolf shrinkage",
    "exp_cov": "Exponentially weighted",
    "semicovariance": "Semicovariance",
}
FRONTIER_POINTS = 50
CVAR_CONFIDENCE = 0.95
MAX_YEARS = 20
RUN_NOT_FOUND = "No such optimization run, or it is not yours."
_SYMBOL = re.compile(r"^[A-Z0-9^][A-Z0-9.\-]{0,15}$")
_USER_GROUP = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<members>[^()]+)\)$")
_SECTOR_LIMIT = re.compile(r"^(?P<sector>.+?)\s*(?P<op><=|>=|≤|≥|<|>)\s*(?P<value>\d+(?:\.\d*)?)\s*%$")
_cache = ResultCache(8)


@dataclass(frozen=True)
class Request:
    """What the user asked for; rates and weights are decimals (0.05 = 5%), costs in basis points."""

    include_holdings: bool = True
    symbols: tuple[str, ...] = ()
    years: int = 5
    returns_model: str = "mean_historical"
    risk_model: str = "sample"
    objective: str = "max_sharpe"
    risk_free_rate: float = 0.0
    target_return: float | None = None
    target_volatility: float | None = None
    risk_aversion: float = 1.0
    linkage: str = "single"
    min_weight: float = 0.0
    max_weight: float | None = None
    max_sector: float | None = None
    sector_floors: tuple[tuple[str, float], ...] = ()
    sector_caps: tuple[tuple[str, float], ...] = ()
    cash_reserve: float = 0.0
    max_holdings: int | None = None
    max_turnover: float | None = None
    cost_bps: float = 0.0
    l2_gamma: float = 0.0
    views: str = ""
    market_caps: str = ""
    """Black-Litterman's prior weights, e.g. 'AAPL=2.9T, MA=410B'; empty = equal weights."""

    def check(self) -> None:
        """Refuse what no optimisation can honour, naming the field (conflicts between fields are found later)."""
        bad = [s for s in self.symbols if not _SYMBOL.match(s)]
        if bad:
            raise InvalidInput(f"Not a ticker: {', '.join(bad)}.")
        if not self.include_holdings and len(self.symbols) < 2:
            raise InvalidInput("Name at least two symbols, or include the holdings in the universe.")
        if not 1 <= self.years <= MAX_YEARS:
            raise InvalidInput(f"Lookback must be between 1 and {MAX_YEARS} years.")
        for value, names, label in (
            (self.objective, OBJECTIVES, "objective"),
            (self.returns_model, RETURN_MODELS, "returns model"),
            (self.risk_model, RISK_MODELS, "risk model"),
            (self.linkage, LINKAGE_METHODS, "linkage"),
        ):
            if value not in names:
                raise InvalidInput(f"Unknown {label} {value!r}; choose one of {', '.join(names)}.")
        self._check_objective()
        self._check_limits()

    def _check_objective(self) -> None:
        if self.objective == "efficient_return" and self.target_return is None:
            raise InvalidInput("The target-return objective needs a target return.")
        if self.objective == "efficient_risk" and self.target_volatility is None:
            raise InvalidInput("The target-volatility objective needs a target volatility.")
        if self.target_volatility is not None and not self.target_volatility > 0:
            raise InvalidInput("Target volatility must be above 0%.")
        if not self.risk_aversion > 0:
            raise InvalidInput("Risk aversion must be above 0.")
        if self.objective == "black_litterman" and not self.views.strip():
            raise InvalidInput(f"Black-Litterman needs at least one view, e.g. {EXAMPLES}.")

    def _check_limits(self) -> None:
        fractions = [
            ("Min weight", self.min_weight, -1.0, 1.0),
            ("Max weight", self.max_weight, 1e-9, 1.0),
            ("Max per sector", self.max_sector, 0.0, 1.0),
            ("Cash reserve", self.cash_reserve, 0.0, 0.99),
            ("Max turnover", self.max_turnover, 0.0, 2.0),
            *[(f"Floor of {s}", v, 0.0, 1.0) for s, v in self.sector_floors],
            *[(f"Cap of {s}", v, 0.0, 1.0) for s, v in self.sector_caps],
        ]
        for label, value, low, high in fractions:
            if value is not None and not low <= value <= high:
                raise InvalidInput(f"{label} must lie between {pct(low)} and {pct(high)} (got {pct(value)}).")
        if self.max_holdings is not None and self.max_holdings < 1:
            raise InvalidInput("Max holdings must be at least 1.")
        if not 0 <= self.cost_bps <= 1000 or not 0 <= self.l2_gamma <= 100:
            raise InvalidInput("Transaction cost must lie between 0 and 1,000 bps and L2 gamma between 0 and 100.")

    def to_json(self) -> dict[str, Any]:
        """The request as JSON-ready data (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Request:
        """The request ``to_json`` wrote (fields added since then take their defaults)."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("sector_floors", "sector_caps"):
            values[name] = tuple((str(s), float(v)) for s, v in values.get(name, ()))
        values["symbols"] = tuple(values.get("symbols", ()))
        return cls(**values)


def sector_limits(text: str) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
    """(floors, caps) from lines such as 'Energy >= 5%', 'Information Technology <= 30%' or a group of one's own,
    'Big tech (AAPL, GOOG, AMZN) <= 40%'; errors name the line."""
    floors, caps = {}, {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _SECTOR_LIMIT.match(line.strip())
        if match is None:
            raise InvalidInput(f"Sector limits, line {number}: write e.g. 'Energy <= 10%' or 'Financials >= 5%'.")
        target = caps if match["op"] in ("<=", "≤", "<") else floors
        target[match["sector"].strip()] = float(match["value"]) / 100
    return tuple(floors.items()), tuple(caps.items())


@dataclass(frozen=True)
class Universe:
    """A request resolved on a portfolio: what ``solve`` needs, and nothing from the database."""

    key: tuple
    request: Request
    as_of: dt.date
    total_value: float
    cash: float
    prices: pd.DataFrame
    """Adjusted closes, dates × universe symbols (NaN before a listing)."""
    market: pd.Series
    closes: pd.Series
    """The last close of every universe symbol and holding (the trade price)."""
    current_weights: pd.Series
    """Every holding's value / total value."""
    current_shares: pd.Series
    sectors: pd.Series

    @property
    def outside(self) -> float:
        """The weight of the holdings left out of the universe (they would be sold)."""
        return float(self.current_weights.drop(self.prices.columns, errors="ignore").abs().sum())


@dataclass(frozen=True)
class Figures:
    """A portfolio's annual expected return, volatility and Sharpe ratio, and its 1-day CVaR 95% (a loss)."""

    expected_return: float
    volatility: float
    sharpe: float
    cvar: float


@dataclass(frozen=True)
class FrontierPoint:
    """One efficient portfolio: annual figures and weights (symbol → fraction of the portfolio)."""

    expected_return: float
    volatility: float
    sharpe: float
    weights: pd.Series


@dataclass(frozen=True)
class Outcome:
    """Everything the lab shows for one request."""

    request: Request
    as_of: dt.date
    total_value: float
    result: lab.LabResult
    figures: Figures
    current: Figures | None
    current_weights: pd.Series
    """Universe symbols (0 when not held), fractions of the total value."""
    current_cash: float
    sectors: pd.Series
    frontier: list[FrontierPoint]
    max_sharpe: FrontierPoint | None
    assets: pd.DataFrame
    """Per universe symbol: expected_return and volatility (annual)."""
    allocation: Allocation
    trades: Trades
    notes: tuple[str, ...]

    @property
    def min_volatility(self) -> FrontierPoint:
        """The frontier's least volatile portfolio (its first point)."""
        return self.frontier[0]


def _symbols(db: Session, held: list[str], request: Request) -> list[str]:
    """Holdings (if asked) then the extra symbols, each once; unknown symbols are refused by name."""
    base = held if request.include_holdings else []
    extra = [s for s in dict.fromkeys(request.symbols) if s not in base]
    known = set(db.exec(select(Symbol.symbol).where(col(Symbol.symbol).in_(extra))).all()) if extra else set()
    unknown = [s for s in extra if s not in known]
    if unknown:
        raise InvalidInput(f"Unknown symbol(s) {', '.join(unknown)}: not in the price store.")
    symbols = [*base, *extra]
    if len(symbols) < 2:
        raise InvalidInput(f"The universe holds {len(symbols)} symbol(s); an optimisation needs at least two.")
    return symbols


def _sectors(db: Session, symbols: list[str]) -> pd.Series:
    """Symbol → GICS sector from the Symbol table; "Other" when it has none (an ETF, an index)."""
    rows = db.exec(select(Symbol.symbol, Symbol.gics_sector).where(col(Symbol.symbol).in_(symbols))).all()
    return pd.Series(dict(rows), dtype=object).reindex(symbols).replace("", np.nan).fillna("Other")


def load(db: Session, viewer: Viewer, portfolio_id: int, request: Request) -> Universe:
    """Resolve ``request`` on the portfolio: universe, prices over the lookback, current weights and shares."""
    request.check()
    inputs = analysis.inputs(db, viewer, portfolio_id)
    valuation = performance.snapshot(db, viewer, portfolio_id).valuation
    held = list(inputs.values.index)
    symbols = _symbols(db, held, request)
    start = (pd.Timestamp(inputs.as_of) - pd.DateOffset(years=request.years)).date()
    engine, benchmark = db.get_bind(), inputs.benchmark_symbol
    frame = wide_frame(engine, list(dict.fromkeys([*symbols, benchmark])), start, inputs.as_of)
    empty = [s for s in symbols if frame[s].isna().all()]
    if empty:
        raise InvalidInput(f"No prices from {start} to {inputs.as_of} for {', '.join(empty)}.")
    closes = wide_frame(engine, list(dict.fromkeys([*symbols, *held])), start, inputs.as_of, field="close")
    shares = pd.Series(valuation.positions[-1], index=valuation.symbols)
    return Universe(
        key=(inputs.key, request),
        request=request,
        as_of=inputs.as_of,
        total_value=inputs.total_value,
        cash=inputs.cash,
        prices=frame[symbols],
        market=frame[benchmark],
        closes=latest_prices(closes),
        current_weights=inputs.values / inputs.total_value,
        current_shares=shares[shares != 0],
        sectors=_sectors(db, symbols),
    )


def _user_group(name: str) -> tuple[str, list[str]] | None:
    """'Big tech (AAPL, GOOG, AMZN)' → ('Big tech', members); a plain name is a GICS sector (None)."""
    match = _USER_GROUP.match(name)
    return (
        (match["name"].strip(), [m.strip().upper() for m in match["members"].split(",") if m.strip()])
        if match
        else None
    )


def _groups(u: Universe) -> dict:
    """Group limits on the universe: 'max per sector' for every GICS sector, the named sectors' floors and caps,
    and user-defined groups written 'Name (SYM, SYM, …) <= 30%'."""
    r, present = u.request, {s.lower(): s for s in u.sectors.unique()}
    limits = [(name, v, True) for name, v in r.sector_floors] + [(name, v, False) for name, v in r.sector_caps]
    users: dict[str, GroupLimit] = {}
    for name, value, is_floor in [x for x in limits if _user_group(x[0])]:
        label, members = _user_group(name)
        outside = sorted(set(members) - set(u.prices.columns))
        if outside:
            raise InvalidInput(f"Group {label}: {', '.join(outside)} not in the universe.")
        old = users.get(label, GroupLimit(frozenset(members)))
        users[label] = dataclasses.replace(old, **({"floor": value} if is_floor else {"cap": value}))
    sectors = [(name, v, f) for name, v, f in limits if not _user_group(name)]
    unknown = [name for name, _, _ in sectors if name.lower() not in present]
    if unknown:
        raise InvalidInput(f"No symbol of the universe is in sector(s) {', '.join(unknown)}.")
    caps = dict.fromkeys(present.values(), r.max_sector) if r.max_sector is not None else {}
    caps.update({present[name.lower()]: v for name, v, is_floor in sectors if not is_floor})
    floors = {present[name.lower()]: v for name, v, is_floor in sectors if is_floor}
    return {**sector_groups(u.sectors.to_dict(), floors, caps), **users}


def _spec(u: Universe) -> lab.Spec:
    """The lab's spec for the universe; current weights only when turnover or costs need them (HRP refuses them)."""
    r = u.request
    current = u.current_weights.reindex(u.prices.columns).dropna()
    turnover = None if r.max_turnover is None else r.max_turnover - u.outside
    if turnover is not None and turnover < 0:
        raise InvalidInput(
            f"Max turnover {pct(r.max_turnover)} is less than the {pct(u.outside)} held outside the universe, "
            "which would be sold; add those holdings or raise the limit."
        )
    constraints = Constraints(
        bounds=(r.min_weight, 1.0),
        max_weight=r.max_weight,
        groups=_groups(u),
        cash=r.cash_reserve,
        max_holdings=r.max_holdings,
        max_turnover=turnover,
        current=current.to_dict() if turnover is not None or r.cost_bps else {},
        cost_bps=r.cost_bps,
        l2_gamma=r.l2_gamma,
    )
    bl = r.objective == "black_litterman"
    views = tuple(views_from_text(r.views, list(u.prices.columns))) if bl else ()
    caps = market_caps_from_text(r.market_caps, list(u.prices.columns)) if bl else None
    return lab.Spec(
        objective=r.objective,
        returns_model=r.returns_model,
        risk_model=r.risk_model,
        risk_free_rate=r.risk_free_rate,
        target_return=r.target_return,
        target_volatility=r.target_volatility,
        risk_aversion=r.risk_aversion,
        linkage=r.linkage,
        constraints=constraints,
        views=views,
        market_caps=caps,
    )


def _cvar(returns: pd.DataFrame, weights: pd.Series) -> float:
    """1-day historical CVaR 95% of Σ w_i r_i on the days every asset has a return (a positive loss)."""
    days = returns.dropna()
    daily = days.to_numpy() @ weights.reindex(days.columns).fillna(0.0).to_numpy()
    return value_at_risk(daily, CVAR_CONFIDENCE, "historical").cvar


def _current(est: lab.Estimates, u: Universe, rf: float) -> Figures | None:
    """The current portfolio's figures on the lab's estimates; None when it holds something outside the universe."""
    w = u.current_weights.reindex(est.mu.index).fillna(0.0)
    if not u.current_weights.index.isin(est.mu.index).all() or not w.any():
        return None
    ret, vol, _ = figures_of(w, est.mu, est.cov, rf)
    ret += u.cash / u.total_value * rf
    return Figures(ret, vol, (ret - rf) / vol, _cvar(est.returns, w))


def _point(portfolio: EfficientPortfolio | OptimalPortfolio, symbols: pd.Index) -> FrontierPoint:
    """Either engine's portfolio with its weights labelled by symbol."""
    weights = portfolio.weights if isinstance(portfolio.weights, pd.Series) else pd.Series(portfolio.weights, symbols)
    return FrontierPoint(portfolio.expected_return, portfolio.volatility, portfolio.sharpe, weights)


def _frontier(est: lab.Estimates, spec: lab.Spec) -> tuple[list[FrontierPoint], FrontierPoint | None]:
    """``FRONTIER_POINTS`` efficient portfolios and the max-Sharpe one, on the optimum's own estimates (so CAPM's
    market and Black-Litterman's posterior carry over). No max Sharpe when no asset beats rf."""
    symbols = est.mu.index
    points = [
        FrontierPoint(r, v, s, pd.Series(w, index=symbols))
        for r, v, s, w in lab.efficient_frontier(est, spec, FRONTIER_POINTS)
    ]
    try:
        tangency = _point(lab.mean_variance(est, spec, "max_sharpe"), symbols)
    except AnalyticsError:
        tangency = None
    return points, tangency


def _notes(
    result: lab.LabResult, u: Universe, current: Figures | None, tangency: FrontierPoint | None
) -> tuple[str, ...]:
    """What the figures rest on: estimators, lookback and rf, the lab's own notes, and what could not be shown."""
    used = result.estimates.used
    returns, risk = (
        labels.get(name, name.replace("black_litterman", "Black-Litterman"))
        for labels, name in ((RETURN_MODELS, used["expected_returns"]), (RISK_MODELS, used["risk_model"]))
    )
    notes = [
        f"Expected returns: {returns}; risk model: {risk}; {used['periods']:,} "
        f"daily prices from {used['start']} to {used['end']}; risk-free rate {pct(u.request.risk_free_rate)}.",
        *result.notes,
    ]
    if "covariance_fix" in used:
        notes.append(str(used["covariance_fix"]))
    if current is None:
        outside = sorted(set(u.current_weights.index) - set(u.prices.columns))
        why = f"{', '.join(outside)} outside the universe" if outside else "it holds only cash"
        notes.append(f"No comparison with the current portfolio: {why}.")
    if tangency is None:
        notes.append("No max-Sharpe portfolio or capital market line: no asset is expected to beat the risk-free rate.")
    return tuple(notes)


def _optimize(u: Universe, spec: lab.Spec) -> lab.LabResult:
    """``lab.optimize``; an error under a turnover limit says how the holdings outside the universe reduced it."""
    try:
        return lab.optimize(u.prices, spec, u.market)
    except AnalyticsError as exc:
        if spec.constraints.max_turnover is None or not u.outside:
            raise
        raise AnalyticsError(
            f"{exc} (the max turnover here is {pct(u.request.max_turnover)} less the {pct(u.outside)} held outside "
            "the universe, which would be sold)"
        ) from exc


def _solve(u: Universe) -> Outcome:
    """The outcome of a resolved request (see ``solve``)."""
    spec = _spec(u)
    result = _optimize(u, spec)
    broken = check(result.weights, spec.constraints)
    if broken:
        raise AnalyticsError("the optimised portfolio breaks its constraints: " + "; ".join(broken))
    est, rf = result.estimates, spec.risk_free_rate
    frontier, tangency = _frontier(est, spec)
    current = _current(est, u, rf)
    held = result.weights[result.weights != 0]
    allocation = allocate(held, u.closes, u.total_value)
    return Outcome(
        request=u.request,
        as_of=u.as_of,
        total_value=u.total_value,
        result=result,
        figures=Figures(result.expected_return, result.volatility, result.sharpe, _cvar(est.returns, result.weights)),
        current=current,
        current_weights=u.current_weights.reindex(est.mu.index).fillna(0.0),
        current_cash=u.cash / u.total_value,
        sectors=u.sectors,
        frontier=frontier,
        max_sharpe=tangency,
        assets=pd.DataFrame({"expected_return": est.mu, "volatility": np.sqrt(np.diag(est.cov))}),
        allocation=allocation,
        trades=trades(allocation.shares, u.current_shares, u.closes, u.request.cost_bps),
        notes=_notes(result, u, current, tangency),
    )


def solve(u: Universe) -> Outcome:
    """Optimise, trace the frontier, compare and allocate (no database); cached per data version and request.

    AnalyticsError when the inputs or constraints admit no answer (the message names why).
    """
    return _cache.get(u.key, lambda: _solve(u))


def run(db: Session, viewer: Viewer, portfolio_id: int, request: Request) -> Outcome:
    """The lab's answer to ``request`` on the portfolio (``load`` then ``solve``)."""
    return solve(load(db, viewer, portfolio_id, request))


def _figures_json(f: Figures | None) -> dict[str, float] | None:
    """The figures as a dict (None stays None)."""
    return None if f is None else dataclasses.asdict(f)


def _weights_json(weights: pd.Series) -> dict[str, float]:
    """Non-zero weights as symbol → float."""
    return {str(s): float(w) for s, w in weights.items() if w != 0}


def result_json(outcome: Outcome) -> dict[str, Any]:
    """What a saved run keeps of an outcome: weights, figures, estimators, notes, frontier and trades."""
    r = outcome.result
    return {
        "as_of": outcome.as_of.isoformat(),
        "total_value": outcome.total_value,
        "weights": _weights_json(r.weights),
        "cash": r.cash,
        "figures": _figures_json(outcome.figures),
        "current": _figures_json(outcome.current),
        "current_weights": _weights_json(outcome.current_weights),
        "risk": dict(r.risk),
        "risk_contributions": _weights_json(r.risk_contributions),
        "estimators": {k: v if isinstance(v, int | float | str) else str(v) for k, v in r.estimates.used.items()},
        "notes": list(outcome.notes),
        "frontier": [
            {"expected_return": p.expected_return, "volatility": p.volatility, "weights": _weights_json(p.weights)}
            for p in outcome.frontier
        ],
        "shares": {str(s): float(q) for s, q in outcome.allocation.shares.items()},
        "leftover": outcome.allocation.leftover,
    }


def data_version(db: Session) -> str:
    """The price store's version as text: series, bars and last date."""
    series, bars, last = performance.price_version(db)
    return f"{series} series, {bars:,} bars, last {last}"


def save(db: Session, viewer: Viewer, portfolio_id: int, request: Request, outcome: Outcome, name: str) -> int:
    """Store the run (request, result, data version) for a portfolio the viewer may change; returns its id."""
    portfolios.writable(db, viewer, portfolio_id)
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise InvalidInput("A run needs a name of 1 to 120 characters.")
    saved = OptimizationRun(
        owner_id=viewer.user_id,
        portfolio_id=portfolio_id,
        name=name,
        objective=request.objective,
        request=request.to_json(),
        result=result_json(outcome),
        data_version=data_version(db),
    )
    db.add(saved)
    db.flush()
    audit.record(db, viewer, "optimization.save", "optimization_run", saved.id, after={"name": name})
    return int(saved.id)


@dataclass(frozen=True)
class RunRow:
    """A saved run as listed."""

    id: int
    name: str
    objective: str
    created: str
    data_version: str
    figures: Figures


def list_runs(db: Session, viewer: Viewer, portfolio_id: int) -> list[RunRow]:
    """The viewer's own saved runs on a portfolio they may read, newest first."""
    portfolios.readable(db, viewer, portfolio_id)
    stmt = (
        select(OptimizationRun)
        .where(OptimizationRun.owner_id == viewer.user_id, OptimizationRun.portfolio_id == portfolio_id)
        .order_by(col(OptimizationRun.id).desc())
    )
    return [
        RunRow(r.id, r.name, r.objective, f"{r.created_at:%Y-%m-%d %H:%M}", r.data_version, _figures(r))
        for r in db.exec(stmt).all()
    ]


def _figures(saved: OptimizationRun) -> Figures:
    """A saved run's figures."""
    return Figures(**saved.result["figures"])


def get_run(db: Session, viewer: Viewer, run_id: int) -> OptimizationRun:
    """A saved run of the viewer's own; Forbidden (as not found) for anyone else's."""
    saved = db.get(OptimizationRun, run_id)
    if saved is None or saved.owner_id != viewer.user_id:
        raise Forbidden(RUN_NOT_FOUND)
    return saved


def rerun(db: Session, viewer: Viewer, run_id: int) -> Outcome:
    """The saved run's request on today's data."""
    saved = get_run(db, viewer, run_id)
    if saved.portfolio_id is None:
        raise InvalidInput(f"The portfolio of run {saved.name!r} was deleted.")
    return run(db, viewer, saved.portfolio_id, Request.from_json(saved.request))


@dataclass(frozen=True)
class Comparison:
    """Two runs side by side: ``weights`` (symbol × a, b, change = b − a) and ``figures`` (figure × a, b)."""

    names: tuple[str, str]
    weights: pd.DataFrame
    figures: pd.DataFrame


def compare(run_a: OptimizationRun, run_b: OptimizationRun) -> Comparison:
    """Weights and figures of two saved runs (load them with ``get_run``, which authorizes)."""
    weights = pd.DataFrame(
        {"a": pd.Series(run_a.result["weights"], dtype=float), "b": pd.Series(run_b.result["weights"], dtype=float)}
    ).fillna(0.0)
    weights["change"] = weights["b"] - weights["a"]
    figures = pd.DataFrame(
        {
            "a": {**dataclasses.asdict(_figures(run_a)), "cash": run_a.result["cash"]},
            "b": {**dataclasses.asdict(_figures(run_b)), "cash": run_b.result["cash"]},
        }
    )
    return Comparison((run_a.name, run_b.name), weights.sort_values("b", ascending=False), figures)


def apply_target(db: Session, viewer: Viewer, run_id: int) -> TargetAllocation:
    """Make a saved run's weights and cash the portfolio's target allocation (owner, analyst or admin), audited."""
    saved = get_run(db, viewer, run_id)
    if saved.portfolio_id is None:
        raise InvalidInput(f"The portfolio of run {saved.name!r} was deleted.")
    portfolios.writable(db, viewer, saved.portfolio_id)
    target = db.get(TargetAllocation, saved.portfolio_id)
    before = targets.target_json(target)
    target = target or TargetAllocation(portfolio_id=saved.portfolio_id, weights={})
    target.weights, target.basis = dict(saved.result["weights"]), "symbols"
    target.cash_reserve = float(saved.result["cash"])
    target.source, target.run_id, target.updated_by, target.updated_at = (
        "optimization",
        saved.id,
        viewer.user_id,
        utcnow(),
    )
    db.add(target)
    audit.record(
        db, viewer, "target.apply", "portfolio", saved.portfolio_id, before=before, after=targets.target_json(target)
    )
    return target


def target(db: Session, viewer: Viewer, portfolio_id: int) -> TargetAllocation | None:
    """The portfolio's target allocation, if any (for anyone who may read the portfolio)."""
    portfolios.readable(db, viewer, portfolio_id)
    return db.get(TargetAllocation, portfolio_id)
