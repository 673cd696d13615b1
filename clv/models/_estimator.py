"""The base estimator of clv's probabilistic models: maximum likelihood done once.

A model declares its parameters, the columns its likelihood reads, a deterministic
start and the per-row log-likelihood with its gradient; :class:`ProbabilisticModel`
validates, collapses identical rows, maximises (:mod:`clv.models._fitting`) and
persists (:mod:`clv.models._persistence`). The L2 penalty is on a sample-size-free
scale: the total objective is ``LL - n_customers * penalty * sum(log(theta_j) ** 2)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clv._estimator_contract import Estimator
from clv._validation import (
    CustomerTable,
    check_is_fitted,
    check_number,
    check_parameters,
    check_sample_weight,
    units_per_year,
)
from clv.errors import InvalidDataError, InvalidParameterError
from clv.models._arrays import distinct_rows, dot
from clv.models._persistence import (
    JsonPersistence,
    parameter_state,
    register,
    restore_fitted_state,
)

__all__ = ["ProbabilisticModel", "fit_time_unit"]


def fit_time_unit(estimator: Estimator, X: pd.DataFrame) -> str | None:
    """Return the fit's time unit: the estimator's ``time_unit``, else the table's; never two."""
    declared = X.attrs.get("time_unit") if isinstance(X, pd.DataFrame) else None
    given = estimator.time_unit
    if given is not None and declared is not None and declared != given:
        raise InvalidDataError(
            f"The customer table is in time unit {declared!r} (attrs['time_unit']) but "
            f"{type(estimator).__name__} was given time_unit={given!r}."
        )
    return given if given is not None else declared


class ProbabilisticModel(JsonPersistence, Estimator):
    """Base class of clv's probabilistic models: maximum likelihood done once.

    Subclasses set ``parameter_names``, ``data_columns`` and ``integer_columns`` and
    implement :meth:`_log_likelihood_rows` and :meth:`_initial_parameters`; none overrides
    :meth:`fit`. The constructor's parameters are documented on each model.
    """

    parameter_names: ClassVar[tuple[str, ...]] = ()
    data_columns: ClassVar[tuple[str, ...]] = ()
    integer_columns: ClassVar[tuple[str, ...]] = ("frequency",)
    lifetimes_aliases: ClassVar[dict[str, str]] = {}
    collapse_identical_rows: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register(cls)

    def __init__(
        self,
        *,
        penalty: float = 0.0,
        compute_standard_errors: bool = False,
        n_restarts: int = 3,
        max_iter: int = 1000,
        time_unit: str | None = None,
    ):
        self.penalty = penalty
        self.compute_standard_errors = compute_standard_errors
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.time_unit = time_unit

    # -- what a model provides ---------------------------------------------------------

    def _log_likelihood_rows(
        self, params: np.ndarray, data: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-row log-likelihood (n,) and its gradient (n, k) in natural parameters."""
        raise NotImplementedError

    def _initial_parameters(
        self, data: Mapping[str, np.ndarray], weights: np.ndarray
    ) -> np.ndarray:
        """Deterministic starting point (natural parameters)."""
        raise NotImplementedError

    def _total_log_likelihood(
        self, params: np.ndarray, data: dict[str, np.ndarray], weights: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Weighted total log-likelihood and gradient (override with sufficient statistics)."""
        ll_rows, grad_rows = self._log_likelihood_rows(params, data)
        return dot(weights, ll_rows), dot(weights, grad_rows)

    @staticmethod
    def _once_per_fit(data: dict, key: str, weights: np.ndarray, compute) -> Any:
        """``compute()`` once per fit: kept in ``data`` under ``key`` for these ``weights``."""
        kept = data.get(key)
        if kept is None or kept[0] is not weights:
            kept = data[key] = (weights, compute())
        return kept[1]

    def _check_table(self, table: CustomerTable, *, fitting: bool) -> None:
        """Model-specific relations between columns (default: frequency/recency/T)."""
        table.check_frequency_recency_T()

    # -- validation ----------------------------------------------------------------------

    def _check_hyperparameters(self) -> None:
        owner = type(self).__name__
        check_number("penalty", self.penalty, owner=owner)
        check_number("n_restarts", self.n_restarts, owner=owner, integer=True)
        check_number("max_iter", self.max_iter, owner=owner, low=1, integer=True)
        if not isinstance(self.compute_standard_errors, bool | np.bool_):
            raise InvalidParameterError(
                f"The 'compute_standard_errors' parameter of {owner} must be a bool. "
                f"Got {self.compute_standard_errors!r} instead."
            )
        if self.time_unit is not None:
            units_per_year(self.time_unit)

    def _table(self, X: pd.DataFrame, *, fitting: bool) -> CustomerTable:
        table = CustomerTable(X, self.data_columns, self.integer_columns)
        self._check_table(table, fitting=fitting)
        return table

    def _check_is_fitted(self) -> None:
        check_is_fitted(self, "params_", f"fit(X) or {type(self).__name__}.from_params(...)")

    def _prediction_table(self, X: pd.DataFrame) -> tuple[dict[str, np.ndarray], pd.Index]:
        """Validate ``X`` for prediction; return its arrays and the output index."""
        self._check_is_fitted()
        table = self._table(X, fitting=False)
        declared = X.attrs.get("time_unit")
        fitted_unit = getattr(self, "time_unit_", None)
        if declared is not None and fitted_unit is not None and declared != fitted_unit:
            raise InvalidDataError(
                f"The customer table is in time unit {declared!r} but the model was fitted "
                f"in {fitted_unit!r}; rebuild the table with time_unit={fitted_unit!r}."
            )
        return table.arrays, X.index  # the index contract (DESIGN.md, Contracts)

    # -- fitting -------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y: object = None, sample_weight: object = None):
        """Fit the model by (penalised) maximum likelihood.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns (``data_columns``).
        y : None
            Ignored; present for the scikit-learn API.
        sample_weight : array-like of shape (n_rows,), optional
            Number of customers each row stands for (e.g. the ``count`` of a pattern).

        Returns
        -------
        self
            The fitted model.

        Raises
        ------
        clv.errors.InvalidDataError
            The table breaks the contract (message names column, count and customers).
        clv.errors.ConvergenceError
            The optimiser failed from every starting point.
        """
        self._check_hyperparameters()
        time_unit = fit_time_unit(self, X)
        data, unique_weights = self._fit_data(X, sample_weight)
        data, log_scale, shift = self._rescaled(data, unique_weights)
        n_customers = float(unique_weights.sum())

        # scipy.optimize loads with the first fit: a process that only scores never needs it
        from clv.models._fitting import covariance, maximise, standard_errors

        log_params, result, total = maximise(self, data, unique_weights, n_customers)
        fitted = np.exp(log_params)
        params = np.exp(log_params + log_scale)
        total += shift
        self.params_ = pd.Series(params, index=list(self.parameter_names), name="estimate")
        self.log_likelihood_ = float(total)
        self.n_customers_ = int(n_customers) if n_customers.is_integer() else n_customers
        self.n_unique_rows_ = int(len(unique_weights))
        self.n_iterations_ = int(result.nit)
        self.time_unit_ = time_unit
        if self.compute_standard_errors:
            names = list(self.parameter_names)
            scale = np.broadcast_to(np.exp(log_scale), params.shape)
            matrix = covariance(self, fitted, data, unique_weights) * np.outer(scale, scale)
            self.covariance_ = pd.DataFrame(matrix, index=names, columns=names)
            self.standard_errors_ = standard_errors(matrix, names)
        return self

    def _fit_data(self, X: pd.DataFrame, sample_weight: object) -> tuple[dict, np.ndarray]:
        """Validate ``X``; return its likelihood arrays (identical rows collapsed) and weights."""
        table = self._table(X, fitting=True)
        weights = check_sample_weight(sample_weight, len(X))
        columns = [table.arrays[name] for name in self.data_columns]
        if self.collapse_identical_rows:
            columns, unique_weights = distinct_rows(columns, weights)
        else:
            keep = weights > 0
            columns, unique_weights = [column[keep] for column in columns], weights[keep]
        data = dict(zip(self.data_columns, columns, strict=True))
        return self._prepare_data(data), unique_weights

    def _prepare_data(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Add derived arrays (hook) that do not depend on the parameters."""
        return data

    def _rescaled(self, data: dict[str, np.ndarray], weights: np.ndarray):
        """Return the data in the fit's units, the log-factors back, the LL shift (scale hook)."""
        return data, np.zeros(len(self.parameter_names)), 0.0

    def _standard_errors(self, params, data, weights) -> pd.Series:
        from clv.models._fitting import covariance, standard_errors

        return standard_errors(covariance(self, params, data, weights), self.parameter_names)

    # -- scoring ---------------------------------------------------------------------------

    def log_likelihood_rows(self, X: pd.DataFrame) -> pd.Series:
        """Log-likelihood of every customer under the fitted parameters.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns.

        Returns
        -------
        pandas.Series
            One value per row, indexed like ``X``.
        """
        arrays, index = self._prediction_table(X)
        data = self._prepare_data({name: arrays[name] for name in self.data_columns})
        ll_rows, _ = self._log_likelihood_rows(self.params_.to_numpy(), data)
        return pd.Series(ll_rows, index=index, name="log_likelihood")

    def score(self, X: pd.DataFrame, y: object = None, sample_weight: object = None) -> float:
        """Mean log-likelihood per customer (higher is better; used by ``GridSearchCV``).

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns.
        y : None
            Ignored.
        sample_weight : array-like, optional
            Customers each row stands for.

        Returns
        -------
        float
            ``sum(w * ll) / sum(w)``.
        """
        rows = self.log_likelihood_rows(X).to_numpy()
        weights = check_sample_weight(sample_weight, len(rows))
        return dot(weights, rows) / float(weights.sum())

    def summary(self, X: pd.DataFrame | None = None, sample_weight: object = None) -> pd.DataFrame:
        """Fitted-model summary: estimates, standard errors, 95 % intervals, LL, AIC, BIC.

        See :func:`clv.models._summary.model_summary`; ``print(model.summary_text())``
        prints it.

        Parameters
        ----------
        X : pandas.DataFrame, optional
            The fitting table, for standard errors when the model was fitted without
            ``compute_standard_errors=True``.
        sample_weight : array-like, optional
            Its weights.

        Returns
        -------
        pandas.DataFrame
            One row per parameter; the fit statistics in ``attrs``.
        """
        from clv.models._summary import model_summary

        return model_summary(self, X, sample_weight)

    def summary_text(self, X: pd.DataFrame | None = None, sample_weight: object = None) -> str:
        """:meth:`summary` as a printable table (like lifelines' ``print_summary``).

        Parameters
        ----------
        X : pandas.DataFrame, optional
            The fitting table, for standard errors (see :meth:`summary`).
        sample_weight : array-like, optional
            Its weights.

        Returns
        -------
        str
            The text.
        """
        from clv.models._summary import format_summary

        return format_summary(self.summary(X, sample_weight))

    # -- construction from known parameters and persistence -----------------------------

    @classmethod
    def from_params(
        cls, params: Mapping[str, float] | pd.Series, *, time_unit: str | None = None, **kwargs
    ):
        """Build a fitted model from known parameters (e.g. lifetimes' ``params_``).

        Parameters
        ----------
        params : mapping or pandas.Series
            One positive value per parameter, named by the paper's symbols (see
            ``parameter_names``). lifetimes' names are accepted too (Gamma-Gamma's
            ``v`` is ``gamma`` here).
        time_unit : {"D", "W", "Y"} or None
            Time unit the parameters are expressed in.
        **kwargs
            Hyperparameters passed to the constructor.

        Returns
        -------
        model
            A model ready to predict.
        """
        model = cls(time_unit=time_unit, **kwargs)
        model.params_ = check_parameters(
            cls.__name__, cls.parameter_names, params, cls.lifetimes_aliases
        )
        model.log_likelihood_ = float("nan")
        model.n_customers_ = 0
        model.time_unit_ = time_unit
        return model

    def to_dict(self) -> dict[str, Any]:
        """Fitted state as plain JSON-compatible data (parameters and metadata).

        Returns
        -------
        dict
            See :func:`clv.models._persistence.parameter_state`.
        """
        self._check_is_fitted()
        return parameter_state(self)

    @classmethod
    def _from_state(cls, state: dict[str, Any]):
        hyper = {k: v for k, v in state.get("hyperparameters", {}).items() if k != "time_unit"}
        model = cls.from_params(state["params"], time_unit=state.get("time_unit"), **hyper)
        return restore_fitted_state(model, state)
