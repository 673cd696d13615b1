r"""Predictive distributions of purchase counts and survival, for every transaction model.

Every model here has the same structure once the history is summarised. A customer
is alive at the end of observation with probability ``P(alive)``; a dead customer
buys nothing more; given alive, the posterior of the latent quantities is the prior
with updated parameters, and the future is the model's own process restarted from
that posterior. Hence, for ``Y(t)`` the purchases in ``(T, T + t]``,

.. math::

    P(Y(t) = n \mid \text{history}) = [n = 0]\,(1 - P(\text{alive}))
        + P(\text{alive})\; P_{\text{new}}(X(t) = n \mid \theta'),

where :math:`P_{\text{new}}` is the distribution of purchases of a customer alive at
time 0 (the "new customer" formula) and :math:`\theta'` the posterior parameters:

==========  ========================================  ==================================
model       new-customer formula                      posterior given alive at T (or n)
==========  ========================================  ==================================
BG/NBD      Fader, Hardie & Lee (2005) eq. (8)        r+x, alpha+T, a, b+x
MBG/NBD     BG/NBD's eq. (8) (no dropout at T)        r+x, alpha+T, a, b+x+1
Pareto/NBD  Fader & Hardie (2006) note 028            r+x, alpha+T, s, beta+T
BG/BB       Fader, Hardie & Shang (2010) eq. (7)      alpha+x, beta+n-x, gamma, delta+n
==========  ========================================  ==================================

The Pareto/NBD line is eq. (16) of Fader & Hardie, "Deriving the Conditional PMF of
the Pareto/NBD Model" (2006, note 028), written as that mixture; the MBG/NBD line
holds because, given alive at T, an MBG/NBD customer can only drop out after a
further purchase (the drop-out at time 0 of Batislam, Denizel & Filiztekin 2007 has
already been survived), which is BG/NBD's process with ``b + x + 1``. The same
decomposition gives the probability of being alive ``t`` after the end of
observation: ``P(alive) * S(t | theta')`` with ``S`` the survival of a customer alive
at time 0 (BG/NBD: ``E[exp(-lambda p t)]``; Pareto/NBD: ``((beta+T)/(beta+T+t))^s``;
BG/BB: ``B(gamma, delta+n+m)/B(gamma, delta+n)``, Fader, Hardie & Shang eq. (11)).

All functions take the (posterior) parameters as per-row arrays and a list of counts
``n`` and return arrays of shape ``(rows, len(n))``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, gammaln

from clv.models._arrays import pairs_inverse
from clv.models._stable import beta_rule, log_pochhammer, softplus

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
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_PANEL_NODES)
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

    with ``NB(n)`` the negative binomial probability of ``n`` purchases of a
    gamma-Poisson process by ``t`` and ``P(N >= n) = I_{t/(alpha+t)}(n, r)`` (the
    regularised incomplete beta function replaces the paper's finite sum). With
    ``dropout_at_start`` (MBG/NBD, Batislam et al. 2007) the customer may also drop
    out at time 0: ``b + n`` becomes ``b + n + 1`` in both terms and the second also
    holds at ``n = 0``.

    Parameters
    ----------
    n : array-like of int
        Counts.
    t : float
        Length of the window.
    r, alpha, b : float or numpy.ndarray
        Parameters, one value or one per row.
    a : float
        Beta shape of the drop-out probability.
    dropout_at_start : bool, default False
        MBG/NBD instead of BG/NBD.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows, len(n))``.
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

    With rate ``lambda`` and drop-out probability ``p`` a customer survives each
    purchase with probability ``1 - p``, so survives to ``t`` with probability
    ``E[(1-p)^N(t)] = exp(-lambda p t)``; averaging over ``lambda ~ Gamma(r, alpha)``
    gives ``(alpha / (alpha + p t))^r`` and over ``p ~ Beta(a, b)`` the expectation,
    a smooth bounded function of ``p`` integrated by a 48-node Gauss-Jacobi rule (the
    closed form is ``(alpha/(alpha+t))^r 2F1(r, b; a+b; t/(alpha+t))``, whose
    hypergeometric factor overflows for heavy buyers).

    Parameters
    ----------
    t : float
        Time since the customer was known to be alive.
    r, alpha, b : float or numpy.ndarray
        Posterior parameters, one value or one per row.
    a : float
        Beta shape of the drop-out probability.

    Returns
    -------
    numpy.ndarray
        One probability per row.
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
    u = ((np.arange(count)[:, None] + 0.5 * (_GL_X[None, :] + 1.0)) / count).reshape(-1)
    return u, np.log(np.tile(0.5 * _GL_W, count) / count)


def _log_panel_integral(log_integrand, low, width, step) -> np.ndarray:
    """Log of ``int_low^(low+width) exp(log_integrand(rows, z)) dz`` per row, by panels.

    Each row's range is cut into a power of two of equal panels no wider than
    ``step`` (rows are grouped by that number) with 10 Gauss-Legendre nodes each.
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
    """Largest of ``k * sigma (1 - sigma)``, ``sigma = 1 / (1 + exp(centre - z))``, on ``[low, high]``.

    The curvature of ``-k log(exp(centre) + exp(z))`` in ``z``: ``k / 4`` at ``z =
    centre``, falling like ``k exp(-|z - centre|)`` away from it.
    """
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

    Fader & Hardie (2006), "Deriving an Expression for P(X(t) = x) Under the
    Pareto/NBD Model" (note 027), and the conditional version, eq. (16) of note 028:
    alive throughout ``(0, t]`` and ``n`` gamma-Poisson purchases, or dead at
    ``tau < t`` after ``n`` purchases,

    .. math::

        P(X(t)=n) = \mathrm{NB}(n \mid r, \alpha, t) \left(\frac{\beta}{\beta+t}\right)^s
            + \int_0^t \mathrm{NB}(n \mid r, \alpha, \tau)
              \frac{s \beta^s}{(\beta+\tau)^{s+1}} d\tau .

    The notes write the integral with Gauss hypergeometric functions (a difference
    that cancels badly for short windows); it is computed here by quadrature (see
    :func:`_pareto_dropout_term`), agreeing with lifetimes' closed form to about 1e-9.

    Parameters
    ----------
    n : array-like of int
        Counts.
    t : float
        Length of the window.
    r, alpha, beta : float or numpy.ndarray
        Parameters, one value or one per row.
    s : float
        Gamma shape of the death rate.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows, len(n))``.
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

    Parameters
    ----------
    n : array-like of int
        Counts.
    m : int
        Opportunities.
    alpha, beta, delta : float or numpy.ndarray
        Parameters, one value or one per row.
    gamma : float
        First Beta shape of the drop-out probability.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows, len(n))``.
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
    """Evaluate ``compute(x, T)`` once per distinct ``(x, T)`` pair and gather per row.

    The posterior parameters of the continuous-time models depend on the history
    only through ``x`` and ``T``; day-resolution tables repeat those pairs a lot.
    """
    first, inverse = pairs_inverse(x, T)
    return np.asarray(compute(x[first], T[first]))[inverse]
