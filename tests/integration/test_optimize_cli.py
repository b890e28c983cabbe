"""`optimize`, `frontier` and `allocate` on PyPortfolioOpt's own test prices, checked against PyPortfolioOpt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypfopt import BlackLittermanModel, EfficientFrontier, HRPOpt, black_litterman, expected_returns, risk_models
from pypfopt.discrete_allocation import DiscreteAllocation, get_latest_prices

from investment_app.cli import main

PRICES = Path(__file__).resolve().parent.parent / "resources" / "pypfopt_test_stock_prices.csv"
TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12}


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return pd.read_csv(PRICES, parse_dates=True, index_col="date")


def run(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else None, err


def weights_of(out: dict, columns) -> np.ndarray:
    return np.array([out["weights"].get(s, 0.0) for s in columns])


@pytest.mark.parametrize("risk_model", ["sample", "ledoit_wolf"])
def test_max_sharpe_matches_pypfopt(capsys, prices, risk_model):
    code, out, _ = run(
        capsys, "optimize", "--prices", str(PRICES), "--risk-model", risk_model, "--risk-free-rate", "0.02"
    )
    mu = expected_returns.mean_historical_return(prices)
    cov = risk_models.risk_matrix(prices, method={"sample": "sample_cov"}.get(risk_model, risk_model))
    ef = EfficientFrontier(mu, cov, solver="CLARABEL", solver_options=TIGHT)
    theirs = ef.max_sharpe(risk_free_rate=0.02)
    assert code == 0 and out["estimators"]["risk_model"] == risk_model
    assert np.abs(weights_of(out, prices.columns) - np.array([theirs[s] for s in prices.columns])).max() < 1e-4
    ret, vol, sharpe = ef.portfolio_performance(risk_free_rate=0.02)
    assert (out["expected_return"], out["volatility"], out["sharpe"]) == (
        pytest.approx(ret, abs=1e-6),
        pytest.approx(vol, abs=1e-6),
        pytest.approx(sharpe, abs=1e-6),
    )
    assert set(out["timings"]) == {"load_s", "compute_s"}


def test_efficient_risk_and_hrp_match_pypfopt(capsys, prices):
    _, out, _ = run(
        capsys, "optimize", "--prices", str(PRICES), "--objective", "efficient_risk", "--target-volatility", "0.2"
    )
    ef = EfficientFrontier(
        expected_returns.mean_historical_return(prices),
        risk_models.sample_cov(prices),
        solver="CLARABEL",
        solver_options=TIGHT,
    )
    theirs = ef.efficient_risk(0.2)
    assert np.abs(weights_of(out, prices.columns) - np.array([theirs[s] for s in prices.columns])).max() < 1e-4

    _, out, _ = run(capsys, "optimize", "--prices", str(PRICES), "--objective", "hrp", "--linkage", "ward")
    hrp = HRPOpt(expected_returns.returns_from_prices(prices)).optimize(linkage_method="ward")
    assert np.abs(weights_of(out, prices.columns) - np.array([hrp[s] for s in prices.columns])).max() < 1e-8


def test_frontier_points_are_monotone_and_efficient(capsys, prices):
    code, out, _ = run(capsys, "frontier", "--prices", str(PRICES), "--points", "50", "--risk-model", "ledoit_wolf")
    points = out["points"]
    assert code == 0 and len(points) == 50
    returns = [p["expected_return"] for p in points]
    vols = [p["volatility"] for p in points]
    assert np.all(np.diff(returns) > 0) and np.all(np.diff(vols) >= -1e-12)
    middle = points[25]
    ef = EfficientFrontier(
        expected_returns.mean_historical_return(prices),
        risk_models.CovarianceShrinkage(prices).ledoit_wolf(),
        solver="CLARABEL",
        solver_options=TIGHT,
    )
    ef.efficient_return(middle["expected_return"])
    assert ef.portfolio_performance()[1] == pytest.approx(middle["volatility"], abs=1e-6)


def test_allocate_whole_shares_as_pypfopt_greedy(capsys, prices, tmp_path):
    weights = {"AAPL": 0.4, "MA": 0.35, "XOM": 0.25}
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"weights": weights}))
    _, out, _ = run(capsys, "allocate", "--prices", str(PRICES), "--weights", str(path), "--cash", "10000")
    theirs, leftover = DiscreteAllocation(weights, get_latest_prices(prices), 10000).greedy_portfolio()
    assert out["shares"] == {s: float(n) for s, n in theirs.items()}
    assert out["leftover"] == pytest.approx(leftover)
    _, out, _ = run(
        capsys, "allocate", "--prices", str(PRICES), "--weights", str(path), "--cash", "10000", "--fractional"
    )
    assert out["leftover"] < 0.01 and out["method"] == "fractional"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--objective", "efficient_return", "--target-return", "5"], "above the maximum"),
        (["--objective", "efficient_return"], "needs a target return"),
        (["--max-weight", "0.01"], "max weight"),
        (["--weight-bounds", "0.2,1"], "minimum weights add up to 400%"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(capsys, args, message):
    code, _, err = run(capsys, "optimize", "--prices", str(PRICES), *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_single_asset_is_refused(capsys, prices, tmp_path):
    path = tmp_path / "one.csv"
    prices[["AAPL"]].to_csv(path)
    code, _, err = run(capsys, "optimize", "--prices", str(path))
    assert code == 2 and "two assets" in err


def test_black_litterman_with_market_caps_matches_pypfopt(capsys, prices, tmp_path):
    symbols = ["AAPL", "MA", "XOM", "JPM"]
    data = prices[symbols].loc["2014":]
    path, market = tmp_path / "p.csv", tmp_path / "m.csv"
    data.to_csv(path)
    spy = pd.read_csv(PRICES.parent / "pypfopt_test_spy_prices.csv", parse_dates=True, index_col="date")["SPY"]
    spy.loc[data.index[0] : data.index[-1]].to_csv(market)
    caps = {"AAPL": 2.9e12, "MA": 4.1e11, "XOM": 4.5e11, "JPM": 6.0e11}  # as typed below
    _, out, _ = run(
        capsys,
        "optimize",
        "--prices", str(path),
        "--objective", "black_litterman",
        "--views", "AAPL 10% @ 60%; MA > XOM 3% @ 50%",
        "--market-caps", "AAPL=2.9T, MA=410B, XOM=450B, JPM=600B",
        "--market-prices", str(market),
    )  # fmt: skip
    cov = risk_models.sample_cov(data)
    delta = black_litterman.market_implied_risk_aversion(spy.loc[data.index[0] : data.index[-1]])
    picks = np.array([[1.0, 0, 0, 0], [0, 1.0, -1.0, 0]])
    bl = BlackLittermanModel(
        cov, pi="market", market_caps=caps, risk_aversion=delta, P=picks, Q=np.array([0.10, 0.03]),
        omega="idzorek", view_confidences=[0.6, 0.5],
    )  # fmt: skip
    ef = EfficientFrontier(bl.bl_returns(), bl.bl_cov(), solver="CLARABEL", solver_options=TIGHT)
    theirs = ef.max_sharpe()
    assert np.abs(weights_of(out, symbols) - np.array([theirs[s] for s in symbols])).max() < 1e-4
    assert any("market caps" in note for note in out["notes"])
