"""What one training logs to its MLflow runs besides the model.

The parent run's parameters and dataset, one child run per candidate with its holdout
plots (and, for the BTYD kinds, the holdout count calibration), the comparison table
and plots, the monthly cohorts, the chosen model's segment summary and decision tables.
Each ``log_*`` function logs into the active run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from clv.training.progress import Progress, step

__all__ = ["log_comparison", "log_decisions", "log_segments", "run_params"]


def _drawing(name: str, *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """Return a drawing by ``clv.plots.<name>``; matplotlib is imported only to draw it."""

    def draw() -> Any:
        from clv import plots

        return getattr(plots, name)(*args, **kwargs)

    return draw


def _candidate_plots(predictions: pd.DataFrame, actuals: pd.DataFrame) -> dict[str, Callable]:
    """Holdout plots of one candidate (:mod:`clv.plots`), drawn only when logged."""
    spend = predictions["expected_spend"].reindex(actuals.index)
    churn = predictions["churn_probability"].reindex(actuals.index)
    return {
        "spend_deciles.png": _drawing("decile_chart", actuals["holdout_spend"], spend),
        "spend_gain_curve.png": _drawing("gain_curve", actuals["holdout_spend"], spend),
        "churn_reliability.png": _drawing("churn_reliability_curve", actuals["churned"], churn),
    }


def _comparison_plots(
    predictions: Mapping[str, pd.DataFrame], actuals: pd.DataFrame
) -> dict[str, Callable]:
    """Draw every candidate together, for the parent run."""
    spend = {
        str(kind): frame["expected_spend"].reindex(actuals.index)
        for kind, frame in predictions.items()
    }
    title = "Gain curve, all models"
    return {
        "gain_curve_all_models.png": _drawing(
            "gain_curve", actuals["holdout_spend"], spend, title=title
        )
    }


def _log_count_calibration(comparison: Any, kind: str, progress: Progress | None) -> None:
    """Log a BTYD candidate's holdout count histogram and randomised-PIT coverage."""
    candidate = comparison.fitted[kind]
    if not hasattr(candidate, "count_calibration"):
        return
    import mlflow

    from clv.training import tracking

    features = comparison.features
    actual = comparison.actuals["holdout_purchases"].reindex(features["customer_id"].to_numpy())
    known = actual.notna().to_numpy()
    histogram, measures = candidate.count_calibration(
        features[known], actual[known].astype(int).to_numpy(), comparison.horizon
    )
    mlflow.log_metrics({f"coverage.{k}": v for k, v in measures.items()})
    mlflow.log_text(histogram.to_csv(), "holdout_count_histogram.csv")
    title = f"{kind}: holdout purchases"
    draw = _drawing("holdout_count_histogram", histogram, measures, title=title)
    tracking.log_figure(draw, "holdout_count_histogram.png", warn=progress)


def _log_cohorts(transactions: pd.DataFrame, observation_end: object, progress) -> None:
    """Log the monthly cohort table (clv.features.cohorts) and its active-rate heatmap."""
    import mlflow

    from clv.features.cohorts import cohort_table
    from clv.training import tracking

    table = cohort_table(transactions, period="M", observation_end=observation_end)
    mlflow.log_text(table.to_csv(), "cohorts.csv")
    draw = _drawing("cohort_heatmap", table, "active_rate")
    tracking.log_figure(draw, "cohort_active_rate.png", warn=progress)


def log_decisions(candidate, features, predictions, rules, actions, settings) -> None:
    """Log the decision tables (clv.models.decisions) as ``decisions/<name>.csv``."""
    horizon, margin, discount_rate = settings
    import mlflow

    from clv.models.decisions import decision_tables

    inputs = getattr(candidate, "decision_inputs", None)
    tables = decision_tables(
        predictions,
        horizon=float(horizon),
        margin=float(margin),
        discount_rate=float(discount_rate),
        time_unit=getattr(candidate, "time_unit_", None),
        rules=rules,
        actions=actions,
        **(inputs(features) if inputs is not None else {}),
    )
    for name, frame in tables.items():
        mlflow.log_text(frame.to_csv(), f"decisions/{name}.csv")


def log_comparison(
    comparison: Any,
    table: pd.DataFrame,
    *,
    experiment_id: str,
    params: Mapping[str, Any],
    canonical: pd.DataFrame,
    digest: str,
    source: str | None,
    holdout_end: object,
    progress: Progress | None,
) -> dict[str, str]:
    """Log the comparison into the active parent run: one child run per candidate.

    Parameters
    ----------
    comparison : clv.training.compare.ComparisonResult
        The fitted candidates, their holdout predictions and the actuals.
    table : pandas.DataFrame
        The holdout metrics, one row per kind (indexed by kind).
    experiment_id : str
        The experiment of the runs.
    params : mapping
        The parent run's parameters (settings, policies, data counts).
    canonical : pandas.DataFrame
        The cleaned log, logged as the run's dataset.
    digest : str
        Its digest (:func:`clv.training.tracking.dataset_digest`).
    source : str, optional
        Where the log came from.
    holdout_end : date-like
        The end of the cohorts table.
    progress : callable, optional
        Told about each step (and about plots that could not be drawn).

    Returns
    -------
    dict of str to str
        Candidate kind -> its child run id.
    """
    import mlflow

    from clv.training import tracking
    from clv.training.compare import comparison_table

    best = str(comparison.best)
    mlflow.log_params(dict(params))
    mlflow.log_params(
        {f"package.{name}": version for name, version in tracking.package_versions().items()}
    )
    tracking.log_dataset(canonical, name="transactions", source=source, digest=digest)
    child_runs: dict[str, str] = {}
    with step(
        progress,
        f"logging {len(table)} candidate runs with their plots",
        f"logged {len(table)} candidate runs",
    ):
        for kind in table.index:
            with mlflow.start_run(
                experiment_id=experiment_id, run_name=str(kind), nested=True
            ) as child:
                tracking.log_candidate_run(
                    str(kind),
                    comparison.fitted[kind],
                    table.loc[kind].to_dict(),
                    plots=_candidate_plots(comparison.predictions[kind], comparison.actuals),
                    warn=progress,
                )
                _log_count_calibration(comparison, str(kind), progress)
                child_runs[str(kind)] = child.info.run_id
        tracking.log_comparison(table, comparison_table(table, best=best))
        _log_cohorts(canonical, holdout_end, progress)
        for file_name, draw in _comparison_plots(
            comparison.predictions, comparison.actuals
        ).items():
            tracking.log_figure(draw, file_name, warn=progress)
    mlflow.set_tag("clv.best_model", best)
    mlflow.log_metrics(
        {
            name: float(value)
            for name, value in table.loc[best].items()
            if isinstance(value, int | float) and math.isfinite(float(value))
        }
    )
    return child_runs


def log_segments(segmented: pd.DataFrame, progress: Progress | None) -> None:
    """Log the segment summary of every customer (for ``clv report``) and its plot.

    Parameters
    ----------
    segmented : pandas.DataFrame
        The predictions of every customer with their ``segment``.
    progress : callable, optional
        Told when the plot cannot be drawn.
    """
    import mlflow

    from clv.models.segments import segment_summary
    from clv.training import tracking

    mlflow.log_text(segment_summary(segmented).to_csv(), "segment_summary.csv")
    draw = _drawing("clv_by_segment", segmented)
    tracking.log_figure(draw, "clv_by_segment.png", warn=progress)


def run_params(
    checked: Any,
    cleaned: Any,
    *,
    time_unit: str,
    discount_rate: float,
    margin: float,
    kinds: list[Any],
    model_name: str,
    n_customers: int,
    digest: str,
    policies: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the parent run's parameters: the settings, the policies and what they did.

    Parameters
    ----------
    checked : clv.training.preflight.TrainingSettings
        The checked settings (dates as text, horizon).
    cleaned : clv.features.cleaning.CleanedTransactions
        The cleaned log and its policy report.
    time_unit, discount_rate, margin, model_name, digest
        The training's settings and the dataset digest.
    kinds : list
        The kinds compared.
    n_customers : int
        Customers judged on the holdout.
    policies : mapping
        The data policies applied.

    Returns
    -------
    dict
    """
    from clv.training.selection import PRIMARY_METRIC

    return {
        "calibration_end": checked.calibration_text,
        "holdout_end": checked.holdout_text,
        "time_unit": time_unit,
        "horizon": checked.horizon,
        "discount_rate": discount_rate,
        "margin": margin,
        "kinds": ",".join(map(str, kinds)),
        "model_name": model_name,
        "n_transactions": len(cleaned.transactions),
        "n_customers": n_customers,
        "dataset_digest": digest,
        "gate_metric": PRIMARY_METRIC,
        **{f"policy.{k}": v for k, v in policies.items()},
        **{f"data.{k}": v for k, v in cleaned.report.as_dict().items()},
    }
