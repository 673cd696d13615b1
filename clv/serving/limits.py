"""The limits of ``clv serve``: how much one request may ask for, and for how long.

Every limit has a default and an environment variable that overrides it (read
by each server worker when it starts; ``clv serve`` passes its environment on):

=====================================  ===================  ==========================
limit                                  default              environment variable
=====================================  ===================  ==========================
request body                           16 MiB               ``CLV_SERVE_MAX_BODY_BYTES``
rows (customers) per request           10,000               ``CLV_SERVE_MAX_ROWS``
time for the request line, headers     10 s                 ``CLV_SERVE_READ_TIMEOUT``
and body to arrive
time to answer once the request has    30 s                 ``CLV_SERVE_REQUEST_TIMEOUT``
arrived (parsing and scoring)
scoring threads per worker process     2                    ``CLV_SERVE_THREADS``
=====================================  ===================  ==========================

The prediction ``horizon`` is bounded by the model itself
(:data:`clv.mlflow_model.params.MAX_HORIZON_YEARS`), like its other params. A
request over a limit gets a 4xx (413 for the body, 400 for rows and params); a
connection that does not deliver its request in time is closed; a request whose
answer is not ready in time gets 503 with ``Retry-After`` (the server is
overloaded: within the limits above, one request alone finishes well before it).
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
    """The limits in force (see the module docstring for their meaning and defaults)."""

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
