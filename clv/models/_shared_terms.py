"""Per-row terms computed once per scoring call, though several predictions need them.

A scoring call asks a transaction model for expected purchases, P(alive), churn and
discounted purchases of the same customers; for Pareto/NBD each starts from the same
costly likelihood terms (:func:`clv.models._pareto_nbd_likelihood.log_parts`).
Inside :func:`shared_terms` (opened by :func:`clv.serving.table_scoring.predict_table`),
:func:`remembered` keeps each term under a digest of its name and the bytes of its
inputs; callers must not modify what it returns. The state is a ``ContextVar``:
threads and nested blocks do not see each other's terms; outside, nothing is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import numpy as np

__all__ = ["remembered", "shared_terms"]

_T = TypeVar("_T")

_TERMS: ContextVar[dict[bytes, Any] | None] = ContextVar("clv_shared_terms", default=None)


@contextmanager
def shared_terms() -> Iterator[None]:
    """Remember the terms computed inside the block (nested blocks share the outer one)."""
    if _TERMS.get() is not None:
        yield
        return
    token = _TERMS.set({})
    try:
        yield
    finally:
        _TERMS.reset(token)


def _digest(name: str, inputs: tuple[Any, ...]) -> bytes:
    digest = hashlib.blake2b(name.encode(), digest_size=20)
    for value in inputs:
        array = np.ascontiguousarray(value)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data if array.size else b"")
    return digest.digest()


def remembered(name: str, inputs: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
    """Return ``compute()``, once per equal ``inputs`` (arrays, numbers) in :func:`shared_terms`."""
    terms = _TERMS.get()
    if terms is None:
        return compute()
    key = _digest(name, inputs)
    if key not in terms:
        terms[key] = compute()
    return terms[key]
