r"""Pareto/NBD's predictions and simulation.

Pure numpy functions on a parameter vector ``params = [r, alpha, s, beta]`` and
customer summaries ``x`` (repeat purchases), ``t_x`` (time of the last purchase)
and ``T`` (length of observation), all in one time unit: P(alive), expected purchases
(new and given the history), the probability of no purchase, the discounted expected
residual transactions and a simulator. The likelihood and the integral it holds are in
:mod:`clv.models._pareto_nbd_likelihood`, whose log-space parts give P(alive) here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import hyperu

from clv.models._pareto_nbd_integral import _TAIL, FloatArray
from clv.models._pareto_nbd_likelihood import _log_parts, _rows, _unpack
from clv.models._stable import exp_or_zero, log_add_exp

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

_GL_X, _GL_W = np.polynomial.legendre.leggauss(_N_NODES)
_GL_U = 0.5 * (_GL_X + 1.0)  # nodes on [0, 1]
_GL_W = 0.5 * _GL_W  # weights on [0, 1]
_LOG_GL_W = np.log(_GL_W)


def _log_p_alive(params: ArrayLike, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    _, log_e, log_si, _ = _log_parts(params, x, t_x, T, moments=False)
    return log_e - log_add_exp(log_e, log_si)


def probability_alive(params: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    r"""Probability that a customer with history ``(x, t_x, T)`` is alive at ``T``.

    Fader & Hardie (2005) note, eq. 36 (= Schmittlein et al. 1987, eq. 11):

    .. math::

        P(\text{alive}) = \frac{(\alpha+T)^{-(r+x)}(\beta+T)^{-s}}
                               {(\alpha+T)^{-(r+x)}(\beta+T)^{-s} + s I},

    evaluated in log space, so it stays in [0, 1] for any x and T.
    """
    (x, t_x, T), shape = _rows(x, t_x, T)
    return np.clip(exp_or_zero(_log_p_alive(params, x, t_x, T)), 0.0, 1.0).reshape(shape)


def _one_minus_pow_over(k: float, q: FloatArray) -> FloatArray:
    r""":math:`(1 - e^{-k q}) / k`, with the limit :math:`q` at :math:`k = 0`."""
    kq = k * q
    small = np.abs(kq) < 1e-8
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(-kq) / k if k != 0.0 else q.copy()
    return np.where(small, q * (1.0 - 0.5 * kq), out)


def expected_purchases_new_customer(params: ArrayLike, t: ArrayLike) -> FloatArray:
    r"""Return the expected repeat purchases in ``(0, t]`` for a new customer.

    Fader & Hardie (2005) note, eq. 27:

    .. math::

        E[X(t)] = \frac{r\beta}{\alpha(s-1)}
                  \left[1 - \left(\frac{\beta}{\beta+t}\right)^{s-1}\right],

    with the limit :math:`\frac{r\beta}{\alpha}\log(1 + t/\beta)` at :math:`s = 1`.
    """
    r, alpha, s, beta = _unpack(params)
    t = np.asarray(t, dtype=np.float64)
    return r / alpha * beta * _one_minus_pow_over(s - 1.0, np.log1p(t / beta))


def conditional_expected_purchases(
    params: ArrayLike, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    r"""Return the expected purchases in ``(T, T + t]`` given the history.

    Fader & Hardie (2005) note, eq. 41:

    .. math::

        E[Y(t) \mid x, t_x, T] = P(\text{alive}) \,\frac{(r+x)(\beta+T)}{(\alpha+T)(s-1)}
            \left[1 - \left(\frac{\beta+T}{\beta+T+t}\right)^{s-1}\right],

    with the limit :math:`\frac{(r+x)(\beta+T)}{\alpha+T}\log(1 + t/(\beta+T))` at
    :math:`s = 1`.
    """
    (t, x, t_x, T), shape = _rows(t, x, t_x, T)
    r, alpha, s, beta = _unpack(params)
    log_pa = _log_p_alive(params, x, t_x, T)
    growth = (beta + T) * _one_minus_pow_over(s - 1.0, np.log1p(t / (beta + T)))
    out = exp_or_zero(log_pa + np.log(r + x) - np.log(alpha + T)) * growth
    return out.reshape(shape)


def conditional_probability_no_purchase(
    params: ArrayLike, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    r"""Probability of no purchase in ``(T, T + t]`` given the history ``(x, t_x, T)``.

    The churn probability over the horizon ``t``:

    .. math::

        P(Y(t) = 0 \mid x, t_x, T) = 1 - P(\text{alive})
            + P(\text{alive})\, E\left[\frac{\mu}{\lambda+\mu}
            + \frac{\lambda}{\lambda+\mu} e^{-(\lambda+\mu)t}\right],

    the expectation over the posterior of alive customers,
    :math:`\lambda \sim \mathrm{Gamma}(r+x, \alpha+T)`,
    :math:`\mu \sim \mathrm{Gamma}(s, \beta+T)`. Its closed form: the individual
    likelihood (Fader & Hardie 2005 note, eq. 11) is the probability density of the
    purchase history followed by no purchase up to the end of observation, so
    observing the same purchases over ``T + t`` is the event "history, then no
    purchase in ``(T, T + t]``". Hence

    .. math::

        P(Y(t) = 0 \mid x, t_x, T) = \frac{L(r, \alpha, s, \beta \mid x, t_x, T + t)}
                                          {L(r, \alpha, s, \beta \mid x, t_x, T)},

    (Fader & Hardie 2006 note 028 eq. 16 at n = 0 gives the same number through
    hypergeometric functions), evaluated as a difference of log-likelihoods.
    """
    (t, x, t_x, T), shape = _rows(t, x, t_x, T)
    ll_now, _, _, _ = _log_parts(params, x, t_x, T, moments=False)
    ll_later, _, _, _ = _log_parts(params, x, t_x, T + t, moments=False)
    return np.clip(exp_or_zero(ll_later - ll_now), 0.0, 1.0).reshape(shape)


def _log_discount_integral(s: float, z: FloatArray) -> FloatArray:
    r"""Log of :math:`J(s, z) = \int_0^\infty e^{-z v} (1+v)^{-s} dv = z^{s-1} U(s, s, z)`.

    :math:`U` is the confluent hypergeometric function of the second kind. In
    :math:`\zeta = \log(1+v)` the log-integrand
    :math:`\varphi = -z(e^\zeta - 1) - (s-1)\zeta` is concave; the tail beyond a
    tangent point past the mode is cut at :math:`e^{-45}` and the rest integrated by
    Gauss-Legendre, as for the likelihood (agrees with adaptive quadrature to about
    1e-10 for z >= 0.01, where ``scipy.special.hyperu`` itself is off by up to 5e-9);
    below z = 0.01 ``hyperu``'s series is used where it is finite.
    """
    c = s - 1.0
    # Past zeta_b the slope -z e^zeta - c is below -_TAIL (or zeta_b = 0); zeta_b lies
    # beyond the mode log(-c / z) of phi when c < 0.
    zeta_b = np.log(np.maximum(1.0, (_TAIL + abs(c)) / z))
    upper = zeta_b + _TAIL / (z * np.exp(zeta_b) + c)
    slope_0 = -z - c
    with np.errstate(divide="ignore"):
        upper = np.where(slope_0 < 0.0, np.minimum(upper, -_TAIL / slope_0), upper)
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
    r"""Discounted expected residual transactions (DERT) with continuous discounting.

    Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer
    Base Analysis", JMR 42(4), eq. 2 (Pareto/NBD):

    .. math::

        \mathrm{DERT}(\delta \mid x, t_x, T) =
            \frac{\alpha^r\beta^s\delta^{s-1}\Gamma(r+x+1)\,\Psi(s, s; \delta(\beta+T))}
                 {\Gamma(r)(\alpha+T)^{r+x+1} L(r, \alpha, s, \beta \mid x, t_x, T)}
          = P(\text{alive})\,\frac{r+x}{\alpha+T}\,(\beta+T)\, J(s, \delta(\beta+T)),

    with :math:`\delta` the continuous discount rate per time unit (a yearly rate
    ``d`` over weekly data is ``delta = log(1 + d) / 52``), :math:`\Psi` the
    confluent hypergeometric function of the second kind and
    :math:`J(s, z) = z^{s-1}\Psi(s, s; z) = \int_0^\infty e^{-zv}(1+v)^{-s}dv`. The
    second form is evaluated in log space, so heavy buyers and long histories stay
    finite. Multiply by the margin per transaction to get the residual value.
    """
    (delta, x, t_x, T), shape = _rows(delta, x, t_x, T)
    r, alpha, s, beta = _unpack(params)
    log_pa = _log_p_alive(params, x, t_x, T)
    log_j = _log_discount_integral(s, delta * (beta + T))
    out = exp_or_zero(log_pa + np.log(r + x) - np.log(alpha + T) + np.log(beta + T) + log_j)
    return out.reshape(shape)


def sample(
    params: ArrayLike, T: ArrayLike, rng: np.random.Generator | int | None = None
) -> tuple[FloatArray, FloatArray]:
    r"""Simulate Pareto/NBD customers observed for lengths ``T``.

    Each customer draws :math:`\lambda \sim \mathrm{Gamma}(r, \text{rate } \alpha)`,
    :math:`\mu \sim \mathrm{Gamma}(s, \text{rate } \beta)` and a lifetime
    :math:`\tau \sim \mathrm{Exp}(\mu)` after the first purchase at time 0; repeat
    purchases form a Poisson process of rate :math:`\lambda` on
    :math:`(0, \min(\tau, T)]`. The count is Poisson with mean
    :math:`\lambda \min(\tau, T)`; given the count x > 0, the last purchase time is
    the maximum of x uniform times, :math:`\min(\tau, T)\,U^{1/x}`.

    Parameters
    ----------
    params : array_like, shape (4,)
        ``[r, alpha, s, beta]``.
    T : array_like
        Observation length of each customer.
    rng : numpy.random.Generator or int or None
        Random generator or seed.

    Returns
    -------
    x : ndarray
        Repeat purchases (float, integral values).
    t_x : ndarray
        Time of the last purchase (0 where ``x == 0``).
    """
    r, alpha, s, beta = _unpack(params)
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
