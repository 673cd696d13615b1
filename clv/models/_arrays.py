"""Array helpers of the likelihoods: sums without BLAS, distinct rows, per-integer tables."""

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
    """Compute ``a @ b`` (1-D ``a``) by ``einsum``, not the threaded BLAS (see ``_optimizer``)."""
    if b.ndim == 1:
        return float(np.einsum("i,i->", a, b))
    return np.einsum("i,ij->j", a, b)


def collapse_rows(
    columns: Sequence[np.ndarray], weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse identical rows of ``columns`` (equal-length 1-D arrays) with summed ``weights``.

    Returns the index of each unique row's first occurrence, each input row's unique-row
    index and the summed weights.
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
    """Per-row codes into the column's distinct values (small integers: themselves)."""
    if column.dtype.kind in "iu" and len(column):
        low, high = int(column.min()), int(column.max())
        if low >= 0 and high < dense_limit:
            return column.astype(np.int64, copy=False), np.arange(high + 1)
    codes, uniques = pd.factorize(column, sort=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques)


def distinct_rows(
    columns: Sequence[np.ndarray], weights: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of ``columns`` (as columns) and their total weights, zero totals dropped.

    What fitting needs from :func:`collapse_rows` without the inverse: columns coded once
    (non-negative integers by value), codes combined into one key and, when the key space
    is at most a few times the rows, weights totalled by ``np.bincount`` instead of hashing.
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
    """``function(x)`` for non-negative integers ``x``, evaluated once per integer in ``0..max(x)``.

    ``function`` returns an array or a tuple of arrays; special functions of ``parameter +
    frequency`` are far cheaper on the distinct integers than per row.
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
