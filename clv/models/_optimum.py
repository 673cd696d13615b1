"""The post-fit check: did the optimiser really stop at a maximum of the likelihood.

A quasi-Newton run can stop "successfully" short of the optimum (``ftol`` fires on a
flat ridge; a parameter drifting to infinity spoils its curvature estimate).
:func:`certify_optimum` probes the point with a forward-difference Hessian, the Newton
step, steps down flat directions and the box edge, at a suspect point a bounded
Nelder-Mead search along curved ridges, and reruns the optimiser from any gain
(DESIGN.md, "Models"). At a well-curved optimum (CDNOW) it costs ``k + 1`` evaluations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import OptimizeResult, minimize

__all__ = [
    "NEAR_EDGE",
    "CertifiedOptimum",
    "certify_optimum",
    "hessian_at",
    "is_suspect",
    "ridge_search",
]

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
#: Steps (in log-parameters) tried down a flat or negatively curved direction.
_FLAT_STEPS = (1.0, 4.0, 16.0)
#: A log-parameter this close to the edge of the box is also tried at the edge.
NEAR_EDGE = 1.0
#: A log-parameter beyond this makes a point suspect (the derivative-free search runs).
_SUSPECT = 12.0
#: Evaluations per parameter of that search, and its first steps (log-parameters).
_SEARCH_EVALUATIONS, _SEARCH_STEP = 40, 0.5
#: Rounds of probe (and search), second run.
_ROUNDS = 3


def hessian_at(objective: Objective, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Symmetrised forward-difference Hessian of ``objective`` from its analytic gradient."""
    k = len(x)
    _, gradient = objective(x)
    hessian = np.empty((k, k))
    for j in range(k):
        moved = x.copy()
        moved[j] += step
        hessian[:, j] = (objective(moved)[1] - gradient) / step
    return 0.5 * (hessian + hessian.T)


def curvature_inverse(hessian: np.ndarray) -> np.ndarray | None:
    """Inverse of ``hessian`` with |eigenvalues| floored at 1e-6 of the largest, or None."""
    if not np.all(np.isfinite(hessian)):
        return None
    values, vectors = np.linalg.eigh(hessian)
    size = np.abs(values)
    floor = 1e-6 * float(size.max())
    if not floor > 0.0:
        return None
    return (vectors / np.maximum(size, floor)) @ vectors.T


def _trial_points(
    x: np.ndarray, gradient: np.ndarray, hessian: np.ndarray, bound: float
) -> list[np.ndarray]:
    """Newton step, steps down each flat direction, and the box edge for near-edge parameters."""
    if not np.all(np.isfinite(hessian)):
        return [np.clip(x - gradient / max(1.0, float(np.max(np.abs(gradient)))), -bound, bound)]
    values, vectors = np.linalg.eigh(hessian)
    projected = vectors.T @ gradient
    curved = values > 1e-6 * max(float(np.max(np.abs(values))), 1e-300)
    newton = -(vectors[:, curved] @ (projected[curved] / values[curved]))
    length = float(np.max(np.abs(newton))) if newton.size else 0.0
    if length > 2.0:  # a trust region of 2 in log-parameters
        newton *= 2.0 / length
    points = [np.clip(x + newton, -bound, bound)] if length > 0.0 else []
    for index in np.flatnonzero(~curved):
        direction = vectors[:, index]
        signs = (-np.sign(projected[index]),) if projected[index] != 0.0 else (1.0, -1.0)
        points.extend(
            np.clip(x + length * sign * direction, -bound, bound)
            for sign in signs
            for length in _FLAT_STEPS
        )
    # a parameter near the edge of the box may still be running towards it: try the edge
    for index in np.flatnonzero(np.abs(x) > bound - NEAR_EDGE):
        edge = x.copy()
        edge[index] = np.sign(x[index]) * bound
        points.append(edge)
    return points


class CertifiedOptimum(OptimizeResult):
    """An ``OptimizeResult`` with ``shortfall`` (gain left, 0 if certified) and ``direction``."""


def _probe(objective: Objective, x: np.ndarray, f: float, bound: float):
    """Best real improvement over the trial points from ``x``: (gain, point, hessian)."""
    gradient = objective(x)[1]
    hessian = hessian_at(objective, x)
    best_gain, best_point = 0.0, x
    for point in _trial_points(x, gradient, hessian, bound):
        value = objective(point)[0]
        if f - value > best_gain:
            best_gain, best_point = f - value, point
    return best_gain, best_point, hessian


def is_suspect(x: np.ndarray, hessian: np.ndarray) -> bool:
    """Whether straight probes cannot vouch for ``x``: a parameter far out, or a flat direction."""
    if np.any(np.abs(x) > _SUSPECT) or not np.all(np.isfinite(hessian)):
        return True
    values = np.linalg.eigvalsh(hessian)
    return bool(values[0] <= 1e-6 * max(float(np.max(np.abs(values))), 1e-300))


def ridge_search(
    objective: Objective, x: np.ndarray, f: float, bound: float, tolerance: float
) -> tuple[float, np.ndarray]:
    """Nelder-Mead from ``x`` in the box (it follows curved ridges): (gain, point)."""
    k = len(x)
    simplex = np.vstack([x, x + _SEARCH_STEP * np.eye(k)])
    simplex[1:] = np.where(simplex[1:] > bound, x - _SEARCH_STEP, simplex[1:])
    found = minimize(
        lambda v: objective(v)[0],
        x,
        method="Nelder-Mead",
        bounds=[(-bound, bound)] * k,
        options={
            "initial_simplex": simplex,
            "maxfev": _SEARCH_EVALUATIONS * k,
            "xatol": 1e-3,
            "fatol": 0.1 * tolerance,
        },
    )
    if not f - float(found.fun) > tolerance:
        return 0.0, x
    return f - float(found.fun), np.asarray(found.x, dtype=np.float64)


def certify_optimum(
    objective: Objective,
    result: OptimizeResult,
    bound: float,
    tolerance: float,
    rerun: Callable[[np.ndarray, np.ndarray | None], OptimizeResult],
) -> CertifiedOptimum:
    """Check that ``result`` minimises ``objective`` in the box; improve it if it does not.

    ``rerun(start, inverse_hessian)`` runs the optimiser again; a trial point must gain more
    than ``tolerance``. Returns the better point with ``shortfall`` (the gain still found
    from it, 0 if certified) and ``direction``.
    """
    best = result
    for attempt in range(_ROUNDS):
        gain, point, hessian = _probe(objective, best.x, float(best.fun), bound)
        near_edge = np.any(np.abs(best.x) > bound - NEAR_EDGE)  # the caller says so
        if not gain > tolerance and not near_edge and is_suspect(best.x, hessian):
            gain, point = ridge_search(objective, best.x, float(best.fun), bound, tolerance)
        if not gain > tolerance:
            return CertifiedOptimum(dict(best), shortfall=0.0, direction=None)
        step = point - best.x
        direction = step / float(np.linalg.norm(step))
        if attempt == _ROUNDS - 1:
            return CertifiedOptimum(dict(best), shortfall=gain, direction=direction)
        second = rerun(point, curvature_inverse(hessian))
        if second.fun <= best.fun - gain:
            best = OptimizeResult(dict(second), nit=int(result.nit) + int(second.nit))
        else:  # the trial point is better than where the second run ended
            value, gradient = objective(point)
            best = OptimizeResult(
                dict(best),
                x=point,
                fun=float(value),
                jac=gradient,
                success=False,
                message="stopped at the post-fit check's trial point",
            )
    raise AssertionError("unreachable")  # pragma: no cover
