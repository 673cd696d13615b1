r"""Per-customer prediction intervals of the customer lifetime value.

The value over the horizon is ``V = margin * d * S``, ``S`` the spend of the ``Y``
future purchases. With Gamma-Gamma, given ``x`` repeat purchases of mean ``m``,
``nu ~ Gamma(q + p x, gamma + x m)`` (Fader & Hardie 2013, behind eq. 5), so given
``Y = n``, ``S / (S + gamma + x m) ~ Beta(n p, q + p x)`` and

.. math::

    P(S \le s) = P(Y = 0) + \sum_{n \ge 1} P(Y = n)\,
        I_{s / (s + \gamma + x m)}(n p, q + p x);

a fixed spend per purchase makes ``S`` that spend times ``Y``. ``d`` is the mean
discount per expected purchase, ``DET / E[Y(H)]``: exact without discounting, an
approximation with it. Quantiles by bisection on ``log(s)`` (32 steps: relative
precision 1.3e-8), counts summed until 1e-6 of the mass is left; an interval that
misses the mean is widened to hold it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc

from clv.models._predictive import count_quantiles, rows_pmf

__all__ = ["spend_distribution_at", "value_interval"]

_TAIL = 1e-6
_BISECTION_STEPS = 32


def _count_groups(model, params, data, horizon: float):
    """Yield ``(rows, P(Y = n) for n = 0..N)`` by groups of rows that need about the same ``N``."""
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
    """``P(S < s)`` and ``P(S <= s)`` of the total spend in ``horizon`` at ``s = spend``."""
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

    ``spend`` is a Gamma-Gamma model (with ``spend_data``, its validated columns) or a
    fixed spend per purchase; ``point`` the mean value per row. ``lower <= point <= upper``.
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
