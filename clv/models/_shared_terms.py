"""Per-row terms computed once per scoring call, though several predictions need them.

One scoring call asks a transaction model for several quantities of the same
customers: the expected purchases over the horizon, the probability of being
alive, the churn probability, the discounted purchases behind the CLV (one
expected-purchases curve point per period with discrete discounting), and the same
again at the model's default horizon for the segments. For Pareto/NBD each of them
starts from the same likelihood terms of ``(frequency, recency, T)``, whose
integral is the costly part (:func:`clv.models._pareto_nbd_likelihood._log_parts`):
without sharing, a batch call evaluated it 10 times per customer row at the
default discount rate, and once per period more with discounting.

Inside :func:`shared_terms`, :func:`remembered` keeps each term under a digest of
its name and of the exact bytes of its inputs (params and arrays), so a repeat
with equal inputs returns the stored arrays -- which callers must not modify --
and any other input is computed. Outside the block nothing is kept. The block is
opened by batch scoring around one call of the model
(:func:`clv.serving.table_scoring.predict_table`); the state is a
:class:`contextvars.ContextVar`, so threads and nested blocks do not see each
other's terms.
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
    """Return ``compute()``, computed once per equal ``inputs`` inside :func:`shared_terms`.

    Parameters
    ----------
    name : str
        What is computed (terms of different functions never mix).
    inputs : tuple
        Everything the result depends on: arrays and numbers.
    compute : callable
        Computes the term; its result must not be modified by the callers.

    Returns
    -------
    object
        What ``compute`` returns.
    """
    terms = _TERMS.get()
    if terms is None:
        return compute()
    key = _digest(name, inputs)
    if key not in terms:
        terms[key] = compute()
    return terms[key]
