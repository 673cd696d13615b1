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
Rows are written to a temporary file in the output's folder, renamed over the
output (:func:`os.replace`) only when every customer is scored. A failure --
invalid data, an unknown model, Ctrl-C -- leaves no temporary file and no new
output (an existing output file is left as it was).

Large inputs and the memory bound
---------------------------------
Features need a customer's whole history, so the log is cut by customer, not by
row. A log of at most ``chunk_customers`` rows is scored in memory, in one piece.
A larger one is streamed in two passes:

1. read in batches of ``chunk_customers`` rows (pyarrow for parquet, pandas for
   CSV), keeping only the three contract columns, and hash-partition the rows by
   customer id into ``P`` bucket files in a temporary folder next to the output,
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

import math
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clv.errors import InvalidDataError, InvalidParameterError
from clv.features._contract import AMOUNT, CUSTOMER_ID, TIMESTAMP, to_day_number

__all__ = ["OUTPUT_COLUMNS", "score_file", "score_transactions"]

#: Columns of the scored output, in order.
OUTPUT_COLUMNS = (
    "customer_id",
    "expected_purchases",
    "probability_alive",
    "churn_probability",
    "expected_spend",
    "clv",
    "segment",
    "model_version",
    "scored_at",
)

#: ``progress(phase, done, total)``: phase ``"reading"`` or ``"scoring"``, in transactions.
Progress = Callable[[str, int, int], None]

DEFAULT_CHUNK_CUSTOMERS = 500_000

_PARQUET = (".parquet", ".pq")
_CSV = (".csv",)


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _check_output(output: str | Path) -> Path:
    location = Path(output)
    if _suffix(location) not in _PARQUET + _CSV:
        raise InvalidParameterError(
            f"The output {str(location)!r} must end in .parquet, .pq or .csv (the format "
            "follows the extension)."
        )
    parent = location.resolve().parent
    if not parent.is_dir():
        raise FileNotFoundError(f"No such folder for the output: {parent}")
    if location.is_dir():
        raise IsADirectoryError(f"The output is a directory: {location}")
    return location


def _check_input(path: str | Path) -> Path:
    location = Path(path)
    if not location.exists():
        raise FileNotFoundError(f"No such file: {location}")
    if location.is_dir():
        raise IsADirectoryError(f"Is a directory, not a transaction file: {location}")
    suffixes = [suffix.lower() for suffix in location.suffixes]
    if not suffixes or not (suffixes[-1] in _PARQUET or ".csv" in suffixes):
        raise InvalidDataError(
            f"Unknown transaction file format {location.suffix!r} for {location}: use .csv or "
            ".parquet."
        )
    return location


def _positive(name: str, value: object, *, integer: bool = False) -> float:
    valid = not isinstance(value, bool) and isinstance(value, int | float)
    if valid:
        valid = math.isfinite(value) and value > 0 and (not integer or float(value).is_integer())
    if not valid:
        kind = "an int" if integer else "a float"
        raise InvalidParameterError(
            f"The '{name}' parameter must be {kind} in the range (0, inf). Got {value!r} instead."
        )
    return float(value)


def _check_discount_rate(discount_rate: object) -> None:
    if discount_rate is not None and (
        isinstance(discount_rate, bool)
        or not isinstance(discount_rate, int | float)
        or not (math.isfinite(discount_rate) and discount_rate >= 0)
    ):
        raise InvalidParameterError(
            "The 'discount_rate' parameter must be a float in the range [0, inf). "
            f"Got {discount_rate!r} instead."
        )


def _check_score_arguments(
    horizon: object,
    discount_rate: object,
    chunk_customers: object,
    as_of: object,
    columns: list[str],
) -> tuple[float, int]:
    """Check :func:`score_file`'s arguments (both engines); return horizon and chunk."""
    horizon = _positive("horizon", horizon)
    _check_discount_rate(discount_rate)
    chunk = int(_positive("chunk_customers", chunk_customers, integer=True))
    to_day_number(as_of, "as_of")
    if len(set(columns)) != 3:
        raise InvalidParameterError(
            f"The customer id, timestamp and amount columns must differ. Got {columns}."
        )
    return horizon, chunk


def score_transactions(
    transactions: pd.DataFrame,
    *,
    model: Any,
    as_of: object,
    horizon: float,
    discount_rate: float | None = None,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str = AMOUNT,
    invoice: str | None = None,
    missing_customer_id: str = "raise",
    negative_amounts: str = "raise",
    duplicates: str = "keep",
    warn: bool = True,
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
    customer_id, timestamp, amount : str
        The log's column names.
    invoice, missing_customer_id, negative_amounts, duplicates
        The data policies, applied to the log first
        (:func:`clv.features.clean_transactions`).
    warn : bool, default True
        Emit a :class:`~clv.errors.DataPolicyWarning` for what the policies did.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, the predictions and ``segment``, one row per customer
        with a transaction on or before ``as_of``, sorted by customer id;
        ``attrs["data_report"]`` holds the counts of the
        :class:`~clv.features.cleaning.PolicyReport` by name.

    Raises
    ------
    clv.errors.InvalidDataError
        If the log breaks the transaction contract or no customer is observed by
        ``as_of``.
    """
    from clv.features._policies import DEFAULT_POLICIES, PolicyReport
    from clv.features.behaviour import customer_features
    from clv.features.cleaning import clean_transactions
    from clv.serving._models import clv_metadata, model_feature_columns
    from clv.serving.pyfunc_model import to_model_input

    metadata = clv_metadata(model)
    policies = {
        "invoice": invoice,
        "missing_customer_id": missing_customer_id,
        "negative_amounts": negative_amounts,
        "duplicates": duplicates,
    }
    names = {"customer_id": customer_id, "timestamp": timestamp, "amount": amount}
    if policies == DEFAULT_POLICIES:
        # Nothing to drop or net: the features validate the log themselves (one pass
        # instead of two: cleaning 2M rows costs about half of building their features).
        features = customer_features(
            transactions, as_of=as_of, time_unit=metadata["time_unit"], **names
        )
        amounts = pd.to_numeric(transactions[amount], errors="coerce")
        report = PolicyReport(rows=len(transactions), zero_amount_rows=int((amounts == 0).sum()))
    else:
        cleaned = clean_transactions(transactions, warn=warn, **names, **policies)  # type: ignore[arg-type]
        report = cleaned.report
        features = customer_features(
            cleaned.transactions, as_of=as_of, time_unit=metadata["time_unit"]
        )
    columns = model_feature_columns(metadata, list(features.columns))
    params: dict[str, float] = {"horizon": float(horizon)}
    if discount_rate is not None:
        params["discount_rate"] = float(discount_rate)
    from mlflow.exceptions import MlflowException

    try:
        scores = model.predict(to_model_input(features[columns]), params=params)
    except MlflowException as error:
        first = str(error.message).strip().splitlines()[0][:200]
        raise InvalidDataError(f"The model refused the customer features: {first}") from error
    scores.attrs["data_report"] = report.as_dict()  # JSON-safe (parquet metadata)
    return scores


class _Writer:
    """Append scored chunks to a temporary file; publish it with os.replace."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.temporary = output.resolve().parent / f".{output.name}.{uuid.uuid4().hex}.tmp"
        self.parquet = _suffix(output) in _PARQUET
        self.writer: Any = None
        self.handle: Any = None
        self.schema: Any = None
        self.rows = 0

    def append(self, frame: pd.DataFrame) -> None:
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.writer is None:
                self.schema = table.schema
                self.writer = pq.ParquetWriter(self.temporary, self.schema)
            elif not table.schema.equals(self.schema):
                try:
                    table = table.cast(self.schema)
                except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as error:
                    raise InvalidDataError(
                        f"The customer ids change type between chunks: {error}"
                    ) from error
            self.writer.write_table(table)
        else:
            if self.handle is None:
                self.handle = open(self.temporary, "w", encoding="utf-8", newline="")  # noqa: SIM115
            frame.to_csv(self.handle, index=False, header=self.rows == 0)
        self.rows += len(frame)

    def commit(self) -> None:
        self._close()
        if self.rows == 0:
            raise InvalidDataError("No customer was scored: nothing to write.")
        os.replace(self.temporary, self.output)

    def abort(self) -> None:
        try:
            self._close()
        finally:
            self.temporary.unlink(missing_ok=True)

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _read_columns_parquet(path: Path, columns: list[str]) -> None:
    import pyarrow.parquet as pq

    names = pq.ParquetFile(path).schema_arrow.names
    missing = [name for name in columns if name not in names]
    if missing:
        raise InvalidDataError(
            f"The transaction file lacks column(s) {', '.join(map(repr, missing))}; found "
            f"{', '.join(map(repr, names[:10]))}. Map your names with --customer-id, "
            "--timestamp, --amount."
        )


def _csv_header(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        head = pd.read_csv(path, nrows=10_000)
    except (ValueError, UnicodeDecodeError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidDataError(f"Cannot read {path}: {first}") from error
    missing = [name for name in columns if name not in head.columns]
    if missing:
        raise InvalidDataError(
            f"The transaction file lacks column(s) {', '.join(map(repr, missing))}; found "
            f"{', '.join(map(repr, map(str, head.columns[:10])))}. Map your names with "
            "--customer-id, --timestamp, --amount."
        )
    return head


def _estimate_csv_rows(path: Path) -> int:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        sample = handle.read(1 << 20)
    lines = max(1, sample.count(b"\n"))
    return max(1, int(size / (len(sample) / lines)))


def _batches(path: Path, columns: list[str], rows: int, id_dtype: Any) -> Iterator[pd.DataFrame]:
    if _suffix(path) in _PARQUET:
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=columns):
            yield batch.to_pandas()
        return
    reader = pd.read_csv(path, usecols=columns, chunksize=rows, dtype={columns[0]: id_dtype})
    try:
        for chunk in reader:
            yield chunk[columns]
    except (ValueError, UnicodeDecodeError) as error:
        first = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise InvalidDataError(f"Cannot read {path}: {first}") from error
    finally:
        reader.close()


def _partition(
    path: Path,
    columns: list[str],
    chunk: int,
    folder: Path,
    total_rows: int,
    id_dtype: Any,
    progress: Progress | None,
) -> list[tuple[list[Path], int]]:
    """Pass 1: hash-partition the log by customer into bucket folders of parquet pieces."""
    buckets: list[tuple[list[Path], int]] = []
    count = 0
    done = 0
    for index, batch in enumerate(_batches(path, columns, chunk, id_dtype)):
        if batch.empty:
            continue
        ids = batch[columns[0]]
        if not buckets:
            ratio = max(ids.nunique(dropna=False) / len(batch), 1.0 / chunk)
            count = max(1, math.ceil(total_rows * ratio / chunk))
            buckets = [([], 0) for _ in range(count)]
        codes = pd.util.hash_array(ids.to_numpy()) % np.uint64(count)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(count + 1, dtype=np.uint64))
        for bucket in range(count):
            start, stop = int(bounds[bucket]), int(bounds[bucket + 1])
            if start == stop:
                continue
            piece = batch.iloc[order[start:stop]]
            target = folder / f"b{bucket:05d}-p{index:06d}.parquet"
            piece.to_parquet(target, index=False)
            files, rows = buckets[bucket]
            files.append(target)
            buckets[bucket] = (files, rows + (stop - start))
        done += len(batch)
        if progress is not None:
            progress("reading", done, max(done, total_rows))
    return buckets


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

    Returns
    -------
    pandas.DataFrame
        The per-segment summary (:func:`clv.models.segments.segment_summary`:
        ``count``, ``total_clv``, ``mean_clv``), with ``attrs`` ``n_customers``,
        ``model_version``, ``model_uri``, ``output``, ``scored_at`` and
        ``data_report`` (the :class:`~clv.features.cleaning.PolicyReport` of the
        whole file).

    Raises
    ------
    FileNotFoundError
        If the transaction file or the output's folder does not exist.
    clv.errors.InvalidDataError
        If the file cannot be read or breaks the transaction contract.
    clv.errors.InvalidParameterError
        For a bad date, horizon, discount rate, chunk size or output extension.
    clv.errors.ModelLoadError
        If the model cannot be found or is not a clv model.
    """
    from clv.serving._models import clv_metadata, download_model, load_pyfunc, resolve_model

    source = _check_input(transactions_path)
    target = _check_output(output)
    columns = [customer_id, timestamp, amount]
    horizon, chunk = _check_score_arguments(horizon, discount_rate, chunk_customers, as_of, columns)
    from clv.features._policies import check_policies

    check_policies(negative_amounts, missing_customer_id)
    policies = {
        "invoice": invoice,
        "missing_customer_id": missing_customer_id,
        "negative_amounts": negative_amounts,
        "duplicates": duplicates,
    }
    if invoice is not None:
        columns = [*columns, invoice]

    resolved = resolve_model(model_uri, tracking_uri)
    scored_at = pd.Timestamp(datetime.now(timezone.utc)).floor("s")
    with tempfile.TemporaryDirectory(prefix=".clv-score-", dir=target.resolve().parent) as work:
        model = load_pyfunc(download_model(resolved, Path(work) / "model"))
        clv_metadata(model)
        options = {
            "model": model,
            "as_of": as_of,
            "horizon": horizon,
            "discount_rate": discount_rate,
            "customer_id": customer_id,
            "timestamp": timestamp,
            "amount": amount,
            **policies,
            "warn": False,
        }
        if _suffix(source) in _PARQUET:
            import pyarrow.parquet as pq

            try:
                _read_columns_parquet(source, columns)
                total_rows = pq.ParquetFile(source).metadata.num_rows
            except OSError as error:
                raise InvalidDataError(f"Cannot read {source}: {error}") from error
            id_dtype = None
        else:
            head = _csv_header(source, columns)
            total_rows = len(head) if len(head) < 10_000 else _estimate_csv_rows(source)
            id_dtype = head[customer_id].dtype
        writer = _Writer(target)
        summaries: list[pd.DataFrame] = []
        reports: list[Any] = []

        def emit(scores: pd.DataFrame) -> None:
            from clv.models.segments import segment_summary

            reports.append(scores.attrs["data_report"])
            frame = scores.assign(model_version=resolved.label, scored_at=scored_at)
            writer.append(frame.loc[:, list(OUTPUT_COLUMNS)])
            summaries.append(segment_summary(frame))

        try:
            if total_rows <= chunk:
                from clv.training.train import read_transactions

                log = read_transactions(source)
                if progress is not None:
                    progress("reading", len(log), len(log))
                emit(score_transactions(log, **options))
                if progress is not None:
                    progress("scoring", len(log), len(log))
            else:
                folder = Path(work) / "buckets"
                folder.mkdir()
                buckets = _partition(source, columns, chunk, folder, total_rows, id_dtype, progress)
                rows_total = sum(rows for _, rows in buckets)
                done = 0
                for files, rows in buckets:
                    if not files:
                        continue
                    frame = pd.concat([pd.read_parquet(file) for file in files], ignore_index=True)
                    try:
                        emit(score_transactions(frame, **options))
                    except InvalidDataError:
                        if _observed_by(frame, as_of, columns, policies):
                            raise
                    done += rows
                    if progress is not None:
                        progress("scoring", done, rows_total)
                    for file in files:
                        file.unlink()
            writer.commit()
        except BaseException:
            writer.abort()
            raise
    summary = _combine(summaries, writer.rows, resolved, target, scored_at)
    summary.attrs["data_report"] = _report_total(reports)
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


def _combine(
    summaries: list[pd.DataFrame], rows: int, resolved: Any, target: Path, scored_at: Any
) -> pd.DataFrame:
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
