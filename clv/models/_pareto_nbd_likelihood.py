r"""Pareto/NBD's likelihood with its gradient, per row and as a weighted total.

Functions of ``params = [r, alpha, s, beta]`` and ``x``, ``t_x``, ``T`` in one time
unit (Schmittlein, Morrison & Colombo 1987: Poisson purchases at ``lambda ~ Gamma(r,
alpha)``, exponential lifetimes at ``mu ~ Gamma(s, beta)``); the integral :math:`I` is
in :mod:`clv.models._pareto_nbd_integral`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from clv.models._arrays import dot
from clv.models._pareto_nbd_integral import FloatArray, log_integral
from clv.models._shared_terms import remembered
from clv.models._stable import digamma_difference, log_add_exp, log_pochhammer

__all__ = ["fit_statistics", "log_likelihood", "total_log_likelihood"]


def unpack(params: ArrayLike) -> tuple[float, float, float, float]:
    p = np.asarray(params, dtype=np.float64).reshape(-1)
    if p.shape != (4,):
        raise ValueError(f"params must hold [r, alpha, s, beta]; got shape {p.shape}")
    r, alpha, s, beta = (float(v) for v in p)
    return r, alpha, s, beta


def flat_rows(*arrays: ArrayLike) -> tuple[tuple[FloatArray, ...], tuple[int, ...]]:
    """Broadcast the inputs together and flatten them to float rows."""
    arrs = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))
    shape = arrs[0].shape
    return tuple(np.ascontiguousarray(a).reshape(-1) for a in arrs), shape


def log_parts(
    params: ArrayLike, x: FloatArray, t_x: FloatArray, T: FloatArray, moments: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None]:
    """Return (ll, log E, log(s I), moments) with E the 'alive at T' term of eq. 18.

    Once per equal inputs inside :func:`clv.models._shared_terms.shared_terms`.
    """
    return remembered(
        "pareto_nbd.log_parts",
        (np.asarray(params, dtype=np.float64), x, t_x, T, moments),
        lambda: _compute_log_parts(params, x, t_x, T, moments),
    )


def _compute_log_parts(
    params: ArrayLike, x: FloatArray, t_x: FloatArray, T: FloatArray, moments: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None]:
    r, alpha, s, beta = unpack(params)
    a = r + x
    log_c = log_pochhammer(r, x) + r * np.log(alpha) + s * np.log(beta)
    log_e = -a * np.log(alpha + T) - s * np.log(beta + T)
    log_i, mom = log_integral(a, s + 1.0, alpha, beta, t_x, T, moments)
    log_si = np.log(s) + log_i
    ll = log_c + log_add_exp(log_e, log_si)
    return ll, log_e, log_si, mom


def log_likelihood(
    params: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    r"""Individual Pareto/NBD log-likelihood (per row) and its gradient in ``(r, alpha, s, beta)``.

    Fader & Hardie (2005) note, eq. 18, with :math:`I` by quadrature:

    .. math::

        \ell = \log\Gamma(r+x) - \log\Gamma(r) + r\log\alpha + s\log\beta
               + \log\left[(\alpha+T)^{-(r+x)}(\beta+T)^{-s} + s I\right].

    With :math:`E = (\alpha+T)^{-(r+x)}(\beta+T)^{-s}`, :math:`p = E / (E + sI)` and
    :math:`\langle\cdot\rangle` the mean over :math:`y \in (t_x, T)` weighted by the
    integrand of :math:`I`:

    .. math::

        \partial_r \ell &= \psi(r+x) - \psi(r) + \log\alpha - p\log(\alpha+T)
                          - (1-p)\langle\log(\alpha+y)\rangle \\
        \partial_\alpha \ell &= r/\alpha - (r+x)\left[p/(\alpha+T)
                          + (1-p)\langle 1/(\alpha+y)\rangle\right] \\
        \partial_s \ell &= \log\beta - p\log(\beta+T) + (1-p)/s
                          - (1-p)\langle\log(\beta+y)\rangle \\
        \partial_\beta \ell &= s/\beta - p\, s/(\beta+T)
                          - (1-p)(s+1)\langle 1/(\beta+y)\rangle
    """
    (x, t_x, T), shape = flat_rows(x, t_x, T)
    r, alpha, s, beta = unpack(params)
    ll, log_e, log_si, mom = log_parts(params, x, t_x, T, moments=True)
    assert mom is not None
    p = np.exp(log_e - np.logaddexp(log_e, log_si))
    q = 1.0 - p
    a = r + x
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = digamma_difference(r, x) + np.log(alpha) - p * np.log(alpha + T) - q * mom[:, 0]
    grad[:, 1] = r / alpha - a * (p / (alpha + T) + q * mom[:, 2])
    grad[:, 2] = np.log(beta) - p * np.log(beta + T) + q / s - q * mom[:, 1]
    grad[:, 3] = s / beta - p * s / (beta + T) - q * (s + 1.0) * mom[:, 3]
    return ll.reshape(shape), grad.reshape(shape + (4,))


def fit_statistics(
    x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray
) -> dict[str, FloatArray | float]:
    """Parameter-free sums of weighted rows for :func:`total_log_likelihood`, once per fit."""
    x_codes, x_levels = pd.factorize(x, sort=False)
    T_codes, T_levels = pd.factorize(T, sort=False)
    x_codes, T_codes = x_codes.astype(np.intp), T_codes.astype(np.intp)
    x = np.asarray(x, dtype=np.float64)
    return {
        "total": float(weights.sum()),
        "x_levels": np.asarray(x_levels, dtype=np.float64),
        "by_x": np.bincount(x_codes, weights=weights, minlength=len(x_levels)),
        "T_levels": np.asarray(T_levels, dtype=np.float64),
        "T_code": T_codes,
        "by_T": np.bincount(T_codes, weights=weights, minlength=len(T_levels)),
        "x_by_T": np.bincount(T_codes, weights=weights * x, minlength=len(T_levels)),
        "x": x,
        "t_x": np.asarray(t_x, dtype=np.float64),
        "T": np.asarray(T, dtype=np.float64),
        "w": np.asarray(weights, dtype=np.float64),
    }


def total_log_likelihood(params: ArrayLike, stats: dict) -> tuple[float, FloatArray]:
    """Weighted total of :func:`log_likelihood` and its gradient from :func:`fit_statistics`."""
    r, alpha, s, beta = unpack(params)
    total, by_x, by_T, x_by_T = stats["total"], stats["by_x"], stats["by_T"], stats["x_by_T"]
    x_levels, T_levels, T_code = stats["x_levels"], stats["T_levels"], stats["T_code"]
    w, x = stats["w"], stats["x"]
    log_aT, log_bT = np.log(alpha + T_levels), np.log(beta + T_levels)
    a = x + r
    log_e = np.take(log_aT, T_code)
    log_e *= -a
    log_e -= s * np.take(log_bT, T_code)
    log_i, mom = log_integral(a, s + 1.0, alpha, beta, stats["t_x"], stats["T"], True)
    assert mom is not None
    # d = log(sI / E); ll = log E + softplus(d), P(alive) = 1 / (1 + e^d)
    d = np.log(s) + log_i
    d -= log_e
    small = np.abs(d)
    np.negative(small, out=small)
    np.exp(small, out=small)  # e^-|d| in [0, 1]
    one_plus = small + 1.0
    softplus = np.log(one_plus)
    softplus += np.maximum(d, 0.0)
    positive = d > 0.0
    p = np.where(positive, small, 1.0)
    p /= one_plus
    q = np.where(positive, 1.0, small)
    q /= one_plus
    wp = np.multiply(w, p, out=p)
    wq = np.multiply(w, q, out=q)
    n_T = r * by_T + x_by_T  # weights * (r + x) per distinct T
    ll = (
        dot(by_x, log_pochhammer(r, x_levels))
        + total * (r * np.log(alpha) + s * np.log(beta))
        - dot(n_T, log_aT)
        - s * dot(by_T, log_bT)
        + dot(w, softplus)
    )
    wp_T = np.bincount(T_code, weights=wp, minlength=len(T_levels))
    wpa_T = np.bincount(T_code, weights=wp * a, minlength=len(T_levels))
    wq_total = float(wq.sum())
    mom_q = np.einsum("i,ij->j", wq, mom)
    grad = np.array(
        [
            dot(by_x, digamma_difference(r, x_levels))
            + total * np.log(alpha)
            - dot(wp_T, log_aT)
            - mom_q[0],
            total * r / alpha - dot(wpa_T, 1.0 / (alpha + T_levels)) - dot(wq * a, mom[:, 2]),
            total * np.log(beta) - dot(wp_T, log_bT) + wq_total / s - mom_q[1],
            total * s / beta - s * dot(wp_T, 1.0 / (beta + T_levels)) - (s + 1.0) * mom_q[3],
        ]
    )
    return float(ll), grad
