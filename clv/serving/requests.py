"""Read a request to ``clv serve``: MLflow's request formats, checked against the signature.

Accepted as by ``mlflow models serve``: ``application/json`` holding exactly one of
``dataframe_split``, ``dataframe_records``, ``instances`` or ``inputs`` and optional
``params``; ``text/csv`` and ``application/vnd.apache.parquet`` (without params).
:func:`read_request` turns the body into one numpy array per feature column and the
params, and refuses with a :class:`~clv.errors.RequestError` what MLflow would convert
silently (fractional or text ids where the signature says integers, integer ids where
it says text, booleans or text in numeric JSON columns, params of another type),
naming the column and rows, never the values. Every other value check is the model's
own (:meth:`clv.mlflow_model.pyfunc_model.CLVModel.predict_columns`). Columns the model
does not read are ignored, as MLflow does.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import numpy as np

from clv.errors import RequestError

__all__ = ["ModelSpec", "content_kind", "parse_json", "read_request"]

_CONTENT_TYPES = {
    "application/json": "json",
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
}
FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
HINT = (
    "send application/json with 'dataframe_split' or 'dataframe_records' "
    "(and optional 'params'), text/csv or application/vnd.apache.parquet"
)
_INTEGER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)")
_INT64 = (-(2**63), 2**63)
_BIGGEST = float(np.finfo(np.float64).max)
_FOUND = {bool: "booleans", str: "text"}
_EXPECTED = {"integer": "integers", "number": "numbers", "string": "text (JSON strings)"}


def _kind(type_name: str) -> str:
    name = type_name.lower()
    if "long" in name or "integer" in name:
        return "integer"
    if "string" in name:
        return "string"
    return "number"  # double, float, and ``any`` (clv declares counts ``any``)


@dataclass(frozen=True)
class ModelSpec:
    """What a request is checked against: the model's feature columns and params.

    ``columns``: the feature columns (``customer_id`` first); ``kinds``: column ->
    ``"integer"``, ``"number"`` or ``"string"``; ``params``: declared param -> kind.
    """

    columns: tuple[str, ...]
    kinds: dict[str, str]
    params: dict[str, str]

    @classmethod
    def from_model(cls, model: Any, metadata: dict[str, Any]) -> ModelSpec:
        """Read the spec of a loaded clv pyfunc (its signature and clv metadata)."""
        schema = model.metadata.get_input_schema()
        declared = {str(spec.name): str(spec.type) for spec in schema.inputs} if schema else {}
        categorical = set(metadata.get("categorical_columns", ()))
        columns = tuple(str(name) for name in metadata["feature_columns"])
        kinds = {
            name: "string" if name in categorical else _kind(declared.get(name, "double"))
            for name in columns
        }
        params_schema = model.metadata.get_params_schema()
        params = {
            spec.name: _kind(str(spec.dtype))
            for spec in (params_schema.params if params_schema is not None else ())
            if spec.shape is None
        }
        return cls(columns, kinds, params)


def _rows(positions: list[int]) -> str:
    shown = ", ".join(str(row) for row in positions[:5])
    more = f" and {len(positions) - 5} more" if len(positions) > 5 else ""
    plural = "s" if len(positions) > 1 else ""
    return f"{len(positions)} row{plural} (row{plural} {shown}{more})"


def _refuse(name: str, kind: str, wrong: list[int], what: str) -> RequestError:
    verb = "holds" if len(wrong) == 1 else "hold"
    return RequestError(
        f"Invalid input: column '{name}' must hold {_EXPECTED[kind]} (the model's "
        f"signature): {_rows(wrong)} {verb} {what}."
    )


def content_kind(content_type: str | None) -> str:
    """Return ``"json"``, ``"csv"`` or ``"parquet"`` for a Content-Type header.

    A missing or other content type, or a charset other than UTF-8, is a 415.
    """
    if content_type is None or not content_type.strip():
        raise RequestError(f"The request has no Content-Type header: {HINT}.", 415)
    parts = [part.strip() for part in content_type.split(";")]
    mime = parts[0].lower()
    if mime not in _CONTENT_TYPES:
        raise RequestError(f"Unsupported Content-Type {mime[:60]!r}: {HINT}.", 415)
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() != "charset" or value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise RequestError(
                f"Unsupported Content-Type parameter {key.strip()[:30]!r}: only charset=utf-8.",
                415,
            )
    return _CONTENT_TYPES[mime]


def parse_json(body: bytes) -> dict[str, Any]:
    """Parse a JSON body into an object holding exactly one of :data:`FORMATS` (else a 400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError(f"The request body is not valid UTF-8 (byte {error.start}).") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(
            f"Malformed JSON: {error.msg} at line {error.lineno} column {error.colno}."
        ) from None
    except RecursionError:
        raise RequestError("Malformed JSON: nested too deeply.") from None
    except ValueError:  # an integer literal longer than Python converts (4,300 digits)
        raise RequestError("Malformed JSON: a number is too long.") from None
    formats = ", ".join(map(repr, FORMATS))
    if not isinstance(payload, dict):
        raise RequestError(
            f"The JSON body must be an object with one of {formats}; "
            f"got a JSON {type(payload).__name__}."
        )
    keys = [key for key in FORMATS if key in payload]
    if len(keys) != 1:
        found = "none" if not keys else " and ".join(map(repr, keys))
        raise RequestError(f"The JSON object must hold exactly one of {formats}; found {found}.")
    params = payload.get("params")
    if params is not None and not isinstance(params, dict):
        raise RequestError("'params' must be a JSON object such as {\"horizon\": 39}.")
    return payload


def _json_columns(payload: dict[str, Any]) -> dict[str, list[Any]]:
    """Return the columns of a JSON request as sent (name -> values)."""
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        names = split.get("columns") if isinstance(split, dict) else None
        rows = split.get("data") if isinstance(split, dict) else None
        if not isinstance(names, list) or not isinstance(rows, list):
            raise RequestError(
                "'dataframe_split' must be an object with 'columns' and 'data' lists."
            )
        if not all(isinstance(name, str) for name in names) or len(set(names)) != len(names):
            raise RequestError("'dataframe_split' 'columns' must be distinct column names.")
        ragged = [
            r for r, row in enumerate(rows) if not isinstance(row, list) or len(row) != len(names)
        ]
        if ragged:
            raise RequestError(
                f"'dataframe_split' 'data': {_rows(ragged)} are not lists of "
                f"{len(names)} values (one per column)."
            )
        return {name: [row[index] for row in rows] for index, name in enumerate(names)}
    key = next(key for key in FORMATS if key in payload)
    records = payload[key]
    if isinstance(records, dict) and all(isinstance(v, list) for v in records.values()):
        lengths = {len(values) for values in records.values()}
        if len(lengths) > 1:
            raise RequestError(f"'{key}' columns must all have the same length.")
        return {str(name): values for name, values in records.items()}
    if isinstance(records, list) and all(isinstance(record, dict) for record in records):
        names = dict.fromkeys(name for record in records for name in record)
        return {str(name): [record.get(name) for record in records] for name in names}
    raise RequestError(
        f"'{key}' must be a list of objects (one per customer) or an object of columns."
    )


def _integral(value: Any) -> bool:
    return type(value) is float and value.is_integer() and abs(value) <= 2.0**53


def _array(name: str, values: list[Any], kind: str) -> np.ndarray:
    """One JSON column as the array the model reads; refuse what MLflow would convert."""
    types = set(map(type, values))
    if kind == "number":
        if types <= {int, float}:
            try:
                return np.array(values, dtype=np.float64)
            except OverflowError:
                wrong = [r for r, v in enumerate(values) if type(v) is int and abs(v) > _BIGGEST]
                raise _refuse(name, kind, wrong, "integers beyond the 64-bit float range") from None
        wrong = [r for r, v in enumerate(values) if type(v) not in (int, float, type(None))]
        if wrong:
            found = sorted({_FOUND.get(type(values[row]), "lists or objects") for row in wrong})
            raise _refuse(name, kind, wrong, " and ".join(found))
        return np.array(values, dtype=object)  # nulls: the model names the rows
    if kind == "string":
        wrong = [
            row for row, value in enumerate(values) if not (value is None or type(value) is str)
        ]
        if wrong:
            raise _refuse(name, kind, wrong, "values that are not text (JSON strings)")
        return np.array(values, dtype=object)
    wrong = [
        row
        for row, value in enumerate(values)
        if not (value is None or type(value) is int or _integral(value))
    ]
    if wrong:
        raise _refuse(name, kind, wrong, "values that are not integers")
    return _integers(name, [int(v) if type(v) is float else v for v in values])


def _integers(name: str, values: list[Any]) -> np.ndarray:
    """Integer ids as int64 (``None`` kept, in an object array, for the model to name)."""
    present = [value for value in values if value is not None]
    outside = [
        row for row, v in enumerate(values) if v is not None and not _INT64[0] <= v < _INT64[1]
    ]
    if outside:
        raise RequestError(
            f"Invalid input: column '{name}': {_rows(outside)} outside the 64-bit integer range."
        )
    if len(present) < len(values):
        return np.array(values, dtype=object)
    return np.array(values, dtype=np.int64)


def _read_table(body: bytes, kind: str, spec: ModelSpec) -> Any:
    import pandas as pd

    ids = [name for name, k in spec.kinds.items() if k in ("integer", "string")]
    try:
        if kind == "csv":
            return pd.read_csv(BytesIO(body), dtype=dict.fromkeys(ids, str))
        return pd.read_parquet(BytesIO(body))
    except UnicodeDecodeError:
        raise RequestError("The CSV body is not valid UTF-8.") from None
    except Exception as error:  # noqa: BLE001 - pandas and pyarrow raise many kinds
        what = "CSV" if kind == "csv" else "parquet"
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise RequestError(f"The body cannot be read as {what} ({first}).") from None


def _table_array(name: str, column: Any, kind: str, csv: bool) -> np.ndarray:
    """One CSV or parquet column as the array the model reads (ids checked as in JSON)."""
    values = column.to_numpy()
    if kind == "number" or (kind == "integer" and values.dtype.kind in "iu"):
        return values
    raw = [None if isinstance(v, float) and math.isnan(v) else v for v in values.tolist()]
    if kind == "string":
        wrong = [] if csv else [r for r, v in enumerate(raw) if not (v is None or type(v) is str)]
        if wrong:
            raise _refuse(name, kind, wrong, "values that are not text")
        return np.array(raw, dtype=object)
    if csv:
        wrong = [r for r, v in enumerate(raw) if v is not None and not _INTEGER_TEXT.fullmatch(v)]
    else:
        wrong = [r for r, v in enumerate(raw) if not (v is None or type(v) is int or _integral(v))]
    if wrong:
        raise _refuse(name, kind, wrong, "values that are not integers")
    return _integers(name, [None if v is None else int(v) for v in raw])


def _check_params(given: dict[str, Any] | None, spec: ModelSpec) -> dict[str, Any]:
    """Return the declared params of a request, type-checked; others are ignored (as MLflow)."""
    problems, params = [], {}
    for name, kind in spec.params.items():
        if given is None or name not in given:
            continue
        value = given[name]
        if kind == "string":
            if type(value) is not str:
                problems.append(f"'{name}' must be text")
        elif type(value) not in (int, float) or not math.isfinite(value):
            problems.append(f"'{name}' must be a finite number")
        elif kind == "integer" and type(value) is not int:
            problems.append(f"'{name}' must be a finite integer")
        params[name] = value
    if problems:
        raise RequestError("Invalid params: " + "; ".join(problems) + ".")
    return params


def read_request(
    body: bytes, kind: str, spec: ModelSpec, max_rows: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Turn a request body of ``kind`` into the model's input columns and params.

    Returns the feature columns present (a missing one is left to the model, which
    names it) and the declared params given. A :class:`~clv.errors.RequestError`
    (400) for an empty or malformed body, more than ``max_rows`` rows, values the
    signature would convert, or params of the wrong type.
    """
    if not body.strip():
        raise RequestError(f"The request body is empty: {HINT}.")
    if kind == "json":
        payload = parse_json(body)
        params = _check_params(payload.get("params"), spec)
        raw = _json_columns(payload)
        rows = max((len(values) for values in raw.values()), default=0)
    else:
        params = {}
        raw = _read_table(body, kind, spec)
        rows = len(raw)
    if rows > max_rows:
        raise RequestError(
            f"The request has {rows:,} rows; at most {max_rows:,} customers are scored per "
            "request (split it, or use clv score for files)."
        )
    present = [name for name in spec.columns if name in raw]
    if kind == "json":
        return {name: _array(name, raw[name], spec.kinds[name]) for name in present}, params
    csv = kind == "csv"
    return {name: _table_array(name, raw[name], spec.kinds[name], csv) for name in present}, params
