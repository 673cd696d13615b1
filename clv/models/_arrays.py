"""Array helpers of the likelihoods: sums without BLAS, distinct rows, per-integer tables.

The likelihoods of the probabilistic models are sums over customers of terms that
depend on a few integer or day-resolution columns; these helpers make them cheap:
:func:`distinct_rows` collapses identical rows into weights (the big saving on
day-resolution data), :func:`gather_by_integer` evaluates a special function once per
distinct integer, :func:`dot` sums with numpy's own loops instead of the threaded BLAS
(see :mod:`clv.models._optimizer` for the measurement).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "collapse_rows",
    "distinct_rows",
    "dot",
    "gather_by_integer",
    "log_sigmoid_weight",
    "pairs_inverse",
]


def dot(a: np.ndarray, b: np.ndarray) -> Any:
    """Compute ``a @ b`` (1-D ``a``) by numpy's own loops (``einsum``), not the threaded BLAS.

    The threaded BLAS ``ddot``/``dgemv`` wake worker threads on every call; on a busy
    machine that costs more than the arithmetic of a likelihood evaluation. ``b`` may
    be 1-D (returns a float) or 2-D with rows matching ``a`` (returns a vector).
    """
    if b.ndim == 1:
        return float(np.einsum("i,i->", a, b))
    return np.einsum("i,ij->j", a, b)


def collapse_rows(
    columns: Sequence[np.ndarray], weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse identical rows of ``columns`` into unique rows with summed weights.

    Parameters
    ----------
    columns : sequence of ndarray
        Equal-length 1-D arrays; a row is the tuple of their values.
    weights : ndarray
        Weight of every row.

    Returns
    -------
    first : ndarray of int
        Index of the first occurrence of every unique row.
    inverse : ndarray of int
        For every input row, the index of its unique row.
    unique_weights : ndarray of float
        Sum of ``weights`` per unique row.
    """
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for column in columns:
        codes, uniques = pd.factorize(column, sort=False)
        width = max(len(uniques), 1)
        if span * width >= 2**62:  # re-number before the combined key could overflow
            key, combined = pd.factorize(key, sort=False)
            key = key.astype(np.int64)
            span = max(len(combined), 1)
        key = key * width + codes
        span *= width
    inverse, uniques = pd.factorize(key, sort=False)
    first = np.empty(len(uniques), dtype=np.int64)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    unique_weights = np.bincount(inverse, weights=weights, minlength=len(uniques))
    return first, inverse, unique_weights


def _column_codes(column: np.ndarray, dense_limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row codes into the column's distinct values, and those values.

    Non-negative integers below ``dense_limit`` are their own codes (no hashing);
    anything else is factorised.
    """
    if column.dtype.kind in "iu" and len(column):
        low, high = int(column.min()), int(column.max())
        if low >= 0 and high < dense_limit:
            return column.astype(np.int64, copy=False), np.arange(high + 1)
    codes, uniques = pd.factorize(column, sort=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques)


def distinct_rows(
    columns: Sequence[np.ndarray], weights: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Find the distinct rows of ``columns`` (as columns) and the total weight of each.

    What fitting needs from :func:`collapse_rows`, without the per-row inverse: each
    column is coded once (non-negative integers by value, others by hashing), the
    codes are combined into one integer key and, when the key space is at most a few
    times the number of rows, weights are totalled by ``np.bincount`` over the key
    space instead of hashing the key. Rows of zero total weight are dropped.

    Parameters
    ----------
    columns : sequence of ndarray
        Equal-length 1-D arrays; a row is the tuple of their values.
    weights : ndarray
        Weight of every row.

    Returns
    -------
    values : list of ndarray
        One array per column, the values of the distinct rows.
    unique_weights : ndarray of float
        Sum of ``weights`` per distinct row (all positive).
    """
    n = len(columns[0])
    dense_limit = max(4 * n, 1024)
    coded = [_column_codes(np.asarray(column), dense_limit) for column in columns]
    span = 1
    for _, levels in coded:
        span *= max(len(levels), 1)
    if span > dense_limit:
        first, _, unique_weights = collapse_rows(columns, weights)
        keep = unique_weights > 0
        return [np.asarray(column)[first[keep]] for column in columns], unique_weights[keep]
    key = np.zeros(n, dtype=np.int64)
    for codes, levels in coded:
        key *= max(len(levels), 1)
        key += codes
    totals = np.bincount(key, weights=weights, minlength=span)
    present = np.flatnonzero(totals > 0)
    values = []
    rest = present
    for _, levels in reversed(coded):
        width = max(len(levels), 1)
        rest, code = np.divmod(rest, width)
        values.append(levels[code])
    values.reverse()
    return [
        value.astype(np.asarray(column).dtype, copy=False)
        for value, column in zip(values, columns, strict=True)
    ], totals[present]


def gather_by_integer(x: np.ndarray, function: Callable[[np.ndarray], Any]) -> Any:
    """Evaluate ``function`` on the distinct integers of ``x`` and gather per row.

    Special functions of ``parameter + frequency`` depend on the row only through
    the integer frequency; evaluating them on ``0..max(x)`` and indexing is much
    cheaper than evaluating them per row.

    Parameters
    ----------
    x : ndarray of int
        Non-negative integers.
    function : callable
        Maps an integer array to an array or a tuple of arrays of the same length.

    Returns
    -------
    ndarray or tuple of ndarray
        ``function(x)``.
    """
    top = int(x.max()) + 1 if len(x) else 0
    if top > len(x):
        return function(x)
    table = function(np.arange(top))
    if isinstance(table, tuple):
        return tuple(np.asarray(item)[x] for item in table)
    return np.asarray(table)[x]


def log_sigmoid_weight(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``log(exp(first) + exp(second))`` and the share of ``second`` in it."""
    total = np.logaddexp(first, second)
    with np.errstate(invalid="ignore"):
        share = np.exp(second - total)
    share = np.where(np.isfinite(share), share, 0.0)
    return total, share


def pairs_inverse(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first occurrence of each distinct (first, second) pair, and inverse."""
    representative, inverse, _ = collapse_rows([first, second], np.ones(len(first)))
    return representative, inverse
