"""The one place clv talks to an MLflow store: its client, and nothing private.

Every call goes through an explicit :class:`mlflow.tracking.MlflowClient` whose
tracking and registry URIs are the store (:func:`mlflow_client`), or names the
store in its arguments (:func:`download_artifacts`, :func:`load_registered_model`).
A training's runs are :class:`TrackedRun` objects opened by :func:`tracked_run`:
each call names its run id, so clv never sets MLflow's process-wide tracking URI
or active run, and uses MLflow's public names only. Which store, and whether it
can be used: :mod:`clv.training.stores`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from clv.errors import InvalidParameterError, ModelLoadError
from clv.training.stores import artifact_location_for

__all__ = [
    "TrackedRun",
    "download_artifacts",
    "ensure_experiment",
    "load_registered_model",
    "mlflow_client",
    "registry_version",
    "tracked_run",
]

_CONTEXT_TAG = "mlflow.data.context"  # the dataset input tag MLflow shows as its context


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


class TrackedRun:
    """One MLflow run of a store, written through an explicit client and its run id.

    Step-0 metrics logged once the run has a logged model are linked to that model,
    as MLflow's fluent API links them.
    """

    def __init__(self, client: Any, run_id: str, experiment_id: str) -> None:
        self.client, self.run_id, self.experiment_id = client, run_id, experiment_id
        self.model_ids: list[str] = []

    def log(
        self,
        *,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Log parameters, step-0 metrics and tags (values as text) in one batch."""
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id,
            metrics=[
                Metric(key, float(value), now, 0, run_id=self.run_id, model_id=model_id)
                for key, value in (metrics or {}).items()
                for model_id in self.model_ids or [None]
            ],
            params=[Param(key, str(value)) for key, value in (params or {}).items()],
            tags=[RunTag(key, str(value)) for key, value in (tags or {}).items()],
        )

    def log_text(self, text: str, artifact_file: str) -> None:
        """Log ``text`` as the run's artifact ``artifact_file``."""
        self.client.log_text(self.run_id, text, artifact_file)

    def log_dict(self, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        """Log a JSON-able mapping as the run's artifact ``artifact_file``."""
        self.client.log_dict(self.run_id, dict(dictionary), artifact_file)

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        """Log a matplotlib figure as the run's artifact ``artifact_file``."""
        self.client.log_figure(self.run_id, figure, artifact_file)

    def log_dataset(
        self, frame: Any, *, name: str, digest: str, context: str, tags: Mapping[str, str]
    ) -> None:
        """Log a pandas frame's schema and ``digest`` as the run's input, tagged ``context``."""
        from mlflow.data import from_pandas
        from mlflow.entities import Dataset, DatasetInput, InputTag

        fields = from_pandas(frame, name=name, digest=digest).to_dict()
        keys = ("name", "digest", "source_type", "source", "schema", "profile")
        dataset = Dataset(**{key: fields.get(key) for key in keys})
        tagged = [InputTag(k, v) for k, v in tags.items()] + [InputTag(_CONTEXT_TAG, context)]
        self.client.log_inputs(self.run_id, datasets=[DatasetInput(dataset, tagged)])

    def child(self, name: str) -> AbstractContextManager[TrackedRun]:
        """Open a nested run (tag ``mlflow.parentRunId``) in the same experiment."""
        return tracked_run(self.client, self.experiment_id, name, parent_run_id=self.run_id)

    def log_pyfunc_model(self, name: str, **save_kwargs: Any) -> str:
        """Log a pyfunc model as the run's output, as ``mlflow.pyfunc.log_model`` would.

        The logged model is created ``PENDING`` with the run's parameters, linked to
        the run with its step-0 metrics, saved by :func:`mlflow.pyfunc.save_model`
        (``save_kwargs``) into a temporary folder, uploaded, then made ``READY``
        (``FAILED`` if anything fails or interrupts). Returns ``models:/<model id>``.
        """
        import mlflow.pyfunc
        from mlflow.entities import LoggedModelOutput, LoggedModelStatus
        from mlflow.models import Model
        from mlflow.tracking.context.registry import resolve_tags

        run = self.client.get_run(self.run_id)
        model = self.client.create_logged_model(
            self.experiment_id,
            name=name,
            source_run_id=self.run_id,
            tags=resolve_tags(),
            params=dict(run.data.params),
        )
        try:
            self.client.log_outputs(self.run_id, [LoggedModelOutput(model.model_id, step=0)])
            self.model_ids.append(model.model_id)
            self.log(metrics=run.data.metrics)  # the run's metrics so far, now the model's
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "model"
                described = Model(
                    artifact_path=model.artifact_location,
                    run_id=self.run_id,
                    model_uuid=model.model_id,
                    model_id=model.model_id,
                )
                mlflow.pyfunc.save_model(path, mlflow_model=described, **save_kwargs)
                self.client.log_model_artifacts(model.model_id, str(path))
        except BaseException:
            self.client.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
            raise
        self.client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
        return f"models:/{model.model_id}"


@contextmanager
def tracked_run(
    store: str | Any, experiment_id: str, name: str, *, parent_run_id: str | None = None
) -> Iterator[TrackedRun]:
    """Create a run (nested under ``parent_run_id`` if given), yield it, end it.

    ``store`` is a tracking URI or its client. The run gets MLflow's context tags (user,
    source) as its fluent API sets them, and ends ``FINISHED``, or ``FAILED`` on any
    exception or interruption.
    """
    from mlflow.entities import RunStatus
    from mlflow.tracking.context.registry import resolve_tags

    client = mlflow_client(store) if isinstance(store, str) else store
    tags = {"mlflow.runName": name}
    if parent_run_id is not None:
        tags["mlflow.parentRunId"] = parent_run_id
    created = client.create_run(str(experiment_id), tags=resolve_tags(tags), run_name=name)
    run = TrackedRun(client, created.info.run_id, str(experiment_id))
    try:
        yield run
    except BaseException:
        client.set_terminated(run.run_id, RunStatus.to_string(RunStatus.FAILED))
        raise
    client.set_terminated(run.run_id, RunStatus.to_string(RunStatus.FINISHED))


def registry_version(client: Any, reference: str) -> tuple[str, str] | None:
    """Pin a ``models:/`` reference to ``(name, version)``; ``None`` for a logged model id.

    ``reference`` is the part after ``models:/``: ``NAME@ALIAS``, ``NAME/VERSION``,
    ``NAME/latest`` or ``NAME/STAGE`` (the newest version in it), or ``m-...``.
    """
    reference = reference.strip("/")
    if "@" in reference:
        name, alias = reference.rsplit("@", 1)
        return name, str(client.get_model_version_by_alias(name, alias).version)
    if "/" not in reference:
        return None
    name, selector = reference.rsplit("/", 1)
    if selector.isdigit():
        return name, str(client.get_model_version(name, selector).version)
    found = client.get_latest_versions(name, None if selector.lower() == "latest" else [selector])
    if not found:
        raise ModelLoadError(f"The registered model {name!r} has no version {selector!r}.")
    return name, str(max(int(item.version) for item in found))


def _location(artifact_uri: str, client: Any) -> str:
    """Where a ``models:/`` URI's files are, asked of the store's own registry.

    (MLflow's ``models:/`` download reads the process-wide registry URI instead.)
    """
    if not artifact_uri.startswith("models:/"):
        return artifact_uri
    rest = artifact_uri.removeprefix("models:/").strip("/")
    pinned = registry_version(client, rest)
    if pinned is None:  # a logged model id: models:/m-...
        return client.get_logged_model(rest).artifact_location
    return _location(client.get_model_version_download_uri(*pinned), client)


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
