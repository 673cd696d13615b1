"""The limits of ``clv serve``: how much one request may ask for, and for how long.

Each limit of :class:`Limits` (request body 16 MiB, 10,000 rows a request, 10 s for
the request to arrive, 30 s to answer it, 2 scoring threads a worker) is overridden
by its environment variable (:data:`_VARIABLES`: ``CLV_SERVE_MAX_BODY_BYTES``,
``CLV_SERVE_MAX_ROWS``, ``CLV_SERVE_READ_TIMEOUT``, ``CLV_SERVE_REQUEST_TIMEOUT``,
``CLV_SERVE_THREADS``), read by each server worker when it starts. The ``horizon`` is
bounded by the model itself (:data:`clv.mlflow_model.params.MAX_HORIZON_YEARS`). What
a client gets over a limit: the README, "Operating clv serve".
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

__all__ = ["Limits"]

_VARIABLES = {
    "max_body_bytes": ("CLV_SERVE_MAX_BODY_BYTES", 16 * 1024 * 1024, int),
    "max_rows": ("CLV_SERVE_MAX_ROWS", 10_000, int),
    "read_timeout": ("CLV_SERVE_READ_TIMEOUT", 10.0, float),
    "request_timeout": ("CLV_SERVE_REQUEST_TIMEOUT", 30.0, float),
    "threads": ("CLV_SERVE_THREADS", 2, int),
}


@dataclass(frozen=True)
class Limits:
    """The limits in force (the module docstring says what each bounds)."""

    max_body_bytes: int = 16 * 1024 * 1024
    max_rows: int = 10_000
    read_timeout: float = 10.0
    request_timeout: float = 30.0
    threads: int = 2

    @classmethod
    def from_environment(cls) -> Limits:
        """Read the limits from the environment; an unusable value keeps the default."""
        values = {}
        for field, (variable, default, kind) in _VARIABLES.items():
            text = os.environ.get(variable)
            try:
                value = kind(text) if text is not None else default
            except ValueError:
                value = default
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                value = default
            values[field] = value
        return cls(**values)
