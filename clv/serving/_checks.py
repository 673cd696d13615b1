"""Checks of a request's raw values against the model's signature, before MLflow sees them.

MLflow's scoring route converts what it receives to the signature's types, and some
conversions change the request silently: ``1.5`` sent as a ``long`` customer id is
answered as customer ``1``; ``true`` sent for a ``double`` feature becomes ``1.0``; an
integer id sent where the signature declares strings comes back as text. These
functions look at the values as the client sent them (parsed JSON, or the CSV or
parquet table) and refuse such requests with a message that names the column and
the rows, never the values. Params are checked against the params the model
declares (name and type), so a model that declares more params needs no change here.
"""

from __future__ import annotations

import math
import re
from io import BytesIO
from typing import Any

__all__ = [
    "BadRequest",
    "check_ids_came_back",
    "check_json_values",
    "check_params",
    "check_table_ids",
    "column_kinds",
    "json_columns",
    "row_count",
]

CUSTOMER_ID = "customer_id"
_INTEGER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)")


class BadRequest(Exception):
    """A request refused with ``status`` and a short ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _rows(positions: list[int]) -> str:
    shown = ", ".join(str(row) for row in positions[:5])
    more = f" and {len(positions) - 5} more" if len(positions) > 5 else ""
    count = len(positions)
    return f"{count} row{'s' if count > 1 else ''} (row{'s' if count > 1 else ''} {shown}{more})"


def _kind(type_name: str) -> str | None:
    name = type_name.lower()
    if "long" in name or "integer" in name:
        return "integer"
    if "double" in name or "float" in name or name == "any":
        return "number"  # clv declares required counts ``any`` (pyfunc_model.build_signature)
    if "string" in name:
        return "string"
    if "bool" in name:
        return "boolean"
    return None


def column_kinds(model: Any) -> dict[str, str]:
    """Map each input column of a pyfunc's signature to integer, number, string or boolean."""
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return {}
    kinds = {}
    for spec in schema.inputs:
        kind = _kind(str(spec.type))
        if kind is not None:
            kinds[str(spec.name)] = kind
    return kinds


def json_columns(payload: dict[str, Any]) -> dict[str, list[Any]] | None:
    """Return the columns of a JSON request as sent (name -> values); ``None`` if not a table."""
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        if not isinstance(split, dict):
            return None
        names, rows = split.get("columns"), split.get("data")
        if not isinstance(names, list) or not isinstance(rows, list):
            return None
        if not all(isinstance(row, list) and len(row) == len(names) for row in rows):
            return None
        return {
            str(name): [row[index] for row in rows]
            for index, name in enumerate(names)
            if isinstance(name, str)
        }
    records = payload.get("dataframe_records", payload.get("instances", payload.get("inputs")))
    if isinstance(records, dict):
        if not all(isinstance(values, list) for values in records.values()):
            return None
        return {str(name): list(values) for name, values in records.items()}
    if isinstance(records, list) and all(isinstance(record, dict) for record in records):
        names = dict.fromkeys(name for record in records for name in record)
        return {str(name): [record.get(name) for record in records] for name in names}
    return None


def row_count(payload: Any, kind: str) -> int | None:
    """Count the rows of a request (JSON, CSV or parquet); ``None`` if it cannot tell."""
    if kind == "json":
        if "dataframe_split" in payload:
            data = payload["dataframe_split"]
            data = data.get("data") if isinstance(data, dict) else None
            return len(data) if isinstance(data, list) else None
        columns = json_columns(payload)
        if columns is None:
            values = payload.get("instances", payload.get("inputs"))
            return len(values) if isinstance(values, list) else None
        return max((len(values) for values in columns.values()), default=0)
    if kind == "csv":
        return max(0, sum(1 for line in BytesIO(payload) if line.strip()) - 1)
    if kind == "parquet":
        try:
            import pyarrow.parquet as pq

            return pq.ParquetFile(BytesIO(payload)).metadata.num_rows
        except Exception:  # noqa: BLE001 - unreadable: MLflow's route explains
            return None
    return None


def _integral_float(value: Any) -> bool:
    return type(value) is float and value.is_integer() and abs(value) <= 2.0**53


def _same_id(sent: Any, answered: Any) -> bool:
    if type(sent) is float and type(answered) is int:
        return _integral_float(sent) and sent == answered
    return type(sent) is type(answered) and sent == answered


_ALLOWED = {
    # Values MLflow would convert silently to the column's type are refused; null and
    # text in a numeric column are left to the model, which names the problem itself.
    # An integral float (12.0) is the same id; a fractional one (1.5) would be truncated.
    "integer": lambda value: value is None or type(value) is int or _integral_float(value),
    "number": lambda value: type(value) is not bool,
    "string": lambda value: value is None or type(value) is str,
    "boolean": lambda value: value is None or type(value) is bool,
}
_EXPECTED = {
    "integer": "integers",
    "number": "numbers",
    "string": "text (JSON strings)",
    "boolean": "booleans",
}


def check_json_values(columns: dict[str, list[Any]], kinds: dict[str, str]) -> None:
    """Refuse values that MLflow would convert silently (see the module docstring).

    Raises
    ------
    BadRequest
        400, naming the columns and rows.
    """
    problems = []
    for name, kind in kinds.items():
        values = columns.get(name)
        if values is None:
            continue
        allowed = _ALLOWED[kind]
        wrong = [row for row, value in enumerate(values) if not allowed(value)]
        if wrong:
            what = "booleans" if kind == "number" else f"values that are not {_EXPECTED[kind]}"
            problems.append(
                f"column '{name}' must hold {_EXPECTED[kind]} (the model's signature): "
                f"{_rows(wrong)} hold{'s' if len(wrong) == 1 else ''} {what}"
            )
    if problems:
        raise BadRequest(400, "Invalid input: " + "; ".join(problems) + ".")


def check_params(given: Any, model: Any) -> None:
    """Check the request's params against those the model declares (name and type).

    Declared ``double`` params must be finite JSON numbers (not booleans, text or
    infinities); the model checks their ranges. Params the model does not declare
    are ignored, as MLflow does.

    Raises
    ------
    BadRequest
        400, naming the params.
    """
    if not given:
        return
    schema = model.metadata.get_params_schema()
    problems = []
    for spec in schema.params if schema is not None else ():
        if spec.name not in given:
            continue
        value = given[spec.name]
        kind = _kind(str(spec.dtype))
        if kind in ("number", "integer") and spec.shape is None:
            number = type(value) in (int, float) and math.isfinite(value)
            if not number or (kind == "integer" and type(value) is not int):
                problems.append(f"'{spec.name}' must be a finite {_EXPECTED[kind][:-1]}")
        elif kind == "string" and spec.shape is None and type(value) is not str:
            problems.append(f"'{spec.name}' must be text")
        elif kind == "boolean" and spec.shape is None and type(value) is not bool:
            problems.append(f"'{spec.name}' must be true or false")
    if problems:
        raise BadRequest(400, "Invalid params: " + "; ".join(problems) + ".")


def _sent_ids(payload: Any, kind: str) -> list[Any] | None:
    import pandas as pd

    try:
        if kind == "csv":
            frame = pd.read_csv(
                BytesIO(payload), usecols=[CUSTOMER_ID], dtype=str, keep_default_na=False
            )
            return frame[CUSTOMER_ID].tolist()
        if kind == "parquet":
            return pd.read_parquet(BytesIO(payload), columns=[CUSTOMER_ID])[CUSTOMER_ID].tolist()
    except Exception:  # noqa: BLE001 - the ids cannot be read back: refused below
        return None
    columns = json_columns(payload)
    return None if columns is None else columns.get(CUSTOMER_ID)


def check_table_ids(payload: bytes, kind: str, kinds: dict[str, str]) -> None:
    """Refuse a CSV or parquet body whose ids are not of the signature's type.

    Raises
    ------
    BadRequest
        400, naming the rows whose ids MLflow would convert.
    """
    expected = kinds.get(CUSTOMER_ID)
    sent = _sent_ids(payload, kind) if expected in ("integer", "string") else None
    if not sent:
        return
    if expected == "integer":
        if kind == "csv":
            wrong = [row for row, value in enumerate(sent) if not _INTEGER_TEXT.fullmatch(value)]
        else:
            wrong = [row for row, value in enumerate(sent) if type(value) is not int]
    else:
        wrong = [] if kind == "csv" else [r for r, v in enumerate(sent) if type(v) is not str]
    if wrong:
        raise BadRequest(
            400,
            f"Invalid input: column '{CUSTOMER_ID}' must hold {_EXPECTED[expected]} (the "
            f"model's signature): {_rows(wrong)} do{'es' if len(wrong) == 1 else ''} not.",
        )


def check_ids_came_back(payload: Any, kind: str, predictions: list[Any]) -> None:
    """Refuse an answer whose customer ids are not exactly those of the request.

    Parameters
    ----------
    payload : dict or bytes
        The parsed JSON request, or the CSV or parquet body.
    kind : {"json", "csv", "parquet"}
    predictions : list
        The answer's records (``{"customer_id": ..., ...}``).

    Raises
    ------
    BadRequest
        400 if an id would come back changed (a fractional or text id truncated or
        converted by MLflow to the signature's type).
    """
    if not predictions or not isinstance(predictions[0], dict):
        return
    if CUSTOMER_ID not in predictions[0]:
        return
    answered = [record.get(CUSTOMER_ID) for record in predictions]
    sent = _sent_ids(payload, kind)
    if sent is None or len(sent) != len(answered):
        raise BadRequest(
            400, f"The request's '{CUSTOMER_ID}' column could not be matched with the answer."
        )
    if kind == "csv":
        changed = [
            row for row, (a, b) in enumerate(zip(sent, answered, strict=True)) if a != str(b)
        ]
    else:
        changed = [
            row for row, (a, b) in enumerate(zip(sent, answered, strict=True)) if not _same_id(a, b)
        ]
    if changed:
        raise BadRequest(
            400,
            f"Column '{CUSTOMER_ID}': {_rows(changed)} would not come back as sent "
            "(the model's signature converts them); send ids of the signature's type.",
        )
