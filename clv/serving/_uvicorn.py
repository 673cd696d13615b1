"""Run the clv scoring app under uvicorn, with a deadline for every request to arrive.

uvicorn has no read timeout: :class:`Protocol` (its h11 protocol, which also bounds
the request line and headers to 16 KiB) closes a connection whose next request has
not fully arrived within :attr:`clv.serving.limits.Limits.read_timeout` seconds of
the connection opening or the previous answer being sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from clv.errors import InvalidParameterError
from clv.serving.limits import Limits

__all__ = ["APP", "Protocol", "run"]

APP = "clv.serving.app:create_app"
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


def _listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket here, so that a port in use is a one-line error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as error:
        sock.close()
        raise InvalidParameterError(
            f"Cannot listen on {host[:60]}:{port}: {error.strerror or error}."
        ) from None
    sock.set_inheritable(True)  # uvicorn's worker processes share it
    return sock


def run(model_path: str, *, host: str, port: int, workers: int) -> None:
    """Serve the model folder ``model_path`` with uvicorn until a stop signal (blocks).

    One worker: the app is built here (a model that does not load is a
    :class:`~clv.errors.CLVError` before anything listens) and uvicorn's ``Server``
    runs it in this process. More: uvicorn's ``Multiprocess`` supervisor starts
    ``workers`` processes, each building the app from :data:`APP` with the folder
    named by ``CLV_SERVE_MODEL_PATH``. Either way with :class:`Protocol` and the
    limits above. After a stop signal, uvicorn shuts down gracefully and raises the
    signal again (the ``clv`` command then exits 130 or 143).
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from clv.serving.app import MODEL_PATH_ENV, create_app

    sock = _listen(host, port)
    previous = os.environ.get(MODEL_PATH_ENV)
    os.environ[MODEL_PATH_ENV] = model_path  # read by create_app, here or in the workers
    try:
        app: Any = create_app() if workers == 1 else APP
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            workers=workers,
            factory=workers > 1,
            http=Protocol,
            h11_max_incomplete_event_size=_HEADER_BYTES,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=10,
        )
        if workers == 1:
            uvicorn.Server(config).run(sockets=[sock])
        else:
            Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
        if previous is None:
            os.environ.pop(MODEL_PATH_ENV, None)
        else:
            os.environ[MODEL_PATH_ENV] = previous
