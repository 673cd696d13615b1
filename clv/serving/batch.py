"""Batch scoring: every customer of a transaction file, scored by a registered model.

:func:`score_file` reads a transaction log (CSV or parquet, the caller's column
names mapped as in training), builds each customer's features as of a date with
:func:`clv.features.behaviour.customer_features` -- the definitions the model was
trained with -- scores them with the MLflow pyfunc model and writes one row per
customer: ``customer_id``, ``expected_purchases``, ``probability_alive``,
``churn_probability``, ``expected_spend``, ``clv``, ``segment``, ``model_version``
(the registry version the URI pointed at when scoring started) and ``scored_at``
(UTC, the same for every row). Customers whose first purchase is after ``as_of``
are not scored.

Atomic output
-------------
The output must not be the transaction file itself (by any path: a symlink, a
hard link, ``./x/../x``): that is refused before anything is read or written.
Everything a run writes -- the downloaded model, the bucket files, the scores --
goes into one work folder next to the output, named
``.<output name>.clv-score-<host>-<pid>-<random>``; the scores are renamed over the
output (:func:`os.replace`) only when every customer is scored. A failure --
invalid data, an unknown model, Ctrl-C or SIGTERM (the ``clv`` command turns it
into the same interruption) -- removes the work folder and leaves no new output
(an existing output file is left as it was). A run killed outright (``kill -9``)
cannot clean up: the next run for the same output removes the work folders of
runs on this host whose process no longer exists (``attrs["swept"]`` counts them).

Reading
-------
Files are read by :mod:`clv.features.io`: regular files only,
clear errors for unreadable ones, and text dates parsed with one format for the
whole file (``date_format``, or ISO 8601, or one unambiguous inferred format);
rows that format does not read are counted over the whole file and refused.

Large inputs and the memory bound
---------------------------------
Features need a customer's whole history, so the log is cut by customer, not by
row. A log of at most ``chunk_customers`` rows is scored in memory, in one piece.
A larger one is streamed in two passes:

1. read in batches of ``chunk_customers`` rows (pyarrow for parquet, pandas for
   CSV), keeping only the three contract columns, and hash-partition the rows by
   customer id into ``P`` buckets of (uncompressed Arrow IPC) files in a temporary
   folder next to the output,
   ``P = ceil(rows x customers-per-row / chunk_customers)``, the customers-per-row
   ratio taken from the first batch (exact for a log sorted by customer, an
   overestimate otherwise, so buckets are at most about ``chunk_customers``
   customers; the CSV row count is estimated from the file size);
2. score one bucket at a time and append its rows to the output.

Peak memory is therefore bounded by one batch of ``chunk_customers`` transactions
plus one bucket (about ``chunk_customers`` customers and their transactions) and
its features and predictions -- independent of the size of the log. Output rows
are sorted by customer id within a bucket, not across buckets. Invalid data stops
scoring at the first bucket that holds it; its message counts that bucket's
customers only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clv.errors import InvalidDataError
from clv.features._contract import AMOUNT, CUSTOMER_ID, TIMESTAMP, to_day_number
from clv.features.io import READ_ERRORS, is_parquet, read_error, read_transactions
from clv.mlflow_model.intervals import (
    check_interval,
    check_model_interval,
    output_columns,
)
from clv.mlflow_model.scoring import clv_metadata, score_transactions
from clv.mlflow_model.signature import OUTPUT_COLUMNS as MODEL_OUTPUT_COLUMNS
from clv.serving.output import ScoreWriter, check_paths
from clv.serving.partition import (
    Progress,
    check_parquet_columns,
    csv_header,
    estimate_csv_rows,
    partition_by_customer,
    read_bucket,
)
from clv.serving.workspace import work_folder
from clv.training.preflight import check_columns, check_discount_rate, check_positive

__all__ = ["OUTPUT_COLUMNS", "score_file", "score_transactions"]

#: Columns of the scored output, in order: the model's, then where and when it scored.
OUTPUT_COLUMNS = (*MODEL_OUTPUT_COLUMNS, "model_version", "scored_at")


DEFAULT_CHUNK_CUSTOMERS = 500_000


def check_score_arguments(
    horizon: object,
    discount_rate: object,
    chunk_customers: object,
    as_of: object,
    columns: list[str],
) -> tuple[float, int]:
    """Check :func:`score_file`'s arguments (both engines); return horizon and chunk."""
    horizon = check_positive("horizon", horizon)
    check_discount_rate(discount_rate)
    chunk = int(check_positive("chunk_customers", chunk_customers, integer=True))
    to_day_number(as_of, "as_of")
    check_columns(columns)
    return horizon, chunk


def _observed_by(
    frame: pd.DataFrame, as_of: object, columns: list[str], policies: dict[str, Any]
) -> bool:
    """Whether any customer of ``frame`` has a transaction on or before ``as_of``."""
    from clv.features._contract import prepare_transactions

    prepared = prepare_transactions(
        frame,
        customer_id=columns[0],
        timestamp=columns[1],
        amount=columns[2],
        require_amount=True,
        warn=False,
        **policies,
    )
    first = float(np.floor(np.min(prepared.events["t"].to_numpy())))
    return first <= prepared.day_of(as_of, "as_of")


def score_file(
    transactions_path: str | Path,
    *,
    model_uri: str,
    as_of: object,
    horizon: float,
    output: str | Path,
    discount_rate: float | None = None,
    margin: float | None = None,
    tracking_uri: str | None = None,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str = AMOUNT,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    progress: Progress | None = None,
    invoice: str | None = None,
    missing_customer_id: str = "raise",
    negative_amounts: str = "raise",
    duplicates: str = "keep",
    date_format: str | None = None,
    interval: float | None = None,
) -> pd.DataFrame:
    """Score every customer of a transaction file and write the scores atomically.

    Parameters
    ----------
    transactions_path : str or pathlib.Path
        ``.csv`` or ``.parquet`` transaction log.
    model_uri : str
        ``models:/NAME@champion`` or any MLflow model URI of a clv model.
    as_of : date-like
        Features are built from transactions up to this day (inclusive).
    horizon : float
        Prediction horizon, in the model's time unit.
    output : str or pathlib.Path
        ``.parquet`` / ``.pq`` or ``.csv`` file (format by extension).
    discount_rate : float, optional
        Annual discount rate; the model's default if omitted.
    margin : float, optional
        Share of spend that is profit, in [0, 1]; the model's default if omitted.
        ``clv`` is revenue at margin 1, profit otherwise (the ``margin`` column).
    tracking_uri : str, optional
        MLflow store; ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db`` by default.
    customer_id, timestamp, amount : str
        The file's column names.
    chunk_customers : int, default 500_000
        Largest number of customers (and transactions per read batch) held in
        memory at once; see the module docstring.
    progress : callable, optional
        ``progress(phase, done, total)`` with phase ``"reading"`` or ``"scoring"``,
        counted in transactions.
    invoice, missing_customer_id, negative_amounts, duplicates
        The data policies (:func:`clv.features.clean_transactions`), applied to
        every customer's rows; one :class:`~clv.errors.DataPolicyWarning` gives the
        totals.
    date_format : str, optional
        Format of text timestamps (``"%d/%m/%Y"``, ``"ISO8601"``...); inferred when
        unambiguous (:mod:`clv.features.io`).
    interval : float, optional
        A level in (0, 1), e.g. 0.9: also write ``purchases_lower``,
        ``purchases_upper``, ``clv_lower``, ``clv_upper`` and ``interval`` after
        ``clv`` (:mod:`clv.mlflow_model.intervals`; the BTYD kinds only).

    Returns
    -------
    pandas.DataFrame
        The per-segment summary (:func:`clv.models.segments.segment_summary`:
        ``count``, ``total_clv``, ``mean_clv``), with ``attrs`` ``n_customers``,
        ``model_version``, ``model_uri``, ``output``, ``scored_at``, ``margin``,
        ``segment_rules`` (the model's :class:`~clv.models.segments.SegmentRules` as a dict),
        ``data_report`` (the :class:`~clv.features.cleaning.PolicyReport` of the
        whole file) and ``swept`` (work folders of killed earlier runs removed).

    Raises
    ------
    FileNotFoundError
        If the transaction file or the output's folder does not exist.
    clv.errors.InvalidDataError
        If the file cannot be read, is not a regular file, has ambiguous or mixed
        date formats, or breaks the transaction contract.
    clv.errors.InvalidParameterError
        For a bad date, horizon, discount rate, chunk size or output extension, or
        an output that is the transaction file.
    clv.errors.ModelLoadError
        If the model cannot be found or is not a clv model.
    """
    from clv.mlflow_model.margin import check_margin, scoring_margin
    from clv.serving.model_loading import BackgroundModel

    source, target = check_paths(transactions_path, output)
    columns = [customer_id, timestamp, amount]
    horizon, chunk = check_score_arguments(horizon, discount_rate, chunk_customers, as_of, columns)
    if margin is not None:
        check_margin(margin)
    level = check_interval(interval)
    from clv.features._policies import check_policies, data_policies

    check_policies(negative_amounts, missing_customer_id)
    policies = data_policies(invoice, missing_customer_id, negative_amounts, duplicates)
    if invoice is not None:
        columns = [*columns, invoice]

    scored_at = pd.Timestamp(datetime.now(timezone.utc)).floor("s")
    # The model is found and loaded on a helper thread while the log is read
    # (clv.serving.model_loading); ``loaded`` waits for it before the first scores.
    resolved: Any = None
    model: Any = None
    with (
        work_folder(target) as (work, swept),
        BackgroundModel(model_uri, tracking_uri, work / "model") as loading,
    ):
        options: dict[str, Any] = {
            "as_of": as_of,
            "horizon": horizon,
            "discount_rate": discount_rate,
            "customer_id": customer_id,
            "timestamp": timestamp,
            "amount": amount,
            **policies,
            "warn": False,
            "interval": level,
        }
        if is_parquet(source):
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                check_parquet_columns(source, columns)
                total_rows = pq.ParquetFile(source).metadata.num_rows
            except (pa.ArrowException, *READ_ERRORS) as error:
                raise read_error(source, error) from error
            id_dtype = None
        else:
            head = csv_header(source, columns)
            total_rows = len(head) if len(head) < 10_000 else estimate_csv_rows(source)
            id_dtype = head[customer_id].dtype
        writer = ScoreWriter(target, work)
        summaries: list[pd.DataFrame] = []
        reports: list[Any] = []

        def loaded() -> dict[str, Any]:
            nonlocal resolved, model, margin
            if "model" not in options:
                resolved, model = loading.result()
                margin = scoring_margin(clv_metadata(model), margin)
                if level is not None:
                    check_model_interval(model, level)
                options.update(model=model, margin=margin)
            return options

        def reading(phase: str, done: int, total: int) -> None:
            loading.check()  # an unknown model stops the reading early
            if progress is not None:
                progress(phase, done, total)

        def emit(scores: pd.DataFrame) -> None:
            from clv.models.segments import segment_summary

            reports.append(scores.attrs["data_report"])
            frame = scores.assign(model_version=resolved.label, scored_at=scored_at)
            writer.append(frame.loc[:, output_columns(OUTPUT_COLUMNS, level is not None)])
            summaries.append(segment_summary(frame))

        try:
            if total_rows <= chunk:
                log = read_transactions(
                    source, customer_id=customer_id, timestamp=timestamp, date_format=date_format
                )
                if progress is not None:
                    progress("reading", len(log), len(log))
                emit(score_transactions(log, **loaded()))
                if progress is not None:
                    progress("scoring", len(log), len(log))
            else:
                folder = work / "buckets"
                folder.mkdir()
                buckets = partition_by_customer(
                    source, columns, chunk, folder, total_rows, id_dtype, reading, date_format
                )
                rows_total = sum(rows for _, rows in buckets)
                done = 0
                for files, rows in buckets:
                    if not files:
                        continue
                    frame = read_bucket(files)
                    try:
                        emit(score_transactions(frame, **loaded()))
                    except InvalidDataError:
                        if _observed_by(frame, as_of, columns, policies):
                            raise
                    done += rows
                    if progress is not None:
                        progress("scoring", done, rows_total)
                    for file in files:
                        file.unlink()
            loaded()
            writer.commit()
        except BaseException:
            writer.abort()
            raise
    summary = combine_summaries(summaries, writer.rows, resolved, target, scored_at)
    summary.attrs["margin"] = margin
    python_model = model.unwrap_python_model()
    summary.attrs["segment_rules"] = {
        **python_model.segments.to_dict(),
        "actions": getattr(python_model, "actions", None),
    }
    summary.attrs["data_report"] = _report_total(reports)
    summary.attrs["swept"] = swept
    return summary


def _report_total(reports: list[Any]) -> Any:
    """Add up the buckets' policy reports; warn once with the totals."""
    from clv.features._policies import PolicyReport, announce

    total = PolicyReport()
    for report in reports:
        total = total.merged(PolicyReport(**report))
    if total.rows_removed:
        announce(total.line(), total.as_dict(), True)
    return total


def combine_summaries(
    summaries: list[pd.DataFrame], rows: int, resolved: Any, target: Path, scored_at: Any
) -> pd.DataFrame:
    """Add up the per-segment summaries of a scoring run, with its ``attrs`` (both engines)."""
    from clv.models.segments import SEGMENTS

    stacked = pd.concat(summaries)
    grouped = stacked.groupby(level=0, sort=False)[["count", "total_clv"]].sum()
    grouped["mean_clv"] = grouped["total_clv"] / grouped["count"]
    known = [name for name in SEGMENTS if name in grouped.index]
    others = sorted((name for name in grouped.index if name not in SEGMENTS), key=str)
    summary = grouped.loc[known + others]
    summary.index.name = "segment"
    summary["count"] = summary["count"].astype(np.int64)
    summary.attrs.update(
        {
            "n_customers": int(rows),
            "model_version": resolved.label,
            "model_uri": resolved.pinned_uri,
            "output": str(target),
            "scored_at": scored_at.isoformat(),
        }
    )
    return summary
