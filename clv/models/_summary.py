"""Fitted-model summary, in the manner of lifelines' ``print_summary``.

One row per parameter: the estimate, its asymptotic standard error (the inverse of
the observed information, the negative Hessian of the total log-likelihood at the
optimum) and a 95 % interval. The parameters are positive and the models are fitted
in log-parameters, so the interval is the Wald interval of ``log(theta)`` mapped
back, ``theta * exp(+-1.96 * SE / theta)`` (delta method: ``SE(log theta) = SE /
theta``); it never reaches below zero, unlike ``theta +- 1.96 SE``. The fit
statistics: the log-likelihood (total, in the model's time unit), ``AIC = 2k - 2 LL``
and ``BIC = k log(n) - 2 LL`` with ``k`` parameters and ``n`` customers (Akaike 1974;
Schwarz 1978).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["format_summary", "model_summary"]

_Z_95 = 1.959963984540054  # standard normal 97.5 % quantile


def model_summary(
    model, X: pd.DataFrame | None = None, sample_weight: object = None
) -> pd.DataFrame:
    """Summary table of a fitted probabilistic model.

    Parameters
    ----------
    model : clv.models._estimator.ProbabilisticModel
        A fitted model.
    X : pandas.DataFrame, optional
        The table the model was fitted on. Standard errors come from
        ``model.standard_errors_`` when the model was fitted with
        ``compute_standard_errors=True``; otherwise from the Hessian of ``X``'s
        log-likelihood at the fitted parameters; without either they are NaN.
    sample_weight : array-like, optional
        Weights of ``X``'s rows, as in ``fit``.

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``estimate``, ``standard_error``, ``lower_95``,
        ``upper_95``. ``attrs`` holds ``model``, ``log_likelihood``, ``aic``, ``bic``,
        ``n_customers``, ``n_parameters`` and ``time_unit``.
    """
    model._check_is_fitted()
    params = model.params_.to_numpy()
    errors = getattr(model, "standard_errors_", None)
    if X is not None:
        data, weights = model._fit_data(X, sample_weight)
        errors = model._standard_errors(params, data, weights)
    errors = (
        np.full(len(params), np.nan)
        if errors is None
        else errors.reindex(model.params_.index).to_numpy()
    )
    spread = np.exp(_Z_95 * errors / params)
    table = pd.DataFrame(
        {
            "estimate": params,
            "standard_error": errors,
            "lower_95": params / spread,
            "upper_95": params * spread,
        },
        index=pd.Index(model.params_.index, name="parameter"),
    )
    k, n = len(params), float(model.n_customers_ or 0)
    ll = float(model.log_likelihood_)
    table.attrs.update(
        {
            "model": type(model).__name__,
            "log_likelihood": ll,
            "aic": 2 * k - 2 * ll,
            "bic": k * math.log(n) - 2 * ll if n > 0 else float("nan"),
            "n_customers": model.n_customers_,
            "n_parameters": k,
            "time_unit": getattr(model, "time_unit_", None),
        }
    )
    return table


def format_summary(table: pd.DataFrame) -> str:
    """Printable form of :func:`model_summary`'s table.

    Parameters
    ----------
    table : pandas.DataFrame
        The summary.

    Returns
    -------
    str
        A header with the fit statistics and the parameter table.
    """
    info = table.attrs
    header = [
        f"<{info.get('model')}>",
        f"  customers = {info.get('n_customers')}, time unit = {info.get('time_unit')}",
        f"  log-likelihood = {info.get('log_likelihood'):.3f}",
        f"  AIC = {info.get('aic'):.3f}, BIC = {info.get('bic'):.3f}",
        "",
    ]
    body = table.to_string(float_format=lambda v: f"{v:.4g}")
    note = "\n(95 % intervals: Wald on log(parameter), from the observed information)"
    return "\n".join(header) + body + note
