"""The checks of clv's arguments and customer tables, written once.

Every public function and estimator checks what it is given with these helpers, so
that one kind of mistake gets one kind of message, naming the parameter, its owner,
the accepted range and the value given (scikit-learn's wording)::

    The 'penalty' parameter of BetaGeoModel must be a float in the range [0, inf).
    Got -1 instead.

Numbers (:func:`check_number`), choices (:func:`check_choice`), time units
(:data:`TIME_UNITS`, the one definition, with :func:`check_time_unit`,
:func:`days_per_unit` and :func:`units_per_year`), fitted state
(:func:`check_is_fitted`), columns (:func:`require_columns`) and the customer table
(:class:`CustomerTable`, :func:`check_sample_weight`). Errors are those of
:mod:`clv.errors`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from clv.errors import InvalidDataError, InvalidParameterError, NotFittedError, describe_examples

__all__ = [
    "DAY_UNITS",
    "TIME_UNITS",
    "TIME_UNIT_NAMES",
    "CustomerTable",
    "check_choice",
    "check_is_fitted",
    "check_number",
    "check_parameters",
    "check_sample_weight",
    "check_time_unit",
    "days_per_unit",
    "require_columns",
    "units_per_year",
]

#: Every time unit clv knows: its length in days and its name. The calendar month
#: ``"M"`` has no fixed length in days (:mod:`clv.features._calendar`): twelve to a year.
TIME_UNITS: dict[str, tuple[float | None, str]] = {
    "D": (1.0, "days"),
    "W": (7.0, "weeks of 7 days"),
    "M": (None, "calendar months"),
    "Y": (365.25, "years of 365.25 days"),
}
#: Each time unit's plural, for labels ("39 weeks").
TIME_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}
#: The units a transaction log is cut into by whole days, with their length in days.
DAY_UNITS: dict[str, float] = {unit: TIME_UNITS[unit][0] for unit in "DW"}  # type: ignore[misc]


def _owned(name: str, owner: str | None) -> str:
    return f"The {name!r} parameter" + (f" of {owner}" if owner else "")


def check_number(
    name: str,
    value: object,
    *,
    owner: str | None = None,
    low: float = 0.0,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool | None = None,
    integer: bool = False,
    note: str = "",
) -> float:
    """Return ``value`` as a float if it is a number in the range; raise otherwise.

    Booleans are not numbers; ``high_open`` defaults to open when ``high`` is infinite
    (``high=inf, high_open=False`` accepts infinity); ``integer`` requires
    ``numbers.Integral``; ``owner`` and ``note`` only enrich the message.
    """
    if high_open is None:
        high_open = math.isinf(high)
    ok = isinstance(value, numbers.Integral if integer else numbers.Real) and not isinstance(
        value, bool
    )
    if ok:
        number = float(value)  # type: ignore[arg-type]
        ok = (number > low if low_open else number >= low) and (
            number < high if high_open else number <= high
        )
    if not ok:
        kind = "an int" if integer else "a float"
        bounds = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise InvalidParameterError(
            f"{_owned(name, owner)} must be {kind} in the range {bounds}{note}. "
            f"Got {value!r} instead."
        )
    return number


def check_parameters(
    owner: str,
    names: Sequence[str],
    params: object,
    aliases: Mapping[str, str] | None = None,
) -> pd.Series:
    """Check a model's known parameters (``from_params``): exactly ``names``, finite, > 0.

    ``aliases`` maps other accepted names (lifetimes') to ours; returns a Series
    indexed by ``names``, named ``"estimate"``.
    """
    given = dict(params.items()) if hasattr(params, "items") else None
    if given is None:
        raise InvalidParameterError(
            f"{owner}.from_params needs a mapping of {', '.join(names)}; "
            f"got {type(params).__name__}."
        )
    renamed = {(aliases or {}).get(str(key), str(key)): value for key, value in given.items()}
    if set(renamed) != set(names):
        raise InvalidParameterError(
            f"{owner} parameters must be exactly {', '.join(names)}; "
            f"got {', '.join(map(str, given))}."
        )
    values = np.array([float(renamed[name]) for name in names])
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InvalidParameterError(
            f"{owner} parameters must be finite and positive; got "
            + ", ".join(f"{n}={v!r}" for n, v in zip(names, values, strict=True))
            + "."
        )
    return pd.Series(values, index=list(names), name="estimate")


def _alternatives(choices: Iterable[object] | Mapping[object, str]) -> str:
    if isinstance(choices, Mapping):
        shown = [f"{key!r} ({meaning})" for key, meaning in choices.items()]
    else:
        shown = [repr(choice) for choice in choices]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def check_choice(
    name: str,
    value: object,
    choices: Sequence[object] | Mapping[object, str],
    *,
    owner: str | None = None,
) -> object:
    """Return ``value`` if it is one of ``choices``, else raise InvalidParameterError.

    A mapping of choices gives each one's meaning in the message.
    """
    if value not in choices:
        raise InvalidParameterError(
            f"{_owned(name, owner)} must be {_alternatives(choices)}. Got {value!r} instead."
        )
    return value


def check_time_unit(time_unit: object, units: str = "DWMY", *, owner: str | None = None) -> str:
    """Return ``time_unit`` if it is one of ``units`` (letters of :data:`TIME_UNITS`)."""
    if time_unit not in list(units):
        meanings = ", ".join(f"{unit!r} {TIME_UNITS[unit][1]}" for unit in units)
        raise InvalidParameterError(
            f"{_owned('time_unit', owner)} must be one of {sorted(units)} ({meanings}). "
            f"Got {time_unit!r} instead."
        )
    return time_unit


def days_per_unit(time_unit: object) -> float:
    """Length in days of a unit a transaction log is cut into: "D" or "W" (else raise)."""
    return DAY_UNITS[check_time_unit(time_unit, "DW")]


def units_per_year(time_unit: object) -> float:
    """Length of one year in ``time_unit`` ('D': 365.25, 'W': 365.25 / 7, 'M': 12, 'Y': 1)."""
    days = TIME_UNITS[check_time_unit(time_unit)][0]
    return 12.0 if days is None else 365.25 / days


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str, hint: str = "") -> None:
    """Raise InvalidDataError naming the ``columns`` that ``frame`` lacks (``what`` lacks)."""
    present = set(frame.columns)  # `in frame.columns` builds a hash table per call
    missing = [name for name in columns if name not in present]
    if missing:
        names = ", ".join(map(repr, missing))
        raise InvalidDataError(f"{what} is missing column(s) {names}{hint}.")


def check_is_fitted(estimator: object, attribute: str, how: str) -> None:
    """Raise NotFittedError unless ``estimator`` has ``attribute``; ``how`` is e.g. ``"fit(X)"``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} is not fitted yet: call {how} first."
        )


class CustomerTable:
    """The customer table's ``columns``, checked numeric, finite and non-negative.

    ``arrays`` holds them (those in ``integer`` as int64, checked whole); ``labels``
    (``customer_id``, else the index) name customers in messages.
    """

    def __init__(self, frame: pd.DataFrame, columns: Sequence[str], integer: Sequence[str]):
        if not isinstance(frame, pd.DataFrame):
            raise InvalidDataError(
                "The customer table must be a pandas DataFrame with columns "
                f"{', '.join(columns)}; got {type(frame).__name__}."
            )
        require_columns(frame, columns, "The customer table", f" (required: {', '.join(columns)})")
        if len(frame) == 0:
            raise InvalidDataError("The customer table has no rows.")
        self.frame = frame
        ids = frame["customer_id"] if "customer_id" in frame.columns else frame.index
        self.labels = ids.to_numpy()
        self.arrays: dict[str, np.ndarray] = {}
        for name in columns:
            series = frame[name]
            if not (
                pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
            ):
                raise InvalidDataError(
                    f"Column {name!r} must be numeric; got dtype {series.dtype}."
                )
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            self.require(np.isfinite(values), f"a missing or infinite {name!r}")
            self.require(values >= 0, f"negative {name!r}")
            if name in integer:
                self.require(values == np.round(values), f"a non-integer {name!r}")
                values = values.astype(np.int64)
            self.arrays[name] = values

    def require(self, ok: np.ndarray, what: str) -> None:
        """Raise :class:`InvalidDataError` naming the customers where ``ok`` is False."""
        if ok.all():
            return
        bad = np.flatnonzero(~ok)
        noun = "customer has" if len(bad) == 1 else "customers have"
        raise InvalidDataError(
            f"{len(bad)} {noun} {what} ({describe_examples(self.labels[bad[:3]])})."
        )

    def check_frequency_recency_T(self) -> None:
        """Check the continuous-time relations ``recency <= T`` and ``x = 0 => t_x = 0``."""
        x, t_x, T = self.arrays["frequency"], self.arrays["recency"], self.arrays["T"]
        self.require(t_x <= T * (1 + 1e-12), "recency > T")
        self.require((x > 0) | (t_x == 0), "frequency 0 but recency != 0")


def check_sample_weight(sample_weight: object, n_rows: int) -> np.ndarray:
    """Return the weights: ones for None, else finite non-negative ones, one per row, not all 0."""
    if sample_weight is None:
        return np.ones(n_rows)
    weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if weights.shape[0] != n_rows:
        raise InvalidDataError(
            f"sample_weight has {weights.shape[0]} values but the customer table has {n_rows} rows."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise InvalidDataError("sample_weight must be finite and non-negative.")
    if weights.sum() <= 0:
        raise InvalidDataError("sample_weight sums to 0: there is no customer to fit.")
    return weights
