"""Run the clv scoring app under uvicorn, with a deadline for every request to arrive.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but has no read
timeout: a client that sends its headers one byte at a time, or half a body, holds
the connection (and the request's task) for as long as it likes. :class:`Protocol`
is uvicorn's h11 protocol with one addition: from the moment a connection opens or
its previous answer is sent, the next request (line, headers and body) must arrive
within :attr:`clv.serving.limits.Limits.read_timeout` seconds, or the connection is
closed. h11 (not httptools) because it also bounds the size of the request line
and headers (``h11_max_incomplete_event_size``, 16 KiB).

``python -m clv.serving._uvicorn --host H --port P --workers N`` is what
:func:`clv.serving.server.serve` runs; the application is
``clv.serving.server:create_app`` (a factory, loaded in each worker).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from clv.serving.limits import Limits

__all__ = ["APP", "Protocol", "main"]

APP = "clv.serving.server:create_app"
_HEADER_BYTES = 16 * 1024

logger = logging.getLogger("uvicorn.error")


class Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request does not arrive in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timeout = Limits.from_environment().read_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_after: Any = None

    def _arm(self) -> None:
        self._disarm()
        # The request being waited for is the first one whose cycle is not this one.
        self._waiting_after = self.cycle
        self._deadline = self.loop.call_later(self._read_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            logger.info("closed a connection whose request did not arrive in time")
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request."""
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Stop the clock once the whole request (headers and body) has arrived."""
        super().data_received(data)
        cycle = self.cycle
        if (
            self._deadline is not None
            and cycle is not None
            and cycle is not self._waiting_after
            and not cycle.more_body
        ):
            self._disarm()

    def on_response_complete(self) -> None:
        """Start the clock for the next request on this connection."""
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._disarm()
        super().connection_lost(exc)


def main(argv: list[str] | None = None) -> None:
    """Run uvicorn on the clv app with :class:`Protocol` (see the module docstring)."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m clv.serving._uvicorn")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args(argv)
    uvicorn.run(
        APP,
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        http="clv.serving._uvicorn:Protocol",
        h11_max_incomplete_event_size=_HEADER_BYTES,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":  # pragma: no cover - the server process
    main()
