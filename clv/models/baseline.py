"""The simple CLV formula: average purchase value x purchase frequency x lifespan.

The baseline every CLV text starts from (e.g. Gupta & Lehmann 2005, "Managing
Customers as Investments"; the "historical CLV" of practitioners): a customer keeps
buying at their historical rate and spending their historical average, for the whole
horizon. Here:

* purchase frequency = the historical **repeat** purchase rate ``frequency / T`` (the
  acquisition purchase is not a repeat and is excluded, as in every model of the
  customer table); customers observed for no time (``T == 0``) get the population rate
  ``sum(frequency) / sum(T)`` learnt by ``fit``;
* average purchase value = ``monetary_value`` (mean repeat spend), and the population
  mean repeat spend where a customer has no repeat purchase;
* lifespan = the horizon: nobody leaves, so ``probability_alive`` is 1 and the
  probability of no purchase is the Poisson ``exp(-expected purchases)``.

The purchases are spread evenly over the horizon, so discounting multiplies the value
by :func:`uniform_discount_factor`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from clv._estimator_contract import Estimator
from clv._validation import (
    CustomerTable,
    check_is_fitted,
    check_number,
    check_sample_weight,
    check_time_unit,
    units_per_year,
)
from clv.errors import InvalidParameterError, ModelLoadError
from clv.models._estimator import fit_time_unit
from clv.models._persistence import JsonPersistence, header, register
from clv.models.value import whole_periods

__all__ = ["SimpleCLVModel", "uniform_discount_factor"]

#: The time units ("M": calendar months, twelve a year).
_UNITS = "DWMY"


def uniform_discount_factor(horizon: float, time_unit: str | None, discount_rate: float) -> float:
    """Discount factor of a spend spread evenly over ``horizon``.

    ``discount_rate`` is an annual effective rate converted with 365.25 days a year
    (as in :mod:`clv.models.value`). For a whole number ``K`` of time units the spend
    of unit ``k`` is discounted by ``(1 + d) ** -k`` with ``d = (1 + discount_rate) **
    (1 / units_per_year) - 1`` (the discrete convention of :mod:`clv.models.value` with
    one-unit periods) and the factor is their mean; otherwise the continuous factor
    ``(1 - exp(-delta H)) / (delta H)``, ``delta = log(1 + discount_rate) /
    units_per_year``.

    Parameters
    ----------
    horizon : float
        Length of the window, in ``time_unit``.
    time_unit : {"D", "W", "M", "Y"} or None
        Unit of ``horizon``; needed when ``discount_rate > 0``.
    discount_rate : float
        Annual effective rate (0.10 = 10 % a year).

    Returns
    -------
    float
        A factor in (0, 1]; 1 when ``discount_rate`` is 0.
    """
    if check_number("discount_rate", discount_rate) == 0:
        return 1.0
    if time_unit not in list(_UNITS):
        raise InvalidParameterError(
            f"A discount_rate needs a time unit 'D', 'W', 'M' or 'Y'; got {time_unit!r}."
        )
    year = units_per_year(time_unit)
    steps = float(horizon)
    if count := whole_periods(steps):
        per_unit = (1.0 + discount_rate) ** (1.0 / year) - 1.0
        k = np.arange(1, count + 1)
        return float(np.mean((1.0 + per_unit) ** -k))
    delta = math.log1p(discount_rate) / year
    return float(-math.expm1(-delta * steps) / (delta * steps))


@register
class SimpleCLVModel(JsonPersistence, Estimator):
    """Average purchase value x historical purchase rate x horizon.

    Parameters
    ----------
    time_unit : {"D", "W", "M", "Y"} or None, default None
        Unit of ``T`` and of horizons; ``None`` reads the table's ``attrs``.

    Attributes
    ----------
    population_rate_ : float
        ``sum(frequency) / sum(T)``: repeat purchases per time unit across customers.
    population_spend_ : float
        Mean spend per repeat purchase across customers
        (``sum(frequency * monetary_value) / sum(frequency)``).
    time_unit_ : str or None
        Time unit of the fitted table.
    n_customers_ : int
        Customers fitted.

    Examples
    --------
    >>> from clv.datasets import load_cdnow
    >>> from clv.features import rfm_summary
    >>> table = rfm_summary(load_cdnow(), observation_end="1997-09-30", time_unit="W")
    >>> model = SimpleCLVModel().fit(table)
    >>> round(float(model.expected_purchases(table, 39).sum()))
    2930
    """

    def __init__(self, *, time_unit: str | None = None):
        self.time_unit = time_unit

    def _arrays(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        return CustomerTable(X, ("frequency", "T", "monetary_value"), integer=()).arrays

    def fit(
        self, X: pd.DataFrame, y: object = None, sample_weight: object = None
    ) -> SimpleCLVModel:
        """Learn the population rate and spend used for customers without history.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``T`` and ``monetary_value``.
        y : None
            Ignored.
        sample_weight : array-like, optional
            Customers each row stands for.

        Returns
        -------
        self
            The fitted model.
        """
        arrays = self._arrays(X)
        time_unit = fit_time_unit(self, X)
        if self.time_unit is not None:
            check_time_unit(self.time_unit, _UNITS, owner="SimpleCLVModel")
        weights = check_sample_weight(sample_weight, len(X))
        x, T, m = arrays["frequency"], arrays["T"], arrays["monetary_value"]
        total_T = float(weights @ T)
        total_x = float(weights @ x)
        self.population_rate_ = total_x / total_T if total_T > 0 else 0.0
        self.population_spend_ = float(weights @ (x * m)) / total_x if total_x > 0 else 0.0
        self.time_unit_ = time_unit
        self.n_customers_ = int(len(X))
        return self

    def _check_is_fitted(self) -> None:
        check_is_fitted(self, "population_rate_", "fit(X)")

    def purchase_rate(self, X: pd.DataFrame) -> pd.Series:
        """Historical repeat purchase rate ``frequency / T`` per time unit.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table.

        Returns
        -------
        pandas.Series
            The rate (the population rate where ``T`` is 0), indexed like ``X``.
        """
        self._check_is_fitted()
        arrays = self._arrays(X)
        x, T = arrays["frequency"], arrays["T"]
        rate = np.where(T > 0, x / np.where(T > 0, T, 1.0), self.population_rate_)
        return pd.Series(rate, index=X.index, name="purchase_rate")

    def expected_purchases(self, X: pd.DataFrame, horizon: float) -> pd.Series:
        """Purchases in the next ``horizon``: rate x horizon.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table.
        horizon : float
            Window length in the model's time unit.

        Returns
        -------
        pandas.Series
            Indexed like ``X``.
        """
        horizon = check_number("horizon", horizon, owner="SimpleCLVModel")
        return (self.purchase_rate(X) * horizon).rename("expected_purchases")

    def probability_alive(self, X: pd.DataFrame) -> pd.Series:
        """Return 1 for everyone: the formula assumes nobody leaves within the lifespan.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table.

        Returns
        -------
        pandas.Series
            Ones, indexed like ``X``.
        """
        self._check_is_fitted()
        return pd.Series(1.0, index=X.index, name="probability_alive")

    def probability_no_purchase(self, X: pd.DataFrame, horizon: float) -> pd.Series:
        """Poisson probability of no purchase at the historical rate: ``exp(-rate H)``.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table.
        horizon : float
            Window length in the model's time unit.

        Returns
        -------
        pandas.Series
            Values in [0, 1], indexed like ``X``.
        """
        return np.exp(-self.expected_purchases(X, horizon)).rename("probability_no_purchase")

    def expected_spend(self, X: pd.DataFrame) -> pd.Series:
        """Average purchase value: ``monetary_value``, or the population mean without repeats.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table.

        Returns
        -------
        pandas.Series
            Spend per purchase, indexed like ``X``.
        """
        self._check_is_fitted()
        arrays = self._arrays(X)
        values = np.where(arrays["frequency"] > 0, arrays["monetary_value"], self.population_spend_)
        return pd.Series(values, index=X.index, name="expected_spend")

    def customer_lifetime_value(
        self,
        X: pd.DataFrame,
        *,
        horizon: float,
        margin: float = 1.0,
        discount_rate: float = 0.0,
    ) -> pd.Series:
        """``margin x value x rate x horizon x`` :func:`uniform_discount_factor`.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table.
        horizon : float
            Lifespan considered, in the model's time unit.
        margin : float, default 1.0
            Share of spend that is profit.
        discount_rate : float, default 0.0
            Annual effective discount rate.

        Returns
        -------
        pandas.Series
            Value per customer, indexed like ``X``.
        """
        check_number("margin", margin)
        factor = uniform_discount_factor(horizon, self.time_unit_, discount_rate)
        value = self.expected_purchases(X, horizon) * self.expected_spend(X) * (margin * factor)
        return value.rename("customer_lifetime_value")

    def to_dict(self) -> dict[str, Any]:
        """Fitted state as JSON-compatible data (:mod:`clv.models._persistence`).

        Returns
        -------
        dict
            The header (format, model name, hyperparameters) and the two population
            values.
        """
        self._check_is_fitted()
        return {
            **header(self),
            "population_rate": self.population_rate_,
            "population_spend": self.population_spend_,
            "time_unit": self.time_unit_,
            "n_customers": self.n_customers_,
        }

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> SimpleCLVModel:
        try:
            model = cls(**state["hyperparameters"])
            model.population_rate_ = float(state["population_rate"])
            model.population_spend_ = float(state["population_spend"])
            model.time_unit_ = state["time_unit"]
            model.n_customers_ = int(state["n_customers"])
        except (KeyError, TypeError, ValueError) as error:
            raise ModelLoadError(f"The saved SimpleCLVModel is incomplete: {error}.") from None
        return model
