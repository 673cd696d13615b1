"""The prediction API shared by the transaction-count models (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clv._validation import check_number
from clv.models._estimator import ProbabilisticModel
from clv.models.value import customer_lifetime_value

__all__ = ["TransactionModel"]


class TransactionModel(ProbabilisticModel):
    """Base of the transaction-count models: the shared prediction API.

    Subclasses implement the private ``_expected_purchases_curve``, ``_probability_alive``,
    ``_probability_no_purchase`` and ``_expected_purchases_new_customer`` on validated
    numpy arrays; this class validates the input once and returns pandas indexed like it.
    """

    discrete_time: ClassVar[bool] = False

    def _expected_purchases_curve(self, params, data, horizons: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _probability_alive(self, params, data) -> np.ndarray:
        raise NotImplementedError

    def _probability_no_purchase(self, params, data, horizon: float) -> np.ndarray:
        raise NotImplementedError

    def _expected_purchases_new_customer(self, params, horizon: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _discounted_expected_residual_transactions(self, params, data, delta: float):
        """Closed-form DERT over an infinite horizon, or None when there is none."""
        return None

    def _check_horizon(self, horizon: object) -> float:
        """Check a future window: a non-negative number (whole periods in discrete time)."""
        return check_number(
            "horizon", horizon, owner=type(self).__name__, integer=self.discrete_time
        )

    def expected_purchases(self, X: pd.DataFrame, horizon: float) -> pd.Series:
        """Predict the number of purchases in the next ``horizon``, given each history.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns.
        horizon : float
            Length of the future window, in the model's time unit.

        Returns
        -------
        pandas.Series
            ``E[Y(horizon) | history]``, indexed like ``X``.
        """
        horizon = self._check_horizon(horizon)
        data, index = self._prediction_table(X)
        curve = self._expected_purchases_curve(self.params_.to_numpy(), data, np.array([horizon]))
        return pd.Series(curve[:, 0], index=index, name="expected_purchases")

    def expected_purchases_curve(self, X: pd.DataFrame, horizons: Sequence[float]) -> pd.DataFrame:
        """Predict cumulative purchases at several future horizons at once.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns.
        horizons : sequence of float
            Future window lengths, in the model's time unit.

        Returns
        -------
        pandas.DataFrame
            One column per horizon, indexed like ``X``.
        """
        values = np.array([self._check_horizon(h) for h in horizons])
        data, index = self._prediction_table(X)
        curve = self._expected_purchases_curve(self.params_.to_numpy(), data, values)
        return pd.DataFrame(curve, index=index, columns=list(values))

    def probability_alive(self, X: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still active at the end of observation.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns.

        Returns
        -------
        pandas.Series
            Values in [0, 1], indexed like ``X``.
        """
        data, index = self._prediction_table(X)
        values = self._probability_alive(self.params_.to_numpy(), data)
        return pd.Series(np.clip(values, 0.0, 1.0), index=index, name="probability_alive")

    def probability_no_purchase(self, X: pd.DataFrame, horizon: float) -> pd.Series:
        """Churn: probability of no purchase in the next ``horizon``, given each history.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns.
        horizon : float
            Length of the future window, in the model's time unit.

        Returns
        -------
        pandas.Series
            ``P(Y(horizon) = 0 | history)`` in [0, 1], indexed like ``X``.
        """
        horizon = self._check_horizon(horizon)
        data, index = self._prediction_table(X)
        values = self._probability_no_purchase(self.params_.to_numpy(), data, horizon)
        return pd.Series(np.clip(values, 0.0, 1.0), index=index, name="probability_no_purchase")

    def expected_purchases_new_customer(self, horizon: float | Sequence[float]) -> Any:
        """Predict repeat purchases of a new customer in ``(0, horizon]``: ``E[X(t)]``.

        Parameters
        ----------
        horizon : float or sequence of float
            Time(s) since the first purchase, in the model's time unit.

        Returns
        -------
        float or numpy.ndarray
            One value per horizon.
        """
        self._check_is_fitted()
        scalar = np.ndim(horizon) == 0
        values = np.atleast_1d(np.asarray(horizon, dtype=np.float64))
        for value in values:
            check_number("horizon", float(value), owner=type(self).__name__, integer=False)
        result = self._expected_purchases_new_customer(self.params_.to_numpy(), values)
        return float(result[0]) if scalar else result

    def customer_lifetime_value(self, X: pd.DataFrame, spend: Any, **options: Any) -> pd.Series:
        """Compute the customer lifetime value; see :func:`clv.models.customer_lifetime_value`.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table.
        spend : GammaGammaModel, float or array-like
            Expected spend per purchase: a fitted spend model, one number, or one
            value per customer.
        **options
            ``horizon``, ``time_unit``, ``margin``, ``discount_rate``,
            ``discounting``, ``period``: see :func:`clv.models.customer_lifetime_value`.

        Returns
        -------
        pandas.Series
            Value per customer, indexed like ``X``.
        """
        return customer_lifetime_value(self, spend, X, **options)
