"""One training: compare every model, track it in MLflow, register and gate the winner.

:func:`train` is named steps (DESIGN.md, "MLflow", says why the winner is refitted):
:func:`_read_and_validate`, :func:`_compare`, :func:`clv.training.run_logs.log_comparison`
(one parent run, one child run per candidate), :func:`_refit` (the chosen kind on all
data up to the holdout end), :func:`_segment_customers`,
:func:`clv.training.logged_model.log_model` and
:func:`clv.training.champion.register_and_gate`. The runs are written through
:func:`clv.training.store_client.tracked_run`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from clv.features._contract import AMOUNT, CUSTOMER_ID, TIMESTAMP
from clv.features._policies import data_policies
from clv.features.io import read_transactions
from clv.mlflow_model.margin import apply_margin, check_margin
from clv.training.config import CONFIG_KEYS, load_config
from clv.training.interruption import failing_unfinished
from clv.training.preflight import TrainingSettings, check_enough_customers, check_training_settings
from clv.training.progress import Progress, step
from clv.training.progress import notify as _notify
from clv.training.result import TrainingResult, zero_spend_line

__all__ = ["CONFIG_KEYS", "TrainingResult", "load_config", "read_transactions", "train"]


@dataclass(frozen=True)
class _Inputs:
    """The checked settings and the cleaned log: what every step after the first reads."""

    calibration_end: object
    holdout_end: object
    time_unit: str
    model_name: str
    checked: TrainingSettings  # dates as text, holdout length, horizon, kinds, store
    discount_rate: float
    margin: float
    policies: dict[str, Any]
    cleaned: Any  # clv.features.cleaning.CleanedTransactions
    digest: str
    segment_rules: Any
    segment_actions: Any

    @property
    def canonical(self) -> pd.DataFrame:
        return self.cleaned.transactions


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
        One row per purchase: customer id, timestamp, amount (column names below).
    calibration_end, holdout_end : date-like
        Last days (inclusive) of the calibration period the candidates learn from
        and of the holdout period they are judged on; the chosen candidate is then
        refitted on everything up to ``holdout_end`` (DESIGN.md, "MLflow", says why).
    time_unit : {"D", "W", "M"}, default "W"
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
    inputs = _read_and_validate(
        transactions,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        tracking_uri=tracking_uri,
        experiment=experiment,
        model_name=model_name,
        kinds=kinds,
        horizon=horizon,
        discount_rate=discount_rate,
        margin=margin,
        customer_id=customer_id,
        timestamp=timestamp,
        amount=amount,
        policies=data_policies(invoice, missing_customer_id, negative_amounts, duplicates),
        segments=segments,
    )
    data_lines = [inputs.cleaned.report.line()]
    _notify(progress, data_lines[0])
    comparison, table = _compare(inputs, progress)
    best = str(comparison.best)
    best_metrics = {str(k): v for k, v in table.loc[best].items()}
    from clv.training import registry, tracking
    from clv.training.champion import register_and_gate
    from clv.training.logged_model import log_model
    from clv.training.run_logs import log_comparison
    from clv.training.store_client import tracked_run

    checked, uri = inputs.checked, inputs.checked.tracking_uri
    experiment_id = tracking.ensure_experiment(experiment, uri)
    started = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    with (
        failing_unfinished(experiment_id, uri) as run_ids,
        tracked_run(uri, experiment_id, f"train-{started}") as parent,
    ):
        run_ids.append(parent.run_id)
        child_runs = log_comparison(parent, comparison, inputs, source=source, progress=progress)
        refitting = f"refitting {best} on all data up to {checked.holdout_text}"
        with step(progress, refitting, f"refitted {best}"):
            candidate = _refit(
                best, comparison.fitted[best], inputs.canonical, holdout_end, time_unit
            )
        zero_spend = zero_spend_line(candidate)
        if zero_spend is not None:
            data_lines.append(zero_spend)
            _notify(progress, zero_spend)
        features, rules = _segment_customers(parent, inputs, candidate, progress)
        segments = {**rules.to_dict(), "actions": inputs.segment_actions}
        model_uri = log_model(
            parent,
            candidate,
            features,
            segments,
            progress,
            inputs,
            kind=best,
            holdout_metrics=best_metrics,
        )
        version, decision = register_and_gate(
            parent,
            model_uri,
            inputs,
            kind=best,
            metrics=best_metrics,
            actuals=comparison.actuals,
            progress=progress,
        )
    return TrainingResult(
        tracking_uri=uri,
        experiment_id=str(experiment_id),
        parent_run_id=parent.run_id,
        child_run_ids=child_runs,
        best_model=best,
        model_uri=model_uri,
        model_name=model_name,
        version=version,
        aliases=registry.aliases(model_name, tracking_uri=uri),
        decision=decision,
        comparison=table,
        margin=inputs.margin,
        data_lines=tuple(data_lines),
    )


def _read_and_validate(
    transactions: pd.DataFrame,
    *,
    policies: dict[str, Any],
    segments: Mapping[str, Any] | None,
    margin: float,
    discount_rate: float,
    **settings: Any,
) -> _Inputs:
    """Step 1: check every setting, apply the data policies once, digest the log."""
    from clv.features.cleaning import clean_transactions
    from clv.models.actions import segment_settings
    from clv.training import tracking

    segment_rules, segment_actions = segment_settings(segments)  # checked before any work
    checked = check_training_settings(discount_rate=discount_rate, **settings)
    margin = check_margin(margin)
    columns = {name: settings[name] for name in ("customer_id", "timestamp", "amount")}
    cleaned = clean_transactions(transactions, **columns, **policies)
    check_enough_customers(cleaned.transactions, settings["calibration_end"])
    return _Inputs(
        calibration_end=settings["calibration_end"],
        holdout_end=settings["holdout_end"],
        time_unit=settings["time_unit"],
        model_name=settings["model_name"],
        checked=checked,
        discount_rate=discount_rate,
        margin=margin,
        policies=policies,
        cleaned=cleaned,
        digest=tracking.dataset_digest(cleaned.transactions),
        segment_rules=segment_rules,
        segment_actions=segment_actions,
    )


def _compare(inputs: _Inputs, progress: Progress | None) -> tuple[Any, pd.DataFrame]:
    """Step 2: fit every candidate on the calibration period, judge it on the holdout."""
    from clv.training.compare import compare_models

    checked = inputs.checked
    _notify(
        progress,
        f"{len(inputs.canonical):,} transactions; comparing models on calibration to "
        f"{checked.calibration_text}, holdout to {checked.holdout_text} "
        f"({checked.holdout_length:g} {inputs.time_unit})",
    )
    comparison = compare_models(
        inputs.canonical,
        calibration_end=inputs.calibration_end,
        holdout_end=inputs.holdout_end,
        time_unit=inputs.time_unit,
        kinds=checked.kinds,
        progress=progress,
    )
    _notify(progress, f"compared {len(comparison.table)} models; best: {comparison.best}")
    return comparison, comparison.table  # one row per kind, indexed by kind


def _segment_customers(
    run: Any, inputs: _Inputs, candidate: Any, progress: Progress | None
) -> tuple[pd.DataFrame, Any]:
    """Step 5: score every customer as of the holdout end; fit and log the segments.

    Returns the customers' features and the fitted :class:`~clv.models.segments.SegmentRules`.
    """
    from sklearn.base import clone

    from clv.features.behaviour import customer_features
    from clv.training.run_logs import log_decisions, log_segments

    horizon, discount_rate = inputs.checked.horizon, inputs.discount_rate
    with step(
        progress,
        f"scoring every customer as of {inputs.checked.holdout_text}: segments, decision tables",
        "segments and decision tables logged",
    ):
        features = customer_features(
            inputs.canonical, as_of=inputs.holdout_end, time_unit=inputs.time_unit
        )
        revenue = candidate.predict(
            features, horizon=float(horizon), discount_rate=float(discount_rate)
        )
        predictions = revenue.assign(clv=apply_margin(revenue["clv"].to_numpy(), inputs.margin))
        rules = clone(inputs.segment_rules).fit(predictions)
        log_segments(run, predictions.assign(segment=rules.assign(predictions)), progress)
        log_decisions(
            run,
            candidate,
            features,
            predictions,
            rules,
            inputs.segment_actions,
            (horizon, inputs.margin, discount_rate),
        )
    return features, rules


def _refit(kind: str, fitted: Any, transactions: pd.DataFrame, as_of: str, time_unit: str) -> Any:
    """Step 4: fit a new candidate of the chosen kind and hyperparameters up to ``as_of``."""
    from clv.candidates import make_candidate

    get_params = getattr(fitted, "get_params", None)
    params = dict(get_params(deep=False)) if callable(get_params) else {}
    candidate = make_candidate(kind, **params)
    return candidate.fit_transactions(transactions, as_of=as_of, time_unit=time_unit)
