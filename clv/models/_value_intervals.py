r"""Per-customer prediction intervals of the customer lifetime value.

The value over the horizon ``H`` is ``V = margin * d * S`` with ``S = Z_1 + ... +
Z_Y`` the spend of the ``Y = Y(H)`` future purchases and ``d`` the discount per
purchase. Its predictive distribution combines:

* the transaction model's ``P(Y = n | history)`` (:mod:`clv.models._count_distributions`);
* Gamma-Gamma's spend: each purchase is ``Gamma(p, nu)`` and, given the customer's
  ``x`` repeat purchases of mean ``m``, ``nu ~ Gamma(q + p x, gamma + x m)`` (Fader &
  Hardie 2013 note, the posterior behind their eq. 5). Given ``Y = n``,
  ``S / (S + gamma + x m) ~ Beta(n p, q + p x)``, so

.. math::

    P(S \le s) = P(Y = 0) + \sum_{n \ge 1} P(Y = n)\,
        I_{s / (s + \gamma + x m)}(n p, q + p x).

With a fixed spend per purchase (a number or one value per customer) ``S`` is that
spend times ``Y``. The two are independent given the history, as Gamma-Gamma assumes.

Discounting: ``d`` is taken as the customer's mean discount per expected purchase,
``DET / E[Y(H)]`` (the ratio of the discounted to the undiscounted point value), so
the interval is exact without discounting and an approximation with it (purchase
timing is not random in ``d``).

The bounds are the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of ``V``,
found per customer by bisection on ``log(s)`` (32 steps over a bracket of about
e^55: relative precision 1.3e-8), with the count distribution summed until at most 1e-6 of its
mass is left (that tail is treated as unbounded, which can only raise a quantile).
Where the distribution is so skewed that the point value (the mean) lies outside the
central interval -- a customer who most likely buys nothing has ``clv_upper`` 0 below
a positive mean -- the interval is widened to contain the point, and then holds more
than ``level``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc

from clv.models._predictive import count_quantiles, rows_pmf

__all__ = ["spend_distribution_at", "value_interval"]

_TAIL = 1e-6
_BISECTION_STEPS = 32


def _count_groups(model, params, data, horizon: float):
    """Yield ``(rows, P(Y = n) for n = 0..N)`` by groups of rows needing similar ``N``.

    ``N`` is the count below which all but 1e-6 of a row's mass lies, rounded up to
    a power of two (few groups; customers likely to buy little need few counts).
    """
    pmf = rows_pmf(model, params, data, horizon)
    top = count_quantiles(pmf, len(next(iter(data.values()))), [1.0 - _TAIL])[:, 0]
    width = 1 << np.ceil(np.log2(top + 2.0)).astype(np.int64)
    for size in np.unique(width):
        selected = np.flatnonzero(width == size)
        yield selected, np.clip(pmf(selected, np.arange(int(size))), 0.0, 1.0)


def _spend_cdf(probabilities, spend_model, x, m):
    """``(cdf, scale, shape)``: ``cdf(rows, s) = P(S <= s)`` of the total spend of ``rows``."""
    p, q, gamma = spend_model.params_.to_numpy()
    scale = gamma + x * m  # posterior rate of nu
    shape = q + p * x
    counts = np.arange(probabilities.shape[1])[None, 1:]

    def cdf(selected, s):
        ratio = (s / (s + scale[selected]))[:, None]
        parts = betainc(counts * p, shape[selected, None], ratio)
        return probabilities[selected, 0] + np.sum(probabilities[selected, 1:] * parts, axis=1)

    return cdf, scale, shape


def spend_distribution_at(model, params, data, spend_model, spend_data, horizon, spend):
    """``P(S < s)`` and ``P(S <= s)`` of the total spend in ``horizon`` at ``s = spend``.

    ``S`` has an atom at 0 (no purchase) and a density elsewhere, so the two differ
    only at 0. For the randomised PIT of :mod:`clv.models.count_calibration`.
    """
    spend = np.asarray(spend, dtype=np.float64)
    below, upto = np.zeros(len(spend)), np.zeros(len(spend))
    x, m = spend_data["frequency"], spend_data["monetary_value"]
    for rows, probabilities in _count_groups(model, params, data, horizon):
        cdf, _, _ = _spend_cdf(probabilities, spend_model, x[rows], m[rows])
        at = cdf(np.arange(len(rows)), spend[rows])
        zero = spend[rows] <= 0
        upto[rows] = np.where(zero, probabilities[:, 0], at)
        below[rows] = np.where(zero, 0.0, at)
    return below, upto


def _spend_quantiles(probabilities, targets, spend_model, x, m) -> np.ndarray:
    """Quantiles of the total spend ``S`` (rows, targets) under Gamma-Gamma."""
    p = spend_model.params_.to_numpy()[0]
    cdf, scale, shape = _spend_cdf(probabilities, spend_model, x, m)
    out = np.zeros((len(x), len(targets)))
    mean_spend = p * scale / np.maximum(shape - 1.0, 1e-3)  # a scale for the bracket
    for j, target in enumerate(targets):
        active = np.flatnonzero(probabilities[:, 0] < target)  # else the quantile is 0
        if not len(active):
            continue
        low = np.log(mean_spend[active] * 1e-12)
        high = np.log(mean_spend[active] * (probabilities.shape[1] + 1) * 1e9)
        for _ in range(_BISECTION_STEPS):
            middle = 0.5 * (low + high)
            below = cdf(active, np.exp(middle)) < target
            low = np.where(below, middle, low)
            high = np.where(below, high, middle)
        out[active, j] = np.exp(high)
    return out


def value_interval(
    model,
    params,
    data: dict[str, np.ndarray],
    spend,
    spend_data: dict[str, np.ndarray] | None,
    spend_values: np.ndarray,
    *,
    horizon: float,
    level: float,
    point: np.ndarray,
    margin: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the customer lifetime value (see the module docstring).

    Parameters
    ----------
    model : TransactionModel
        The fitted transaction model.
    params : numpy.ndarray
        Its parameters.
    data : dict of numpy.ndarray
        Its validated columns.
    spend : GammaGammaModel, float or array-like
        The spend model, or fixed spend per purchase.
    spend_data : dict of numpy.ndarray or None
        ``frequency`` and ``monetary_value`` when ``spend`` is a Gamma-Gamma model.
    spend_values : numpy.ndarray
        Expected spend per purchase, one per row.
    horizon : float
        Forecast horizon.
    level : float
        Probability the interval is meant to hold.
    point : numpy.ndarray
        The point value (mean CLV), one per row.
    margin : float
        Share of spend that is profit.

    Returns
    -------
    lower, upper : numpy.ndarray
        The bounds, ``lower <= point <= upper``.
    """
    targets = [(1.0 - level) / 2.0, (1.0 + level) / 2.0]
    expected = model._expected_purchases_curve(params, data, np.array([horizon]))[:, 0]
    undiscounted = margin * spend_values * expected
    with np.errstate(divide="ignore", invalid="ignore"):
        discount = np.where(undiscounted > 0, point / undiscounted, 1.0)
    if spend_data is None:
        pmf = rows_pmf(model, params, data, horizon)
        quantiles = count_quantiles(pmf, len(expected), targets) * spend_values[:, None]
    else:
        quantiles = np.empty((len(expected), len(targets)))
        x, m = spend_data["frequency"], spend_data["monetary_value"]
        for rows, probabilities in _count_groups(model, params, data, horizon):
            quantiles[rows] = _spend_quantiles(probabilities, targets, spend, x[rows], m[rows])
    bounds = margin * discount[:, None] * quantiles
    return np.minimum(bounds[:, 0], point), np.maximum(bounds[:, 1], point)
