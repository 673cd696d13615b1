"""Parameter uncertainty: how uncertain is the expected CLV because parameters are estimated.

``customer_lifetime_value(..., parameter_interval=0.9)`` adds ``clv_mean_lower`` and
``clv_mean_upper``: a confidence interval of each customer's *expected* value (the
point prediction), not of what the customer will do (that is ``interval``, the
predictive interval). It is computed from the asymptotic sampling distribution of the
maximum-likelihood estimates: the log-parameters are drawn from a normal with the
inverse observed information as covariance (delta method: ``Cov(log theta) =
Cov(theta) / (theta theta^T)``), 200 draws with a fixed seed, each giving a point
CLV, and the interval is their central ``level`` range (percentiles). The transaction
model's parameters are drawn, and the Gamma-Gamma model's too when it has a
covariance (the joint likelihood factorises into the transaction likelihood and
Gamma-Gamma's likelihood of spend given frequency, so the information matrix is
block-diagonal and the two sets of draws are independent).

Why asymptotic and not a bootstrap over customers: the Hessian is already computed
for the standard errors (``compute_standard_errors=True``, whose values on CDNOW equal
lifetimes'), so the interval costs 200 predictions and no refit, where a bootstrap
costs one fit per replicate (Pareto/NBD on a million customers, hundreds of times).
The normal approximation in log-parameters holds for the sample sizes these models
are fitted on (thousands of customers); a likelihood that is flat in a parameter
(Pareto/NBD's beta on CDNOW) shows up as a wide interval rather than being hidden.
"""

from __future__ import annotations

import numpy as np

from clv.errors import NotFittedError

__all__ = ["N_DRAWS", "parameter_draws"]

N_DRAWS = 200
_SEED = 20240901


def parameter_draws(model, n_draws: int = N_DRAWS, seed: int = _SEED) -> np.ndarray:
    """Draw parameter vectors from the asymptotic normal of the log-parameters.

    Parameters
    ----------
    model : ProbabilisticModel
        A model fitted with ``compute_standard_errors=True`` (it has ``covariance_``).
    n_draws : int, default 200
        Number of draws.
    seed : int
        Seed of the draws (fixed, so that results are reproducible).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_draws, k)``, positive.
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
