"""The tearsheet's colours (light theme, colour-blind-safe blue/orange pair) and the heatmap scale."""

from __future__ import annotations

import numpy as np

PORTFOLIO = "#2563eb"
BENCHMARK = "#d97706"
LOSS = "#dc2626"
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
AXIS = "#9ca3af"
NEG_TEXT = "#b91c1c"
POS_TEXT = "#15803d"
HEADER_FILL = "#f3f4f6"

_WHITE = np.array([255.0, 255.0, 255.0])
_RED = np.array([248.0, 113.0, 113.0])
_GREEN = np.array([74.0, 222.0, 128.0])


def heat_limit(values: np.ndarray) -> float:
    """The |value| given the full colour: the 95th percentile of |values| (one outlier does not wash out the rest)."""
    magnitude = np.abs(values[np.isfinite(values)])
    limit = float(np.percentile(magnitude, 95)) if magnitude.size else 0.0
    return limit if limit > 0 else 1.0


def diverging_fill(values: np.ndarray, limit: float) -> np.ndarray:
    """Hex colours white → red for losses, white → green for gains, linear in min(|value| / limit, 1); NaN → ""."""
    flat = np.asarray(values, dtype=float).ravel()
    strength = np.clip(np.abs(np.nan_to_num(flat)) / limit, 0.0, 1.0)[:, None]
    end = np.where((flat < 0)[:, None], _RED, _GREEN)
    rgb = np.rint(_WHITE + strength * (end - _WHITE)).astype(int)
    channels = [np.char.mod("%02x", rgb[:, i]) for i in range(3)]
    hexes = np.strings.add(np.strings.add(np.strings.add("#", channels[0]), channels[1]), channels[2])
    return np.where(np.isfinite(flat), hexes, "").reshape(np.shape(values))
