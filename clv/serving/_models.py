"""Find a model in an MLflow store and pin it to one registry version.

Shared by the endpoint (:mod:`clv.serving.server`) and batch scoring
(:mod:`clv.serving.batch`). An alias such as ``models:/clv@champion`` is resolved to
a version number once, and everything afterwards uses ``models:/clv/<version>``:
if the alias moves while a job runs, the job keeps scoring with the version it
started with, and the version it reports is the one it used.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from clv.errors import ModelLoadError
from clv.errors import first_line as _first_line

MODELS_SCHEME = "models:/"


@dataclass(frozen=True)
class ResolvedModel:
    """A model URI pinned to what it pointed at when it was resolved.

    Attributes
    ----------
    uri : str
        The URI as given (``models:/clv@champion``).
    pinned_uri : str
        ``models:/NAME/VERSION`` for a registered model, else ``uri``.
    name : str or None
        Registered model name, if any.
    version : str or None
        Registry version number, if the URI names a registered model.
    tracking_uri : str
        The MLflow store used.
    """

    uri: str
    pinned_uri: str
    name: str | None
    version: str | None
    tracking_uri: str

    @property
    def label(self) -> str:
        """What to record as ``model_version``: the version number, else the URI."""
        return self.version if self.version is not None else self.uri


def _is_local_path(model_uri: str) -> bool:
    scheme = urlparse(model_uri).scheme
    return scheme in ("", "file") or (len(scheme) == 1 and model_uri[1:3] in (":\\", ":/"))


def resolve_model(model_uri: str, tracking_uri: str | None = None) -> ResolvedModel:
    """Pin a model URI to a registry version.

    Parameters
    ----------
    model_uri : str
        ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, ``models:/NAME/latest``,
        ``models:/NAME/STAGE``, a ``runs:/`` URI, a logged-model URI
        (``models:/m-...``) or a local model folder.
    tracking_uri : str, optional
        MLflow store; ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db`` by default
        (:func:`clv.training.stores.resolve_tracking_uri`).

    Returns
    -------
    ResolvedModel

    Raises
    ------
    clv.errors.ModelLoadError
        If the store has no such registered model, alias or version.
    clv.errors.InvalidParameterError
        If the store does not exist (it is not created), is not a database or
        cannot be reached (:func:`clv.training.stores.check_store`).
    """
    from clv.training.stores import resolve_tracking_uri

    if not isinstance(model_uri, str) or not model_uri.strip():
        raise ModelLoadError(
            f"The model URI must be a non-empty string. Got {model_uri!r} instead."
        )
    model_uri = model_uri.strip()
    uri = resolve_tracking_uri(tracking_uri)
    if _is_local_path(model_uri):
        path = Path(model_uri.removeprefix("file://"))
        if not (path / "MLmodel").is_file():
            raise ModelLoadError(f"No MLflow model at {path} (no MLmodel file there).")
        return ResolvedModel(model_uri, model_uri, None, None, uri)
    from clv.training.stores import check_store

    check_store(uri, create=False)
    if not model_uri.startswith(MODELS_SCHEME):
        return ResolvedModel(model_uri, model_uri, None, None, uri)
    rest = model_uri[len(MODELS_SCHEME) :].strip("/")
    from mlflow.exceptions import MlflowException

    from clv.training.store_client import mlflow_client, registry_version

    client = mlflow_client(uri)
    try:
        pinned = registry_version(client, rest)
    except MlflowException as error:
        raise ModelLoadError(
            f"Unknown model {model_uri!r} in the MLflow store {uri}: {_first_line(error)}"
        ) from error
    if pinned is None:  # a logged model id (models:/m-...): not a registry version
        return ResolvedModel(model_uri, model_uri, None, None, uri)
    name, version = pinned
    return ResolvedModel(model_uri, f"{MODELS_SCHEME}{name}/{version}", name, version, uri)


def download_model(resolved: ResolvedModel, directory: str | Path | None = None) -> Path:
    """Copy the model's folder to a local directory.

    Parameters
    ----------
    resolved : ResolvedModel
        From :func:`resolve_model`.
    directory : str or pathlib.Path, optional
        Where to put it (a new temporary folder by default; the caller removes it).

    Returns
    -------
    pathlib.Path
        The local model folder (holding ``MLmodel``).

    Raises
    ------
    clv.errors.ModelLoadError
        If the artifacts cannot be downloaded or are not an MLflow model, or (for a
        registry version) the code digest in its ``MLmodel`` differs from the one its
        training run recorded in the tracking store (:mod:`clv.mlflow_model.code_digest`).
    """
    from mlflow.exceptions import MlflowException

    from clv.training.store_client import download_artifacts

    if directory is None:
        directory = tempfile.mkdtemp(prefix="clv-model-")
    try:
        local = download_artifacts(resolved.pinned_uri, resolved.tracking_uri, str(directory))
    except (MlflowException, OSError) as error:
        raise ModelLoadError(
            f"Cannot download the model {resolved.pinned_uri!r}: {_first_line(error)}"
        ) from error
    path = Path(local)
    if not (path / "MLmodel").is_file():
        raise ModelLoadError(f"{resolved.pinned_uri!r} is not an MLflow model (no MLmodel file).")
    if resolved.version is not None:
        _check_registered_digest(resolved, path)
    return path


def _check_registered_digest(resolved: ResolvedModel, path: Path) -> None:
    """Compare the ``MLmodel`` digest with the one on the version's run (tracking store)."""
    from mlflow.exceptions import MlflowException

    from clv.mlflow_model.code_digest import DIGEST_KEY, DIGEST_TAG
    from clv.training.store_client import mlflow_client

    client = mlflow_client(resolved.tracking_uri)
    try:
        run_id = client.get_model_version(resolved.name, resolved.version).run_id
        tags = client.get_run(run_id).data.tags if run_id else {}
    except MlflowException as error:
        raise ModelLoadError(
            f"Cannot read the training run of {resolved.pinned_uri!r}: {_first_line(error)}"
        ) from error
    recorded = tags.get(DIGEST_TAG)
    if recorded is None:
        return  # logged before the tag existed: the MLmodel digest is checked at load
    if recorded != _mlmodel_metadata(path).get(DIGEST_KEY):
        raise ModelLoadError(
            f"The artifacts of {resolved.pinned_uri!r} do not match its training run (the "
            f"code digest in MLmodel differs from the run's tag '{DIGEST_TAG}'): refusing to "
            "run them. Someone or something changed the model's artifacts; retrain or restore."
        )


def _mlmodel_metadata(folder: Path) -> dict[str, Any]:
    import yaml

    try:
        description = yaml.safe_load((folder / "MLmodel").read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ModelLoadError(f"Cannot read {folder / 'MLmodel'}: {_first_line(error)}") from error
    metadata = description.get("metadata") if isinstance(description, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def verify_model_folder(path: str | Path) -> None:
    """Check, before anything in it runs, that a local clv model folder holds its own code.

    Removes compiled bytecode (not covered by the digest), then compares the digest
    of the bundled code with the one recorded in ``MLmodel`` at logging
    (:mod:`clv.mlflow_model.code_digest`).

    Raises
    ------
    clv.errors.ModelLoadError
        If ``MLmodel`` is unreadable, records no digest, or the code differs.
    """
    from clv.mlflow_model.code_digest import DIGEST_KEY, check_code_digest, remove_bytecode

    folder = Path(path)
    metadata = _mlmodel_metadata(folder)
    remove_bytecode(folder)
    check_code_digest(folder, metadata.get(DIGEST_KEY))


def load_pyfunc(path: str | Path) -> Any:
    """Load a local clv model folder (after :func:`verify_model_folder`).

    Raises
    ------
    clv.errors.ModelLoadError
        If its code does not match the recorded digest, or MLflow cannot load it.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    verify_model_folder(path)
    # MLflow compares the model's requirements with every installed distribution
    # (~0.4 s) only to log warnings: skipped when its warnings are not logged
    # (`clv` commands without --verbose, clv._cli_output).
    checks = logging.getLogger("mlflow.utils.requirements_utils").isEnabledFor(logging.WARNING)
    try:
        return mlflow.pyfunc.load_model(str(path), suppress_warnings=not checks)
    except (MlflowException, OSError, ImportError) as error:
        raise ModelLoadError(f"Cannot load the model at {path}: {_first_line(error)}") from error
