"""Maximum likelihood for every probabilistic model, written once.

:func:`maximise` maximises ``mean LL per customer - penalty * sum(log(theta_j) ** 2)``
over the log-parameters from deterministic starts, certifies the optimum
(:mod:`clv.models._optimum`) and tells a real failure (:class:`~clv.errors.ConvergenceError`)
from a loss of precision (:class:`~clv.errors.PrecisionWarning`).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from clv.errors import ConvergenceError, PrecisionWarning
from clv.models._optimizer import inverse_hessian_at, minimize_bfgs_box
from clv.models._optimum import NEAR_EDGE, certify_optimum

__all__ = ["covariance", "maximise", "standard_errors"]

_BOUND = 25.0  # log-parameters are kept in [-_BOUND, _BOUND]
_GRADIENT_ACCEPTED = 1e-4  # max |d objective / d log theta| (per customer) still accepted
_SHORTFALL_ACCEPTED = 1e-5  # log-likelihood (total) a post-fit step may still gain
_AT_BOUND = 1e-3  # a log-parameter this close to +-_BOUND has run to the box edge


def _objective(model: Any, data, weights, n_customers):
    """Build the penalised objective per customer in log-parameters (remembers recent points)."""
    penalty = float(model.penalty)

    recent: dict[bytes, tuple[float, tuple[float, np.ndarray]]] = {}

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        key = np.asarray(log_params, dtype=np.float64).tobytes()
        if key in recent:  # the start (after its Hessian) and the optimum come back
            total, result = recent[key]
            return result[0], result[1].copy()
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            total, gradient = model._total_log_likelihood(params, data, weights)
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


def _starting_points(model: Any, data, weights) -> list[np.ndarray]:
    start = np.log(np.asarray(model._initial_parameters(data, weights), dtype=np.float64))
    k = len(start)
    offsets = [np.zeros(k)]
    pattern = np.array([(-1.0) ** j for j in range(k)])
    for step in range(int(model.n_restarts)):
        sign = 1.0 if step % 2 == 0 else -1.0
        offsets.append(sign * (1.0 + step // 2) * np.roll(pattern, step // 2))
    return [start + offset for offset in offsets]


def _run(model: Any, objective, start: np.ndarray, inverse_hessian: np.ndarray | None):
    return minimize_bfgs_box(
        objective, start, _BOUND, max_iter=int(model.max_iter), inverse_hessian=inverse_hessian
    )


def maximise(model: Any, data, weights, n_customers: float):
    """Maximise ``model``'s penalised log-likelihood of ``data`` (distinct rows, ``weights``).

    Returns the log-parameters, the optimiser's result and the total log-likelihood there;
    raises :class:`~clv.errors.ConvergenceError` when no start is accepted or a parameter
    ran to the box edge.
    """
    objective = _objective(model, data, weights, n_customers)
    best = None
    for start in _starting_points(model, data, weights):
        curvature = inverse_hessian_at(objective, np.clip(start, -_BOUND, _BOUND))
        result = _run(model, objective, start, curvature)
        gradient_norm = float(np.max(np.abs(result.jac)))
        at_bound = bool(np.any(np.abs(result.x) >= _BOUND - _AT_BOUND))
        usable = np.isfinite(result.fun) and result.fun < 1e299 and not at_bound
        accepted = usable and (result.success or gradient_norm < _GRADIENT_ACCEPTED)
        if accepted and (best is None or result.fun < best.fun):
            best = result
        if accepted and result.success:
            break
    if best is None:
        raise ConvergenceError(_failure_message(model, result, gradient_norm, at_bound))
    result = _certified(model, objective, best, n_customers)
    total = objective.total_at(result.x)  # type: ignore[attr-defined]
    if total is None:
        total, _ = model._total_log_likelihood(np.exp(result.x), data, weights)
    return result.x, result, float(total)


def _certified(model: Any, objective, result, n_customers: float):
    """Certify the optimum (:func:`clv.models._optimum.certify_optimum`); warn if it falls short."""
    tolerance = _SHORTFALL_ACCEPTED / n_customers + 1e-10 * abs(float(result.fun))
    checked = certify_optimum(
        objective,
        result,
        _BOUND,
        tolerance,
        lambda start, inverse_hessian: _run(model, objective, start, inverse_hessian),
    )
    gradient_norm = float(np.max(np.abs(checked.jac)))
    if np.any(np.abs(checked.x) >= _BOUND - _AT_BOUND):
        raise ConvergenceError(_failure_message(model, checked, gradient_norm, True))
    name = type(model).__name__
    if checked.shortfall > 0.0:
        moved = int(np.argmax(np.abs(checked.direction)))
        warnings.warn(
            f"{name} did not reach the maximum of the likelihood: a step from the "
            f"estimates still raises the log-likelihood by "
            f"{checked.shortfall * n_customers:.2g}, mostly by moving "
            f"{model.parameter_names[moved]!r} (now {math.exp(checked.x[moved]):.4g}); "
            "the data may not identify it. A small penalty (e.g. penalty=0.001) keeps "
            "the parameters finite.",
            PrecisionWarning,
            stacklevel=4,
        )
    elif np.any(np.abs(checked.x) > _BOUND - NEAR_EDGE):
        edge = int(np.argmax(np.abs(checked.x)))
        warnings.warn(
            f"{name}: {model.parameter_names[edge]!r} ran to the edge of the search box "
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
    return checked


def _failure_message(model: Any, result, gradient_norm: float, at_bound: bool) -> str:
    reason = (
        "a parameter ran to exp(+-25): the data do not identify it"
        if at_bound
        else f"{result.message}; max |gradient| = {gradient_norm:.1e} per customer"
    )
    return (
        f"{type(model).__name__} did not converge from {1 + int(model.n_restarts)} starting "
        f"point(s) ({reason}). Things to try:\n"
        "  1. Check the customer table: durations in one time unit, recency and T "
        "measured from each customer's first purchase.\n"
        "  2. Add a small penalty, e.g. penalty=0.001, to keep parameters finite.\n"
        "  3. Increase n_restarts or max_iter.\n"
        "  4. Rescale time (days to weeks) if T is very large.\n"
        "  5. Try a simpler model (e.g. BetaGeoModel) if this one has a flat likelihood "
        "on these data."
    )


def covariance(model: Any, params: np.ndarray, data, weights) -> np.ndarray:
    """Inverse observed information at ``params``: central differences of the analytic gradient."""

    def gradient(at: np.ndarray) -> np.ndarray:
        return model._total_log_likelihood(at, data, weights)[1]

    k = len(params)
    hessian = np.empty((k, k))
    for j in range(k):
        step = 1e-5 * params[j]
        up, down = params.copy(), params.copy()
        up[j] += step
        down[j] -= step
        hessian[:, j] = (gradient(up) - gradient(down)) / (2 * step)
    hessian = 0.5 * (hessian + hessian.T)
    try:
        return np.linalg.inv(-hessian)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan)


def standard_errors(covariance: np.ndarray, names) -> pd.Series:
    """Square roots of the covariance's diagonal (NaN where not positive), by name."""
    variances = np.diag(covariance)
    errors = np.sqrt(np.where(variances > 0, variances, np.nan))
    return pd.Series(errors, index=list(names), name="standard_error")
