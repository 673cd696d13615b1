"""Holdout comparison of any models, headless-safe (metrics: :mod:`clv.metrics`).

:func:`decile_chart`, :func:`gain_curve`, :func:`churn_reliability_curve`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from clv._validation import check_number
from clv.errors import InvalidDataError
from clv.metrics import prediction_buckets, ranked_with_ties_averaged
from clv.plots._figures import aligned, as_series, named_predictions, new_figure


def decile_chart(
    actual: Any,
    predicted: Any,
    *,
    n_buckets: int = 10,
    quantity: str = "spend",
    title: str | None = None,
) -> Figure:
    """Mean predicted against mean actual value per prediction decile.

    The buckets are those of :func:`clv.metrics.decile_mape`
    (:func:`~clv.metrics.prediction_buckets`): equal-sized by
    prediction, ties kept together.

    Parameters
    ----------
    actual : pandas.Series or array-like
        Actual holdout values (e.g. ``actuals["holdout_spend"]``).
    predicted : pandas.Series or array-like
        Predictions; aligned on ``actual``'s index when both are Series.
    n_buckets : int, default 10
        Number of buckets.
    quantity : str, default "spend"
        What the values are, for the axis label.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    a, p = aligned(actual, predicted, ("actual", "predicted"))
    buckets = prediction_buckets(p, n_buckets)
    frame = pd.DataFrame({"bucket": buckets + 1, "actual": a, "predicted": p})
    means = frame.groupby("bucket").mean().sort_index()

    figure = new_figure()
    axes = figure.add_subplot()
    positions = np.arange(len(means))
    width = 0.4
    axes.bar(positions - width / 2, means["predicted"], width, label="Predicted")
    axes.bar(positions + width / 2, means["actual"], width, label="Actual")
    axes.set_xticks(positions, [str(b) for b in means.index])
    axes.set_xlabel(f"Bucket of predicted {quantity} (1 = lowest)")
    axes.set_ylabel(f"Mean holdout {quantity}")
    axes.set_title(title or f"Predicted and actual {quantity} by decile of prediction")
    axes.legend()
    return figure


def _captured(actual: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Cumulative share of ``actual`` captured when targeting by ``key`` (ties averaged)."""
    values = ranked_with_ties_averaged(actual, key)
    total = values.sum()
    return (
        np.concatenate(([0.0], np.cumsum(values) / total))
        if total > 0
        else np.zeros(actual.size + 1)
    )


def gain_curve(
    actual: Any,
    predicted: Any,
    *,
    quantity: str = "spend",
    title: str | None = None,
) -> Figure:
    """Cumulative gain: share of actual value captured by targeting the top customers.

    Customers are sorted by prediction (highest first; tied customers share their
    value, as in :func:`clv.metrics.normalized_gini`, whose numerator is
    the area between a model's curve and the random line).

    Parameters
    ----------
    actual : pandas.Series or array-like
        Non-negative actual values.
    predicted : pandas.Series, array-like, or mapping of str to those
        One model's predictions, or several models by name (one curve each).
    quantity : str, default "spend"
        What the values are, for the axis label.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = new_figure(6.0, 5.0)
    axes = figure.add_subplot()
    a = as_series(actual, "actual").to_numpy()
    if (a < 0).any():
        raise InvalidDataError("'actual' must be non-negative for a gain curve.")
    for name, values in named_predictions(predicted, "model").items():
        y, p = aligned(actual, values, ("actual", name))
        curve = _captured(y, p)
        axes.plot(np.linspace(0, 1, curve.size), curve, label=name)
    perfect = _captured(a, a)
    axes.plot(np.linspace(0, 1, perfect.size), perfect, color="black", linewidth=1, label="Perfect")
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="Random")
    axes.set_xlabel("Share of customers targeted (highest prediction first)")
    axes.set_ylabel(f"Share of holdout {quantity} captured")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_title(title or "Gain curve")
    axes.legend(loc="lower right")
    return figure


def churn_reliability_curve(
    churned: Any,
    churn_probability: Any,
    *,
    n_bins: int = 10,
    title: str | None = None,
) -> Figure:
    """Reliability diagram: observed churn rate against predicted churn probability.

    Probabilities are cut into ``n_bins`` equal-width bins on [0, 1]; each point is a
    bin's mean predicted probability against its observed churn rate (empty bins are
    skipped). A calibrated model lies on the diagonal. The lower panel shows how many
    customers fall in each bin.

    Parameters
    ----------
    churned : pandas.Series or array-like of bool
        Whether each customer made no purchase in the holdout.
    churn_probability : pandas.Series, array-like, or mapping of str to those
        Predicted churn probabilities of one model or of several models by name.
    n_bins : int, default 10
        Number of bins.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_number("n_bins", n_bins, low=2, integer=True)
    figure = new_figure(6.0, 6.0)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], color="grey", linestyle=":", label="Perfectly calibrated")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    for name, values in named_predictions(churn_probability, "model").items():
        y, p = aligned(churned, values, ("churned", name))
        if not np.isin(y, (0.0, 1.0)).all():
            raise InvalidDataError("'churned' must hold only 0/1 (or False/True) labels.")
        if ((p < 0) | (p > 1)).any():
            raise InvalidDataError(f"The churn probabilities of {name!r} must lie in [0, 1].")
        bins = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
        frame = (
            pd.DataFrame({"bin": bins, "p": p, "y": y})
            .groupby("bin")
            .agg(predicted=("p", "mean"), observed=("y", "mean"), count=("y", "size"))
        )
        top.plot(frame["predicted"], frame["observed"], marker="o", label=name)
        bottom.hist(p, bins=edges, histtype="step", label=name)
    top.set_ylabel("Observed churn rate")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_title(title or "Churn reliability")
    top.legend(loc="upper left")
    bottom.set_xlabel("Predicted churn probability (no purchase in the horizon)")
    bottom.set_ylabel("Customers")
    return figure
