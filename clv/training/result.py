"""What one training produced (:class:`TrainingResult`), and its summary for a terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from clv.mlflow_model.margin import describe_margin

__all__ = ["TrainingResult", "zero_spend_line"]

_SUMMARY_COLUMNS = {
    "holdout_rmse_spend": "rmse_spend",
    "holdout_mae_spend": "mae_spend",
    "holdout_gini_spend": "gini_spend",
    "holdout_total_spend_ratio": "spend_ratio",
    "holdout_mae_purchases": "mae_purchases",
    "holdout_auc_churn": "auc_churn",
    "holdout_brier_churn": "brier_churn",
}


@dataclass(frozen=True)
class TrainingResult:
    """What one training produced.

    Attributes
    ----------
    tracking_uri : str
        The MLflow store used.
    experiment_id : str
        The experiment of the runs.
    parent_run_id : str
        The parent run (comparison, dataset, model).
    child_run_ids : dict of str to str
        Candidate kind -> its child run.
    best_model : str
        The chosen candidate kind.
    model_uri : str
        URI of the logged pyfunc model.
    model_name : str
        Registered model name.
    version : str
        The registered version created by this training.
    aliases : dict of str to str
        Alias -> version after the gate (``champion``, ``challenger``).
    decision : clv.training.registry.GateDecision
        The gate's decision with both scores.
    comparison : pandas.DataFrame
        One row per candidate kind, the holdout metrics.
    margin : float
        The served model's default margin (share of spend that is profit).
    data_lines : tuple of str
        What the data policies dropped, netted or left out, one line each
        (:meth:`clv.features.cleaning.PolicyReport.line`, the Gamma-Gamma exclusions).
    """

    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    child_run_ids: dict[str, str]
    best_model: str
    model_uri: str
    model_name: str
    version: str
    aliases: dict[str, str]
    decision: Any
    comparison: pd.DataFrame = field(repr=False)
    margin: float = 1.0
    data_lines: tuple[str, ...] = ()

    @property
    def promoted(self) -> bool:
        """Whether this training's version became the champion."""
        return bool(self.decision.promoted)

    def summary(self) -> str:
        """Describe the training for a terminal: the comparison table, the registry, the store.

        Returns
        -------
        str
            Several lines: the main holdout metrics of every model (the chosen one
            marked ``*``), the registered version and the gate's decision, where the
            store is and how to open the MLflow UI.
        """
        from clv.training.compare import DISPLAY

        columns = [name for name in _SUMMARY_COLUMNS if name in self.comparison.columns]
        table = self.comparison[columns].rename(columns=_SUMMARY_COLUMNS)
        # One precision per metric, as in the comparison table and the report.
        formats = {_SUMMARY_COLUMNS[name]: DISPLAY[name][1].format for name in columns}
        table.index = [
            f"{name} *" if name == self.best_model else str(name) for name in table.index
        ]
        table.index.name = "model"
        decision = self.decision
        champion = self.aliases.get("champion")
        lines = [
            *self.data_lines,
            "Holdout comparison (* = chosen; lower is better except gini and auc):",
            table.to_string(formatters=formats),
            "",
            f"registered {self.model_name} version {self.version} ({self.best_model}), "
            f"alias challenger; {describe_margin(self.margin)}",
            f"gate on {decision.metric}: {decision.reason}",
            f"champion: {self.model_name}@champion = version {champion}"
            if champion is not None
            else "champion: none",
            f"MLflow store: {self.tracking_uri} (experiment {self.experiment_id}, "
            f"run {self.parent_run_id})",
        ]
        if self.tracking_uri.startswith("sqlite:"):
            lines.append(f"open the UI: mlflow ui --backend-store-uri {self.tracking_uri}")
        lines.append(f'load it: mlflow.pyfunc.load_model("models:/{self.model_name}@champion")')
        return "\n".join(lines)


def zero_spend_line(candidate: Any) -> str | None:
    """Describe the Gamma-Gamma exclusions of a fitted candidate in one line (None if none)."""
    excluded = getattr(getattr(candidate, "spend_model_", None), "n_zero_spend_excluded_", 0)
    if not excluded:
        return None
    return (
        f"Gamma-Gamma: {excluded:,} customers with repeat purchases but a $0 mean repeat "
        "spend left out of the fit (predicted with the population mean)"
    )
