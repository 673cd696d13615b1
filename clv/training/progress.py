"""Progress lines for long steps: what starts, and how long it took when it is done.

A progress callback takes one line of text (``clv train`` prints it). A step that
can take more than a moment announces itself when it starts and reports its time
when it ends, so a terminal never sits silent through a long fit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Progress", "notify", "step"]

#: Receives one line of text per event.
Progress = Callable[[str], None]


def notify(progress: Progress | None, message: str) -> None:
    """Send ``message`` to ``progress`` if there is one."""
    if progress is not None:
        progress(message)


@contextmanager
def step(progress: Progress | None, doing: str, done: str) -> Iterator[dict[str, str]]:
    """Send ``doing ...``, run the block, then send ``done in X.X s``.

    Yields a dict: set ``"detail"`` in it to append text to the ``done`` line (e.g. a metric).
    """
    notify(progress, f"{doing} ...")
    started = time.perf_counter()
    note = {"detail": ""}
    yield note
    notify(progress, f"{done} in {time.perf_counter() - started:.1f} s{note['detail']}")
