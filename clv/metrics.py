"""Per-customer holdout metrics: every model judged by the same functions.

Each metric is a pure function of two aligned vectors, ``actual`` first and the
model's ``predicted`` second (scikit-learn's ``y_true, y_pred`` order). Inputs may be
numpy arrays, lists or pandas Series; two Series must share the same index (align
them first: the functions never reorder silently).

Definitions follow REFERENCE.md, section "Metrics used in the CLV literature"
(the normalized Gini, the decile MAPE, Spearman's rank correlation).

A metric that is undefined on the data at hand (a Gini when every actual value is
the same, an AUC when nobody churned) returns ``nan`` -- documented per function --
rather than raising, so that one degenerate holdout column does not hide the other
metrics. Malformed input (different lengths, missing or infinite values, negative
spend) raises :class:`clv.errors.InvalidDataError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from clv.errors import InvalidDataError, describe_examples

__all__ = [
    "auc",
    "brier",
    "calibration_of_totals",
    "decile_mape",
    "mae",
    "normalized_gini",
    "prediction_buckets",
    "ranked_with_ties_averaged",
    "rmse",
    "spearman",
]


def _vector(values: Any, name: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        raise InvalidDataError(f"'{name}' must be one column of values, not a DataFrame.")
    array = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
    if array.ndim != 1:
        raise InvalidDataError(f"'{name}' must be one-dimensional; got shape {array.shape}.")
    if array.dtype == np.bool_:
        array = array.astype(np.float64)
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidDataError(f"'{name}' must be numeric; got dtype {array.dtype}.") from None
    bad = ~np.isfinite(array)
    if bad.any():
        raise InvalidDataError(
            f"'{name}' has {int(bad.sum())} missing or infinite value(s) "
            f"(positions {describe_examples(np.flatnonzero(bad))})."
        )
    return array


def _pair(
    actual: Any,
    predicted: Any,
    *,
    nonnegative: bool = False,
    names: tuple[str, str] = ("actual", "predicted"),
) -> tuple[np.ndarray, np.ndarray]:
    first, second = names
    if (
        isinstance(actual, pd.Series)
        and isinstance(predicted, pd.Series)
        and not actual.index.equals(predicted.index)
    ):
        raise InvalidDataError(
            f"'{first}' and '{second}' are Series with different indexes; align them first "
            f"(for example {second}.reindex({first}.index))."
        )
    y, p = _vector(actual, first), _vector(predicted, second)
    if y.shape != p.shape:
        raise InvalidDataError(
            f"'{first}' and '{second}' must have the same length; got {y.size} and {p.size}."
        )
    if y.size == 0:
        raise InvalidDataError(f"'{first}' and '{second}' are empty: there is nothing to evaluate.")
    if nonnegative:
        negative = y < 0
        if negative.any():
            raise InvalidDataError(
                f"'{first}' has {int(negative.sum())} negative value(s) "
                f"(positions {describe_examples(np.flatnonzero(negative))}); this metric "
                "needs non-negative actual values such as counts or spend."
            )
    return y, p


def _churn_pair(churned: Any, churn_probability: Any) -> tuple[np.ndarray, np.ndarray]:
    y, p = _pair(churned, churn_probability, names=("churned", "churn_probability"))
    if not np.isin(y, (0.0, 1.0)).all():
        raise InvalidDataError("'churned' must hold only 0/1 (or False/True) labels.")
    return y, p


def _probabilities(values: Any, name: str) -> np.ndarray:
    array = _vector(values, name)
    outside = (array < 0) | (array > 1)
    if outside.any():
        raise InvalidDataError(
            f"'{name}' has {int(outside.sum())} value(s) outside [0, 1] "
            f"(positions {describe_examples(np.flatnonzero(outside))})."
        )
    return array


def mae(actual: Any, predicted: Any) -> float:
    """Mean absolute error, ``mean(|predicted - actual|)``.

    Parameters
    ----------
    actual, predicted : array-like of float
        Aligned per-customer values (for example holdout purchases and their
        prediction).

    Returns
    -------
    float

    Notes
    -----
    MAE of zero-inflated spend rewards predicting zero for everyone (the median);
    never select a model on it alone (see :mod:`clv.training.selection`).
    """
    y, p = _pair(actual, predicted)
    return float(np.mean(np.abs(p - y)))


def rmse(actual: Any, predicted: Any) -> float:
    """Root mean squared error, ``sqrt(mean((predicted - actual) ** 2))``.

    Parameters
    ----------
    actual, predicted : array-like of float
        Aligned per-customer values.

    Returns
    -------
    float
    """
    y, p = _pair(actual, predicted)
    return float(np.sqrt(np.mean((p - y) ** 2)))


def ranked_with_ties_averaged(actual: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Order ``actual`` by ``key``, descending, ties sharing their group's mean.

    Customers the ranking cannot tell apart share their group's mean value: the
    expected outcome over every order of the tie, whatever the input order. The Gini
    and the gain curve (:func:`clv.plots.gain_curve`) both rank this way.

    Parameters
    ----------
    actual : numpy.ndarray
        Realised values.
    key : numpy.ndarray
        Ranking score, same length.

    Returns
    -------
    numpy.ndarray
        ``actual`` in ranking order, tied groups averaged.
    """
    n = actual.size
    order = np.argsort(-key, kind="stable")
    keys, values = key[order], actual[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(keys) != 0) + 1))
    counts = np.diff(np.concatenate((starts, [n])))
    return np.repeat(np.add.reduceat(values, starts) / counts, counts)


def _gini(actual: np.ndarray, key: np.ndarray) -> float:
    """Gini of ranking ``actual`` by ``key`` (descending), ties averaged."""
    n = actual.size
    values = ranked_with_ties_averaged(actual, key)
    lorenz = np.cumsum(values) / values.sum()
    return float(lorenz.sum() / n - (n + 1) / (2 * n))


def normalized_gini(actual: Any, predicted: Any) -> float:
    """Compute the normalized Gini: how much of the best possible ranking is achieved.

    Customers are sorted by ``predicted`` (highest first); the Gini is the mean of
    the cumulative share of actual value captured, minus the same for a random
    order: ``G(key) = (1/n) sum_k L_k - (n + 1) / (2n)`` with ``L_k`` the share of the
    total actual value held by the first ``k`` customers. The normalized Gini is
    ``G(predicted) / G(actual)`` (REFERENCE.md, "Normalized Gini"; Wang, Liu & Miao
    2019).

    Parameters
    ----------
    actual : array-like of float
        Non-negative actual values (holdout spend).
    predicted : array-like of float
        Predicted values; only their order matters.

    Returns
    -------
    float
        1 for the perfect ranking, about 0 for a random or constant one, -1 for the
        reversed ranking. ``nan`` when every actual value is the same (including all
        zero): there is no ranking to recover.

    Notes
    -----
    Ties are handled deterministically: customers with equal predictions count as
    one group whose actual value is spread evenly over it, which equals the average
    Gini over every order of the tie. A constant prediction therefore scores exactly
    0, and the result never depends on the input order.
    """
    y, p = _pair(actual, predicted, nonnegative=True)
    if y.sum() == 0:
        return float("nan")
    best = _gini(y, y)
    if best <= 0:
        return float("nan")
    return _gini(y, p) / best


def spearman(actual: Any, predicted: Any) -> float:
    """Spearman rank correlation between actual and predicted values.

    The Pearson correlation of the average ranks (ties share their mean rank)
    (REFERENCE.md, "Spearman rank correlation").

    Parameters
    ----------
    actual, predicted : array-like of float
        Aligned per-customer values; only their ranks matter.

    Returns
    -------
    float
        In [-1, 1]; ``nan`` when either vector is constant (a correlation with a
        constant is undefined).
    """
    y, p = _pair(actual, predicted)
    if np.ptp(y) == 0 or np.ptp(p) == 0:
        return float("nan")
    ry = rankdata(y) - (y.size + 1) / 2
    rp = rankdata(p) - (p.size + 1) / 2
    return float(np.clip(ry @ rp / np.sqrt((ry @ ry) * (rp @ rp)), -1.0, 1.0))


def prediction_buckets(predicted: Any, n_buckets: int = 10) -> np.ndarray:
    """Assign customers to ``n_buckets`` equal-sized buckets by prediction.

    Parameters
    ----------
    predicted : array-like of float
        Predictions.
    n_buckets : int, default 10
        Number of buckets (10 = deciles).

    Returns
    -------
    numpy.ndarray of int
        Bucket per customer, ``0`` for the lowest predictions up to ``n_buckets - 1``.

    Notes
    -----
    Bucket ``floor((rank - 1) * n_buckets / n)`` of each customer's average rank.
    Customers with equal predictions share a rank and therefore a bucket, so the
    assignment never depends on the input order; heavy ties leave some buckets empty
    (a constant prediction puts everyone in one bucket).
    """
    p = _vector(predicted, "predicted")
    if isinstance(n_buckets, bool) or not isinstance(n_buckets, int | np.integer) or n_buckets < 1:
        raise InvalidDataError(f"'n_buckets' must be a positive integer; got {n_buckets!r}.")
    if p.size == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = rankdata(p, method="average")
    return np.minimum(np.floor((ranks - 1) * n_buckets / p.size), n_buckets - 1).astype(np.int64)


def decile_mape(actual: Any, predicted: Any, n_buckets: int = 10) -> float:
    """Decile MAPE: mean absolute percentage error of bucket means.

    Customers are cut into ``n_buckets`` buckets by prediction
    (:func:`prediction_buckets`); per bucket the error is ``|mean prediction - mean
    actual| / mean actual``; the result is the mean over buckets (REFERENCE.md,
    "Decile MAPE").

    Parameters
    ----------
    actual : array-like of float
        Non-negative actual values (holdout spend).
    predicted : array-like of float
        Predictions.
    n_buckets : int, default 10
        Number of buckets.

    Returns
    -------
    float
        0 when every bucket's mean is predicted exactly; ``nan`` when no bucket is
        left to average (see Notes).

    Notes
    -----
    A bucket whose mean actual value is 0 has no percentage error. It counts as 0
    when its mean prediction is 0 too (exact) and is left out of the mean otherwise
    (its error would be infinite). Empty buckets (from tied predictions) are left out.
    """
    y, p = _pair(actual, predicted, nonnegative=True)
    buckets = prediction_buckets(p, n_buckets)
    errors = []
    for bucket in np.unique(buckets):
        members = buckets == bucket
        mean_actual, mean_predicted = y[members].mean(), p[members].mean()
        if mean_actual > 0:
            errors.append(abs(mean_predicted - mean_actual) / mean_actual)
        elif mean_predicted == 0:
            errors.append(0.0)
    return float(np.mean(errors)) if errors else float("nan")


def auc(churned: Any, churn_probability: Any) -> float:
    """Area under the ROC curve of the churn probability.

    Computed with :func:`sklearn.metrics.roc_auc_score` (ties count one half).

    Parameters
    ----------
    churned : array-like of bool or {0, 1}
        Whether each customer churned (made no purchase in the holdout).
    churn_probability : array-like of float
        Predicted probability of churn.

    Returns
    -------
    float
        0.5 for a constant or random score, 1 for a perfect one; ``nan`` when all
        customers are in one class (the AUC is undefined).
    """
    y, p = _churn_pair(churned, churn_probability)
    if y.min() == y.max():
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def brier(churned: Any, churn_probability: Any) -> float:
    """Brier score of the churn probability, ``mean((probability - churned) ** 2)``.

    Parameters
    ----------
    churned : array-like of bool or {0, 1}
        Whether each customer churned.
    churn_probability : array-like of float
        Predicted probability of churn, in [0, 1].

    Returns
    -------
    float
        0 is perfect; 0.25 is what a constant 0.5 scores.
    """
    y, p = _churn_pair(churned, churn_probability)
    _probabilities(p, "churn_probability")
    return float(np.mean((p - y) ** 2))


def calibration_of_totals(actual: Any, predicted: Any) -> float:
    """Calibration of totals: ``sum(predicted) / sum(actual)``.

    Parameters
    ----------
    actual : array-like of float
        Non-negative per-customer values (purchases or spend).
    predicted : array-like of float
        Their predictions.

    Returns
    -------
    float
        1 when the total is predicted exactly, below 1 when it is under-predicted.
        When the actual total is 0: 1.0 if the predicted total is 0 too, ``inf``
        otherwise.
    """
    y, p = _pair(actual, predicted, nonnegative=True)
    total_actual, total_predicted = float(y.sum()), float(p.sum())
    if total_actual == 0:
        return 1.0 if total_predicted == 0 else float("inf")
    return total_predicted / total_actual
