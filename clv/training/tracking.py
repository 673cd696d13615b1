"""What a clv training logs to MLflow: the dataset, the candidate runs, the plots.

The parent run (one per training): the training parameters, the dataset
(``mlflow.log_input`` of the transaction log's schema and a digest of its full
content -- not the data), package versions, the comparison table (CSV and
Markdown), the tag ``clv.best_model``, the gate decision, and the model
(:mod:`clv.training.packaging`).
One child run per candidate, tagged ``clv.model`` = its kind: its parameters, its
fit diagnostics (``diagnostics.json`` and the numeric ones as metrics, prefixed
``fit.``), the holdout metrics named as in
:data:`clv.training.evaluation.METRIC_NAMES`, and plots as PNG files (skipped when
matplotlib is not installed).

These functions log into MLflow's active run; :func:`clv.training.train.train`
opens the runs inside :func:`clv.training.store_client.fluent_tracking`. Which store and
how clv reaches it: :mod:`clv.training.stores` and
:mod:`clv.training.store_client` (this module still exports their old names here). MLflow is imported inside the functions, so ``import clv``
stays light.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from clv.training.packaging import jsonable, log_pyfunc_model, package_versions
from clv.training.store_client import ensure_experiment
from clv.training.store_client import fluent_tracking as tracking_store
from clv.training.stores import (
    DEFAULT_ARTIFACT_DIR,
    DEFAULT_TRACKING_URI,
    artifact_location_for,
    resolve_tracking_uri,
)

__all__ = [
    "DEFAULT_ARTIFACT_DIR",
    "DEFAULT_TRACKING_URI",
    "artifact_location_for",
    "dataset_digest",
    "ensure_experiment",
    "log_candidate_run",
    "log_comparison",
    "log_dataset",
    "log_figure",
    "log_pyfunc_model",
    "package_versions",
    "resolve_tracking_uri",
    "tracking_store",
]


def dataset_digest(frame: pd.DataFrame) -> str:
    """Digest a whole table: column names, dtypes and every value.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    str
        32 hexadecimal characters (fits MLflow's dataset digest column).
    """
    hasher = hashlib.sha256()
    hasher.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    hasher.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return hasher.hexdigest()[:32]


def log_dataset(transactions: pd.DataFrame, *, name: str, source: str | None, digest: str) -> None:
    """Log the transaction log as the active run's training input (schema and digest only).

    Parameters
    ----------
    transactions : pandas.DataFrame
        The canonical transaction log.
    name : str
        Dataset name shown in the UI.
    source : str, optional
        Where the data came from (a path or URI).
    digest : str
        From :func:`dataset_digest`.
    """
    import mlflow

    # An empty frame with the same columns: MLflow records the schema and our digest;
    # neither the rows nor MLflow's own sampled digest are computed. The origin goes
    # in a tag (a path given as ``source`` would be guessed among several source types).
    dataset = mlflow.data.from_pandas(transactions.head(0), name=name, digest=digest)
    tags = {"n_rows": str(len(transactions)), "source": source or "in-memory DataFrame"}
    mlflow.log_input(dataset, context="training", tags=tags)


def _number(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, pd.Series):
            flat.update(_flatten(value.to_dict(), f"{name}."))
        else:
            flat[name] = value
    return flat


def _metric_name(name: str) -> str:
    allowed = "".join(ch if ch.isalnum() or ch in "_-./ " else "_" for ch in name)
    return allowed[:250]


def log_candidate_run(
    kind: str,
    candidate: Any,
    metrics: Mapping[str, Any],
    *,
    plots: Mapping[str, Callable[[], Any]] | None = None,
    warn: Callable[[str], None] | None = None,
) -> None:
    """Log one candidate into the active (child) run.

    Parameters
    ----------
    kind : str
        Candidate kind (also the ``clv.model`` tag).
    candidate : object
        The fitted candidate; its ``get_params()`` (if any) become run params and
        its ``diagnostics()`` the ``fit.*`` metrics and ``diagnostics.json``.
    metrics : mapping
        The candidate's holdout metrics (its row of the comparison table).
    plots : mapping of str to callable, optional
        File name to a function returning a matplotlib figure.
    warn : callable, optional
        Receives a message when a plot cannot be drawn.
    """
    import mlflow

    mlflow.set_tag("clv.model", kind)
    params = {"kind": kind}
    get_params = getattr(candidate, "get_params", None)
    if callable(get_params):
        params.update({k: str(v)[:500] for k, v in _flatten(get_params()).items()})
    mlflow.log_params(params)
    values = {
        _metric_name(name): number
        for name, value in metrics.items()
        if (number := _number(value)) is not None
    }
    diagnostics = candidate.diagnostics() if hasattr(candidate, "diagnostics") else {}
    for name, value in _flatten(diagnostics).items():
        number = _number(value)
        if number is not None:
            values[_metric_name(f"fit.{name}")] = number
        if isinstance(value, bool | np.bool_):
            mlflow.set_tag(f"fit.{name}"[:250], str(bool(value)).lower())
    mlflow.log_metrics(values)
    mlflow.log_dict(jsonable(diagnostics), "diagnostics.json")
    for file_name, draw in (plots or {}).items():
        log_figure(draw, file_name, warn=warn)


def log_figure(
    draw: Callable[[], Any], file_name: str, *, warn: Callable[[str], None] | None = None
) -> bool:
    """Draw a matplotlib figure and log it as a PNG artifact of the active run.

    Parameters
    ----------
    draw : callable
        Returns a :class:`matplotlib.figure.Figure` (called only if matplotlib is
        installed).
    file_name : str
        Name of the PNG under the run's ``plots/`` artifact folder.
    warn : callable, optional
        Receives a message when the plot is skipped.

    Returns
    -------
    bool
        ``True`` if logged; ``False`` (and ``warn`` called) when matplotlib is not
        installed or the plot needs a missing optional package.
    """
    import mlflow

    try:
        import matplotlib  # noqa: F401 - only to know whether plots can be drawn
    except ImportError:
        if warn is not None:
            warn(f"matplotlib is not installed: plot {file_name} skipped")
        return False
    try:
        figure = draw()
    except ImportError as exc:
        if warn is not None:
            warn(f"plot {file_name} skipped: {exc}")
        return False
    mlflow.log_figure(figure, f"plots/{file_name}")
    return True


def log_comparison(table: pd.DataFrame, markdown: str) -> None:
    """Log the comparison table of the active (parent) run as CSV and Markdown.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per candidate kind (index), metric columns.
    markdown : str
        The same table as Markdown (:func:`clv.training.compare.comparison_table`).
    """
    import mlflow

    mlflow.log_text(table.to_csv(index_label="model"), "comparison.csv")
    mlflow.log_text(markdown, "comparison.md")
