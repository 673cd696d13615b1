"""Parse a timestamp column with one date format, never guessed row by row.

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

import warnings

import numpy as np
import pandas as pd

from clv.errors import InvalidDataError, describe_examples
from clv.features._contract import TIMESTAMP

__all__ = [
    "ISO8601",
    "apply_date_format",
    "check_date_range",
    "choose_date_format",
    "parse_timestamps",
    "unparsed_dates_error",
]

#: The ``date_format`` meaning "ISO 8601, any precision, with or without a zone".
ISO8601 = "ISO8601"

_LOWEST = pd.Timestamp.min.ceil("D")
_HIGHEST = pd.Timestamp.max.floor("D")
_GUESS_SAMPLE = 20


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
    """Return the one format that reads a timestamp column (or a sample of it).

    ``date_format`` (the caller's) is returned unchanged; ``None`` means the column
    holds no text. Raises :class:`~clv.errors.InvalidDataError` if two formats read
    every row but disagree (ambiguous day and month).
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
    """Parse a column with one format (``None`` leaves it); return it and the unread rows."""
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
    """Return the error for ``count`` of ``total`` rows the format does not read.

    ``explicit``: the caller gave the format; ``values`` and ``customers`` are some
    of the offending rows, for examples.
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
    """Raise :class:`~clv.errors.InvalidDataError` for dates outside 1677-09-22 .. 2262-04-11."""
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
    """Parse a whole timestamp column with one format.

    Raises :class:`~clv.errors.InvalidDataError` if the format is ambiguous, some
    rows do not parse, or a date is out of range.
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
