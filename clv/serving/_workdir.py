"""A temporary folder that a later run removes if its owner was killed.

``clv serve`` downloads the model into a temporary folder and removes it when it
stops; ``kill -9`` gives it no chance to. Each folder therefore holds a lock file,
locked (``flock``) for as long as its owner lives: the kernel releases the lock when
the process dies, however it dies. Every new folder of the same prefix first
removes the folders whose lock it can take -- those whose owner is gone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["owned_temporary_folder", "remove_abandoned"]

_LOCK = ".owner.lock"


def _try_lock(path: Path) -> int | None:
    try:
        descriptor = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return None
    return descriptor


def remove_abandoned(prefix: str, parent: str | Path | None = None) -> list[Path]:
    """Remove the folders ``<parent>/<prefix>*`` (default: the temporary folder) whose owner died.

    Abandoned: its lock file exists and nobody holds the lock. Folders without a
    lock file (other programs', or being created) are kept. Returns those removed.
    """
    root = Path(parent if parent is not None else tempfile.gettempdir())
    removed = []
    for folder in sorted(root.glob(f"{prefix}*")):
        lock = folder / _LOCK
        if folder.is_symlink() or not folder.is_dir() or not lock.is_file():
            continue
        descriptor = _try_lock(lock)
        if descriptor is None:
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(descriptor)
    return removed


@contextmanager
def owned_temporary_folder(prefix: str) -> Iterator[Path]:
    """Yield a new temporary folder, locked while the block runs, removed afterwards.

    Abandoned folders of the same prefix (:func:`remove_abandoned`) are removed first.
    """
    remove_abandoned(prefix)
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    # Locked under another name, then renamed: nobody sees the lock file unlocked.
    pending = folder / f"{_LOCK}.new"
    descriptor = os.open(pending, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        pending.rename(folder / _LOCK)
        yield folder
    finally:
        os.close(descriptor)
        shutil.rmtree(folder, ignore_errors=True)
