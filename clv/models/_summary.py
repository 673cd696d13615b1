"""Fitted-model summary, in the manner of lifelines' ``print_summary``.

The 95 % interval is the Wald interval of ``log(theta)`` mapped back,
``theta * exp(+-1.96 SE / theta)`` (delta method), so it never reaches below zero;
``AIC = 2k - 2 LL`` and ``BIC = k log(n) - 2 LL`` (Akaike 1974; Schwarz 1978).
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
    """Summary table of a fitted model: one row per parameter, fit statistics in ``attrs``.

    Standard errors from ``X``'s Hessian when ``X`` is given, else ``standard_errors_``,
    else NaN.
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
    """Printable form of :func:`model_summary`'s table."""
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
