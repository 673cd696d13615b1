"""Read transaction files (CSV, parquet) with clear errors and dates that are never guessed.

The one place where clv turns a file into a transaction log, used by ``clv train``,
``clv score`` (both its in-memory and its streamed path) and ``clv report``.

What a file must be
-------------------
A regular file (a FIFO, a device or a folder is refused before anything is read,
so nothing blocks) named ``.csv`` (optionally compressed, ``.csv.gz``...),
``.txt``, ``.tsv`` or ``.parquet``/``.pq``. Anything that cannot be read -- an
empty or corrupt parquet file, a truncated ``.csv.gz``, bytes that are not text --
is an :class:`~clv.errors.InvalidDataError` naming the file and the reader's
reason. A customer id column holding lists, maps or structs is refused.

Dates
-----
Text timestamps are parsed with **one** format for the whole column:

* ``date_format`` when given (``--date-format``; any :func:`datetime.strptime`
  format, or ``"ISO8601"``);
* otherwise ISO 8601 (``1998-05-10``, ``1998-05-10 14:03:00+02:00``) when every
  row is ISO 8601;
* otherwise the one format pandas infers from the values (``%d/%m/%Y``...), tried
  day-first and month-first. If both read every row and disagree -- ``10/05/1998``
  could be 10 May or 5 October -- the column is **ambiguous** and refused.

Rows the chosen format does not read are never re-guessed one by one: the file is
refused with the count of those rows (so ``1998-05-10`` and ``10/05/1998`` in one
column is an error, not two guesses). Dates must lie between 1677-09-22 and
2262-04-11 (what clv's nanosecond day arithmetic can represent). Timestamps that
are already datetimes (parquet) are only range-checked; numbers are left to the
transaction contract (:mod:`clv.features._contract`).
"""

from __future__ import annotations

import os
import stat
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from clv.errors import InvalidDataError, describe_examples
from clv.features._contract import AMOUNT, CUSTOMER_ID, TIMESTAMP

__all__ = [
    "ISO8601",
    "READ_ERRORS",
    "apply_date_format",
    "check_date_range",
    "check_id_column",
    "check_transaction_file",
    "choose_date_format",
    "is_parquet",
    "read_error",
    "read_transactions",
    "unparsed_dates_error",
]

#: The ``date_format`` meaning "ISO 8601, any precision, with or without a zone".
ISO8601 = "ISO8601"

#: What the readers raise on a file that is not what its name says (wrapped by
#: :func:`read_error`). ``EOFError`` is a truncated compressed file.
READ_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    OSError,
    EOFError,
    UnicodeDecodeError,
    zlib.error,
)

_PARQUET = (".parquet", ".pq")
_TEXT = (".csv", ".txt", ".tsv")
_LOWEST = pd.Timestamp.min.ceil("D")
_HIGHEST = pd.Timestamp.max.floor("D")
_GUESS_SAMPLE = 20


def is_parquet(path: Path) -> bool:
    """Whether ``path`` names a parquet file (by its last suffix)."""
    return path.suffix.lower() in _PARQUET


def check_transaction_file(path: str | Path) -> Path:
    """Check that ``path`` is a readable regular transaction file of a known format.

    Parameters
    ----------
    path : str or pathlib.Path
        The transaction file.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If it does not exist.
    IsADirectoryError
        If it is a folder.
    clv.errors.InvalidDataError
        If it is not a regular file (a FIFO, socket or device, which could block
        a reader forever) or its format is unknown.
    """
    location = Path(path)
    try:
        mode = os.stat(location).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"No such file: {location}") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"Is a directory, not a transaction file: {location}")
    if not stat.S_ISREG(mode):
        raise InvalidDataError(
            f"{location} is not a regular file (a pipe, socket or device); save the "
            "transactions to a .csv or .parquet file first."
        )
    suffixes = [suffix.lower() for suffix in location.suffixes]
    if not suffixes or not (suffixes[-1] in _PARQUET or any(s in _TEXT for s in suffixes)):
        raise InvalidDataError(
            f"Unknown transaction file format {location.suffix!r} for {location}: use .csv or "
            ".parquet."
        )
    return location


def read_error(path: Path, error: BaseException) -> InvalidDataError:
    """Wrap a reader's exception as one line naming the file.

    Parameters
    ----------
    path : pathlib.Path
        The file being read.
    error : BaseException
        What the reader raised (one of :data:`READ_ERRORS`).

    Returns
    -------
    clv.errors.InvalidDataError
    """
    text = str(error).strip().splitlines()
    reason = text[0][:200] if text else type(error).__name__
    if isinstance(error, EOFError):
        reason = f"the file is truncated ({reason})"
    return InvalidDataError(f"Cannot read {path}: {reason}")


def check_id_column(values: pd.Series, column: str) -> None:
    """Refuse a customer id column that holds lists, arrays, maps or sets.

    Raises
    ------
    clv.errors.InvalidDataError
    """
    if values.dtype != object:
        return
    nested = values.map(lambda value: isinstance(value, list | tuple | dict | set | np.ndarray))
    nested = nested.to_numpy(dtype=bool)
    if nested.any():
        raise InvalidDataError(
            f"Column '{column}': {int(nested.sum()):,} rows hold a list or map instead of "
            f"one customer id (rows {describe_examples(np.flatnonzero(nested)).removeprefix('e.g. ')})"
            "; ids must be numbers or strings."
        )


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values.dtype) or values.dtype == object


def _parse(text: pd.Series, date_format: str) -> pd.Series:
    try:
        return pd.to_datetime(text, format=date_format, errors="coerce")
    except ValueError:  # mixed UTC offsets: compare them in UTC
        return pd.to_datetime(text, format=date_format, errors="coerce", utc=True)


def _describe_format(date_format: str) -> str:
    return "ISO 8601, e.g. 1998-05-10" if date_format == ISO8601 else repr(date_format)


def choose_date_format(
    values: pd.Series, *, column: str = TIMESTAMP, date_format: str | None = None
) -> str | None:
    """Choose the one format that reads a timestamp column (see the module notes).

    Parameters
    ----------
    values : pandas.Series
        The raw column (or a sample of it, e.g. the first rows of a large file).
    column : str
        Its name, for messages.
    date_format : str, optional
        The caller's explicit format: returned unchanged.

    Returns
    -------
    str or None
        ``None`` when the column holds no text (datetimes or numbers), else the
        format that reads the most rows.

    Raises
    ------
    clv.errors.InvalidDataError
        If two formats read every row but disagree (ambiguous day and month).
    """
    if date_format is not None:
        if not isinstance(date_format, str) or not date_format.strip():
            raise InvalidDataError(f"The date format must be a non-empty string: {date_format!r}.")
        return date_format
    if not _is_text(values):
        return None
    text = values.dropna().astype(str).str.strip()
    if text.empty:
        return ISO8601
    iso = _parse(text, ISO8601)
    if iso.notna().all():
        return ISO8601
    from pandas.tseries.api import guess_datetime_format

    candidates: dict[str, None] = {}
    with warnings.catch_warnings():  # pandas warns when a guess contradicts dayfirst
        warnings.simplefilter("ignore", UserWarning)
        for value in pd.unique(text[iso.isna()])[:_GUESS_SAMPLE]:
            for dayfirst in (False, True):
                guessed = guess_datetime_format(str(value), dayfirst=dayfirst)
                if guessed is not None:
                    candidates[guessed] = None
    parsed = {name: _parse(text, name) for name in candidates}
    complete = [name for name, result in parsed.items() if result.notna().all()]
    for first, second in zip(complete, complete[1:], strict=False):
        differ = (parsed[first] != parsed[second]).to_numpy()
        if differ.any():
            example = text.to_numpy()[np.flatnonzero(differ)[0]]
            raise InvalidDataError(
                f"Column '{column}': the dates are ambiguous: {example!r} reads as "
                f"{parsed[first].iloc[np.flatnonzero(differ)[0]]:%Y-%m-%d} with {first!r} and "
                f"{parsed[second].iloc[np.flatnonzero(differ)[0]]:%Y-%m-%d} with {second!r}. "
                f"Pass --date-format (e.g. --date-format '{second}')."
            )
    if complete:
        return complete[0]
    counts = {ISO8601: int(iso.notna().sum())}
    counts.update({name: int(result.notna().sum()) for name, result in parsed.items()})
    return max(counts, key=lambda name: counts[name])


def apply_date_format(values: pd.Series, date_format: str | None) -> tuple[pd.Series, np.ndarray]:
    """Parse a timestamp column with one format.

    Parameters
    ----------
    values : pandas.Series
        The raw column.
    date_format : str or None
        From :func:`choose_date_format`; ``None`` leaves the column as it is.

    Returns
    -------
    parsed : pandas.Series
        The datetimes (null where the value was null or did not parse).
    unparsed : numpy.ndarray of bool
        The rows with a value the format does not read.
    """
    if date_format is None or not _is_text(values):
        return values, np.zeros(len(values), dtype=bool)
    present = values.notna().to_numpy()
    parsed = _parse(values.astype("string").str.strip(), date_format)
    return parsed, present & parsed.isna().to_numpy()


def unparsed_dates_error(
    column: str,
    count: int,
    total: int,
    date_format: str,
    *,
    explicit: bool,
    values: pd.Series,
    customers: pd.Series,
) -> InvalidDataError:
    """Build the error for rows that the chosen date format does not read.

    Parameters
    ----------
    column : str
        The timestamp column.
    count, total : int
        Rows that did not parse, and rows read.
    date_format : str
        The format used.
    explicit : bool
        Whether the caller gave it (``--date-format``).
    values, customers : pandas.Series
        Some of the offending values and their customers, for examples.

    Returns
    -------
    clv.errors.InvalidDataError
    """
    shown = ", ".join(repr(str(value)) for value in pd.unique(values.astype(str))[:3])
    head = (
        f"Column '{column}': {count:,} rows cannot be parsed as dates "
        f"(customers {describe_examples(pd.unique(customers))})."
    )
    if explicit:
        return InvalidDataError(
            f"{head} They do not match --date-format {date_format!r} (values e.g. {shown})."
        )
    return InvalidDataError(
        f"{head} They are not in the format of the other {total - count:,} of {total:,} rows "
        f"({_describe_format(date_format)}; values e.g. {shown}); mixed date formats are not "
        "guessed: fix them or pass --date-format."
    )


def check_date_range(parsed: pd.Series, column: str, customers: pd.Series) -> None:
    """Refuse dates outside 1677-09-22 .. 2262-04-11.

    Raises
    ------
    clv.errors.InvalidDataError
    """
    if not (
        pd.api.types.is_datetime64_any_dtype(parsed.dtype)
        or isinstance(parsed.dtype, pd.DatetimeTZDtype)
    ):
        return
    naive = parsed.dt.tz_localize(None) if getattr(parsed.dt, "tz", None) is not None else parsed
    outside = ((naive < _LOWEST) | (naive > _HIGHEST)).to_numpy(dtype=bool)
    if outside.any():
        raise InvalidDataError(
            f"Column '{column}': {int(outside.sum()):,} rows have dates outside "
            f"{_LOWEST:%Y-%m-%d} .. {_HIGHEST:%Y-%m-%d} (e.g. {naive[outside].iloc[0]:%Y-%m-%d}; "
            f"customers {describe_examples(pd.unique(customers[outside]))})."
        )


def parse_timestamps(
    values: pd.Series, customers: pd.Series, *, column: str, date_format: str | None = None
) -> pd.Series:
    """Parse a whole timestamp column with one format, or raise.

    Returns
    -------
    pandas.Series

    Raises
    ------
    clv.errors.InvalidDataError
        If the format is ambiguous, some rows do not parse, or a date is out of range.
    """
    chosen = choose_date_format(values, column=column, date_format=date_format)
    parsed, unparsed = apply_date_format(values, chosen)
    if unparsed.any():
        raise unparsed_dates_error(
            column,
            int(unparsed.sum()),
            int(values.notna().sum()),
            str(chosen),
            explicit=date_format is not None,
            values=values[unparsed],
            customers=customers[unparsed],
        )
    check_date_range(parsed, column, customers)
    return parsed


def _read(location: Path, timestamp: str) -> pd.DataFrame:
    if is_parquet(location):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(location)
        except (pa.ArrowException, *READ_ERRORS) as error:
            raise read_error(location, error) from error
        try:
            return table.to_pandas()
        except (pa.ArrowException, *READ_ERRORS) as error:  # e.g. dates beyond pandas' range
            raise read_error(location, error) from error
    suffixes = [suffix.lower() for suffix in location.suffixes]
    separator = "\t" if ".tsv" in suffixes else ","
    try:
        return pd.read_csv(location, sep=separator, dtype={timestamp: str})
    except (pd.errors.ParserError, *READ_ERRORS) as error:
        if isinstance(error, FileNotFoundError | PermissionError):
            raise
        raise read_error(location, error) from error


def read_transactions(
    path: str | Path,
    *,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str = AMOUNT,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Read a transaction log from a CSV or parquet file, its timestamps parsed.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.csv`` (optionally ``.gz``/``.zip``/...), ``.txt``, ``.tsv`` or
        ``.parquet``/``.pq``.
    customer_id, timestamp, amount : str
        The file's column names (a missing one is reported later, by the
        transaction contract, with the others).
    date_format : str, optional
        The format of text timestamps; inferred when unambiguous (module notes).

    Returns
    -------
    pandas.DataFrame
        The file's columns; the timestamp column parsed to datetimes.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    clv.errors.InvalidDataError
        If the file is not a regular file, cannot be read, has a nested id column
        or dates that are ambiguous, mixed, unparseable or out of range.
    """
    del amount  # validated by the transaction contract
    location = check_transaction_file(path)
    frame = _read(location, timestamp)
    if customer_id in frame.columns:
        check_id_column(frame[customer_id], customer_id)
    if timestamp in frame.columns:
        customers = frame[customer_id] if customer_id in frame.columns else pd.Series(frame.index)
        frame[timestamp] = parse_timestamps(
            frame[timestamp], customers, column=timestamp, date_format=date_format
        )
    return frame
