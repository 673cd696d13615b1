"""Diagnostic plots, headless-safe.

Every function builds a :class:`matplotlib.figure.Figure` attached to an Agg canvas
and returns it: no pyplot, no global state, no backend switching, so the plots work
in batch jobs, servers and notebooks alike (in Jupyter, run `%matplotlib inline` once to see a returned figure).
Write one with :func:`save_figure`, or log it with ``mlflow.log_figure``.

This module imports matplotlib (the ``clv[plots]`` extra); ``import clv``,
``clv.models`` and ``clv.training`` never do.

Probabilistic-model diagnostics (Fader, Hardie & Lee 2005):

* :func:`probability_alive_matrix` -- P(alive) over frequency and recency.
* :func:`expected_vs_actual_by_frequency` -- holdout purchases by calibration frequency.
* :func:`cumulative_tracking` -- cumulative repeat purchases over time, predicted
  against actual.

Holdout comparison of any models (see :mod:`clv.training.evaluation`):

* :func:`decile_chart`, :func:`gain_curve`, :func:`churn_reliability_curve`.

Scoring: :func:`clv_by_segment`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from clv.errors import InvalidDataError, InvalidParameterError, describe_examples
from clv.models.segments import segment_summary
from clv.training.evaluation import prediction_buckets, ranked_with_ties_averaged

__all__ = [
    "churn_reliability_curve",
    "clv_by_segment",
    "cohort_heatmap",
    "cumulative_tracking",
    "decile_chart",
    "expected_vs_actual_by_frequency",
    "gain_curve",
    "holdout_count_histogram",
    "probability_alive_matrix",
    "save_figure",
]

_UNIT_NAMES = {"D": "days", "W": "weeks", "Y": "years"}
_UNIT_DAYS = {"D": 1.0, "W": 7.0}


def _compact_number(value: float, _position: object = None) -> str:
    """Tick label such as 950, 12k, 3.4M."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _figure(width: float = 7.0, height: float = 4.5) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 100) -> Path:
    """Write a figure to a file; the format follows the extension (PNG by default).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure from this module (or any matplotlib figure).
    path : str or pathlib.Path
        Destination, e.g. ``"plots/gain.png"``; parent folders are created.
    dpi : int, default 100
        Resolution of raster formats.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if not isinstance(fig, Figure):
        raise InvalidParameterError(
            f"save_figure needs a matplotlib Figure; got {type(fig).__name__}."
        )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if fig.canvas is None or type(fig.canvas).__name__ == "FigureCanvasBase":
        FigureCanvasAgg(fig)
    fig.savefig(target, dpi=dpi, format=target.suffix[1:].lower() or "png")
    return target


# ---------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------


def _transaction_model(model: Any) -> Any:
    for candidate in (model, getattr(model, "transaction_model_", None)):
        if candidate is not None and hasattr(candidate, "expected_purchases_new_customer"):
            if getattr(candidate, "discrete_time", False):
                raise InvalidParameterError(
                    f"{type(candidate).__name__} counts discrete opportunities; this plot "
                    "needs a continuous-time model (BG/NBD, MBG/NBD, Pareto/NBD)."
                )
            if not hasattr(candidate, "params_"):
                raise InvalidParameterError(
                    f"The {type(candidate).__name__} is not fitted yet: fit it first."
                )
            return candidate
    raise InvalidParameterError(
        "This plot needs a fitted continuous-time transaction model (BG/NBD, MBG/NBD, "
        f"Pareto/NBD); got {type(model).__name__}."
    )


def _time_unit(model: Any, table: pd.DataFrame | None) -> str | None:
    unit = getattr(model, "time_unit_", None)
    if unit is None and table is not None:
        unit = table.attrs.get("time_unit")
    return unit


def _series(values: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        series = values
    else:
        array = np.asarray(values)
        if array.ndim != 1:
            raise InvalidDataError(f"'{name}' must be one-dimensional; got shape {array.shape}.")
        series = pd.Series(array)
    try:
        series = series.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidDataError(f"'{name}' must be numeric; got dtype {series.dtype}.") from None
    bad = ~np.isfinite(series.to_numpy())
    if bad.any():
        raise InvalidDataError(
            f"'{name}' has {int(bad.sum())} missing or infinite value(s) "
            f"({describe_examples(series.index[bad])})."
        )
    if len(series) == 0:
        raise InvalidDataError(f"'{name}' is empty: there is nothing to plot.")
    return series


def _aligned(actual: Any, predicted: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Two vectors, aligned on the first one's index when both are Series."""
    a = _series(actual, names[0])
    p = _series(predicted, names[1])
    if isinstance(actual, pd.Series) and isinstance(predicted, pd.Series):
        missing = a.index.difference(p.index, sort=False)
        if len(missing):
            raise InvalidDataError(
                f"{len(missing)} customers in '{names[0]}' have no value in '{names[1]}' "
                f"({describe_examples(missing)})."
            )
        p = p.loc[a.index]
    elif len(a) != len(p):
        raise InvalidDataError(
            f"'{names[0]}' and '{names[1]}' must have the same length; got {len(a)} and {len(p)}."
        )
    return a.to_numpy(), p.to_numpy()


def _named(predicted: Any, default: str) -> dict[str, Any]:
    if isinstance(predicted, Mapping):
        if not predicted:
            raise InvalidDataError("No predictions to plot: the mapping is empty.")
        return {str(name): values for name, values in predicted.items()}
    name = predicted.name if isinstance(predicted, pd.Series) and predicted.name else default
    return {str(name): predicted}


# ---------------------------------------------------------------------------------------
# probabilistic-model diagnostics
# ---------------------------------------------------------------------------------------


def probability_alive_matrix(
    model: Any,
    table: pd.DataFrame | None = None,
    *,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    title: str | None = None,
) -> Figure:
    """Heat map of P(alive) by frequency and recency, for a customer observed ``T = max_recency``.

    Parameters
    ----------
    model : BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel
        A fitted continuous-time transaction model.
    table : pandas.DataFrame, optional
        The customer table it was fitted on; gives the default ranges (largest
        ``frequency`` and ``T``).
    max_frequency : int, optional
        Largest frequency shown (rows); required without ``table``.
    max_recency : float, optional
        Largest recency shown (columns), also the age ``T`` of every cell; required
        without ``table``.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    A customer with frequency 0 has recency 0 by definition; that row shows the
    one value for every recency.
    """
    transaction_model = _transaction_model(model)
    if table is not None:
        max_frequency = int(table["frequency"].max()) if max_frequency is None else max_frequency
        max_recency = float(table["T"].max()) if max_recency is None else max_recency
    if max_frequency is None or max_recency is None:
        raise InvalidParameterError(
            "probability_alive_matrix needs the customer table or both 'max_frequency' and "
            "'max_recency'."
        )
    if not (isinstance(max_frequency, int | np.integer) and max_frequency >= 1):
        raise InvalidParameterError(
            f"The 'max_frequency' parameter must be an int >= 1. Got {max_frequency!r} instead."
        )
    if not (isinstance(max_recency, int | float) and np.isfinite(max_recency) and max_recency > 0):
        raise InvalidParameterError(
            f"The 'max_recency' parameter must be a positive float. Got {max_recency!r} instead."
        )
    frequencies = np.arange(0, int(max_frequency) + 1)
    recencies = np.linspace(0.0, float(max_recency), 60)
    f_grid, r_grid = np.meshgrid(frequencies, recencies, indexing="ij")
    r_grid = np.where(f_grid == 0, 0.0, r_grid)
    grid = pd.DataFrame(
        {
            "frequency": f_grid.ravel().astype(np.int64),
            "recency": r_grid.ravel(),
            "T": np.full(f_grid.size, float(max_recency)),
        }
    )
    unit = _time_unit(transaction_model, table)
    if unit is not None:
        grid.attrs["time_unit"] = unit
    alive = transaction_model.probability_alive(grid).to_numpy().reshape(f_grid.shape)

    figure = _figure(7.0, 5.0)
    axes = figure.add_subplot()
    image = axes.imshow(
        alive,
        origin="lower",
        aspect="auto",
        vmin=0.0,
        vmax=1.0,
        cmap="viridis",
        extent=(0.0, float(max_recency), -0.5, max_frequency + 0.5),
    )
    figure.colorbar(image, ax=axes, label="P(alive)")
    unit_name = _UNIT_NAMES.get(unit or "", "time units")
    axes.set_xlabel(f"Recency ({unit_name} from first to last purchase)")
    axes.set_ylabel("Frequency (repeat purchases)")
    axes.set_title(
        title
        or f"Probability alive by frequency and recency\n{type(transaction_model).__name__}, "
        f"T = {max_recency:g} {unit_name}"
    )
    return figure


def expected_vs_actual_by_frequency(
    model: Any,
    table: pd.DataFrame,
    *,
    max_frequency: int = 7,
    title: str | None = None,
) -> Figure:
    """Mean holdout purchases by calibration frequency, predicted against actual.

    Parameters
    ----------
    model : fitted transaction model or pandas.Series
        A fitted BG/NBD-family model (its ``expected_purchases`` over the holdout
        length is used), or the predicted holdout purchases themselves (any model),
        indexed like ``table`` or by ``customer_id``.
    table : pandas.DataFrame
        Output of :func:`clv.features.calibration_holdout_split`.
    max_frequency : int, default 7
        Frequencies above this are pooled into one "max_frequency+" group.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    for column in ("customer_id", "frequency", "holdout_frequency", "holdout_duration"):
        if column not in table.columns:
            raise InvalidDataError(
                f"The table is missing column {column!r}; build it with "
                "clv.features.calibration_holdout_split."
            )
    if not (isinstance(max_frequency, int | np.integer) and max_frequency >= 1):
        raise InvalidParameterError(
            f"The 'max_frequency' parameter must be an int >= 1. Got {max_frequency!r} instead."
        )
    index = pd.Index(table["customer_id"].to_numpy(), name="customer_id")
    if isinstance(model, pd.Series):
        # indexed like the table (what the models return) or keyed by customer_id
        expected = model.set_axis(index) if model.index.equals(table.index) else model
        label = str(model.name or "model")
    else:
        transaction_model = _transaction_model(model)
        expected = transaction_model.expected_purchases(
            table, float(table["holdout_duration"].iloc[0])
        ).set_axis(index)  # predictions keep the table's index; key them by customer here
        label = type(transaction_model).__name__
    actual, predicted = _aligned(
        pd.Series(table["holdout_frequency"].to_numpy(dtype=np.float64), index=index),
        expected,
        ("holdout_frequency", "predicted"),
    )
    groups = np.minimum(table["frequency"].to_numpy(), max_frequency)
    frame = pd.DataFrame({"group": groups, "actual": actual, "predicted": predicted})
    means = frame.groupby("group").mean().sort_index()
    counts = frame.groupby("group").size().sort_index()
    labels = [f"{int(g)}+" if g == max_frequency else str(int(g)) for g in means.index]

    figure = _figure()
    axes = figure.add_subplot()
    positions = np.arange(len(means))
    axes.plot(positions, means["actual"], marker="o", label="Actual")
    axes.plot(positions, means["predicted"], marker="s", linestyle="--", label=label)
    axes.set_xticks(positions, [f"{name}\n(n={n})" for name, n in zip(labels, counts, strict=True)])
    axes.set_xlabel("Purchases in the calibration period (frequency)")
    axes.set_ylabel("Mean purchases in the holdout")
    axes.set_title(title or "Holdout purchases by calibration frequency")
    axes.legend()
    return figure


def cumulative_tracking(
    model: Any,
    table: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    calibration_end: object,
    end: object | None = None,
    customer_id: str = "customer_id",
    timestamp: str = "timestamp",
    title: str | None = None,
) -> Figure:
    """Cumulative repeat purchases of the cohort over time, predicted against actual.

    The classic tracking plot of Fader, Hardie & Lee (2005, Figure 3): for the
    customers of ``table``, actual repeat purchases (same-day purchases merged)
    accumulated at the end of every time unit, against the model's
    ``sum_i E[X(t - first_i)]``, the expected repeat purchases of each customer since
    their first purchase, with no conditioning on their history.

    Parameters
    ----------
    model : BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel
        Fitted on ``table``.
    table : pandas.DataFrame
        The calibration customer table (defines the cohort; its ``attrs["time_unit"]``
        or the model's gives the time unit, "D" or "W").
    transactions : pandas.DataFrame
        The transaction log (validated by the transaction contract).
    calibration_end : date-like
        Last calibration day, marked with a vertical line.
    end : date-like, optional
        Last day plotted (inclusive); default the last transaction.
    customer_id, timestamp : str
        The log's column names.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from clv.features._contract import prepare_transactions
    from clv.features._definitions import purchase_events

    transaction_model = _transaction_model(model)
    unit = _time_unit(transaction_model, table)
    if unit not in _UNIT_DAYS:
        raise InvalidParameterError(
            "cumulative_tracking needs the time unit 'D' or 'W' on the model or the table "
            f"(attrs['time_unit']); got {unit!r}."
        )
    unit_days = _UNIT_DAYS[unit]
    if "customer_id" not in table.columns:
        raise InvalidDataError("The customer table is missing column 'customer_id'.")
    prepared = prepare_transactions(
        transactions, customer_id=customer_id, timestamp=timestamp, amount=None
    )
    split_day = prepared.day_of(calibration_end, "calibration_end")
    last_day = (
        float(np.floor(prepared.events["t"].max())) if end is None else prepared.day_of(end, "end")
    )
    if last_day <= split_day:
        raise InvalidParameterError(
            f"The 'end' date ({end}) must be after 'calibration_end' ({calibration_end})."
        )
    purchases = purchase_events(prepared.events, start=-np.inf, end=last_day + 1.0 - 1e-9)
    cohort = purchases[purchases["customer_id"].isin(set(table["customer_id"].tolist()))]
    if cohort.empty:
        raise InvalidDataError("No transactions of the table's customers were found in the log.")
    days = np.floor(cohort["t"].to_numpy())
    first = cohort.groupby("customer_id", sort=False)["t"].transform("min").to_numpy()
    repeat_days = days[cohort["t"].to_numpy() > first]
    first_days = np.floor(cohort.groupby("customer_id", sort=False)["t"].min().to_numpy())

    start = float(first_days.min())
    n_steps = int(np.ceil((last_day + 1.0 - start) / unit_days))
    step_ends = start + unit_days * np.arange(1, n_steps + 1)  # exclusive day bounds
    step_ends[-1] = min(step_ends[-1], last_day + 1.0)
    actual = np.searchsorted(np.sort(repeat_days), step_ends, side="left").astype(np.float64)

    unique_first, counts = np.unique(first_days, return_counts=True)
    # a first purchase on day d is observed from the end of day d on
    ages = np.clip(step_ends[None, :] - (unique_first[:, None] + 1.0), 0.0, None) / unit_days
    distinct, inverse = np.unique(ages, return_inverse=True)
    curve = np.asarray(transaction_model.expected_purchases_new_customer(distinct))
    predicted = counts @ curve[inverse.reshape(ages.shape)]

    x = (step_ends - start) / unit_days
    unit_name = _UNIT_NAMES[unit]
    figure = _figure(8.0, 4.5)
    axes = figure.add_subplot()
    axes.plot(x, actual, label="Actual")
    axes.plot(x, predicted, linestyle="--", label=type(transaction_model).__name__)
    axes.axvline(
        (split_day + 1.0 - start) / unit_days,
        color="grey",
        linestyle=":",
        label="End of calibration",
    )
    axes.set_xlabel(f"{unit_name.capitalize()} since the cohort's first purchase")
    axes.set_ylabel("Cumulative repeat purchases")
    axes.set_title(title or "Tracking cumulative repeat purchases")
    axes.legend()
    return figure


# ---------------------------------------------------------------------------------------
# holdout comparison
# ---------------------------------------------------------------------------------------


def decile_chart(
    actual: Any,
    predicted: Any,
    *,
    n_buckets: int = 10,
    quantity: str = "spend",
    title: str | None = None,
) -> Figure:
    """Mean predicted against mean actual value per prediction decile.

    The buckets are those of :func:`clv.training.evaluation.decile_mape`
    (:func:`~clv.training.evaluation.prediction_buckets`): equal-sized by
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
    a, p = _aligned(actual, predicted, ("actual", "predicted"))
    buckets = prediction_buckets(p, n_buckets)
    frame = pd.DataFrame({"bucket": buckets + 1, "actual": a, "predicted": p})
    means = frame.groupby("bucket").mean().sort_index()

    figure = _figure()
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
    value, as in :func:`clv.training.evaluation.normalized_gini`, whose numerator is
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
    figure = _figure(6.0, 5.0)
    axes = figure.add_subplot()
    a = _series(actual, "actual").to_numpy()
    if (a < 0).any():
        raise InvalidDataError("'actual' must be non-negative for a gain curve.")
    for name, values in _named(predicted, "model").items():
        y, p = _aligned(actual, values, ("actual", name))
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
    if not (isinstance(n_bins, int | np.integer) and n_bins >= 2):
        raise InvalidParameterError(
            f"The 'n_bins' parameter must be an int >= 2. Got {n_bins!r} instead."
        )
    figure = _figure(6.0, 6.0)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], color="grey", linestyle=":", label="Perfectly calibrated")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    for name, values in _named(churn_probability, "model").items():
        y, p = _aligned(churned, values, ("churned", name))
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


def clv_by_segment(predictions_with_segment: pd.DataFrame, *, title: str | None = None) -> Figure:
    """CLV distribution by segment: box plots, and each segment's total CLV.

    Parameters
    ----------
    predictions_with_segment : pandas.DataFrame
        Predictions with ``clv`` and ``segment`` columns (see
        :class:`clv.models.segments.SegmentRules`).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    summary = segment_summary(predictions_with_segment)
    names = summary.index.tolist()
    frame = predictions_with_segment
    values = [
        frame.loc[frame["segment"] == name, "clv"].to_numpy(dtype=np.float64) for name in names
    ]
    labels = [f"{name}\n(n={count})" for name, count in zip(names, summary["count"], strict=True)]

    figure = _figure(11.0, 4.5)
    left, right = figure.subplots(1, 2)
    left.boxplot(values, orientation="horizontal", showfliers=False)
    left.set_yticks(np.arange(1, len(names) + 1), labels)
    left.invert_yaxis()
    left.set_xlabel("CLV per customer (whiskers: 1.5 IQR; outliers hidden)")
    left.set_title("Distribution")
    positions = np.arange(len(names))
    colours = ["tab:red" if str(name).endswith("at risk") else "tab:blue" for name in names]
    right.barh(positions, summary["total_clv"], color=colours)
    right.set_yticks(positions, [str(name) for name in names])
    right.invert_yaxis()
    right.set_xlabel("Total CLV")
    right.set_title("Total (red: at risk)")
    for axis in (left, right):  # few, compact money ticks: long ones ran into each other
        axis.xaxis.set_major_locator(MaxNLocator(nbins=4))
        axis.xaxis.set_major_formatter(FuncFormatter(_compact_number))
    figure.suptitle(title or "Customer lifetime value by segment")
    return figure


def holdout_count_histogram(
    histogram: pd.DataFrame,
    measures: Mapping[str, float] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Plot customers by holdout purchases: the model's predicted number beside the actual.

    Parameters
    ----------
    histogram : pandas.DataFrame
        ``predicted`` and ``actual`` per purchase count, from
        :func:`clv.models.count_calibration.count_calibration`.
    measures : mapping, optional
        Its randomised-PIT coverage, shown in the title.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    positions = np.arange(len(histogram))
    figure = _figure()
    axes = figure.add_subplot()
    axes.bar(positions - 0.2, histogram["actual"], width=0.4, label="actual")
    axes.bar(positions + 0.2, histogram["predicted"], width=0.4, label="predicted")
    axes.set_xticks(positions, [str(label) for label in histogram.index])
    axes.set_xlabel("Purchases in the holdout")
    axes.set_ylabel("Customers")
    axes.legend()
    text = title or "Holdout purchases: predicted distribution against actual"
    if measures:
        text += (
            f"\nrandomised PIT in [.05, .95]: {measures['pit_90']:.3f} (0.90), "
            f"in [.25, .75]: {measures['pit_50']:.3f} (0.50)"
        )
    axes.set_title(text)
    return figure


def cohort_heatmap(
    table: pd.DataFrame, value: str = "active_rate", *, title: str | None = None
) -> Figure:
    """Plot a cohort x age heatmap of one measure of :func:`clv.features.cohorts.cohort_table`.

    Parameters
    ----------
    table : pandas.DataFrame
        A cohort table (index ``cohort``, ``age``), e.g. with the model's
        ``expected_repeat_purchases`` from
        :func:`clv.models.cohort_activity.cohort_expected_activity`.
    value : str, default "active_rate"
        The column to show; unobserved cells stay blank.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if value not in table.columns:
        raise InvalidParameterError(
            f"The cohort table has no column {value!r}; columns: {list(table.columns)}."
        )
    grid = table[value].unstack("age")
    figure = _figure(9.0, max(3.0, 0.35 * len(grid) + 1.5))
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(grid.to_numpy(dtype=np.float64)), aspect="auto")
    axes.set_yticks(np.arange(len(grid)), [str(label) for label in grid.index])
    step = max(1, len(grid.columns) // 12)
    axes.set_xticks(np.arange(0, len(grid.columns), step), grid.columns[::step])
    unit = {"M": "months", "W": "weeks"}.get(table.attrs.get("period"), "periods")
    axes.set_xlabel(f"Age ({unit} since acquisition)")
    axes.set_ylabel("Acquisition cohort")
    figure.colorbar(image, ax=axes, label=value)
    axes.set_title(title or f"{value} by cohort and age (blank: not yet observed)")
    return figure
