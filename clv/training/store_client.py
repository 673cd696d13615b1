"""The one place clv talks to an MLflow store: its client, and nothing private.

Every call goes through an explicit :class:`mlflow.tracking.MlflowClient` whose
tracking and registry URIs are the store (:func:`mlflow_client`), or names the
store in its arguments (:func:`download_artifacts`, :func:`load_registered_model`).
Only MLflow's fluent API for the runs of a training (``mlflow.start_run``,
``mlflow.log_*`` and ``mlflow.pyfunc.log_model``, which has no client form) reads a
process-wide URI: :func:`fluent_tracking` sets it for a block and restores it, with
MLflow's public functions only. clv touches no private MLflow state. Which store,
and whether it can be used: :mod:`clv.training.stores`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from clv.errors import InvalidParameterError
from clv.training.stores import artifact_location_for

__all__ = [
    "download_artifacts",
    "ensure_experiment",
    "fluent_tracking",
    "load_registered_model",
    "mlflow_client",
]

_TRACKING_ENV = "MLFLOW_TRACKING_URI"


def mlflow_client(tracking_uri: str) -> Any:
    """Return the MLflow client of a store, for its runs and its registry alike.

    Parameters
    ----------
    tracking_uri : str
        A resolved tracking URI (also used as the registry URI).

    Returns
    -------
    mlflow.tracking.MlflowClient
    """
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def ensure_experiment(name: str, tracking_uri: str) -> str:
    """Return the id of experiment ``name``, creating (or restoring) it if needed.

    A new experiment in a SQLite store gets the local artifact folder
    (:func:`artifact_location_for`).

    Parameters
    ----------
    name : str
        Experiment name.
    tracking_uri : str
        A resolved tracking URI.

    Returns
    -------
    str
        The experiment id.
    """
    if not name or not str(name).strip():
        raise InvalidParameterError("The experiment name must not be empty.")
    client = mlflow_client(tracking_uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    location = artifact_location_for(tracking_uri)
    if location is not None:
        Path(urlparse(location).path).mkdir(parents=True, exist_ok=True)
    return client.create_experiment(name, artifact_location=location)


@contextmanager
def fluent_tracking(tracking_uri: str) -> Iterator[str]:
    """Point MLflow's fluent tracking API at a store for a block, then restore it.

    Only for what has no client form (``mlflow.start_run`` around
    ``mlflow.pyfunc.log_model``). The process's tracking URI and the
    ``MLFLOW_TRACKING_URI`` variable are what they were afterwards, set back with
    :func:`mlflow.set_tracking_uri` (``None`` clears MLflow's own setting). The
    registry URI is never set: the registry is reached through
    :func:`mlflow_client`.

    Parameters
    ----------
    tracking_uri : str
        A resolved tracking URI.

    Yields
    ------
    str
        The tracking URI.
    """
    import mlflow
    from mlflow.tracking import is_tracking_uri_set

    variable = os.environ.get(_TRACKING_ENV)
    # MLflow's setting, when it differs from the variable (otherwise clearing it
    # and putting the variable back leaves the same URI in force).
    setting = mlflow.get_tracking_uri() if is_tracking_uri_set() else None
    mlflow.set_tracking_uri(tracking_uri)
    try:
        yield tracking_uri
    finally:
        mlflow.set_tracking_uri(None if setting == variable else setting)
        if variable is None:
            os.environ.pop(_TRACKING_ENV, None)
        else:
            os.environ[_TRACKING_ENV] = variable


def _location(artifact_uri: str, client: Any) -> str:
    """Where a ``models:/`` URI's files are, asked of the store's own registry.

    (MLflow's ``models:/`` download reads the process-wide registry URI instead.)
    """
    if not artifact_uri.startswith("models:/"):
        return artifact_uri
    rest = artifact_uri.removeprefix("models:/").strip("/")
    if "/" in rest:
        name, version = rest.rsplit("/", 1)
        if not version.isdigit():
            raise InvalidParameterError(
                f"Pin {artifact_uri!r} to a version number or an alias to download it."
            )
    elif "@" in rest:
        name, alias = rest.rsplit("@", 1)
        version = client.get_model_version_by_alias(name, alias).version
    else:  # a logged model id: models:/m-...
        return client.get_logged_model(rest).artifact_location
    return _location(client.get_model_version_download_uri(name, str(version)), client)


def download_artifacts(artifact_uri: str, tracking_uri: str, dst_path: str | None = None) -> str:
    """Download artifacts (``models:/``, ``runs:/`` or a store URI) from a named store.

    Parameters
    ----------
    artifact_uri : str
        What to download: ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``,
        ``models:/MODEL_ID``, ``runs:/RUN_ID/PATH`` or an artifact URI.
    tracking_uri : str
        The store (tracking and registry URI).
    dst_path : str, optional
        Local destination; a new temporary folder by default.

    Returns
    -------
    str
        The local path.
    """
    import mlflow

    return mlflow.artifacts.download_artifacts(
        artifact_uri=_location(artifact_uri, mlflow_client(tracking_uri)),
        dst_path=dst_path,
        tracking_uri=tracking_uri,
    )


def load_registered_model(name: str, version: str, tracking_uri: str) -> Any:
    """Load version ``version`` of the registered model ``name`` from a store.

    Parameters
    ----------
    name : str
        Registered model name.
    version : str
        Its version.
    tracking_uri : str
        The store.

    Returns
    -------
    mlflow.pyfunc.PyFuncModel
    """
    import mlflow

    local = download_artifacts(f"models:/{name}/{version}", tracking_uri)
    return mlflow.pyfunc.load_model(local)
