"""The optimization lab's service on a real ledger and the store's prices, against PyPortfolioOpt and hand figures.

Ledger: 100,000 deposited on 2019-01-02; AAPL, JPM, WMT and XOM bought on 2019-01-03 and held to the bundled
data's last day, 2024-11-29. The references read the bundled CSVs directly (not the store) and run
PyPortfolioOpt end to end (its estimators, its optimiser solved by Clarabel at tight tolerances, its
``DiscreteAllocation``, ``HRPOpt``, ``capm_return`` and ``BlackLittermanModel``); CVaR is empyrical's.
"""

import warnings

import empyrical
import numpy as np
import pandas as pd
import pytest
from pypfopt import BlackLittermanModel, DiscreteAllocation, EfficientFrontier, HRPOpt, risk_models
from pypfopt import black_litterman as pbl
from pypfopt import expected_returns as pypfopt_returns
from sqlalchemy import func
from sqlmodel import Session, select

from investment_app.analytics.errors import AnalyticsError
from investment_app.db import get_engine, session_scope
from investment_app.marketdata.bundled import bundled_bars, load_bundled
from investment_app.models.audit import AuditRecord
from investment_app.models.optimization import OptimizationRun, TargetAllocation
from investment_app.models.user import Role
from investment_app.services import accounts, portfolios, transactions
from investment_app.services import optimization as lab
from investment_app.services.errors import Forbidden, InvalidInput

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Clarabel's "may be inaccurate" via pypfopt
TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "tol_ktratio": 1e-10, "max_iter": 500}
QUANTITY = {"AAPL": 200.0, "JPM": 150.0, "WMT": 300.0, "XOM": 200.0}
PRICE = {"AAPL": 38.0, "JPM": 98.0, "WMT": 31.0, "XOM": 68.0}
CASH = 100_000 - sum(QUANTITY[s] * PRICE[s] for s in QUANTITY)
HELD = list(QUANTITY)
START, END = "2019-11-29", "2024-11-29"  # the default 5-year lookback ending on the last valued day
LEDGER = (
    "date,type,symbol,quantity,price,fees,amount\n2019-01-02,deposit,,,,,100000\n"
    + "".join(f"2019-01-03,buy,{s},{QUANTITY[s]:.0f},{PRICE[s]},0,\n" for s in QUANTITY)
).encode()
SECTORS = {"AAPL": "Information Technology", "JPM": "Financials", "WMT": "Consumer Staples", "XOM": "Energy"}
SECTORS |= {"BAC": "Financials", "T": "Communication Services", "GE": "Industrials", "PFE": "Health Care"}


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    """Adjusted closes straight from the bundled CSVs (the store keeps close = adj_close for them)."""
    frame = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")
    frame.index = pd.DatetimeIndex(frame.index)
    return frame


def window(closes: pd.DataFrame, symbols: list[str]) -> pd.DataFrame:
    """The lookback's prices on the days any of the symbols or the benchmark traded (the store's calendar)."""
    return closes.loc[START:END, [*symbols, "SPY"]].dropna(how="all")[symbols]


def reference(closes: pd.DataFrame, symbols: list[str]) -> tuple[pd.Series, pd.DataFrame]:
    """PyPortfolioOpt's mean historical return and sample covariance on the lookback."""
    prices = window(closes, symbols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pypfopt_returns.mean_historical_return(prices), risk_models.sample_cov(prices)


def frontier(mu, cov, **kwargs) -> EfficientFrontier:
    return EfficientFrontier(mu, cov, solver="CLARABEL", solver_options=TIGHT, **kwargs)


@pytest.fixture
def setup(db_url):
    lab._cache.clear()
    load_bundled(db_url)
    with Session(get_engine(db_url), expire_on_commit=False) as db:
        owner = accounts.create_user(db, "owner@example.com", "correct horse 42", role=Role.ANALYST)
        accounts.create_user(db, "other@example.com", "correct horse 42", role=Role.ANALYST)
        accounts.create_user(db, "reader@example.com", "correct horse 42", role=Role.VIEWER)
        viewer = accounts.acting_as(db, owner.email)
        pid = portfolios.create(db, viewer, "Four stocks").id
        db.commit()
        transactions.import_csv(db, viewer, pid, LEDGER)
        portfolios.share(db, viewer, pid, "reader@example.com")
        db.commit()
        yield db, viewer, pid


def current_weights(closes: pd.DataFrame) -> tuple[pd.Series, float]:
    """Each holding's value / total value on the last day, and the cash fraction."""
    values = pd.Series({s: QUANTITY[s] * closes[s].loc[END] for s in HELD})
    total = values.sum() + CASH
    return values / total, CASH / total


def test_max_sharpe_figures_frontier_and_current_portfolio_match_pypfopt(setup, closes):
    db, viewer, pid = setup
    out = lab.run(db, viewer, pid, lab.Request(risk_free_rate=0.02))
    mu, cov = reference(closes, HELD)
    ef = frontier(mu, cov)
    ef.max_sharpe(0.02)
    assert out.result.weights[HELD].to_numpy() == pytest.approx(list(ef.weights), abs=1e-6)
    expected = ef.portfolio_performance(risk_free_rate=0.02)
    assert (out.figures.expected_return, out.figures.volatility, out.figures.sharpe) == pytest.approx(
        expected, abs=1e-6
    )
    daily = window(closes, HELD).pct_change().dropna() @ out.result.weights[HELD]
    assert out.figures.cvar == pytest.approx(-empyrical.conditional_value_at_risk(daily, 0.05), rel=1e-12)

    w0, cash = current_weights(closes)  # cash earns the risk-free rate
    ret, vol = float(w0 @ mu) + cash * 0.02, float(np.sqrt(w0 @ cov @ w0))
    assert (out.current.expected_return, out.current.volatility) == pytest.approx((ret, vol), rel=1e-9)
    assert out.current.sharpe == pytest.approx((ret - 0.02) / vol, rel=1e-9)
    assert out.current_weights.to_dict() == pytest.approx(w0.to_dict(), rel=1e-12)
    assert out.assets["volatility"].to_numpy() == pytest.approx(np.sqrt(np.diag(cov)), rel=1e-9)
    assert out.assets["expected_return"].to_numpy() == pytest.approx(mu.to_numpy(), rel=1e-9)

    assert len(out.frontier) == lab.FRONTIER_POINTS
    vols = [p.volatility for p in out.frontier]
    assert np.all(np.diff([p.expected_return for p in out.frontier]) > 0) and np.all(np.diff(vols) > -1e-12)
    low = frontier(mu, cov)
    low.min_volatility()
    assert out.min_volatility.weights[HELD].to_numpy() == pytest.approx(list(low.weights), abs=1e-6)
    for point in out.frontier[10::15]:
        single = frontier(mu, cov)
        single.efficient_return(point.expected_return)
        assert point.weights[HELD].to_numpy() == pytest.approx(list(single.weights), abs=1e-5)
    assert out.max_sharpe.weights.to_numpy() == pytest.approx(out.result.weights.to_numpy(), abs=1e-9)


def test_allocation_and_trades_match_discrete_allocation_and_hand_costs(setup, closes):
    db, viewer, pid = setup
    out = lab.run(db, viewer, pid, lab.Request(objective="min_volatility", cost_bps=10))
    last = closes.loc[END]
    total = CASH + sum(QUANTITY[s] * last[s] for s in HELD)
    assert out.total_value == pytest.approx(total, rel=1e-12)
    weights = {s: w for s, w in out.result.weights.items() if w != 0}
    shares, leftover = DiscreteAllocation(weights, last[list(weights)], total).greedy_portfolio()
    assert out.allocation.shares.to_dict() == {s: q for s, q in shares.items() if q}
    assert out.allocation.leftover == pytest.approx(leftover, abs=1e-6)
    orders = out.trades.orders
    for symbol in HELD:
        change = shares.get(symbol, 0) - QUANTITY[symbol]
        if change:
            assert orders.loc[symbol, "quantity"] == pytest.approx(change)
            assert orders.loc[symbol, "cost"] == pytest.approx(abs(change) * last[symbol] * 10 / 10_000)
    assert out.trades.cost == pytest.approx(sum(orders.quantity.abs() * orders.price) / 1000)


def test_sector_and_weight_limits_match_pypfopt_and_every_constraint_holds(setup, closes):
    db, viewer, pid = setup
    extra = ("BAC", "T", "GE", "PFE")
    request = lab.Request(
        symbols=extra,
        objective="min_volatility",
        max_weight=0.25,
        sector_caps=(("financials", 0.15),),  # sector names match whatever their case
        sector_floors=(("Energy", 0.10),),
    )
    out = lab.run(db, viewer, pid, request)
    symbols = [*HELD, *extra]
    mu, cov = reference(closes, symbols)
    ef = frontier(mu, cov, weight_bounds=(0, 0.25))
    ef.add_sector_constraints(SECTORS, {"Energy": 0.10}, {"Financials": 0.15})
    ef.min_volatility()
    assert out.result.weights[symbols].to_numpy() == pytest.approx(list(ef.weights), abs=1e-5)
    assert out.sectors.to_dict() == {s: SECTORS[s] for s in symbols}

    limited = lab.Request(symbols=extra, cash_reserve=0.10, max_holdings=3, max_sector=0.5, risk_free_rate=0.03)
    out = lab.run(db, viewer, pid, limited)
    w = out.result.weights
    assert w.sum() == pytest.approx(0.90, abs=1e-8) and (w > 1e-6).sum() <= 3 and (w >= -1e-9).all()
    assert w.groupby(pd.Series(SECTORS)).sum().max() <= 0.5 + 1e-6
    assert out.figures.expected_return == pytest.approx(float(w[symbols] @ mu[symbols]) + 0.10 * 0.03, rel=1e-9)


def test_a_group_of_ones_own_is_held_to_its_cap(setup, closes):
    db, viewer, pid = setup
    floors, caps = lab.sector_limits("Banks and tech (AAPL, JPM, BAC) <= 20%\nEnergy >= 10%")
    request = lab.Request(symbols=("BAC", "T"), objective="max_sharpe", sector_floors=floors, sector_caps=caps)
    w = lab.run(db, viewer, pid, request).result.weights
    symbols = [*HELD, "BAC", "T"]
    mu, cov = reference(closes, symbols)
    ef = frontier(mu, cov)
    ef.add_constraint(lambda x: x[[0, 1, 4]].sum() <= 0.20)  # AAPL, JPM, BAC
    ef.add_constraint(lambda x: x[3] >= 0.10)  # XOM, the only Energy stock
    ef.max_sharpe()
    assert w[symbols].to_numpy() == pytest.approx(list(ef.weights), abs=1e-4)
    assert w[["AAPL", "JPM", "BAC"]].sum() <= 0.20 + 1e-6
    with pytest.raises(InvalidInput, match="Group Mine: MSFT not in the universe"):
        lab.run(db, viewer, pid, lab.Request(sector_caps=(("Mine (AAPL, MSFT)", 0.3),)))


def test_turnover_counts_the_holdings_left_out_of_the_universe(setup, closes):
    db, viewer, pid = setup
    w0, _ = current_weights(closes)
    kept = ("AAPL", "JPM", "WMT")  # XOM stays out: it would be sold
    request = lab.Request(include_holdings=False, symbols=kept, objective="min_volatility", max_turnover=0.7)
    out = lab.run(db, viewer, pid, request)
    w = out.result.weights
    turnover = float((w - w0[list(kept)]).abs().sum()) + w0["XOM"]
    assert turnover == pytest.approx(0.7, abs=1e-6)  # min volatility wants more change than allowed: binding
    assert out.current is None and any("XOM outside the universe" in n for n in out.notes)
    with pytest.raises(InvalidInput, match=r"Max turnover 10% is less than the .* held outside the universe"):
        lab.run(db, viewer, pid, lab.Request(include_holdings=False, symbols=kept, max_turnover=0.10))
    needed = 1 - w0[list(kept)].sum()  # the universe must end fully invested: today's cash and XOM's value are bought
    with pytest.raises(
        AnalyticsError, match=rf"at least {100 * needed:.4g}% is needed \(the max turnover here is 50% less"
    ):
        lab.run(db, viewer, pid, lab.Request(include_holdings=False, symbols=kept, max_turnover=0.5))


def test_hrp_capm_and_black_litterman_use_the_benchmark_and_match_pypfopt(setup, closes):
    db, viewer, pid = setup
    prices, spy = window(closes, HELD), closes.loc[START:END, "SPY"]
    hrp = lab.run(db, viewer, pid, lab.Request(objective="hrp", linkage="single"))
    theirs = HRPOpt(prices.pct_change().dropna(how="all")).optimize("single")
    assert hrp.result.weights[HELD].to_numpy() == pytest.approx([theirs[s] for s in HELD], abs=1e-8)

    capm = lab.run(db, viewer, pid, lab.Request(returns_model="capm"))
    market_mu = pypfopt_returns.capm_return(prices, market_prices=spy.to_frame())
    assert capm.result.estimates.mu[HELD].to_numpy() == pytest.approx(market_mu.to_numpy(), rel=1e-9)
    assert max(p.sharpe for p in capm.frontier) <= capm.figures.sharpe + 1e-9  # the optimum on its own frontier
    assert capm.max_sharpe.weights.to_numpy() == pytest.approx(capm.result.weights.to_numpy(), abs=1e-9)

    bl = lab.run(db, viewer, pid, lab.Request(objective="black_litterman", views="AAPL 10% @ 60%\nJPM > XOM 2% @ 50%"))
    cov = risk_models.sample_cov(prices)
    model = BlackLittermanModel(
        cov,
        pi="market",
        market_caps=pd.Series(1.0, index=HELD),  # equal weights, as the lab states
        risk_aversion=pbl.market_implied_risk_aversion(spy),
        P=np.array([[1.0, 0, 0, 0], [0, 1.0, 0, -1.0]]),
        Q=np.array([0.10, 0.02]),
        omega="idzorek",
        view_confidences=[0.6, 0.5],
    )
    ef = frontier(model.bl_returns(), model.bl_cov())
    ef.max_sharpe(0.0)
    assert bl.result.weights[HELD].to_numpy() == pytest.approx(list(ef.weights), abs=1e-5)
    assert any("equal weights" in n for n in bl.notes)


def test_bad_requests_name_the_problem_and_nothing_is_saved(setup, app_db):
    db, viewer, pid = setup
    cases = [
        (lab.Request(symbols=("ZZZZ", "BAC")), InvalidInput, "Unknown symbol.*ZZZZ"),
        (lab.Request(include_holdings=False, symbols=("BAC",)), InvalidInput, "at least two symbols"),
        (lab.Request(years=30), InvalidInput, "Lookback must be between 1 and 20"),
        (lab.Request(objective="efficient_return"), InvalidInput, "needs a target return"),
        (lab.Request(objective="black_litterman"), InvalidInput, "needs at least one view"),
        (lab.Request(objective="black_litterman", views="MSFT 5% @ 50%"), AnalyticsError, "unknown symbol.*MSFT"),
        (lab.Request(sector_caps=(("Utilities", 0.1),)), InvalidInput, "sector.*Utilities"),
        (lab.Request(max_weight=0.2), AnalyticsError, "contradict.*4 × max weight 20% = 80%"),
        (lab.Request(max_weight=0.2, sector_floors=(("Energy", 0.3),)), AnalyticsError, "floor of Energy 30%"),
        (lab.Request(objective="efficient_return", target_return=5.0), AnalyticsError, "above the maximum achievable"),
        (lab.Request(objective="hrp", max_weight=0.5), AnalyticsError, "HRP takes no constraints"),
    ]
    for request, error, message in cases:
        with pytest.raises(error, match=message):
            lab.run(db, viewer, pid, request)
    from investment_app.pages import optimize as page  # the page's save: an analytics error saves nothing

    with pytest.raises(InvalidInput, match="contradict"):
        page._save(viewer, pid, lab.Request(max_weight=0.2), "infeasible")
    with session_scope() as fresh:
        assert fresh.exec(select(func.count()).select_from(OptimizationRun)).one() == 0


def test_runs_are_saved_listed_compared_rerun_and_applied_with_an_audit_record(setup):
    db, viewer, pid = setup
    sharpe, low = lab.Request(), lab.Request(objective="min_volatility", max_weight=0.4)
    first = lab.save(db, viewer, pid, sharpe, lab.run(db, viewer, pid, sharpe), "Sharpe")
    second = lab.save(db, viewer, pid, low, lab.run(db, viewer, pid, low), "Low vol")
    db.commit()
    rows = lab.list_runs(db, viewer, pid)
    assert [r.name for r in rows] == ["Low vol", "Sharpe"]
    assert rows[0].data_version.endswith("last 2024-11-29")
    saved = lab.get_run(db, viewer, first)
    assert lab.Request.from_json(saved.request) == sharpe and saved.objective == "max_sharpe"
    assert saved.result["weights"] == pytest.approx(
        {s: w for s, w in lab.run(db, viewer, pid, sharpe).result.weights.items() if w}
    )
    lab._cache.clear()
    again = lab.rerun(db, viewer, first)
    assert again.result.weights[saved.result["weights"].keys()].to_dict() == pytest.approx(saved.result["weights"])

    both = lab.compare(saved, lab.get_run(db, viewer, second))
    assert both.names == ("Sharpe", "Low vol")
    a, b = saved.result["weights"], lab.get_run(db, viewer, second).result["weights"]
    assert both.weights["change"].to_dict() == pytest.approx({s: b.get(s, 0) - a.get(s, 0) for s in {*a, *b}})
    assert both.figures.at["sharpe", "a"] >= both.figures.at["sharpe", "b"]  # max Sharpe has the higher Sharpe

    lab.apply_target(db, viewer, first)
    db.rollback()  # the target and its audit record share one transaction
    assert db.get(TargetAllocation, pid) is None and _audits(db) == []
    lab.apply_target(db, viewer, first)
    target = lab.apply_target(db, viewer, second)
    db.commit()
    assert target.weights == pytest.approx(lab.get_run(db, viewer, second).result["weights"])
    assert (target.source, target.run_id, target.updated_by, target.cash_reserve) == (
        "optimization",
        second,
        viewer.user_id,
        0.0,
    )
    records = _audits(db)
    assert records[0].before is None and records[1].before["run"] == first
    assert records[1].after["run"] == second and records[1].actor_email == "owner@example.com"


def _audits(db: Session) -> list[AuditRecord]:
    return list(db.exec(select(AuditRecord).where(AuditRecord.action == "target.apply").order_by(AuditRecord.id)))


def test_only_the_owner_may_save_see_or_apply_runs(setup):
    db, viewer, pid = setup
    request = lab.Request()
    run_id = lab.save(db, viewer, pid, request, lab.run(db, viewer, pid, request), "Mine")
    db.commit()
    other, reader = accounts.acting_as(db, "other@example.com"), accounts.acting_as(db, "reader@example.com")
    with pytest.raises(Forbidden):
        lab.run(db, other, pid, request)  # not shared with them
    shown = lab.run(db, reader, pid, request)  # shared read-only: may look
    with pytest.raises(Forbidden, match=r"viewer role|read-only"):
        lab.save(db, reader, pid, request, shown, "Theirs")
    for who in (other, reader):
        with pytest.raises(Forbidden, match="No such optimization run"):
            lab.get_run(db, who, run_id)
        with pytest.raises(Forbidden):
            lab.apply_target(db, who, run_id)
    assert lab.list_runs(db, reader, pid) == []  # the owner's runs are the owner's
    assert db.get(TargetAllocation, pid) is None


def test_the_page_hides_and_refuses_apply_for_a_read_only_viewer(setup, app_db, monkeypatch):
    db, viewer, pid = setup
    from investment_app.pages.optimize import OptimizeState

    request = lab.Request()
    run_id = lab.save(db, viewer, pid, request, lab.run(db, viewer, pid, request), "Mine")
    db.commit()
    reader = accounts.acting_as(db, "reader@example.com")
    monkeypatch.setattr(OptimizeState, "_resolve", lambda self: (reader, 0))
    state = OptimizeState()
    state.load()
    assert state.selected == str(pid) and not state.can_change  # no Save or Apply buttons
    refused = state.apply_target(str(run_id))
    assert "No such optimization run" in str(refused)
    with session_scope() as fresh:
        assert fresh.get(TargetAllocation, pid) is None


def test_the_page_compares_two_saved_runs_for_their_owner(setup, app_db, monkeypatch):
    db, viewer, pid = setup
    from investment_app.pages.optimize import OptimizeState

    ids = []
    for name, request in (("Sharpe", lab.Request()), ("Low vol", lab.Request(objective="min_volatility"))):
        ids.append(lab.save(db, viewer, pid, request, lab.run(db, viewer, pid, request), name))
    db.commit()
    monkeypatch.setattr(OptimizeState, "_resolve", lambda self: (viewer, 0))
    state = OptimizeState()
    state.load()
    assert state.can_change and [r["name"] for r in state.runs] == ["Low vol", "Sharpe"]
    state.set_compare_a(str(ids[0]))
    state.set_compare_b(str(ids[1]))
    state.compare()
    a, b = (lab.get_run(db, viewer, i).result for i in ids)
    sharpe = next(r for r in state.comparison_figures if r["label"] == "Sharpe ratio")
    assert (sharpe["a"], sharpe["b"]) == (f"{a['figures']['sharpe']:.2f}", f"{b['figures']['sharpe']:.2f}")
    shown = {r["symbol"] for r in state.comparison}
    assert shown == set(a["weights"]) | set(b["weights"])
