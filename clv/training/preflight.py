"""Check a training's settings and data before any training or MLflow run.

``clv train`` used to find a bad model name only when registering, after the whole
training, leaving a failed run and an orphaned model. :func:`check_training_settings`
checks every argument of :func:`clv.training.train.train` -- dates, time unit,
horizon, discount rate, model kinds, model and experiment names, column names,
and the MLflow store (:func:`clv.training.stores.check_store`) -- in well under a
second; the ``clv train`` command calls it before it even reads the log, and
:func:`~clv.training.train.train` calls it first. :func:`check_enough_customers`
then refuses a log too small to train on (fewer than :data:`MIN_CUSTOMERS`
customers with a purchase in the calibration period) before any model is fitted.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clv._validation import check_number, check_time_unit
from clv.errors import InvalidDataError, InvalidParameterError, describe_examples
from clv.features._calendar import duration
from clv.features._contract import (
    AMOUNT,
    CUSTOMER_ID,
    TIMESTAMP,
    to_day_number,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MIN_CUSTOMERS",
    "TRAINING_SETTINGS",
    "TrainingSettings",
    "check_columns",
    "check_discount_rate",
    "check_enough_customers",
    "check_model_name",
    "check_positive",
    "check_training_settings",
]

#: Fewest customers with a purchase in the calibration period that a training accepts.
MIN_CUSTOMERS = 10

_NAME_FORBIDDEN = ("/", ":", "@")


@dataclass(frozen=True)
class TrainingSettings:
    """The checked settings of one training.

    Attributes
    ----------
    calibration_text, holdout_text : str
        The two boundary days, ISO formatted.
    holdout_length : float
        Holdout length in ``time_unit``.
    horizon : float
        Default horizon of the served model (the holdout length if not given).
    kinds : list of str or None
        The candidate kinds (``None``: all available).
    tracking_uri : str
        The resolved, checked MLflow store.
    """

    calibration_text: str
    holdout_text: str
    holdout_length: float
    horizon: float
    kinds: list[str] | None
    tracking_uri: str


def check_positive(name: str, value: object, *, integer: bool = False) -> float:
    """Return ``value`` as a float if it is a finite number > 0 (whole if ``integer``: 3.0 is)."""
    if integer and isinstance(value, float) and value.is_integer():
        value = int(value)
    return check_number(name, value, low_open=True, integer=integer)


def check_discount_rate(discount_rate: object, *, optional: bool = True) -> None:
    """Refuse a discount rate that is not a finite number >= 0 (or ``None`` if optional)."""
    if discount_rate is not None or not optional:
        check_number("discount_rate", discount_rate)


def check_columns(columns: Sequence[object]) -> None:
    """Refuse customer id, timestamp and amount column names that are not three strings."""
    if not all(isinstance(name, str) and name for name in columns) or len(set(columns)) != 3:
        raise InvalidParameterError(
            f"The customer id, timestamp and amount columns must differ. Got {list(columns)}."
        )


def check_model_name(name: object, what: str = "model name") -> str:
    """Return a registered model (or experiment) name, or refuse it.

    Raises
    ------
    clv.errors.InvalidParameterError
        If it is not a string, is empty, has surrounding spaces, or contains
        ``/``, ``:`` or ``@`` (which MLflow model URIs use as separators).
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterError(f"The {what} must be a non-empty string. Got {name!r}.")
    if name != name.strip() or name in (".", ".."):
        raise InvalidParameterError(f"The {what} {name!r} must not be '.', '..' or padded.")
    forbidden = [char for char in _NAME_FORBIDDEN if char in name]
    if forbidden and what == "model name":
        raise InvalidParameterError(
            f"The {what} {name!r} must not contain {', '.join(map(repr, forbidden))} "
            "(models:/NAME@ALIAS and models:/NAME/VERSION use them)."
        )
    return name


def check_training_settings(
    *,
    calibration_end: object,
    holdout_end: object,
    time_unit: str = "W",
    tracking_uri: str | None = None,
    experiment: str = "clv",
    model_name: str = "clv",
    kinds: Sequence[str] | str | None = None,
    horizon: float | None = None,
    discount_rate: float = 0.0,
    margin: float = 1.0,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str = AMOUNT,
) -> TrainingSettings:
    """Check every setting of :func:`clv.training.train.train` (same names).

    A ``kinds`` given as one string (``"bg_nbd"``) means that one kind.

    Returns
    -------
    TrainingSettings

    Raises
    ------
    clv.errors.InvalidParameterError
        For the first invalid setting, or an MLflow store that cannot be used.
    """
    from clv.mlflow_model.margin import check_margin
    from clv.training.compare import checked_kinds
    from clv.training.stores import check_store, resolve_tracking_uri

    check_time_unit(time_unit, "DWM")
    check_model_name(model_name)
    check_model_name(experiment, "experiment name")
    check_columns([customer_id, timestamp, amount])
    start = to_day_number(calibration_end, "calibration_end")
    end = to_day_number(holdout_end, "holdout_end")
    calibration_text = _date_text(start)
    holdout_text = _date_text(end)
    holdout_length = float(duration(start, end, time_unit))
    if holdout_length <= 0:
        raise InvalidParameterError(
            f"The 'holdout_end' date ({holdout_text}) must be after 'calibration_end' "
            f"({calibration_text})."
        )
    horizon = check_positive("horizon", holdout_length if horizon is None else horizon)
    check_discount_rate(discount_rate, optional=False)
    check_margin(margin)
    chosen = None if kinds is None else checked_kinds(kinds)
    uri = check_store(resolve_tracking_uri(tracking_uri), create=True)
    return TrainingSettings(calibration_text, holdout_text, holdout_length, horizon, chosen, uri)


#: The settings :func:`check_training_settings` checks (the rest -- data policies --
#: are checked where they are applied).
TRAINING_SETTINGS = tuple(inspect.signature(check_training_settings).parameters)


def _date_text(day: float) -> str:
    import pandas as pd

    return pd.Timestamp(int(day), unit="D").date().isoformat()


def check_enough_customers(transactions: pd.DataFrame, calibration_end: object) -> None:
    """Refuse a log with fewer than :data:`MIN_CUSTOMERS` customers in the calibration period.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The log with canonical column names (after the data policies).
    calibration_end : date-like
        Last day of the calibration period.

    Raises
    ------
    clv.errors.InvalidDataError
    """
    from clv.features._contract import prepare_transactions

    prepared = prepare_transactions(transactions, amount=None)
    first = prepared.events.groupby(CUSTOMER_ID, sort=False)["t"].min()
    observed = first[first < prepared.day_of(calibration_end, "calibration_end") + 1]
    if len(observed) < MIN_CUSTOMERS:
        shown = describe_examples(observed.index) or "none"
        raise InvalidDataError(
            f"Only {len(observed)} customer(s) have a purchase by the calibration end "
            f"({shown}); training needs at least {MIN_CUSTOMERS}. Use a longer log or a later "
            "--calibration-end."
        )
