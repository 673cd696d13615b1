"""BG/NBD's mathematics (MBG/NBD's with ``shift=1``): likelihood, statistics, predictions.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers the Easy
Way: An Alternative to the Pareto/NBD Model." *Marketing Science* 24(2), 275-284.
Equation numbers refer to that paper.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import expit, hyp2f1, log_expit

from clv.models._arrays import dot, gather_by_integer, pairs_inverse
from clv.models._stable import beta_rule, digamma_difference, log_pochhammer

__all__ = [
    "bgnbd_log_likelihood",
    "closed_form_in_range",
    "conditional_expected_purchases",
    "expected_purchases_given_alive",
    "expected_purchases_new_customer",
    "frequency_terms",
    "gamma_rate_moments",
    "log_odds_dead",
    "mixture_statistics",
    "mixture_total_log_likelihood",
]

#: Above this ``r`` the fit's gap term uses ``log1p`` per row (else a difference of logs).
_LARGE_SHAPE = 1e4
_JACOBI_NODES = 48


def frequency_terms(r: float, a: float, b: float, shift: float = 0.0):
    """Parts of the log-likelihood that depend on the row only through x (eq. 6).

    ``shift=1`` gives MBG/NBD's (a dropout at time 0 too: ``b + x`` becomes ``b + x + 1``).
    """

    def table(k: np.ndarray):
        j = k + shift
        # log Gamma(r+k)/Gamma(r) + log B(a, b+j)/B(a, b), without cancellation at 1e10
        constant = log_pochhammer(r, k) + log_pochhammer(b, j) - log_pochhammer(a + b, j)
        d_r = digamma_difference(r, k)
        d_a = -digamma_difference(a + b, j)
        d_b = digamma_difference(b, j) + d_a
        positive = j > 0
        safe = np.where(positive, b + j - 1.0, 1.0)
        log_dropout = np.where(positive, np.log(a) - np.log(safe), -np.inf)
        inverse_bk = np.where(positive, 1.0 / safe, 0.0)
        return constant, d_r, d_a, d_b, log_dropout, inverse_bk

    return table


def bgnbd_log_likelihood(params: np.ndarray, data: Mapping[str, np.ndarray], shift: float = 0.0):
    """Per-customer log-likelihood (eq. 6) and its gradient in (r, alpha, a, b).

    ``shift=1``: MBG/NBD's (Batislam et al. 2007, eq. 4).
    """
    r, alpha, a, b = params
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    constant, d_r, d_a, d_b, log_dropout, inverse_bk = gather_by_integer(
        x, frequency_terms(r, a, b, shift)
    )
    log_T = np.log(alpha + T)
    growth_T, growth_tx = np.log1p(T / alpha), np.log1p(t_x / alpha)  # log((alpha+T)/alpha)
    rx = r + x
    alive = -r * growth_T - x * log_T  # r log(alpha) - (r + x) log(alpha + T)
    gap = log_dropout + rx * np.log1p((T - t_x) / (alpha + t_x))
    share = expit(gap)
    ll = constant + alive - log_expit(-gap)
    grad = np.empty((len(x), 4))
    grad[:, 0] = d_r - (1 - share) * growth_T - share * growth_tx
    grad[:, 1] = r * ((1 - share) * T / (alpha + T) + share * t_x / (alpha + t_x)) / alpha - x * (
        (1 - share) / (alpha + T) + share / (alpha + t_x)
    )
    grad[:, 2] = d_a + share / a
    grad[:, 3] = d_b - share * inverse_bk
    return ll, grad


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and, per row, the index of its value (hash-based, unsorted)."""
    codes, levels = pd.factorize(values, sort=False)
    return np.asarray(levels), codes.astype(np.intp)


def mixture_statistics(
    data: Mapping[str, np.ndarray], weights: np.ndarray, mixture: np.ndarray
) -> dict[str, np.ndarray | float]:
    """Parameter-free summaries of the data for :func:`mixture_total_log_likelihood`, once per fit.

    The log-likelihood is ``c(x) + r log(alpha) - (r + x) log(alpha + T) + [mixture]
    softplus(gap)``: terms in ``x`` alone are summed per distinct ``x``, in ``T`` alone per
    distinct ``T``, and only ``gap`` needs the rows where ``mixture`` holds (those who may
    have dropped out).
    """
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    x_levels, x_code = _codes(x)
    T_levels, T_code = _codes(T)
    rows = np.flatnonzero(mixture)
    tx_levels, tx_code = _codes(t_x[rows])
    w = weights[rows]
    return {
        "total": float(weights.sum()),
        "x_levels": x_levels,
        "by_x": np.bincount(x_code, weights=weights, minlength=len(x_levels)),
        "T_levels": T_levels,
        "by_T": np.bincount(T_code, weights=weights, minlength=len(T_levels)),
        "x_by_T": np.bincount(T_code, weights=weights * x, minlength=len(T_levels)),
        "tx_levels": tx_levels,
        "w": w,
        "x": x[rows].astype(np.float64),
        "x_code": x_code[rows],
        "T_code": T_code[rows],
        "tx_code": tx_code,
    }


def mixture_total_log_likelihood(
    params: np.ndarray, stats: Mapping, shift: float = 0.0
) -> tuple[float, np.ndarray]:
    """Weighted total log-likelihood and gradient of the BG/NBD family from ``stats``.

    See :func:`mixture_statistics`; ``shift`` as in :func:`frequency_terms`.
    """
    r, alpha, a, b = params
    terms = frequency_terms(r, a, b, shift)
    constant, d_r, d_a, d_b, log_dropout, inverse_b = terms(stats["x_levels"])
    by_x, by_T = stats["by_x"], stats["by_T"]
    alpha_T = alpha + stats["T_levels"]
    alpha_tx = alpha + stats["tx_levels"]
    log_T, inv_T = np.log(alpha_T), 1.0 / alpha_T
    log_tx, inv_tx = np.log(alpha_tx), 1.0 / alpha_tx
    T_code, tx_code, x_code = stats["T_code"], stats["tx_code"], stats["x_code"]
    # the rows where the customer may have dropped out after the last purchase
    w = stats["w"]
    rx = stats["x"] + r
    if r > _LARGE_SHAPE:  # (r + x) times a difference of logs would cancel: use log1p
        t_x, T = stats["tx_levels"][tx_code], stats["T_levels"][T_code]
        log_ratio = np.log1p((T - t_x) / (alpha + t_x))
    else:
        log_ratio = np.take(log_T, T_code)
        log_ratio -= np.take(log_tx, tx_code)  # log((alpha + T) / (alpha + t_x)) >= 0
    gap = np.multiply(rx, log_ratio)
    gap += np.take(log_dropout, x_code)
    # softplus(gap) = log(1 + e^gap) = max(gap, 0) + log(1 + e^-|gap|) and the share
    # e^gap / (1 + e^gap) with one exp and one log per row (the costly part)
    small = np.abs(gap)
    np.negative(small, out=small)
    np.exp(small, out=small)  # e^-|gap| in (0, 1]
    one_plus = small + 1.0
    softplus = np.log(one_plus)  # 1 + e^-|gap| lies in (1, 2]: log is accurate enough
    softplus += np.maximum(gap, 0.0)
    share = np.where(gap >= 0.0, 1.0, small)
    share /= one_plus  # P(dropped out at t_x | history, rate)
    w_share = np.multiply(w, share, out=share)
    growth_T = np.log1p(stats["T_levels"] / alpha)  # log((alpha + T) / alpha)
    x_by_T = stats["x_by_T"]  # sum of weights * x per distinct T
    # r log(alpha) - (r + x) log(alpha + T), without cancellation when r and alpha are huge
    ll = dot(by_x, constant) - r * dot(by_T, growth_T) - dot(x_by_T, log_T) + dot(w, softplus)
    w_share_x = np.bincount(x_code, weights=w_share, minlength=len(by_x))
    w_share_rx = np.multiply(w_share, rx, out=rx)
    grad = np.array(
        [
            dot(by_x, d_r) - dot(by_T, growth_T) + dot(w_share, log_ratio),
            r / alpha * dot(by_T, stats["T_levels"] * inv_T)
            - dot(x_by_T, inv_T)
            - dot(np.bincount(tx_code, weights=w_share_rx, minlength=len(inv_tx)), inv_tx)
            + dot(np.bincount(T_code, weights=w_share_rx, minlength=len(inv_T)), inv_T),
            dot(by_x, d_a) + w_share_x.sum() / a,
            dot(by_x, d_b) - dot(w_share_x, inverse_b),
        ]
    )
    return ll, grad


def gamma_rate_moments(data: Mapping[str, np.ndarray], weights: np.ndarray) -> tuple[float, float]:
    """Method-of-moments ``(r, alpha)`` of the gamma purchase rate (dropout ignored), a start.

    Rates ``x / T`` have mean ``r / alpha`` and variance ``r / alpha**2 + E[lambda / T]``;
    ``(1, 1 / mean rate)`` when they are not over-dispersed.
    """
    x, T = data["frequency"].astype(np.float64), data["T"]
    observed = T > 0
    w, x, T = weights[observed], x[observed], T[observed]
    total_x, total_T = dot(weights, data["frequency"].astype(np.float64)), dot(weights, data["T"])
    rate = total_x / total_T if total_x > 0 else 1.0 / max(total_T / weights.sum(), 1e-9)
    if w.sum() <= 0:
        return 1.0, 1.0 / rate
    per_customer = x / T
    mean = dot(w, per_customer) / w.sum()
    excess = (dot(w, (per_customer - mean) ** 2) - dot(w, per_customer / T)) / w.sum()
    if mean > 0 and excess > 0:
        alpha = mean / excess
        if 1e-6 < mean * alpha < 1e6 and 1e-6 < alpha < 1e6 * max(1.0, total_T / weights.sum()):
            return mean * alpha, alpha
    return 1.0, 1.0 / rate


def log_odds_dead(params: np.ndarray, x, t_x, T, shift: float = 0.0):
    """``log(P(dead) / P(alive))`` given the history (eq. 13 rearranged).

    ``shift=1``: MBG/NBD's (Batislam et al. 2007, Appendix A eq. 5).
    """
    r, alpha, a, b = params
    positive = x + shift > 0
    safe = np.where(positive, b + x - 1.0 + shift, 1.0)
    value = np.log(a) - np.log(safe) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(positive, value, -np.inf)


def _near_hypergeometric_pole(a: float, c: np.ndarray, tolerance: float = 1e-3) -> np.ndarray:
    """Rows near a pole of eq. (10)'s ``2F1`` (``c = 0, -1, ...``) or of ``1 / (a - 1)``."""
    c = np.asarray(c, dtype=float)
    near_pole = (c < 0.5) & (np.abs(c - np.round(c)) < tolerance)
    return near_pole | (abs(a - 1.0) < tolerance)


def _closed_form_unreliable(params: np.ndarray, limit: float = 1e4) -> bool:
    """Tell whether a parameter passed ``limit``: eq. (10)'s ``2F1`` cancels (-217 at b=9.4e9)."""
    return bool(np.max(params) > limit)


def closed_form_in_range(value: np.ndarray, shape: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Rows where an expected count given alive lies in ``[0, shape * spread]`` (else imprecise)."""
    with np.errstate(invalid="ignore", over="ignore"):
        upper = np.asarray(shape * spread, dtype=float) * (1.0 + 1e-9)
        return np.isfinite(value) & (value >= 0.0) & (value <= upper)


def expected_purchases_given_alive(
    params: np.ndarray, x: np.ndarray, T: np.ndarray, horizon: float, dropout_scale: float = 1.0
) -> np.ndarray:
    """``E[Y(t) | x, T, alive]`` by Gauss-Jacobi quadrature over the dropout probability.

    Given alive at ``T``, the rate is Gamma(r + x, alpha + T) and the dropout probability
    ``p`` Beta(a, b + x); a customer makes ``(1 - ((alpha+T) / (alpha+T+p t)) ** (r+x)) / p``
    expected purchases, a smooth bounded function of ``p`` integrated by
    :func:`clv.models._stable.beta_rule`. It is eq. (10) over P(alive), finite where that
    closed form meets a pole. ``dropout_scale`` multiplies ``p`` from ``T`` on (the
    retention scenario of :mod:`clv.models.retention`).
    """
    r, alpha, a, b = (float(v) for v in params)
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    out = np.empty(len(x))
    for value in np.unique(x):
        rows = x == value
        p, weights = beta_rule(a, b + value, _JACOBI_NODES)  # Beta(a, b + x), any shape
        p = dropout_scale * p
        spread = horizon / (alpha + T[rows, None])  # t / (alpha + T)
        shrink = -np.expm1(-(r + value) * np.log1p(p * spread))
        with np.errstate(divide="ignore", invalid="ignore"):
            per_node = np.where(p > 0.0, shrink / np.where(p > 0.0, p, 1.0), (r + value) * spread)
        out[rows] = per_node @ weights
    return out


def conditional_expected_purchases(
    params: np.ndarray, x: np.ndarray, T: np.ndarray, p_alive: np.ndarray, horizons: np.ndarray
) -> np.ndarray:
    """Eq. (10): ``E[Y(t) | x, t_x, T]``, per distinct (x, T) pair, one column per horizon.

    ``p_alive`` is eq. (13) per row; where the closed form is ill-conditioned (near a
    pole of ``2F1``, out of its bounds or at runaway parameters) the expectation given
    alive comes from :func:`expected_purchases_given_alive`.
    """
    r, alpha, a, b = params
    first, inverse = pairs_inverse(x, T)
    ux, uT = x[first], T[first]
    out = np.empty((len(x), len(horizons)))
    for column, t in enumerate(horizons):
        z = t / (alpha + uT + t)
        with np.errstate(all="ignore"):
            log_hyp = np.log(hyp2f1(r + ux, b + ux, a + b + ux - 1, z))
            c_a, c_b, c = a + b + ux - 1 - (r + ux), a - 1, a + b + ux - 1
            alternative = np.log(hyp2f1(c_a, c_b, c, z)) + (c - (r + ux) - (b + ux)) * np.log1p(-z)
        log_hyp = np.where(np.isinf(log_hyp), alternative, log_hyp)
        bracket = 1.0 - np.exp(log_hyp + (r + ux) * np.log((alpha + uT) / (alpha + uT + t)))
        numerator = (a + b + ux - 1) / (a - 1) * bracket
        unstable = (
            _near_hypergeometric_pole(a, a + b + ux - 1)
            | ~closed_form_in_range(numerator, r + ux, t / (alpha + uT))
            | _closed_form_unreliable(params)
        )
        if unstable.any():
            numerator[unstable] = expected_purchases_given_alive(
                params, ux[unstable], uT[unstable], t
            )
        out[:, column] = numerator[inverse] * p_alive
    return out


def expected_purchases_new_customer(
    params: np.ndarray, horizon, dropout_at_start: bool = False
) -> np.ndarray | float:
    """Eq. (9): ``E[X(t)]`` for a customer who just made a first purchase.

    Falls back to :func:`expected_purchases_given_alive` at ``x = T = 0`` where the
    closed form is ill-conditioned. ``dropout_at_start`` (MBG/NBD): survive time 0
    with probability ``b / (a + b)``, then BG/NBD's process with ``b + 1``.
    """
    r, alpha, a, b = params
    if dropout_at_start:
        shifted = np.array([r, alpha, a, b + 1.0])
        return b / (a + b) * expected_purchases_new_customer(shifted, horizon)
    with np.errstate(all="ignore"):
        hyp = hyp2f1(r, b, a + b - 1, horizon / (alpha + horizon))
        value = (a + b - 1) / (a - 1) * (1 - hyp * (alpha / (alpha + horizon)) ** r)
    value = np.array(value, dtype=float)
    unstable = (
        ~closed_form_in_range(value, r, horizon / alpha)
        | _near_hypergeometric_pole(a, np.float64(a + b - 1))
        | _closed_form_unreliable(params)
    )
    if unstable.any():
        zero = np.zeros(1)
        fallback = [
            expected_purchases_given_alive(params, zero, zero, float(t))[0]
            for t in np.broadcast_to(horizon, value.shape)[unstable]
        ]
        value[unstable] = fallback
    return value if value.ndim else float(value)
