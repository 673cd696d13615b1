"""Judging candidates on the holdout: the actuals table and every metric at once.

:func:`holdout_actuals` tabulates what each customer did in the holdout;
:func:`evaluate_predictions` applies every metric of :mod:`clv.metrics` to a
candidate's prediction table (``clv.candidates.PREDICTION_COLUMNS``) and
returns them under :data:`METRIC_NAMES`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from clv import metrics
from clv._validation import require_columns
from clv.errors import InvalidDataError, describe_examples

__all__ = ["ACTUAL_COLUMNS", "METRIC_NAMES", "evaluate_predictions", "holdout_actuals"]

#: Columns of the holdout actuals table (indexed by ``customer_id``).
ACTUAL_COLUMNS: tuple[str, ...] = ("holdout_purchases", "holdout_spend", "churned")

#: The metrics :func:`evaluate_predictions` returns, in this order.
METRIC_NAMES: tuple[str, ...] = (
    "holdout_mae_purchases",
    "holdout_rmse_purchases",
    "holdout_mae_spend",
    "holdout_rmse_spend",
    "holdout_gini_spend",
    "holdout_spearman_spend",
    "holdout_decile_mape_spend",
    "holdout_auc_churn",
    "holdout_brier_churn",
    "holdout_total_spend_ratio",
    "holdout_total_purchases_ratio",
)

_NEEDED_PREDICTIONS = ("expected_purchases", "expected_spend", "churn_probability")


def holdout_actuals(split: pd.DataFrame) -> pd.DataFrame:
    """Tabulate what each customer did in the holdout, from a calibration/holdout table.

    Parameters
    ----------
    split : pandas.DataFrame
        Output of :func:`clv.features.calibration_holdout_split` (with amounts).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``, columns :data:`ACTUAL_COLUMNS`:
        ``holdout_purchases`` (``holdout_frequency``), ``holdout_spend`` (total spend
        in the holdout, ``holdout_frequency * holdout_monetary_value``) and
        ``churned`` (bool: no purchase in the holdout). ``attrs`` keeps
        ``time_unit`` and ``holdout_duration``.
    """
    require_columns(
        split,
        ("customer_id", "holdout_frequency", "holdout_monetary_value"),
        "The calibration/holdout table",
        " (build it with clv.features.calibration_holdout_split on a log with amounts)",
    )
    purchases = split["holdout_frequency"].to_numpy(dtype=np.float64)
    spend = purchases * split["holdout_monetary_value"].to_numpy(dtype=np.float64)
    actuals = pd.DataFrame(
        {
            "holdout_purchases": purchases,
            "holdout_spend": spend,
            "churned": purchases == 0,
        },
        index=pd.Index(split["customer_id"].to_numpy(), name="customer_id"),
    )
    actuals.attrs["time_unit"] = split.attrs.get("time_unit")
    if "holdout_duration" in split.columns and len(split):
        actuals.attrs["holdout_duration"] = float(split["holdout_duration"].iloc[0])
    return actuals


def _aligned(predictions: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    for frame, name, columns in (
        (predictions, "predictions", _NEEDED_PREDICTIONS),
        (actuals, "actuals", ACTUAL_COLUMNS),
    ):
        if not isinstance(frame, pd.DataFrame):
            raise InvalidDataError(
                f"'{name}' must be a pandas DataFrame; got {type(frame).__name__}."
            )
        require_columns(frame, columns, f"'{name}'")
        if frame.index.has_duplicates:
            duplicated = frame.index[frame.index.duplicated()].unique()
            raise InvalidDataError(
                f"'{name}' has {len(duplicated)} duplicated customer id(s) "
                f"({describe_examples(duplicated)})."
            )
    if len(actuals) == 0:
        raise InvalidDataError("'actuals' has no rows: there is nothing to evaluate.")
    absent = actuals.index.difference(predictions.index, sort=False)
    if len(absent):
        raise InvalidDataError(
            f"{len(absent)} customers of the holdout have no prediction "
            f"({describe_examples(absent)}); predict on the same customer table."
        )
    return predictions.loc[actuals.index, list(_NEEDED_PREDICTIONS)]


def evaluate_predictions(predictions: pd.DataFrame, actuals: pd.DataFrame) -> dict[str, float]:
    """All holdout metrics of one model's predictions.

    Parameters
    ----------
    predictions : pandas.DataFrame
        A candidate's prediction table, indexed by ``customer_id``, with at least
        ``expected_purchases``, ``expected_spend`` (total over the holdout length)
        and ``churn_probability`` (no purchase over the holdout length). Customers
        not in ``actuals`` are ignored.
    actuals : pandas.DataFrame
        Indexed by ``customer_id`` with :data:`ACTUAL_COLUMNS`, as built by
        :func:`holdout_actuals`.

    Returns
    -------
    dict of str to float
        Exactly :data:`METRIC_NAMES`, in that order:
        MAE and RMSE of purchases and of spend, the normalized Gini, Spearman and
        decile MAPE of spend, the churn AUC and Brier score, and the calibration of
        total spend and total purchases (predicted / actual).

    Raises
    ------
    clv.errors.InvalidDataError
        If a column is missing, ids are duplicated, a holdout customer has no
        prediction, or a value is missing or out of range.
    """
    predicted = _aligned(predictions, actuals)
    purchases = actuals["holdout_purchases"].to_numpy(dtype=np.float64)
    spend = actuals["holdout_spend"].to_numpy(dtype=np.float64)
    churned = actuals["churned"].to_numpy(dtype=np.float64)
    expected_purchases = predicted["expected_purchases"].to_numpy(dtype=np.float64)
    expected_spend = predicted["expected_spend"].to_numpy(dtype=np.float64)
    churn_probability = predicted["churn_probability"].to_numpy(dtype=np.float64)
    values: Mapping[str, float] = {
        "holdout_mae_purchases": metrics.mae(purchases, expected_purchases),
        "holdout_rmse_purchases": metrics.rmse(purchases, expected_purchases),
        "holdout_mae_spend": metrics.mae(spend, expected_spend),
        "holdout_rmse_spend": metrics.rmse(spend, expected_spend),
        "holdout_gini_spend": metrics.normalized_gini(spend, expected_spend),
        "holdout_spearman_spend": metrics.spearman(spend, expected_spend),
        "holdout_decile_mape_spend": metrics.decile_mape(spend, expected_spend),
        "holdout_auc_churn": metrics.auc(churned, churn_probability),
        "holdout_brier_churn": metrics.brier(churned, churn_probability),
        "holdout_total_spend_ratio": metrics.calibration_of_totals(spend, expected_spend),
        "holdout_total_purchases_ratio": metrics.calibration_of_totals(
            purchases, expected_purchases
        ),
    }
    return {name: float(values[name]) for name in METRIC_NAMES}
