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

Dates are parsed by :mod:`clv.features.dates` (one format per column, never
guessed row by row).
"""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from clv.errors import InvalidDataError, describe_examples
from clv.features._contract import AMOUNT, CUSTOMER_ID, TIMESTAMP
from clv.features.dates import parse_timestamps

__all__ = [
    "READ_ERRORS",
    "check_file_columns",
    "check_id_column",
    "check_transaction_file",
    "is_parquet",
    "read_error",
    "read_transactions",
]

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


def is_parquet(path: Path) -> bool:
    """Whether ``path`` names a parquet file (by its last suffix)."""
    return path.suffix.lower() in _PARQUET


def check_transaction_file(path: str | Path) -> Path:
    """Return ``path`` as a Path once it is a regular file of a known format.

    Raises :class:`FileNotFoundError`, :class:`IsADirectoryError`, or
    :class:`~clv.errors.InvalidDataError` for a FIFO, socket or device (a reader
    could block on it forever) or an unknown format.
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


def check_file_columns(found: Sequence[object], columns: Sequence[str]) -> None:
    """Raise :class:`~clv.errors.InvalidDataError` naming the mapped columns a file lacks."""
    missing = [name for name in columns if name not in found]
    if missing:
        raise InvalidDataError(
            f"The transaction file lacks column(s) {', '.join(map(repr, missing))}; found "
            f"{', '.join(map(repr, map(str, list(found)[:10])))}. Map your names with "
            "--customer-id, --timestamp, --amount."
        )


def read_error(path: Path, error: BaseException) -> InvalidDataError:
    """Return a reader's exception (one of :data:`READ_ERRORS`) as one line naming the file."""
    text = str(error).strip().splitlines()
    reason = text[0][:200] if text else type(error).__name__
    if isinstance(error, EOFError):
        reason = f"the file is truncated ({reason})"
    return InvalidDataError(f"Cannot read {path}: {reason}")


def check_id_column(values: pd.Series, column: str) -> None:
    """Raise :class:`~clv.errors.InvalidDataError` for ids that are lists, arrays, maps or sets."""
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
