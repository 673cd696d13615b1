r"""Pareto/NBD's predictions and simulation, on ``[r, alpha, s, beta]`` and ``x, t_x, T``."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import hyperu

from clv.models._pareto_nbd_integral import TAIL, FloatArray
from clv.models._pareto_nbd_likelihood import flat_rows, log_parts, unpack
from clv.models._stable import exp_or_zero, log_add_exp, unit_legendre

__all__ = [
    "conditional_expected_purchases",
    "conditional_probability_no_purchase",
    "discounted_expected_residual_transactions",
    "expected_purchases_new_customer",
    "probability_alive",
    "sample",
]

#: Gauss-Legendre nodes per row for the discounting integral (DERT).
_N_NODES = 32

_GL_U, _GL_W = unit_legendre(_N_NODES)
_LOG_GL_W = np.log(_GL_W)


def log_p_alive(params: ArrayLike, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    _, log_e, log_si, _ = log_parts(params, x, t_x, T, moments=False)
    return log_e - log_add_exp(log_e, log_si)


def probability_alive(params: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    r"""P(alive at T | x, t_x, T): Fader & Hardie (2005) note, eq. 36, in log space."""
    (x, t_x, T), shape = flat_rows(x, t_x, T)
    return np.clip(exp_or_zero(log_p_alive(params, x, t_x, T)), 0.0, 1.0).reshape(shape)


def one_minus_pow_over(k: float, q: FloatArray) -> FloatArray:
    r""":math:`(1 - e^{-k q}) / k`, with the limit :math:`q` at :math:`k = 0`."""
    kq = k * q
    small = np.abs(kq) < 1e-8
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(-kq) / k if k != 0.0 else q.copy()
    return np.where(small, q * (1.0 - 0.5 * kq), out)


def expected_purchases_new_customer(params: ArrayLike, t: ArrayLike) -> FloatArray:
    r"""``E[X(t)]`` for a new customer: Fader & Hardie (2005) note, eq. 27.

    .. math::

        E[X(t)] = \frac{r\beta}{\alpha(s-1)}
                  \left[1 - \left(\frac{\beta}{\beta+t}\right)^{s-1}\right]

    (limit at :math:`s = 1`: :math:`\frac{r\beta}{\alpha}\log(1 + t/\beta)`).
    """
    r, alpha, s, beta = unpack(params)
    t = np.asarray(t, dtype=np.float64)
    return r / alpha * beta * one_minus_pow_over(s - 1.0, np.log1p(t / beta))


def conditional_expected_purchases(
    params: ArrayLike, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    r"""``E[Y(t) | x, t_x, T]``, purchases in ``(T, T + t]``: Fader & Hardie (2005) note, eq. 41.

    .. math::

        E[Y(t) \mid x, t_x, T] = P(\text{alive}) \,\frac{(r+x)(\beta+T)}{(\alpha+T)(s-1)}
            \left[1 - \left(\frac{\beta+T}{\beta+T+t}\right)^{s-1}\right]
    """
    (t, x, t_x, T), shape = flat_rows(t, x, t_x, T)
    r, alpha, s, beta = unpack(params)
    log_pa = log_p_alive(params, x, t_x, T)
    growth = (beta + T) * one_minus_pow_over(s - 1.0, np.log1p(t / (beta + T)))
    out = exp_or_zero(log_pa + np.log(r + x) - np.log(alpha + T)) * growth
    return out.reshape(shape)


def conditional_probability_no_purchase(
    params: ArrayLike, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    r"""Probability of no purchase in ``(T, T + t]`` given the history (the churn probability).

    The individual likelihood (note eq. 11) is the density of the purchase history followed
    by no purchase up to the end of observation, so

    .. math::

        P(Y(t) = 0 \mid x, t_x, T) = \frac{L(r, \alpha, s, \beta \mid x, t_x, T + t)}
                                          {L(r, \alpha, s, \beta \mid x, t_x, T)},

    a difference of log-likelihoods (note 028, eq. 16 at n = 0, gives the same number).
    """
    (t, x, t_x, T), shape = flat_rows(t, x, t_x, T)
    ll_now, _, _, _ = log_parts(params, x, t_x, T, moments=False)
    ll_later, _, _, _ = log_parts(params, x, t_x, T + t, moments=False)
    return np.clip(exp_or_zero(ll_later - ll_now), 0.0, 1.0).reshape(shape)


def _log_discount_integral(s: float, z: FloatArray) -> FloatArray:
    r"""Log of :math:`J(s, z)`: Gauss-Legendre in :math:`\log(1+v)`, tails cut at :math:`e^{-45}`.

    Below z = 0.01 ``hyperu``'s series, where it is finite (the rule loses digits there).
    """
    c = s - 1.0
    # Past zeta_b the slope -z e^zeta - c is below -TAIL (or zeta_b = 0); zeta_b lies
    # beyond the mode log(-c / z) of phi when c < 0.
    zeta_b = np.log(np.maximum(1.0, (TAIL + abs(c)) / z))
    upper = zeta_b + TAIL / (z * np.exp(zeta_b) + c)
    slope_0 = -z - c
    with np.errstate(divide="ignore"):
        upper = np.where(slope_0 < 0.0, np.minimum(upper, -TAIL / slope_0), upper)
    zeta = upper[:, None] * _GL_U
    lg = -z[:, None] * np.expm1(zeta) - c * zeta + _LOG_GL_W
    top = lg.max(axis=1)
    out = top + np.log(np.exp(lg - top[:, None]).sum(axis=1)) + np.log(upper)
    # For small z the rule above loses digits (the log-integrand spans a long range);
    # there scipy's series for U is accurate: use it wherever it is finite.
    small = z < 1e-2
    if small.any():
        with np.errstate(all="ignore"):
            u = hyperu(s, s, z[small])
            alt = c * np.log(z[small]) + np.log(u)
        out[small] = np.where(np.isfinite(alt) & (u > 0), alt, out[small])
    return out


def discounted_expected_residual_transactions(
    params: ArrayLike, delta: float | ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    r"""Discounted expected residual transactions (DERT), continuous discounting at ``delta``.

    Fader, Hardie & Lee (2005), JMR 42(4), eq. 2, written as
    ``P(alive) (r+x)/(alpha+T) (beta+T) J(s, delta (beta+T))`` with
    :math:`J(s, z) = z^{s-1}\Psi(s, s; z) = \int_0^\infty e^{-zv}(1+v)^{-s}dv`, in log space.
    ``delta`` is per time unit (a yearly rate ``d`` over weeks: ``log(1 + d) / 52``).
    """
    (delta, x, t_x, T), shape = flat_rows(delta, x, t_x, T)
    r, alpha, s, beta = unpack(params)
    log_pa = log_p_alive(params, x, t_x, T)
    log_j = _log_discount_integral(s, delta * (beta + T))
    out = exp_or_zero(log_pa + np.log(r + x) - np.log(alpha + T) + np.log(beta + T) + log_j)
    return out.reshape(shape)


def sample(
    params: ArrayLike, T: ArrayLike, rng: np.random.Generator | int | None = None
) -> tuple[FloatArray, FloatArray]:
    r"""Simulate Pareto/NBD customers observed for lengths ``T``; return ``(x, t_x)``.

    Per customer ``lambda ~ Gamma(r, alpha)``, ``mu ~ Gamma(s, beta)``, a lifetime
    ``tau ~ Exp(mu)``; ``x ~ Poisson(lambda min(tau, T))`` and ``t_x = min(tau, T) U^(1/x)``.
    """
    r, alpha, s, beta = unpack(params)
    gen = np.random.default_rng(rng)
    T = np.asarray(T, dtype=np.float64)
    shape = T.shape
    T = T.reshape(-1)
    n = T.shape[0]
    lam = gen.gamma(r, 1.0 / alpha, n)
    mu = gen.gamma(s, 1.0 / beta, n)
    with np.errstate(divide="ignore"):
        tau = gen.standard_exponential(n) / mu
    active = np.minimum(tau, T)
    x = gen.poisson(lam * active).astype(np.float64)
    u = gen.random(n)
    bought = x > 0
    t_x = np.zeros(n)
    t_x[bought] = active[bought] * np.exp(np.log(u[bought]) / x[bought])
    return x.reshape(shape), t_x.reshape(shape)
