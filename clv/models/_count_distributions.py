r"""Predictive distributions of purchase counts and survival, for every transaction model.

Dead at the end of observation, a customer buys nothing more; alive, the future is
the model's new-customer process at the posterior parameters, so
``P(Y(t) = n | history) = [n = 0] (1 - P(alive)) + P(alive) P_new(X(t) = n | theta')``
and ``P(alive at T + t) = P(alive) S(t | theta')``:

==========  ========================================  ==================================
model       new-customer formula                      posterior given alive at T (or n)
==========  ========================================  ==================================
BG/NBD      Fader, Hardie & Lee (2005) eq. (8)        r+x, alpha+T, a, b+x
MBG/NBD     BG/NBD's eq. (8) (no dropout at T)        r+x, alpha+T, a, b+x+1
Pareto/NBD  Fader & Hardie (2006) note 028 eq. (16)   r+x, alpha+T, s, beta+T
BG/BB       Fader, Hardie & Shang (2010) eq. (7)      alpha+x, beta+n-x, gamma, delta+n
==========  ========================================  ==================================

Functions take the (posterior) parameters as per-row arrays and counts ``n``, and
return arrays of shape ``(rows, len(n))``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, gammaln

from clv.models._arrays import pairs_inverse
from clv.models._stable import beta_rule, log_pochhammer, softplus, unit_legendre

__all__ = [
    "bg_count_pmf",
    "bg_survival",
    "bgbb_count_pmf",
    "mix_with_dead",
    "pareto_nbd_count_pmf",
    "per_distinct_history",
]

#: Gauss-Legendre rule per panel for the Pareto/NBD drop-out integral.
_PANEL_NODES = 10
_GL_U, _GL_W = unit_legendre(_PANEL_NODES)
#: Node-row products per block of the Pareto/NBD quadrature (bounds memory).
_BLOCK = 1 << 21
#: Gauss-Jacobi nodes for the BG/NBD survival expectation over the drop-out probability.
_JACOBI_NODES = 48


def _per_row(*values) -> list[np.ndarray]:
    """Return the values as float arrays of one length: one value per row."""
    rows = max(np.size(value) for value in values)
    return [np.broadcast_to(np.asarray(v, dtype=np.float64), (rows,)) for v in values]


def _log_nbd(n: np.ndarray, r: np.ndarray, alpha: np.ndarray, t: float) -> np.ndarray:
    """``log P(N = n)`` for ``N | lambda ~ Poisson(lambda t)``, ``lambda ~ Gamma(r, alpha)``."""
    if t <= 0:
        return np.where(n == 0, 0.0, -np.inf) + 0.0 * r
    return (
        log_pochhammer(r, n)
        - gammaln(n + 1.0)
        - r * np.log1p(t / alpha)
        + n * (np.log(t) - np.log(alpha + t))
    )


def bg_count_pmf(n, t: float, r, alpha, a: float, b, *, dropout_at_start: bool = False):
    r"""``P(X(t) = n)`` for a BG/NBD (or MBG/NBD) customer alive at time 0.

    Fader, Hardie & Lee (2005), eq. (8):

    .. math::

        P(X(t)=n) = \frac{B(a, b+n)}{B(a,b)} \mathrm{NB}(n)
            + [n > 0] \frac{B(a+1, b+n-1)}{B(a,b)} P(N \ge n),

    with ``P(N >= n) = I_{t/(alpha+t)}(n, r)`` (the regularised incomplete beta replaces
    the paper's finite sum). ``dropout_at_start`` (MBG/NBD): ``b + n`` becomes
    ``b + n + 1`` in both terms and the second also holds at ``n = 0``.
    """
    n = np.asarray(n, dtype=np.float64)[None, :]
    r, alpha, b = (v[:, None] for v in _per_row(r, alpha, b))
    shift = 1.0 if dropout_at_start else 0.0
    log_norm = betaln(a, b)
    alive = np.exp(betaln(a, b + n + shift) - log_norm + _log_nbd(n, r, alpha, t))
    reached = n >= 1.0 - shift
    with np.errstate(all="ignore"):
        tail = (
            betainc(np.maximum(n, 1e-300), r, t / (alpha + t))
            if t > 0
            else np.where(n == 0, 1.0, 0.0)
        )
        tail = np.where(n == 0, 1.0, tail)  # P(N >= 0) = 1
        died = np.exp(betaln(a + 1.0, b + n - 1.0 + shift) - log_norm) * tail
    return alive + np.where(reached, died, 0.0)


def bg_survival(t: float, r, alpha, a: float, b) -> np.ndarray:
    r"""``P(alive at t)`` for a BG/NBD customer alive at 0: ``E[(alpha / (alpha + p t))^r]``.

    Surviving each purchase with probability ``1 - p`` gives ``exp(-lambda p t)``, then
    ``(alpha / (alpha + p t))^r`` over the rate; the expectation over ``p ~ Beta(a, b)``
    is a 48-node Gauss-Jacobi rule (the closed form's ``2F1`` overflows for heavy buyers).
    """
    r, alpha, b = _per_row(r, alpha, b)
    out = np.empty(len(r))
    if t <= 0:
        out[:] = 1.0
        return out
    for value in np.unique(b):
        part = b == value
        p, weights = beta_rule(a, value, _JACOBI_NODES)
        log_ratio = np.log(alpha[part, None]) - np.log(alpha[part, None] + p * t)
        out[part] = np.exp(r[part, None] * log_ratio) @ weights
    return out


def _panel_rule(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes on [0, 1] of ``count`` equal Gauss-Legendre panels and the logs of their weights."""
    u = ((np.arange(count)[:, None] + _GL_U[None, :]) / count).reshape(-1)
    return u, np.log(np.tile(_GL_W, count) / count)


def _log_panel_integral(log_integrand, low, width, step) -> np.ndarray:
    """Log of ``int_low^(low+width) exp(log_integrand(rows, z)) dz`` per row.

    Each row's range is cut into a power of two of panels no wider than ``step``.
    """
    out = np.full(len(low), -np.inf)
    panels = np.ceil(width / step).astype(np.int64)
    panels = 1 << np.ceil(np.log2(np.maximum(panels, 1))).astype(np.int64)
    panels[~(width > 0)] = 0
    for count in np.unique(panels[panels > 0]):
        group = np.flatnonzero(panels == count)
        u, log_w = _panel_rule(int(count))
        chunk = max(_BLOCK // len(u), 1)
        for start in range(0, len(group), chunk):
            rows = group[start : start + chunk]
            lg = log_integrand(rows, low[rows, None] + width[rows, None] * u[None, :]) + log_w
            peak = lg.max(axis=1)
            out[rows] = peak + np.log(np.exp(lg - peak[:, None]).sum(axis=1) * width[rows])
    return out


def _largest_curvature(k, centre, low, high) -> np.ndarray:
    """Largest curvature of ``-k log(exp(centre) + exp(z))`` in ``z`` on ``[low, high]``."""
    distance = np.abs(np.clip(centre, low, high) - centre)
    return k / (4.0 * np.cosh(0.5 * np.minimum(distance, 600.0)) ** 2)


def _pareto_dropout_term(n: float, t: float, r, alpha, s: float, beta) -> np.ndarray:
    r"""``int_0^t NB(n | r, alpha, tau) s beta^s (beta+tau)^-(s+1) d tau``, per row.

    The probability of ``n`` purchases and a death before ``t``: the death time has
    the Lomax density of the exponential lifetime mixed over ``mu ~ Gamma(s, beta)``
    and the purchases before it are negative binomial. In ``zeta = log(tau)`` the
    log-integrand ``(n+1) zeta - (r+n) log(alpha+e^zeta) - (s+1) log(beta+e^zeta)``
    is concave with slope at most ``n + 1`` and curvature at most ``(r+n+s+1)/4``;
    its branch points lie at imaginary distance pi. Below ``zeta_a = log(min(alpha,
    beta) / (2 (r+n+s+1)))`` the slope is at least ``(n+1)/2``: that tail is cut
    ``80 / (n+1)`` further down (relative error below ``e^-40``) and integrated on
    panels of width ``4 / (n+1)`` (the integrand grows at most ``e^4`` across one);
    from ``zeta_a`` to ``log(t)`` the panels are no wider than ``min(1, 2 /
    sqrt(c))``, the integrand's width, with ``c`` the largest curvature on that range
    (:func:`_largest_curvature`: at most ``(r+n+s+1)/4``, much less when ``alpha`` or
    ``beta`` lies far from it, e.g. a large ``s`` with a larger ``beta``). Each panel
    takes a 10-node Gauss-Legendre rule (agrees with adaptive quadrature to 1e-9
    relative, see the tests).
    """
    if t <= 0:
        return np.zeros(len(r))
    top = np.log(t)
    spread = r + n + s + 1.0
    middle = np.minimum(top, np.log(np.minimum(alpha, beta)) - np.log(2.0 * spread))
    low = middle - 80.0 / (n + 1)
    log_alpha, log_beta = np.log(alpha), np.log(beta)

    def log_integrand(rows, z):  # alpha^r and beta^s divided out: no cancellation
        return (
            (n + 1.0) * z
            - (r[rows, None] + n) * softplus(z - log_alpha[rows, None])
            - (s + 1.0) * softplus(z - log_beta[rows, None])
        )

    tail = _log_panel_integral(log_integrand, low, middle - low, 4.0 / (n + 1))
    curvature = _largest_curvature(r + n, log_alpha, middle, top) + _largest_curvature(
        s + 1.0, log_beta, middle, top
    )
    body = _log_panel_integral(
        log_integrand, middle, top - middle, 2.0 / np.sqrt(np.maximum(curvature, 4.0))
    )
    log_c = log_pochhammer(r, n) - gammaln(n + 1.0) - n * log_alpha + np.log(s) - log_beta
    return np.exp(log_c + np.logaddexp(tail, body))


def pareto_nbd_count_pmf(n, t: float, r, alpha, s: float, beta) -> np.ndarray:
    r"""``P(X(t) = n)`` for a Pareto/NBD customer alive at time 0.

    Fader & Hardie (2006), notes 027 and 028 (eq. 16): alive throughout ``(0, t]``, or
    dead at ``tau < t`` after ``n`` purchases,

    .. math::

        P(X(t)=n) = \mathrm{NB}(n \mid r, \alpha, t) \left(\frac{\beta}{\beta+t}\right)^s
            + \int_0^t \mathrm{NB}(n \mid r, \alpha, \tau)
              \frac{s \beta^s}{(\beta+\tau)^{s+1}} d\tau ,

    the integral by quadrature (:func:`_pareto_dropout_term`; the notes' hypergeometric
    difference cancels badly for short windows); agrees with lifetimes to about 1e-9.
    """
    values = np.asarray(n, dtype=np.float64)
    r, alpha, beta = _per_row(r, alpha, beta)
    survive = -s * np.log1p(t / beta)
    alive = np.exp(_log_nbd(values[None, :], r[:, None], alpha[:, None], t) + survive[:, None])
    dead = np.stack([_pareto_dropout_term(k, t, r, alpha, s, beta) for k in values], axis=1)
    return alive + dead


def bgbb_count_pmf(n, m: int, alpha, beta, gamma: float, delta) -> np.ndarray:
    r"""``P(X(m) = n)``: transactions in the first ``m`` opportunities of a BG/BB customer.

    Fader, Hardie & Shang (2010), eq. (7):

    .. math::

        P(X(m)=n) = \binom{m}{n} \frac{B(\alpha+n, \beta+m-n)}{B(\alpha,\beta)}
            \frac{B(\gamma, \delta+m)}{B(\gamma,\delta)}
          + \sum_{i=n}^{m-1} \binom{i}{n} \frac{B(\alpha+n, \beta+i-n)}{B(\alpha,\beta)}
            \frac{B(\gamma+1, \delta+i)}{B(\gamma,\delta)} .
    """
    n = np.asarray(n, dtype=np.float64)[None, :]
    alpha, beta, delta = (v[:, None] for v in _per_row(alpha, beta, delta))
    log_norm = betaln(alpha, beta) + betaln(gamma, delta)

    def log_binom(i):
        return gammaln(i + 1.0) - gammaln(n + 1.0) - gammaln(i - n + 1.0)

    with np.errstate(all="ignore"):
        first = log_binom(m) + betaln(alpha + n, beta + m - n) + betaln(gamma, delta + m)
        out = np.where(n <= m, np.exp(first - log_norm), 0.0)
        for i in range(int(m)):
            term = log_binom(i) + betaln(alpha + n, beta + i - n) + betaln(gamma + 1.0, delta + i)
            out = out + np.where(n <= i, np.exp(term - log_norm), 0.0)
    return out


def mix_with_dead(p_alive: np.ndarray, pmf_alive: np.ndarray, n) -> np.ndarray:
    """``[n = 0] (1 - P(alive)) + P(alive) * pmf_alive``, shape ``(rows, len(n))``."""
    zero = (np.asarray(n) == 0)[None, :]
    p_alive = np.asarray(p_alive, dtype=np.float64)[:, None]
    return np.where(zero, 1.0 - p_alive, 0.0) + p_alive * pmf_alive


def per_distinct_history(x: np.ndarray, T: np.ndarray, compute) -> np.ndarray:
    """Evaluate ``compute(x, T)`` once per distinct ``(x, T)`` pair and gather per row."""
    first, inverse = pairs_inverse(x, T)
    return np.asarray(compute(x[first], T[first]))[inverse]
