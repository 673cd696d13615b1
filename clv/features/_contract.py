"""The transaction contract: column mapping, validation and normalisation.

Everything that enters clv as a transaction log passes through
:func:`prepare_transactions` once. It maps the caller's column names to the
canonical ``customer_id``, ``timestamp``, ``amount``; checks every rule of the
contract and raises :class:`clv.errors.InvalidDataError` naming the column, the
number of offending rows and a few customer ids; and returns a new frame with the
event time as a number of days since 1970-01-01 (``t``), ready for the feature
definitions. The caller's frame is never modified.

Policies
--------
Duplicated rows
    Identical rows (same customer, timestamp, amount and every other column) are
    kept by default: transaction logs are often line items, and two identical lines
    on one day are two items of one purchase (the CDNOW sample has 21 such lines, and
    the published Gamma-Gamma estimates count them). ``duplicates="drop"`` removes
    them with a :class:`~clv.errors.DataPolicyWarning`; ``duplicates="raise"`` refuses
    them.
Negative amounts (returns)
    Refused by default: a return is not a purchase, and netting it silently against
    a purchase changes the spend the models learn. ``negative_amounts="drop"`` drops
    those rows; ``negative_amounts="net"`` nets each return against the purchases of
    its day (or of its invoice, ``invoice=``) without moving any purchase in time
    (:mod:`clv.features._policies`). Zero amounts are valid purchases.
Rows without a customer id
    Refused by default; ``missing_customer_id="drop"`` drops them.
Timezone-aware timestamps
    Accepted. Days are calendar days in the timestamps' own zone (a purchase at
    23:30 in Paris belongs to that Paris day); dates given as boundaries
    (``observation_end`` etc.) are read in the same zone when they are naive, and
    converted to it when they are aware.

Every policy that drops or nets rows counts them in ``PreparedTransactions.report``
and emits a :class:`~clv.errors.DataPolicyWarning` (a
:class:`~clv.errors.DataQualityWarning`) with the counts.
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
    announce,
    apply_return_policy,
    check_policies,
)

CUSTOMER_ID = "customer_id"
TIMESTAMP = "timestamp"
AMOUNT = "amount"

_NANOS_PER_DAY = 86_400 * 10**9

DuplicatesPolicy = Literal["keep", "drop", "raise"]
NegativeAmountsPolicy = Literal["raise", "drop", "net"]


@dataclass(frozen=True)
class ColumnMap:
    """The caller's names for the canonical transaction columns."""

    customer_id: str = CUSTOMER_ID
    timestamp: str = TIMESTAMP
    amount: str | None = AMOUNT


@dataclass(frozen=True)
class PreparedTransactions:
    """A validated transaction log.

    Attributes
    ----------
    events : pandas.DataFrame
        Columns ``customer_id``, ``t`` (float days since 1970-01-01 in the
        timestamps' own zone; whole days when same-day purchases are merged) and,
        when the log has amounts, ``amount``; plus any passed-through columns.
    tz : str or None
        The timezone of the original timestamps, if they were aware.
    has_amount : bool
        Whether the log carries amounts.
    report : PolicyReport
        What the data policies dropped, netted or kept, in rows.
    rows : numpy.ndarray or None
        Position in the caller's frame of every row of ``events``; None when every
        row was kept, in order (no log-sized array of 0 .. n - 1 to hold).
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
    """Convert a date-like boundary to float days since 1970-01-01.

    Parameters
    ----------
    value : str, date, datetime or pandas.Timestamp
        The boundary. A date without a time means the whole of that day: purchases
        on that day are included.
    name : str
        The parameter name, for error messages.
    tz : timezone or None
        The zone of the transaction timestamps.

    Returns
    -------
    float
        The day number of the boundary's calendar day (its time of day is dropped:
        boundaries are inclusive whole days).
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

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction (or transaction line).
    customer_id, timestamp, amount : str
        The caller's names of the customer id, timestamp and amount columns.
        ``amount`` may name a column that does not exist when amounts are not
        required; pass ``amount=None`` to ignore amounts.
    merge_same_day : bool, default True
        Count purchases on the same calendar day as one purchase.
    duplicates : {"keep", "drop", "raise"}, default "keep"
        What to do with identical rows (see the module notes).
    negative_amounts : {"raise", "drop", "net"}, default "raise"
        What to do with negative amounts (returns); see the module notes.
    require_amount : bool, default False
        Raise if the amount column is missing.
    extra_columns : tuple of str
        Further columns to carry through unchanged.
    invoice : str, optional
        Invoice column: ``negative_amounts="net"`` nets a return within its invoice
        instead of its day.
    missing_customer_id : {"raise", "drop"}, default "raise"
        What to do with rows without a customer id.
    warn : bool, default True
        Emit a :class:`~clv.errors.DataPolicyWarning` for what the policies dropped
        or netted (the counts are in ``report`` either way).

    Returns
    -------
    PreparedTransactions

    Raises
    ------
    clv.errors.InvalidDataError
        If the log breaks the contract.
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
            raise InvalidDataError(message + ". Pass missing_customer_id='drop' to drop them.")
        if count == len(frame):
            raise InvalidDataError(message + ": no row has a customer id.")
        report.missing_customer_rows = count
        announce(message + "; they were dropped.", {"missing_customer_rows": count}, warn)
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
            if duplicates == "raise":
                raise InvalidDataError(message + ". Pass duplicates='keep' or 'drop'.")
            report.duplicate_rows = count
            announce(message + "; they were dropped.", {"duplicate_rows": count}, warn)
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
    """Raise if no transaction of the log falls on or before ``day``.

    Parameters
    ----------
    prepared : PreparedTransactions
        The validated log.
    day : float
        The boundary, as a day number.
    name : str
        The boundary's parameter name, for the message.
    """
    first = float(np.floor(np.min(prepared.events["t"].to_numpy())))
    if first > day:
        raise InvalidDataError(
            f"The '{name}' date is before the first transaction "
            f"({pd.Timestamp(int(first), unit='D').date()}): no customer is observed."
        )
