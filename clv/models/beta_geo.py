"""BG/NBD: the beta-geometric / negative binomial distribution model.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers the Easy
Way: An Alternative to the Pareto/NBD Model." *Marketing Science* 24(2), 275-284.
Equation numbers below refer to that paper.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, log_expit

from clv.models._base import (
    TransactionModel,
    gather_by_integer,
    pairs_inverse,
)

__all__ = ["BetaGeoModel"]


def _frequency_terms(r: float, a: float, b: float):
    """Parts of the log-likelihood that depend on the row only through x (eq. 6)."""

    def table(k: np.ndarray):
        constant = (
            gammaln(r + k) - gammaln(r) + gammaln(a + b) + gammaln(b + k) - gammaln(b)
            - gammaln(a + b + k)
        )
        d_r = digamma(r + k) - digamma(r)
        d_a = digamma(a + b) - digamma(a + b + k)
        d_b = digamma(a + b) + digamma(b + k) - digamma(b) - digamma(a + b + k)
        positive = k > 0
        safe = np.where(positive, b + k - 1.0, 1.0)
        log_dropout = np.where(positive, np.log(a) - np.log(safe), -np.inf)
        inverse_bk = np.where(positive, 1.0 / safe, 0.0)
        return constant, d_r, d_a, d_b, log_dropout, inverse_bk

    return table


def bgnbd_log_likelihood(params: np.ndarray, data: Mapping[str, np.ndarray]):
    """Per-customer log-likelihood (eq. 6) and its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = params
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    constant, d_r, d_a, d_b, log_dropout, inverse_bk = gather_by_integer(
        x, _frequency_terms(r, a, b)
    )
    log_T = np.log(alpha + T)
    log_tx = np.log(alpha + t_x)
    rx = r + x
    alive = -rx * log_T
    dropped = log_dropout - rx * log_tx
    gap = dropped - alive
    share = expit(gap)
    mixture = alive - log_expit(-gap)
    ll = constant + r * np.log(alpha) + mixture
    grad = np.empty((len(x), 4))
    grad[:, 0] = d_r + np.log(alpha) - (1 - share) * log_T - share * log_tx
    grad[:, 1] = r / alpha - rx * ((1 - share) / (alpha + T) + share / (alpha + t_x))
    grad[:, 2] = d_a + share / a
    grad[:, 3] = d_b - share * inverse_bk
    return ll, grad


def log_odds_dead(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
    """``log(P(dead) / P(alive))`` given the history (eq. 13 rearranged)."""
    r, alpha, a, b = params
    positive = x > 0
    safe = np.where(positive, b + x - 1.0, 1.0)
    value = np.log(a) - np.log(safe) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(positive, value, -np.inf)


class BetaGeoModel(TransactionModel):
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
        Maximum L-BFGS-B iterations per run.
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

    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")

    def _log_likelihood_rows(self, params, data):
        return bgnbd_log_likelihood(params, data)

    def _initial_parameters(self, data, weights):
        total_x = float(weights @ data["frequency"])
        total_T = float(weights @ data["T"])
        rate = total_x / total_T if total_x > 0 else 1.0 / max(total_T / weights.sum(), 1e-9)
        return np.array([1.0, 1.0 / rate, 1.0, 1.0])

    def _probability_alive(self, params, data):
        """Eq. (13) of Fader, Hardie & Lee (2005b), 'A note on deriving P(alive)'."""
        odds = log_odds_dead(params, data["frequency"], data["recency"], data["T"])
        return np.exp(-np.logaddexp(0.0, odds))

    def _expected_purchases_curve(self, params, data, horizons):
        """Eq. (10): ``E[Y(t) | x, t_x, T]``, computed per distinct (x, T) pair."""
        r, alpha, a, b = params
        x, T = data["frequency"], data["T"]
        first, inverse = pairs_inverse(x, T)
        ux, uT = x[first], T[first]
        p_alive = self._probability_alive(params, data)
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
            out[:, column] = numerator[inverse] * p_alive
        return out

    def _probability_no_purchase(self, params, data, horizon):
        """``1 - P(alive) + P(alive) * ((alpha+T)/(alpha+T+t))^(r+x)``.

        Given alive at T, the rate is Gamma(r + x, alpha + T) and a customer without
        purchases cannot drop out (dropout follows a purchase), so no purchase in
        ``(T, T + t]`` has probability ``((alpha + T) / (alpha + T + t)) ** (r + x)``.
        """
        r, alpha, _, _ = params
        x, T = data["frequency"], data["T"]
        p_alive = self._probability_alive(params, data)
        quiet = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + horizon)))
        return 1.0 - p_alive + p_alive * quiet

    def _expected_purchases_new_customer(self, params, horizon):
        """Eq. (9): ``E[X(t)]`` for a customer who just made a first purchase."""
        r, alpha, a, b = params
        hyp = hyp2f1(r, b, a + b - 1, horizon / (alpha + horizon))
        return (a + b - 1) / (a - 1) * (1 - hyp * (alpha / (alpha + horizon)) ** r)

    def probability_purchases_new_customer(self, n: int, horizon: float) -> float:
        """``P(X(t) = n)`` for a new customer: eq. (8) of Fader, Hardie & Lee (2005).

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
        self._check_is_fitted()
        r, alpha, a, b = self.params_.to_numpy()
        t = float(horizon)
        log_p = np.log(alpha / (alpha + t))
        log_q = np.log(t / (alpha + t)) if t > 0 else -np.inf
        first = np.exp(
            betaln(a, b + n) - betaln(a, b) + gammaln(r + n) - gammaln(r) - gammaln(n + 1)
            + r * log_p + (n * log_q if n > 0 else 0.0)
        )
        if n == 0:
            return float(first)
        j = np.arange(n)
        partial = np.sum(
            np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + np.where(j > 0, j * log_q, 0.0))
        )
        second = np.exp(betaln(a + 1, b + n - 1) - betaln(a, b)) * (1 - np.exp(r * log_p) * partial)
        return float(first + second)
