"""The fitting machinery shared by every probabilistic model, written once.

A model subclass declares its parameters (the papers' symbols), the customer-table
columns its likelihood reads, a deterministic starting point and one function that
returns, for every data row, the log-likelihood and its gradient with respect to the
natural parameters. This module does the rest:

* validation of the customer table (once, with messages that name the column, the
  count and a few customers);
* collapsing identical data rows into integer weights (combined with
  ``sample_weight``), which is the big saving on day-resolution data;
* maximum likelihood in log-parameters with a box-bounded BFGS quasi-Newton method
  (:func:`minimize_bfgs_box`, the L-BFGS-B algorithm for a handful of parameters,
  written without BLAS calls) and the analytic gradient (chain rule
  ``d ll / d log(theta) = theta * d ll / d theta``), a deterministic start and
  restarts when the first run fails;
* a convergence check that tells a real failure (:class:`~clv.errors.ConvergenceError`,
  with a numbered checklist) from a loss of precision at the optimum
  (:class:`~clv.errors.PrecisionWarning`);
* the Hessian (central differences of the analytic gradient) only when standard
  errors are requested;
* persistence as small JSON.

The optional L2 penalty is on a documented, sample-size-free scale: the optimiser
maximises ``mean log-likelihood per customer - penalty * sum(log(theta_j) ** 2)``,
i.e. the total objective is ``LL - n_customers * penalty * sum(log(theta_j) ** 2)``.
It shrinks every parameter towards 1 on the log scale; ``penalty=0`` (the default) is
maximum likelihood.
"""

from __future__ import annotations

import json
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult
from sklearn.base import BaseEstimator

from clv.errors import (
    ConvergenceError,
    InvalidDataError,
    InvalidParameterError,
    ModelLoadError,
    NotFittedError,
    PrecisionWarning,
    describe_examples,
)
from clv.models._optimum import _NEAR_EDGE, certify_optimum, curvature_inverse, hessian_at

__all__ = [
    "ProbabilisticModel",
    "collapse_rows",
    "distinct_rows",
    "dot",
    "gather_by_integer",
    "minimize_bfgs_box",
]

FORMAT_NAME = "clv-model"
FORMAT_VERSION = 1
TIME_UNITS = ("D", "W", "M", "Y")
_BOUND = 25.0  # log-parameters are kept in [-_BOUND, _BOUND]
_GRADIENT_ACCEPTED = 1e-4  # max |d objective / d log theta| (per customer) still accepted
_SHORTFALL_ACCEPTED = 1e-5  # log-likelihood (total) a post-fit step may still gain
_AT_BOUND = 1e-3  # a log-parameter this close to +-_BOUND has run to the box edge
_MODEL_REGISTRY: dict[str, type[ProbabilisticModel]] = {}


# ---------------------------------------------------------------------------------------
# small numerical helpers
# ---------------------------------------------------------------------------------------


def dot(a: np.ndarray, b: np.ndarray) -> Any:
    """Compute ``a @ b`` (1-D ``a``) by numpy's own loops (``einsum``), not the threaded BLAS.

    The threaded BLAS ``ddot``/``dgemv`` wake worker threads on every call; on a busy
    machine that costs more than the arithmetic of a likelihood evaluation. ``b`` may
    be 1-D (returns a float) or 2-D with rows matching ``a`` (returns a vector).
    """
    if b.ndim == 1:
        return float(np.einsum("i,i->", a, b))
    return np.einsum("i,ij->j", a, b)


def collapse_rows(
    columns: Sequence[np.ndarray], weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse identical rows of ``columns`` into unique rows with summed weights.

    Parameters
    ----------
    columns : sequence of ndarray
        Equal-length 1-D arrays; a row is the tuple of their values.
    weights : ndarray
        Weight of every row.

    Returns
    -------
    first : ndarray of int
        Index of the first occurrence of every unique row.
    inverse : ndarray of int
        For every input row, the index of its unique row.
    unique_weights : ndarray of float
        Sum of ``weights`` per unique row.
    """
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for column in columns:
        codes, uniques = pd.factorize(column, sort=False)
        width = max(len(uniques), 1)
        if span * width >= 2**62:  # re-number before the combined key could overflow
            key, combined = pd.factorize(key, sort=False)
            key = key.astype(np.int64)
            span = max(len(combined), 1)
        key = key * width + codes
        span *= width
    inverse, uniques = pd.factorize(key, sort=False)
    first = np.empty(len(uniques), dtype=np.int64)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    unique_weights = np.bincount(inverse, weights=weights, minlength=len(uniques))
    return first, inverse, unique_weights


def _column_codes(column: np.ndarray, dense_limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row codes into the column's distinct values, and those values.

    Non-negative integers below ``dense_limit`` are their own codes (no hashing);
    anything else is factorised.
    """
    if column.dtype.kind in "iu" and len(column):
        low, high = int(column.min()), int(column.max())
        if low >= 0 and high < dense_limit:
            return column.astype(np.int64, copy=False), np.arange(high + 1)
    codes, uniques = pd.factorize(column, sort=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques)


def distinct_rows(
    columns: Sequence[np.ndarray], weights: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Find the distinct rows of ``columns`` (as columns) and the total weight of each.

    What fitting needs from :func:`collapse_rows`, without the per-row inverse: each
    column is coded once (non-negative integers by value, others by hashing), the
    codes are combined into one integer key and, when the key space is at most a few
    times the number of rows, weights are totalled by ``np.bincount`` over the key
    space instead of hashing the key. Rows of zero total weight are dropped.

    Parameters
    ----------
    columns : sequence of ndarray
        Equal-length 1-D arrays; a row is the tuple of their values.
    weights : ndarray
        Weight of every row.

    Returns
    -------
    values : list of ndarray
        One array per column, the values of the distinct rows.
    unique_weights : ndarray of float
        Sum of ``weights`` per distinct row (all positive).
    """
    n = len(columns[0])
    dense_limit = max(4 * n, 1024)
    coded = [_column_codes(np.asarray(column), dense_limit) for column in columns]
    span = 1
    for _, levels in coded:
        span *= max(len(levels), 1)
    if span > dense_limit:
        first, _, unique_weights = collapse_rows(columns, weights)
        keep = unique_weights > 0
        return [np.asarray(column)[first[keep]] for column in columns], unique_weights[keep]
    key = np.zeros(n, dtype=np.int64)
    for codes, levels in coded:
        key *= max(len(levels), 1)
        key += codes
    totals = np.bincount(key, weights=weights, minlength=span)
    present = np.flatnonzero(totals > 0)
    values = []
    rest = present
    for _, levels in reversed(coded):
        width = max(len(levels), 1)
        rest, code = np.divmod(rest, width)
        values.append(levels[code])
    values.reverse()
    return [
        value.astype(np.asarray(column).dtype, copy=False)
        for value, column in zip(values, columns, strict=True)
    ], totals[present]


def gather_by_integer(x: np.ndarray, function: Callable[[np.ndarray], Any]) -> Any:
    """Evaluate ``function`` on the distinct integers of ``x`` and gather per row.

    Special functions of ``parameter + frequency`` depend on the row only through
    the integer frequency; evaluating them on ``0..max(x)`` and indexing is much
    cheaper than evaluating them per row.

    Parameters
    ----------
    x : ndarray of int
        Non-negative integers.
    function : callable
        Maps an integer array to an array or a tuple of arrays of the same length.

    Returns
    -------
    ndarray or tuple of ndarray
        ``function(x)``.
    """
    top = int(x.max()) + 1 if len(x) else 0
    if top > len(x):
        return function(x)
    table = function(np.arange(top))
    if isinstance(table, tuple):
        return tuple(np.asarray(item)[x] for item in table)
    return np.asarray(table)[x]


def _bfgs_update(H: np.ndarray | None, s: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """BFGS update of the inverse Hessian; skipped (H kept) when the curvature is not positive."""
    sy = float(s @ y)
    if not sy > 1e-12 * math.sqrt(float(s @ s) * float(y @ y)):
        return H
    if H is None:  # first update: scale the identity (Nocedal & Wright, eq. 6.20)
        H = np.eye(len(s)) * (sy / float(y @ y))
    rho = 1.0 / sy
    Hy = H @ y
    return (
        H
        + (rho * rho * float(y @ Hy) + rho) * np.outer(s, s)
        - rho * (np.outer(Hy, s) + np.outer(s, Hy))
    )


def _inverse_hessian_at(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray, step: float = 1e-4
) -> np.ndarray | None:
    """Inverse of the forward-difference Hessian of ``objective`` at ``x``, if positive definite.

    A curvature-aware first step: with it BFGS needs about a third fewer iterations
    than from a scaled identity, for ``k`` extra gradient evaluations. Away from the
    optimum the Hessian may be indefinite: its |eigenvalues| (floored) are used.
    """
    return curvature_inverse(hessian_at(objective, x, step))


def minimize_bfgs_box(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    bound: float,
    *,
    max_iter: int,
    ftol: float = 1e-13,
    gtol: float = 1e-9,
    max_steps: int = 40,
    inverse_hessian: np.ndarray | None = None,
) -> OptimizeResult:
    """Minimise a smooth function of a few variables in the box ``[-bound, bound]^k``.

    A dense BFGS quasi-Newton method with a projected backtracking (Armijo) line
    search; variables at a bound whose gradient points outwards are held there. For
    the handful of parameters of a probabilistic model this is what L-BFGS-B does,
    but in a few lines of numpy on k-vectors: scipy's L-BFGS-B calls the threaded
    BLAS on every iteration, which costs milliseconds per call on a busy machine.

    Stops with success when the projected gradient is below ``gtol`` (max norm) or
    an iteration reduces the objective by less than ``ftol`` relative (as L-BFGS-B's
    ``ftol``); without success when the line search cannot decrease the objective
    or after ``max_iter`` iterations.

    Parameters
    ----------
    objective : callable
        ``x -> (value, gradient)``; a non-finite value must come back as a huge
        finite one (the line search then backtracks).
    start : ndarray
        Starting point (clipped into the box).
    bound : float
        Half-width of the box.
    max_iter : int
        Maximum iterations.
    ftol, gtol : float
        Stopping tolerances.
    max_steps : int
        Maximum objective evaluations per line search.
    inverse_hessian : ndarray, optional
        Initial inverse Hessian (default: a scaled identity after the first step).

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x``, ``fun``, ``jac``, ``nit``, ``nfev``, ``success``, ``message``.
    """
    x = np.clip(np.asarray(start, dtype=np.float64), -bound, bound)
    f, g = objective(x)
    nfev = 1
    H = None if inverse_hessian is None else np.array(inverse_hessian, dtype=np.float64)
    success, message, iteration = False, "maximum number of iterations reached", 0
    for iteration in range(1, int(max_iter) + 1):
        held = ((x <= -bound) & (g > 0)) | ((x >= bound) & (g < 0))
        free_g = np.where(held, 0.0, g)
        if float(np.max(np.abs(free_g))) <= gtol:
            success, message = True, "projected gradient below gtol"
            iteration -= 1
            break
        direction = None if H is None else -(H @ free_g)
        if direction is not None:
            direction[held] = 0.0
        if direction is None or not float(direction @ free_g) < 0.0:
            H = None  # restart from a steepest-descent step of length at most 1
            direction = -free_g / max(1.0, float(np.max(np.abs(free_g))))
        step = 1.0
        for _ in range(max_steps):
            trial = np.clip(x + step * direction, -bound, bound)
            f_trial, g_trial = objective(trial)
            nfev += 1
            decrease = float(g @ (trial - x))
            if f_trial <= f + 1e-4 * decrease:
                break
            # safeguarded quadratic interpolation of the objective along the step
            denominator = 2.0 * (f_trial - f - decrease)
            shrink = -decrease / denominator if denominator > 0 else 0.5
            step *= min(0.5, max(0.1, shrink))
        else:
            message = "the line search could not decrease the objective (precision loss)"
            break
        s, y = trial - x, g_trial - g
        s[held] = 0.0
        y[held] = 0.0
        H = _bfgs_update(H, s, y)
        reduction = (f - f_trial) / max(abs(f), abs(f_trial), 1.0)
        x, f, g = trial, f_trial, g_trial
        if reduction <= ftol:
            success, message = True, "relative reduction of the objective below ftol"
            break
    return OptimizeResult(
        x=x, fun=f, jac=g, nit=iteration, nfev=nfev, success=success, message=message
    )


def log_sigmoid_weight(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``log(exp(first) + exp(second))`` and the share of ``second`` in it."""
    total = np.logaddexp(first, second)
    with np.errstate(invalid="ignore"):
        share = np.exp(second - total)
    share = np.where(np.isfinite(share), share, 0.0)
    return total, share


def units_per_year(time_unit: str) -> float:
    """Length of one year in ``time_unit`` ('D': 365.25, 'W': 365.25 / 7, 'M': 12, 'Y': 1).

    'M' is the calendar month of :mod:`clv.features._calendar`: twelve to a year.
    """
    if time_unit == "D":
        return 365.25
    if time_unit == "W":
        return 365.25 / 7.0
    if time_unit == "M":
        return 12.0
    if time_unit == "Y":
        return 1.0
    raise InvalidParameterError(
        f"The 'time_unit' parameter must be one of {list(TIME_UNITS)} ('D' days, "
        f"'W' weeks of 7 days, 'M' calendar months, 'Y' years of 365.25 days). Got "
        f"{time_unit!r} instead."
    )


# ---------------------------------------------------------------------------------------
# validation of the customer table
# ---------------------------------------------------------------------------------------


def _customer_labels(frame: pd.DataFrame) -> np.ndarray:
    if "customer_id" in frame.columns:
        return frame["customer_id"].to_numpy()
    return frame.index.to_numpy()


def output_index(frame: pd.DataFrame) -> pd.Index:
    """Index of prediction outputs: always the input frame's own index.

    The index contract (README "Conventions", DESIGN.md "Contracts"): every
    prediction is aligned row for row with its input and carries the input's index,
    so ``table[column] = model.method(table)`` is right whatever the index is;
    ``customer_id`` stays a column of the customer table.
    """
    return frame.index


class CustomerTable:
    """Validated numeric columns of a customer table, plus labels for messages."""

    def __init__(self, frame: pd.DataFrame, columns: Sequence[str], integer: Sequence[str]):
        if not isinstance(frame, pd.DataFrame):
            raise InvalidDataError(
                "The customer table must be a pandas DataFrame with columns "
                f"{', '.join(columns)}; got {type(frame).__name__}."
            )
        missing = [name for name in columns if name not in frame.columns]
        if missing:
            raise InvalidDataError(
                "The customer table is missing column(s) "
                + ", ".join(repr(name) for name in missing)
                + f" (required: {', '.join(columns)})."
            )
        if len(frame) == 0:
            raise InvalidDataError("The customer table has no rows.")
        self.frame = frame
        self.labels = _customer_labels(frame)
        self.arrays: dict[str, np.ndarray] = {}
        for name in columns:
            series = frame[name]
            if not (
                pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
            ):
                raise InvalidDataError(
                    f"Column {name!r} must be numeric; got dtype {series.dtype}."
                )
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            self.require(np.isfinite(values), f"a missing or infinite {name!r}")
            self.require(values >= 0, f"negative {name!r}")
            if name in integer:
                self.require(values == np.round(values), f"a non-integer {name!r}")
                values = values.astype(np.int64)
            self.arrays[name] = values

    def require(self, ok: np.ndarray, what: str) -> None:
        """Raise :class:`InvalidDataError` naming the customers where ``ok`` is False."""
        if ok.all():
            return
        bad = np.flatnonzero(~ok)
        noun = "customer has" if len(bad) == 1 else "customers have"
        raise InvalidDataError(
            f"{len(bad)} {noun} {what} ({describe_examples(self.labels[bad[:3]])})."
        )

    def check_frequency_recency_T(self) -> None:
        """Check the continuous-time relations ``recency <= T`` and ``x = 0 => t_x = 0``."""
        x, t_x, T = self.arrays["frequency"], self.arrays["recency"], self.arrays["T"]
        self.require(t_x <= T * (1 + 1e-12), "recency > T")
        self.require((x > 0) | (t_x == 0), "frequency 0 but recency != 0")


def check_sample_weight(sample_weight: object, n_rows: int) -> np.ndarray:
    """Validate ``sample_weight`` (None, or finite non-negative weights, one per row)."""
    if sample_weight is None:
        return np.ones(n_rows)
    weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if weights.shape[0] != n_rows:
        raise InvalidDataError(
            f"sample_weight has {weights.shape[0]} values but the customer table has {n_rows} rows."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise InvalidDataError("sample_weight must be finite and non-negative.")
    if weights.sum() <= 0:
        raise InvalidDataError("sample_weight sums to 0: there is no customer to fit.")
    return weights


def _check_number(
    owner: str, name: str, value: object, low: float, *, integer: bool = False, low_open=False
) -> None:
    kind = "an int" if integer else "a float"
    ok = isinstance(value, numbers.Integral if integer else numbers.Real) and not isinstance(
        value, bool
    )
    if ok:
        number = float(value)  # type: ignore[arg-type]
        ok = math.isfinite(number) and (number > low if low_open else number >= low)
    if not ok:
        bracket = "(" if low_open else "["
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {kind} in the range "
            f"{bracket}{low:g}, inf). Got {value!r} instead."
        )


# ---------------------------------------------------------------------------------------
# the base estimator
# ---------------------------------------------------------------------------------------


class ProbabilisticModel(BaseEstimator):
    """Base class of clv's probabilistic models: maximum likelihood done once.

    Subclasses set the class attributes ``parameter_names``, ``data_columns`` and
    ``integer_columns`` and implement :meth:`_log_likelihood_rows` and
    :meth:`_initial_parameters`. No subclass overrides :meth:`fit`.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty on the log-parameters, on a sample-size-free scale: the fit maximises
        ``mean log-likelihood per customer - penalty * sum(log(theta_j) ** 2)``.
        ``0`` is maximum likelihood.
    compute_standard_errors : bool, default False
        Compute the Hessian at the optimum and set ``standard_errors_`` and
        ``covariance_`` (the inverse observed information).
    n_restarts : int, default 3
        Further deterministic starting points tried when the first run fails.
    max_iter : int, default 1000
        Maximum quasi-Newton (BFGS) iterations per run.
    time_unit : {"D", "W", "Y"} or None, default None
        Unit of the durations. ``None`` takes the table's ``attrs["time_unit"]``
        (set by :func:`clv.features.rfm_summary`) when present.
    """

    parameter_names: ClassVar[tuple[str, ...]] = ()
    data_columns: ClassVar[tuple[str, ...]] = ()
    integer_columns: ClassVar[tuple[str, ...]] = ("frequency",)
    lifetimes_aliases: ClassVar[dict[str, str]] = {}
    collapse_identical_rows: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _MODEL_REGISTRY[cls.__name__] = cls

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

    def _check_table(self, table: CustomerTable, *, fitting: bool) -> None:
        """Model-specific relations between columns (default: frequency/recency/T)."""
        table.check_frequency_recency_T()

    # -- validation ----------------------------------------------------------------------

    def _check_hyperparameters(self) -> None:
        owner = type(self).__name__
        _check_number(owner, "penalty", self.penalty, 0.0)
        _check_number(owner, "n_restarts", self.n_restarts, 0, integer=True)
        _check_number(owner, "max_iter", self.max_iter, 1, integer=True)
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

    def _resolve_time_unit(self, X: pd.DataFrame) -> str | None:
        declared = X.attrs.get("time_unit") if isinstance(X, pd.DataFrame) else None
        if self.time_unit is not None and declared is not None and declared != self.time_unit:
            raise InvalidDataError(
                f"The customer table is in time unit {declared!r} (attrs['time_unit']) but "
                f"{type(self).__name__} was given time_unit={self.time_unit!r}."
            )
        return self.time_unit if self.time_unit is not None else declared

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit(X) or "
                f"{type(self).__name__}.from_params(...) first."
            )

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
        return table.arrays, output_index(X)

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
        time_unit = self._resolve_time_unit(X)
        data, unique_weights = self._fit_data(X, sample_weight)
        data, log_scale, shift = self._rescaled(data, unique_weights)
        n_customers = float(unique_weights.sum())

        log_params, result, total = self._maximise(data, unique_weights, n_customers)
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
            covariance = self._covariance(fitted, data, unique_weights) * np.outer(scale, scale)
            self.covariance_ = pd.DataFrame(covariance, index=names, columns=names)
            self.standard_errors_ = self._standard_errors_of(covariance)
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
        """Return the data in the units the fit works in (hook for scale-equivariant models).

        Returns the data, the log-factors that map the fitted parameters back to the
        caller's units and the shift of the total log-likelihood; by default the data
        unchanged, zeros and 0.
        """
        return data, np.zeros(len(self.parameter_names)), 0.0

    def _objective(self, data, weights, n_customers):
        penalty = float(self.penalty)

        recent: dict[bytes, tuple[float, tuple[float, np.ndarray]]] = {}

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            key = np.asarray(log_params, dtype=np.float64).tobytes()
            if key in recent:  # the start (after its Hessian) and the optimum come back
                total, result = recent[key]
                return result[0], result[1].copy()
            params = np.exp(log_params)
            with np.errstate(all="ignore"):
                total, gradient = self._total_log_likelihood(params, data, weights)
                gradient = gradient * params
            value = -total / n_customers + penalty * float(log_params @ log_params)
            grad = -gradient / n_customers + 2.0 * penalty * log_params
            if not (np.isfinite(value) and np.all(np.isfinite(grad))):
                value, grad = 1e300, np.zeros_like(log_params)
            if len(recent) >= 8:
                recent.pop(next(iter(recent)))
            recent[key] = (float(total), (float(value), grad.copy()))
            return float(value), grad

        def total_at(log_params: np.ndarray) -> float | None:
            """Log-likelihood already computed at ``log_params``, if any."""
            found = recent.get(np.asarray(log_params, dtype=np.float64).tobytes())
            return None if found is None else found[0]

        objective.total_at = total_at  # type: ignore[attr-defined]
        return objective

    def _starting_points(self, data, weights) -> list[np.ndarray]:
        start = np.log(np.asarray(self._initial_parameters(data, weights), dtype=np.float64))
        k = len(start)
        offsets = [np.zeros(k)]
        pattern = np.array([(-1.0) ** j for j in range(k)])
        for step in range(int(self.n_restarts)):
            sign = 1.0 if step % 2 == 0 else -1.0
            offsets.append(sign * (1.0 + step // 2) * np.roll(pattern, step // 2))
        return [start + offset for offset in offsets]

    def _maximise(self, data, weights, n_customers):
        objective = self._objective(data, weights, n_customers)
        best = None
        for start in self._starting_points(data, weights):
            result = minimize_bfgs_box(
                objective,
                start,
                _BOUND,
                max_iter=int(self.max_iter),
                inverse_hessian=_inverse_hessian_at(objective, np.clip(start, -_BOUND, _BOUND)),
            )
            gradient_norm = float(np.max(np.abs(result.jac)))
            at_bound = bool(np.any(np.abs(result.x) >= _BOUND - _AT_BOUND))
            usable = np.isfinite(result.fun) and result.fun < 1e299 and not at_bound
            accepted = usable and (result.success or gradient_norm < _GRADIENT_ACCEPTED)
            if accepted and (best is None or result.fun < best[1].fun):
                best = (result.x, result, gradient_norm)
            if accepted and result.success:
                break
        if best is None:
            raise ConvergenceError(self._failure_message(result, gradient_norm, at_bound))
        log_params, result, gradient_norm = best
        log_params, result, gradient_norm = self._post_fit_check(objective, result, n_customers)
        total = objective.total_at(log_params)  # type: ignore[attr-defined]
        if total is None:
            total, _ = self._total_log_likelihood(np.exp(log_params), data, weights)
        return log_params, result, float(total)

    def _post_fit_check(self, objective, result, n_customers):
        """Certify the optimum (:func:`clv.models._optimum.certify_optimum`); warn if short.

        A second optimiser run starts from any point that still improves the
        objective; a parameter that then runs to the box raises
        :class:`~clv.errors.ConvergenceError`, an improvement that is still there after
        it gives a :class:`~clv.errors.PrecisionWarning` that names the parameter.
        """
        tolerance = _SHORTFALL_ACCEPTED / n_customers + 1e-10 * abs(float(result.fun))

        def rerun(start, inverse_hessian):
            return minimize_bfgs_box(
                objective,
                start,
                _BOUND,
                max_iter=int(self.max_iter),
                inverse_hessian=inverse_hessian,
            )

        checked = certify_optimum(objective, result, _BOUND, tolerance, rerun)
        gradient_norm = float(np.max(np.abs(checked.jac)))
        if np.any(np.abs(checked.x) >= _BOUND - _AT_BOUND):
            raise ConvergenceError(self._failure_message(checked, gradient_norm, True))
        name = type(self).__name__
        if checked.shortfall > 0.0:
            moved = int(np.argmax(np.abs(checked.direction)))
            warnings.warn(
                f"{name} did not reach the maximum of the likelihood: a step from the "
                f"estimates still raises the log-likelihood by "
                f"{checked.shortfall * n_customers:.2g}, mostly by moving "
                f"{self.parameter_names[moved]!r} (now {math.exp(checked.x[moved]):.4g}); "
                "the data may not identify it. A small penalty (e.g. penalty=0.001) keeps "
                "the parameters finite.",
                PrecisionWarning,
                stacklevel=4,
            )
        elif np.any(np.abs(checked.x) > _BOUND - _NEAR_EDGE):
            edge = int(np.argmax(np.abs(checked.x)))
            warnings.warn(
                f"{name}: {self.parameter_names[edge]!r} ran to the edge of the search box "
                "(exp(+-25)): the likelihood has no maximum inside it and the data do not "
                "identify that parameter; the predictions are those of the limit. A small "
                "penalty (e.g. penalty=0.001) keeps the parameters finite.",
                PrecisionWarning,
                stacklevel=4,
            )
        elif not checked.success and gradient_norm >= _GRADIENT_ACCEPTED:
            warnings.warn(
                f"{name}: the optimiser stopped with a loss of precision "
                f"({checked.message}) at a point where the gradient is "
                f"max |gradient| = {gradient_norm:.1e} per customer; the estimates are "
                "usable.",
                PrecisionWarning,
                stacklevel=4,
            )
        return checked.x, checked, gradient_norm

    def _failure_message(self, result, gradient_norm: float, at_bound: bool) -> str:
        name = type(self).__name__
        reason = (
            "a parameter ran to exp(+-25): the data do not identify it"
            if at_bound
            else f"{result.message}; max |gradient| = {gradient_norm:.1e} per customer"
        )
        return (
            f"{name} did not converge from {1 + int(self.n_restarts)} starting point(s) "
            f"({reason}). Things to try:\n"
            "  1. Check the customer table: durations in one time unit, recency and T "
            "measured from each customer's first purchase.\n"
            "  2. Add a small penalty, e.g. penalty=0.001, to keep parameters finite.\n"
            "  3. Increase n_restarts or max_iter.\n"
            "  4. Rescale time (days to weeks) if T is very large.\n"
            "  5. Try a simpler model (e.g. BetaGeoModel) if this one has a flat likelihood "
            "on these data."
        )

    def _total_gradient(self, params, data, weights) -> np.ndarray:
        return self._total_log_likelihood(params, data, weights)[1]

    def _covariance(self, params, data, weights) -> np.ndarray:
        """Inverse observed information (minus the Hessian of the total LL) at ``params``."""
        k = len(params)
        hessian = np.empty((k, k))
        for j in range(k):
            step = 1e-5 * params[j]
            up, down = params.copy(), params.copy()
            up[j] += step
            down[j] -= step
            hessian[:, j] = (
                self._total_gradient(up, data, weights) - self._total_gradient(down, data, weights)
            ) / (2 * step)
        hessian = 0.5 * (hessian + hessian.T)
        try:
            return np.linalg.inv(-hessian)
        except np.linalg.LinAlgError:
            return np.full((k, k), np.nan)

    def _standard_errors(self, params, data, weights) -> pd.Series:
        return self._standard_errors_of(self._covariance(params, data, weights))

    def _standard_errors_of(self, covariance: np.ndarray) -> pd.Series:
        variances = np.diag(covariance)
        errors = np.sqrt(np.where(variances > 0, variances, np.nan))
        return pd.Series(errors, index=list(self.parameter_names), name="standard_error")

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
        model.params_ = cls._parameter_series(params)
        model.log_likelihood_ = float("nan")
        model.n_customers_ = 0
        model.time_unit_ = time_unit
        return model

    @classmethod
    def _parameter_series(cls, params: Mapping[str, float] | pd.Series) -> pd.Series:
        given = dict(params.items()) if hasattr(params, "items") else None
        if given is None:
            raise InvalidParameterError(
                f"{cls.__name__}.from_params needs a mapping of {', '.join(cls.parameter_names)}; "
                f"got {type(params).__name__}."
            )
        renamed = {
            cls.lifetimes_aliases.get(str(key), str(key)): value for key, value in given.items()
        }
        expected = set(cls.parameter_names)
        if set(renamed) != expected:
            raise InvalidParameterError(
                f"{cls.__name__} parameters must be exactly {', '.join(cls.parameter_names)}; "
                f"got {', '.join(map(str, given))}."
            )
        values = np.array([float(renamed[name]) for name in cls.parameter_names])
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise InvalidParameterError(
                f"{cls.__name__} parameters must be finite and positive; got "
                + ", ".join(f"{n}={v!r}" for n, v in zip(cls.parameter_names, values, strict=True))
                + "."
            )
        return pd.Series(values, index=list(cls.parameter_names), name="estimate")

    def to_dict(self) -> dict[str, Any]:
        """Fitted state as plain JSON-compatible data (parameters and metadata).

        Returns
        -------
        dict
            ``model``, ``params``, ``time_unit``, ``log_likelihood``, ``n_customers``,
            ``hyperparameters``, the format name and version, and the clv version.
        """
        from importlib.metadata import PackageNotFoundError, version

        self._check_is_fitted()
        try:
            clv_version = version("clv")
        except PackageNotFoundError:  # running from a source tree
            clv_version = "unknown"
        ll = self.log_likelihood_
        state: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "model": type(self).__name__,
            "clv_version": clv_version,
            "params": {name: float(value) for name, value in self.params_.items()},
            "time_unit": self.time_unit_,
            "log_likelihood": None if ll is None or math.isnan(ll) else float(ll),
            "n_customers": self.n_customers_,
            "hyperparameters": self.get_params(),
        }
        if hasattr(self, "standard_errors_"):
            state["standard_errors"] = {
                name: (None if math.isnan(value) else float(value))
                for name, value in self.standard_errors_.items()
            }
        if hasattr(self, "covariance_"):
            state["covariance"] = [
                [None if math.isnan(v) else float(v) for v in row]
                for row in self.covariance_.to_numpy()
            ]
        return state

    def to_json(self) -> str:
        """Serialise the fitted model as a small JSON document (no pickle, no data).

        Returns
        -------
        str
            The JSON text of :meth:`to_dict`.
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path``.

        Parameters
        ----------
        path : str or pathlib.Path
            Destination file.
        """
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, text: str):
        """Rebuild a model from :meth:`to_json` output.

        Parameters
        ----------
        text : str
            JSON text.

        Returns
        -------
        model
            The model, ready to predict.

        Raises
        ------
        clv.errors.ModelLoadError
            The text is not a clv model or not of this class.
        """
        try:
            state = json.loads(text)
        except json.JSONDecodeError as error:
            raise ModelLoadError(f"Not a clv model file: invalid JSON ({error.msg}).") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT_NAME:
            raise ModelLoadError("Not a clv model file: the 'format' field is missing.")
        if state.get("format_version") != FORMAT_VERSION:
            raise ModelLoadError(
                f"Unsupported clv model format version {state.get('format_version')!r} "
                f"(this clv reads version {FORMAT_VERSION})."
            )
        model_class = _MODEL_REGISTRY.get(str(state.get("model")))
        if model_class is None or not issubclass(model_class, cls):
            raise ModelLoadError(
                f"The file holds a {state.get('model')!r}, which is not a {cls.__name__}."
            )
        hyper = {
            key: value
            for key, value in state.get("hyperparameters", {}).items()
            if key != "time_unit"
        }
        model = model_class.from_params(state["params"], time_unit=state.get("time_unit"), **hyper)
        ll = state.get("log_likelihood")
        model.log_likelihood_ = float("nan") if ll is None else float(ll)
        model.n_customers_ = state.get("n_customers", 0)
        if "standard_errors" in state:
            model.standard_errors_ = pd.Series(
                {k: (np.nan if v is None else v) for k, v in state["standard_errors"].items()},
                name="standard_error",
            )
        if "covariance" in state:
            names = list(model.parameter_names)
            values = np.array(state["covariance"], dtype=np.float64)  # None reads as NaN
            model.covariance_ = pd.DataFrame(values, index=names, columns=names)
        return model

    @classmethod
    def load(cls, path: str | Path):
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : str or pathlib.Path
            File written by :meth:`save`.

        Returns
        -------
        model
            The model, ready to predict.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise ModelLoadError(
                f"Cannot read model file {str(path)!r}: {error.strerror}."
            ) from None
        return cls.from_json(text)


def check_horizon(owner: str, horizon: object, *, integer: bool = False) -> float:
    """Validate a prediction horizon (non-negative; integer for discrete-time models)."""
    _check_number(owner, "horizon", horizon, 0.0, integer=integer)
    return float(horizon)  # type: ignore[arg-type]


class TransactionModel(ProbabilisticModel):
    """Base of the transaction-count models: the shared prediction API.

    Subclasses implement the private ``_expected_purchases_curve``,
    ``_probability_alive``, ``_probability_no_purchase`` and
    ``_expected_purchases_new_customer`` on validated numpy arrays; this class
    validates input once and returns pandas indexed like the input.
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
        horizon = check_horizon(type(self).__name__, horizon, integer=self.discrete_time)
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
        values = np.array(
            [check_horizon(type(self).__name__, h, integer=self.discrete_time) for h in horizons]
        )
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
        horizon = check_horizon(type(self).__name__, horizon, integer=self.discrete_time)
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
            check_horizon(type(self).__name__, float(value), integer=False)
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
        from clv.models.value import customer_lifetime_value

        return customer_lifetime_value(self, spend, X, **options)


def pairs_inverse(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first occurrence of each distinct (first, second) pair, and inverse."""
    representative, inverse, _ = collapse_rows([first, second], np.ones(len(first)))
    return representative, inverse
