"""BG/BB: the beta-geometric / beta-Bernoulli model for discrete opportunities.

Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting." *Marketing Science* 29(6), 1086-1108.
Equation numbers below refer to that paper.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from clv._validation import CustomerTable
from clv.models import _count_distributions as counts
from clv.models._predictive import PredictiveDistributionMixin
from clv.models._stable import digamma_difference, exp_or_zero, log_beta_ratio, log_pochhammer
from clv.models._transaction_model import TransactionModel

__all__ = ["BetaGeoBetaBinomModel"]


def _log_beta_ratio_terms(u, v, x, y):
    """``log B(u+x, v+y) - log B(u, v)`` and its derivatives in ``u`` and ``v``."""
    both = digamma_difference(np.add(u, v), np.add(x, y))
    return (
        log_beta_ratio(u, v, x, y),
        digamma_difference(u, x) - both,
        digamma_difference(v, y) - both,
    )


def bgbb_log_likelihood(params, data):
    """Eq. (5): per-pattern log-likelihood and its gradient in (alpha, beta, gamma, delta).

    ``L = B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d) + sum_{i=0}^{n-t_x-1} B(a+x, b+t_x-x+i)
    /B(a,b) B(g+1, d+t_x+i)/B(g,d)``, every ratio of beta functions evaluated as a ratio
    (:func:`clv.models._stable.log_beta_ratio`), exact when a parameter runs to 1e10.
    """
    alpha, beta, gamma, delta = params
    x, t_x, n = data["frequency"], data["recency"], data["n_periods"]
    rows = len(x)
    # the "alive throughout" term
    v1, d1, d2 = _log_beta_ratio_terms(alpha, beta, x, n - x)
    v2, d3, d4 = _log_beta_ratio_terms(gamma, delta, 0.0, n)
    alive_value, alive = v1 + v2, np.stack([d1, d2, d3, d4], axis=1)
    # the "dropped out after period t_x + i" terms, i < n - t_x: one column per i
    remaining = n - t_x
    i = np.arange(int(remaining.max()) if rows else 0, dtype=np.float64)
    v1, e1, e2 = _log_beta_ratio_terms(alpha, beta, x[:, None], (t_x - x)[:, None] + i)
    v2, e3, e4 = _log_beta_ratio_terms(gamma, delta, 1.0, t_x[:, None] + i)
    later = np.where(remaining[:, None] > i, v1 + v2, -np.inf)
    stacked = np.concatenate([alive_value[:, None], later], axis=1)
    top = stacked.max(axis=1, keepdims=True)
    shares = exp_or_zero(stacked - top)
    total = shares.sum(axis=1, keepdims=True)
    shares /= total
    ll = top[:, 0] + np.log(total[:, 0])
    grad = shares[:, :1] * alive
    for column, parts in enumerate((e1, e2, e3, e4)):
        grad[:, column] += np.einsum("rk,rk->r", shares[:, 1:], np.broadcast_to(parts, later.shape))
    return ll, grad


def _sum_of_survival(gamma: float, base: np.ndarray, m: float) -> np.ndarray:
    """``sum_{j=1}^m E[(1-theta)^j] / base`` for ``theta ~ Beta(gamma, base)``.

    The telescoped closed form ``(1 - R) / (gamma - 1)``, with ``log R = log
    Gamma(base+1+m)/Gamma(base+1) - log Gamma(gamma+base+m)/Gamma(gamma+base)``
    computed as two log-Pochhammer symbols and its limit ``psi(base+1+m) -
    psi(base+1)`` at ``gamma = 1``.
    """
    log_r = log_pochhammer(base + 1.0, m) - log_pochhammer(gamma + base, m)
    if abs(gamma - 1.0) < 1e-6:
        return digamma_difference(base + 1.0, m) * (1.0 + 0.5 * log_r)
    return -np.expm1(log_r) / (gamma - 1.0)


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
        return log_beta_ratio(alpha, beta, x, n - x) + log_beta_ratio(gamma, delta, 0, n + m)

    def _probability_alive(self, params, data):
        """Eq. (11) with ``m = 0``: P(alive at opportunity n | x, t_x, n)."""
        return self._probability_alive_at(params, data, 0)

    def _expected_purchases_curve(self, params, data, horizons):
        """Eq. (13): expected transactions in the next ``m`` opportunities.

        Written as ``P(alive) E[p | alive] sum_{j=1}^m E[(1-theta)^j | alive]`` with the
        posterior given alive ``p ~ Beta(alpha+x, beta+n-x)``, ``theta ~ Beta(gamma,
        delta+n)``: the paper's ratio of gamma functions, without its cancellation.
        """
        alpha, beta, gamma, delta = params
        x, n = data["frequency"], data["n_periods"]
        buys = self._probability_alive(params, data) * (alpha + x) / (alpha + beta + n)
        out = np.empty((len(x), len(horizons)))
        for column, m in enumerate(horizons):
            out[:, column] = buys * (delta + n) * _sum_of_survival(gamma, delta + n, m)
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
        quiet = exp_or_zero(
            log_beta_ratio(alpha + x, beta + n - x, 0, m) + log_beta_ratio(gamma, delta + n, 0, m)
        )
        for j in range(m):
            quiet += exp_or_zero(
                log_beta_ratio(alpha + x, beta + n - x, 0, j)
                + log_beta_ratio(gamma, delta + n, 1, j)
            )
        return 1.0 - p_alive + p_alive * quiet

    def _expected_purchases_new_customer(self, params, horizon):
        """Eq. (9): ``E[X(n)]`` over the first ``n`` opportunities."""
        alpha, beta, gamma, delta = params
        horizon = np.asarray(horizon, dtype=np.float64)
        return alpha / (alpha + beta) * delta * _sum_of_survival(gamma, delta, horizon)

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
        return np.clip(exp_or_zero(self._log_alive_term(params, data, int(horizon)) - ll), 0.0, 1.0)
