"""What one training logs to its MLflow runs besides the model.

The parent run's parameters and dataset, one child run per candidate with its holdout
plots (and, for the BTYD kinds, the holdout count calibration), the comparison table
and plots, the monthly cohorts, the chosen model's segment summary and decision tables.
Each ``log_*`` function logs into the run it is given
(:class:`clv.training.store_client.TrackedRun`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
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


def _log_count_calibration(run, comparison: Any, kind: str, progress: Progress | None) -> None:
    """Log a BTYD candidate's holdout count histogram and randomised-PIT coverage."""
    candidate = comparison.fitted[kind]
    if not hasattr(candidate, "count_calibration"):
        return
    from clv.training import tracking

    features = comparison.features
    actual = comparison.actuals["holdout_purchases"].reindex(features["customer_id"].to_numpy())
    known = actual.notna().to_numpy()
    histogram, measures = candidate.count_calibration(
        features[known], actual[known].astype(int).to_numpy(), comparison.horizon
    )
    run.log(metrics={f"coverage.{k}": v for k, v in measures.items()})
    run.log_text(histogram.to_csv(), "holdout_count_histogram.csv")
    title = f"{kind}: holdout purchases"
    draw = _drawing("holdout_count_histogram", histogram, measures, title=title)
    tracking.log_figure(run, draw, "holdout_count_histogram.png", warn=progress)


def _log_cohorts(run, transactions: pd.DataFrame, observation_end: object, progress) -> None:
    """Log the monthly cohort table (clv.features.cohorts) and its active-rate heatmap."""
    from clv.features.cohorts import cohort_table
    from clv.training import tracking

    table = cohort_table(transactions, period="M", observation_end=observation_end)
    run.log_text(table.to_csv(), "cohorts.csv")
    draw = _drawing("cohort_heatmap", table, "active_rate")
    tracking.log_figure(run, draw, "cohort_active_rate.png", warn=progress)


def log_decisions(run, candidate, features, predictions, rules, actions, settings) -> None:
    """Log the decision tables (clv.models.decisions) as ``decisions/<name>.csv`` of ``run``."""
    horizon, margin, discount_rate = settings
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
        run.log_text(frame.to_csv(), f"decisions/{name}.csv")


def log_comparison(
    run: Any, comparison: Any, inputs: Any, *, source: str | None, progress: Progress | None
) -> dict[str, str]:
    """Log the comparison into the parent run: one child run per candidate.

    The parameters (:func:`run_params`, package versions), the dataset, a child run per
    kind with its plots, the comparison table and plots, the cohorts, the chosen kind's
    metrics and tag ``clv.best_model``. Returns kind -> child run id.
    """
    from clv.training import tracking
    from clv.training.compare import comparison_table

    best, table, canonical = str(comparison.best), comparison.table, inputs.canonical
    params = run_params(inputs, list(table.index), len(comparison.actuals))
    versions = tracking.package_versions()
    run.log(params={**params, **{f"package.{name}": v for name, v in versions.items()}})
    tracking.log_dataset(run, canonical, name="transactions", source=source, digest=inputs.digest)
    child_runs: dict[str, str] = {}
    with step(
        progress,
        f"logging {len(table)} candidate runs with their plots",
        f"logged {len(table)} candidate runs",
    ):
        for kind in table.index:
            with run.child(str(kind)) as child:
                tracking.log_candidate_run(
                    child,
                    str(kind),
                    comparison.fitted[kind],
                    table.loc[kind].to_dict(),
                    plots=_candidate_plots(comparison.predictions[kind], comparison.actuals),
                    warn=progress,
                )
                _log_count_calibration(child, comparison, str(kind), progress)
                child_runs[str(kind)] = child.run_id
        tracking.log_comparison(run, table, comparison_table(table, best=best))
        _log_cohorts(run, canonical, inputs.holdout_end, progress)
        actuals = comparison.actuals  # every candidate's gain curve together
        predictions = comparison.predictions.items()
        spend = {str(k): p["expected_spend"].reindex(actuals.index) for k, p in predictions}
        title = "Gain curve, all models"
        draw = _drawing("gain_curve", actuals["holdout_spend"], spend, title=title)
        tracking.log_figure(run, draw, "gain_curve_all_models.png", warn=progress)
    metrics = {
        name: float(value)
        for name, value in table.loc[best].items()
        if isinstance(value, int | float) and math.isfinite(float(value))
    }
    run.log(metrics=metrics, tags={"clv.best_model": best})
    return child_runs


def log_segments(run: Any, segmented: pd.DataFrame, progress: Progress | None) -> None:
    """Log the segment summary of every customer (for ``clv report``) and its plot."""
    from clv.models.segments import segment_summary
    from clv.training import tracking

    run.log_text(segment_summary(segmented).to_csv(), "segment_summary.csv")
    draw = _drawing("clv_by_segment", segmented)
    tracking.log_figure(run, draw, "clv_by_segment.png", warn=progress)


def run_params(inputs: Any, kinds: list[Any], n_customers: int) -> dict[str, Any]:
    """Return the parent run's parameters: the settings, the policies and what they did."""
    from clv.training.selection import PRIMARY_METRIC

    checked, cleaned = inputs.checked, inputs.cleaned
    return {
        "calibration_end": checked.calibration_text,
        "holdout_end": checked.holdout_text,
        "time_unit": inputs.time_unit,
        "horizon": checked.horizon,
        "discount_rate": inputs.discount_rate,
        "margin": inputs.margin,
        "kinds": ",".join(map(str, kinds)),
        "model_name": inputs.model_name,
        "n_transactions": len(cleaned.transactions),
        "n_customers": n_customers,
        "dataset_digest": inputs.digest,
        "gate_metric": PRIMARY_METRIC,
        **{f"policy.{k}": v for k, v in inputs.policies.items()},
        **{f"data.{k}": v for k, v in cleaned.report.as_dict().items()},
    }
