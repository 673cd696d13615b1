"""Score a transaction log or a feature table with a loaded clv pyfunc.

Used by batch scoring (:mod:`clv.serving.batch`, :mod:`clv.serving.spark`) and by the
report (:mod:`clv.training.report`), so neither reaches into the other:
:func:`score_transactions` builds each customer's features as of a date
(:func:`clv.features.behaviour.customer_features`, the definitions the model was trained
with; ``rfm_only`` when the model reads nothing else: the same columns in 0.4x the
time) and scores them (:func:`clv.mlflow_model.table_scoring.predict_table`);
:func:`clv_metadata` and :func:`model_feature_columns` read what a loaded model needs.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd

from clv.errors import InvalidDataError, ModelLoadError
from clv.features._contract import AMOUNT, CUSTOMER_ID, TIMESTAMP
from clv.mlflow_model.intervals import INTERVAL, check_model_interval
from clv.mlflow_model.margin import scoring_margin
from clv.mlflow_model.table_scoring import predict_table
from clv.mlflow_model.validation import to_model_input

__all__ = ["clv_metadata", "model_feature_columns", "model_params", "score_transactions"]


def clv_metadata(model: Any) -> dict[str, Any]:
    """Return a loaded clv pyfunc's metadata (time unit, feature columns, defaults).

    Raises
    ------
    clv.errors.ModelLoadError
        If the model is not a clv model.
    """
    try:
        metadata = model.unwrap_python_model().metadata
    except Exception as error:  # noqa: BLE001 - any pyfunc that is not clv's
        raise ModelLoadError(
            "The model is not a clv model (no clv metadata); score it with MLflow directly."
        ) from error
    if not isinstance(metadata, dict) or "feature_columns" not in metadata:
        raise ModelLoadError("The model is not a clv model (no clv metadata).")
    return metadata


def model_feature_columns(metadata: dict[str, Any], available: list[str]) -> list[str]:
    """Return ``metadata["feature_columns"]``; raise if ``available`` lacks one (an attribute)."""
    columns = list(metadata["feature_columns"])
    missing = [name for name in columns if name not in available]
    if missing:
        raise InvalidDataError(
            f"The model needs customer attribute column(s) {', '.join(map(repr, missing))} "
            "that batch scoring of a transaction log does not build."
        )
    return columns


def model_params(
    metadata: dict[str, Any],
    horizon: float,
    discount_rate: float | None,
    margin: float,
    interval: float | None,
) -> dict[str, float]:
    """Return the pyfunc params of one scoring call (``margin`` if the model has one)."""
    params: dict[str, float] = {"horizon": float(horizon)}
    if discount_rate is not None:
        params["discount_rate"] = float(discount_rate)
    if "margin" in metadata:
        params["margin"] = margin
    if interval is not None:
        params[INTERVAL] = interval
    return params


def score_transactions(
    transactions: pd.DataFrame,
    *,
    model: Any,
    as_of: object,
    horizon: float,
    discount_rate: float | None = None,
    margin: float | None = None,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str = AMOUNT,
    invoice: str | None = None,
    missing_customer_id: str = "raise",
    negative_amounts: str = "raise",
    duplicates: str = "keep",
    warn: bool = True,
    interval: float | None = None,
) -> pd.DataFrame:
    """Score every customer of an in-memory transaction log with a loaded clv pyfunc.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The log, with the caller's column names.
    model : mlflow.pyfunc.PyFuncModel
        A loaded clv model (``mlflow.pyfunc.load_model``).
    as_of : date-like
        Features are built from transactions up to this day (inclusive).
    horizon : float
        Prediction horizon, in the model's time unit.
    discount_rate : float, optional
        Annual discount rate; the model's default if omitted.
    margin : float, optional
        Share of spend that is profit, in [0, 1]; the model's default if omitted.
    customer_id, timestamp, amount : str
        The log's column names.
    invoice, missing_customer_id, negative_amounts, duplicates
        The data policies, applied to the log first
        (:func:`clv.features.clean_transactions`).
    warn : bool, default True
        Emit a :class:`~clv.errors.DataPolicyWarning` for what the policies did.
    interval : float, optional
        A level in (0, 1): add the prediction interval columns
        (:mod:`clv.mlflow_model.intervals`).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, the predictions, ``margin`` and ``segment``, one row per customer
        with a transaction on or before ``as_of``, sorted by customer id;
        ``attrs["data_report"]`` holds the counts of the
        :class:`~clv.features.cleaning.PolicyReport` by name.

    Raises
    ------
    clv.errors.InvalidDataError
        If the log breaks the transaction contract or no customer is observed by
        ``as_of``.
    """
    from clv.features._policies import DEFAULT_POLICIES, PolicyReport, data_policies
    from clv.features.behaviour import RFM_COLUMNS, customer_features
    from clv.features.cleaning import clean_transactions

    metadata = clv_metadata(model)
    margin = scoring_margin(metadata, margin)
    policies = data_policies(invoice, missing_customer_id, negative_amounts, duplicates)
    names = {"customer_id": customer_id, "timestamp": timestamp, "amount": amount}
    build = partial(
        customer_features,
        as_of=as_of,
        time_unit=metadata["time_unit"],
        rfm_only=set(metadata["feature_columns"]) <= {CUSTOMER_ID, *RFM_COLUMNS},
    )
    if policies == DEFAULT_POLICIES:
        # Nothing to drop or net: the features validate the log themselves (one pass
        # instead of two: cleaning 2M rows costs about half of building their features).
        features = build(transactions, **names)
        amounts = pd.to_numeric(transactions[amount], errors="coerce")
        report = PolicyReport(rows=len(transactions), zero_amount_rows=int((amounts == 0).sum()))
    else:
        cleaned = clean_transactions(transactions, warn=warn, **names, **policies)  # type: ignore[arg-type]
        report = cleaned.report
        features = build(cleaned.transactions)
    columns = model_feature_columns(metadata, list(features.columns))
    level = None if interval is None else check_model_interval(model, interval)
    params = model_params(metadata, horizon, discount_rate, margin, level)
    from mlflow.exceptions import MlflowException

    try:  # the model's own checks, without MLflow's per-value loop (table_scoring)
        scores = predict_table(model, to_model_input(features[columns]), params)
    except MlflowException as error:
        first = str(error.message).strip().splitlines()[0][:200]
        raise InvalidDataError(f"The model refused the customer features: {first}") from error
    if "margin" not in scores.columns:  # a model logged before margins: revenue
        scores.insert(list(scores.columns).index("clv") + 1, "margin", margin)
    scores.attrs["data_report"] = report.as_dict()  # JSON-safe (parquet metadata)
    return scores
