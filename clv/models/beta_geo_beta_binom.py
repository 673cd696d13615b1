"""BG/BB: the beta-geometric / beta-Bernoulli model for discrete opportunities.

Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting." *Marketing Science* 29(6), 1086-1108.
Equation numbers below refer to that paper.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import betaln, digamma, gammaln

from clv.models import _count_distributions as counts
from clv.models._base import CustomerTable, TransactionModel
from clv.models._predictive import PredictiveDistributionMixin

__all__ = ["BetaGeoBetaBinomModel"]


def _d_betaln(u, v):
    """Partial derivatives of ``log B(u, v)``."""
    both = digamma(u + v)
    return digamma(u) - both, digamma(v) - both


def bgbb_log_likelihood(params, data):
    """Eq. (5): per-pattern log-likelihood and its gradient in (alpha, beta, gamma, delta).

    ``L = B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d) + sum_{i=0}^{n-t_x-1} B(a+x, b+t_x-x+i)
    /B(a,b) B(g+1, d+t_x+i)/B(g,d)``.

    Parameters
    ----------
    params : numpy.ndarray
        ``(alpha, beta, gamma, delta)``, all positive.
    data : dict of str to numpy.ndarray
        Integer ``frequency`` (x), ``recency`` (t_x) and ``n_periods`` (n) per
        pattern.

    Returns
    -------
    ll : numpy.ndarray
        Log-likelihood of each pattern.
    grad : numpy.ndarray
        Its gradient in ``(alpha, beta, gamma, delta)``, shape ``(rows, 4)``.
    """
    alpha, beta, gamma, delta = params
    x, t_x, n = data["frequency"], data["recency"], data["n_periods"]
    rows = len(x)
    # the "alive throughout" term
    da_ab, db_ab = _d_betaln(alpha, beta)
    dg_gd, dd_gd = _d_betaln(gamma, delta)
    base = np.array([da_ab, db_ab, dg_gd, dd_gd])
    d1, d2 = _d_betaln(alpha + x, beta + n - x)
    d3, d4 = _d_betaln(gamma, delta + n)
    terms = [betaln(alpha + x, beta + n - x) + betaln(gamma, delta + n)]
    grads = [np.stack([d1, d2, d3, d4], axis=1)]
    # the "dropped out after period t_x + i" terms
    remaining = n - t_x
    for i in range(int(remaining.max()) if rows else 0):
        valid = remaining > i
        e1, e2 = _d_betaln(alpha + x, beta + t_x - x + i)
        e3, e4 = _d_betaln(gamma + 1, delta + t_x + i)
        value = betaln(alpha + x, beta + t_x - x + i) + betaln(gamma + 1, delta + t_x + i)
        terms.append(np.where(valid, value, -np.inf))
        grads.append(np.stack([e1, e2, e3, e4], axis=1))
    stacked = np.stack(terms, axis=1)
    top = stacked.max(axis=1, keepdims=True)
    shares = np.exp(stacked - top)
    total = shares.sum(axis=1, keepdims=True)
    shares /= total
    ll = top[:, 0] + np.log(total[:, 0]) - betaln(alpha, beta) - betaln(gamma, delta)
    grad = np.einsum("rk,krj->rj", shares, np.stack(grads)) - base
    return ll, grad


class BetaGeoBetaBinomModel(PredictiveDistributionMixin, TransactionModel):
    """BG/BB model of repeat transactions at discrete opportunities.

    At every opportunity an active customer transacts with probability ``p ~
    Beta(alpha, beta)`` and, before the next one, drops out with probability ``theta ~
    Beta(gamma, delta)``. Columns: ``frequency`` (repeat transactions), ``recency``
    (opportunity of the last one, 0 if none) and ``n_periods`` (opportunities
    observed). Horizons count opportunities and must be integers.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty: maximises ``mean LL per customer - penalty * sum(log(theta)**2)``.
    compute_standard_errors : bool, default False
        Set ``standard_errors_`` from the Hessian at the optimum.
    n_restarts : int, default 3
        Further starting points tried when the first run fails.
    max_iter : int, default 1000
        Maximum L-BFGS-B iterations per run.
    time_unit : {"D", "W", "Y"} or None, default None
        Length of one opportunity (e.g. "Y" for annual campaigns).

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta``, ``gamma``, ``delta``.
    log_likelihood_ : float
        Total log-likelihood (-33,225.58 on the donations data).
    n_customers_ : int
        Customers fitted (pass pattern counts as ``sample_weight``).
    """

    parameter_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "n_periods")
    integer_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "n_periods")
    discrete_time: ClassVar[bool] = True

    def _check_table(self, table: CustomerTable, *, fitting: bool) -> None:
        x, t_x, n = (table.arrays[k] for k in self.data_columns)
        table.require(t_x <= n, "recency > n_periods")
        table.require(x <= t_x, "frequency > recency (x transactions need x opportunities)")
        table.require((x > 0) | (t_x == 0), "frequency 0 but recency != 0")

    def _log_likelihood_rows(self, params, data):
        return bgbb_log_likelihood(params, data)

    def _initial_parameters(self, data, weights):
        return np.array([1.0, 1.0, 1.0, 1.0])

    def _log_alive_term(self, params, data, m):
        alpha, beta, gamma, delta = params
        x, n = data["frequency"], data["n_periods"]
        return (
            betaln(alpha + x, beta + n - x)
            - betaln(alpha, beta)
            + betaln(gamma, delta + n + m)
            - betaln(gamma, delta)
        )

    def _probability_alive(self, params, data):
        """Eq. (11) with ``m = 0``: P(alive at opportunity n | x, t_x, n)."""
        ll, _ = bgbb_log_likelihood(params, data)
        return np.exp(self._log_alive_term(params, data, 0) - ll)

    def _expected_purchases_curve(self, params, data, horizons):
        """Eq. (13): expected transactions in the next ``m`` opportunities."""
        alpha, beta, gamma, delta = params
        x, n = data["frequency"], data["n_periods"]
        ll, _ = bgbb_log_likelihood(params, data)
        scale = (delta / (gamma - 1)) * np.exp(
            betaln(alpha + x + 1, beta + n - x)
            - betaln(alpha, beta)
            - ll
            + gammaln(gamma + delta)
            - gammaln(1 + delta)
        )
        out = np.empty((len(x), len(horizons)))
        for column, m in enumerate(horizons):
            now = np.exp(gammaln(1 + delta + n) - gammaln(gamma + delta + n))
            later = np.exp(gammaln(1 + delta + n + m) - gammaln(gamma + delta + n + m))
            out[:, column] = scale * (now - later)
        return out

    def _probability_no_purchase(self, params, data, horizon):
        """``1 - P(alive) + P(alive) E[P(no transaction in m opportunities | p, theta)]``.

        Given alive at ``n`` the posterior is ``p ~ Beta(alpha+x, beta+n-x)``, ``theta ~
        Beta(gamma, delta+n)``; a customer dying before opportunity ``n+j+1`` (``j <
        m``) made no transaction in ``j`` opportunities with probability ``(1-p)^j``.
        """
        alpha, beta, gamma, delta = params
        x, n = data["frequency"], data["n_periods"]
        m = int(horizon)
        p_alive = self._probability_alive(params, data)
        log_b_p = betaln(alpha + x, beta + n - x)
        log_b_theta = betaln(gamma, delta + n)
        quiet = np.exp(
            betaln(alpha + x, beta + n - x + m)
            - log_b_p
            + betaln(gamma, delta + n + m)
            - log_b_theta
        )
        for j in range(m):
            quiet += np.exp(
                betaln(alpha + x, beta + n - x + j)
                - log_b_p
                + betaln(gamma + 1, delta + n + j)
                - log_b_theta
            )
        return 1.0 - p_alive + p_alive * quiet

    def _expected_purchases_new_customer(self, params, horizon):
        """Eq. (9): ``E[X(n)]`` over the first ``n`` opportunities."""
        alpha, beta, gamma, delta = params
        ratio = np.exp(
            gammaln(gamma + delta)
            - gammaln(1 + delta)
            + gammaln(1 + delta + horizon)
            - gammaln(gamma + delta + horizon)
        )
        return alpha / (alpha + beta) * delta / (gamma - 1) * (1 - ratio)

    def _count_pmf(self, params, data, horizon, n):
        """Eq. (7) at the posterior given alive at ``n``: ``(alpha+x, beta+n-x, gamma, delta+n)``."""
        alpha, beta, gamma, delta = params
        x, n_periods = data["frequency"], data["n_periods"]
        alive = counts.bgbb_count_pmf(
            n, int(horizon), alpha + x, beta + n_periods - x, gamma, delta + n_periods
        )
        return counts.mix_with_dead(self._probability_alive(params, data), alive, n)

    def _count_pmf_new_customer(self, params, horizon, n):
        alpha, beta, gamma, delta = params
        return counts.bgbb_count_pmf(n, int(horizon), alpha, beta, gamma, delta)[0]

    def _probability_alive_at(self, params, data, horizon):
        """Eq. (11): P(alive at opportunity ``n + m``)."""
        ll, _ = bgbb_log_likelihood(params, data)
        return np.exp(self._log_alive_term(params, data, int(horizon)) - ll)
