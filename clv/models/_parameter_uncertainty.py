"""Parameter uncertainty: how uncertain is the expected CLV because parameters are estimated.

``customer_lifetime_value(..., parameter_interval=0.9)`` adds ``clv_mean_lower`` and
``clv_mean_upper``, a confidence interval of each customer's *expected* value (not the
predictive ``interval``): 200 seeded draws of the log-parameters from the normal with
the inverse observed information (delta method: ``Cov(theta) / (theta theta^T)``), one
point CLV each, central percentiles. Gamma-Gamma's parameters are drawn independently
when it has a covariance (the joint likelihood factorises). Asymptotic rather than a
bootstrap: the Hessian is already there for the standard errors, so no refit.
"""

from __future__ import annotations

import numpy as np

from clv.errors import NotFittedError

__all__ = ["N_DRAWS", "parameter_draws"]

N_DRAWS = 200
_SEED = 20240901


def parameter_draws(model, n_draws: int = N_DRAWS, seed: int = _SEED) -> np.ndarray:
    """Draw ``(n_draws, k)`` parameter vectors from the asymptotic normal of the log-parameters.

    ``model`` must have ``covariance_`` (fitted with ``compute_standard_errors=True``).
    """
    covariance = getattr(model, "covariance_", None)
    if covariance is None:
        raise NotFittedError(
            f"{type(model).__name__} has no parameter covariance: fit it with "
            "compute_standard_errors=True to get parameter intervals."
        )
    theta = model.params_.to_numpy()
    log_covariance = covariance.to_numpy() / np.outer(theta, theta)
    if not np.all(np.isfinite(log_covariance)):
        raise NotFittedError(
            f"{type(model).__name__}'s observed information is singular at the estimate: "
            "the parameters are not identified well enough for a parameter interval."
        )
    rng = np.random.default_rng(seed)
    # eigen-decomposition: tolerates a covariance that is only semi-definite numerically
    values, vectors = np.linalg.eigh(0.5 * (log_covariance + log_covariance.T))
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return theta * np.exp(rng.standard_normal((n_draws, len(theta))) @ root.T)
