"""Shared parts of the plots: a headless figure, its file, the checks of their inputs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from clv.errors import InvalidDataError, InvalidParameterError, describe_examples


def compact_number(value: float, _position: object = None) -> str:
    """Tick label such as 950, 12k, 3.4M."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def new_figure(width: float = 7.0, height: float = 4.5) -> Figure:
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


def transaction_model_of(model: Any) -> Any:
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


def time_unit_of(model: Any, table: pd.DataFrame | None) -> str | None:
    unit = getattr(model, "time_unit_", None)
    if unit is None and table is not None:
        unit = table.attrs.get("time_unit")
    return unit


def as_series(values: Any, name: str) -> pd.Series:
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


def aligned(actual: Any, predicted: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Two vectors, aligned on the first one's index when both are Series."""
    a = as_series(actual, names[0])
    p = as_series(predicted, names[1])
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


def named_predictions(predicted: Any, default: str) -> dict[str, Any]:
    if isinstance(predicted, Mapping):
        if not predicted:
            raise InvalidDataError("No predictions to plot: the mapping is empty.")
        return {str(name): values for name, values in predicted.items()}
    name = predicted.name if isinstance(predicted, pd.Series) and predicted.name else default
    return {str(name): predicted}
