"""Pareto/NBD: Poisson purchases with an exponential lifetime, gamma-mixed.

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). "Counting Your Customers:
Who Are They and What Will They Do Next?" *Management Science* 33(1), 1-24; Fader, P.
S., Hardie, B. G. S. & Lee, K. L. (2005). "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis." *Journal of Marketing Research* 42(4), 415-430 (DERT, eq. 2).
The mathematics lives in :mod:`clv.models._pareto_nbd_likelihood` and
:mod:`clv.models._pareto_nbd_math` (predictions); this class only wires it
to the shared fitting machinery and prediction API.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from clv.models import _count_distributions as counts
from clv.models import _pareto_nbd_likelihood as likelihood
from clv.models import _pareto_nbd_math as math
from clv.models._predictive import PredictiveDistributionMixin
from clv.models._transaction_model import TransactionModel

__all__ = ["ParetoNBDModel"]


class ParetoNBDModel(PredictiveDistributionMixin, TransactionModel):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

    While alive, purchases follow a Poisson process with rate ``lambda ~ Gamma(r,
    alpha)``; lifetimes are exponential with rate ``mu ~ Gamma(s, beta)``.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty: maximises ``mean LL per customer - penalty * sum(log(theta)**2)``.
    compute_standard_errors : bool, default False
        Set ``standard_errors_`` from the Hessian at the optimum.
    n_restarts : int, default 3
        Further starting points tried when the first run fails.
    max_iter : int, default 1000
        Maximum quasi-Newton (BFGS) iterations per run.
    time_unit : {"D", "W", "Y"} or None, default None
        Unit of ``recency`` and ``T``; ``None`` reads the table's ``attrs``.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``s``, ``beta``.
    log_likelihood_ : float
        Total log-likelihood (-9,594.98 on the CDNOW calibration data, in weeks).
    n_customers_ : int
        Customers fitted.
    """

    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")

    def _log_likelihood_rows(self, params, data):
        return likelihood.log_likelihood(params, data["frequency"], data["recency"], data["T"])

    def _total_log_likelihood(self, params, data, weights):
        x, t_x, T = data["frequency"], data["recency"], data["T"]
        stats = self._once_per_fit(
            data, "_statistics", weights, lambda: likelihood.fit_statistics(x, t_x, T, weights)
        )
        return likelihood.total_log_likelihood(params, stats)

    def _initial_parameters(self, data, weights):
        total_x = float(weights @ data["frequency"])
        total_T = float(weights @ data["T"])
        rate = total_x / total_T if total_x > 0 else 1.0 / max(total_T / weights.sum(), 1e-9)
        mean_T = total_T / weights.sum()
        return np.array([1.0, 1.0 / rate, 1.0, mean_T])

    def _probability_alive(self, params, data):
        return math.probability_alive(params, data["frequency"], data["recency"], data["T"])

    def _expected_purchases_curve(self, params, data, horizons):
        x, t_x, T = data["frequency"], data["recency"], data["T"]
        return np.stack(
            [math.conditional_expected_purchases(params, t, x, t_x, T) for t in horizons], axis=1
        )

    def _probability_no_purchase(self, params, data, horizon):
        return math.conditional_probability_no_purchase(
            params, horizon, data["frequency"], data["recency"], data["T"]
        )

    def _expected_purchases_new_customer(self, params, horizon):
        return math.expected_purchases_new_customer(params, horizon)

    def _discounted_expected_residual_transactions(self, params, data, delta):
        return math.discounted_expected_residual_transactions(
            params, delta, data["frequency"], data["recency"], data["T"]
        )

    def _count_pmf(self, params, data, horizon, n):
        """Note 028 eq. (16): the new-customer PMF at ``(r+x, alpha+T, s, beta+T)``."""
        r, alpha, s, beta = params
        x, T = data["frequency"], data["T"]
        alive = counts.per_distinct_history(
            x,
            T,
            lambda x, T: counts.pareto_nbd_count_pmf(n, horizon, r + x, alpha + T, s, beta + T),
        )
        return counts.mix_with_dead(self._probability_alive(params, data), alive, n)

    def _count_pmf_new_customer(self, params, horizon, n):
        r, alpha, s, beta = params
        return counts.pareto_nbd_count_pmf(n, horizon, r, alpha, s, beta)[0]

    def _probability_alive_at(self, params, data, horizon):
        """``P(alive) * ((beta+T) / (beta+T+t))^s``: the posterior death rate is Gamma(s, beta+T)."""
        _, _, s, beta = params
        T = data["T"]
        later = np.exp(s * (np.log(beta + T) - np.log(beta + T + horizon)))
        return self._probability_alive(params, data) * later
