"""Black-Litterman: a market-implied prior blended with the user's views (He & Litterman 1999; Idzorek 2005).

Conventions (those of ``pypfopt.black_litterman``, PyPortfolioOpt 1.6, which the results match to ~1e-12):
- Returns and the covariance Σ share one period (annual if Σ is annualised); rates are decimals.
- Prior (reverse optimisation): π = δ Σ w_mkt + r_f, with w_mkt the market-cap weights, or 1/n when no caps
  are given (``prior_source`` says which). δ is given, or the market's (E[r] − r_f)/σ² from its prices
  (``market_implied_risk_aversion``: mean and variance of daily simple returns × 252).
- Views: k rows of a picking matrix P and values Q: absolute ("AAPL returns 10%": P row e_AAPL, Q = 0.10) or
  relative ("GOOG outperforms FB by 3%": +1 GOOG, −1 FB, Q = 0.03).
- View uncertainty Ω from Idzorek's confidences c ∈ [0, 1] in Walters' closed form:
  Ω_kk = τ (1 − c)/c · P_k Σ P_kᵀ; c = 0 gives Ω_kk = 1e6 (the view is ignored, as PyPortfolioOpt does).
- Posterior (He & Litterman): μ = π + τΣPᵀ A⁻¹ (Q − Pπ) and Σ_BL = Σ + τΣ − τΣPᵀ A⁻¹ PτΣ with
  A = PτΣPᵀ + Ω; both feed the mean-variance optimiser directly.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError, InsufficientData
from investment_app.analytics.hrp import checked_covariance

ZERO_CONFIDENCE_OMEGA = 1e6


@dataclass(frozen=True)
class View:
    """One view: Σ_s picks[s]·r_s = value (a decimal rate), held with ``confidence`` in [0, 1]."""

    picks: dict[str, float]
    value: float
    confidence: float

    @classmethod
    def absolute(cls, symbol: str, value: float, confidence: float) -> View:
        """``symbol`` will return ``value``."""
        return cls({symbol: 1.0}, value, confidence)

    @classmethod
    def relative(cls, winner: str, loser: str, value: float, confidence: float) -> View:
        """``winner`` will outperform ``loser`` by ``value``."""
        if winner == loser:
            raise AnalyticsError(f"a relative view needs two different symbols (got {winner} twice)")
        return cls({winner: 1.0, loser: -1.0}, value, confidence)

    def __str__(self) -> str:
        """'AAPL 10.00% @ 60%', 'GOOG > FB 3.00% @ 50%' (as ``views_from_text`` reads them), else '0.5·A + 0.5·B …'."""
        ups = [s for s, x in self.picks.items() if x == 1.0]
        downs = [s for s, x in self.picks.items() if x == -1.0]
        if len(ups) == 1 and len(downs) <= 1 and len(self.picks) == len(ups) + len(downs):
            head = " > ".join(ups + downs)
        else:
            head = " + ".join(f"{x:g}·{s}" for s, x in self.picks.items())
        return f"{head} {self.value:.2%} @ {self.confidence:.0%}"


@dataclass(frozen=True)
class BlackLitterman:
    """Prior π, its market weights and source, δ, τ, the views (P, Q, Ω) and the posterior returns and cov."""

    prior: pd.Series
    market_weights: pd.Series
    prior_source: str
    risk_aversion: float
    tau: float
    picking: pd.DataFrame
    view_returns: pd.Series
    omega: pd.Series
    returns: pd.Series
    cov: pd.DataFrame


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)%?"
_SYMBOL = r"[A-Za-z0-9^](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?"
_VIEW = re.compile(
    rf"^(?P<a>{_SYMBOL})\s*(?:(?P<op>[<>])\s*(?P<b>{_SYMBOL}))?\s*(?:[=:]|\s+by)?\s*(?P<value>{_NUMBER})"
    rf"\s*(?:@|\s+conf(?:idence)?)\s*(?P<confidence>{_NUMBER})$",
    re.IGNORECASE,
)
EXAMPLES = "'AAPL 10% @ 60%' (absolute) or 'GOOG > FB 3% @ 50%' (relative)"


def views_from_text(text: str, symbols: Collection[str] | None = None) -> list[View]:
    """Views written one per line (or separated by ';'), e.g. 'AAPL 10% @ 60%' or 'GOOG > FB by 3% @ 50%'.

    ``A > B x`` reads "A outperforms B by x", ``A < B x`` "B outperforms A by x". Numbers are decimals or
    percentages (0.1 = 10%); a bare number above 1 is refused as ambiguous. With ``symbols``, a view on any
    other symbol is refused. Errors name the line.
    """
    views = []
    for number, line in enumerate(re.split(r"[\n;]", text), start=1):
        if line.strip():
            views.append(_parse_line(line.strip(), number, symbols))
    return views


def _parse_line(line: str, number: int, symbols: Collection[str] | None) -> View:
    """One view from one line of text."""
    match = _VIEW.match(line)
    if match is None:
        raise AnalyticsError(f"view line {number}: cannot read {line!r}; write e.g. {EXAMPLES}")
    value = _rate(match["value"], f"view line {number}: return")
    confidence = _rate(match["confidence"], f"view line {number}: confidence")
    a, b = match["a"].upper(), (match["b"] or "").upper()
    if a == b:
        raise AnalyticsError(f"view line {number}: a relative view needs two different symbols (got {a} twice)")
    if not b:
        view = View.absolute(a, value, confidence)
    else:
        view = View.relative(a, b, value, confidence) if match["op"] == ">" else View.relative(b, a, value, confidence)
    _check_view(view, symbols, f"view line {number}")
    return view


def _rate(text: str, what: str) -> float:
    """A decimal from '10%' or '0.10'; a bare number beyond ±1 is ambiguous (10 = 10% or 1000%?)."""
    if text.endswith("%"):
        return float(text[:-1]) / 100.0
    value = float(text)
    if abs(value) > 1:
        raise AnalyticsError(f"{what} {text} is ambiguous: write {text}% or {value / 100:g}")
    return value


def _check_view(view: View, symbols: Collection[str] | None, where: str) -> None:
    """A view's confidence must lie in [0, 1], its numbers be finite, its symbols (when given) in the universe."""
    unknown = [] if symbols is None else [s for s in view.picks if s not in symbols]
    if unknown:
        raise AnalyticsError(f"{where}: unknown symbol(s) {', '.join(unknown)} (not in the universe)")
    if not 0.0 <= view.confidence <= 1.0:
        raise AnalyticsError(f"{where}: confidence {view.confidence:.0%} is outside 0–100%")
    if not view.picks or not (np.isfinite(view.value) and all(np.isfinite(p) and p != 0 for p in view.picks.values())):
        raise AnalyticsError(f"{where}: a view needs at least one symbol, non-zero weights and finite numbers")


def market_implied_risk_aversion(
    market_prices: pd.Series, periods_per_year: int = 252, risk_free_rate: float = 0.0
) -> float:
    """δ = (μ − r_f)/σ² with μ, σ² the annualised mean and variance (ddof 1) of the market's simple returns.

    Matches ``pypfopt.black_litterman.market_implied_risk_aversion``. A market that did not beat the risk-free
    rate gives δ ≤ 0, which implies no sensible prior: ``AnalyticsError``.
    """
    returns = market_prices.astype(float).pct_change().dropna()
    if len(returns) < 2:
        raise InsufficientData("the market's risk aversion", 3, len(market_prices.dropna()))
    delta = float((returns.mean() * periods_per_year - risk_free_rate) / (returns.var() * periods_per_year))
    if not delta > 0:
        raise AnalyticsError(
            f"the market returned less than the risk-free rate over these prices (δ = {delta:.3g}); "
            "give a positive risk aversion instead"
        )
    return delta


def black_litterman(
    cov: pd.DataFrame,
    views: Sequence[View],
    risk_aversion: float,
    market_caps: pd.Series | None = None,
    tau: float = 0.05,
    risk_free_rate: float = 0.0,
) -> BlackLitterman:
    """Posterior returns and covariance from the market-implied prior and ``views`` (module doc for formulas).

    ``market_caps`` (symbol → cap) must cover every asset of ``cov``; extra symbols are ignored. Without caps
    the prior uses equal weights.
    """
    sigma, symbols = checked_covariance(cov, "Black-Litterman"), list(cov.columns)
    if not risk_aversion > 0 or not 0 < tau <= 1:
        raise AnalyticsError(f"risk aversion must be positive and tau in (0, 1] (got {risk_aversion}, {tau})")
    w_mkt, source = _market_weights(market_caps, symbols)
    prior = risk_aversion * sigma @ w_mkt + risk_free_rate
    p = _picking_matrix(views, symbols)
    q = np.array([v.value for v in views])
    omega = _idzorek_omega(np.array([v.confidence for v in views]), sigma, p, tau)
    returns, posterior_cov = _posterior(sigma, prior, p, q, omega, tau)
    labels = [str(v) for v in views]
    return BlackLitterman(
        prior=pd.Series(prior, index=symbols),
        market_weights=pd.Series(w_mkt, index=symbols),
        prior_source=source,
        risk_aversion=float(risk_aversion),
        tau=tau,
        picking=pd.DataFrame(p, index=labels, columns=symbols),
        view_returns=pd.Series(q, index=labels),
        omega=pd.Series(omega, index=labels),
        returns=pd.Series(returns, index=symbols),
        cov=pd.DataFrame(posterior_cov, index=symbols, columns=symbols),
    )


def _picking_matrix(views: Sequence[View], symbols: list[str]) -> np.ndarray:
    """P (views × assets) after checking every view: row k holds view k's picks in the universe's columns."""
    column = {s: i for i, s in enumerate(symbols)}
    p = np.zeros((len(views), len(symbols)))
    for k, view in enumerate(views):
        _check_view(view, column, f"view {k + 1} ({view})")
        p[k, [column[s] for s in view.picks]] = list(view.picks.values())
    return p


def _market_weights(market_caps: pd.Series | None, symbols: list[str]) -> tuple[np.ndarray, str]:
    """Cap weights c/Σc on ``symbols`` and 'market caps', or 1/n and 'equal weights' without caps."""
    if market_caps is None:
        return np.full(len(symbols), 1.0 / len(symbols)), "equal weights"
    missing = pd.Index(symbols).difference(market_caps.index, sort=False).tolist()
    if missing:
        raise AnalyticsError(f"market caps are missing for {', '.join(map(str, missing))}")
    caps = market_caps.reindex(symbols).to_numpy(dtype=float)
    if not (np.isfinite(caps).all() and (caps >= 0).all() and caps.sum() > 0):
        raise AnalyticsError("market caps must be finite, non-negative and not all zero")
    return caps / caps.sum(), "market caps"


def _idzorek_omega(confidence: np.ndarray, sigma: np.ndarray, p: np.ndarray, tau: float) -> np.ndarray:
    """Diagonal of Ω: τ (1 − c)/c · P_k Σ P_kᵀ per view (Walters 2014, eq. 41/44); 1e6 when c = 0."""
    view_variance = np.sum((p @ sigma) * p, axis=1)
    with np.errstate(divide="ignore"):
        alpha = (1.0 - confidence) / confidence
    return np.where(confidence == 0, ZERO_CONFIDENCE_OMEGA, tau * alpha * view_variance)


def _posterior(
    sigma: np.ndarray, prior: np.ndarray, p: np.ndarray, q: np.ndarray, omega: np.ndarray, tau: float
) -> tuple[np.ndarray, np.ndarray]:
    """He & Litterman's posterior mean and covariance (module doc), solving A rather than inverting it."""
    tau_sigma_pt = tau * sigma @ p.T
    a = p @ tau_sigma_pt + np.diag(omega)
    if len(q) and np.linalg.cond(a) > 1e12:
        raise AnalyticsError(
            "the views repeat or contradict each other at full confidence (their picking rows are linearly "
            "dependent); lower a confidence below 100% or drop a view"
        )
    returns = prior + tau_sigma_pt @ np.linalg.solve(a, q - p @ prior)
    cov = sigma + tau * sigma - tau_sigma_pt @ np.linalg.solve(a, tau_sigma_pt.T)
    return returns, cov


_CAP = re.compile(
    r"^\s*(?P<symbol>[A-Za-z0-9.\-^]+)\s*[=:]\s*(?P<value>\d+(?:\.\d*)?(?:e\d+)?)\s*(?P<unit>[TtBbMm]?)\s*$"
)
_UNITS = {"": 1.0, "t": 1e12, "b": 1e9, "m": 1e6}


def market_caps_from_text(text: str, symbols: Collection[str]) -> dict[str, float] | None:
    """Market capitalisations typed as 'AAPL=2.9T, MA=410B, XOM 1e11' (T, B, M suffixes); None when empty.

    Every symbol of the universe needs one (the prior weighs them all); errors name the entry."""
    entries = [e for e in re.split(r"[,;\n]", text) if e.strip()]
    if not entries:
        return None
    caps: dict[str, float] = {}
    for entry in entries:
        match = _CAP.match(entry.replace(" ", "=", 1) if "=" not in entry and ":" not in entry else entry)
        if match is None:
            raise AnalyticsError(f"market cap {entry.strip()!r}: write it as SYMBOL=2.9T (T, B or M), e.g. AAPL=2.9T")
        caps[match["symbol"].upper()] = float(match["value"]) * _UNITS[match["unit"].lower()]
    missing = sorted(set(symbols) - set(caps))
    if missing:
        raise AnalyticsError(f"market caps are missing for {', '.join(missing)} (give all, or none for equal weights)")
    if any(v <= 0 for v in caps.values()):
        raise AnalyticsError("market caps must be positive")
    return {s: caps[s] for s in symbols}
