"""Plots of customer summaries, headless-safe: CLV by segment, cohorts by age."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from clv.errors import InvalidParameterError
from clv.models.segments import segment_summary
from clv.plots._figures import compact_number, new_figure


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

    figure = new_figure(11.0, 4.5)
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
        axis.xaxis.set_major_formatter(FuncFormatter(compact_number))
    figure.suptitle(title or "Customer lifetime value by segment")
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
    figure = new_figure(9.0, max(3.0, 0.35 * len(grid) + 1.5))
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
