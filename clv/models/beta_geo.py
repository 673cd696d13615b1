"""BG/NBD: the beta-geometric / negative binomial distribution model.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers the Easy
Way: An Alternative to the Pareto/NBD Model." *Marketing Science* 24(2), 275-284.
Equation numbers below refer to that paper.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import expit, hyp2f1, log_expit

from clv.models import _count_distributions as counts
from clv.models._arrays import dot, gather_by_integer, pairs_inverse
from clv.models._predictive import PredictiveDistributionMixin
from clv.models._stable import (
    beta_rule,
    digamma_difference,
    exp_or_zero,
    log_pochhammer,
    probability_from_log_odds,
)
from clv.models._transaction_model import TransactionModel

__all__ = ["BetaGeoModel"]


def _frequency_terms(r: float, a: float, b: float):
    """Parts of the log-likelihood that depend on the row only through x (eq. 6)."""

    def table(k: np.ndarray):
        # log Gamma(r+k)/Gamma(r) + log B(a, b+k)/B(a, b), without cancellation at 1e10
        constant = log_pochhammer(r, k) + log_pochhammer(b, k) - log_pochhammer(a + b, k)
        d_r = digamma_difference(r, k)
        d_a = -digamma_difference(a + b, k)
        d_b = digamma_difference(b, k) - digamma_difference(a + b, k)
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
    growth_T, growth_tx = np.log1p(T / alpha), np.log1p(t_x / alpha)  # log((alpha+T)/alpha)
    rx = r + x
    alive = -r * growth_T - x * log_T  # r log(alpha) - (r + x) log(alpha + T)
    gap = log_dropout + rx * np.log1p((T - t_x) / (alpha + t_x))
    share = expit(gap)
    ll = constant + alive - log_expit(-gap)
    grad = np.empty((len(x), 4))
    grad[:, 0] = d_r - (1 - share) * growth_T - share * growth_tx
    grad[:, 1] = r * ((1 - share) * T / (alpha + T) + share * t_x / (alpha + t_x)) / alpha - x * (
        (1 - share) / (alpha + T) + share / (alpha + t_x)
    )
    grad[:, 2] = d_a + share / a
    grad[:, 3] = d_b - share * inverse_bk
    return ll, grad


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and, per row, the index of its value (hash-based, unsorted)."""
    codes, levels = pd.factorize(values, sort=False)
    return np.asarray(levels), codes.astype(np.intp)


def mixture_statistics(
    data: Mapping[str, np.ndarray], weights: np.ndarray, mixture: np.ndarray
) -> dict[str, np.ndarray | float]:
    """Parameter-free summaries of the data for :func:`mixture_total_log_likelihood`.

    Computed once per fit. The log-likelihood of the BG/NBD family is
    ``c(x) + r log(alpha) - (r + x) log(alpha + T) + [mixture] softplus(gap)`` with
    ``gap = log_dropout(x) + (r + x) (log(alpha + T) - log(alpha + t_x))``: the terms
    in ``x`` alone are summed with weights totalled per distinct ``x``, those in ``T``
    alone with weights totalled per distinct ``T``, and only ``gap`` needs every row
    (and only the rows where ``mixture`` holds: BG/NBD customers without repeat
    purchases cannot have dropped out, so their likelihood depends on ``T`` alone).
    Logarithms and reciprocals of ``alpha + T`` and ``alpha + t_x`` are then taken once
    per distinct value and gathered.
    """
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    x_levels, x_code = _codes(x)
    T_levels, T_code = _codes(T)
    rows = np.flatnonzero(mixture)
    tx_levels, tx_code = _codes(t_x[rows])
    w = weights[rows]
    return {
        "total": float(weights.sum()),
        "x_levels": x_levels,
        "by_x": np.bincount(x_code, weights=weights, minlength=len(x_levels)),
        "T_levels": T_levels,
        "by_T": np.bincount(T_code, weights=weights, minlength=len(T_levels)),
        "x_by_T": np.bincount(T_code, weights=weights * x, minlength=len(T_levels)),
        "tx_levels": tx_levels,
        "w": w,
        "x": x[rows].astype(np.float64),
        "x_code": x_code[rows],
        "T_code": T_code[rows],
        "tx_code": tx_code,
    }


def mixture_total_log_likelihood(
    params: np.ndarray, stats: Mapping, terms
) -> tuple[float, np.ndarray]:
    """Weighted total log-likelihood and gradient of the BG/NBD family from ``stats``.

    ``terms(r, a, b)`` maps distinct frequencies to ``(constant, d_r, d_a, d_b,
    log_dropout, inverse_b)``, where ``log_dropout = log(a) - log(b + ...)`` and
    ``inverse_b`` its derivative in ``-b``; see :func:`mixture_statistics`.
    """
    r, alpha, a, b = params
    constant, d_r, d_a, d_b, log_dropout, inverse_b = terms(r, a, b)(stats["x_levels"])
    by_x, by_T = stats["by_x"], stats["by_T"]
    alpha_T = alpha + stats["T_levels"]
    alpha_tx = alpha + stats["tx_levels"]
    log_T, inv_T = np.log(alpha_T), 1.0 / alpha_T
    log_tx, inv_tx = np.log(alpha_tx), 1.0 / alpha_tx
    T_code, tx_code, x_code = stats["T_code"], stats["tx_code"], stats["x_code"]
    # the rows where the customer may have dropped out after the last purchase
    w = stats["w"]
    rx = stats["x"] + r
    if r > _LARGE_SHAPE:  # (r + x) times a difference of logs would cancel: use log1p
        t_x, T = stats["tx_levels"][tx_code], stats["T_levels"][T_code]
        log_ratio = np.log1p((T - t_x) / (alpha + t_x))
    else:
        log_ratio = np.take(log_T, T_code)
        log_ratio -= np.take(log_tx, tx_code)  # log((alpha + T) / (alpha + t_x)) >= 0
    gap = np.multiply(rx, log_ratio)
    gap += np.take(log_dropout, x_code)
    # softplus(gap) = log(1 + e^gap) = max(gap, 0) + log(1 + e^-|gap|) and the share
    # e^gap / (1 + e^gap) with one exp and one log per row (the costly part)
    small = np.abs(gap)
    np.negative(small, out=small)
    np.exp(small, out=small)  # e^-|gap| in (0, 1]
    one_plus = small + 1.0
    softplus = np.log(one_plus)  # 1 + e^-|gap| lies in (1, 2]: log is accurate enough
    softplus += np.maximum(gap, 0.0)
    share = np.where(gap >= 0.0, 1.0, small)
    share /= one_plus  # P(dropped out at t_x | history, rate)
    w_share = np.multiply(w, share, out=share)
    growth_T = np.log1p(stats["T_levels"] / alpha)  # log((alpha + T) / alpha)
    x_by_T = stats["x_by_T"]  # sum of weights * x per distinct T
    # r log(alpha) - (r + x) log(alpha + T), without cancellation when r and alpha are huge
    ll = dot(by_x, constant) - r * dot(by_T, growth_T) - dot(x_by_T, log_T) + dot(w, softplus)
    w_share_x = np.bincount(x_code, weights=w_share, minlength=len(by_x))
    w_share_rx = np.multiply(w_share, rx, out=rx)
    grad = np.array(
        [
            dot(by_x, d_r) - dot(by_T, growth_T) + dot(w_share, log_ratio),
            r / alpha * dot(by_T, stats["T_levels"] * inv_T)
            - dot(x_by_T, inv_T)
            - dot(np.bincount(tx_code, weights=w_share_rx, minlength=len(inv_tx)), inv_tx)
            + dot(np.bincount(T_code, weights=w_share_rx, minlength=len(inv_T)), inv_T),
            dot(by_x, d_a) + w_share_x.sum() / a,
            dot(by_x, d_b) - dot(w_share_x, inverse_b),
        ]
    )
    return ll, grad


def gamma_rate_moments(data: Mapping[str, np.ndarray], weights: np.ndarray) -> tuple[float, float]:
    """Method-of-moments ``(r, alpha)`` of the gamma purchase rate, a starting point.

    With ``x | lambda ~ Poisson(lambda T)`` and ``lambda ~ Gamma(r, alpha)``, the
    observed rates ``x / T`` have mean ``r / alpha`` and variance ``r / alpha**2 +
    E[lambda / T]``; matching both (dropout ignored) gives ``alpha = mean / excess
    variance`` and ``r = mean * alpha``. Falls back to ``(1, 1 / mean rate)`` when the
    rates are not over-dispersed.
    """
    x, T = data["frequency"].astype(np.float64), data["T"]
    observed = T > 0
    w, x, T = weights[observed], x[observed], T[observed]
    total_x, total_T = dot(weights, data["frequency"].astype(np.float64)), dot(weights, data["T"])
    rate = total_x / total_T if total_x > 0 else 1.0 / max(total_T / weights.sum(), 1e-9)
    if w.sum() <= 0:
        return 1.0, 1.0 / rate
    per_customer = x / T
    mean = dot(w, per_customer) / w.sum()
    excess = (dot(w, (per_customer - mean) ** 2) - dot(w, per_customer / T)) / w.sum()
    if mean > 0 and excess > 0:
        alpha = mean / excess
        if 1e-6 < mean * alpha < 1e6 and 1e-6 < alpha < 1e6 * max(1.0, total_T / weights.sum()):
            return mean * alpha, alpha
    return 1.0, 1.0 / rate


def log_odds_dead(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
    """``log(P(dead) / P(alive))`` given the history (eq. 13 rearranged)."""
    r, alpha, a, b = params
    positive = x > 0
    safe = np.where(positive, b + x - 1.0, 1.0)
    value = np.log(a) - np.log(safe) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(positive, value, -np.inf)


class BetaGeoModel(PredictiveDistributionMixin, TransactionModel):
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

    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")

    def _log_likelihood_rows(self, params, data):
        return bgnbd_log_likelihood(params, data)

    def _total_log_likelihood(self, params, data, weights):
        """Total log-likelihood and gradient from per-fit sufficient statistics."""
        stats = data.get("_mixture")
        if stats is None or stats[0] is not weights:
            stats = (weights, mixture_statistics(data, weights, data["frequency"] > 0))
            data["_mixture"] = stats
        return mixture_total_log_likelihood(params, stats[1], _frequency_terms)

    def _initial_parameters(self, data, weights):
        r, alpha = gamma_rate_moments(data, weights)
        return np.array([r, alpha, 1.0, 1.0])

    def _probability_alive(self, params, data):
        """Eq. (13) of Fader, Hardie & Lee (2005b), 'A note on deriving P(alive)'."""
        odds = log_odds_dead(params, data["frequency"], data["recency"], data["T"])
        return probability_from_log_odds(odds)

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
                alternative = np.log(hyp2f1(c_a, c_b, c, z)) + (c - (r + ux) - (b + ux)) * np.log1p(
                    -z
                )
            log_hyp = np.where(np.isinf(log_hyp), alternative, log_hyp)
            bracket = 1.0 - np.exp(log_hyp + (r + ux) * np.log((alpha + uT) / (alpha + uT + t)))
            numerator = (a + b + ux - 1) / (a - 1) * bracket
            unstable = (
                _near_hypergeometric_pole(a, a + b + ux - 1)
                | ~closed_form_in_range(numerator, r + ux, t / (alpha + uT))
                | _closed_form_unreliable(params)
            )
            if unstable.any():
                numerator[unstable] = expected_purchases_given_alive(
                    params, ux[unstable], uT[unstable], t
                )
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
        quiet = exp_or_zero(-(r + x) * np.log1p(horizon / (alpha + T)))
        return 1.0 - p_alive + p_alive * quiet

    def _expected_purchases_new_customer(self, params, horizon):
        """Eq. (9): ``E[X(t)]`` for a customer who just made a first purchase."""
        r, alpha, a, b = params
        with np.errstate(all="ignore"):
            hyp = hyp2f1(r, b, a + b - 1, horizon / (alpha + horizon))
            value = (a + b - 1) / (a - 1) * (1 - hyp * (alpha / (alpha + horizon)) ** r)
        value = np.array(value, dtype=float)
        unstable = (
            ~closed_form_in_range(value, r, horizon / alpha)
            | _near_hypergeometric_pole(a, np.float64(a + b - 1))
            | _closed_form_unreliable(params)
        )
        if unstable.any():
            zero = np.zeros(1)
            fallback = [
                expected_purchases_given_alive(params, zero, zero, float(t))[0]
                for t in np.broadcast_to(horizon, value.shape)[unstable]
            ]
            value[unstable] = fallback
        return value if value.ndim else float(value)

    def _count_pmf(self, params, data, horizon, n):
        """``P(Y(t) = n | x, t_x, T)``: eq. (8) at the posterior ``(r+x, alpha+T, a, b+x)``."""
        r, alpha, a, b = params
        x, T = data["frequency"], data["T"]
        alive = counts.per_distinct_history(
            x, T, lambda x, T: counts.bg_count_pmf(n, horizon, r + x, alpha + T, a, b + x)
        )
        return counts.mix_with_dead(self._probability_alive(params, data), alive, n)

    def _count_pmf_new_customer(self, params, horizon, n):
        r, alpha, a, b = params
        return counts.bg_count_pmf(n, horizon, r, alpha, a, b)[0]

    def _probability_alive_at(self, params, data, horizon):
        r, alpha, a, b = params
        x, T = data["frequency"], data["T"]
        later = counts.bg_survival(horizon, r + x, alpha + T, a, b + x)
        return self._probability_alive(params, data) * later

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


_JACOBI_NODES = 48
#: Above this ``r`` the fit's gap term uses ``log1p`` per row (else a difference of logs).
_LARGE_SHAPE = 1e4


def _near_hypergeometric_pole(a: float, c: np.ndarray, tolerance: float = 1e-3) -> np.ndarray:
    """Rows where eq. (10)'s closed form is ill-conditioned.

    ``2F1(.; .; c; z)`` has poles at ``c = 0, -1, -2, ...`` and the prefactor
    ``1 / (a - 1)`` at ``a = 1``; the expectation itself is finite there.
    """
    c = np.asarray(c, dtype=float)
    near_pole = (c < 0.5) & (np.abs(c - np.round(c)) < tolerance)
    return near_pole | (abs(a - 1.0) < tolerance)


def _closed_form_unreliable(params: np.ndarray, limit: float = 1e4) -> bool:
    """Tell whether eq. (10)'s ``2F1`` loses precision: a parameter ran past ``limit``.

    With ``a``, ``b``, ``r`` or ``alpha`` in the thousands and beyond (the limits of
    the model as a parameter runs away on a small or degenerate log) the closed form
    cancels catastrophically (it gave -217 at b = 9.4e9); the quadrature does not.
    """
    return bool(np.max(params) > limit)


def closed_form_in_range(value: np.ndarray, shape: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Rows where an expected count given alive lies in its bounds ``[0, shape * spread]``.

    Given alive, ``E[Y(t)]`` is at most the expected purchases without dropout,
    ``(r + x) t / (alpha + T)``; a closed form outside these bounds lost precision.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        upper = np.asarray(shape * spread, dtype=float) * (1.0 + 1e-9)
        return np.isfinite(value) & (value >= 0.0) & (value <= upper)


def expected_purchases_given_alive(
    params: np.ndarray, x: np.ndarray, T: np.ndarray, horizon: float, dropout_scale: float = 1.0
) -> np.ndarray:
    """``E[Y(t) | x, T, alive]`` by Gauss-Jacobi quadrature over the dropout probability.

    Given alive at ``T``, BG/NBD's purchase rate is Gamma(r + x, alpha + T) and the
    dropout probability Beta(a, b + x), independently; a customer with rate ``lam``
    and dropout probability ``p`` makes ``(1 - exp(-lam p t)) / p`` expected purchases
    in ``t`` (death after a purchase makes the lifetime Exp(lam p)). Averaging over
    the rate gives ``(1 - ((alpha+T) / (alpha+T+p t)) ** (r+x)) / p``, a smooth,
    bounded function of ``p``, integrated against the Beta weight by a Gauss-Jacobi
    rule (:func:`clv.models._stable.beta_rule`, exact for any ``a`` and ``b`` the fit
    can return, also where ``a`` or ``b`` runs to 1e10). It equals eq. (10) of Fader, Hardie & Lee (2005) divided by
    P(alive), and stays finite where that closed form meets a pole of ``2F1`` (e.g.
    ``a + b -> 0`` when a short history shows no dropout).

    Parameters
    ----------
    params : numpy.ndarray
        ``[r, alpha, a, b]``.
    x, T : numpy.ndarray
        Repeat purchases and observation length (one row per customer).
    horizon : float
        Length of the forecast period.
    dropout_scale : float, default 1.0
        Multiplies every customer's dropout probability from ``T`` on (``c p``);
        1.0 is the model itself, below 1 the retention scenario of
        :mod:`clv.models.retention`.

    Returns
    -------
    numpy.ndarray
        Expected purchases in ``(T, T + horizon]`` for a customer alive at ``T``.
    """
    r, alpha, a, b = (float(v) for v in params)
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    out = np.empty(len(x))
    for value in np.unique(x):
        rows = x == value
        p, weights = beta_rule(a, b + value, _JACOBI_NODES)  # Beta(a, b + x), any shape
        p = dropout_scale * p
        spread = horizon / (alpha + T[rows, None])  # t / (alpha + T)
        shrink = -np.expm1(-(r + value) * np.log1p(p * spread))
        with np.errstate(divide="ignore", invalid="ignore"):
            per_node = np.where(p > 0.0, shrink / np.where(p > 0.0, p, 1.0), (r + value) * spread)
        out[rows] = per_node @ weights
    return out
