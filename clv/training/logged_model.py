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
    """Return the metadata, a five-row input example and the signature of the model to log.

    The required columns are the candidate's ``input_columns`` when it has them.
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
    """Log the candidate and its segments (rules and actions) as the run's pyfunc model; its URI."""
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
