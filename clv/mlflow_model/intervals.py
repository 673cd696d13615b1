"""Prediction intervals as optional output columns of the served model and ``clv score``.

A request (endpoint ``params``, ``clv score --interval``, ``score_spark(interval=)``)
that gives ``interval``, a level in (0, 1) such as 0.9, gets five more columns after
``clv``:

``purchases_lower``, ``purchases_upper``
    The central prediction interval of the customer's purchases in the horizon (a
    count; :meth:`clv.models._predictive.PredictiveMixin.purchases_interval`).
``clv_lower``, ``clv_upper``
    The central prediction interval of the customer's value over the horizon, from the
    transaction model's distribution of purchases and Gamma-Gamma's posterior
    distribution of spend, discounted and times ``margin`` as ``clv`` is
    (:mod:`clv.models._value_intervals`).
``interval``
    The level, on every row (as ``margin`` says what ``clv`` is).

``purchases_lower <= expected_purchases <= purchases_upper`` and ``clv_lower <= clv
<= clv_upper`` on every row, and a higher level gives a wider interval. These are
predictive intervals given the fitted parameters (parameter uncertainty is the Python
API's ``parameter_interval``). Only the BTYD kinds (``bg_nbd``, ``mbg_nbd``,
``pareto_nbd``) have a predictive distribution; another kind refuses ``interval``
with :class:`~clv.errors.InvalidParameterError` (a 400 at the endpoint), as does a
model logged before clv served intervals. Without ``interval`` nothing changes.
The signature declares ``interval`` as a ``double`` param without a default and the
five columns as optional outputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clv.errors import InvalidParameterError
from clv.mlflow_model.params import check_param

__all__ = [
    "INTERVAL",
    "INTERVAL_COLUMNS",
    "INTERVAL_KINDS",
    "check_interval",
    "check_model_interval",
    "interval_arrays",
    "output_columns",
    "signature_parts",
]

#: The request parameter (and output column) giving the level.
INTERVAL = "interval"
#: The bound columns, in output order (then :data:`INTERVAL`).
INTERVAL_COLUMNS = ("purchases_lower", "purchases_upper", "clv_lower", "clv_upper")
#: The kinds with a predictive distribution of purchases.
INTERVAL_KINDS = ("bg_nbd", "mbg_nbd", "pareto_nbd")


def check_interval(value: Any) -> float | None:
    """Return the level asked for (a number in (0, 1), else raise), ``None`` for no interval."""
    if value is None:
        return None
    note = ", e.g. 0.9 for 90 % intervals"
    return check_param(INTERVAL, value, low_open=True, high=1.0, high_open=True, note=note)


def output_columns(columns: tuple[str, ...] | list[str], interval: bool) -> list[str]:
    """``columns`` with the interval columns after ``clv`` when ``interval`` is asked for."""
    columns = list(columns)
    if not interval:
        return columns
    at = columns.index("clv") + 1
    return [*columns[:at], *INTERVAL_COLUMNS, INTERVAL, *columns[at:]]


def _no_distribution(kind: object) -> InvalidParameterError:
    return InvalidParameterError(
        f"The 'interval' parameter needs a model with a predictive distribution "
        f"({', '.join(INTERVAL_KINDS)}); this model is {kind!r}."
    )


def check_model_interval(model: Any, value: Any) -> float:
    """Return the level ``value`` once sure, before any work, a loaded clv pyfunc can give it.

    Refused: a level outside (0, 1), a kind without a predictive distribution, and a
    model logged before clv served intervals (its signature lacks ``interval``: MLflow
    would drop the param and answer without intervals).
    """
    level = check_interval(value)
    if level is None:
        raise InvalidParameterError("The 'interval' parameter must be a level in (0, 1).")
    schema = model.metadata.get_params_schema()
    if schema is None or not any(spec.name == INTERVAL for spec in schema.params):
        raise InvalidParameterError(
            "This model was logged before clv served prediction intervals (its signature "
            "has no 'interval' param): retrain it to score intervals."
        )
    kind = model.unwrap_python_model().metadata.get("kind")
    if kind not in INTERVAL_KINDS:
        raise _no_distribution(kind)
    return level


def interval_arrays(
    candidate: Any,
    features: Any,
    *,
    level: float,
    horizon: float,
    discount_rate: float,
    margin: float,
    point: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Compute :data:`INTERVAL_COLUMNS` and :data:`INTERVAL` for one scoring call.

    Each interval is widened to contain the scored ``point`` (``expected_purchases`` and
    ``clv`` times ``margin``; floating point only: the candidate's intervals contain its
    point values). A kind without a predictive distribution is refused.
    """
    method = getattr(candidate, "prediction_intervals", None)
    if method is None:
        raise _no_distribution(getattr(candidate, "name", None))
    bounds = method(features, horizon=horizon, level=level, discount_rate=discount_rate)
    purchases = point["expected_purchases"]
    value = point["clv"]
    return {
        "purchases_lower": np.minimum(bounds["purchases_lower"].to_numpy(), purchases),
        "purchases_upper": np.maximum(bounds["purchases_upper"].to_numpy(), purchases),
        "clv_lower": np.minimum(margin * bounds["clv_lower"].to_numpy(), value),
        "clv_upper": np.maximum(margin * bounds["clv_upper"].to_numpy(), value),
        INTERVAL: np.full(len(value), level),
    }


def signature_parts() -> tuple[Any, list[Any]]:
    """Return the ``interval`` param spec and the optional output column specs."""
    from mlflow.types import ColSpec, DataType, ParamSpec

    param = ParamSpec(INTERVAL, DataType.double, None)
    outputs = [
        ColSpec(DataType.double, name, required=False) for name in (*INTERVAL_COLUMNS, INTERVAL)
    ]
    return param, outputs
