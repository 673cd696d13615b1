"""What a newly acquired customer is worth, and when it pays back its cost.

A customer "just acquired" has made a first purchase at time 0 and nothing else. Their
expected discounted profit over a horizon ``H`` is::

    value(H) = margin * spend * (1 + DET_new(H))

* ``DET_new(H)`` is the discounted expected number of **repeat** purchases in
  ``(0, H]``: the transaction model's new-customer expectation ``E[X(t)]`` (BG/NBD
  eq. 9 of Fader, Hardie & Lee 2005; Pareto/NBD eq. 27 of Fader & Hardie's 2005 note;
  MBG/NBD; BG/BB eq. 9), discounted exactly as
  :func:`clv.models.customer_lifetime_value` discounts (a customer with ``x = t_x =
  T = 0`` has the conditional expectation ``E[X(t)]``, so the same code computes it);
* the ``1`` is the acquisition purchase itself, at time 0, undiscounted
  (``include_first_purchase=False`` leaves it out);
* ``spend`` is the population mean spend per purchase: Gamma-Gamma's
  ``p * gamma / (q - 1)`` (:meth:`GammaGammaModel.population_mean_spend`) or a number.

The largest acquisition cost that still pays back within ``H`` is ``value(H)``; given
a cost, the **payback time** is the first ``t`` at which ``value(t)`` reaches it
(:func:`payback_time`, on the grid of :func:`new_customer_value_curve`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from clv._validation import check_number, units_per_year
from clv.errors import InvalidDataError, InvalidParameterError
from clv.models._transaction_model import TransactionModel
from clv.models.value import lifetime_value_arrays, whole_periods

__all__ = [
    "new_customer_value",
    "new_customer_value_by_group",
    "new_customer_value_curve",
    "payback_time",
]


def _mean_spend(spend: Any) -> float:
    if hasattr(spend, "population_mean_spend"):
        return float(spend.population_mean_spend())
    return check_number(
        "spend", spend, low=-math.inf, low_open=True, note=" (or a fitted Gamma-Gamma model)"
    )


def _new_customer_row(model: TransactionModel) -> dict[str, np.ndarray]:
    return {column: np.zeros(1) for column in model.data_columns}


def new_customer_value_curve(
    transaction_model: TransactionModel,
    spend: Any,
    *,
    horizon: float,
    step: float = 1.0,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    time_unit: str | None = None,
    include_first_purchase: bool = True,
) -> pd.Series:
    """Return a new customer's cumulative expected profit at ``0, step, ..., horizon``.

    Discounting is discrete with periods of length ``step`` (as
    :func:`clv.models.customer_lifetime_value` with ``discounting="discrete"`` and
    ``period=step``); the module docstring gives the formula.

    Parameters
    ----------
    transaction_model : TransactionModel
        A fitted BG/NBD, MBG/NBD, Pareto/NBD or BG/BB model.
    spend : GammaGammaModel or float
        Mean spend per purchase: a fitted Gamma-Gamma model (its population mean) or a
        number.
    horizon : float
        The last time, in the model's time unit; a whole number of steps.
    step : float, default 1.0
        Grid and discounting period, in the model's time unit.
    margin : float, default 1.0
        Share of spend that is profit.
    discount_rate : float, default 0.0
        Annual effective discount rate.
    time_unit : str, optional
        The model's time unit when it has none stored (needed for a discount rate).
    include_first_purchase : bool, default True
        Count the acquisition purchase at time 0.

    Returns
    -------
    pandas.Series
        Cumulative value indexed by time (name ``"new_customer_value"``); at time 0
        the acquisition purchase alone.
    """
    transaction_model._check_is_fitted()
    owner = "new_customer_value_curve"
    check_number("margin", margin, owner=owner)
    check_number("discount_rate", discount_rate, owner=owner)
    check_number("step", step, owner=owner, low_open=True)
    check_number("horizon", horizon, owner=owner, low_open=True)
    n_steps = whole_periods(horizon, step)
    if not n_steps:
        raise InvalidParameterError(
            f"The 'horizon' ({horizon:g}) must be a whole number of steps of {step:g}."
        )
    unit = time_unit or getattr(transaction_model, "time_unit_", None)
    if discount_rate > 0 and unit is None:
        raise InvalidParameterError("A discount_rate needs the model's time unit (time_unit=).")
    year = units_per_year(unit) if unit is not None else 1.0
    mean_spend = _mean_spend(spend)
    row = _new_customer_row(transaction_model)
    times = step * np.arange(1, n_steps + 1)
    repeat = np.array(
        [
            lifetime_value_arrays(
                transaction_model,
                row,
                np.ones(1),
                horizon=float(t),
                year=year,
                discount_rate=float(discount_rate),
                discounting="discrete",
                period=float(step),
            )[0]
            for t in times
        ]
    )
    first = 1.0 if include_first_purchase else 0.0
    values = float(margin) * mean_spend * (first + np.append(0.0, repeat))
    index = pd.Index(np.append(0.0, times), name="time")
    return pd.Series(values, index=index, name="new_customer_value")


def new_customer_value(transaction_model: TransactionModel, spend: Any, **options: Any) -> float:
    """Return the expected discounted profit of a new customer over ``horizon``.

    Also the largest acquisition cost that pays back within the horizon.

    Parameters
    ----------
    transaction_model : TransactionModel
        A fitted transaction model.
    spend : GammaGammaModel or float
        Mean spend per purchase.
    **options
        ``horizon`` (required), ``step``, ``margin``, ``discount_rate``, ``time_unit``,
        ``include_first_purchase``: as in :func:`new_customer_value_curve`.

    Returns
    -------
    float
        The value at the horizon.
    """
    return float(new_customer_value_curve(transaction_model, spend, **options).iloc[-1])


def payback_time(curve: pd.Series, acquisition_cost: float) -> float:
    """First time on ``curve`` at which the cumulative value reaches ``acquisition_cost``.

    Parameters
    ----------
    curve : pandas.Series
        From :func:`new_customer_value_curve`.
    acquisition_cost : float
        Cost of acquiring one customer, in the same currency as the spend.

    Returns
    -------
    float
        The payback time in the model's time unit, or ``inf`` when the cost is not paid
        back within the curve's horizon.
    """
    check_number("acquisition_cost", acquisition_cost, owner="payback_time", high_open=False)
    reached = np.flatnonzero(curve.to_numpy() >= acquisition_cost)
    return float(curve.index[reached[0]]) if reached.size else math.inf


def new_customer_value_by_group(
    transaction_model: TransactionModel,
    spend_model: Any,
    X: pd.DataFrame,
    groups: pd.Series,
    *,
    min_customers: int = 200,
    **options: Any,
) -> pd.DataFrame:
    """New-customer value per group of customers (acquisition cohort, channel, ...).

    The transaction model and the spend model are refitted (clones, same settings) on
    each group's customers, so each group's value comes from its own parameters.

    Parameters
    ----------
    transaction_model : TransactionModel
        An (unfitted or fitted) model whose settings are cloned per group.
    spend_model : GammaGammaModel
        Cloned and fitted per group on its repeat buyers with positive spend.
    X : pandas.DataFrame
        Customer table with the columns both models need.
    groups : pandas.Series
        Group label of each customer, aligned with ``X``'s index.
    min_customers : int, default 200
        Groups with fewer customers are listed with ``value`` NaN and a note.
    **options
        As in :func:`new_customer_value` (``horizon`` required).

    Returns
    -------
    pandas.DataFrame
        One row per group: ``customers``, ``value``, ``note``.
    """
    if not isinstance(groups, pd.Series) or not groups.index.equals(X.index):
        raise InvalidDataError("'groups' must be a Series indexed like the customer table.")
    rows = []
    for label, members in X.groupby(groups.to_numpy(), sort=True):
        note = ""
        value = math.nan
        if len(members) < min_customers:
            note = f"fewer than {min_customers} customers"
        else:
            purchases = clone(transaction_model).fit(members)
            repeat = members[(members["frequency"] > 0) & (members["monetary_value"] > 0)]
            spend = clone(spend_model).fit(repeat)
            value = new_customer_value(purchases, spend, **options)
        rows.append({"group": label, "customers": len(members), "value": value, "note": note})
    return pd.DataFrame(rows).set_index("group")
