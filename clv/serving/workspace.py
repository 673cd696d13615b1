"""One work folder per scoring run, next to its output; what killed runs left is swept.

``clv score`` writes everything (the model, bucket files, the scores before their
final rename) into ``.<output name>.clv-score-<host>-<pid>-<random>`` in the
output's folder. It is removed when the run ends, however it ends (a second
Ctrl-C/SIGTERM waits for the removal). A run killed outright (``kill -9``, power
loss) cannot remove it, so every run first removes the folders for the same output
whose process, on this host, no longer exists. Folders of live runs and of other
hosts (a shared file system) are never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["work_folder"]

_WORK_MARK = ".clv-score-"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _sweep(target: Path) -> int:
    """Remove work folders left for ``target`` by killed runs on this host; count them."""
    host = socket.gethostname()
    prefix = f".{target.name}{_WORK_MARK}"
    removed = 0
    for entry in target.resolve().parent.iterdir():
        if not entry.name.startswith(prefix) or not entry.is_dir() or entry.is_symlink():
            continue
        owner, _, rest = entry.name[len(prefix) :].rpartition("-")
        owner_host, _, pid = owner.rpartition("-")
        if owner_host != host or not pid.isdigit() or not rest:
            continue
        if int(pid) != os.getpid() and not _process_exists(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


@contextmanager
def work_folder(target: Path) -> Iterator[tuple[Path, int]]:
    """Yield a new work folder next to the output ``target`` (removed afterwards) and the count swept."""
    swept = _sweep(target)
    name = f".{target.name}{_WORK_MARK}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder = target.resolve().parent / name
    folder.mkdir()
    try:
        yield folder, swept
    finally:
        # A second Ctrl-C / SIGTERM waits until the folder is gone (then interrupts).
        mask = getattr(signal, "pthread_sigmask", None)  # POSIX only
        blocked = mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if mask else None
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            if mask is not None:
                mask(signal.SIG_SETMASK, blocked)
