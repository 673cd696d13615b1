"""The transaction contract: column mapping, validation and normalisation.

Every transaction log enters clv through :func:`prepare_transactions`, once: it maps
the caller's column names to ``customer_id``, ``timestamp``, ``amount``, raises
:class:`clv.errors.InvalidDataError` naming the column, the number of offending rows
and a few customer ids, and returns a new frame with the event time in days since
1970-01-01 (``t``); the caller's frame is never modified. Identical rows are kept by
default (line items; ``duplicates="drop"`` or ``"raise"``); returns (negative
amounts) and rows without a customer id are refused by default (the policies and
their counts: :mod:`clv.features._policies`); zero amounts are valid purchases.
Timezone-aware timestamps count calendar days in their own zone; naive boundary
dates (``observation_end`` ...) are read in that zone, aware ones converted to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from clv._validation import check_choice
from clv.errors import (
    InvalidDataError,
    InvalidParameterError,
    describe_examples,
)
from clv.features._day_numbers import whole_days
from clv.features._policies import (
    MissingCustomerPolicy,
    PolicyReport,
    apply_return_policy,
    check_policies,
    refuse_or_drop,
)

CUSTOMER_ID = "customer_id"
TIMESTAMP = "timestamp"
AMOUNT = "amount"

_NANOS_PER_DAY = 86_400 * 10**9

DuplicatesPolicy = Literal["keep", "drop", "raise"]
NegativeAmountsPolicy = Literal["raise", "drop", "net"]


@dataclass(frozen=True)
class PreparedTransactions:
    """A validated transaction log.

    ``events``: ``customer_id``, ``t`` (days since 1970-01-01 in the timestamps' own
    zone ``tz``; whole days when same-day purchases are merged), ``amount`` when
    ``has_amount``, and passed-through columns. ``report``: what the policies did.
    ``rows``: each event's position in the caller's frame; None when every row was
    kept, in order (no log-sized array of 0 .. n - 1 to hold).
    """

    events: pd.DataFrame
    tz: object
    has_amount: bool
    report: PolicyReport = field(default_factory=PolicyReport)
    rows: np.ndarray | None = None

    def day_of(self, value: object, name: str) -> float:
        """Convert a boundary date to days since 1970-01-01 in the log's zone."""
        return to_day_number(value, name, self.tz)


def to_day_number(value: object, name: str, tz: object = None) -> float:
    """Return a date-like boundary as the day number of its calendar day (in ``tz``).

    A date without a time means the whole day; ``name`` is the parameter, for messages.
    """
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"The '{name}' parameter must be a date. Got {value!r} instead."
        ) from exc
    if stamp is pd.NaT:
        raise InvalidParameterError(
            f"The '{name}' parameter must be a date. Got {value!r} instead."
        )
    if stamp.tzinfo is not None:
        stamp = (
            stamp.tz_convert(tz).tz_localize(None) if tz is not None else stamp.tz_localize(None)
        )
    try:
        nanos = stamp.as_unit("ns").normalize().value
    except (OverflowError, ValueError) as exc:  # OutOfBoundsDatetime: e.g. year 2999
        raise InvalidParameterError(
            f"The '{name}' parameter must be a date between 1677-09-22 and 2262-04-11. "
            f"Got {value!r} instead."
        ) from exc
    return float(nanos // _NANOS_PER_DAY)


def _examples(customers: pd.Series, mask: np.ndarray) -> str:
    return describe_examples(pd.unique(customers[mask]))


def _as_frame(transactions: object) -> pd.DataFrame:
    if isinstance(transactions, pd.DataFrame):
        return transactions
    raise InvalidDataError(
        f"Transactions must be a pandas DataFrame; got {type(transactions).__name__}."
    )


def _parse_timestamps(raw: pd.Series, customers: pd.Series, column: str) -> pd.Series:
    null = raw.isna().to_numpy()
    if null.any():
        raise InvalidDataError(
            f"Column '{column}': {int(null.sum())} rows have a null timestamp "
            f"(customers {_examples(customers, null)})."
        )
    if isinstance(raw.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw.dtype):
        return raw
    try:
        parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
    except (TypeError, ValueError):
        parsed = pd.to_datetime(raw, errors="coerce", utc=True, format="mixed")
    if not (
        isinstance(parsed.dtype, pd.DatetimeTZDtype)
        or pd.api.types.is_datetime64_dtype(parsed.dtype)
    ):
        parsed = pd.to_datetime(raw, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        raise InvalidDataError(
            f"Column '{column}': {int(bad.sum())} rows cannot be parsed as dates "
            f"(customers {_examples(customers, bad)})."
        )
    return parsed


def _parse_amounts(raw: pd.Series, customers: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise InvalidDataError(f"Column '{column}' must be numeric; it holds booleans.")
    if raw.dtype == np.float64:  # shared, not copied (copy-on-write): no fresh memory
        values = raw.to_numpy()
    else:
        numeric = pd.to_numeric(raw, errors="coerce")
        not_numeric = (numeric.isna() & raw.notna()).to_numpy()
        if not_numeric.any():
            raise InvalidDataError(
                f"Column '{column}': {int(not_numeric.sum())} rows are not numeric "
                f"(customers {_examples(customers, not_numeric)})."
            )
        values = numeric.to_numpy(dtype="float64", na_value=np.nan)
    null = np.isnan(values)
    if null.any():
        raise InvalidDataError(
            f"Column '{column}': {int(null.sum())} rows have a null amount "
            f"(customers {_examples(customers, null)})."
        )
    infinite = np.isinf(values)
    if infinite.any():
        raise InvalidDataError(
            f"Column '{column}': {int(infinite.sum())} rows have an infinite amount "
            f"(customers {_examples(customers, infinite)})."
        )
    return values


def prepare_transactions(
    transactions: pd.DataFrame,
    *,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str | None = AMOUNT,
    merge_same_day: bool = True,
    duplicates: DuplicatesPolicy = "keep",
    negative_amounts: NegativeAmountsPolicy = "raise",
    require_amount: bool = False,
    extra_columns: tuple[str, ...] = (),
    invoice: str | None = None,
    missing_customer_id: MissingCustomerPolicy = "raise",
    warn: bool = True,
) -> PreparedTransactions:
    """Validate a transaction log and normalise it to canonical columns.

    ``amount`` may name a missing column unless ``require_amount`` (``None`` ignores
    amounts); ``extra_columns`` (and ``invoice``) are carried through unchanged; the
    policies are those of :func:`clv.features.clean_transactions` and
    ``merge_same_day`` that of :func:`clv.features.rfm_summary`. Raises
    :class:`~clv.errors.InvalidDataError` if the log breaks the contract.
    """
    frame = _as_frame(transactions)
    check_choice("duplicates", duplicates, ("keep", "drop", "raise"))
    check_policies(negative_amounts, missing_customer_id)
    has_amount = amount is not None and amount in frame.columns
    required = {CUSTOMER_ID: customer_id, TIMESTAMP: timestamp}
    if require_amount or (amount is not None and amount != AMOUNT):
        required[AMOUNT] = amount  # an explicitly mapped amount column must exist
    missing = [
        f"'{given}'" + (f" (for {canonical})" if given != canonical else "")
        for canonical, given in required.items()
        if given is None or given not in frame.columns
    ]
    if invoice is not None:
        extra_columns = (*extra_columns, invoice)
    missing += [f"'{name}'" for name in extra_columns if name not in frame.columns]
    if missing:
        raise InvalidDataError(
            f"Transactions lack column(s) {', '.join(missing)}; found {list(map(str, frame.columns))}."
        )
    if len(frame) == 0:
        raise InvalidDataError("The transaction log is empty: there is nothing to summarise.")

    report = PolicyReport(rows=len(frame))
    n_rows = len(frame)
    positions: np.ndarray | None = None  # of the kept rows; None while every row is kept
    null_ids = frame[customer_id].isna().to_numpy()
    if null_ids.any():
        count = int(null_ids.sum())
        message = (
            f"Column '{customer_id}': {count} rows have a null customer id "
            f"(rows {describe_examples(frame.index[null_ids]).removeprefix('e.g. ')})"
        )
        if missing_customer_id == "raise":
            refusal: str | None = ". Pass missing_customer_id='drop' to drop them."
        else:
            refusal = ": no row has a customer id." if count == len(frame) else None
        refuse_or_drop(message, count, refusal, "missing_customer_rows", report, warn)
        frame = frame.loc[~null_ids]
        positions = np.flatnonzero(~null_ids)
    customers = frame[customer_id]

    stamps = _parse_timestamps(frame[timestamp], customers, timestamp)
    tz = getattr(stamps.dt, "tz", None)
    if tz is not None:
        stamps = stamps.dt.tz_localize(None)
    if merge_same_day:
        t = whole_days(stamps.to_numpy())  # no log-sized temporaries (_day_numbers)
    else:
        t = stamps.astype("datetime64[ns]").to_numpy().view("int64") / _NANOS_PER_DAY

    columns: dict[str, object] = {CUSTOMER_ID: customers.to_numpy(), "t": t}
    if has_amount:
        columns[AMOUNT] = _parse_amounts(frame[amount], customers, amount)
    for name in extra_columns:
        columns[name] = frame[name].to_numpy()
    events = pd.DataFrame(columns, copy=False)  # copy-on-write: no copy of the log

    if duplicates != "keep":
        duplicated = frame.duplicated().to_numpy()
        if duplicated.any():
            count = int(duplicated.sum())
            message = (
                f"{count} rows are exact duplicates of earlier rows "
                f"(customers {_examples(customers, duplicated)})"
            )
            refusal = ". Pass duplicates='keep' or 'drop'." if duplicates == "raise" else None
            refuse_or_drop(message, count, refusal, "duplicate_rows", report, warn)
            events = events.loc[~duplicated]

    if has_amount:
        events = apply_return_policy(events, amount, negative_amounts, invoice, report, warn=warn)
        report.zero_amount_rows = int((events[AMOUNT].to_numpy() == 0).sum())
    return PreparedTransactions(
        events=events.reset_index(drop=True),
        tz=tz,
        has_amount=has_amount,
        report=report,
        rows=_row_positions(positions, events.index, n_rows),
    )


def _row_positions(positions: np.ndarray | None, index: pd.Index, n_rows: int) -> np.ndarray | None:
    """Positions in the caller's frame of the kept rows; None when every row was kept."""
    if (
        positions is None
        and isinstance(index, pd.RangeIndex)
        and index.equals(pd.RangeIndex(n_rows))
    ):
        return None
    if positions is None:
        return index.to_numpy()
    return positions[index.to_numpy()]


def inclusive_end(end_day: float, merge_same_day: bool) -> float:
    """Return the last event time counted for a boundary day.

    With same-day merging, event times are whole days and the boundary day itself;
    without it, events carry a time of day and the whole boundary day is included.
    """
    return end_day if merge_same_day else float(np.nextafter(end_day + 1.0, -np.inf))


def check_observed_by(prepared: PreparedTransactions, day: float, name: str) -> None:
    """Raise if no transaction of the log falls on or before ``day`` (the boundary ``name``)."""
    first = float(np.floor(np.min(prepared.events["t"].to_numpy())))
    if first > day:
        raise InvalidDataError(
            f"The '{name}' date is before the first transaction "
            f"({pd.Timestamp(int(first), unit='D').date()}): no customer is observed."
        )
