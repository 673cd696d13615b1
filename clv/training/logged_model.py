"""Log the trained model: one pyfunc with its metadata, input example and signature."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd

from clv._version import __version__
from clv.features._contract import CUSTOMER_ID
from clv.mlflow_model.margin import value_basis
from clv.training.progress import Progress, step
from clv.training.report_page import TIME_UNIT_NAMES

__all__ = ["describe_model", "log_model"]


def describe_model(
    candidate: Any,
    features: pd.DataFrame,
    inputs: Any,
    *,
    kind: str,
    holdout_metrics: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame, Any]:
    """Build the metadata, input example and signature of the model to log.

    Parameters
    ----------
    candidate : clv.candidates.Candidate
        The refitted candidate (its ``input_columns``, when it has them, are the
        columns the model requires).
    features : pandas.DataFrame
        Every customer's features as of the end of training.
    inputs : clv.training.train._Inputs
        The training's checked settings (the served model's defaults) and the
        dataset digest.
    kind : str
        The candidate kind.
    holdout_metrics : dict
        The kind's holdout metrics.

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
    from clv.training.selection import PRIMARY_METRIC

    checked, time_unit, margin = inputs.checked, inputs.time_unit, inputs.margin

    used = getattr(candidate, "input_columns", None) or features.columns
    required = [str(name) for name in features.columns if name in set(used)]
    categorical = [
        name
        for name in features.columns
        if name != CUSTOMER_ID and not pd.api.types.is_numeric_dtype(features[name])
    ]
    metadata = {
        "clv_version": __version__,
        "kind": kind,
        "time_unit": time_unit,
        "calibration_end": checked.calibration_text,
        "holdout_end": checked.holdout_text,
        "trained_until": checked.holdout_text,
        "horizon": float(checked.horizon),
        "discount_rate": float(inputs.discount_rate),
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
        "gate_metric": PRIMARY_METRIC,
        "holdout_metrics": holdout_metrics,
        "n_customers": len(features),
        "dataset_digest": inputs.digest,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    example = features[required].head(5).reset_index(drop=True)
    signature = build_signature(
        example,
        required=required,
        categorical=categorical,
        horizon=checked.horizon,
        discount_rate=inputs.discount_rate,
        margin=margin,
    )
    return metadata, example, signature


def log_model(
    run: Any,
    candidate: Any,
    features: pd.DataFrame,
    segments: dict[str, Any],
    progress: Progress | None,
    inputs: Any,
    **description: Any,
) -> str:
    """Log the candidate and its segments as one pyfunc model of the run.

    Parameters
    ----------
    run : clv.training.store_client.TrackedRun
        The parent run.
    candidate : clv.candidates.Candidate
        The refitted candidate.
    features : pandas.DataFrame
        Every customer's features as of the end of training.
    segments : dict
        The fitted segment rules (``SegmentRules.to_dict()``) with their ``actions``.
    progress : callable, optional
        Told about the step.
    inputs : clv.training.train._Inputs
        The training's checked settings.
    **description
        ``kind`` and ``holdout_metrics`` (:func:`describe_model`).

    Returns
    -------
    str
        The URI of the logged model.
    """
    from clv.training.packaging import log_pyfunc_model

    metadata, example, signature = describe_model(candidate, features, inputs, **description)
    with step(progress, "logging the pyfunc model", "logged the pyfunc model"):
        return log_pyfunc_model(
            run,
            candidate=candidate,
            segments=segments,
            metadata=metadata,
            input_example=example,
            signature=signature,
        )
