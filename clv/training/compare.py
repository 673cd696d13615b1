"""Every candidate model on one holdout, side by side.

:func:`compare_models` is the honest comparison of issue 4: each kind of model learns
from the transactions up to ``calibration_end`` only, predicts each customer's
purchases, spend and churn over the holdout (``calibration_end``, ``holdout_end``],
and is scored against what the customers actually did there with
:func:`clv.training.evaluation.evaluate_predictions`. The winner is chosen by
:func:`clv.training.selection.select_best` (a primary metric with guards).

:func:`comparison_table` formats the result as a Markdown table for the README.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from clv.errors import CLVWarning, InvalidDataError, InvalidParameterError
from clv.features import calibration_holdout_split
from clv.features._options import LogOptions
from clv.training.evaluation import METRIC_NAMES, evaluate_predictions, holdout_actuals
from clv.training.progress import step
from clv.training.selection import eligibility, select_best

__all__ = ["ComparisonResult", "compare_models", "comparison_table"]

_BOOSTED_KINDS = ("boosted", "hybrid")


@dataclass(frozen=True)
class ComparisonResult:
    """What :func:`compare_models` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per kind (index ``model``, in the order compared); the columns are
        :data:`clv.training.evaluation.METRIC_NAMES`.
    predictions : dict of str to pandas.DataFrame
        Each kind's holdout predictions (``PREDICTION_COLUMNS``), indexed by
        ``customer_id``.
    actuals : pandas.DataFrame
        What each customer did in the holdout
        (:func:`clv.training.evaluation.holdout_actuals`).
    fitted : dict of str to Candidate
        The fitted candidates (learnt up to ``calibration_end``).
    best : str
        The selected kind.
    horizon : float
        Holdout length in ``time_unit`` (the prediction horizon).
    time_unit : str
        Unit of every duration.
    eligibility : pandas.DataFrame
        The selection guards' verdict per kind (:func:`clv.training.selection.eligibility`).
    features : pandas.DataFrame
        The customer feature table as of ``calibration_end`` that every kind predicted from.
    """

    table: pd.DataFrame
    predictions: dict[str, pd.DataFrame]
    actuals: pd.DataFrame
    fitted: dict[str, Any]
    best: str
    horizon: float = math.nan
    time_unit: str = "W"
    eligibility: pd.DataFrame = field(default_factory=pd.DataFrame)
    features: pd.DataFrame = field(default_factory=pd.DataFrame)


def checked_kinds(kinds: Iterable[str] | None) -> list[str]:
    from clv.candidates import KINDS

    if kinds is None:
        chosen = list(KINDS)
        if importlib.util.find_spec("xgboost") is None:
            warnings.warn(
                "XGBoost is not installed (pip install 'clv[boost]'): comparing without "
                "the 'boosted' and 'hybrid' models.",
                CLVWarning,
                stacklevel=3,
            )
            chosen = [kind for kind in chosen if kind not in _BOOSTED_KINDS]
        return chosen
    if isinstance(kinds, str):
        kinds = [kinds]
    chosen = list(dict.fromkeys(kinds))
    unknown = [kind for kind in chosen if kind not in KINDS]
    if unknown:
        raise InvalidParameterError(
            f"Unknown model kind(s) {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join(KINDS)}."
        )
    if not chosen:
        raise InvalidParameterError("The 'kinds' parameter names no model to compare.")
    return chosen


def compare_models(
    transactions: pd.DataFrame,
    *,
    calibration_end: object,
    holdout_end: object,
    time_unit: str = "W",
    kinds: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    attributes: pd.DataFrame | None = None,
    discount_rate: float = 0.0,
    margin: float = 1.0,
    customer_id: str = "customer_id",
    timestamp: str = "timestamp",
    amount: str = "amount",
    progress: Callable[[str], None] | None = None,
) -> ComparisonResult:
    """Fit every candidate up to ``calibration_end`` and score it on the holdout.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The transaction log (customer id, timestamp, amount).
    calibration_end : date-like
        Last day the models may see (inclusive).
    holdout_end : date-like
        Last day of the holdout (inclusive); the prediction horizon is the holdout
        length in ``time_unit``.
    time_unit : {"D", "W", "M"}, default "W"
        Unit of every duration.
    kinds : iterable of str, optional
        Candidate kinds to compare, in order (``clv.candidates.KINDS``).
        Default: all of them (without ``boosted`` and ``hybrid``, with a
        :class:`clv.errors.CLVWarning`, when XGBoost is not installed).
    params : mapping of str to mapping, optional
        Hyperparameters per kind, e.g. ``{"boosted": {"n_estimators": 200}}``.
    attributes : pandas.DataFrame, optional
        Static per-customer columns for the behavioural features (see
        :func:`clv.features.customer_features`).
    discount_rate : float, default 0.0
        Annual discount rate of the ``clv`` prediction column (the metrics use the
        undiscounted ``expected_spend``).
    margin : float, default 1.0
        Margin of the ``clv`` prediction column.
    customer_id, timestamp, amount : str
        The caller's column names.
    progress : callable, optional
        Called with one line of text when a step starts and when it ends (with its
        time): the holdout split and features, then each candidate.

    Returns
    -------
    ComparisonResult
        The metric table (one row per kind), predictions, actuals, fitted candidates
        and the selected kind.

    Raises
    ------
    clv.errors.InvalidDataError
        If the log breaks the transaction contract, or no model passes the selection
        guards.
    clv.errors.InvalidParameterError
        For bad dates, an unknown kind or hyperparameter.

    Notes
    -----
    Actuals: ``holdout_purchases`` = purchases in the holdout, ``holdout_spend`` =
    ``holdout_frequency * holdout_monetary_value`` (their total spend), ``churned`` =
    no holdout purchase. Customers whose first purchase falls in the holdout are not
    evaluated (no model knows them at ``calibration_end``).

    Examples
    --------
    >>> from clv.datasets import load_cdnow
    >>> result = compare_models(load_cdnow(), calibration_end="1997-09-30",
    ...                         holdout_end="1998-06-30", kinds=["baseline", "bg_nbd"])
    >>> result.best
    'bg_nbd'
    """
    from clv.candidates import make_candidate
    from clv.features.behaviour import customer_features

    chosen = checked_kinds(kinds)
    params = dict(params or {})
    stray = sorted(set(params) - set(chosen))
    if stray:
        raise InvalidParameterError(
            f"'params' names kind(s) {', '.join(map(repr, stray))} that are not compared "
            f"({', '.join(chosen)})."
        )
    # Validated once here; the split, the features and every candidate take it as is.
    log = LogOptions(customer_id, timestamp, amount).prepare(transactions, require_amount=True)
    with step(progress, "building the holdout split and features", "holdout and features"):
        split = calibration_holdout_split(
            log, calibration_end=calibration_end, holdout_end=holdout_end, time_unit=time_unit
        )
        actuals = holdout_actuals(split)
        horizon = float(split["holdout_duration"].iloc[0])
        features = customer_features(
            log, as_of=calibration_end, time_unit=time_unit, attributes=attributes
        )

    # Predictions keep the features' index; the comparison keys them by customer.
    customer_index = pd.Index(features["customer_id"].to_numpy(), name="customer_id")
    predictions: dict[str, pd.DataFrame] = {}
    fitted: dict[str, Any] = {}
    rows: dict[str, dict[str, float]] = {}
    spend_label, spend_format = DISPLAY["holdout_rmse_spend"]
    for number, kind in enumerate(chosen, start=1):
        label = f"[{number}/{len(chosen)}] {kind}"
        with step(progress, f"{label}: fitting", f"{label}: fitted and scored") as note:
            candidate = make_candidate(kind, **dict(params.get(kind, {})))
            options = {"attributes": attributes} if attributes is not None else {}
            candidate.fit_transactions(log, as_of=calibration_end, time_unit=time_unit, **options)
            predicted = candidate.predict(
                features, horizon=horizon, discount_rate=discount_rate, margin=margin
            ).set_axis(customer_index)
            fitted[kind], predictions[kind] = candidate, predicted
            rows[kind] = evaluate_predictions(predicted, actuals)
            rmse = rows[kind].get("holdout_rmse_spend", math.nan)
            note["detail"] = f"; holdout {spend_label} {spend_format.format(rmse)}"

    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(METRIC_NAMES))
    table.index.name = "model"
    verdict = eligibility(table)
    return ComparisonResult(
        table=table,
        predictions=predictions,
        actuals=actuals,
        fitted=fitted,
        best=select_best(table),
        horizon=horizon,
        time_unit=time_unit,
        eligibility=verdict,
        features=features,
    )


# ---------------------------------------------------------------------------------------
# the Markdown table
# ---------------------------------------------------------------------------------------

#: Column headers and number formats of :func:`comparison_table`.
DISPLAY: dict[str, tuple[str, str]] = {
    "holdout_mae_purchases": ("MAE purchases", "{:.3f}"),
    "holdout_rmse_purchases": ("RMSE purchases", "{:.3f}"),
    "holdout_mae_spend": ("MAE spend", "{:.2f}"),
    "holdout_rmse_spend": ("RMSE spend", "{:.2f}"),
    "holdout_gini_spend": ("Gini spend", "{:.3f}"),
    "holdout_spearman_spend": ("Spearman spend", "{:.3f}"),
    "holdout_decile_mape_spend": ("Decile MAPE spend", "{:.3f}"),
    "holdout_auc_churn": ("AUC churn", "{:.3f}"),
    "holdout_brier_churn": ("Brier churn", "{:.3f}"),
    "holdout_total_spend_ratio": ("Total spend ratio", "{:.3f}"),
    "holdout_total_purchases_ratio": ("Total purchases ratio", "{:.3f}"),
}


def format_number(value: object, pattern: str | Callable[[float], str]) -> str:
    """Format a number by ``pattern`` (format string or function); NaN as n/a, text as is."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "n/a"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return pattern.format(number) if isinstance(pattern, str) else pattern(number)


def comparison_table(
    result: ComparisonResult | pd.DataFrame,
    *,
    best: str | None = None,
    columns: Iterable[str] | None = None,
) -> str:
    """Format a comparison as a Markdown table (GitHub pipe syntax).

    Parameters
    ----------
    result : ComparisonResult or pandas.DataFrame
        A comparison, or its metric table (one row per model, index = model name).
    best : str, optional
        Model to mark "(selected)"; default ``result.best`` for a
        :class:`ComparisonResult`, none for a bare table.
    columns : iterable of str, optional
        Metric columns to show, in order; default every metric of
        :data:`clv.training.evaluation.METRIC_NAMES` present in the table.

    Returns
    -------
    str
        The table, one line per model after the header, ending with a newline.
        Missing values show as ``n/a``.
    """
    if isinstance(result, ComparisonResult):
        table = result.table
        best = result.best if best is None else best
    elif isinstance(result, pd.DataFrame):
        table = result
    else:
        raise InvalidDataError(
            "comparison_table needs a ComparisonResult or a metric DataFrame; got "
            f"{type(result).__name__}."
        )
    shown = (
        [name for name in METRIC_NAMES if name in table.columns]
        if columns is None
        else list(columns)
    )
    missing = [name for name in shown if name not in table.columns]
    if missing:
        raise InvalidDataError(
            "The table has no column(s) " + ", ".join(repr(name) for name in missing) + "."
        )
    headers = ["Model"] + [DISPLAY.get(name, (name, ""))[0] for name in shown]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|:---|" + "".join("---:|" for _ in shown),
    ]
    for model, row in table.iterrows():
        label = (
            f"{model} (selected)" if best is not None and str(model) == str(best) else str(model)
        )
        cells = [format_number(row[name], DISPLAY.get(name, ("", "{:.4g}"))[1]) for name in shown]
        lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines) + "\n"
