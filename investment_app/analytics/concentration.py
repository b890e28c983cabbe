"""How concentrated a portfolio is: weights, largest positions, sector weights, Herfindahl index.

Conventions:
- Weights are market values over the net value Σ v (what the holdings are worth together), so a short
  position has a negative weight and the weights add up to 1. A net value of zero or below has no
  meaningful weights: ``AnalyticsError``.
- The Herfindahl-Hirschman index uses gross weights g_i = |v_i| / Σ|v_j|: HHI = Σ g² lies in [1/N, 1]
  and the effective number of holdings 1/HHI in [1, N] (Hannah & Kay 1977's "numbers equivalent");
  a short position concentrates risk as much as a long one of the same size. Long-only, g = the weights.
- Ranking ("largest") is by |weight|. Symbols without a sector count as "Unclassified".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from investment_app.analytics.errors import AnalyticsError

UNCLASSIFIED = "Unclassified"


@dataclass(frozen=True)
class Concentration:
    """Weights (value / net value, largest |weight| first), the top ones and their sum, sectors, HHI, 1/HHI."""

    weights: pd.Series
    largest: pd.Series
    largest_share: float
    sector_weights: pd.Series
    herfindahl: float
    effective_holdings: float


def _by_size(weights: pd.Series) -> pd.Series:
    """Largest |weight| first; ties keep the input order."""
    return weights.iloc[np.argsort(-weights.abs().to_numpy(), kind="stable")]


def concentration(values: pd.Series, sectors: pd.Series, top: int = 10) -> Concentration:
    """Concentration of holdings ``values`` (symbol → market value) with ``sectors`` (symbol → sector).

    ``top`` positions make up ``largest``; ``largest_share`` is the sum of their weights.
    """
    if values.empty or not values.index.is_unique:
        raise AnalyticsError("concentration needs at least one holding and one value per symbol")
    if top < 1:
        raise AnalyticsError(f"top must be at least 1 (got {top})")
    v = values.astype(float)
    if not np.isfinite(v.to_numpy()).all():
        raise AnalyticsError("holding values contain NaN or infinite values")
    net = float(v.sum())
    if net <= 0:
        raise AnalyticsError(f"the holdings are worth {net:g} net; weights need a positive total value")
    weights = _by_size(v / net)
    gross = np.abs(v.to_numpy()) / np.abs(v.to_numpy()).sum()
    herfindahl = float(np.sum(gross**2))
    sector = sectors.reindex(weights.index).fillna(UNCLASSIFIED)
    largest = weights.iloc[:top]
    return Concentration(
        weights=weights,
        largest=largest,
        largest_share=float(largest.sum()),
        sector_weights=_by_size(weights.groupby(sector.to_numpy(), sort=False).sum()),
        herfindahl=herfindahl,
        effective_holdings=1.0 / herfindahl,
    )
