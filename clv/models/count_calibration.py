"""How well predictive distributions of purchase counts match what happened.

Two checks of a transaction model's ``P(Y = n | history)`` on a holdout:

* **Histogram**: the predicted number of customers with 0, 1, ..., ``top - 1`` and
  ``top`` or more holdout purchases (the sum of each customer's probabilities) beside
  the actual counts (Fader, Hardie & Lee 2005 compare models this way).
* **Randomised PIT** (probability integral transform for counts; Brockwell 2007,
  "Universal residuals"; Czado, Gneiting & Held 2009, *Biometrics* 65): for a customer
  with ``y`` purchases, ``u = P(Y < y) + v P(Y = y)`` with ``v ~ U(0, 1)``. If the
  predictive distributions are right, ``u`` is uniform on [0, 1], so the share of
  customers with ``u`` in [0.05, 0.95] should be 0.90 and in [0.25, 0.75] 0.50:
  below means the distributions are too narrow (they claim more than they hold),
  above too wide. The plain central interval of a count,
  ``[q_(1-level)/2, q_(1+level)/2]``, holds *more* than its level because the count
  is discrete (ties at the quantiles count as inside); it is reported beside, so
  the over-coverage is visible rather than mistaken for calibration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["count_calibration"]


def count_calibration(
    model,
    X: pd.DataFrame,
    actual: np.ndarray | pd.Series,
    horizon: float,
    *,
    top: int = 7,
    random_state: int = 0,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Predicted vs actual count histogram and randomised-PIT coverage on a holdout.

    Parameters
    ----------
    model : TransactionModel
        A fitted BG/NBD, MBG/NBD, Pareto/NBD or BG/BB model.
    X : pandas.DataFrame
        Calibration customer table.
    actual : array-like of int
        Purchases each customer made in the holdout window of length ``horizon``.
    horizon : float
        Holdout length, in the model's time unit.
    top : int, default 7
        The last histogram bin is ``top`` or more purchases.
    random_state : int, default 0
        Seed of the PIT's uniform draws.

    Returns
    -------
    histogram : pandas.DataFrame
        Index ``"0"``, ..., ``f"{top}+"``; columns ``predicted`` and ``actual``.
    measures : dict
        ``pit_90`` and ``pit_50`` (share of randomised PIT values in [0.05, 0.95] and
        [0.25, 0.75]; calibrated: 0.90 and 0.50), ``central_90`` and ``central_50``
        (share of customers inside the plain central count interval), ``customers``.
    """
    y = np.asarray(actual, dtype=np.int64)
    largest = int(max(y.max(), top))
    pmf = model.probability_of_n_purchases(X, horizon, list(range(largest + 2))).to_numpy()
    rows = np.arange(len(y))
    cdf = np.cumsum(pmf, axis=1)
    below = np.where(y > 0, cdf[rows, np.maximum(y - 1, 0)], 0.0)
    u = below + np.random.default_rng(random_state).random(len(y)) * pmf[rows, y]
    predicted = np.append(pmf[:, :top].sum(axis=0), len(y) - pmf[:, :top].sum())
    observed = np.bincount(np.minimum(y, top), minlength=top + 1)
    labels = [str(n) for n in range(top)] + [f"{top}+"]
    histogram = pd.DataFrame(
        {"predicted": predicted, "actual": observed}, index=pd.Index(labels, name="purchases")
    )

    def central(level: float) -> float:
        low = np.argmax(cdf >= (1 - level) / 2 - 1e-12, axis=1)
        high = np.argmax(cdf >= (1 + level) / 2 - 1e-12, axis=1)
        reached = cdf[:, -1] >= (1 + level) / 2 - 1e-12
        high = np.where(reached, high, np.iinfo(np.int64).max)
        return float(np.mean((y >= low) & (y <= high)))

    measures = {
        "customers": float(len(y)),
        "pit_90": float(np.mean((u >= 0.05) & (u <= 0.95))),
        "pit_50": float(np.mean((u >= 0.25) & (u <= 0.75))),
        "central_90": central(0.9),
        "central_50": central(0.5),
    }
    return histogram, measures
