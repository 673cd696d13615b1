"""Which MLflow store clv uses, and whether it can be used (before any work).

Which store
-----------
Without a URI, clv uses an embedded SQLite store, ``sqlite:///mlflow.db`` in the
working directory, with artifacts in the folder ``mlartifacts`` next to it (set as
the experiment's artifact location when clv creates the experiment). No server is
needed; open the UI with ``mlflow ui --backend-store-uri sqlite:///mlflow.db``.
Any other MLflow URI works too (``http://host:5000`` for a real ``mlflow server``,
``databricks``, another SQLAlchemy database); a server decides its own artifact
location. The deprecated file store (a plain path or ``file:`` URI) is refused
(:func:`resolve_tracking_uri`). How clv talks to the store:
:mod:`clv.training.store_client`.

Is it usable
------------
:func:`check_store` answers in at most a few seconds, with one clear error, for the
stores that otherwise fail late, slowly or with a traceback:

* ``sqlite:///path``: the file must be a SQLite database (a CSV or any other file
  is refused); a store that does not exist is refused by commands that only read
  (``clv score``, ``clv serve``, ``clv report``, ``clv promote``) *without
  creating it*, and created only by ``clv train`` (its folder must exist);
* ``mysql://``, ``postgresql://``, ``mssql://`` (with or without ``+driver``): the
  Python driver must be installed;
* ``http://`` / ``https://``: the server must accept a TCP connection within
  :data:`CONNECT_TIMEOUT` seconds (a closed port fails at once, not after MLflow's
  retries).

:data:`HTTP_DEFAULTS` are the bounded retry settings the ``clv`` command gives
MLflow's HTTP client when the user has not set them.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path
from urllib.parse import unquote, urlparse

from clv.errors import InvalidParameterError

__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_ARTIFACT_DIR",
    "DEFAULT_TRACKING_URI",
    "HTTP_DEFAULTS",
    "artifact_location_for",
    "check_store",
    "resolve_tracking_uri",
]

#: The embedded store used when no URI is given (relative to the working directory).
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
#: Folder, next to a SQLite store, that holds the artifacts of experiments clv creates.
DEFAULT_ARTIFACT_DIR = "mlartifacts"

#: Seconds to wait for a tracking server to accept a connection.
CONNECT_TIMEOUT = 5.0

#: MLflow HTTP settings used by the ``clv`` command unless set in the environment
#: (MLflow's own defaults retry for about four minutes).
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}

_SQLITE_HEADER = b"SQLite format 3\x00"
_DATABASES = {"mysql": "mysqlclient", "postgresql": "psycopg", "mssql": "pyodbc"}
_SCHEMELESS_STORES = ("databricks", "databricks-uc")


def resolve_tracking_uri(tracking_uri: str | None = None) -> str:
    """Return the tracking URI to use: the given one, or the embedded SQLite store.

    Parameters
    ----------
    tracking_uri : str, optional
        Any MLflow tracking URI. ``None`` means the ``MLFLOW_TRACKING_URI``
        environment variable if set, else ``sqlite:///mlflow.db`` in the working
        directory (returned as an absolute ``sqlite:////...`` URI, so that child
        processes started elsewhere find the same store).

    Returns
    -------
    str

    Raises
    ------
    clv.errors.InvalidParameterError
        For a plain path or a ``file:`` URI (MLflow's deprecated file store).
        ``databricks`` and ``databricks-uc`` (and ``databricks://profile``) are
        MLflow's workspace stores, not paths, and are accepted.
    """
    if tracking_uri is None:
        tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or None
    if tracking_uri is None or tracking_uri == DEFAULT_TRACKING_URI:
        return "sqlite:///" + Path("mlflow.db").resolve().as_posix()
    uri = str(tracking_uri).strip()
    if uri in _SCHEMELESS_STORES:
        return uri  # MLflow's names for the Databricks workspace stores
    scheme = urlparse(uri).scheme
    if not uri or scheme in ("", "file") or (len(scheme) == 1 and uri[1:3] in (":\\", ":/")):
        raise InvalidParameterError(
            f"The tracking URI {tracking_uri!r} names MLflow's deprecated file store; use a "
            "database such as 'sqlite:///mlflow.db' or a server URI such as "
            "'http://127.0.0.1:5000'."
        )
    return uri


def sqlite_path(tracking_uri: str) -> Path | None:
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite" or tracking_uri.startswith("sqlite:///:memory:"):
        return None
    path = unquote(tracking_uri[len("sqlite:///") :])
    return Path(path) if path else None


def artifact_location_for(tracking_uri: str) -> str | None:
    """Artifact location for a new experiment: ``mlartifacts`` next to a SQLite store's file.

    ``None`` (the store's or server's own default) for any other store.
    """
    database = sqlite_path(tracking_uri)
    if database is None:
        return None
    return (database.resolve().parent / DEFAULT_ARTIFACT_DIR).as_uri()


def _check_sqlite(uri: str, *, create: bool) -> None:
    path = sqlite_path(uri)
    if path is None:
        return
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if not create:
            raise InvalidParameterError(
                f"No MLflow store at {path}: train a model first (clv train) or pass "
                "--tracking-uri."
            ) from None
        if not path.resolve().parent.is_dir():
            raise InvalidParameterError(
                f"No such folder for the MLflow store {uri}: {path.resolve().parent}"
            ) from None
        return
    if not stat.S_ISREG(mode):
        raise InvalidParameterError(f"The MLflow store {path} is not a regular file.")
    with open(path, "rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER and (header or not create):
        raise InvalidParameterError(
            f"The tracking URI {uri} points at {path}, which is not a SQLite database."
        )


def _check_driver(uri: str, backend: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        dialect = make_url(uri).get_dialect()
        dialect.import_dbapi()
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise InvalidParameterError(f"Invalid database tracking URI {uri!r}: {error}") from None
    except ImportError as error:
        raise InvalidParameterError(
            f"The tracking URI {urlparse(uri).scheme}://... needs a {backend} driver that is "
            f"not installed ({error}); install it (e.g. pip install {_DATABASES[backend]}) "
            "or use sqlite:///mlflow.db."
        ) from None


def _check_server(uri: str) -> None:
    parsed = urlparse(uri)
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError as error:
        raise InvalidParameterError(f"Invalid tracking URI {uri!r}: {error}") from None
    if not parsed.hostname:
        raise InvalidParameterError(f"Invalid tracking URI {uri!r}: no host.")
    try:
        with socket.create_connection((parsed.hostname, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise InvalidParameterError(
            f"Cannot reach the MLflow server at {uri} ({parsed.hostname}:{port}): {reason}."
        ) from None


def check_store(tracking_uri: str, *, create: bool = False) -> str:
    """Check that an MLflow store can be used, quickly and without side effects.

    Parameters
    ----------
    tracking_uri : str
        A resolved tracking URI (:func:`clv.training.stores.resolve_tracking_uri`).
    create : bool, default False
        Whether a SQLite store may be created (``clv train``); otherwise a store
        that does not exist is an error and nothing is created.

    Returns
    -------
    str
        The tracking URI.

    Raises
    ------
    clv.errors.InvalidParameterError
        If the store is missing (and may not be created), is not a database, needs
        a driver that is not installed, or its server cannot be reached.
    """
    scheme = urlparse(tracking_uri).scheme.lower()
    backend = scheme.split("+", 1)[0]
    if backend == "sqlite":
        _check_sqlite(tracking_uri, create=create)
    elif backend in _DATABASES:
        _check_driver(tracking_uri, backend)
    elif scheme in ("http", "https"):
        _check_server(tracking_uri)
    return tracking_uri
