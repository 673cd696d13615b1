"""Customer lifetime value: expected purchases x expected spend x margin, discounted.

Conventions, stated once:

* ``horizon`` and ``period`` are in the model's time unit (``"D"`` days, ``"W"``
  weeks of 7 days, ``"Y"`` years of 365.25 days).
* ``discount_rate`` is an **annual effective rate**: 0.10 means money one year from
  now is worth ``1 / 1.10`` today. It is converted explicitly with a year of 365.25
  days: per time unit the continuous rate is ``delta = log(1 + discount_rate) /
  units_per_year`` and a discrete period of length ``P`` is discounted by
  ``(1 + discount_rate) ** (P / units_per_year)``. No month factors.

``discounting="continuous"`` (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis", JMR 42(4), eq. 2 and the DERT of eq. 4)::

    CLV = margin * spend * DET,  DET = int_0^H exp(-delta t) dE[Y(t) | history]

which, integrating by parts, is ``exp(-delta H) E[Y(H)] + delta int_0^H exp(-delta t)
E[Y(t)] dt``; computed by Gauss-Legendre quadrature on the model's closed-form
``E[Y(t)]`` (accurate to ~1e-10 because ``E[Y(t)]`` is smooth), or with a model's
closed-form DERT (Pareto/NBD) when ``horizon`` is infinite.

``discounting="discrete"`` discounts whole periods of length ``P`` (``K = H / P``)::

    CLV = margin * spend * sum_{k=1}^{K} (E[Y(kP)] - E[Y((k-1)P)]) / (1 + d_P) ** k

with ``d_P = (1 + discount_rate) ** (P / units_per_year) - 1``. lifetimes' monthly
``customer_lifetime_value(time=12, discount_rate=0.01, freq="W")`` is this formula with
``P = 4.345`` weeks, ``K = 12`` and ``d_P = 0.01``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from clv._validation import check_choice, check_number, units_per_year
from clv.errors import InvalidParameterError
from clv.models._stable import unit_legendre

__all__ = ["customer_lifetime_value", "lifetime_value_arrays", "whole_periods"]

_GAUSS_NODES = 64
_CHUNK_ROWS = 250_000


def _resolve_time_unit(model: Any, X: pd.DataFrame, time_unit: str | None) -> str | None:
    fitted = getattr(model, "time_unit_", None)
    declared = X.attrs.get("time_unit") if isinstance(X, pd.DataFrame) else None
    for source in (fitted, declared):
        if time_unit is not None and source is not None and source != time_unit:
            raise InvalidParameterError(
                f"time_unit={time_unit!r} contradicts the model or table time unit {source!r}."
            )
    return time_unit or fitted or declared


def _spend_per_customer(spend: Any, X: pd.DataFrame) -> np.ndarray:
    if hasattr(spend, "expected_spend"):
        return spend.expected_spend(X).to_numpy()
    values = np.asarray(spend, dtype=np.float64)
    if values.ndim == 0:
        values = np.full(len(X), float(values))
    if values.shape != (len(X),) or not np.all(np.isfinite(values)):
        raise InvalidParameterError(
            "'spend' must be a fitted spend model, a number, or one finite value per customer "
            f"({len(X)}); got shape {values.shape}."
        )
    return values


def _by_chunks(data: dict[str, np.ndarray], compute) -> np.ndarray:
    """Apply ``compute`` to row blocks so that horizon grids stay small in memory."""
    n = len(next(iter(data.values())))
    if n <= _CHUNK_ROWS:
        return np.asarray(compute(data))
    parts = [
        compute({name: values[start : start + _CHUNK_ROWS] for name, values in data.items()})
        for start in range(0, n, _CHUNK_ROWS)
    ]
    return np.concatenate(parts)


def _discounted_transactions_continuous(model, params, data, horizon: float, delta: float):
    if math.isinf(horizon):
        closed = model._discounted_expected_residual_transactions(params, data, delta)
        if closed is not None:
            return np.asarray(closed)
        if delta <= 0:
            raise InvalidParameterError("An infinite horizon needs a positive discount_rate.")
        # u = exp(-delta t) maps [0, inf) to (0, 1]: DET = int_0^1 E[Y(-log(u)/delta)] du
        u, weights = unit_legendre(_GAUSS_NODES)
        times = -np.log(u) / delta
        return model._expected_purchases_curve(params, data, times) @ weights
    if delta == 0:
        return model._expected_purchases_curve(params, data, np.array([horizon]))[:, 0]
    u, weights = unit_legendre(_GAUSS_NODES)
    times = horizon * u
    curve = model._expected_purchases_curve(params, data, np.append(times, horizon))
    integral = curve[:, :-1] @ (horizon * weights * np.exp(-delta * times))
    return math.exp(-delta * horizon) * curve[:, -1] + delta * integral


def whole_periods(horizon: float, period: float = 1.0) -> int:
    """Return how many periods make up ``horizon``: a whole number >= 1 (to 1e-9), else 0."""
    steps = horizon / period
    count = round(steps)
    return count if count >= 1 and abs(steps - count) <= 1e-9 * max(1.0, steps) else 0


def _discounted_transactions_discrete(model, params, data, horizon, period, per_period_rate):
    n_periods = whole_periods(horizon, period)
    if not n_periods:
        raise InvalidParameterError(
            f"The 'horizon' ({horizon:g}) must be a whole number of periods of length {period:g}."
        )
    ends = period * np.arange(1, n_periods + 1)
    if per_period_rate == 0:
        # Undiscounted, the sum of the increments telescopes to E[Y(K P)]: one horizon
        # instead of K (39 weekly periods cost ~1 ms per customer row otherwise).
        return model._expected_purchases_curve(params, data, ends[-1:])[:, 0]
    curve = model._expected_purchases_curve(params, data, ends)
    increments = np.diff(curve, axis=1, prepend=0.0)
    factors = (1.0 + per_period_rate) ** -np.arange(1, n_periods + 1)
    return increments @ factors


def customer_lifetime_value(
    transaction_model: Any,
    spend: Any,
    X: pd.DataFrame,
    *,
    horizon: float,
    time_unit: str | None = None,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    discounting: Literal["continuous", "discrete"] = "discrete",
    period: float | None = None,
    interval: float | None = None,
    parameter_interval: float | None = None,
) -> pd.Series | pd.DataFrame:
    """Discounted value of each customer's expected future purchases.

    Parameters
    ----------
    transaction_model : TransactionModel
        A fitted BG/NBD, MBG/NBD, Pareto/NBD or BG/BB model.
    spend : GammaGammaModel, float or array-like
        Expected spend per purchase: a fitted spend model (its ``expected_spend``), one
        number for everyone, or one value per row of ``X``.
    X : pandas.DataFrame
        Customer table with the columns both models need.
    horizon : float
        Length of the future window in ``time_unit``; ``numpy.inf`` is allowed with
        continuous discounting and a positive ``discount_rate``.
    time_unit : {"D", "W", "Y"} or None
        Unit of ``horizon`` and ``period``; defaults to the model's / table's. Needed
        only to convert a non-zero ``discount_rate``.
    margin : float, default 1.0
        Share of spend that is profit.
    discount_rate : float, default 0.0
        Annual effective discount rate (0.10 = 10% a year).
    discounting : {"discrete", "continuous"}, default "discrete"
        See the module docstring for both formulas and their sources.
    period : float, optional
        Length of one discounting period for ``"discrete"``, in ``time_unit``
        (default: one time unit); ``horizon`` must be a whole number of periods.
    interval : float, optional
        A level in (0, 1), e.g. 0.9: add the per-customer prediction interval
        ``clv_lower``, ``clv_upper`` of the value, from the transaction model's
        predictive distribution of purchases and Gamma-Gamma's distribution of spend
        (see :mod:`clv.models._value_intervals`; a finite horizon).
    parameter_interval : float, optional
        A level in (0, 1): add ``clv_mean_lower``, ``clv_mean_upper``, the confidence
        interval of the point value from the parameters' asymptotic sampling
        distribution (see :mod:`clv.models._parameter_uncertainty`; the models must be
        fitted with ``compute_standard_errors=True``).

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Value per customer, indexed like ``X``; with ``interval`` or
        ``parameter_interval`` a DataFrame with ``customer_lifetime_value`` and the
        bounds asked for.
    """
    owner = "customer_lifetime_value"
    check_number("margin", margin, owner=owner)
    check_number("discount_rate", discount_rate, owner=owner)
    check_number("horizon", horizon, owner=owner, low_open=True, high_open=False)
    check_choice("discounting", discounting, ("continuous", "discrete"), owner=owner)
    unit = _resolve_time_unit(transaction_model, X, time_unit)
    if discount_rate > 0 and unit is None:
        raise InvalidParameterError(
            "A discount_rate needs a time unit: pass time_unit='D' or 'W' (or fit on a "
            "table built by clv.features.rfm_summary)."
        )
    year = units_per_year(unit) if unit is not None else 1.0
    if discounting == "continuous" and transaction_model.discrete_time:
        raise InvalidParameterError(
            f"{type(transaction_model).__name__} counts discrete opportunities; use "
            "discounting='discrete'."
        )
    data, index = transaction_model._prediction_table(X)
    options = {
        "horizon": float(horizon),
        "year": year,
        "margin": float(margin),
        "discount_rate": float(discount_rate),
        "discounting": discounting,
        "period": period,
    }
    values = lifetime_value_arrays(
        transaction_model, data, _spend_per_customer(spend, X), **options
    )
    if interval is None and parameter_interval is None:
        return pd.Series(values, index=index, name="customer_lifetime_value")
    from clv.models._predictive import check_level

    columns = {"customer_lifetime_value": values}
    if interval is not None:
        level = check_level(owner, interval)
        columns["clv_lower"], columns["clv_upper"] = _prediction_interval(
            transaction_model, spend, X, data, values, horizon, level, margin
        )
    if parameter_interval is not None:
        level = check_level(owner, parameter_interval)
        columns["clv_mean_lower"], columns["clv_mean_upper"] = _parameter_interval(
            transaction_model, spend, X, data, level, options
        )
    return pd.DataFrame(columns, index=index)


def _prediction_interval(transaction_model, spend, X, data, values, horizon, level, margin):
    """Bounds of the predictive interval of the value (see ``_value_intervals``)."""
    from clv.models._value_intervals import value_interval

    if math.isinf(horizon):
        raise InvalidParameterError("A CLV interval needs a finite horizon.")
    spend_data = spend._prediction_table(X)[0] if hasattr(spend, "population_mean_spend") else None
    return value_interval(
        transaction_model,
        transaction_model.params_.to_numpy(),
        data,
        spend,
        spend_data,
        _spend_per_customer(spend, X),
        horizon=float(horizon),
        level=level,
        point=values,
        margin=float(margin),
    )


def _parameter_interval(transaction_model, spend, X, data, level, options):
    """Bounds of the point value over parameter draws (see ``_parameter_uncertainty``)."""
    from clv.models._parameter_uncertainty import parameter_draws

    draws = parameter_draws(transaction_model)
    has_spend_covariance = getattr(spend, "covariance_", None) is not None
    spend_draws = parameter_draws(spend) if has_spend_covariance else None
    unit = getattr(transaction_model, "time_unit_", None)
    samples = np.empty((len(draws), len(next(iter(data.values())))))
    for i, theta in enumerate(draws):
        model = type(transaction_model).from_params(
            dict(zip(transaction_model.params_.index, theta, strict=True)), time_unit=unit
        )
        per_purchase = spend
        if spend_draws is not None:
            per_purchase = type(spend).from_params(
                dict(zip(spend.params_.index, spend_draws[i], strict=True))
            )
        samples[i] = lifetime_value_arrays(
            model, data, _spend_per_customer(per_purchase, X), **options
        )
    return tuple(np.quantile(samples, [(1.0 - level) / 2.0, (1.0 + level) / 2.0], axis=0))


def lifetime_value_arrays(
    transaction_model: Any,
    data: dict[str, np.ndarray],
    spend_values: np.ndarray,
    *,
    horizon: float,
    year: float,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    discounting: Literal["continuous", "discrete"] = "discrete",
    period: float | None = None,
) -> np.ndarray:
    """Compute :func:`customer_lifetime_value` on arrays that are already validated.

    For callers that have validated the customer table once (``data`` from the
    model's ``_prediction_table``) and checked ``margin``, ``discount_rate`` and
    ``horizon`` themselves: the scoring endpoint answers one customer in well under
    a millisecond this way instead of re-validating a DataFrame per prediction.

    Parameters
    ----------
    transaction_model : TransactionModel
        A fitted model.
    data : dict of numpy.ndarray
        Validated columns of the model (``frequency``, ``recency``, ``T``).
    spend_values : numpy.ndarray
        Expected spend per purchase, one value per row.
    horizon, margin, discount_rate, discounting, period
        As in :func:`customer_lifetime_value`.
    year : float
        Length of a year in the model's time unit
        (:func:`clv._validation.units_per_year`); converts the annual rate.

    Returns
    -------
    numpy.ndarray
        Value per row.
    """
    params = transaction_model.params_.to_numpy()
    if discounting == "continuous":
        delta = math.log1p(discount_rate) / year
        transactions = _by_chunks(
            data,
            lambda part: _discounted_transactions_continuous(
                transaction_model, params, part, horizon, delta
            ),
        )
    else:
        if math.isinf(horizon):
            raise InvalidParameterError("Discrete discounting needs a finite horizon.")
        length = 1.0 if period is None else float(period)
        check_number("period", length, owner="customer_lifetime_value", low_open=True)
        per_period_rate = (1.0 + discount_rate) ** (length / year) - 1.0
        transactions = _by_chunks(
            data,
            lambda part: _discounted_transactions_discrete(
                transaction_model, params, part, horizon, length, per_period_rate
            ),
        )
    return margin * np.asarray(spend_values, dtype=np.float64) * transactions
