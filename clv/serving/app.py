"""The application ``clv serve`` runs: a small Starlette app around a loaded clv model.

Four routes and nothing else (other paths 404, other methods 405), answering as
``mlflow models serve`` does: ``GET /ping`` and ``/health`` (200 once the model is
loaded), ``GET /version`` (MLflow's version), ``POST /invocations``
(``{"predictions": [records]}``; the request formats: :mod:`clv.serving.requests`).
Every refusal is a :class:`~clv.errors.CLVError`, answered by the one exception
handler as ``{"error_code", "message"}`` with a 4xx; the only 5xx is a 503
(``Retry-After: 1``) for an answer not ready within ``request_timeout``. Parsing,
scoring and writing run in a thread pool (:class:`Scorer`); DESIGN.md ("Serving")
says why threads and how the time limit behaves.
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
    """Write ``{"predictions": [records]}`` from output columns, as MLflow writes a DataFrame."""
    names = list(columns)
    rows = list(zip(*(columns[name].tolist() for name in names), strict=True))
    parts = [
        json.dumps([dict(zip(names, row, strict=True)) for row in rows[at : at + _CHUNK]])[1:-1]
        for at in range(0, len(rows), _CHUNK)
    ]
    return ('{"predictions": [' + ", ".join(parts) + "]}").encode()


class Scorer:
    """Read, check and score one request body, and write the answer (in the thread pool).

    ``model`` is a loaded clv pyfunc (else :class:`~clv.errors.ModelLoadError`);
    ``limits.max_rows`` bounds a request.
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
    """Build the endpoint's ASGI application for a loaded clv model (limits: from the environment)."""
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
    (:func:`clv.serving._models.load_pyfunc`); a :class:`~clv.errors.CLVError` if the
    variable is not set or the model does not verify or load.
    """
    from clv.serving._models import load_pyfunc

    path = os.environ.get(MODEL_PATH_ENV)
    if not path:
        raise CLVError(f"Set {MODEL_PATH_ENV} to a local model folder (clv serve does).")
    return build_app(load_pyfunc(path))
