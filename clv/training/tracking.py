"""What a clv training logs to MLflow: the dataset, the candidate runs, the plots.

The parent run (one per training): the training parameters, the dataset
(an MLflow dataset input: the transaction log's schema and a digest of its full
content -- not the data), package versions, the comparison table (CSV and
Markdown), the tag ``clv.best_model``, the gate decision, and the model
(:mod:`clv.training.packaging`).
One child run per candidate, tagged ``clv.model`` = its kind: its parameters, its
fit diagnostics (``diagnostics.json`` and the numeric ones as metrics, prefixed
``fit.``), the holdout metrics named as in
:data:`clv.training.evaluation.METRIC_NAMES`, and plots as PNG files (skipped when
matplotlib is not installed).

Each function logs into the run it is given, a
:class:`clv.training.store_client.TrackedRun`. Which store and how clv reaches it:
:mod:`clv.training.stores` and :mod:`clv.training.store_client` (this module still
exports their old names).
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
from clv.training.store_client import TrackedRun, ensure_experiment
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


def log_dataset(
    run: TrackedRun, transactions: pd.DataFrame, *, name: str, source: str | None, digest: str
) -> None:
    """Log the transaction log as the run's training input: its schema, row count and digest."""
    # An empty frame with the same columns: MLflow records the schema and our digest;
    # neither the rows nor MLflow's own sampled digest are computed. The origin goes
    # in a tag (a path given as ``source`` would be guessed among several source types).
    tags = {"n_rows": str(len(transactions)), "source": source or "in-memory DataFrame"}
    run.log_dataset(transactions.head(0), name=name, digest=digest, context="training", tags=tags)


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
    run: TrackedRun,
    kind: str,
    candidate: Any,
    metrics: Mapping[str, Any],
    *,
    plots: Mapping[str, Callable[[], Any]] | None = None,
    warn: Callable[[str], None] | None = None,
) -> None:
    """Log one candidate into its child run: tag ``clv.model``, params, metrics, plots.

    Its ``get_params()`` (if any) become run params, its ``diagnostics()`` the ``fit.*``
    metrics (booleans as tags) and ``diagnostics.json``; ``plots`` maps a file name to a
    function drawing a figure, and ``warn`` is told about a plot that cannot be drawn.
    """
    params = {"kind": kind}
    get_params = getattr(candidate, "get_params", None)
    if callable(get_params):
        params.update({k: str(v)[:500] for k, v in _flatten(get_params()).items()})
    values = {
        _metric_name(name): number
        for name, value in metrics.items()
        if (number := _number(value)) is not None
    }
    tags = {"clv.model": kind}
    diagnostics = candidate.diagnostics() if hasattr(candidate, "diagnostics") else {}
    for name, value in _flatten(diagnostics).items():
        number = _number(value)
        if number is not None:
            values[_metric_name(f"fit.{name}")] = number
        if isinstance(value, bool | np.bool_):
            tags[f"fit.{name}"[:250]] = str(bool(value)).lower()
    run.log(params=params, metrics=values, tags=tags)
    run.log_dict(jsonable(diagnostics), "diagnostics.json")
    for file_name, draw in (plots or {}).items():
        log_figure(run, draw, file_name, warn=warn)


def log_figure(
    run: TrackedRun,
    draw: Callable[[], Any],
    file_name: str,
    *,
    warn: Callable[[str], None] | None = None,
) -> bool:
    """Draw a figure and log it as ``plots/<file_name>`` of the run; ``True`` if logged.

    ``False`` (and ``warn`` told) when matplotlib or an optional package it needs is missing.
    """
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
    run.log_figure(figure, f"plots/{file_name}")
    return True


def log_comparison(run: TrackedRun, table: pd.DataFrame, markdown: str) -> None:
    """Log the comparison table of the parent run as ``comparison.csv`` and ``comparison.md``."""
    run.log_text(table.to_csv(index_label="model"), "comparison.csv")
    run.log_text(markdown, "comparison.md")
