"""MBG/NBD: the modified BG/NBD model, where customers may also drop out at time 0.

Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). "Empirical validation and
comparison of models for customer base analysis." *International Journal of Research
in Marketing* 24(3), 201-209 (likelihood eq. 4, P(alive) Appendix A eq. 5); the
conditional expectation follows Wagner, U. & Hoppe, D. (2008).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import hyp2f1

from clv.models import _count_distributions as counts
from clv.models._arrays import gather_by_integer, log_sigmoid_weight, pairs_inverse
from clv.models._beta_geo_math import (
    _closed_form_unreliable,
    _near_hypergeometric_pole,
    closed_form_in_range,
    expected_purchases_given_alive,
    mixture_statistics,
    mixture_total_log_likelihood,
)
from clv.models._predictive import PredictiveDistributionMixin
from clv.models._stable import (
    digamma_difference,
    exp_or_zero,
    log_pochhammer,
    probability_from_log_odds,
)
from clv.models._transaction_model import TransactionModel
from clv.models.beta_geo import BetaGeoModel

__all__ = ["ModifiedBetaGeoModel"]


def _frequency_terms(r: float, a: float, b: float):
    def table(k: np.ndarray):
        # log Gamma(r+k)/Gamma(r) + log B(a, b+k+1)/B(a, b), without cancellation at 1e10
        constant = log_pochhammer(r, k) + log_pochhammer(b, k + 1) - log_pochhammer(a + b, k + 1)
        d_r = digamma_difference(r, k)
        d_a = -digamma_difference(a + b, k + 1)
        d_b = digamma_difference(b, k + 1) - digamma_difference(a + b, k + 1)
        return constant, d_r, d_a, d_b, np.log(a) - np.log(b + k), 1.0 / (b + k)

    return table


def mbgnbd_log_likelihood(params, data):
    """Per-customer log-likelihood and its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = params
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    constant, d_r, d_a, d_b, log_dropout, inverse_bk = gather_by_integer(
        x, _frequency_terms(r, a, b)
    )
    log_T = np.log(alpha + T)
    log_tx = np.log(alpha + t_x)
    growth_T, growth_tx = np.log1p(T / alpha), np.log1p(t_x / alpha)  # log((alpha+T)/alpha)
    # r log(alpha) - (r + x) log(alpha + T), without cancellation when r and alpha are huge
    mixture, share = log_sigmoid_weight(
        -r * growth_T - x * log_T, log_dropout - r * growth_tx - x * log_tx
    )
    ll = constant + mixture
    grad = np.empty((len(x), 4))
    grad[:, 0] = d_r - (1 - share) * growth_T - share * growth_tx
    grad[:, 1] = r * ((1 - share) * T / (alpha + T) + share * t_x / (alpha + t_x)) / alpha - x * (
        (1 - share) / (alpha + T) + share / (alpha + t_x)
    )
    grad[:, 2] = d_a + share / a
    grad[:, 3] = d_b - share * inverse_bk
    return ll, grad


class ModifiedBetaGeoModel(PredictiveDistributionMixin, TransactionModel):
    """MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

    As BG/NBD, but a customer may drop out right after the first purchase too, so
    customers without repeat purchases are not assumed alive.

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
        Total log-likelihood (-9,582.13 on the CDNOW calibration data, in weeks).
    n_customers_ : int
        Customers fitted.
    """

    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")

    def _log_likelihood_rows(self, params, data):
        return mbgnbd_log_likelihood(params, data)

    def _total_log_likelihood(self, params, data, weights):
        """Total log-likelihood and gradient from per-fit sufficient statistics."""
        stats = data.get("_mixture")
        if stats is None or stats[0] is not weights:
            everyone = np.ones(len(weights), dtype=bool)  # anyone may have dropped out
            stats = (weights, mixture_statistics(data, weights, everyone))
            data["_mixture"] = stats
        return mixture_total_log_likelihood(params, stats[1], _frequency_terms)

    def _initial_parameters(self, data, weights):
        return BetaGeoModel._initial_parameters(self, data, weights)  # type: ignore[arg-type]

    def _probability_alive(self, params, data):
        """Appendix A eq. (5): ``1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))``."""
        r, alpha, a, b = params
        x, t_x, T = data["frequency"], data["recency"], data["T"]
        odds = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return probability_from_log_odds(odds)

    def _expected_purchases_curve(self, params, data, horizons):
        """``E[Y(t) | x, t_x, T]`` (Wagner & Hoppe 2008), per distinct (x, T) pair."""
        r, alpha, a, b = params
        x, T = data["frequency"], data["T"]
        first, inverse = pairs_inverse(x, T)
        ux, uT = x[first], T[first]
        p_alive = self._probability_alive(params, data)
        out = np.empty((len(x), len(horizons)))
        # given alive at T the dropout probability is Beta(a, b + x + 1): BG/NBD's at b + 1
        shifted = np.array([r, alpha, a, b + 1.0])
        for column, t in enumerate(horizons):
            with np.errstate(all="ignore"):
                hyp = hyp2f1(r + ux, b + ux + 1, a + b + ux, t / (alpha + uT + t))
                bracket = 1 - hyp * ((alpha + uT) / (alpha + t + uT)) ** (r + ux)
                numerator = (a + b + ux) / (a - 1) * bracket
            unstable = (
                _near_hypergeometric_pole(a, a + b + ux)
                | ~closed_form_in_range(numerator, r + ux, t / (alpha + uT))
                | _closed_form_unreliable(params)
            )
            if unstable.any():
                numerator[unstable] = expected_purchases_given_alive(
                    shifted, ux[unstable], uT[unstable], t
                )
            out[:, column] = numerator[inverse] * p_alive
        return out

    def _probability_no_purchase(self, params, data, horizon):
        """``1 - P(alive) + P(alive) * ((alpha+T)/(alpha+T+t))^(r+x)``."""
        r, alpha, _, _ = params
        x, T = data["frequency"], data["T"]
        p_alive = self._probability_alive(params, data)
        quiet = exp_or_zero(-(r + x) * np.log1p(horizon / (alpha + T)))
        return 1.0 - p_alive + p_alive * quiet

    def _expected_purchases_new_customer(self, params, horizon):
        """``E[X(t)] = b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``."""
        r, alpha, a, b = params
        with np.errstate(all="ignore"):
            hyp = hyp2f1(r, b + 1, a + b, horizon / (alpha + horizon))
            value = np.array(
                b / (a - 1) * (1 - hyp * (alpha / (alpha + horizon)) ** r), dtype=float
            )
        survive = b / (a + b)  # P(no dropout at time 0)
        unstable = (
            ~closed_form_in_range(value, survive * r, horizon / alpha)
            | _near_hypergeometric_pole(a, np.float64(a + b))
            | _closed_form_unreliable(params)
        )
        if unstable.any():
            zero, shifted = np.zeros(1), np.array([r, alpha, a, b + 1.0])
            value[unstable] = [
                survive * expected_purchases_given_alive(shifted, zero, zero, float(t))[0]
                for t in np.broadcast_to(horizon, value.shape)[unstable]
            ]
        return value if value.ndim else float(value)

    def _count_pmf(self, params, data, horizon, n):
        """Alive at T, the drop-out at time 0 is survived: BG/NBD's eq. (8) with ``b+x+1``."""
        r, alpha, a, b = params
        x, T = data["frequency"], data["T"]
        alive = counts.per_distinct_history(
            x, T, lambda x, T: counts.bg_count_pmf(n, horizon, r + x, alpha + T, a, b + x + 1)
        )
        return counts.mix_with_dead(self._probability_alive(params, data), alive, n)

    def _count_pmf_new_customer(self, params, horizon, n):
        r, alpha, a, b = params
        return counts.bg_count_pmf(n, horizon, r, alpha, a, b, dropout_at_start=True)[0]

    def _probability_alive_at(self, params, data, horizon):
        r, alpha, a, b = params
        x, T = data["frequency"], data["T"]
        later = counts.bg_survival(horizon, r + x, alpha + T, a, b + x + 1)
        return self._probability_alive(params, data) * later
