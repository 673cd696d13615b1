"""Turn Ctrl-C and SIGTERM into one interruption, never inside a database call.

``clv`` handles SIGTERM like Ctrl-C: the command stops with a
:class:`KeyboardInterrupt`, its cleanup runs (a training marks its MLflow runs and
logged models ``FAILED``, a batch job removes its partial files) and the command
prints one line and exits ``128 + signal``.

Python runs a signal handler between two bytecodes of the main thread, wherever
that is. An interruption raised inside SQLAlchemy, half-way through a commit of
MLflow's tracking store, can leave the store's session unusable: the cleanup that
must mark the runs failed then fails too, or the interruption is swallowed by the
library and the command goes on. So the handler looks at where it landed: inside
SQLAlchemy or the sqlite3 driver it only records the signal and asks to be called
again a few milliseconds later (``SIGALRM``), until the main thread is back in
clv's or MLflow's own code, where the interruption is raised. A database call lasts
milliseconds; the delay is not noticeable.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["STOP_SIGNALS", "interrupts_as_keyboard_interrupt"]

#: The signals that stop a ``clv`` command.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Modules in which an interruption is held back until the call returns.
_HOLD_IN = ("sqlalchemy", "sqlite3", "_sqlite3")
#: Seconds before a held-back interruption is tried again.
_RETRY = 0.005


def _in_database_call(frame: FrameType | None) -> bool:
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.split(".", 1)[0] in _HOLD_IN:
            return True
        frame = frame.f_back
    return False


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[list[int]]:
    """Raise :class:`KeyboardInterrupt` on SIGINT or SIGTERM within the block.

    Yields the list of signals received (the first names the interruption); the
    previous handlers of both signals and of ``SIGALRM`` are restored on exit.
    """
    received: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        if signum != signal.SIGALRM:
            received.append(signum)
        if not received:
            return
        if _in_database_call(frame):
            signal.setitimer(signal.ITIMER_REAL, _RETRY)
            return
        raise KeyboardInterrupt(signal.Signals(received[0]).name)

    numbers = (*STOP_SIGNALS, signal.SIGALRM)
    previous = {number: signal.signal(number, stop) for number in numbers}
    try:
        yield received
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for number, handler in previous.items():
            signal.signal(number, handler)
