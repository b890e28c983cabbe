"""`metrics`, `var` and `tearsheet` on CSV files: the JSON contract, checked against empyrical, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest

from investment_app.cli import main
from investment_app.marketdata.bundled import bundled_bars

CONTRACT_KEYS = [
    "total_return",
    "annual_return",
    "annual_volatility",
    "sharpe",
    "sortino",
    "downside_risk",
    "calmar",
    "omega",
    "max_drawdown",
    "tail_ratio",
    "skew",
    "kurtosis",
]
BENCHMARK_KEYS = ["alpha", "beta", "r_squared", "information_ratio", "tracking_error", "up_capture", "down_capture"]


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")[["AAPL", "SPY"]].dropna()
    return closes.iloc[-1500:]


def write(path: Path, series: pd.Series) -> Path:
    series.rename_axis("date").to_csv(path)
    return path


def run(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else None, err


def test_metrics_json_matches_empyrical(tmp_path, capsys, prices):
    returns = prices.pct_change().dropna()
    r, b = returns["AAPL"], returns["SPY"]
    code, out, _ = run(
        capsys,
        "metrics",
        "--returns",
        str(write(tmp_path / "r.csv", r)),
        "--benchmark",
        str(write(tmp_path / "b.csv", b)),
        "--risk-free-rate",
        "0.0001",
    )
    assert code == 0 and set(CONTRACT_KEYS + BENCHMARK_KEYS) <= set(out)
    assert out["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, 0.0001), rel=1e-9)
    assert out["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), rel=1e-9) and out["max_drawdown"] < 0
    alpha, beta = empyrical.alpha_beta(r, b, 0.0001)
    assert (out["alpha"], out["beta"]) == (pytest.approx(alpha, rel=1e-9), pytest.approx(beta, rel=1e-9))
    assert out["up_capture"] == pytest.approx(empyrical.up_capture(r, b), rel=1e-9)
    assert out["warnings"] == {}


def test_prices_give_the_same_metrics_as_their_simple_returns(tmp_path, capsys, prices):
    _, from_prices, _ = run(capsys, "metrics", "--prices", str(write(tmp_path / "p.csv", prices["AAPL"])))
    returns = prices["AAPL"].pct_change().dropna()
    _, from_returns, _ = run(capsys, "metrics", "--returns", str(write(tmp_path / "r.csv", returns)))
    assert from_prices["annual_return"] == pytest.approx(from_returns["annual_return"], rel=1e-12)
    assert from_prices["annual_return"] == pytest.approx(empyrical.annual_return(returns), rel=1e-9)


def test_edge_cases_give_null_with_a_reason(tmp_path, capsys, prices):
    dates = pd.bdate_range("2024-01-01", periods=30)
    zeros = write(tmp_path / "zeros.csv", pd.Series(0.0, index=dates, name="flat"))
    _, out, _ = run(capsys, "metrics", "--returns", str(zeros))
    assert out["sharpe"] is None and "volatility is zero" in out["warnings"]["sharpe"]
    assert out["total_return"] == 0.0 and out["alpha"] is None

    elsewhere = write(tmp_path / "b.csv", pd.Series(0.01, index=pd.bdate_range("2010-01-01", periods=30), name="b"))
    _, out, _ = run(capsys, "metrics", "--returns", str(zeros), "--benchmark", str(elsewhere))
    assert all(out[k] is None for k in BENCHMARK_KEYS)
    assert "no dates in common" in out["warnings"]["beta"]

    gappy = tmp_path / "gappy.csv"
    gappy.write_text("date,r\n2024-01-02,0.01\n2024-01-03,\n2024-01-04,-0.02\n")
    _, out, _ = run(capsys, "metrics", "--returns", str(gappy))
    assert "1" in out["warnings"]["data"] and out["observations"] == 2
    assert out["kurtosis"] is None and "needs at least 4 observations" in out["warnings"]["kurtosis"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("date,r\n", "has a header but no rows"),
        ("date,r\n2024-01-02,0.01\n2024-01-03,abc\n", "line 3, column 'r': 'abc' is not a number"),
        ("date,r\nyesterday,0.01\n", "line 2, column 'date': 'yesterday' is not a date"),
        ("date,a,b\n2024-01-02,0.01,0.02\n", "exactly one series column"),
        ("date,r\n2024-01-02,0.01\n2024-01-02,0.02\n", "2024-01-02 more than once"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path, capsys, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code, _, err = run(capsys, "metrics", "--returns", str(path))
    assert code == 2 and message in err and "Traceback" not in err


def test_var_by_each_method(tmp_path, capsys, prices):
    returns = prices["AAPL"].pct_change().dropna()
    path = str(write(tmp_path / "r.csv", returns))
    _, out, _ = run(capsys, "var", "--returns", path, "--confidence", "0.95", "--method", "historical")
    assert out["var"] == pytest.approx(-empyrical.value_at_risk(returns, 0.05), rel=1e-9)
    assert out["cvar"] == pytest.approx(-empyrical.conditional_value_at_risk(returns, 0.05), rel=1e-9)
    assert out["method"] == "historical" and out["var"] > 0
    for method in ("parametric", "cornish_fisher", "monte_carlo"):
        _, out, _ = run(
            capsys, "var", "--returns", path, "--confidence", "0.99", "--method", method, "--horizon-days", "10"
        )
        assert out["method"] == method and out["horizon_days"] == 10 and 0 < out["var"] < out["cvar"]
    seeded = [run(capsys, "var", "--returns", path, "--method", "monte_carlo", "--seed", "3")[1] for _ in range(2)]
    assert seeded[0] == seeded[1]
    code, _, err = run(capsys, "var", "--returns", path, "--confidence", "1.5")
    assert code == 2 and "confidence" in err


def test_tearsheet_writes_html_and_pdf(tmp_path, capsys, prices):
    returns = prices.pct_change().dropna()
    html, pdf = tmp_path / "t.html", tmp_path / "t.pdf"
    code, out, _ = run(
        capsys,
        "tearsheet",
        "--returns",
        str(write(tmp_path / "r.csv", returns["AAPL"])),
        "--benchmark",
        str(write(tmp_path / "b.csv", returns["SPY"])),
        "--out",
        str(html),
        "--pdf",
        str(pdf),
    )
    assert code == 0 and out["files"] == {"html": str(html), "pdf": str(pdf)}
    text = html.read_text()
    assert "AAPL" in text and "Monthly returns" in text and "COVID" in text
    assert pdf.read_bytes().startswith(b"%PDF")
    assert np.isfinite(out["observations"])
