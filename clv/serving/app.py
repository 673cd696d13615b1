"""The application ``clv serve`` runs: a small Starlette app around a loaded clv model.

Four routes and nothing else (no ``/docs``, ``/redoc`` or ``/openapi.json``; other
paths 404, other methods 405), with the paths, request formats and answers of
``mlflow models serve`` (:mod:`clv.serving.requests`):

=====================  =====  ==========================================================
path                   verb   answer
=====================  =====  ==========================================================
``/ping``, ``/health``  GET   200 once the model is loaded
``/version``           GET    MLflow's version, as ``mlflow models serve``
``/invocations``       POST   ``{"predictions": [{"customer_id": ..., ...}, ...]}``
=====================  =====  ==========================================================

A refused request gets ``{"error_code": ..., "message": ...}`` (MLflow's error shape)
with one short sentence that names the field and never repeats the payload. Every
refusal is a :class:`~clv.errors.CLVError` -- the request checks'
:class:`~clv.errors.RequestError` (400, 413, 415) and the model's own validation
(400) -- turned into the answer by the app's one exception handler. Whatever else
the model raises becomes a :class:`~clv.errors.RequestError` where it is called, so
no request gets a 5xx; the only status above 499 is 503 (``Retry-After: 1``) for an
answer not ready within the request time limit, when the server is overloaded.

The event loop only reads the body (at most ``max_body_bytes``,
:class:`~clv.serving.limits.Limits`); parsing, checks, scoring and writing the
answer run in a pool of ``threads`` threads (:class:`Scorer`), awaited for at most
``request_timeout`` seconds. A request still queued then is dropped; one being
scored finishes in the background (a thread cannot be stopped; the request limits
bound its work). Every request takes the same path: its columns become numpy arrays
that go straight to :meth:`clv.mlflow_model.pyfunc_model.CLVModel.predict_columns` (no
DataFrame, no MLflow parsing or schema enforcement), and the answer is written from
the arrays.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from clv.errors import CLVError, RequestError
from clv.serving.limits import Limits
from clv.serving.requests import ModelSpec, content_kind, read_request

__all__ = ["MODEL_PATH_ENV", "Scorer", "build_app", "create_app", "records_json"]

logger = logging.getLogger(__name__)

#: Environment variable naming the local model folder :func:`create_app` loads.
MODEL_PATH_ENV = "CLV_SERVE_MODEL_PATH"
#: Records written per ``json.dumps`` call: the encoder holds the GIL for a whole
#: call, and 10,000 records in one call kept ``/ping`` waiting for ~0.25 s.
_CHUNK = 250
_CODES = {413: "REQUEST_LIMIT_EXCEEDED", 503: "TEMPORARILY_UNAVAILABLE"}
_MAX_MESSAGE = 600


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    line = " ".join(str(message).split())
    if len(line) > _MAX_MESSAGE:
        line = line[: _MAX_MESSAGE - 3] + "..."
    body = json.dumps({"error_code": _CODES.get(status, "BAD_REQUEST"), "message": line})
    return Response(body, status, headers, media_type="application/json")


def records_json(columns: dict[str, Any]) -> bytes:
    """Write ``{"predictions": [records]}`` from output columns, as MLflow writes a DataFrame.

    Parameters
    ----------
    columns : dict of numpy.ndarray
        Output column -> equally long arrays.

    Returns
    -------
    bytes
    """
    names = list(columns)
    rows = list(zip(*(columns[name].tolist() for name in names), strict=True))
    parts = [
        json.dumps([dict(zip(names, row, strict=True)) for row in rows[at : at + _CHUNK]])[1:-1]
        for at in range(0, len(rows), _CHUNK)
    ]
    return ('{"predictions": [' + ", ".join(parts) + "]}").encode()


class Scorer:
    """Read, check and score one request body, and write the answer (in the thread pool).

    Parameters
    ----------
    model : mlflow.pyfunc.PyFuncModel
        A loaded clv model.
    limits : clv.serving.limits.Limits
        The limits in force (``max_rows``).

    Raises
    ------
    clv.errors.ModelLoadError
        If ``model`` is not a clv model.
    """

    def __init__(self, model: Any, limits: Limits) -> None:
        from clv.mlflow_model.scoring import clv_metadata

        self.spec = ModelSpec.from_model(model, clv_metadata(model))
        self.python_model = model.unwrap_python_model()
        # Models logged by an earlier clv have only ``predict`` (a DataFrame in and out).
        self.predict_columns = getattr(self.python_model, "predict_columns", None)
        self.max_rows = limits.max_rows

    def predict(self, columns: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """Return the model's output columns for the input columns and params."""
        if self.predict_columns is not None:
            return self.predict_columns(columns, params)
        import pandas as pd

        frame = self.python_model.predict(None, pd.DataFrame(columns), params=params)
        return {str(name): frame[name].to_numpy() for name in frame.columns}

    def __call__(self, body: bytes, kind: str) -> bytes:
        """Answer one request body of content ``kind`` (``"json"``, ``"csv"``, ``"parquet"``)."""
        columns, params = read_request(body, kind, self.spec, self.max_rows)
        try:
            output = self.predict(columns, params)
        except CLVError:
            raise
        except Exception as error:  # noqa: BLE001 - no request may give a 5xx
            logger.info("the model failed on a request: %s", type(error).__name__)
            raise RequestError(
                f"The model could not score this input ({type(error).__name__}); check the "
                "columns and types against the model signature."
            ) from None
        return records_json(output)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_large = f"The request body is larger than {limit:,} bytes."
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(too_large, 413)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(too_large, 413)
            chunks.append(chunk)
    except ClientDisconnect:
        raise RequestError("The client disconnected before sending the whole body.") from None
    return b"".join(chunks)


def build_app(model: Any, limits: Limits | None = None) -> Starlette:
    """Build the endpoint's ASGI application for a loaded clv model.

    Parameters
    ----------
    model : mlflow.pyfunc.PyFuncModel
        A loaded clv model (``mlflow.pyfunc.load_model``).
    limits : clv.serving.limits.Limits, optional
        Read from the environment by default.

    Returns
    -------
    starlette.applications.Starlette
    """
    from mlflow.version import VERSION

    limits = limits if limits is not None else Limits.from_environment()
    scorer = Scorer(model, limits)
    pool = ThreadPoolExecutor(limits.threads, thread_name_prefix="clv-score")

    async def ping(request: Request) -> Response:
        return Response("\n", media_type="application/json")

    async def mlflow_version(request: Request) -> Response:
        return Response(VERSION, media_type="application/json")

    async def invocations(request: Request) -> Response:
        kind = content_kind(request.headers.get("content-type"))
        body = await _read_body(request, limits.max_body_bytes)
        work = asyncio.get_running_loop().run_in_executor(pool, scorer, body, kind)
        try:
            answer = await asyncio.wait_for(work, timeout=limits.request_timeout)
        except TimeoutError:
            logger.warning("a request exceeded the time limit")
            return _error(
                503,
                f"The server could not answer within {limits.request_timeout:g} s (it is busy); "
                "retry later.",
                {"Retry-After": "1"},
            )
        return Response(answer, media_type="application/json")

    async def refuse(request: Request, error: Exception) -> Response:
        lines = str(error).strip().splitlines()
        return _error(getattr(error, "status", 400), lines[0] if lines else type(error).__name__)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    routes = [
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ping, methods=["GET"]),
        Route("/version", mlflow_version, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={CLVError: refuse}, lifespan=lifespan)
    app.state.scorer = scorer
    return app


def create_app() -> Starlette:
    """Application factory: load the model folder named by ``CLV_SERVE_MODEL_PATH``.

    Its code is checked against the digest recorded at training before it runs
    (:func:`clv.serving._models.load_pyfunc`).

    Returns
    -------
    starlette.applications.Starlette

    Raises
    ------
    clv.errors.CLVError
        If the variable is not set, or the model does not verify or load.
    """
    from clv.serving._models import load_pyfunc

    path = os.environ.get(MODEL_PATH_ENV)
    if not path:
        raise CLVError(f"Set {MODEL_PATH_ENV} to a local model folder (clv serve does).")
    return build_app(load_pyfunc(path))
