"""BG/NBD: the beta-geometric / negative binomial distribution model.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers the Easy
Way: An Alternative to the Pareto/NBD Model." *Marketing Science* 24(2), 275-284.
Equation numbers below refer to that paper. The mathematics lives in
:mod:`clv.models._beta_geo_math`; this class wires it to the fitting machinery and the
prediction API.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from clv.models import _count_distributions as counts
from clv.models._beta_geo_math import (
    bgnbd_log_likelihood,
    conditional_expected_purchases,
    expected_purchases_new_customer,
    gamma_rate_moments,
    log_odds_dead,
    mixture_statistics,
    mixture_total_log_likelihood,
)
from clv.models._predictive import PredictiveDistributionMixin
from clv.models._stable import exp_or_zero, probability_from_log_odds
from clv.models._transaction_model import TransactionModel

__all__ = ["BetaGeoModel"]


class BetaGeoFamily(PredictiveDistributionMixin, TransactionModel):
    """BG/NBD and MBG/NBD; ``_shift`` 1 lets a customer drop out at time 0 too (MBG/NBD).

    Given alive at T an MBG/NBD customer has survived that dropout: BG/NBD with ``b + 1``.
    """

    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    _shift: ClassVar[float] = 0.0

    def _log_likelihood_rows(self, params, data):
        return bgnbd_log_likelihood(params, data, self._shift)

    def _total_log_likelihood(self, params, data, weights):
        # without the dropout at time 0, customers without repeat purchases are alive
        stats = self._once_per_fit(
            data,
            "_mixture",
            weights,
            lambda: mixture_statistics(data, weights, data["frequency"] + self._shift > 0),
        )
        return mixture_total_log_likelihood(params, stats, self._shift)

    def _initial_parameters(self, data, weights):
        r, alpha = gamma_rate_moments(data, weights)
        return np.array([r, alpha, 1.0, 1.0])

    def _probability_alive(self, params, data):
        """Eq. (13) of Fader, Hardie & Lee (2005b), 'A note on deriving P(alive)'."""
        x, t_x, T = data["frequency"], data["recency"], data["T"]
        return probability_from_log_odds(log_odds_dead(params, x, t_x, T, self._shift))

    def _expected_purchases_curve(self, params, data, horizons):
        """Eq. (10): ``E[Y(t) | x, t_x, T]`` for each horizon."""
        r, alpha, a, b = params
        p_alive = self._probability_alive(params, data)
        given_alive = np.array([r, alpha, a, b + self._shift])
        return conditional_expected_purchases(
            given_alive, data["frequency"], data["T"], p_alive, horizons
        )

    def _probability_no_purchase(self, params, data, horizon):
        """``1 - P(alive) + P(alive) * ((alpha+T)/(alpha+T+t))^(r+x)``.

        Given alive at T, the rate is Gamma(r + x, alpha + T) and a customer without
        purchases cannot drop out (dropout follows a purchase).
        """
        r, alpha, _, _ = params
        x, T = data["frequency"], data["T"]
        p_alive = self._probability_alive(params, data)
        quiet = exp_or_zero(-(r + x) * np.log1p(horizon / (alpha + T)))
        return 1.0 - p_alive + p_alive * quiet

    def _expected_purchases_new_customer(self, params, horizon):
        """Eq. (9): ``E[X(t)]`` for a customer who just made a first purchase."""
        return expected_purchases_new_customer(params, horizon, bool(self._shift))

    def _count_pmf(self, params, data, horizon, n):
        """``P(Y(t) = n | x, t_x, T)``: eq. (8) at the posterior ``(r+x, alpha+T, a, b+x)``."""
        r, alpha, a, b = params
        b = b + self._shift
        alive = counts.per_distinct_history(
            data["frequency"],
            data["T"],
            lambda x, T: counts.bg_count_pmf(n, horizon, r + x, alpha + T, a, b + x),
        )
        return counts.mix_with_dead(self._probability_alive(params, data), alive, n)

    def _count_pmf_new_customer(self, params, horizon, n):
        r, alpha, a, b = params
        return counts.bg_count_pmf(n, horizon, r, alpha, a, b, dropout_at_start=bool(self._shift))[
            0
        ]

    def _probability_alive_at(self, params, data, horizon):
        r, alpha, a, b = params
        x, T = data["frequency"], data["T"]
        later = counts.bg_survival(horizon, r + x, alpha + T, a, b + x + self._shift)
        return self._probability_alive(params, data) * later


class BetaGeoModel(BetaGeoFamily):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

    While active, a customer buys as a Poisson process with rate ``lambda ~
    Gamma(r, alpha)``; after each repeat purchase they drop out with probability
    ``p ~ Beta(a, b)``.

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
        ``r``, ``alpha``, ``a``, ``b``.
    log_likelihood_ : float
        Total log-likelihood (-9,582.43 on the CDNOW calibration data, in weeks).
    n_customers_ : int
        Customers fitted (sum of weights).
    standard_errors_ : pandas.Series
        Only with ``compute_standard_errors=True``.

    Examples
    --------
    >>> from clv.datasets import load_cdnow
    >>> from clv.features import rfm_summary
    >>> table = rfm_summary(load_cdnow(), observation_end="1997-09-30", time_unit="W")
    >>> model = BetaGeoModel().fit(table)
    >>> round(model.log_likelihood_, 2)
    -9582.43
    """

    def probability_purchases_new_customer(self, n: int, horizon: float) -> float:
        """``P(X(t) = n)`` for a new customer (eq. 8); see ``probability_of_n_purchases_new_customer``.

        Parameters
        ----------
        n : int
            Number of repeat purchases.
        horizon : float
            Time since the first purchase, in the model's time unit.

        Returns
        -------
        float
            The probability.
        """
        return self.probability_of_n_purchases_new_customer(horizon, n)
