"""Where batch scores go: the output path checked, and the scores published atomically.

:func:`check_paths` refuses an output that is the transaction file itself (by any
path) before anything is read or written; :class:`ScoreWriter` appends scored chunks to a
temporary file in the run's work folder and publishes it with :func:`os.replace` only
when every customer is scored (:mod:`clv.serving.batch`, "Atomic output").
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pandas as pd

from clv.errors import InvalidDataError, InvalidParameterError
from clv.features.io import check_transaction_file, is_parquet


def _check_output(output: str | Path) -> Path:
    location = Path(output)
    if not (is_parquet(location) or location.suffix.lower() == ".csv"):
        raise InvalidParameterError(
            f"The output {str(location)!r} must end in .parquet, .pq or .csv (the format "
            "follows the extension)."
        )
    parent = location.resolve().parent
    if not parent.is_dir():
        raise FileNotFoundError(f"No such folder for the output: {parent}")
    if location.is_dir():
        raise IsADirectoryError(f"The output is a directory: {location}")
    if location.exists() and not stat.S_ISREG(location.stat().st_mode):
        raise InvalidParameterError(f"The output {location} exists and is not a regular file.")
    return location


def check_paths(transactions_path: str | Path, output: str | Path) -> tuple[Path, Path]:
    """Check the transaction file and the output of a scoring job (both engines).

    Parameters
    ----------
    transactions_path, output : str or pathlib.Path
        As given to ``score_file``.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        The transaction file and the output.

    Raises
    ------
    clv.errors.InvalidParameterError
        If the output is the transaction file (through any path, symlink or hard
        link), or its extension is unknown.
    FileNotFoundError, IsADirectoryError, clv.errors.InvalidDataError
        See :func:`clv.features.io.check_transaction_file`.
    """
    source = check_transaction_file(transactions_path)
    target = _check_output(output)
    same = source.resolve() == target.resolve()
    if not same and target.exists():
        same = os.path.samefile(source, target)
    if same:
        raise InvalidParameterError(
            f"The output {str(target)!r} is the transaction file {str(source)!r}: scoring "
            "would replace the log with its scores. Choose another --output."
        )
    return source, target


class ScoreWriter:
    """Append scored chunks to a temporary file; publish it with os.replace."""

    def __init__(self, output: Path, folder: Path) -> None:
        self.output = output
        self.temporary = folder / f"scores{output.suffix}"
        self.parquet = is_parquet(output)
        self.writer: Any = None
        self.handle: Any = None
        self.schema: Any = None
        self.rows = 0

    def append(self, frame: pd.DataFrame) -> None:
        """Write one chunk of scores to the temporary file."""
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.writer is None:
                self.schema = table.schema
                # Dictionary pages for the text columns only (a handful of distinct
                # values): tried on unique floats, they cost ~40% of the write for nothing.
                text = [
                    f.name
                    for f in self.schema
                    if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                ]
                self.writer = pq.ParquetWriter(
                    self.temporary, self.schema, use_dictionary=text or False
                )
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
        """Publish the scores at the output path; refuse an empty result."""
        self._close()
        if self.rows == 0:
            raise InvalidDataError("No customer was scored: nothing to write.")
        os.replace(self.temporary, self.output)

    def abort(self) -> None:
        """Close and delete the temporary file: the output is left as it was."""
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
