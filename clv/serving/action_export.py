"""The action lists of ``clv score --actions DIR``: whom to call, per segment.

After a scoring run has written its scores, :func:`write_action_lists` writes one CSV
per segment (``DIR/<segment>.csv``, e.g. ``high_value_at_risk.csv``): the segment's
customers ranked by value at risk (``clv x churn_probability``, see
:mod:`clv.models.actions`), with the columns a CRM import needs -- id, segment, its
name and action, CLV, value at risk, P(alive), expected purchases and the date of the
last purchase on or before the scoring day (read from the transaction file). Each
file is written to a temporary name and renamed, so a list is complete or absent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from clv.errors import InvalidParameterError

__all__ = ["write_action_lists"]

_SCORE_COLUMNS = [
    "customer_id",
    "segment",
    "clv",
    "churn_probability",
    "probability_alive",
    "expected_purchases",
]


def _read_scores(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path, columns=_SCORE_COLUMNS)
    return pd.read_csv(path, usecols=_SCORE_COLUMNS)


def _last_purchases(
    transactions_path: Path, *, as_of: object, customer_id: str, timestamp: str, **reading: Any
) -> pd.Series:
    from clv.features.io import read_transactions

    log = read_transactions(
        transactions_path, customer_id=customer_id, timestamp=timestamp, **reading
    )
    stamps = log[timestamp]
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    if getattr(stamps.dt, "tz", None) is not None:
        end = end.tz_localize(stamps.dt.tz)
    seen = stamps < end
    return stamps[seen].groupby(log.loc[seen, customer_id]).max()


def _file_name(segment: str) -> str:
    return segment.replace(" ", "_") + ".csv"


def write_action_lists(
    scores_path: str | Path,
    transactions_path: str | Path,
    folder: str | Path,
    *,
    as_of: object,
    segments: Sequence[str] | None = None,
    top: int | None = None,
    actions: dict[str, Any] | None = None,
    customer_id: str = "customer_id",
    timestamp: str = "timestamp",
    date_format: str | None = None,
) -> dict[str, Path]:
    """Write the per-segment action lists of a scoring run.

    Parameters
    ----------
    scores_path : str or pathlib.Path
        The scores ``clv score`` wrote (``.parquet`` or ``.csv``).
    transactions_path : str or pathlib.Path
        The transaction file that was scored (for the last purchase dates).
    folder : str or pathlib.Path
        Where the lists go; created if missing.
    as_of : date-like
        The scoring day.
    segments : sequence of str, optional
        The segments to list (default: every segment with customers).
    top : int, optional
        At most this many customers per list.
    actions : dict, optional
        Overrides of :data:`clv.models.actions.DEFAULT_ACTIONS`.
    customer_id, timestamp : str
        The transaction file's column names.
    date_format : str, optional
        The format of the file's text timestamps.

    Returns
    -------
    dict of str to pathlib.Path
        Segment -> written file.
    """
    from clv.models.actions import action_lists

    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise InvalidParameterError(f"--actions must be a folder; {target} is a file.")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InvalidParameterError(f"The list length must be a whole number >= 1; got {top!r}.")
    scores = _read_scores(Path(scores_path))
    last = _last_purchases(
        Path(transactions_path),
        as_of=as_of,
        customer_id=customer_id,
        timestamp=timestamp,
        date_format=date_format,
    )
    scores["last_purchase"] = last.reindex(scores["customer_id"].to_numpy()).to_numpy()
    lists = action_lists(
        scores, segments=list(segments) if segments else None, actions=actions, top=top
    )
    target.mkdir(parents=True, exist_ok=True)
    written = {}
    for segment, frame in lists.items():
        path = target / _file_name(segment)
        with tempfile.NamedTemporaryFile(
            "w", dir=target, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            try:
                frame.to_csv(handle, index=False, date_format="%Y-%m-%d")
            except BaseException:
                handle.close()
                os.unlink(handle.name)
                raise
        os.replace(handle.name, path)
        written[segment] = path
    return written
