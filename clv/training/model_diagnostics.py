"""The fitted-model diagnostics of a training run, for ``clv report``.

For every BTYD candidate of a training run, what ``clv train`` logged in its child
run: each parameter's estimate and standard error (``fit.summary.*``), AIC and BIC,
Gamma-Gamma's spend-frequency correlation (``fit.spend_frequency_correlation``, see
:mod:`clv.models._independence`) and the calibration of the predictive distribution
of holdout purchases (``coverage.*``, see :mod:`clv.models.count_calibration`), with
the customers by holdout purchases (0, 1, ..., 7+) each model predicted beside the
actual counts (``holdout_count_histogram.csv``), in ``attrs["count_histogram"]``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from clv.models._independence import CORRELATION_THRESHOLD

__all__ = ["collect_model_diagnostics"]

#: The papers' order of the parameters.
_ORDER = ["r", "alpha", "a", "b", "s", "beta", "gamma", "delta", "p", "q"]
_COLUMNS = (
    ("fit.n_customers", "Customers"),
    ("fit.log_likelihood", "Log-likelihood"),
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
        low = metrics.get(f"fit.summary.{name}.lower_95")
        high = metrics.get(f"fit.summary.{name}.upper_95")
        if estimate is None:
            continue
        text = f"{name} {estimate:.4g}" + ("" if error is None else f" ({error:.2g})")
        if low is not None and high is not None:
            text += f" [{low:.3g}, {high:.3g}]"
        parts.append(text)
    return ", ".join(parts)


def _independence(metrics: dict[str, float]) -> str:
    correlation = metrics.get("fit.spend_frequency_correlation")
    if correlation is None:
        return ""
    if abs(correlation) >= CORRELATION_THRESHOLD:
        return f"warned: |Spearman| >= {CORRELATION_THRESHOLD:g}"
    return "holds"


def _count_histogram(client: Any, runs: dict[str, Any]) -> pd.DataFrame | None:
    """Read the customers by holdout purchases: actual, then each model's prediction."""
    from clv.training.run_reader import download_artifact

    columns: dict[str, pd.Series] = {}
    with tempfile.TemporaryDirectory(prefix="clv-report-") as folder:
        for kind, run_id in runs.items():
            local = download_artifact(
                client, run_id, "holdout_count_histogram.csv", Path(folder) / run_id
            )
            if local is None:  # a run logged before the histogram
                continue
            table = pd.read_csv(local, dtype={"purchases": str}).set_index("purchases")
            columns.setdefault("actual", table["actual"].astype("int64"))
            columns[f"{kind} predicted"] = table["predicted"].round(1)
    if not columns:
        return None
    frame = pd.DataFrame(columns)
    frame.index.name = "Holdout purchases"
    return frame


def collect_model_diagnostics(client: Any, run: Any) -> pd.DataFrame | None:
    """One row per child run that logged a model summary (``None`` if none did).

    Index: the candidate kind; ``Parameters (SE) [95 %]``, ``Independence`` and the
    columns above; ``attrs["count_histogram"]``: the customers by holdout purchases,
    actual and predicted by each model (``None`` without the files).
    """
    from clv.training.run_reader import child_runs

    rows = {}
    runs = {}
    for child in child_runs(client, run):
        metrics = dict(child.data.metrics)
        if not any(key.startswith("fit.summary.") for key in metrics):
            continue
        row: dict[str, object] = {"Parameters (SE) [95 %]": _parameters(metrics)}
        for key, label in _COLUMNS:
            row[label] = metrics.get(key, float("nan"))
        row["Independence"] = _independence(metrics)
        kind = child.data.tags.get("clv.model", child.info.run_name)
        rows[kind] = row
        runs[kind] = child.info.run_id
    if not rows:
        return None
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.attrs["count_histogram"] = _count_histogram(client, runs)
    return frame
