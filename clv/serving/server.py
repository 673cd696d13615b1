"""The model endpoint: MLflow's scoring server, with clean 4xx answers to bad requests.

``clv serve`` (:func:`serve`) serves a registered clv model over HTTP with
uvicorn, on loopback by default. The application **is MLflow's scoring server**
(``mlflow.pyfunc.scoring_server.init``, the FastAPI app that ``mlflow models
serve`` runs): the same ``/ping``, ``/health``, ``/version`` and ``/invocations``
endpoints, request formats (``dataframe_split``, ``dataframe_records``,
``instances``, ``inputs``, CSV, parquet), ``params`` and response format
(``{"predictions": [...]}``). clv replaces only the handler of ``/invocations``
with one that calls MLflow's own ``invocations`` function and answers bad requests
itself.

Why not plain ``mlflow models serve``
-------------------------------------
Measured with MLflow 3.17.2 and the clv model (whose pyfunc validates its own input,
see :mod:`clv.mlflow_model.pyfunc_model`):

=====================================  ==============================================
request                                ``mlflow models serve``
=====================================  ==============================================
no ``Content-Type`` header             **500** Internal Server Error (``None.split``)
malformed JSON, empty body             400, but the message **repeats the body**
missing column, bad ``params`` value   400, the message **repeats the whole table**
text in a numeric column               400, the message repeats the offending value
invalid values (null, negative,        400 "Encountered an unexpected error";
fractional frequency, recency > T)     clv's message only inside a ``stack_trace``
=====================================  ==============================================

``mlflow models serve`` has no hook to change its application (it runs ``uvicorn
mlflow.pyfunc.scoring_server.app:app``; entry points exist only for the tracking
server). So :func:`serve` runs the same thing itself -- uvicorn, in a subprocess,
with the same worker model -- on :func:`create_app`, which builds MLflow's app and
swaps in the ``/invocations`` handler below. ``serve(..., server="mlflow")`` runs
plain ``mlflow models serve --env-manager local`` instead, with the behaviour in the
table.

Bad requests
------------
Every bad request gets a 4xx answer ``{"error_code": ..., "message": ...}`` (the
shape of MLflow's errors) whose message is one short sentence naming the field and
never repeating the payload:

* no ``Content-Type``, or one other than JSON, CSV and parquet (UTF-8): 415;
* an empty body, a body over the size limit (413), malformed or too deeply nested
  JSON, JSON that is not an object with exactly one of ``dataframe_split``,
  ``dataframe_records``, ``instances``, ``inputs``: 400;
* the model's own validation (:class:`clv.errors.CLVError`: missing columns, text,
  nulls or infinities in numeric columns, negative or fractional ``frequency``,
  negative durations or amounts, ``recency > T``, bad ``horizon`` or
  ``discount_rate``): 400 with its message;
* a request MLflow's schema enforcement refuses before the model sees it (a
  missing column, text in a numeric column, a null id): 400, explained by running
  the model's validator on the request's table (so the message is clv's), or by
  naming the signature's columns that MLflow's message mentions;
* values MLflow would convert silently (a fractional or text customer id, a
  boolean in a numeric column), params of another type than the model declares,
  more rows than :mod:`clv.serving.limits` allows: 400, checked on the values as
  sent (:mod:`clv.serving._checks`); an answer whose ids are not exactly the
  request's is refused too;
* anything else the model raises: 400 "the model could not score this input".

No request gets a 5xx: the only one is 503 (with ``Retry-After``) when an answer
is not ready within the request time limit, i.e. when the server is overloaded.
Paths other than ``/ping``, ``/health``, ``/version`` and ``/invocations`` get 404
(FastAPI's ``/docs``, ``/redoc`` and ``/openapi.json`` are not served).

The input is validated once, by the model; the handler only explains failures.

Speed
-----
A one-row request spent ~6 ms in MLflow's route before the model saw it (JSON to
DataFrame column by column, casts to the signature, schema and params enforcement,
DataFrame to JSON) and as much again in pandas inside the model. The handler
therefore parses ``dataframe_split`` and ``dataframe_records`` JSON itself when
the request is plain -- every feature column present, numbers in numeric columns,
ids of the signature's type, numeric params -- and calls the model directly with
the columns as numpy arrays (``CLVModel.predict_columns``), with params completed
from the params schema as MLflow does (:class:`_FastPath`). Every other request
(nulls, text, booleans, missing columns, CSV, parquet, ``instances``, ``inputs``)
takes MLflow's route as before, so answers and error messages are unchanged;
tests/serving/test_fast_path.py checks that both routes give the same answers.
Only the body is read on the event loop; parsing and scoring run in a small thread
pool under the request time limit, so ``/ping`` answers while a request is scored
(``tests/serving/test_endpoint_limits.py``). ``POST /invocations`` also bypasses
FastAPI's routing and MLflow's timeout middleware (:class:`ScoringApp`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

from clv.errors import CLVError, InvalidParameterError
from clv.serving._checks import BadRequest as _BadRequest
from clv.serving._checks import (
    check_ids_came_back,
    check_json_values,
    check_params,
    check_table_ids,
    column_kinds,
    json_columns,
    row_count,
)
from clv.serving.limits import Limits

__all__ = ["MODEL_PATH_ENV", "ScoringApp", "build_app", "create_app", "serve", "server_command"]

logger = logging.getLogger(__name__)

#: Environment variable that tells :func:`create_app` which local model folder to load.
MODEL_PATH_ENV = "CLV_SERVE_MODEL_PATH"

_CONTENT_TYPES = {
    "application/json": "json",
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
}
_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_HINT = (
    "send application/json with 'dataframe_split' or 'dataframe_records' "
    "(and optional 'params'), text/csv or application/vnd.apache.parquet"
)
_MAX_MESSAGE = 600


def _short(text: str, limit: int = _MAX_MESSAGE) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _error_body(status: int, message: str) -> bytes:
    code = {
        404: "ENDPOINT_NOT_FOUND",
        405: "BAD_REQUEST",
        413: "REQUEST_LIMIT_EXCEEDED",
        503: "TEMPORARILY_UNAVAILABLE",
    }.get(status, "BAD_REQUEST")
    return json.dumps({"error_code": code, "message": _short(message)}).encode()


async def _read_body(receive: Callable[[], Any], declared: str | None, limit: int) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BadRequest(413, f"The request body is larger than {limit:,} bytes.")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _BadRequest(400, "The client disconnected before sending the whole body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BadRequest(413, f"The request body is larger than {limit:,} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _content_kind(content_type: str | None) -> str:
    if content_type is None or not content_type.strip():
        raise _BadRequest(415, f"The request has no Content-Type header: {_HINT}.")
    parts = [part.strip() for part in content_type.split(";")]
    mime = parts[0].lower()
    if mime not in _CONTENT_TYPES:
        raise _BadRequest(415, f"Unsupported Content-Type {mime[:60]!r}: {_HINT}.")
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() != "charset" or value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise _BadRequest(
                415, f"Unsupported Content-Type parameter {key.strip()[:30]!r}: only charset=utf-8."
            )
    return _CONTENT_TYPES[mime]


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _BadRequest(
            400, f"The request body is not valid UTF-8 (byte {error.start})."
        ) from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise _BadRequest(
            400,
            f"Malformed JSON: {error.msg} at line {error.lineno} column {error.colno}.",
        ) from None
    except RecursionError:
        raise _BadRequest(400, "Malformed JSON: nested too deeply.") from None
    except ValueError:  # an integer literal longer than Python converts (4,300 digits)
        raise _BadRequest(400, "Malformed JSON: a number is too long.") from None
    if not isinstance(payload, dict):
        raise _BadRequest(
            400,
            f"The JSON body must be an object with one of {', '.join(map(repr, _FORMATS))}; "
            f"got a JSON {type(payload).__name__}.",
        )
    keys = [key for key in _FORMATS if key in payload]
    if len(keys) != 1:
        found = "none" if not keys else " and ".join(map(repr, keys))
        raise _BadRequest(
            400,
            f"The JSON object must hold exactly one of {', '.join(map(repr, _FORMATS))}; "
            f"found {found}.",
        )
    params = payload.get("params")
    if params is not None and not isinstance(params, dict):
        raise _BadRequest(400, "'params' must be a JSON object such as {\"horizon\": 39}.")
    return payload


def _request_table(payload: Any, kind: str) -> Any:
    """Rebuild the request as a DataFrame to explain a refusal; ``None`` if impossible."""
    import pandas as pd

    try:
        if kind == "csv":
            return pd.read_csv(BytesIO(payload))
        if kind == "parquet":
            return pd.read_parquet(BytesIO(payload))
        if "dataframe_split" in payload:
            split = payload["dataframe_split"]
            return pd.DataFrame(data=split.get("data"), columns=split.get("columns"))
        if "dataframe_records" in payload:
            return pd.DataFrame(list(payload["dataframe_records"]))
        return pd.DataFrame(payload.get("inputs", payload.get("instances")))
    except Exception:  # noqa: BLE001 - anything unreadable is explained generically
        return None


def _clv_error(error: BaseException) -> CLVError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, CLVError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _signature_names(model: Any) -> tuple[list[str], list[str]]:
    metadata = model.metadata
    inputs = metadata.get_input_schema()
    params = metadata.get_params_schema()
    columns = list(inputs.input_names()) if inputs is not None and inputs.has_input_names() else []
    names = [param.name for param in params.params] if params is not None else []
    return [str(name) for name in columns], [str(name) for name in names]


class _Explainer:
    """Turn a failed prediction into one short message that never repeats the payload."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.columns, self.params = _signature_names(model)
        try:
            self.metadata = model.unwrap_python_model().metadata
        except Exception:  # noqa: BLE001 - not a clv model: generic messages only
            self.metadata = None

    def _validate(self, table: Any) -> str | None:
        if self.metadata is None or table is None:
            return None
        from clv.mlflow_model.validation import validate_features

        metadata = self.metadata
        try:
            validate_features(
                table,
                columns=metadata["feature_columns"],
                categorical=metadata.get("categorical_columns", ()),
                nonnegative=metadata.get("nonnegative_columns", ()),
            )
        except CLVError as error:
            return str(error)
        except Exception:  # noqa: BLE001
            return None
        return None

    def __call__(self, error: BaseException, payload: Any, kind: str) -> str:
        found = _clv_error(error)
        if found is not None:
            return str(found).splitlines()[0] if str(found) else type(found).__name__
        text = str(getattr(error, "message", "") or "")
        if "Invalid parameters found" in text:
            named = [name for name in self.params if f"'{name}'" in text]
            if named:
                return (
                    f"Invalid params: {', '.join(map(repr, named))} must have the types the "
                    "model's signature declares."
                )
        explained = self._validate(_request_table(payload, kind))
        if explained is not None:
            return explained
        named = [
            name
            for name in self.columns
            if re.search(rf"column '?{re.escape(name)}'?(?![\w])", text) or f"'{name}'" in text
        ]
        if named:
            return (
                "The input does not match the model signature for column(s) "
                f"{', '.join(map(repr, named[:10]))} (wrong type or missing values)."
            )
        if "Failed to enforce schema" in text or "schema" in text.lower():
            return "The input does not match the model signature (columns or types)."
        return (
            f"The model could not score this input ({type(error).__name__}); check the columns "
            "and types against the model signature."
        )


_NUMBER_TYPES = frozenset({int, float})
_INT64 = (-(2**63), 2**63)


class _FastPath:
    """Score ``dataframe_split`` / ``dataframe_records`` JSON of a clv model directly.

    MLflow's own route (``scoring_server.invocations``) turns the JSON into a
    DataFrame column by column, casts it to the signature, enforces the schema and
    the params schema, calls the model and serialises the DataFrame it returns:
    ~6 ms of pandas work per request before the model starts. For the requests
    that make up almost all traffic -- every feature column present, numbers in
    numeric columns, integer (or string) ids as the signature declares, numeric
    params -- this class builds the one DataFrame that MLflow would pass, with
    the same dtypes and the params filled in as MLflow would (defaults from the
    params schema, unknown params ignored), calls the model's ``predict`` and
    writes MLflow's response format. Anything else (nulls, text, booleans, missing
    columns, ragged rows, ``index``, other formats) returns ``None`` and goes
    through MLflow's route unchanged, where the model and :class:`_Explainer`
    produce the 4xx message: the fast path changes speed, never answers.
    """

    def __init__(self, model: Any) -> None:
        python_model = model.unwrap_python_model()
        metadata = python_model.metadata
        self.python_model = python_model
        # Models logged by this clv score a dict of arrays and return arrays
        # (CLVModel.predict_columns); older ones get the DataFrame MLflow would pass.
        self.predict_columns = getattr(python_model, "predict_columns", None)
        self.context = getattr(getattr(model, "_model_impl", None), "context", None)
        self.columns = [str(name) for name in metadata["feature_columns"]]
        schema = model.metadata.get_input_schema()
        types = {str(spec.name): str(spec.type) for spec in schema.inputs}
        categorical = set(metadata.get("categorical_columns", ()))
        self.kinds: dict[str, str] = {}
        for name in self.columns:
            declared = types.get(name, "").lower()
            if "long" in declared or "integer" in declared:
                self.kinds[name] = "integer"
            elif "string" in declared or name in categorical:
                self.kinds[name] = "string"
            elif "double" in declared or "float" in declared or declared == "any":
                self.kinds[name] = "number"
            else:
                raise ValueError(f"no fast path for column {name!r} of type {declared!r}")
        params = model.metadata.get_params_schema()
        self.defaults: dict[str, Any] = {}
        for spec in params.params if params is not None else ():
            if "double" not in str(spec.dtype).lower() or spec.shape is not None:
                raise ValueError(f"no fast path for param {spec.name!r}")
            self.defaults[spec.name] = spec.default

    @classmethod
    def for_model(cls, model: Any) -> _FastPath | None:
        """Build the fast path for a clv model; ``None`` for any other pyfunc or signature."""
        try:
            return cls(model)
        except Exception:  # noqa: BLE001 - not a clv model: MLflow's route only
            return None

    def _array(self, name: str, values: Any) -> Any:
        import numpy as np

        types = set(map(type, values))
        kind = self.kinds[name]
        try:
            if kind == "number":
                return np.array(values, dtype=np.float64) if types <= _NUMBER_TYPES else None
            if kind == "integer":
                if types != {int} or not _INT64[0] <= min(values) <= max(values) < _INT64[1]:
                    return None
                return np.array(values, dtype=np.int64)
            return np.array(values, dtype=object) if types == {str} else None
        except (OverflowError, ValueError):  # 1e400-sized integers
            return None

    def _columns(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        if "dataframe_split" in payload:
            split = payload["dataframe_split"]
            if type(split) is not dict or split.keys() != {"columns", "data"}:
                return None
            names, rows = split["columns"], split["data"]
            if type(names) is not list or type(rows) is not list or not rows:
                return None
            if not all(type(name) is str for name in names) or len(set(names)) != len(names):
                return None
            width = len(names)
            if not all(type(row) is list and len(row) == width for row in rows):
                return None
            position = {name: index for index, name in enumerate(names)}
            if not all(name in position for name in self.columns):
                return None
            transposed = list(zip(*rows, strict=True))
            raw = {name: transposed[position[name]] for name in self.columns}
        elif "dataframe_records" in payload:
            records = payload["dataframe_records"]
            if type(records) is not list or not records:
                return None
            required = self.columns
            if not all(
                type(record) is dict and all(n in record for n in required) for record in records
            ):
                return None
            raw = {name: [record[name] for record in records] for name in required}
        else:
            return None
        columns = {}
        for name, values in raw.items():
            array = self._array(name, values)
            if array is None:
                return None
            columns[name] = array
        return columns

    def _params(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        given = payload.get("params") or {}
        params = dict(self.defaults)
        for name in params:
            if name in given:
                value = given[name]
                if type(value) not in _NUMBER_TYPES:
                    return None
                params[name] = float(value)
        return params

    def prepare(self, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Return the input columns and params of a plain request, else ``None``."""
        params = self._params(payload)
        if params is None:
            return None
        columns = self._columns(payload)
        if columns is None:
            return None
        return columns, params

    def score(self, columns: dict[str, Any], params: dict[str, Any]) -> bytes:
        """Call the model and write MLflow's response (``{"predictions": [records]}``)."""
        if self.predict_columns is not None:
            result = self.predict_columns(columns, params)
            names = list(result)
            values = [result[name].tolist() for name in names]
        else:
            import pandas as pd

            frame = pd.DataFrame(columns, columns=self.columns)
            output = self.python_model.predict(self.context, frame, params=params)
            names = [str(name) for name in output.columns]
            values = [output[name].to_numpy().tolist() for name in output.columns]
        records = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
        return json.dumps({"predictions": records}).encode()


class _Invocations:
    """The ``/invocations`` handler, as a plain ASGI application (see the module docstring).

    The body is read on the event loop (bounded by :class:`~clv.serving.limits.Limits`);
    everything else -- parsing, checks, scoring, writing the answer -- runs in a small
    thread pool under the request time limit, so the loop keeps answering ``/ping``
    and other requests while one is scored.
    """

    def __init__(self, model: Any, limits: Limits | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.model = model
        self.input_schema = model.metadata.get_input_schema()
        self.kinds = column_kinds(model)
        self.explain = _Explainer(model)
        self.fast = _FastPath.for_model(model)
        self.limits = limits if limits is not None else Limits.from_environment()
        self.pool = ThreadPoolExecutor(self.limits.threads, thread_name_prefix="clv-score")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        status, body = await self.respond(scope, receive)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 503:
            headers.append((b"retry-after", b"1"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def respond(self, scope: dict[str, Any], receive: Any) -> tuple[int, bytes]:
        """Status and JSON body for one request."""
        content_type = declared = None
        for key, value in scope["headers"]:
            if key == b"content-type":
                content_type = value.decode("latin-1")
            elif key == b"content-length":
                declared = value.decode("latin-1")
        try:
            kind = _content_kind(content_type)
            body = await _read_body(receive, declared, self.limits.max_body_bytes)
        except _BadRequest as bad:
            return bad.status, _error_body(bad.status, bad.message)
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self.pool, self.answer, body, content_type, kind)
        try:
            return await asyncio.wait_for(work, timeout=self.limits.request_timeout)
        except (asyncio.TimeoutError, TimeoutError):
            logger.warning("a request exceeded the time limit")
            return 503, _error_body(
                503,
                f"The server could not answer within {self.limits.request_timeout:g} s "
                "(it is busy); retry later.",
            )

    def answer(self, body: bytes, content_type: str, kind: str) -> tuple[int, bytes]:
        """Parse, check and score one request body (runs in the thread pool)."""
        payload: Any = body
        try:
            if not body.strip():
                raise _BadRequest(400, f"The request body is empty: {_HINT}.")
            if kind == "json":
                payload = _parse_json(body)
                check_params(payload.get("params"), self.model)
            self._check_rows(payload, kind)
            prepared = self.fast.prepare(payload) if self.fast and kind == "json" else None
            if prepared is not None:
                return 200, self.fast.score(*prepared)
            if kind == "json":
                columns = json_columns(payload)
                if columns is not None:
                    check_json_values(columns, self.kinds)
            else:
                check_table_ids(payload, kind, self.kinds)
            result = self._mlflow(payload, content_type, kind)
            if result.status >= 400:
                status = result.status if result.status < 500 else 400
                return status, _error_body(status, f"The request was refused: {_HINT}.")
            answer = json.loads(result.response)
            check_ids_came_back(payload, kind, answer.get("predictions", []))
        except _BadRequest as bad:
            return bad.status, _error_body(bad.status, bad.message)
        except Exception as error:  # noqa: BLE001 - every failure becomes a short 4xx
            logger.info("refused a request: %s", type(error).__name__)
            return 400, _error_body(400, self.explain(error, payload, kind))
        return result.status, result.response.encode()

    def _check_rows(self, payload: Any, kind: str) -> None:
        rows = row_count(payload, kind)
        if rows is not None and rows > self.limits.max_rows:
            raise _BadRequest(
                400,
                f"The request has {rows:,} rows; at most {self.limits.max_rows:,} customers are "
                "scored per request (split it, or use clv score for files).",
            )

    def _mlflow(self, payload: Any, content_type: str, kind: str) -> Any:
        from mlflow.pyfunc import scoring_server

        mlflow_content_type = content_type if kind != "json" else "application/json"
        return scoring_server.invocations(
            payload, mlflow_content_type, self.model, self.input_schema
        )


class ScoringApp:
    """The served ASGI application: MLflow's scoring app with clv's ``/invocations``.

    ``POST /invocations`` goes straight to clv's handler; ``/ping``, ``/health``,
    ``/version`` and lifespan events to MLflow's FastAPI app (:attr:`mlflow_app`).
    Nothing else is served: FastAPI's ``/docs``, ``/redoc`` and ``/openapi.json``
    (whose pages load JavaScript from a CDN) and any other path get a JSON 404, other
    methods on ``/invocations`` a 405. Skipping FastAPI's routing and MLflow's timeout
    middleware (a ``BaseHTTPMiddleware``) for the hot route saves ~0.5 ms per request;
    the handler applies its own time limit (:class:`~clv.serving.limits.Limits`).

    Parameters
    ----------
    model : mlflow.pyfunc.PyFuncModel
        The loaded model.
    limits : clv.serving.limits.Limits, optional
        Read from the environment by default.
    """

    #: The paths served by MLflow's app (all read-only, no request body).
    MLFLOW_PATHS = frozenset({"/ping", "/health", "/version"})

    def __init__(self, model: Any, limits: Limits | None = None) -> None:
        from mlflow.pyfunc import scoring_server

        self.invocations = _Invocations(model, limits)
        self.mlflow_app = scoring_server.init(model)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """ASGI entry point."""
        kind = scope["type"]
        if kind == "http":
            path = scope["path"]
            if path == "/invocations":
                if scope["method"] == "POST":
                    await self.invocations(scope, receive, send)
                else:
                    await _send_error(send, 405, "Use POST for /invocations.")
            elif path in self.MLFLOW_PATHS:
                await self.mlflow_app(scope, receive, send)
            else:
                await _send_error(
                    send,
                    404,
                    "Not found: this server answers /ping, /health, /version and "
                    "POST /invocations.",
                )
        elif kind == "lifespan":
            await self.mlflow_app(scope, receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})


async def _send_error(send: Any, status: int, message: str) -> None:
    body = _error_body(status, message)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 405:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_app(model: Any) -> ScoringApp:
    """Build the scoring application for a loaded pyfunc model.

    MLflow's FastAPI app (``mlflow.pyfunc.scoring_server.init``) with its
    ``/invocations`` route replaced by one that answers bad requests with a 4xx
    and a short message (see the module docstring), and scores plain JSON
    requests without MLflow's per-request pandas work (:class:`_FastPath`).

    Parameters
    ----------
    model : mlflow.pyfunc.PyFuncModel
        The loaded model.

    Returns
    -------
    ScoringApp
        An ASGI application.
    """
    return ScoringApp(model)


def create_app() -> Any:
    """Application factory for uvicorn (``uvicorn --factory clv.serving.server:create_app``).

    Loads the model folder named by the ``CLV_SERVE_MODEL_PATH`` environment
    variable (set by :func:`serve`) in each worker process.

    Returns
    -------
    ScoringApp
    """
    from mlflow.pyfunc import scoring_server

    from clv.serving._models import verify_model_folder

    path = os.environ.get(MODEL_PATH_ENV)
    if not path:
        raise CLVError(f"Set {MODEL_PATH_ENV} to a local model folder (clv serve does).")
    verify_model_folder(path)
    return build_app(scoring_server.load_model_with_mlflow_config(path))


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` (an address or a name) is this machine's loopback only.

    A name counts as loopback when every address it resolves to is a loopback one;
    a name that does not resolve does not count.
    """
    import ipaddress
    import socket

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    addresses = {item[4][0].split("%")[0] for item in found}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def _check_arguments(
    host: str, port: int, workers: int, server: str, allow_remote: bool = False
) -> None:
    if not isinstance(host, str) or not host.strip():
        raise InvalidParameterError(f"The 'host' parameter must be a host name. Got {host!r}.")
    if not allow_remote and not is_loopback(host):
        raise InvalidParameterError(
            f"--host {host[:60]} would expose the model to the network without authentication "
            "(clv serve has none); put it behind a proxy that authenticates and pass "
            "--allow-remote, or keep the default 127.0.0.1."
        )
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidParameterError(
            f"The 'port' parameter must be an int in the range [1, 65535]. Got {port!r} instead."
        )
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(
            f"The 'workers' parameter must be an int >= 1. Got {workers!r} instead."
        )
    if server not in ("clv", "mlflow"):
        raise InvalidParameterError(
            f"The 'server' parameter must be 'clv' or 'mlflow'. Got {server!r} instead."
        )


def server_command(
    model_uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    allow_remote: bool = False,
) -> list[str]:
    """Build the command line of plain ``mlflow models serve`` (``clv serve --server mlflow``).

    Parameters
    ----------
    model_uri : str
        Any MLflow model URI (``clv serve`` passes the pinned ``models:/NAME/VERSION``).
    host, port, workers
        Where to listen and how many uvicorn worker processes MLflow runs.
    allow_remote : bool, default False
        Allow a ``host`` that is not loopback (see :func:`serve`).

    Returns
    -------
    list of str
    """
    _check_arguments(host, port, workers, "mlflow", allow_remote)
    return [
        sys.executable,
        *("-m", "mlflow", "models", "serve", "-m", str(model_uri)),
        *("--env-manager", "local", "-h", host, "-p", str(port), "-w", str(workers)),
    ]


def _run_mlflow(resolved: Any, host: str, port: int, workers: int, allow_remote: bool) -> None:
    """Replace this process by plain ``mlflow models serve`` on the pinned model (no return)."""
    command = server_command(
        resolved.pinned_uri, host=host, port=port, workers=workers, allow_remote=allow_remote
    )
    environment = dict(os.environ, MLFLOW_TRACKING_URI=resolved.tracking_uri)
    # `mlflow models serve` runs the `uvicorn` script found on PATH.
    bin_dir = str(Path(sys.executable).parent)
    environment["PATH"] = os.pathsep.join([bin_dir, environment.get("PATH", "")])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], command, environment)


def serve(
    model_uri: str,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    tracking_uri: str | None = None,
    *,
    server: str = "clv",
    allow_remote: bool = False,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Serve a model over HTTP until the server stops (blocks).

    The model URI is resolved and pinned to one registry version
    (``models:/clv@champion`` -> ``models:/clv/3``), its folder downloaded once and
    its code checked against its digest; then uvicorn serves it from this process
    (``workers`` > 1: uvicorn's own supervisor runs that many worker processes), on
    loopback by default, until Ctrl-C or SIGTERM.

    Parameters
    ----------
    model_uri : str
        ``models:/NAME@champion`` or any MLflow model URI.
    host : str, default "127.0.0.1"
        Interface to listen on. The endpoint has no authentication: an address that
        is not loopback (``0.0.0.0``, a LAN address) is refused unless
        ``allow_remote`` is true; use it only behind a proxy that authenticates.
    port : int, default 5000
        TCP port.
    workers : int, default 1
        uvicorn worker processes (each loads the model).
    tracking_uri : str, optional
        MLflow store holding the registry (``MLFLOW_TRACKING_URI`` or
        ``sqlite:///mlflow.db`` by default).
    server : {"clv", "mlflow"}, default "clv"
        ``"mlflow"`` replaces this process by plain ``mlflow models serve
        --env-manager local`` on the pinned model (:func:`server_command`).
    allow_remote : bool, default False
        Listen on a non-loopback ``host`` (``progress`` then gets a warning).
    progress : callable, optional
        Called with one line of text (what is served, where).

    Returns
    -------
    int
        0 when the server was stopped by a signal or Ctrl-C.

    Raises
    ------
    clv.errors.ModelLoadError
        If the model cannot be found, downloaded or verified.
    clv.errors.InvalidParameterError
        For a bad host, port, worker count or server, or a port that is in use.
    """
    from clv.serving._models import download_model, resolve_model, verify_model_folder
    from clv.serving._uvicorn import run
    from clv.serving._workdir import owned_temporary_folder

    _check_arguments(host, port, workers, server, allow_remote)
    if progress is not None and not is_loopback(host):
        progress(
            f"warning: listening on {host[:60]}: anyone who can reach this address can use "
            "the model (clv serve has no authentication)"
        )
    resolved = resolve_model(model_uri, tracking_uri)
    pinned = resolved.pinned_uri
    where = (
        f"serving {pinned}"
        + (f" ({resolved.uri})" if pinned != resolved.uri else "")
        + f" on http://{host}:{port} with {workers} worker(s); Ctrl-C stops it"
    )
    if server == "mlflow":
        if progress is not None:
            progress(where + " (plain mlflow models serve)")
        _run_mlflow(resolved, host, port, workers, allow_remote)
    # A folder left by a `clv serve` that was killed (kill -9) is removed here.
    with owned_temporary_folder("clv-serve-") as folder:
        path = download_model(resolved, folder)
        verify_model_folder(path)
        if progress is not None:
            progress(where)
        run(str(path), host=host, port=port, workers=workers)
    return 0
