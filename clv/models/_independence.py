"""Gamma-Gamma's key assumption, checked at fit: spend per purchase independent of frequency.

The check is the Spearman rank correlation of ``frequency`` and ``monetary_value`` among
the repeat buyers fitted (ranks: mean spends are heavy-tailed); from ``|rho| >= 0.3``,
"medium" by Cohen (1988, section 3.2), an :class:`~clv.errors.AssumptionWarning` says
so. CDNOW's 946 repeat buyers: rho 0.21 (Pearson 0.11, Fader & Hardie's figure).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from clv.errors import AssumptionWarning

__all__ = ["CORRELATION_THRESHOLD", "spend_frequency_correlation", "warn_if_dependent"]

#: |Spearman rho| from which the assumption is reported as doubtful (Cohen 1988: medium).
CORRELATION_THRESHOLD = 0.3


def spend_frequency_correlation(
    frequency: np.ndarray, monetary_value: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Spearman correlation of frequency and mean spend (weighted; NaN if one is constant)."""
    rank_x = pd.Series(frequency).rank().to_numpy()
    rank_m = pd.Series(monetary_value).rank().to_numpy()
    w = np.ones(len(rank_x)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(rank_x) < 2 or w.sum() <= 0:
        return float("nan")
    dx = rank_x - np.average(rank_x, weights=w)
    dm = rank_m - np.average(rank_m, weights=w)
    scale = np.sqrt(np.sum(w * dx**2) * np.sum(w * dm**2))
    return float(np.sum(w * dx * dm) / scale) if scale > 0 else float("nan")


def warn_if_dependent(correlation: float, owner: str, stacklevel: int = 3) -> None:
    """Emit an :class:`AssumptionWarning` when ``|correlation| >= CORRELATION_THRESHOLD``."""
    if np.isfinite(correlation) and abs(correlation) >= CORRELATION_THRESHOLD:
        warnings.warn(
            f"{owner}: spend per purchase and purchase frequency are correlated among the "
            f"repeat buyers (Spearman {correlation:.2f}, |rho| >= {CORRELATION_THRESHOLD}); "
            "the Gamma-Gamma model assumes they are independent, so its expected spend "
            "(and CLV) is biased for frequent buyers. Consider a spend model with frequency "
            "as a feature (kind 'boosted') or check the data.",
            AssumptionWarning,
            stacklevel=stacklevel,
        )
