"""The optimiser of every probabilistic model: box-bounded BFGS on a few variables.

:func:`minimize_bfgs_box` is what SciPy's L-BFGS-B does for the handful of
log-parameters of a BTYD model (a dense BFGS quasi-Newton method with a projected
backtracking line search; variables at a bound whose gradient points outwards are held
there, same tolerances), in a few lines of numpy on k-vectors.

Why not SciPy's L-BFGS-B (DESIGN.md, "Decisions"): profiled on this shared 2-core
machine, L-BFGS-B woke the threaded BLAS on every call, 4-6 ms of overhead per
iteration and 48 ms on a trivial 4-parameter problem (1.2 ms with one BLAS thread,
but setting that is global state); large ``weights @ x`` products had the same cost,
so the likelihood sums use ``einsum`` (:func:`clv.models._arrays.dot`). With this
optimiser and per-fit sufficient statistics, ``benchmarks/models.py`` (three runs on the
shared machine) fitted BG/NBD on 1M customers 89-103x faster than lifetimes and
Pareto/NBD on 100k 62x, 108x and 36x (the last under load ~6 on 2 cores), the
log-likelihood never below lifetimes'.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import OptimizeResult

from clv.models._optimum import curvature_inverse, hessian_at

__all__ = ["inverse_hessian_at", "minimize_bfgs_box"]


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


def inverse_hessian_at(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray, step: float = 1e-4
) -> np.ndarray | None:
    """Inverse of the forward-difference Hessian at ``x`` (|eigenvalues| floored), or None.

    A curvature-aware first step: BFGS then needs about a third fewer iterations.
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
    """Minimise ``objective`` (``x -> (value, gradient)``) in the box ``[-bound, bound]^k``.

    Dense BFGS with a projected backtracking (Armijo) line search; variables at a bound
    whose gradient points outwards are held there. Success when the projected gradient is
    below ``gtol`` or an iteration gains less than ``ftol`` relative (as L-BFGS-B); failure
    when the line search (``max_steps`` evaluations) cannot decrease the objective, which
    must return a huge finite value where it is not finite, or after ``max_iter``.
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
