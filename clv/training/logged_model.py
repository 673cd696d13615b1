"""Log the trained model: one pyfunc with its metadata, input example and signature."""

from __future__ import annotations

import importlib.metadata
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from clv.features._contract import CUSTOMER_ID
from clv.mlflow_model.margin import value_basis
from clv.training.progress import Progress, step
from clv.training.report_page import TIME_UNIT_NAMES

__all__ = ["describe_model", "log_model"]


def _clv_version() -> str:
    try:
        return importlib.metadata.version("clv")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown"


def describe_model(
    candidate: Any,
    features: pd.DataFrame,
    *,
    kind: str,
    time_unit: str,
    calibration_text: str,
    holdout_text: str,
    horizon: float,
    discount_rate: float,
    margin: float,
    gate_metric: str,
    holdout_metrics: dict[str, Any],
    digest: str,
) -> tuple[dict[str, Any], pd.DataFrame, Any]:
    """Build the metadata, input example and signature of the model to log.

    Parameters
    ----------
    candidate : clv.candidates.Candidate
        The refitted candidate (its ``input_columns``, when it has them, are the
        columns the model requires).
    features : pandas.DataFrame
        Every customer's features as of the end of training.
    kind : str
        The candidate kind.
    time_unit, calibration_text, holdout_text, horizon, discount_rate, margin
        The training's settings (the served model's defaults).
    gate_metric : str
        The metric of the champion gate.
    holdout_metrics : dict
        The kind's holdout metrics.
    digest : str
        The dataset digest.

    Returns
    -------
    metadata : dict
        Saved with the model (``clv_version``, ``kind``, the columns, ...).
    example : pandas.DataFrame
        Five rows of the required columns.
    signature : mlflow.models.ModelSignature
        :func:`clv.mlflow_model.signature.build_signature`.
    """
    from clv.features.behaviour import FEATURE_COLUMNS
    from clv.mlflow_model.signature import build_signature

    used = getattr(candidate, "input_columns", None) or features.columns
    required = [str(name) for name in features.columns if name in set(used)]
    categorical = [
        name
        for name in features.columns
        if name != CUSTOMER_ID and not pd.api.types.is_numeric_dtype(features[name])
    ]
    metadata = {
        "clv_version": _clv_version(),
        "kind": kind,
        "time_unit": time_unit,
        "calibration_end": calibration_text,
        "holdout_end": holdout_text,
        "trained_until": holdout_text,
        "horizon": float(horizon),
        "discount_rate": float(discount_rate),
        "margin": margin,
        "clv_basis": value_basis(margin),
        "horizon_unit": TIME_UNIT_NAMES.get(time_unit, time_unit),
        # The columns this kind reads (the signature asks for these; any
        # other column of the feature table is ignored).
        "feature_columns": required,
        "input_columns": list(map(str, features.columns)),
        "categorical_columns": categorical,
        "nonnegative_columns": [
            name for name in FEATURE_COLUMNS[1:] if name != "trend" and name in features
        ],
        "gate_metric": gate_metric,
        "holdout_metrics": holdout_metrics,
        "n_customers": len(features),
        "dataset_digest": digest,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    example = features[required].head(5).reset_index(drop=True)
    signature = build_signature(
        example,
        required=required,
        categorical=categorical,
        horizon=horizon,
        discount_rate=discount_rate,
        margin=margin,
    )
    return metadata, example, signature


def log_model(
    candidate: Any,
    features: pd.DataFrame,
    segments: dict[str, Any],
    progress: Progress | None,
    **description: Any,
) -> str:
    """Log the candidate and its segments as one pyfunc into the active run.

    Parameters
    ----------
    candidate : clv.candidates.Candidate
        The refitted candidate.
    features : pandas.DataFrame
        Every customer's features as of the end of training.
    segments : dict
        The fitted segment rules (``SegmentRules.to_dict()``) with their ``actions``.
    progress : callable, optional
        Told about the step.
    **description
        The keywords of :func:`describe_model` after ``features``.

    Returns
    -------
    str
        The URI of the logged model.
    """
    from clv.training import tracking

    metadata, example, signature = describe_model(candidate, features, **description)
    with (
        step(progress, "logging the pyfunc model", "logged the pyfunc model"),
        tempfile.TemporaryDirectory() as folder,
    ):
        candidate_dir = Path(folder) / "candidate"
        candidate.save(candidate_dir)
        info = tracking.log_pyfunc_model(
            candidate_dir=candidate_dir,
            segments=segments,
            metadata=metadata,
            input_example=example,
            signature=signature,
        )
    return info.model_uri
