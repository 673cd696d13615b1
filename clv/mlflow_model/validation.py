"""The served model's input rules: one check of a customer feature table before scoring.

:func:`validate_features` (a DataFrame) and :func:`validated_columns` (the columns
as arrays, for the endpoint's fast path) run the same checker. Every rule is
computed once, as a mask of offending rows over one 2-D block of the numeric
columns; a message is written only when a mask has a row, and every problem found
is reported in one :class:`~clv.errors.InvalidDataError` naming the column, the
count and a few customer ids.

The rules: the required columns are present and the table has rows; no null
``customer_id``; every numeric column is a number (not text, not a boolean),
not null and finite; ``frequency``, ``recency``, ``T``, ``monetary_value`` and the
model's ``nonnegative_columns`` are not negative; ``frequency`` is a whole number
no larger than 2**53; ``recency`` is at most ``T``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clv.errors import InvalidDataError, describe_examples

__all__ = ["MAX_FREQUENCY", "to_model_input", "validate_features", "validated_columns"]

CUSTOMER_ID = "customer_id"
#: The largest ``frequency`` accepted: beyond 2**53 a float no longer holds every
#: integer, and the count would not survive its conversion to int64.
MAX_FREQUENCY = 2.0**53
#: RFM columns with a rule of their own; every other numeric column must be finite,
#: and non-negative when the metadata says so.
_RFM_NONNEGATIVE = ("frequency", "recency", "T", "monetary_value")


def _ids(labels: np.ndarray | None, mask: np.ndarray) -> str:
    """Describe a few offending customer ids (or row numbers), shortened, for a message."""
    if labels is not None:
        values = labels[mask]
        label = "customers"
    else:
        values = np.flatnonzero(mask)
        label = "rows"
    shown = describe_examples(str(value)[:24] for value in pd.unique(values))
    return f"{label} {shown}"


def _rows(count: int, verb: str = "are") -> str:
    singular = {"are": "is", "have": "has"}[verb]
    return f"{count} row {singular}" if count == 1 else f"{count} rows {verb}"


def _as_frame(model_input: Any) -> pd.DataFrame:
    if isinstance(model_input, pd.DataFrame):
        return model_input
    if isinstance(model_input, Mapping) or (
        isinstance(model_input, Sequence) and not isinstance(model_input, str | bytes)
    ):
        try:
            return pd.DataFrame(model_input)
        except (TypeError, ValueError) as exc:
            raise InvalidDataError(
                "The input must be a table of customer features (one row per customer)."
            ) from exc
    raise InvalidDataError(
        "The input must be a table of customer features (one row per customer); "
        f"got {type(model_input).__name__}."
    )


def _array_columns(model_input: Any) -> dict[str, np.ndarray] | None:
    """Return ``model_input`` as a dict if it maps names to equally long 1-D numpy arrays."""
    if not isinstance(model_input, Mapping) or not model_input:
        return None
    lengths = set()
    for value in model_input.values():
        if not isinstance(value, np.ndarray) or value.ndim != 1:
            return None
        lengths.add(len(value))
    return dict(model_input) if len(lengths) == 1 else None


def _columns_of(
    model_input: Any, columns: Sequence[str]
) -> tuple[dict[str, Any], np.ndarray | None]:
    """Return the required columns (Series or arrays) and the customer ids, if any."""
    arrays = _array_columns(model_input)
    source: Any = arrays if arrays is not None else _as_frame(model_input)
    present = set(source.keys()) if arrays is not None else set(source.columns)
    missing = [name for name in columns if name not in present]
    if missing:
        raise InvalidDataError(
            f"The input lacks {len(missing)} of the {len(columns)} feature column(s): "
            + ", ".join(f"'{name}'" for name in missing[:10])
            + (" ..." if len(missing) > 10 else "")
            + "."
        )
    raw = {name: source[name] for name in columns}
    if CUSTOMER_ID in raw:
        labels = np.asarray(raw[CUSTOMER_ID])
    elif CUSTOMER_ID in present:
        labels = np.asarray(source[CUSTOMER_ID])
    else:
        labels = None
    return raw, labels


def _numbers(raw: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """``float64`` values of one column and its text mask (``None``: a numeric dtype)."""
    dtype = raw.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu":
        return np.asarray(raw, dtype="float64"), None
    series = raw if isinstance(raw, pd.Series) else pd.Series(raw)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return values, np.isnan(values) & ~series.isna().to_numpy()


def _late(recency: np.ndarray, age: np.ndarray) -> np.ndarray:
    return recency > age * (1 + 1e-12) + 1e-9


def _null_ids(raw: dict[str, Any]) -> list[str]:
    if CUSTOMER_ID not in raw:
        return []
    ids = raw[CUSTOMER_ID]
    if isinstance(ids.dtype, np.dtype) and ids.dtype.kind in "iub":
        return []
    null = np.asarray(pd.isna(ids), dtype=bool)
    if not null.any():
        return []
    return [
        f"column '{CUSTOMER_ID}': {_rows(int(null.sum()), 'have')} a null customer id "
        f"(rows {describe_examples(np.flatnonzero(null)).removeprefix('e.g. ')})"
    ]


def _rule_masks(
    names: list[str], block: np.ndarray, finite: np.ndarray, nonnegative: Sequence[str]
) -> list[tuple[str, str, np.ndarray]]:
    """Compute the value rules: ``(column, what is wrong, offending rows)`` each."""
    row = {name: index for index, name in enumerate(names)}
    rules = [
        (name, "negative", finite[row[name]] & (block[row[name]] < 0))
        for name in dict.fromkeys([*_RFM_NONNEGATIVE, *nonnegative])
        if name in row
    ]
    if "frequency" in row:
        ok, values = finite[row["frequency"]], block[row["frequency"]]
        rules.append(("frequency", "fractional", ok & (values != np.floor(values))))
        rules.append(("frequency", "larger than 2**53", ok & (values > MAX_FREQUENCY)))
    if "recency" in row and "T" in row:
        both = finite[row["recency"]] & finite[row["T"]]
        rules.append(("recency", "> T", both & _late(block[row["recency"]], block[row["T"]])))
    return rules


def _rule_message(name: str, what: str, mask: np.ndarray, labels: np.ndarray | None) -> str:
    count = int(mask.sum())
    if what == "> T":
        who = _ids(labels, mask).split(" ", 1)[1]
        return f"{count} customer{'s have' if count > 1 else ' has'} recency > T ({who})"
    if what == "fractional":
        return (
            f"column 'frequency' counts repeat purchases: {_rows(count)} fractional "
            f"({_ids(labels, mask)})"
        )
    return f"column '{name}': {_rows(count)} {what} ({_ids(labels, mask)})"


def validated_columns(
    model_input: Any,
    *,
    columns: Sequence[str],
    categorical: Sequence[str] = (),
    nonnegative: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """:func:`validate_features` without building a DataFrame: the columns as 1-D arrays.

    Numeric ones ``float64``, ``frequency`` ``int64``, in order.
    """
    raw, labels = _columns_of(model_input, columns)
    n_rows = len(next(iter(raw.values()))) if raw else 0
    if n_rows == 0:
        raise InvalidDataError("The input has no rows: there is no customer to score.")
    problems = _null_ids(raw)
    skip = {CUSTOMER_ID, *categorical}
    names, values, texts = [], [], {}
    for name in columns:
        if name in skip:
            continue
        if pd.api.types.is_bool_dtype(raw[name].dtype):
            problems.append(f"column '{name}' must be numeric; it holds booleans")
            continue
        numbers, text = _numbers(raw[name])
        names.append(name)
        values.append(numbers)
        if text is not None:
            texts[name] = text
    block = np.vstack(values) if values else np.empty((0, n_rows))
    finite = np.isfinite(block)
    rules = _rule_masks(names, block, finite, nonnegative)
    if problems or not finite.all() or any(mask.any() for _, _, mask in rules):
        for index in np.flatnonzero(~finite.all(axis=1)):
            name, column = names[index], block[index]
            text, nan = texts.get(name), np.isnan(column)
            masks = {
                "not numeric": text,
                "null": nan if text is None else nan & ~text,
                "infinite": np.isinf(column),
            }
            problems += [
                f"column '{name}': {_rows(int(mask.sum()))} {what} ({_ids(labels, mask)})"
                for what, mask in masks.items()
                if mask is not None and mask.any()
            ]
        problems += [_rule_message(*rule, labels) for rule in rules if rule[2].any()]
        raise InvalidDataError("Invalid customer features: " + "; ".join(problems) + ".")
    numeric = dict(zip(names, block, strict=True))
    data = {name: numeric[name] if name in numeric else np.asarray(raw[name]) for name in columns}
    if "frequency" in numeric:
        data["frequency"] = numeric["frequency"].astype("int64")
    return data


def validate_features(
    model_input: Any,
    *,
    columns: Sequence[str],
    categorical: Sequence[str] = (),
    nonnegative: Sequence[str] = (),
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Check a customer feature table before scoring, and return a clean copy.

    Every problem found is reported in one :class:`~clv.errors.InvalidDataError`
    naming the column, how many rows and a few customer ids, instead of a NaN or an
    error from deep inside a model (the rules: the module docstring).

    Parameters
    ----------
    model_input : pandas.DataFrame or dict or list of records
        The customer feature table (one row per customer); a dict of equally long
        1-D numpy arrays is read without building a DataFrame first.
    columns : sequence of str
        The feature columns the model was trained with (``customer_id`` first).
    categorical : sequence of str, optional
        Pass-through attribute columns that are not numeric.
    nonnegative : sequence of str, optional
        Further numeric columns that must not be negative (counts, amounts,
        durations). ``frequency``, ``recency``, ``T`` and ``monetary_value``
        always must not be.
    time_unit : str, optional
        Stored in the result's ``attrs["time_unit"]``.

    Returns
    -------
    pandas.DataFrame
        The required columns in training order (extra columns dropped); numeric
        columns as ``float64``, ``frequency`` as ``int64``.

    Raises
    ------
    clv.errors.InvalidDataError
        For any broken rule (the module docstring lists them).
    """
    data = validated_columns(
        model_input, columns=columns, categorical=categorical, nonnegative=nonnegative
    )
    # One constructor call: inserting the columns one by one costs ~10 ms per request.
    n_rows = len(next(iter(data.values())))
    result = pd.DataFrame(data, index=pd.RangeIndex(n_rows))
    if time_unit is not None:
        result.attrs["time_unit"] = time_unit
    return result


def to_model_input(features: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``features``, integer and boolean columns but ``customer_id`` as float64.

    Models logged by an earlier clv declared every numeric feature ``double``, and
    MLflow refuses ``int64`` for ``double``; for today's models it does no harm.
    """
    if not isinstance(features, pd.DataFrame):
        raise InvalidDataError(
            f"The features must be a pandas DataFrame; got {type(features).__name__}."
        )
    columns = {
        name: "float64"
        for name, dtype in features.dtypes.items()
        if name != CUSTOMER_ID
        and (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
    }
    result = features.astype(columns) if columns else features.copy()
    result.attrs = dict(features.attrs)
    return result
