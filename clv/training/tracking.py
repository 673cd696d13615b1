"""MLflow tracking for clv training: the store, the runs and what they log.

The store
---------
Without a URI, clv uses an embedded SQLite store, ``sqlite:///mlflow.db`` in the
working directory, with artifacts in the folder ``mlartifacts`` next to it (set as
the experiment's artifact location when clv creates the experiment). No server is
needed; open the UI with ``mlflow ui --backend-store-uri sqlite:///mlflow.db``.
Any other MLflow URI works too (``http://host:5000`` for a real ``mlflow server``,
``databricks``, another SQLAlchemy database); a server decides its own artifact
location. The deprecated file store (a plain path or ``file:`` URI) is refused.

What is logged
--------------
The parent run (one per training): the training parameters, the dataset
(``mlflow.log_input`` of the transaction log's schema and a digest of its full
content -- not the data), package versions, the comparison table (CSV and
Markdown), the tag ``clv.best_model``, the gate decision, and the model.
One child run per candidate, tagged ``clv.model`` = its kind: its parameters, its
fit diagnostics (``diagnostics.json`` and the numeric ones as metrics, prefixed
``fit.``), the holdout metrics named as in
:data:`clv.training.evaluation.METRIC_NAMES`, and plots as PNG files (skipped when
matplotlib is not installed).

MLflow is imported inside the functions, so ``import clv`` stays light.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd

from clv.errors import InvalidParameterError
from clv.mlflow_model.code_digest import DIGEST_KEY, DIGEST_TAG, code_digest

__all__ = [
    "DEFAULT_ARTIFACT_DIR",
    "DEFAULT_TRACKING_URI",
    "artifact_location_for",
    "dataset_digest",
    "ensure_experiment",
    "log_candidate_run",
    "log_comparison",
    "log_dataset",
    "log_pyfunc_model",
    "package_versions",
    "resolve_tracking_uri",
    "tracking_store",
]

#: The embedded store used when no URI is given (relative to the working directory).
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
#: Folder, next to a SQLite store, that holds the artifacts of experiments clv creates.
DEFAULT_ARTIFACT_DIR = "mlartifacts"

_PACKAGES = (
    "clv",
    "mlflow",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "xgboost",
    "pyarrow",
    "matplotlib",
)
#: Packages the served model imports; pinned to the training versions in its requirements.
_MODEL_REQUIREMENTS = ("mlflow", "numpy", "pandas", "scipy", "scikit-learn")


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


def _sqlite_path(tracking_uri: str) -> Path | None:
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite" or tracking_uri.startswith("sqlite:///:memory:"):
        return None
    path = unquote(tracking_uri[len("sqlite:///") :])
    return Path(path) if path else None


def artifact_location_for(tracking_uri: str) -> str | None:
    """Artifact location for a new experiment in this store.

    Parameters
    ----------
    tracking_uri : str
        A resolved tracking URI.

    Returns
    -------
    str or None
        For a SQLite store, the ``file:`` URI of ``mlartifacts`` next to the
        database file; ``None`` (the store's or server's own default) otherwise.
    """
    database = _sqlite_path(tracking_uri)
    if database is None:
        return None
    return (database.resolve().parent / DEFAULT_ARTIFACT_DIR).as_uri()


@contextmanager
def tracking_store(tracking_uri: str) -> Iterator[str]:
    """Point MLflow's fluent API (tracking and registry) at a store for a block.

    The previous URIs are restored afterwards.

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
    from mlflow.tracking import _tracking_service
    from mlflow.tracking._model_registry import utils as registry_utils

    tracking_module = _tracking_service.utils
    previous = (
        getattr(tracking_module, "_tracking_uri", None),
        getattr(registry_utils, "_registry_uri", None),
        {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")},
    )
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    try:
        yield tracking_uri
    finally:
        tracking_uri_before, registry_uri_before, environment = previous
        mlflow.set_tracking_uri(tracking_uri_before)
        mlflow.set_registry_uri(registry_uri_before)
        for key, value in environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def ensure_experiment(name: str, tracking_uri: str) -> str:
    """Return the id of experiment ``name``, creating it if needed.

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
    from mlflow.tracking import MlflowClient

    if not name or not str(name).strip():
        raise InvalidParameterError("The experiment name must not be empty.")
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    location = artifact_location_for(tracking_uri)
    if location is not None:
        Path(urlparse(location).path).mkdir(parents=True, exist_ok=True)
    return client.create_experiment(name, artifact_location=location)


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that matter to clv (installed ones only).

    Returns
    -------
    dict of str to str
        ``python`` and each installed package (numpy, pandas, scipy, mlflow, ...) ->
        its version.
    """
    versions = {"python": platform.python_version()}
    for package in _PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def model_requirements(kind: str) -> list[str]:
    """Pinned pip requirements of the served model (clv itself travels as code).

    Parameters
    ----------
    kind : str
        The candidate kind; ``boosted`` and ``hybrid`` also need XGBoost.

    Returns
    -------
    list of str
    """
    names = list(_MODEL_REQUIREMENTS)
    if kind in ("boosted", "hybrid"):
        names.append("xgboost")
    versions = package_versions()
    return [f"{name}=={versions[name]}" if name in versions else name for name in names]


def dataset_digest(frame: pd.DataFrame) -> str:
    """Digest a whole table: column names, dtypes and every value.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    str
        32 hexadecimal characters (fits MLflow's dataset digest column).
    """
    hasher = hashlib.sha256()
    hasher.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    hasher.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return hasher.hexdigest()[:32]


def log_dataset(transactions: pd.DataFrame, *, name: str, source: str | None, digest: str) -> None:
    """Log the transaction log as the active run's training input (schema and digest only).

    Parameters
    ----------
    transactions : pandas.DataFrame
        The canonical transaction log.
    name : str
        Dataset name shown in the UI.
    source : str, optional
        Where the data came from (a path or URI).
    digest : str
        From :func:`dataset_digest`.
    """
    import mlflow

    # An empty frame with the same columns: MLflow records the schema and our digest;
    # neither the rows nor MLflow's own sampled digest are computed. The origin goes
    # in a tag (a path given as ``source`` would be guessed among several source types).
    dataset = mlflow.data.from_pandas(transactions.head(0), name=name, digest=digest)
    tags = {"n_rows": str(len(transactions)), "source": source or "in-memory DataFrame"}
    mlflow.log_input(dataset, context="training", tags=tags)


def _number(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, pd.Series):
            flat.update(_flatten(value.to_dict(), f"{name}."))
        else:
            flat[name] = value
    return flat


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.Series):
        return _jsonable(value.to_dict())
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _metric_name(name: str) -> str:
    allowed = "".join(ch if ch.isalnum() or ch in "_-./ " else "_" for ch in name)
    return allowed[:250]


def log_candidate_run(
    kind: str,
    candidate: Any,
    metrics: Mapping[str, Any],
    *,
    plots: Mapping[str, Callable[[], Any]] | None = None,
    warn: Callable[[str], None] | None = None,
) -> None:
    """Log one candidate into the active (child) run.

    Parameters
    ----------
    kind : str
        Candidate kind (also the ``clv.model`` tag).
    candidate : object
        The fitted candidate; its ``get_params()`` (if any) become run params and
        its ``diagnostics()`` the ``fit.*`` metrics and ``diagnostics.json``.
    metrics : mapping
        The candidate's holdout metrics (its row of the comparison table).
    plots : mapping of str to callable, optional
        File name to a function returning a matplotlib figure.
    warn : callable, optional
        Receives a message when a plot cannot be drawn.
    """
    import mlflow

    mlflow.set_tag("clv.model", kind)
    params = {"kind": kind}
    get_params = getattr(candidate, "get_params", None)
    if callable(get_params):
        params.update({k: str(v)[:500] for k, v in _flatten(get_params()).items()})
    mlflow.log_params(params)
    values = {
        _metric_name(name): number
        for name, value in metrics.items()
        if (number := _number(value)) is not None
    }
    diagnostics = candidate.diagnostics() if hasattr(candidate, "diagnostics") else {}
    for name, value in _flatten(diagnostics).items():
        number = _number(value)
        if number is not None:
            values[_metric_name(f"fit.{name}")] = number
        if isinstance(value, bool | np.bool_):
            mlflow.set_tag(f"fit.{name}"[:250], str(bool(value)).lower())
    mlflow.log_metrics(values)
    mlflow.log_dict(_jsonable(diagnostics), "diagnostics.json")
    for file_name, draw in (plots or {}).items():
        log_figure(draw, file_name, warn=warn)


def log_figure(
    draw: Callable[[], Any], file_name: str, *, warn: Callable[[str], None] | None = None
) -> bool:
    """Draw a matplotlib figure and log it as a PNG artifact of the active run.

    Parameters
    ----------
    draw : callable
        Returns a :class:`matplotlib.figure.Figure` (called only if matplotlib is
        installed).
    file_name : str
        Name of the PNG under the run's ``plots/`` artifact folder.
    warn : callable, optional
        Receives a message when the plot is skipped.

    Returns
    -------
    bool
        ``True`` if logged; ``False`` (and ``warn`` called) when matplotlib is not
        installed or the plot needs a missing optional package.
    """
    import mlflow

    try:
        import matplotlib  # noqa: F401 - only to know whether plots can be drawn
    except ImportError:
        if warn is not None:
            warn(f"matplotlib is not installed: plot {file_name} skipped")
        return False
    try:
        figure = draw()
    except ImportError as exc:
        if warn is not None:
            warn(f"plot {file_name} skipped: {exc}")
        return False
    mlflow.log_figure(figure, f"plots/{file_name}")
    return True


def log_comparison(table: pd.DataFrame, markdown: str) -> None:
    """Log the comparison table of the active (parent) run as CSV and Markdown.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per candidate kind (index), metric columns.
    markdown : str
        The same table as Markdown (:func:`clv.training.compare.comparison_table`).
    """
    import mlflow

    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "comparison.csv"
        md_path = Path(folder) / "comparison.md"
        table.to_csv(csv_path, index_label="model")
        md_path.write_text(markdown, encoding="utf-8")
        mlflow.log_artifact(str(csv_path))
        mlflow.log_artifact(str(md_path))


def _copy_clv_sources(target: Path) -> Path:
    """Copy the clv package's Python sources (no data, no caches) into ``target/clv``."""
    import clv

    source = Path(clv.__file__).resolve().parent
    destination = target / "clv"
    shutil.copytree(
        source,
        destination,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "data"),
    )
    return destination


def _mlmodel_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Return the facts a user of the model needs, shown in its ``MLmodel`` file."""
    shown = {
        "clv_kind": "kind",
        "clv_version": "clv_version",
        "clv_time_unit": "time_unit",
        "clv_horizon_unit": "horizon_unit",
        "clv_margin": "margin",
        "clv_basis": "clv_basis",
    }
    return {key: _jsonable(metadata[name]) for key, name in shown.items() if name in metadata}


def log_pyfunc_model(
    *,
    candidate_dir: Path,
    segments: Mapping[str, Any],
    metadata: Mapping[str, Any],
    input_example: pd.DataFrame,
    signature: Any,
    name: str = "model",
) -> Any:
    """Log the clv pyfunc model (models-from-code) into the active run.

    The model folder holds the candidate directory, ``segments.json`` and
    ``metadata.json`` as artifacts, the code file
    :mod:`clv.mlflow_model.pyfunc_model`, a copy of clv's Python sources as
    ``code_paths`` (so that the model loads in a fresh environment without clv
    installed), and pinned pip requirements written explicitly. Nothing is pickled.
    ``MLmodel``'s metadata records the SHA-256 of that code
    (:mod:`clv.mlflow_model.code_digest`), which ``clv serve`` and ``clv score`` check
    before loading the model.

    Parameters
    ----------
    candidate_dir : pathlib.Path
        Folder written by ``candidate.save``.
    segments : mapping
        ``SegmentRules.to_dict()``.
    metadata : mapping
        Model metadata (see :mod:`clv.mlflow_model.pyfunc_model`).
    input_example : pandas.DataFrame
        A few rows of customer features.
    signature : mlflow.models.ModelSignature
        From :func:`clv.mlflow_model.signature.build_signature`.
    name : str, default "model"
        Name of the logged model within the run.

    Returns
    -------
    mlflow.models.model.ModelInfo
    """
    import importlib.util

    import mlflow

    spec = importlib.util.find_spec("clv.mlflow_model.pyfunc_model")
    if spec is None or spec.origin is None:  # pragma: no cover - clv is always importable
        raise InvalidParameterError("clv.mlflow_model.pyfunc_model cannot be found.")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        segments_path = root / "segments.json"
        metadata_path = root / "metadata.json"
        segments_path.write_text(json.dumps(_jsonable(segments), indent=2), encoding="utf-8")
        metadata_path.write_text(json.dumps(_jsonable(metadata), indent=2), encoding="utf-8")
        code = _copy_clv_sources(root / "code")
        # The model file is logged from this copy: MLmodel records its path
        # (``model_code_path``), which must not be the build machine's source tree.
        model_file = root / Path(spec.origin).name
        shutil.copyfile(spec.origin, model_file)
        digest = code_digest(root)
        # Also in the tracking store, out of reach of who can write only the artifacts.
        mlflow.set_tag(DIGEST_TAG, digest)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(model_file),
            artifacts={
                "candidate": str(candidate_dir),
                "segments": str(segments_path),
                "metadata": str(metadata_path),
            },
            code_paths=[str(code)],
            pip_requirements=model_requirements(str(metadata["kind"])),
            signature=signature,
            input_example=input_example,
            metadata={**_mlmodel_metadata(metadata), DIGEST_KEY: digest},
        )
