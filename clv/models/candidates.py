"""Candidate models: one interface over every kind of CLV model (docs/INTERFACES.md).

Kinds (``name``, also the MLflow tag ``clv.model``):

``baseline``
    :class:`~clv.models.baseline.SimpleCLVModel` on the RFM table as of ``as_of``.
``bg_nbd``, ``mbg_nbd``, ``pareto_nbd``
    The transaction model x :class:`~clv.models.gamma_gamma.GammaGammaModel`, both fitted
    on :func:`clv.features.rfm_summary` as of ``as_of``; CLV by
    :func:`clv.models.value.customer_lifetime_value` (discrete discounting with
    one-unit periods when the horizon is a whole number of units, continuous
    otherwise).
``boosted``
    Three XGBoost models on :func:`clv.features.customer_features`: future spend
    (:class:`~clv.models.boosted.BoostedSpendModel`, hurdle), future purchases (a
    third booster with the Poisson objective, so that purchases are learnt from counts
    rather than derived from spend / mean basket, which would divide two noisy
    estimates) and churn (:class:`~clv.models.boosted.BoostedChurnModel`, calibrated).
    ``probability_alive`` is ``1 - churn probability`` over the training horizon (the
    probability of at least one purchase in it): boosting has no latent "alive" state.
``hybrid``
    As ``boosted``, with four more features from BG/NBD x Gamma-Gamma fitted on the
    same history as each row (per cutoff in training, as of ``as_of`` for
    prediction): ``btyd_expected_purchases`` and ``btyd_expected_spend`` over the
    training horizon, ``btyd_probability_alive``, ``btyd_probability_no_purchase``,
    ``gg_spend_per_purchase``. Spend is a hurdle model by default, like ``boosted``
    (BG/NBD's outputs enter as features); with ``spend_objective="reg:tweedie"`` or
    ``"count:poisson"`` the spend booster starts from log expected spend (XGBoost
    ``base_margin``). Purchases start from log expected purchases (Poisson) and churn
    from the log-odds of no purchase; the boosters learn corrections.
    ``probability_alive`` is BG/NBD's. Spend objective of the hybrid, holdout RMSE of
    spend (lower is better; ``n_jobs=1``)::

                              CDNOW (BG/NBD 72.30)   fading segment, seeds 1/2/3
                                                     (BG/NBD 104.0/117.2/105.3)
        hurdle (default)      72.14                  97.7 / 109.2 / 96.3
        reg:tweedie + offset  76.30                  93.1 / 105.5 / 97.2
        count:poisson + off.  73.28                  94.3 / 104.1 / 93.9

    (``tests.models._simulate.simulate(1500, signal=True)``, 26 training weeks, 150
    rounds.) Tweedie from the offset lost 57 % of CDNOW's total spend (31.2k of
    71.0k); the hurdle kept 46.5k and the best RMSE there.

Training horizon of the boosted kinds
-------------------------------------
The labels of the training examples cover ``training_horizon`` time units after each
cutoff; the cutoffs step back by ``cutoff_step`` from ``as_of - training_horizon`` (so
every label window ends by ``as_of``: nothing after ``as_of`` is used). Choose
``training_horizon`` equal to the prediction horizon when the history is long enough.
By default it is ``min(52 weeks, half the history before as_of)`` in whole units, so
that there are cutoffs with some history before them (on CDNOW with 39 weeks of
calibration data: 19 weeks). When ``predict`` is asked for another horizon ``h``,
totals are extrapolated: ``boosted`` multiplies them by ``h / training_horizon``
(constant purchase rate), ``hybrid`` by BG/NBD's per-customer ratio
``E[Y(h)] / E[Y(training_horizon)]`` (which accounts for dropout); churn probabilities
become ``p ** (h / training_horizon)`` (a constant hazard). Discounting of the boosted
kinds spreads the spend evenly over the horizon
(:func:`clv.models.baseline.uniform_discount_factor`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from clv.errors import (
    CLVError,
    InvalidDataError,
    InvalidParameterError,
    ModelLoadError,
    NotFittedError,
)
from clv.features._contract import TIME_UNITS, prepare_transactions
from clv.features.behaviour import training_examples
from clv.features.rfm import rfm_summary
from clv.models._base import collapse_rows
from clv.models.baseline import SimpleCLVModel, uniform_discount_factor

__all__ = [
    "KINDS",
    "PREDICTION_COLUMNS",
    "BaselineCandidate",
    "BetaGeoCandidate",
    "BoostedCandidate",
    "Candidate",
    "HybridCandidate",
    "ModifiedBetaGeoCandidate",
    "ParetoNBDCandidate",
    "load_candidate",
    "make_candidate",
]

_COLLAPSE_FROM_ROWS = 256
"""Below this many rows, predictions are evaluated per row (collapsing costs more)."""

PREDICTION_COLUMNS: tuple[str, ...] = (
    "expected_purchases",
    "probability_alive",
    "churn_probability",
    "expected_spend",
    "clv",
)
KINDS: tuple[str, ...] = ("baseline", "bg_nbd", "mbg_nbd", "pareto_nbd", "boosted", "hybrid")
FORMAT_NAME = "clv-candidate"
FORMAT_VERSION = 1
_RFM = ["customer_id", "frequency", "recency", "T", "monetary_value"]


def _check_number(
    owner: str,
    name: str,
    value: object,
    *,
    low: float = 0.0,
    open_low: bool = False,
    integer: bool = False,
) -> float:
    kind = int if integer else (int, float)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok:
        ok = math.isfinite(float(value)) and (value > low if open_low else value >= low)
    if not ok:
        bracket = "(" if open_low else "["
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {'an int' if integer else 'a float'} "
            f"in the range {bracket}{low:g}, inf). Got {value!r} instead."
        )
    return float(value)


def _customer_table(features: pd.DataFrame, time_unit: str) -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise InvalidDataError(
            f"Candidates predict from a pandas DataFrame (clv.features.customer_features); "
            f"got {type(features).__name__}."
        )
    present = set(features.columns)  # `in features.columns` builds a hash table per frame
    missing = [name for name in _RFM if name not in present]
    if missing:
        raise InvalidDataError(
            f"The feature table lacks column(s) {', '.join(map(repr, missing))}; build it with "
            "clv.features.customer_features."
        )
    declared = features.attrs.get("time_unit")
    if declared is not None and declared != time_unit:
        raise InvalidDataError(
            f"The feature table is in time unit {declared!r} but the model was fitted in "
            f"{time_unit!r}; rebuild it with time_unit={time_unit!r}."
        )
    return features


def _rfm_view(features: pd.DataFrame, time_unit: str) -> pd.DataFrame:
    # Not `features[_RFM].reset_index(drop=True)`: selecting a list of columns costs
    # ~0.5 ms, too much for one-row requests on the endpoint.
    index = features.index
    if (
        list(features.columns) == _RFM
        and isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
    ):
        table = features.copy(deep=False)
    else:
        table = pd.DataFrame({name: features[name].array for name in _RFM}, columns=_RFM)
    table.attrs["time_unit"] = time_unit
    return table


def _output(index: pd.Index, **columns: np.ndarray) -> pd.DataFrame:
    """Build the prediction table: row for row with the features, with their index."""
    return pd.DataFrame(
        {name: np.asarray(columns[name], dtype="float64") for name in PREDICTION_COLUMNS},
        index=index,
    )


class Candidate(BaseEstimator):
    """Base of the candidate models (one subclass per kind).

    Subclasses implement :meth:`fit_transactions`, :meth:`predict`, ``_state`` /
    ``_restore`` (JSON plus model files) and :meth:`diagnostics`.
    """

    name: ClassVar[str] = ""

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "time_unit_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit_transactions first."
            )

    @staticmethod
    def _check_time_unit(time_unit: str) -> str:
        if time_unit not in TIME_UNITS:
            raise InvalidParameterError(
                f"The 'time_unit' parameter must be one of {sorted(TIME_UNITS)}. "
                f"Got {time_unit!r} instead."
            )
        return time_unit

    @staticmethod
    def _check_predict_args(horizon: object, discount_rate: object, margin: object) -> float:
        horizon = _check_number("predict", "horizon", horizon, open_low=True)
        _check_number("predict", "discount_rate", discount_rate)
        _check_number("predict", "margin", margin)
        return horizon

    def fit_transactions(
        self, transactions: pd.DataFrame, *, as_of: object, time_unit: str = "D", **options: Any
    ) -> Candidate:
        """Learn from the canonical transaction log up to ``as_of`` (inclusive) only.

        Parameters
        ----------
        transactions : pandas.DataFrame
            ``customer_id``, ``timestamp``, ``amount``.
        as_of : date-like
            Last day the model may see.
        time_unit : {"D", "W"}, default "D"
            Unit of every duration and horizon.
        **options
            Kind-specific (``attributes`` for the boosted kinds).

        Returns
        -------
        self
            The fitted candidate.
        """
        raise NotImplementedError

    def predict(
        self,
        features: pd.DataFrame,
        *,
        horizon: float,
        discount_rate: float = 0.0,
        margin: float = 1.0,
    ) -> pd.DataFrame:
        """Predictions for every customer of ``features``.

        Parameters
        ----------
        features : pandas.DataFrame
            :func:`clv.features.customer_features` as of the scoring day, in the
            model's time unit.
        horizon : float
            Future window, in the model's time unit.
        discount_rate : float, default 0.0
            Annual effective discount rate (365.25 days a year).
        margin : float, default 1.0
            Share of spend that is profit.

        Returns
        -------
        pandas.DataFrame
            :data:`PREDICTION_COLUMNS`, one row per row of ``features`` and indexed
            like it (so ``features["clv"] = predict(features)["clv"]`` is right);
            ``customer_id`` stays in ``features``.
        """
        raise NotImplementedError

    def diagnostics(self) -> dict[str, Any]:
        """Parameters, fit statistics and convergence facts, JSON-compatible (for MLflow).

        Returns
        -------
        dict
        """
        raise NotImplementedError

    def _state(self, folder: Path) -> dict[str, Any]:
        raise NotImplementedError

    def _restore(self, folder: Path, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def save(self, directory: str | Path) -> None:
        """Write ``candidate.json`` and the models' JSON / XGBoost files; never pickle.

        Parameters
        ----------
        directory : str or pathlib.Path
            Folder to write into (created if needed).
        """
        self._check_is_fitted()
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        state = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "kind": self.name,
            "hyperparameters": self.get_params(),
            "time_unit": self.time_unit_,
            **self._state(folder),
        }
        (folder / "candidate.json").write_text(
            json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )


# ---------------------------------------------------------------------------------------
# baseline
# ---------------------------------------------------------------------------------------


class BaselineCandidate(Candidate):
    """The simple formula (:class:`~clv.models.baseline.SimpleCLVModel`) as a candidate."""

    name: ClassVar[str] = "baseline"
    #: The feature columns ``predict`` reads (the served model requires only these).
    input_columns: ClassVar[tuple[str, ...]] = tuple(_RFM)

    def fit_transactions(self, transactions, *, as_of, time_unit="D", **options):  # noqa: D102
        table = rfm_summary(
            transactions, observation_end=as_of, time_unit=self._check_time_unit(time_unit)
        )
        self.model_ = SimpleCLVModel().fit(table)
        self.time_unit_ = time_unit
        return self

    def predict(self, features, *, horizon, discount_rate=0.0, margin=1.0):  # noqa: D102
        self._check_is_fitted()
        horizon = self._check_predict_args(horizon, discount_rate, margin)
        table = _rfm_view(_customer_table(features, self.time_unit_), self.time_unit_)
        purchases = self.model_.expected_purchases(table, horizon).to_numpy()
        per_purchase = self.model_.expected_spend(table).to_numpy()
        spend = purchases * per_purchase
        factor = uniform_discount_factor(horizon, self.time_unit_, discount_rate)
        return _output(
            features.index,
            expected_purchases=purchases,
            probability_alive=self.model_.probability_alive(table).to_numpy(),
            churn_probability=self.model_.probability_no_purchase(table, horizon).to_numpy(),
            expected_spend=spend,
            clv=margin * factor * spend,
        )

    def diagnostics(self):  # noqa: D102
        self._check_is_fitted()
        return {
            "population_rate": self.model_.population_rate_,
            "population_spend": self.model_.population_spend_,
            "n_customers": self.model_.n_customers_,
        }

    def _state(self, folder):
        self.model_.save(folder / "baseline.json")
        return {}

    def _restore(self, folder, state):
        self.model_ = SimpleCLVModel.load(folder / "baseline.json")


# ---------------------------------------------------------------------------------------
# BTYD x Gamma-Gamma
# ---------------------------------------------------------------------------------------


def _transaction_model_class(kind: str):
    if kind == "bg_nbd":
        from clv.models.beta_geo import BetaGeoModel

        return BetaGeoModel
    if kind == "mbg_nbd":
        from clv.models.modified_beta_geo import ModifiedBetaGeoModel

        return ModifiedBetaGeoModel
    from clv.models.pareto_nbd import ParetoNBDModel

    return ParetoNBDModel


def _fit_btyd(kind: str, table: pd.DataFrame, penalty: float):
    from clv.models.gamma_gamma import GammaGammaModel

    transaction = _transaction_model_class(kind)(penalty=penalty).fit(table)
    repeat = table[table["frequency"] > 0]
    spend = GammaGammaModel(penalty=penalty).fit(repeat) if len(repeat) else None
    return transaction, spend


def _spend_per_purchase(spend_model, table: pd.DataFrame) -> np.ndarray:
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


def _distinct_histories(
    data: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], np.ndarray | slice]:
    """Collapse a prediction table to its distinct rows; give each row its distinct row.

    ``slice(None)`` stands for "every row is its own" when collapsing does not pay
    (a handful of rows, as on the endpoint, or no repeated history).
    """
    columns = list(data.values())
    n = len(columns[0]) if columns else 0
    if n < _COLLAPSE_FROM_ROWS:
        return data, slice(None)
    first, inverse, _ = collapse_rows(columns, np.ones(n))
    if len(first) == n:
        return data, slice(None)
    return {name: values[first] for name, values in data.items()}, inverse


def _btyd_clv_arrays(transaction, data, per_purchase, horizon, time_unit, discount_rate, margin):
    """Margin x discounted spend over the horizon, on validated arrays.

    Whole horizons use discrete per-period discounting, others continuous (see
    :func:`clv.models.value.customer_lifetime_value`); ``data`` comes from
    ``transaction._prediction_table``.
    """
    from clv.models._base import units_per_year
    from clv.models.value import lifetime_value_arrays

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
    """A transaction model x Gamma-Gamma, fitted on the RFM table as of ``as_of``.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty of both models (see :class:`clv.models.beta_geo.BetaGeoModel`).
    """

    #: The feature columns ``predict`` reads (the endpoint passes only these).
    input_columns: ClassVar[tuple[str, ...]] = tuple(_RFM)

    def __init__(self, *, penalty: float = 0.0):
        self.penalty = penalty

    def fit_transactions(self, transactions, *, as_of, time_unit="D", **options):  # noqa: D102
        _check_number(type(self).__name__, "penalty", self.penalty)
        table = rfm_summary(
            transactions, observation_end=as_of, time_unit=self._check_time_unit(time_unit)
        )
        self.transaction_model_, self.spend_model_ = _fit_btyd(self.name, table, self.penalty)
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
        table = _rfm_view(_customer_table(features, self.time_unit_), self.time_unit_)
        return count_calibration(self.transaction_model_, table, actual_purchases, horizon)

    def predict(self, features, *, horizon, discount_rate=0.0, margin=1.0):  # noqa: D102
        self._check_is_fitted()
        horizon = self._check_predict_args(horizon, discount_rate, margin)
        table = _rfm_view(_customer_table(features, self.time_unit_), self.time_unit_)
        model = self.transaction_model_
        # Validate the table once and predict from its arrays: each public prediction
        # method re-validates the DataFrame (~1 ms each per request on the endpoint).
        data, _ = model._prediction_table(table)
        # Customers with one history (frequency, recency, T) get the same transaction
        # predictions: each distinct history is evaluated once, as the fits do.
        distinct, inverse = _distinct_histories(data)
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
        per_purchase = _spend_per_purchase(self.spend_model_, table)
        return _output(
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
        table = _rfm_view(_customer_table(features, self.time_unit_), self.time_unit_)
        model, spend = self.transaction_model_, self.spend_model_
        purchases = model.purchases_interval(table, horizon, level)
        data, _ = model._prediction_table(table)
        per_purchase = _spend_per_purchase(spend, table)
        point = per_purchase * _btyd_clv_arrays(
            model, data, np.ones(len(per_purchase)), horizon, self.time_unit_, discount_rate, 1.0
        )
        try:  # Gamma-Gamma's spend distribution where it predicts, as _spend_per_purchase
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
                "purchases_lower": purchases["purchases_lower"].to_numpy(),
                "purchases_upper": purchases["purchases_upper"].to_numpy(),
                "clv_lower": lower,
                "clv_upper": upper,
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
        table = _rfm_view(_customer_table(features, self.time_unit_), self.time_unit_)
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
        self.transaction_model_.save(folder / "transaction_model.json")
        if self.spend_model_ is not None:
            self.spend_model_.save(folder / "spend_model.json")
        return {"has_spend_model": self.spend_model_ is not None}

    def _restore(self, folder, state):
        from clv.models.gamma_gamma import GammaGammaModel

        self.transaction_model_ = _transaction_model_class(self.name).load(
            folder / "transaction_model.json"
        )
        self.spend_model_ = (
            GammaGammaModel.load(folder / "spend_model.json")
            if state.get("has_spend_model")
            else None
        )


class BetaGeoCandidate(_BTYDCandidate):
    """BG/NBD x Gamma-Gamma.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty of both models.
    """

    name: ClassVar[str] = "bg_nbd"


class ModifiedBetaGeoCandidate(_BTYDCandidate):
    """MBG/NBD x Gamma-Gamma.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty of both models.
    """

    name: ClassVar[str] = "mbg_nbd"


class ParetoNBDCandidate(_BTYDCandidate):
    """Pareto/NBD x Gamma-Gamma.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty of both models.
    """

    name: ClassVar[str] = "pareto_nbd"


# ---------------------------------------------------------------------------------------
# boosted and hybrid
# ---------------------------------------------------------------------------------------


class BoostedCandidate(Candidate):
    """XGBoost spend, purchases and churn models on behavioural features.

    Parameters
    ----------
    training_horizon : float, optional
        Label window of the training examples, in the time unit (see the module
        notes for the default and for predicting other horizons).
    n_cutoffs : int, default 4
        Rolling origins (cutoffs that leave no history before them are skipped).
    cutoff_step : float, optional
        Distance between cutoffs in the time unit; default 28 days (4 weeks).
    spend_objective : str, default "hurdle"
        Objective of the spend booster (see :mod:`clv.models.boosted`); the hybrid
        uses BG/NBD's expected spend as offset with "reg:tweedie" or "count:poisson".
    calibration : {"isotonic", "sigmoid", None}, default "isotonic"
        Calibration of the churn probabilities.
    n_estimators : int, default 300
        Boosting rounds of each booster.
    learning_rate : float, default 0.05
        Shrinkage.
    max_depth : int, default 4
        Tree depth.
    random_state : int, default 0
        Seed.
    n_jobs : int, default 1
        XGBoost threads. One by default: on a shared machine more threads wait on
        each other and multiply the training time (see :mod:`clv.models.boosted`);
        raise it on dedicated cores.
    """

    name: ClassVar[str] = "boosted"
    uses_btyd: ClassVar[bool] = False

    def __init__(
        self,
        *,
        training_horizon: float | None = None,
        n_cutoffs: int = 4,
        cutoff_step: float | None = None,
        spend_objective: str = "hurdle",
        calibration: str | None = "isotonic",
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        max_depth: int = 4,
        random_state: int = 0,
        n_jobs: int = 1,
    ):
        self.training_horizon = training_horizon
        self.n_cutoffs = n_cutoffs
        self.cutoff_step = cutoff_step
        self.spend_objective = spend_objective
        self.calibration = calibration
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _booster_options(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "random_state": self.random_state,
            "n_jobs": self.n_jobs,
        }

    def _plan(self, transactions: pd.DataFrame, as_of: object, unit_days: float):
        """Training horizon (units) and cutoff dates, from the history before ``as_of``."""
        owner = type(self).__name__
        _check_number(owner, "n_cutoffs", self.n_cutoffs, low=1, integer=True)
        prepared = prepare_transactions(transactions, require_amount=True)
        first = float(np.floor(prepared.events["t"].min()))
        end = prepared.day_of(as_of, "as_of")
        history_units = (end - first) / unit_days
        if self.training_horizon is None:
            horizon = float(min(math.floor(364.0 / unit_days), math.floor(history_units / 2)))
        else:
            horizon = _check_number(owner, "training_horizon", self.training_horizon, open_low=True)
        step_days = (
            28.0
            if self.cutoff_step is None
            else unit_days * _check_number(owner, "cutoff_step", self.cutoff_step, open_low=True)
        )
        last = end - horizon * unit_days
        days = [last - k * step_days for k in range(int(self.n_cutoffs))]
        days = [np.floor(day) for day in days if day >= first]
        if horizon < 1 or not days:
            raise InvalidDataError(
                f"{owner}: {history_units:.1f} time units of history before as_of leave no "
                f"cutoff for a training horizon of {horizon:g}; pass a shorter "
                "training_horizon or an earlier-starting log."
            )
        return horizon, [pd.Timestamp(int(day), unit="D") for day in days], end

    def _add_btyd(self, table: pd.DataFrame, horizon: float, fit: bool = False) -> pd.DataFrame:
        return table

    def fit_transactions(  # noqa: D102
        self, transactions, *, as_of, time_unit="D", attributes: pd.DataFrame | None = None
    ):
        from clv.models.boosted import BoostedChurnModel, BoostedSpendModel

        unit_days = TIME_UNITS[self._check_time_unit(time_unit)]
        horizon, cutoffs, end = self._plan(transactions, as_of, unit_days)
        examples = training_examples(
            transactions,
            cutoffs=cutoffs,
            horizon=horizon,
            time_unit=time_unit,
            attributes=attributes,
            observation_end=pd.Timestamp(int(end), unit="D"),
        )
        self.time_unit_ = time_unit
        self.training_horizon_ = horizon
        if self.uses_btyd:
            examples = pd.concat(
                [
                    self._add_btyd(group.reset_index(drop=True), horizon, fit=True)
                    for _, group in examples.groupby("cutoff", sort=True)
                ],
                ignore_index=True,
            )
            table = rfm_summary(transactions, observation_end=as_of, time_unit=time_unit)
            self.transaction_model_, self.spend_model_ = _fit_btyd("bg_nbd", table, 0.0)
        options = self._booster_options()
        features = examples.drop(columns=["future_purchases", "future_spend", "churned"])
        offsets = self._offsets()
        self.spend_model_boosted_ = BoostedSpendModel(
            objective=self.spend_objective, offset=offsets[0], **options
        ).fit(features, examples["future_spend"])
        self.purchases_model_ = BoostedSpendModel(
            objective="count:poisson", offset=offsets[1], **options
        ).fit(features, examples["future_purchases"])
        self.churn_model_ = BoostedChurnModel(
            calibration=self.calibration, offset=offsets[2], **options
        ).fit(features, examples["churned"].astype("int64"))
        self.cutoffs_ = [str(c.date()) for c in cutoffs]
        self.n_examples_ = int(len(examples))
        return self

    def _offsets(self) -> tuple[str | None, str | None, str | None]:
        return None, None, None

    def _scale(self, table: pd.DataFrame, horizon: float) -> np.ndarray:
        return np.full(len(table), horizon / self.training_horizon_)

    def predict(self, features, *, horizon, discount_rate=0.0, margin=1.0):  # noqa: D102
        self._check_is_fitted()
        horizon = self._check_predict_args(horizon, discount_rate, margin)
        table = _customer_table(features, self.time_unit_).reset_index(drop=True)
        table = self._add_btyd(table, self.training_horizon_, fit=False)
        scale = self._scale(table, horizon)
        spend = self.spend_model_boosted_.predict(table).to_numpy() * scale
        purchases = self.purchases_model_.predict(table).to_numpy() * scale
        churn_h = self.churn_model_.churn_probability(table).to_numpy()
        churn = churn_h ** (horizon / self.training_horizon_)
        factor = uniform_discount_factor(horizon, self.time_unit_, discount_rate)
        return _output(
            features.index,
            expected_purchases=purchases,
            probability_alive=self._alive(table, churn_h),
            churn_probability=churn,
            expected_spend=spend,
            clv=margin * factor * spend,
        )

    def _alive(self, table: pd.DataFrame, churn_at_training_horizon: np.ndarray) -> np.ndarray:
        return 1.0 - churn_at_training_horizon

    def diagnostics(self):  # noqa: D102
        self._check_is_fitted()
        return {
            "training_horizon": self.training_horizon_,
            "cutoffs": list(self.cutoffs_),
            "n_examples": self.n_examples_,
            "n_features": len(self.spend_model_boosted_.feature_names_),
            "churn_calibration_brier_raw": self.churn_model_.calibration_.get("brier_raw"),
            "churn_calibration_brier_calibrated": self.churn_model_.calibration_.get(
                "brier_calibrated"
            ),
        }

    def _state(self, folder):
        self.spend_model_boosted_.save(folder / "spend")
        self.purchases_model_.save(folder / "purchases")
        self.churn_model_.save(folder / "churn")
        return {
            "training_horizon": self.training_horizon_,
            "cutoffs": list(self.cutoffs_),
            "n_examples": self.n_examples_,
        }

    def _restore(self, folder, state):
        from clv.models.boosted import BoostedChurnModel, BoostedSpendModel

        self.spend_model_boosted_ = BoostedSpendModel.load(folder / "spend")
        self.purchases_model_ = BoostedSpendModel.load(folder / "purchases")
        self.churn_model_ = BoostedChurnModel.load(folder / "churn")
        self.training_horizon_ = float(state["training_horizon"])
        self.cutoffs_ = list(state["cutoffs"])
        self.n_examples_ = int(state["n_examples"])


class HybridCandidate(BoostedCandidate):
    """The boosted models with BG/NBD x Gamma-Gamma outputs as extra features.

    Parameters
    ----------
    training_horizon, n_cutoffs, cutoff_step, spend_objective, calibration, n_estimators, learning_rate, max_depth, random_state, n_jobs
        As in :class:`BoostedCandidate`.
    """

    name: ClassVar[str] = "hybrid"
    uses_btyd: ClassVar[bool] = True

    def __init__(
        self,
        *,
        training_horizon: float | None = None,
        n_cutoffs: int = 4,
        cutoff_step: float | None = None,
        spend_objective: str = "hurdle",
        calibration: str | None = "isotonic",
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        max_depth: int = 4,
        random_state: int = 0,
        n_jobs: int = 1,
    ):
        super().__init__(
            training_horizon=training_horizon,
            n_cutoffs=n_cutoffs,
            cutoff_step=cutoff_step,
            spend_objective=spend_objective,
            calibration=calibration,
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_depth=max_depth,
            random_state=random_state,
            n_jobs=n_jobs,
        )

    def _add_btyd(self, table, horizon, fit=False):
        unit = self.time_unit_
        rfm = _rfm_view(table, unit)
        if fit:
            transaction, spend = _fit_btyd("bg_nbd", rfm, 0.0)
        else:
            transaction, spend = self.transaction_model_, self.spend_model_
        purchases = transaction.expected_purchases(rfm, horizon).to_numpy()
        per_purchase = _spend_per_purchase(spend, rfm)
        extra = pd.DataFrame(
            {
                "btyd_expected_purchases": purchases,
                "btyd_probability_alive": transaction.probability_alive(rfm).to_numpy(),
                "btyd_probability_no_purchase": transaction.probability_no_purchase(
                    rfm, horizon
                ).to_numpy(),
                "btyd_expected_spend": purchases * per_purchase,
                "gg_spend_per_purchase": per_purchase,
            },
            index=table.index,
        )
        # A BG/NBD fit on a very short history can be degenerate (on CDNOW 8 weeks in,
        # a and b run to 0 and E[Y] is NaN for customers seen for 2 days): fill such
        # values with the median of the finite ones of the same table.
        for name in extra.columns:
            values = extra[name].to_numpy()
            finite = np.isfinite(values)
            if not finite.all():
                fill = float(np.median(values[finite])) if finite.any() else 0.0
                extra[name] = np.where(finite, values, fill)
        return pd.concat([table, extra], axis=1)

    def _offsets(self):
        spend = (
            "btyd_expected_spend"
            if self.spend_objective in ("reg:tweedie", "count:poisson")
            else None
        )
        return spend, "btyd_expected_purchases", "btyd_probability_no_purchase"

    def _scale(self, table, horizon):
        if horizon == self.training_horizon_:
            return np.ones(len(table))
        rfm = _rfm_view(table, self.time_unit_)
        curve = self.transaction_model_.expected_purchases_curve(
            rfm, [self.training_horizon_, horizon]
        ).to_numpy()
        ok = curve[:, 0] > 1e-12
        return np.where(
            ok, curve[:, 1] / np.where(ok, curve[:, 0], 1.0), horizon / self.training_horizon_
        )

    def _alive(self, table, churn_at_training_horizon):
        return table["btyd_probability_alive"].to_numpy()

    def diagnostics(self):  # noqa: D102
        result = super().diagnostics()
        result["btyd_params"] = {k: float(v) for k, v in self.transaction_model_.params_.items()}
        return result

    def _state(self, folder):
        state = super()._state(folder)
        self.transaction_model_.save(folder / "transaction_model.json")
        if self.spend_model_ is not None:
            self.spend_model_.save(folder / "spend_model.json")
        state["has_spend_model"] = self.spend_model_ is not None
        return state

    def _restore(self, folder, state):
        from clv.models.beta_geo import BetaGeoModel
        from clv.models.gamma_gamma import GammaGammaModel

        super()._restore(folder, state)
        self.transaction_model_ = BetaGeoModel.load(folder / "transaction_model.json")
        self.spend_model_ = (
            GammaGammaModel.load(folder / "spend_model.json")
            if state.get("has_spend_model")
            else None
        )


_CLASSES: dict[str, type[Candidate]] = {
    cls.name: cls
    for cls in (
        BaselineCandidate,
        BetaGeoCandidate,
        ModifiedBetaGeoCandidate,
        ParetoNBDCandidate,
        BoostedCandidate,
        HybridCandidate,
    )
}


def make_candidate(kind: str, **params: Any) -> Candidate:
    """Build an unfitted candidate of ``kind``.

    Parameters
    ----------
    kind : {"baseline", "bg_nbd", "mbg_nbd", "pareto_nbd", "boosted", "hybrid"}
        The kind of model.
    **params
        Hyperparameters of that kind's class.

    Returns
    -------
    Candidate
        The candidate, ready for ``fit_transactions``.

    Raises
    ------
    clv.errors.InvalidParameterError
        For an unknown kind or hyperparameter.
    """
    if kind not in _CLASSES:
        raise InvalidParameterError(
            f"Unknown candidate kind {kind!r}; choose one of {', '.join(KINDS)}."
        )
    cls = _CLASSES[kind]
    valid = cls._get_param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise InvalidParameterError(
            f"Unknown parameter(s) {', '.join(unknown)} for kind {kind!r}; valid: "
            f"{', '.join(valid) or 'none'}."
        )
    return cls(**params)


def load_candidate(directory: str | Path) -> Candidate:
    """Read a candidate written by :meth:`Candidate.save`.

    Parameters
    ----------
    directory : str or pathlib.Path
        Folder written by ``save``.

    Returns
    -------
    Candidate
        The fitted candidate.

    Raises
    ------
    clv.errors.ModelLoadError
        If the folder does not hold a clv candidate.
    """
    folder = Path(directory)
    try:
        state = json.loads((folder / "candidate.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"Cannot read a candidate from {str(folder)!r}: {error}.") from None
    if (
        not isinstance(state, dict)
        or state.get("format") != FORMAT_NAME
        or state.get("format_version") != FORMAT_VERSION
    ):
        raise ModelLoadError(f"{str(folder)!r} does not hold a clv candidate (format v1).")
    cls = _CLASSES.get(str(state.get("kind")))
    if cls is None:
        raise ModelLoadError(f"Unknown candidate kind {state.get('kind')!r} in {str(folder)!r}.")
    candidate = cls(**state["hyperparameters"])
    candidate.time_unit_ = state["time_unit"]
    candidate._restore(folder, state)
    return candidate
