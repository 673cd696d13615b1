"""Numerically stable building blocks for the models' predictions.

Every function here is exact in floating point where the naive formula is, and
stays finite, in range and free of floating-point exceptions (it raises nothing
under ``np.seterr(all="raise")``) for arguments anywhere in the parameter box the
fit can return (``exp(+-25)``) and for any customer history:

* :func:`softplus`, :func:`exp_or_zero` and :func:`probability_from_log_odds` work
  in log space and never underflow: a probability below ``exp(-708)`` is returned
  as exactly 0 rather than as a subnormal number;
* :func:`log_pochhammer` and :func:`log_beta_ratio` give ``log Gamma(z + m) - log
  Gamma(z)`` and ``log B(a + x, b + y) - log B(a, b)`` without subtracting two
  huge ``gammaln`` values (which loses every digit once the arguments reach 1e10).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln

__all__ = [
    "exp_or_zero",
    "log_add_exp",
    "log_beta_ratio",
    "log_pochhammer",
    "probability_from_log_odds",
    "softplus",
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
    z, m = np.broadcast_arrays(np.asarray(z, dtype=np.float64), np.asarray(m, dtype=np.float64))
    positive = m > 0
    safe_m = np.where(positive, m, 1.0)
    with np.errstate(under="ignore"):
        direct = gammaln(safe_m) - betaln(z, safe_m)
    return np.where(positive, direct, 0.0)


def log_beta_ratio(a, b, x, y):
    """``log B(a + x, b + y) - log B(a, b)`` for ``a, b > 0`` and ``x, y >= 0``."""
    return log_pochhammer(a, x) + log_pochhammer(b, y) - log_pochhammer(np.add(a, b), np.add(x, y))
