"""The model registry: versions, the ``champion`` and ``challenger`` aliases, the gate.

Every training registers a new version of the model name (default ``clv``) and
points the alias ``challenger`` at it. The alias ``champion`` moves to the new
version only when :func:`clv.training.selection.gate` says so: the challenger passes
the selection guards and is no worse than the champion on
:data:`~clv.training.selection.PRIMARY_METRIC` **on the same holdout** -- or there is
no champion yet. A better champion is never demoted automatically;
:func:`promote` is the manual override (``clv promote NAME VERSION``).

Each version carries tags: ``clv.kind``, ``clv.holdout`` (JSON: dataset digest,
calibration end, holdout end, time unit), ``clv.holdout_metrics`` (JSON of its
holdout metrics), and after the gate ``clv.gate_decision`` and ``clv.gate_reason``.
The champion's metrics on the new holdout are its stored ones when its
``clv.holdout`` equals the new one; otherwise the caller re-evaluates it (see
:func:`clv.training.train.train`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from clv.errors import CLVError, InvalidParameterError
from clv.training.store_client import mlflow_client
from clv.training.stores import check_store, resolve_tracking_uri

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "GateDecision",
    "apply_gate",
    "current_champion",
    "promote",
    "register_version",
]

CHAMPION = "champion"
CHALLENGER = "challenger"

TAG_KIND = "clv.kind"
TAG_HOLDOUT = "clv.holdout"
TAG_METRICS = "clv.holdout_metrics"
TAG_DECISION = "clv.gate_decision"
TAG_REASON = "clv.gate_reason"


@dataclass(frozen=True)
class GateDecision:
    """What the gate decided for a new version.

    Attributes
    ----------
    promoted : bool
        Whether ``champion`` now points at the new version.
    reason : str
        One sentence from :func:`clv.training.selection.gate`.
    metric : str
        The gate metric (lower is better).
    challenger_version : str
        The new version.
    challenger_score : float
        Its gate metric on the holdout.
    champion_version : str or None
        The champion before the decision (``None`` if there was none).
    champion_score : float or None
        The previous champion's gate metric on the same holdout, if known.
    """

    promoted: bool
    reason: str
    metric: str
    challenger_version: str
    challenger_score: float
    champion_version: str | None
    champion_score: float | None

    @property
    def champion(self) -> str | None:
        """The version that holds the ``champion`` alias after the decision."""
        return self.challenger_version if self.promoted else self.champion_version


def holdout_tag(*, digest: str, calibration_end: str, holdout_end: str, time_unit: str) -> str:
    """Build the ``clv.holdout`` tag: what makes two holdout evaluations comparable.

    Canonical JSON (sorted keys) of the log's digest
    (:func:`clv.training.tracking.dataset_digest`), the two ISO boundary dates and the
    time unit: equal strings mean the same holdout.
    """
    return json.dumps(
        {
            "digest": digest,
            "calibration_end": calibration_end,
            "holdout_end": holdout_end,
            "time_unit": time_unit,
        },
        sort_keys=True,
    )


def _finite(metrics: Mapping[str, Any]) -> dict[str, float]:
    clean = {}
    for name, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            clean[str(name)] = number
    return clean


def register_version(
    model_uri: str,
    name: str,
    *,
    tracking_uri: str,
    kind: str,
    holdout: str,
    metrics: Mapping[str, Any],
    run_id: str | None = None,
) -> str:
    """Register ``model_uri`` as a new version of ``name``, the challenger; return its number.

    The version is tagged with the candidate ``kind``, its :func:`holdout_tag`, its
    finite holdout ``metrics`` and (for the UI) the ``run_id`` that logged it.
    """
    from mlflow.exceptions import MlflowException

    if not name or not str(name).strip():
        raise InvalidParameterError("The model name must not be empty.")
    tags = {
        TAG_KIND: kind,
        TAG_HOLDOUT: holdout,
        TAG_METRICS: json.dumps(_finite(metrics), sort_keys=True),
    }
    if run_id is not None:
        tags["clv.run_id"] = run_id
    client = mlflow_client(tracking_uri)
    try:
        client.create_registered_model(name)
    except MlflowException as error:
        if error.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    # A logged model's URI (models:/m-...) names it; the version links back to it. Its
    # source is the model's own location: MLflow's SQL registry would look a models:/
    # source up in the process-wide tracking URI, which clv never sets.
    rest = model_uri.removeprefix("models:/")
    model_id = rest if rest != model_uri and rest.startswith("m-") else None
    source = client.get_logged_model(model_id).artifact_location if model_id else model_uri
    version = client.create_model_version(name, source, run_id=run_id, tags=tags, model_id=model_id)
    client.set_registered_model_alias(name, CHALLENGER, version.version)
    return str(version.version)


def current_champion(name: str, *, tracking_uri: str) -> Any | None:
    """Return the ``ModelVersion`` holding the ``champion`` alias of ``name``, or ``None``."""
    from mlflow.exceptions import MlflowException

    client = mlflow_client(tracking_uri)
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def stored_metrics(version: Any, holdout: str) -> dict[str, float] | None:
    """Return the metrics stored in a version's tags if computed on ``holdout``, else ``None``."""
    tags = dict(version.tags or {})
    if tags.get(TAG_HOLDOUT) != holdout or TAG_METRICS not in tags:
        return None
    try:
        return {str(k): float(v) for k, v in json.loads(tags[TAG_METRICS]).items()}
    except (TypeError, ValueError):
        return None


def apply_gate(
    name: str,
    version: str,
    *,
    tracking_uri: str,
    metrics: Mapping[str, Any],
    holdout: str,
    reevaluate: Callable[[Any], Mapping[str, float] | None] | None = None,
) -> GateDecision:
    """Run the champion/challenger gate for a new version and move the alias if it passes.

    ``version`` is already the challenger; ``metrics`` are its holdout metrics on
    ``holdout``. ``reevaluate`` is called with the champion's ``ModelVersion`` when its
    stored metrics are from another holdout, and returns its metrics on this one, or
    ``None`` when it cannot be evaluated fairly (then the champion is kept).
    """
    from clv.training.selection import PRIMARY_METRIC, gate

    client = mlflow_client(tracking_uri)
    champion = current_champion(name, tracking_uri=tracking_uri)
    challenger_metrics = _finite(metrics)
    challenger_score = challenger_metrics.get(PRIMARY_METRIC, math.nan)
    champion_version = None if champion is None else str(champion.version)
    champion_metrics: dict[str, float] | None = None
    if champion is None:
        promoted, reason = gate(challenger_metrics, None)
    else:
        champion_metrics = stored_metrics(champion, holdout)
        if champion_metrics is None and reevaluate is not None:
            found = reevaluate(champion)
            champion_metrics = None if found is None else _finite(found)
        if champion_metrics is None:
            promoted = False
            reason = (
                f"Challenger not promoted: champion version {champion_version} cannot be "
                "evaluated fairly on this holdout (it was trained on data that overlaps it); "
                "compare them yourself and run `clv promote` if the challenger is better."
            )
        else:
            promoted, reason = gate(challenger_metrics, champion_metrics)
    champion_score = None
    if champion_metrics is not None and PRIMARY_METRIC in champion_metrics:
        champion_score = champion_metrics[PRIMARY_METRIC]
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, str(version))
    client.set_model_version_tag(
        name, str(version), TAG_DECISION, "promoted" if promoted else "kept"
    )
    client.set_model_version_tag(name, str(version), TAG_REASON, reason)
    return GateDecision(
        promoted=promoted,
        reason=reason,
        metric=PRIMARY_METRIC,
        challenger_version=str(version),
        challenger_score=challenger_score,
        champion_version=champion_version,
        champion_score=champion_score,
    )


def aliases(name: str, *, tracking_uri: str) -> dict[str, str]:
    """Return the aliases of a registered model: alias (``champion``, ...) -> version."""
    client = mlflow_client(tracking_uri)
    model = client.get_registered_model(name)
    return {alias: str(version) for alias, version in (model.aliases or {}).items()}


def promote(name: str, version: str | int, *, tracking_uri: str | None = None) -> str | None:
    """Move the ``champion`` alias to a version by hand (the gate's override).

    Parameters
    ----------
    name : str
        Registered model name.
    version : str or int
        The version to promote.
    tracking_uri : str, optional
        Tracking (and registry) URI; the embedded SQLite store by default.

    Returns
    -------
    str or None
        The version that was champion before (``None`` if there was none).

    Raises
    ------
    clv.errors.CLVError
        If the model or the version does not exist.
    """
    from mlflow.exceptions import MlflowException

    uri = check_store(resolve_tracking_uri(tracking_uri), create=False)
    client = mlflow_client(uri)
    version = str(version).strip()
    if not version.isdigit():
        raise InvalidParameterError(f"The version must be a positive integer. Got {version!r}.")
    try:
        client.get_model_version(name, version)
    except MlflowException as exc:
        raise CLVError(f"Registered model {name!r} has no version {version} in {uri}.") from exc
    previous = current_champion(name, tracking_uri=uri)
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_model_version_tag(name, version, TAG_DECISION, "promoted by hand")
    client.set_model_version_tag(
        name,
        version,
        TAG_REASON,
        "Promoted by hand"
        + (f" (champion was version {previous.version})." if previous is not None else "."),
    )
    return None if previous is None else str(previous.version)
