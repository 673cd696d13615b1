"""One training: compare every model, track it in MLflow, register and gate the winner.

:func:`train` runs the whole path:

1. validate the transaction log once (clear errors before any run is created);
2. :func:`clv.training.compare.compare_models`: every candidate is fitted on the
   calibration period and judged on the holdout with the same metrics;
3. one MLflow parent run, with one child run per candidate (tag ``clv.model``);
4. **refit the chosen candidate on all data up to the holdout end.** The holdout
   was only there to choose: once the choice is made, the most recent months are
   the most informative about the customers' current behaviour, and a model that
   never saw them would score customers as of the calibration end. The holdout
   metrics logged for the version are those of the same kind fitted on the
   calibration period -- an honest estimate of how the refitted model does on
   unseen data, since it is the same procedure on a slightly longer history;
5. fit :class:`clv.models.segments.SegmentRules` on the refitted model's
   predictions for every customer as of the holdout end (default horizon and
   discount rate);
6. log the model as one MLflow pyfunc (:mod:`clv.mlflow_model.pyfunc_model`), register
   a new version with alias ``challenger`` and run the champion gate
   (:mod:`clv.training.registry`).
"""

from __future__ import annotations

import importlib.metadata
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from clv.errors import InvalidParameterError
from clv.features._contract import (
    AMOUNT,
    CUSTOMER_ID,
    TIMESTAMP,
    check_time_unit,
    to_day_number,
)
from clv.features.io import read_transactions
from clv.mlflow_model.margin import apply_margin, check_margin, describe_margin, value_basis
from clv.training.interruption import failing_unfinished
from clv.training.preflight import (
    TRAINING_SETTINGS,
    check_enough_customers,
    check_training_settings,
)
from clv.training.progress import Progress, step
from clv.training.progress import notify as _notify

__all__ = ["TrainingResult", "read_transactions", "train"]


#: What ``horizon`` is counted in, by time unit (stated in the model's metadata).
_UNIT_NAMES = {"D": "days", "W": "weeks"}

_SUMMARY_COLUMNS = {
    "holdout_rmse_spend": "rmse_spend",
    "holdout_mae_spend": "mae_spend",
    "holdout_gini_spend": "gini_spend",
    "holdout_total_spend_ratio": "spend_ratio",
    "holdout_mae_purchases": "mae_purchases",
    "holdout_auc_churn": "auc_churn",
    "holdout_brier_churn": "brier_churn",
}

#: Settings a --config file may hold (the keyword arguments of :func:`train`, and
#: ``date_format``, the format of the log's timestamps, used when reading the file).
CONFIG_KEYS = (
    *TRAINING_SETTINGS,  # checked up front by clv.training.preflight
    "date_format",
    "invoice",
    "missing_customer_id",
    "negative_amounts",
    "duplicates",
    "segments",
)


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
        from clv.training.compare import _DISPLAY

        columns = [name for name in _SUMMARY_COLUMNS if name in self.comparison.columns]
        table = self.comparison[columns].rename(columns=_SUMMARY_COLUMNS)
        # One precision per metric, as in the comparison table and the report.
        formats = {_SUMMARY_COLUMNS[name]: _DISPLAY[name][1].format for name in columns}
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


def load_config(path: str | Path) -> dict[str, Any]:
    """Read training settings from a TOML or JSON file.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.toml`` or ``.json`` file whose keys are among :data:`CONFIG_KEYS`
        (a TOML file may also put them in a ``[train]`` table).

    Returns
    -------
    dict
        The settings, ready to pass to :func:`train` as keyword arguments.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    clv.errors.InvalidParameterError
        If the file cannot be parsed or holds an unknown key.
    """
    import json

    location = Path(path)
    if not location.exists():
        raise FileNotFoundError(f"No such config file: {location}")
    text = location.read_text(encoding="utf-8")
    try:
        if location.suffix.lower() == ".json":
            settings = json.loads(text)
        else:
            try:
                import tomllib
            except ModuleNotFoundError:  # pragma: no cover - Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            settings = tomllib.loads(text)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise InvalidParameterError(f"Cannot parse the config file {location}: {first}") from exc
    if not isinstance(settings, dict):
        raise InvalidParameterError(f"The config file {location} must hold a table of settings.")
    if isinstance(settings.get("train"), dict):
        settings = settings["train"]
    unknown = sorted(set(settings) - set(CONFIG_KEYS))
    if unknown:
        raise InvalidParameterError(
            f"Unknown setting(s) {', '.join(map(repr, unknown))} in {location}; "
            f"known: {', '.join(CONFIG_KEYS)}."
        )
    for key in ("calibration_end", "holdout_end"):
        if key in settings:
            settings[key] = str(settings[key])
    return dict(settings)


def _zero_spend_line(candidate: Any) -> str | None:
    """Describe the Gamma-Gamma exclusions of a fitted candidate in one line (None if none)."""
    excluded = getattr(getattr(candidate, "spend_model_", None), "n_zero_spend_excluded_", 0)
    if not excluded:
        return None
    return (
        f"Gamma-Gamma: {excluded:,} customers with repeat purchases but a $0 mean repeat "
        "spend left out of the fit (predicted with the population mean)"
    )


def _comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    if isinstance(table.index, pd.RangeIndex):
        for column in ("model", "kind"):
            if column in table.columns:
                return table.set_index(column)
    return table


def _candidate_plots(predictions: pd.DataFrame, actuals: pd.DataFrame) -> dict[str, Callable]:
    """Holdout plots of one candidate (:mod:`clv.plots`), drawn only when logged."""

    def aligned(column: str) -> pd.Series:
        return predictions[column].reindex(actuals.index)

    def decile() -> Any:
        from clv import plots

        return plots.decile_chart(actuals["holdout_spend"], aligned("expected_spend"))

    def gain() -> Any:
        from clv import plots

        return plots.gain_curve(actuals["holdout_spend"], aligned("expected_spend"))

    def reliability() -> Any:
        from clv import plots

        return plots.churn_reliability_curve(actuals["churned"], aligned("churn_probability"))

    return {
        "spend_deciles.png": decile,
        "spend_gain_curve.png": gain,
        "churn_reliability.png": reliability,
    }


def _comparison_plots(
    predictions: Mapping[str, pd.DataFrame], actuals: pd.DataFrame
) -> dict[str, Callable]:
    """Draw every candidate together, for the parent run."""

    def gain() -> Any:
        from clv import plots

        spend = {
            str(kind): frame["expected_spend"].reindex(actuals.index)
            for kind, frame in predictions.items()
        }
        return plots.gain_curve(actuals["holdout_spend"], spend, title="Gain curve, all models")

    return {"gain_curve_all_models.png": gain}


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

    def draw() -> Any:
        from clv.plots import holdout_count_histogram

        return holdout_count_histogram(histogram, measures, title=f"{kind}: holdout purchases")

    tracking.log_figure(draw, "holdout_count_histogram.png", warn=progress)


def _log_cohorts(transactions: pd.DataFrame, observation_end: object, progress) -> None:
    """Log the monthly cohort table (clv.features.cohorts) and its active-rate heatmap."""
    import mlflow

    from clv.features.cohorts import cohort_table
    from clv.training import tracking

    table = cohort_table(transactions, period="M", observation_end=observation_end)
    mlflow.log_text(table.to_csv(), "cohorts.csv")

    def draw() -> Any:
        from clv.plots import cohort_heatmap

        return cohort_heatmap(table, "active_rate")

    tracking.log_figure(draw, "cohort_active_rate.png", warn=progress)


def _log_decisions(candidate, features, predictions, rules, actions, settings):
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


def _clv_by_segment(segmented: pd.DataFrame) -> Any:
    from clv import plots

    return plots.clv_by_segment(segmented)


def _clv_version() -> str:
    try:
        return importlib.metadata.version("clv")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown"


def _refit(kind: str, fitted: Any, transactions: pd.DataFrame, as_of: str, time_unit: str) -> Any:
    from clv.candidates import make_candidate

    get_params = getattr(fitted, "get_params", None)
    params = dict(get_params(deep=False)) if callable(get_params) else {}
    candidate = make_candidate(kind, **params)
    return candidate.fit_transactions(transactions, as_of=as_of, time_unit=time_unit)


def train(
    transactions: pd.DataFrame,
    *,
    calibration_end: object,
    holdout_end: object,
    time_unit: str = "W",
    tracking_uri: str | None = None,
    experiment: str = "clv",
    model_name: str = "clv",
    kinds: Sequence[str] | None = None,
    horizon: float | None = None,
    discount_rate: float = 0.0,
    margin: float = 1.0,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str = AMOUNT,
    invoice: str | None = None,
    missing_customer_id: str = "raise",
    negative_amounts: str = "raise",
    duplicates: str = "keep",
    source: str | None = None,
    progress: Progress | None = None,
    segments: Mapping[str, Any] | None = None,
) -> TrainingResult:
    """Train every candidate, track the runs, register the best one and gate it.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The transaction log (customer id, timestamp, amount).
    calibration_end : date-like
        Last day (inclusive) of the calibration period the candidates learn from.
    holdout_end : date-like
        Last day (inclusive) of the holdout period they are judged on; the chosen
        candidate is then refitted on everything up to this day (see the module
        docstring for why).
    time_unit : {"D", "W"}, default "W"
        Unit of every duration, of ``horizon``, and of the model.
    tracking_uri : str, optional
        MLflow tracking URI; the embedded ``sqlite:///mlflow.db`` by default.
    experiment : str, default "clv"
        MLflow experiment name (created if needed).
    model_name : str, default "clv"
        Registered model name.
    kinds : sequence of str, optional
        Candidate kinds to compare (default: all of them).
    horizon : float, optional
        Default prediction horizon of the served model, in ``time_unit``; the
        holdout length by default.
    discount_rate : float, default 0.0
        Default annual discount rate of the served model.
    margin : float, default 1.0
        Default share of spend that is profit, in [0, 1], of the served model and
        of the segment thresholds: 1 makes its ``clv`` revenue, less makes it profit
        (:mod:`clv.mlflow_model.margin`).
    customer_id, timestamp, amount : str
        The log's column names.
    invoice, missing_customer_id, negative_amounts, duplicates
        The data policies (:func:`clv.features.clean_transactions`), applied once to
        the log; what they dropped or netted is reported through ``progress``, as
        :class:`~clv.errors.DataPolicyWarning` and in the result's ``data_report``.
    source : str, optional
        Where the log came from (a path), recorded with the dataset.
    progress : callable, optional
        Called with one line of text at each step.
    segments : mapping, optional
        Segment thresholds and actions (``high_share``, ``medium_share``,
        ``churn_threshold``, ``actions``; :func:`clv.models.actions.segment_settings`),
        saved with the model so that `clv score` and the endpoint give each customer's
        action; the defaults when omitted.

    Returns
    -------
    TrainingResult

    Raises
    ------
    clv.errors.InvalidDataError
        If the log breaks the transaction contract.
    clv.errors.InvalidParameterError
        If a date, the time unit, the horizon, the discount rate or the margin is
        invalid.
    """
    from clv.models.actions import segment_settings

    segment_rules, segment_actions = segment_settings(segments)  # checked before any work
    import mlflow

    from clv.mlflow_model.signature import build_signature
    from clv.training import registry, tracking
    from clv.training.compare import compare_models, comparison_table
    from clv.training.selection import PRIMARY_METRIC

    settings = check_training_settings(
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        tracking_uri=tracking_uri,
        experiment=experiment,
        model_name=model_name,
        kinds=kinds,
        horizon=horizon,
        discount_rate=discount_rate,
        customer_id=customer_id,
        timestamp=timestamp,
        amount=amount,
    )
    calibration_text, holdout_text = settings.calibration_text, settings.holdout_text
    holdout_length, horizon, uri = settings.holdout_length, settings.horizon, settings.tracking_uri
    margin = check_margin(margin)
    from clv.features.cleaning import clean_transactions

    policies = {
        "invoice": invoice,
        "missing_customer_id": missing_customer_id,
        "negative_amounts": negative_amounts,
        "duplicates": duplicates,
    }
    cleaned = clean_transactions(
        transactions, customer_id=customer_id, timestamp=timestamp, amount=amount, **policies
    )
    canonical = cleaned.transactions
    check_enough_customers(canonical, calibration_end)
    data_lines = [cleaned.report.line()]
    _notify(progress, data_lines[0])
    digest = tracking.dataset_digest(canonical)
    holdout_tag = registry.holdout_tag(
        digest=digest,
        calibration_end=calibration_text,
        holdout_end=holdout_text,
        time_unit=time_unit,
    )
    _notify(
        progress,
        f"{len(canonical):,} transactions; comparing models on calibration to "
        f"{calibration_text}, holdout to {holdout_text} ({holdout_length:g} {time_unit})",
    )
    comparison = compare_models(
        canonical,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        kinds=settings.kinds,
        progress=progress,
    )
    table = _comparison_table(comparison.table)
    best = str(comparison.best)
    best_metrics = {str(k): v for k, v in table.loc[best].items()}
    _notify(progress, f"compared {len(table)} models; best: {best}")

    experiment_id = tracking.ensure_experiment(experiment, uri)
    child_runs: dict[str, str] = {}
    with tracking.tracking_store(uri), failing_unfinished(experiment_id, uri) as run_ids:
        started = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{started}") as parent:
            run_ids.append(parent.info.run_id)
            mlflow.log_params(
                {
                    "calibration_end": calibration_text,
                    "holdout_end": holdout_text,
                    "time_unit": time_unit,
                    "horizon": horizon,
                    "discount_rate": discount_rate,
                    "margin": margin,
                    "kinds": ",".join(map(str, table.index)),
                    "model_name": model_name,
                    "n_transactions": len(canonical),
                    "n_customers": len(comparison.actuals),
                    "dataset_digest": digest,
                    "gate_metric": PRIMARY_METRIC,
                    **{f"policy.{k}": v for k, v in policies.items()},
                    **{f"data.{k}": v for k, v in cleaned.report.as_dict().items()},
                }
            )
            mlflow.log_params(
                {
                    f"package.{name}": version
                    for name, version in tracking.package_versions().items()
                }
            )
            tracking.log_dataset(canonical, name="transactions", source=source, digest=digest)
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
                            plots=_candidate_plots(
                                comparison.predictions[kind], comparison.actuals
                            ),
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
                    for name, value in best_metrics.items()
                    if isinstance(value, int | float) and math.isfinite(float(value))
                }
            )

            with step(
                progress,
                f"refitting {best} on all data up to {holdout_text}",
                f"refitted {best}",
            ):
                candidate = _refit(best, comparison.fitted[best], canonical, holdout_end, time_unit)
            zero_spend = _zero_spend_line(candidate)
            if zero_spend is not None:
                data_lines.append(zero_spend)
                _notify(progress, zero_spend)
            from sklearn.base import clone

            from clv.features.behaviour import FEATURE_COLUMNS, customer_features

            with step(
                progress,
                f"scoring every customer as of {holdout_text}: segments, decision tables",
                "segments and decision tables logged",
            ):
                features = customer_features(canonical, as_of=holdout_end, time_unit=time_unit)
                revenue = candidate.predict(
                    features, horizon=float(horizon), discount_rate=float(discount_rate)
                )
                predictions = revenue.assign(clv=apply_margin(revenue["clv"].to_numpy(), margin))
                rules = clone(segment_rules).fit(predictions)
                # The segment summary of every customer as of the holdout end (for
                # `clv report`), and its plot.
                from clv.models.segments import segment_summary

                segmented = predictions.assign(segment=rules.assign(predictions))
                mlflow.log_text(segment_summary(segmented).to_csv(), "segment_summary.csv")
                _log_decisions(
                    candidate,
                    features,
                    predictions,
                    rules,
                    segment_actions,
                    (horizon, margin, discount_rate),
                )
                tracking.log_figure(
                    lambda: _clv_by_segment(segmented), "clv_by_segment.png", warn=progress
                )
            used = getattr(candidate, "input_columns", None) or features.columns
            required = [str(name) for name in features.columns if name in set(used)]
            categorical = [
                name
                for name in features.columns
                if name != CUSTOMER_ID and not pd.api.types.is_numeric_dtype(features[name])
            ]
            metadata = {
                "clv_version": _clv_version(),
                "kind": best,
                "time_unit": time_unit,
                "calibration_end": calibration_text,
                "holdout_end": holdout_text,
                "trained_until": holdout_text,
                "horizon": float(horizon),
                "discount_rate": float(discount_rate),
                "margin": margin,
                "clv_basis": value_basis(margin),
                "horizon_unit": _UNIT_NAMES.get(time_unit, time_unit),
                # The columns this kind reads (the signature asks for these; any
                # other column of the feature table is ignored).
                "feature_columns": required,
                "input_columns": list(map(str, features.columns)),
                "categorical_columns": categorical,
                "nonnegative_columns": [
                    name for name in FEATURE_COLUMNS[1:] if name != "trend" and name in features
                ],
                "gate_metric": PRIMARY_METRIC,
                "holdout_metrics": best_metrics,
                "n_customers": len(features),
                "dataset_digest": digest,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
            example = features[required].head(5).reset_index(drop=True)
            signature = build_signature(
                example,
                required=required,
                categorical=categorical,
                horizon=horizon,
                discount_rate=discount_rate,
                margin=margin,
            )
            with (
                step(progress, "logging the pyfunc model", "logged the pyfunc model"),
                tempfile.TemporaryDirectory() as folder,
            ):
                candidate_dir = Path(folder) / "candidate"
                candidate.save(candidate_dir)
                info = tracking.log_pyfunc_model(
                    candidate_dir=candidate_dir,
                    segments={**rules.to_dict(), "actions": segment_actions},
                    metadata=metadata,
                    input_example=example,
                    signature=signature,
                )
            version = registry.register_version(
                info.model_uri,
                model_name,
                tracking_uri=uri,
                kind=best,
                holdout=holdout_tag,
                metrics=best_metrics,
                run_id=parent.info.run_id,
            )
            _notify(progress, f"registered {model_name} version {version} (alias challenger)")
            decision = registry.apply_gate(
                model_name,
                version,
                tracking_uri=uri,
                metrics=best_metrics,
                holdout=holdout_tag,
                reevaluate=lambda champion: _reevaluate_champion(
                    champion,
                    model_name=model_name,
                    transactions=canonical,
                    calibration_end=calibration_end,
                    holdout_end=holdout_end,
                    actuals=comparison.actuals,
                ),
            )
            gate_metrics = {"gate.challenger_score": decision.challenger_score}
            if decision.champion_score is not None:
                gate_metrics["gate.champion_score"] = decision.champion_score
            mlflow.log_metrics(
                {k: float(v) for k, v in gate_metrics.items() if math.isfinite(float(v))}
            )
            mlflow.set_tags(
                {
                    "clv.registered_model": model_name,
                    "clv.registered_version": version,
                    "clv.gate_decision": "promoted" if decision.promoted else "kept",
                    "clv.gate_reason": decision.reason,
                    "clv.previous_champion": decision.champion_version or "none",
                }
            )
            _notify(progress, decision.reason)
    current = registry.aliases(model_name, tracking_uri=uri)
    return TrainingResult(
        tracking_uri=uri,
        experiment_id=str(experiment_id),
        parent_run_id=parent.info.run_id,
        child_run_ids=child_runs,
        best_model=best,
        model_uri=info.model_uri,
        model_name=model_name,
        version=version,
        aliases=current,
        decision=decision,
        comparison=table,
        margin=margin,
        data_lines=tuple(data_lines),
    )


def _reevaluate_champion(
    champion: Any,
    *,
    model_name: str,
    transactions: pd.DataFrame,
    calibration_end: object,
    holdout_end: object,
    actuals: pd.DataFrame,
) -> Mapping[str, float] | None:
    """Return the champion's metrics on this holdout, or ``None`` if it saw the holdout.

    Used when the champion was evaluated on another holdout (other data or dates):
    the champion model itself predicts from the features as of ``calibration_end``
    and is judged on this holdout -- fair only when it was trained on data that
    ends no later than ``calibration_end``.
    """
    import mlflow

    from clv.features.behaviour import customer_features
    from clv.training.evaluation import evaluate_predictions

    model = mlflow.pyfunc.load_model(f"models:/{model_name}/{champion.version}")
    metadata = model.unwrap_python_model().metadata
    trained_until = to_day_number(metadata["trained_until"], "trained_until")
    if trained_until > to_day_number(calibration_end, "calibration_end"):
        return None
    unit = metadata["time_unit"]
    length = (
        to_day_number(holdout_end, "holdout_end")
        - to_day_number(calibration_end, "calibration_end")
    ) / check_time_unit(unit)
    features = customer_features(transactions, as_of=calibration_end, time_unit=unit)
    missing = [name for name in metadata["feature_columns"] if name not in features.columns]
    if missing:
        return None
    from clv.mlflow_model.validation import to_model_input

    scored = model.predict(
        to_model_input(features[metadata["feature_columns"]]), params={"horizon": length}
    )
    return evaluate_predictions(scored.set_index(CUSTOMER_ID), actuals)
