"""``clv serve``: a registered clv model over HTTP, on loopback by default.

:func:`serve` pins the model URI to one registry version, downloads its folder into
a temporary folder (removed on exit; one left by a killed server is removed by the
next, :mod:`clv.serving._workdir`), checks its bundled code against the digest
recorded at training (:func:`clv.serving._models.verify_model_folder`), and serves
it with uvicorn from this process (:func:`clv.serving._uvicorn.run`): clv's own
application (:mod:`clv.serving.app`), with MLflow's paths, request formats and
answers, a 4xx with a short message for every bad request, and the limits of
:mod:`clv.serving.limits`. ``server="mlflow"`` replaces the process by plain
``mlflow models serve`` on the same pinned version instead.

The endpoint has no authentication: an address that is not loopback is refused
unless ``allow_remote`` is given (:func:`is_loopback`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clv.errors import InvalidParameterError
from clv.serving.app import MODEL_PATH_ENV, build_app, create_app

__all__ = ["MODEL_PATH_ENV", "build_app", "create_app", "is_loopback", "serve", "server_command"]


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` (an address or a name) is this machine's loopback only.

    A name counts as loopback when every address it resolves to is a loopback one;
    a name that does not resolve does not count.
    """
    import ipaddress
    import socket

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    addresses = {item[4][0].split("%")[0] for item in found}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def _check_arguments(
    host: str, port: int, workers: int, server: str, allow_remote: bool = False
) -> None:
    if not isinstance(host, str) or not host.strip():
        raise InvalidParameterError(f"The 'host' parameter must be a host name. Got {host!r}.")
    if not allow_remote and not is_loopback(host):
        raise InvalidParameterError(
            f"--host {host[:60]} would expose the model to the network without authentication "
            "(clv serve has none); put it behind a proxy that authenticates and pass "
            "--allow-remote, or keep the default 127.0.0.1."
        )
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidParameterError(
            f"The 'port' parameter must be an int in the range [1, 65535]. Got {port!r} instead."
        )
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(
            f"The 'workers' parameter must be an int >= 1. Got {workers!r} instead."
        )
    if server not in ("clv", "mlflow"):
        raise InvalidParameterError(
            f"The 'server' parameter must be 'clv' or 'mlflow'. Got {server!r} instead."
        )


def server_command(
    model_uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    allow_remote: bool = False,
) -> list[str]:
    """Build the command line of plain ``mlflow models serve`` (``clv serve --server mlflow``).

    Parameters
    ----------
    model_uri : str
        Any MLflow model URI (``clv serve`` passes the pinned ``models:/NAME/VERSION``).
    host, port, workers
        Where to listen and how many uvicorn worker processes MLflow runs.
    allow_remote : bool, default False
        Allow a ``host`` that is not loopback (see :func:`serve`).

    Returns
    -------
    list of str
    """
    _check_arguments(host, port, workers, "mlflow", allow_remote)
    return [
        sys.executable,
        *("-m", "mlflow", "models", "serve", "-m", str(model_uri)),
        *("--env-manager", "local", "-h", host, "-p", str(port), "-w", str(workers)),
    ]


def _run_mlflow(resolved: Any, host: str, port: int, workers: int, allow_remote: bool) -> None:
    """Replace this process by plain ``mlflow models serve`` on the pinned model (no return)."""
    command = server_command(
        resolved.pinned_uri, host=host, port=port, workers=workers, allow_remote=allow_remote
    )
    environment = dict(os.environ, MLFLOW_TRACKING_URI=resolved.tracking_uri)
    # `mlflow models serve` runs the `uvicorn` script found on PATH.
    bin_dir = str(Path(sys.executable).parent)
    environment["PATH"] = os.pathsep.join([bin_dir, environment.get("PATH", "")])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], command, environment)


def serve(
    model_uri: str,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    tracking_uri: str | None = None,
    *,
    server: str = "clv",
    allow_remote: bool = False,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Serve a model over HTTP until the server stops (blocks).

    The model URI is resolved and pinned to one registry version
    (``models:/clv@champion`` -> ``models:/clv/3``), its folder downloaded once and
    its code checked against its digest; then uvicorn serves it from this process
    (``workers`` > 1: uvicorn's own supervisor runs that many worker processes), on
    loopback by default, until Ctrl-C or SIGTERM.

    Parameters
    ----------
    model_uri : str
        ``models:/NAME@champion`` or any MLflow model URI.
    host : str, default "127.0.0.1"
        Interface to listen on. The endpoint has no authentication: an address that
        is not loopback (``0.0.0.0``, a LAN address) is refused unless
        ``allow_remote`` is true; use it only behind a proxy that authenticates.
    port : int, default 5000
        TCP port.
    workers : int, default 1
        uvicorn worker processes (each loads the model).
    tracking_uri : str, optional
        MLflow store holding the registry (``MLFLOW_TRACKING_URI`` or
        ``sqlite:///mlflow.db`` by default).
    server : {"clv", "mlflow"}, default "clv"
        ``"mlflow"`` replaces this process by plain ``mlflow models serve
        --env-manager local`` on the pinned model (:func:`server_command`).
    allow_remote : bool, default False
        Listen on a non-loopback ``host`` (``progress`` then gets a warning).
    progress : callable, optional
        Called with one line of text (what is served, where).

    Returns
    -------
    int
        0 when the server was stopped by a signal or Ctrl-C.

    Raises
    ------
    clv.errors.ModelLoadError
        If the model cannot be found, downloaded or verified.
    clv.errors.InvalidParameterError
        For a bad host, port, worker count or server, or a port that is in use.
    """
    from clv.serving._models import download_model, resolve_model, verify_model_folder
    from clv.serving._uvicorn import run
    from clv.serving._workdir import owned_temporary_folder

    _check_arguments(host, port, workers, server, allow_remote)
    if progress is not None and not is_loopback(host):
        progress(
            f"warning: listening on {host[:60]}: anyone who can reach this address can use "
            "the model (clv serve has no authentication)"
        )
    resolved = resolve_model(model_uri, tracking_uri)
    pinned = resolved.pinned_uri
    where = (
        f"serving {pinned}"
        + (f" ({resolved.uri})" if pinned != resolved.uri else "")
        + f" on http://{host}:{port} with {workers} worker(s); Ctrl-C stops it"
    )
    if server == "mlflow":
        if progress is not None:
            progress(where + " (plain mlflow models serve)")
        _run_mlflow(resolved, host, port, workers, allow_remote)
    # A folder left by a `clv serve` that was killed (kill -9) is removed here.
    with owned_temporary_folder("clv-serve-") as folder:
        path = download_model(resolved, folder)
        verify_model_folder(path)
        if progress is not None:
            progress(where)
        run(str(path), host=host, port=port, workers=workers)
    return 0
