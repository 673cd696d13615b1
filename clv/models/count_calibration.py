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

:func:`value_calibration` does the same for the total spend in the holdout, whose
predictive distribution (transaction model x Gamma-Gamma, :mod:`clv.models._value_intervals`)
has an atom at 0 and a density elsewhere: only customers without holdout purchases
get a randomised PIT value, and ``interval_90`` / ``interval_50`` report how often
``customer_lifetime_value(..., interval=level)``'s ``[clv_lower, clv_upper]`` (undiscounted,
margin 1, widened to hold the mean) holds the actual spend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["count_calibration", "value_calibration"]


def _pit_measures(u: np.ndarray) -> dict[str, float]:
    """Count the customers and the shares of PIT values in [0.05, 0.95] and [0.25, 0.75]."""
    return {
        "customers": float(len(u)),
        "pit_90": float(np.mean((u >= 0.05) & (u <= 0.95))),
        "pit_50": float(np.mean((u >= 0.25) & (u <= 0.75))),
    }


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

    measures = _pit_measures(u) | {"central_90": central(0.9), "central_50": central(0.5)}
    return histogram, measures


def value_calibration(
    model,
    spend_model,
    X: pd.DataFrame,
    actual_spend: np.ndarray | pd.Series,
    horizon: float,
    *,
    random_state: int = 0,
) -> dict[str, float]:
    """Randomised PIT and interval coverage of the predicted total spend on a holdout.

    Parameters
    ----------
    model : TransactionModel
        A fitted BG/NBD, MBG/NBD or Pareto/NBD model.
    spend_model : GammaGammaModel
        A fitted Gamma-Gamma model.
    X : pandas.DataFrame
        Calibration customer table (with ``monetary_value``).
    actual_spend : array-like
        Total spend of each customer in the holdout window.
    horizon : float
        Holdout length, in the model's time unit.
    random_state : int, default 0
        Seed of the PIT's uniform draws.

    Returns
    -------
    dict
        ``pit_90``, ``pit_50`` (calibrated: 0.90 and 0.50), ``central_90``,
        ``central_50`` (plain central intervals of the mixed distribution) and
        ``interval_90``, ``interval_50`` (the intervals clv reports), ``customers``.
    """
    from clv.models._value_intervals import spend_distribution_at

    y = np.asarray(actual_spend, dtype=np.float64)
    data, _ = model._prediction_table(X)
    spend_data, _ = spend_model._prediction_table(X)
    below, upto = spend_distribution_at(
        model, model.params_.to_numpy(), data, spend_model, spend_data, horizon, y
    )
    u = below + np.random.default_rng(random_state).random(len(y)) * (upto - below)
    measures = _pit_measures(u)
    for level in (0.9, 0.5):
        name = f"{round(level * 100)}"
        low, high = (1 - level) / 2, (1 + level) / 2
        measures[f"central_{name}"] = float(np.mean((upto >= low - 1e-12) & (below <= high)))
        bounds = model.customer_lifetime_value(X, spend_model, horizon=horizon, interval=level)
        inside = (bounds["clv_lower"].to_numpy() <= y) & (y <= bounds["clv_upper"].to_numpy())
        measures[f"interval_{name}"] = float(np.mean(inside))
    return measures
