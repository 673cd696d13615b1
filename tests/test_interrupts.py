"""SIGINT and SIGTERM stop a clv command, but never half-way through a database call."""

from __future__ import annotations

import os
import signal
import time

import pytest

from clv._interrupts import interrupts_as_keyboard_interrupt

# a function whose frame looks like SQLAlchemy's to the handler, as a commit would
_DATABASE = {"__name__": "sqlalchemy.engine.fake", "os": os, "time": time}
exec(  # noqa: S102 - a module namespace of its own, for the frame's __name__
    "def commit(signum, log):\n"
    "    log.append('begin')\n"
    "    os.kill(os.getpid(), signum)\n"
    "    time.sleep(0.05)\n"  # the held-back interruption is retried meanwhile
    "    log.append('end')\n",
    _DATABASE,
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_becomes_one_keyboard_interrupt(signum):
    with pytest.raises(KeyboardInterrupt, match=signal.Signals(signum).name):
        with interrupts_as_keyboard_interrupt() as received:
            os.kill(os.getpid(), signum)
            time.sleep(1)
    assert received == [signum]


def test_a_stop_signal_inside_a_database_call_waits_for_it_to_return():
    log: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_as_keyboard_interrupt():
            _DATABASE["commit"](signal.SIGTERM, log)
            log.append("after")
            time.sleep(1)
    assert log[:2] == ["begin", "end"]  # the call was not cut in half


def test_the_previous_handlers_come_back():
    before = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
    with interrupts_as_keyboard_interrupt():
        pass
    assert {n: signal.getsignal(n) for n in before} == before
