"""Register the trained model as a new version and run the champion gate on it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from clv.features._calendar import duration
from clv.features._contract import CUSTOMER_ID, to_day_number
from clv.training.progress import Progress
from clv.training.progress import notify as _notify

__all__ = ["register_and_gate"]


def register_and_gate(
    run: Any,
    model_uri: str,
    inputs: Any,
    *,
    kind: str,
    metrics: Mapping[str, Any],
    actuals: pd.DataFrame,
    progress: Progress | None,
) -> tuple[str, Any]:
    """Register ``model_uri`` (alias ``challenger``), gate it, log the gate into ``run``.

    A champion evaluated on another holdout is judged again on this one (``actuals``).
    Returns the new version and the gate's decision.
    """
    from clv.training import registry

    checked, model_name = inputs.checked, inputs.model_name
    tracking_uri = checked.tracking_uri
    holdout = registry.holdout_tag(
        digest=inputs.digest,
        calibration_end=checked.calibration_text,
        holdout_end=checked.holdout_text,
        time_unit=inputs.time_unit,
    )
    version = registry.register_version(
        model_uri,
        model_name,
        tracking_uri=tracking_uri,
        kind=kind,
        holdout=holdout,
        metrics=metrics,
        run_id=run.run_id,
    )
    _notify(progress, f"registered {model_name} version {version} (alias challenger)")
    decision = registry.apply_gate(
        model_name,
        version,
        tracking_uri=tracking_uri,
        metrics=metrics,
        holdout=holdout,
        reevaluate=lambda champion: _reevaluate_champion(
            champion,
            model_name=model_name,
            transactions=inputs.canonical,
            calibration_end=inputs.calibration_end,
            holdout_end=inputs.holdout_end,
            actuals=actuals,
            tracking_uri=tracking_uri,
        ),
    )
    gate_metrics = {"gate.challenger_score": decision.challenger_score}
    if decision.champion_score is not None:
        gate_metrics["gate.champion_score"] = decision.champion_score
    run.log(
        metrics={k: float(v) for k, v in gate_metrics.items() if math.isfinite(float(v))},
        tags={
            "clv.registered_model": model_name,
            "clv.registered_version": version,
            "clv.gate_decision": "promoted" if decision.promoted else "kept",
            "clv.gate_reason": decision.reason,
            "clv.previous_champion": decision.champion_version or "none",
        },
    )
    _notify(progress, decision.reason)
    return version, decision


def _reevaluate_champion(
    champion: Any,
    *,
    model_name: str,
    transactions: pd.DataFrame,
    calibration_end: object,
    holdout_end: object,
    actuals: pd.DataFrame,
    tracking_uri: str,
) -> Mapping[str, float] | None:
    """Return the champion's metrics on this holdout, or ``None`` if it saw the holdout.

    Used when the champion was evaluated on another holdout (other data or dates):
    the champion model itself predicts from the features as of ``calibration_end``
    and is judged on this holdout -- fair only when it was trained on data that
    ends no later than ``calibration_end``.
    """
    from clv.features.behaviour import customer_features
    from clv.training.evaluation import evaluate_predictions
    from clv.training.store_client import load_registered_model

    model = load_registered_model(model_name, str(champion.version), tracking_uri)
    metadata = model.unwrap_python_model().metadata
    trained_until = to_day_number(metadata["trained_until"], "trained_until")
    if trained_until > to_day_number(calibration_end, "calibration_end"):
        return None
    unit = metadata["time_unit"]
    length = float(
        duration(
            to_day_number(calibration_end, "calibration_end"),
            to_day_number(holdout_end, "holdout_end"),
            unit,
        )
    )
    features = customer_features(transactions, as_of=calibration_end, time_unit=unit)
    missing = [name for name in metadata["feature_columns"] if name not in features.columns]
    if missing:
        return None
    from clv.mlflow_model.validation import to_model_input

    scored = model.predict(
        to_model_input(features[metadata["feature_columns"]]), params={"horizon": length}
    )
    return evaluate_predictions(scored.set_index(CUSTOMER_ID), actuals)
