"""The fitted-model diagnostics of a training run, for ``clv report``.

For every BTYD candidate of a training run, what ``clv train`` logged in its child
run: each parameter's estimate and standard error (``fit.summary.*``), AIC and BIC,
Gamma-Gamma's spend-frequency correlation (``fit.spend_frequency_correlation``, see
:mod:`clv.models._independence`) and the calibration of the predictive distribution
of holdout purchases (``coverage.*``, see :mod:`clv.models.count_calibration`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["collect_model_diagnostics"]

#: The papers' order of the parameters.
_ORDER = ["r", "alpha", "a", "b", "s", "beta", "gamma", "delta", "p", "q"]
_COLUMNS = (
    ("fit.aic", "AIC"),
    ("fit.bic", "BIC"),
    ("fit.spend_frequency_correlation", "Spend-frequency Spearman"),
    ("coverage.pit_90", "PIT in [.05,.95] (0.90)"),
    ("coverage.pit_50", "PIT in [.25,.75] (0.50)"),
    ("coverage.central_90", "Central 90% holds"),
    ("coverage.central_50", "Central 50% holds"),
)


def _parameters(metrics: dict[str, float]) -> str:
    names = sorted(
        {key.split(".")[2] for key in metrics if key.startswith("fit.summary.")},
        key=lambda name: (_ORDER.index(name) if name in _ORDER else len(_ORDER), name),
    )
    parts = []
    for name in names:
        estimate = metrics.get(f"fit.summary.{name}.estimate")
        error = metrics.get(f"fit.summary.{name}.standard_error")
        if estimate is None:
            continue
        parts.append(f"{name} {estimate:.4g}" + ("" if error is None else f" ({error:.2g})"))
    return ", ".join(parts)


def collect_model_diagnostics(client: Any, run: Any) -> pd.DataFrame | None:
    """One row per child run that logged a model summary, or ``None`` if none did.

    Parameters
    ----------
    client : mlflow.tracking.MlflowClient
        The store's client.
    run : mlflow.entities.Run
        The parent training run.

    Returns
    -------
    pandas.DataFrame or None
        Index: the candidate kind; ``Parameters (SE)`` and the columns above.
    """
    from clv.training.run_reader import child_runs

    rows = {}
    for child in child_runs(client, run):
        metrics = dict(child.data.metrics)
        if not any(key.startswith("fit.summary.") for key in metrics):
            continue
        row: dict[str, object] = {"Parameters (SE)": _parameters(metrics)}
        for key, label in _COLUMNS:
            row[label] = metrics.get(key, float("nan"))
        rows[child.data.tags.get("clv.model", child.info.run_name)] = row
    return pd.DataFrame.from_dict(rows, orient="index") if rows else None
