"""Probabilistic-model diagnostics (Fader, Hardie & Lee 2005), headless-safe.

:func:`probability_alive_matrix`, :func:`expected_vs_actual_by_frequency`,
:func:`cumulative_tracking` and :func:`holdout_count_histogram` (the randomised-PIT
count calibration of :mod:`clv.models.count_calibration`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from clv._validation import DAY_UNITS, TIME_UNIT_NAMES, check_number, require_columns
from clv.errors import InvalidDataError, InvalidParameterError
from clv.plots._figures import aligned, new_figure, time_unit_of, transaction_model_of


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
    transaction_model = transaction_model_of(model)
    if table is not None:
        max_frequency = int(table["frequency"].max()) if max_frequency is None else max_frequency
        max_recency = float(table["T"].max()) if max_recency is None else max_recency
    if max_frequency is None or max_recency is None:
        raise InvalidParameterError(
            "probability_alive_matrix needs the customer table or both 'max_frequency' and "
            "'max_recency'."
        )
    check_number("max_frequency", max_frequency, low=1, integer=True)
    check_number("max_recency", max_recency, low_open=True)
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
    unit = time_unit_of(transaction_model, table)
    if unit is not None:
        grid.attrs["time_unit"] = unit
    alive = transaction_model.probability_alive(grid).to_numpy().reshape(f_grid.shape)

    figure = new_figure(7.0, 5.0)
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
    unit_name = TIME_UNIT_NAMES.get(unit or "", "time units")
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
    require_columns(
        table,
        ("customer_id", "frequency", "holdout_frequency", "holdout_duration"),
        "The table",
        "; build it with clv.features.calibration_holdout_split",
    )
    check_number("max_frequency", max_frequency, low=1, integer=True)
    index = pd.Index(table["customer_id"].to_numpy(), name="customer_id")
    if isinstance(model, pd.Series):
        # indexed like the table (what the models return) or keyed by customer_id
        expected = model.set_axis(index) if model.index.equals(table.index) else model
        label = str(model.name or "model")
    else:
        transaction_model = transaction_model_of(model)
        expected = transaction_model.expected_purchases(
            table, float(table["holdout_duration"].iloc[0])
        ).set_axis(index)  # predictions keep the table's index; key them by customer here
        label = type(transaction_model).__name__
    actual, predicted = aligned(
        pd.Series(table["holdout_frequency"].to_numpy(dtype=np.float64), index=index),
        expected,
        ("holdout_frequency", "predicted"),
    )
    groups = np.minimum(table["frequency"].to_numpy(), max_frequency)
    frame = pd.DataFrame({"group": groups, "actual": actual, "predicted": predicted})
    means = frame.groupby("group").mean().sort_index()
    counts = frame.groupby("group").size().sort_index()
    labels = [f"{int(g)}+" if g == max_frequency else str(int(g)) for g in means.index]

    figure = new_figure()
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

    transaction_model = transaction_model_of(model)
    unit = time_unit_of(transaction_model, table)
    if unit not in DAY_UNITS:
        raise InvalidParameterError(
            "cumulative_tracking needs the time unit 'D' or 'W' on the model or the table "
            f"(attrs['time_unit']); got {unit!r}."
        )
    unit_days = DAY_UNITS[unit]
    require_columns(table, ["customer_id"], "The customer table")
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
    unit_name = TIME_UNIT_NAMES[unit]
    figure = new_figure(8.0, 4.5)
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
    figure = new_figure()
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
