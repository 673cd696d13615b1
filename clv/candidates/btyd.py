"""The BTYD kinds: ``bg_nbd``, ``mbg_nbd``, ``pareto_nbd``, each x Gamma-Gamma.

The transaction model and :class:`~clv.models.gamma_gamma.GammaGammaModel` are both
fitted on :func:`clv.features.rfm_summary` as of ``as_of``; CLV by
:func:`clv.models.value.customer_lifetime_value` (discrete discounting with one-unit
periods when the horizon is a whole number of units, continuous otherwise).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from clv._validation import check_number, units_per_year
from clv.candidates.base import RFM, Candidate, customer_table, prediction_frame, rfm_view
from clv.errors import CLVError
from clv.features.rfm import rfm_summary
from clv.models import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel
from clv.models._arrays import collapse_rows
from clv.models._shared_terms import remembered
from clv.models.value import lifetime_value_arrays

__all__ = ["BetaGeoCandidate", "ModifiedBetaGeoCandidate", "ParetoNBDCandidate"]

_COLLAPSE_FROM_ROWS = 256
"""Below this many rows, predictions are evaluated per row (collapsing costs more)."""


_TRANSACTION_MODELS = {
    "bg_nbd": BetaGeoModel,
    "mbg_nbd": ModifiedBetaGeoModel,
    "pareto_nbd": ParetoNBDModel,
}


def fit_btyd(kind: str, table: pd.DataFrame, penalty: float):
    transaction = _TRANSACTION_MODELS[kind](penalty=penalty).fit(table)
    repeat = table[table["frequency"] > 0]
    spend = GammaGammaModel(penalty=penalty).fit(repeat) if len(repeat) else None
    return transaction, spend


def save_btyd(folder: Path, transaction, spend) -> dict[str, bool]:
    """Write the transaction and (if any) spend model of a candidate into its folder."""
    transaction.save(folder / "transaction_model.json")
    if spend is not None:
        spend.save(folder / "spend_model.json")
    return {"has_spend_model": spend is not None}


def load_btyd(folder: Path, state: dict, kind: str):
    """Read back what :func:`save_btyd` wrote: (transaction model, spend model or None)."""
    transaction = _TRANSACTION_MODELS[kind].load(folder / "transaction_model.json")
    has_spend = state.get("has_spend_model")
    return transaction, GammaGammaModel.load(folder / "spend_model.json") if has_spend else None


def spend_per_purchase(spend_model, table: pd.DataFrame) -> np.ndarray:
    """Gamma-Gamma expected spend per purchase; the observed means if it cannot predict."""
    if spend_model is not None:
        try:
            return spend_model.expected_spend(table).to_numpy()
        except CLVError:
            pass
    m = table["monetary_value"].to_numpy(dtype="float64")
    x = table["frequency"].to_numpy(dtype="float64")
    population = float(x @ m / x.sum()) if x.sum() > 0 else 0.0
    return np.where(x > 0, m, population)


def _distinct_rows(columns: list[np.ndarray]) -> tuple[np.ndarray | None, np.ndarray | slice]:
    """Return the first row of each distinct row and each row's distinct row.

    ``(None, slice(None))``, "every row is its own", when collapsing does not pay (a
    handful of rows, as on the endpoint, or no repeated history).
    """
    n = len(columns[0]) if columns else 0
    if n < _COLLAPSE_FROM_ROWS:
        return None, slice(None)
    first, inverse, _ = collapse_rows(columns, np.ones(n))
    return (None, slice(None)) if len(first) == n else (first, inverse)


def _distinct_histories(
    data: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], np.ndarray | slice]:
    """Collapse a prediction table to its distinct rows (:func:`_distinct_rows`)."""
    first, inverse = _distinct_rows(list(data.values()))
    if first is None:
        return data, inverse
    return {name: values[first] for name, values in data.items()}, inverse


def _btyd_clv_arrays(transaction, data, per_purchase, horizon, time_unit, discount_rate, margin):
    """Margin x discounted spend over the horizon, on validated arrays.

    Whole horizons use discrete per-period discounting, others continuous (see
    :func:`clv.models.value.customer_lifetime_value`); ``data`` comes from
    ``transaction._prediction_table``.
    """
    whole = horizon >= 1 and abs(horizon - round(horizon)) < 1e-9
    return lifetime_value_arrays(
        transaction,
        data,
        per_purchase,
        horizon=float(round(horizon)) if whole else horizon,
        year=units_per_year(time_unit),
        margin=float(margin),
        discount_rate=float(discount_rate),
        discounting="discrete" if whole else "continuous",
        period=1.0 if whole else None,
    )


class _BTYDCandidate(Candidate):
    """A transaction model x Gamma-Gamma, fitted on the RFM table as of ``as_of``."""

    #: The feature columns ``predict`` reads (the endpoint passes only these).
    input_columns: ClassVar[tuple[str, ...]] = tuple(RFM)

    def __init__(self, *, penalty: float = 0.0):
        self.penalty = penalty

    def fit_transactions(self, transactions, *, as_of, time_unit="D", **options):  # noqa: D102
        check_number("penalty", self.penalty, owner=type(self).__name__)
        table = rfm_summary(
            transactions, observation_end=as_of, time_unit=self._check_time_unit(time_unit)
        )
        self.transaction_model_, self.spend_model_ = fit_btyd(self.name, table, self.penalty)
        self.time_unit_ = time_unit
        # standard errors, 95 % intervals, AIC and BIC (clv.models._summary)
        self.summary_ = self.transaction_model_.summary(table)
        return self

    def count_calibration(self, features, actual_purchases, horizon):
        """Holdout count histogram and randomised-PIT coverage (clv.models.count_calibration).

        Parameters
        ----------
        features : pandas.DataFrame
            Customer features as of the end of calibration.
        actual_purchases : array-like of int
            Holdout purchases per row of ``features``.
        horizon : float
            Holdout length.

        Returns
        -------
        histogram : pandas.DataFrame
            Predicted and actual customers by holdout purchases (0..7+).
        measures : dict
            ``pit_90``, ``pit_50``, ``central_90``, ``central_50``, ``customers``.
        """
        from clv.models.count_calibration import count_calibration

        self._check_is_fitted()
        table = rfm_view(customer_table(features, self.time_unit_), self.time_unit_)
        return count_calibration(self.transaction_model_, table, actual_purchases, horizon)

    def predict(self, features, *, horizon, discount_rate=0.0, margin=1.0):  # noqa: D102
        self._check_is_fitted()
        horizon = self._check_predict_args(horizon, discount_rate, margin)
        table = rfm_view(customer_table(features, self.time_unit_), self.time_unit_)
        model = self.transaction_model_
        # Validate the table once and predict from its arrays: each public prediction
        # method re-validates the DataFrame (~1 ms each per request on the endpoint).
        data, _ = model._prediction_table(table)
        # Customers with one history (frequency, recency, T) get the same transaction
        # predictions: each distinct history is evaluated once, as the fits do.
        # (Once per scoring call: clv.models._shared_terms.)
        distinct, inverse = remembered(
            "btyd._distinct_histories",
            (np.array(list(data)), *data.values()),
            lambda: _distinct_histories(data),
        )
        params = model.params_.to_numpy()
        purchases = model._expected_purchases_curve(params, distinct, np.array([horizon]))[:, 0]
        alive = model._probability_alive(params, distinct)
        churn = model._probability_no_purchase(params, distinct, horizon)
        # discounted purchases per unit of spend, then x margin x spend per row: the
        # products lifetime_value_arrays forms, in its order
        discounted = _btyd_clv_arrays(
            model, distinct, np.ones(len(alive)), horizon, self.time_unit_, discount_rate, 1.0
        )
        purchases, alive, churn, discounted = (
            values[inverse] for values in (purchases, alive, churn, discounted)
        )
        per_purchase = spend_per_purchase(self.spend_model_, table)
        return prediction_frame(
            features.index,
            expected_purchases=purchases,
            probability_alive=np.clip(alive, 0.0, 1.0),
            churn_probability=np.clip(churn, 0.0, 1.0),
            expected_spend=purchases * per_purchase,
            clv=float(margin) * per_purchase * discounted,
        )

    def prediction_intervals(self, features, *, horizon, level, discount_rate=0.0):
        """Central prediction intervals of the purchases and the CLV (margin 1) over ``horizon``.

        ``purchases_lower``, ``purchases_upper``: the transaction model's
        :meth:`~clv.models._predictive.PredictiveMixin.purchases_interval`;
        ``clv_lower``, ``clv_upper``: its count distribution with Gamma-Gamma's
        posterior spend (:func:`clv.models._value_intervals.value_interval`, fixed
        spend per purchase without a usable spend model), discounted as :meth:`predict`
        discounts. Both contain :meth:`predict`'s point values.

        Parameters
        ----------
        features : pandas.DataFrame
            As for :meth:`predict`.
        horizon : float
            Future window, in the model's time unit.
        level : float
            Probability each interval is meant to hold, in (0, 1).
        discount_rate : float, default 0.0
            Annual effective discount rate.

        Returns
        -------
        pandas.DataFrame
            The four bounds, indexed like ``features``.
        """
        from clv.models._value_intervals import value_interval

        self._check_is_fitted()
        horizon = self._check_predict_args(horizon, discount_rate, 1.0)
        table = rfm_view(customer_table(features, self.time_unit_), self.time_unit_)
        model, spend = self.transaction_model_, self.spend_model_
        per_purchase = spend_per_purchase(spend, table)  # (its fallback: the whole table)
        # Customers with one history (frequency, recency, T, mean spend) get the same
        # intervals: each distinct history is computed once, as predict does.
        history = ("frequency", "recency", "T", "monetary_value")
        first, inverse = _distinct_rows([table[name].to_numpy(dtype="float64") for name in history])
        if first is not None:
            table = table.iloc[first].reset_index(drop=True)
            per_purchase = per_purchase[first]
        purchases = model.purchases_interval(table, horizon, level)
        data, _ = model._prediction_table(table)
        point = per_purchase * _btyd_clv_arrays(
            model, data, np.ones(len(per_purchase)), horizon, self.time_unit_, discount_rate, 1.0
        )
        try:  # Gamma-Gamma's spend distribution where it predicts, as spend_per_purchase
            spend_data = spend._prediction_table(table)[0] if spend is not None else None
        except CLVError:
            spend_data = None
        lower, upper = value_interval(
            model,
            model.params_.to_numpy(),
            data,
            spend if spend_data is not None else per_purchase,
            spend_data,
            per_purchase,
            horizon=horizon,
            level=level,
            point=point,
            margin=1.0,
        )
        return pd.DataFrame(
            {
                "purchases_lower": purchases["purchases_lower"].to_numpy()[inverse],
                "purchases_upper": purchases["purchases_upper"].to_numpy()[inverse],
                "clv_lower": lower[inverse],
                "clv_upper": upper[inverse],
            },
            index=features.index,
        )

    def decision_inputs(self, features):
        """Return the models and customer table behind the predictions on ``features``.

        Parameters
        ----------
        features : pandas.DataFrame
            Customer features, as given to :meth:`predict`.

        Returns
        -------
        dict
            ``transaction_model``, ``spend_model`` and ``customers`` (the RFM table in
            the rows of ``features``), the keywords of
            :func:`clv.models.decisions.decision_tables`.
        """
        self._check_is_fitted()
        table = rfm_view(customer_table(features, self.time_unit_), self.time_unit_)
        return {
            "transaction_model": self.transaction_model_,
            "spend_model": self.spend_model_,
            "customers": table,
        }

    def diagnostics(self):  # noqa: D102
        self._check_is_fitted()
        model = self.transaction_model_
        result = {
            "params": {k: float(v) for k, v in model.params_.items()},
            "log_likelihood": float(model.log_likelihood_),
            "n_customers": model.n_customers_,
            "n_iterations": getattr(model, "n_iterations_", None),
        }
        summary = getattr(self, "summary_", None)
        if summary is not None:
            result["summary"] = {
                name: {k: float(v) for k, v in row.items()} for name, row in summary.iterrows()
            }
            result["aic"], result["bic"] = summary.attrs["aic"], summary.attrs["bic"]
        if self.spend_model_ is not None:
            result["spend_params"] = {k: float(v) for k, v in self.spend_model_.params_.items()}
            result["spend_log_likelihood"] = float(self.spend_model_.log_likelihood_)
            result["spend_zero_spend_excluded"] = int(
                getattr(self.spend_model_, "n_zero_spend_excluded_", 0)
            )
            correlation = getattr(self.spend_model_, "spend_frequency_correlation_", None)
            if correlation is not None:
                result["spend_frequency_correlation"] = float(correlation)
        return result

    def _state(self, folder):
        return save_btyd(folder, self.transaction_model_, self.spend_model_)

    def _restore(self, folder, state):
        self.transaction_model_, self.spend_model_ = load_btyd(folder, state, self.name)


_DOC = """{} x Gamma-Gamma.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty of both models (see :class:`clv.models.beta_geo.BetaGeoModel`).
    """


class BetaGeoCandidate(_BTYDCandidate):  # noqa: D101 (the docstring is _DOC)
    __doc__ = _DOC.format("BG/NBD")
    name: ClassVar[str] = "bg_nbd"


class ModifiedBetaGeoCandidate(_BTYDCandidate):  # noqa: D101
    __doc__ = _DOC.format("MBG/NBD")
    name: ClassVar[str] = "mbg_nbd"


class ParetoNBDCandidate(_BTYDCandidate):  # noqa: D101
    __doc__ = _DOC.format("Pareto/NBD")
    name: ClassVar[str] = "pareto_nbd"
