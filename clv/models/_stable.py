"""Numerically stable building blocks for the models' predictions.

Each function is exact where the naive formula is and stays finite, in range and free
of floating-point exceptions (even under ``np.seterr(all="raise")``) anywhere in the
fit's parameter box (``exp(+-25)``) and for any history: log-space probabilities never
underflow to subnormals, and Pochhammer and beta ratios never subtract huge ``gammaln``.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.special import betaln, digamma, gammaln

__all__ = [
    "beta_rule",
    "digamma_difference",
    "exp_or_zero",
    "log_add_exp",
    "log_beta_ratio",
    "log_pochhammer",
    "probability_from_log_odds",
    "softplus",
    "unit_legendre",
]

#: Below this logarithm a value is returned as 0 (exp(-708) is the smallest normal double).
_LOG_TINY = -708.0


def exp_or_zero(log_value):
    """``exp(log_value)``, with 0 (not a subnormal number, no underflow) below ``exp(-708)``."""
    log_value = np.asarray(log_value, dtype=np.float64)
    tiny = ~(log_value >= _LOG_TINY)  # also catches -inf
    with np.errstate(over="ignore"):
        values = np.exp(np.where(tiny, 0.0, log_value))
    return np.where(tiny, 0.0, values)


def softplus(z):
    """``log(1 + exp(z))`` for any real ``z`` without overflow or underflow."""
    z = np.asarray(z, dtype=np.float64)
    magnitude = np.abs(z)
    small = np.exp(-np.minimum(magnitude, -_LOG_TINY))  # in [exp(-708), 1]
    return np.maximum(z, 0.0) + np.log1p(np.where(magnitude >= -_LOG_TINY, 0.0, small))


def log_add_exp(a, b):
    """``log(exp(a) + exp(b))`` (``np.logaddexp`` without its underflow exception)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    top = np.maximum(a, b)
    finite = np.isfinite(top)
    gap = np.where(finite, np.abs(a - np.where(finite, b, 0.0)), 0.0)
    return np.where(finite, top + softplus(-gap), top)


def probability_from_log_odds(log_odds):
    """``1 / (1 + exp(log_odds))``: the probability whose odds against are ``exp(log_odds)``.

    ``log_odds = -inf`` gives 1 and ``+inf`` gives 0.
    """
    return exp_or_zero(-softplus(log_odds))


def log_pochhammer(z, m):
    """``log Gamma(z + m) - log Gamma(z)`` for ``z > 0``, ``m >= 0``, accurate for huge ``z``.

    Written as ``log Gamma(m) - log B(z, m)``: SciPy's ``betaln`` switches to an
    asymptotic expansion when one argument dwarfs the other, where the difference
    of two ``gammaln`` values would cancel. ``m = 0`` gives 0.
    """
    m = np.asarray(m, dtype=np.float64)
    positive = m > 0
    safe_m = np.where(positive, m, 1.0)
    return np.where(positive, gammaln(safe_m) - betaln(z, safe_m), 0.0)


def log_beta_ratio(a, b, x, y):
    """``log B(a + x, b + y) - log B(a, b)`` for ``a, b > 0`` and ``x, y >= 0``."""
    return log_pochhammer(a, x) + log_pochhammer(b, y) - log_pochhammer(np.add(a, b), np.add(x, y))


def digamma_difference(z, m):
    """``digamma(z + m) - digamma(z)`` for ``z > 0``, ``m >= 0``, accurate for huge ``z``.

    Below ``z = 1e3`` the two digammas are subtracted (their difference is not small
    against them); above, the asymptotic series of the difference is summed term by
    term, each written without cancellation (error below ``m / z**7``).
    """
    z, m = np.asarray(z, dtype=np.float64), np.asarray(m, dtype=np.float64)
    large = z >= 1e3
    safe = np.where(large, z, 1e3)
    w = safe + m
    # log(w / z) - (1/(2w) - 1/(2z)) - (1/(12 w^2) - 1/(12 z^2)) + (1/(120 w^4) - 1/(120 z^4))
    series = (
        np.log1p(m / safe)
        + m / (2.0 * safe * w)
        + m * (safe + w) / (12.0 * safe**2 * w**2)
        - m * (safe + w) * (safe**2 + w**2) / (120.0 * safe**4 * w**4)
    )
    if not large.any():
        return digamma(z + m) - digamma(z)
    direct = digamma(np.where(large, 1.0, z + m)) - digamma(np.where(large, 1.0, z))
    return np.where(large, series, direct)


def beta_rule(a: float, b: float, nodes: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Gauss rule for ``E[f(p)]``, ``p ~ Beta(a, b)``: nodes in (0, 1), weights summing to 1.

    Golub-Welsch without gamma functions, exact for any ``a, b`` in ``[1e-11, 1e11]``
    (SciPy's ``roots_jacobi`` overflows past about 1e3); the last rules are cached and
    returned read-only.
    """
    return _cached_beta_rule(float(a), float(b), int(nodes))


@functools.cache
def unit_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre rule on [0, 1]: nodes and weights summing to 1 (cached, read-only)."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    u, w = 0.5 * (x + 1.0), 0.5 * w
    u.setflags(write=False)
    w.setflags(write=False)
    return u, w


@functools.lru_cache(maxsize=512)
def _cached_beta_rule(a: float, b: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    nodes_, weights = _golub_welsch_beta(a, b, nodes)
    nodes_.setflags(write=False)
    weights.setflags(write=False)
    return nodes_, weights


def _golub_welsch_beta(a: float, b: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    alpha, beta = b - 1.0, a - 1.0  # weight (1 - u)^alpha (1 + u)^beta on [-1, 1]
    k = np.arange(nodes, dtype=np.float64)
    total = 2.0 * k + a + b - 2.0  # 2k + alpha + beta
    diagonal = np.empty(nodes)
    diagonal[0] = (a - b) / (a + b)
    diagonal[1:] = (a - b) * (a + b - 2.0) / (total[1:] * (total[1:] + 2.0))
    j = k[1:]
    s = total[1:]
    off = np.empty(nodes - 1)
    # k = 1: the factor (1 + alpha + beta) cancels (it vanishes when a + b = 1)
    off[0] = 4.0 * a * b / ((a + b) ** 2 * (a + b + 1.0))
    off[1:] = (
        4.0
        * j[1:]
        * (j[1:] + alpha)
        * (j[1:] + beta)
        * (j[1:] + alpha + beta)
        / (s[1:] ** 2 * (s[1:] + 1.0) * (s[1:] - 1.0))
    )
    u, vectors = eigh_tridiagonal(diagonal, np.sqrt(off))
    weights = vectors[0] ** 2
    return np.clip(0.5 * (1.0 + u), 0.0, 1.0), weights / weights.sum()
