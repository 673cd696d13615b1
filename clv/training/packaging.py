"""Packaging the clv model for MLflow: its files, its code, its pinned requirements.

:func:`log_pyfunc_model` logs a models-from-code pyfunc (the code file
:mod:`clv.mlflow_model.pyfunc_model`) with the fitted candidate, the segment rules and the
metadata as artifacts, a copy of clv's Python sources as ``code_paths`` and the
SHA-256 of that code (:mod:`clv.mlflow_model.code_digest`) in ``MLmodel``. Nothing is
pickled. MLflow is imported inside the functions, so ``import clv`` stays light.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import platform
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clv.errors import InvalidParameterError
from clv.mlflow_model.code_digest import DIGEST_KEY, DIGEST_TAG, code_digest

__all__ = ["jsonable", "log_pyfunc_model", "model_requirements", "package_versions"]

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


def jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON types (non-finite floats become ``None``).

    Parameters
    ----------
    value : object
        Mappings, Series, sequences, NumPy scalars, numbers, strings; anything
        else becomes its ``str``.

    Returns
    -------
    object
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.Series):
        return jsonable(value.to_dict())
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _copy_clv_sources(target: Path) -> Path:
    """Copy the clv package's Python sources (no data, no caches) into ``target/clv``."""
    source = Path(__file__).resolve().parents[1]  # clv/training/packaging.py -> clv
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
    return {key: jsonable(metadata[name]) for key, name in shown.items() if name in metadata}


def log_pyfunc_model(
    run: Any,
    *,
    candidate: Any,
    segments: Mapping[str, Any],
    metadata: Mapping[str, Any],
    input_example: pd.DataFrame,
    signature: Any,
    name: str = "model",
) -> str:
    """Log the clv pyfunc model (models-from-code) as the run's logged model.

    The model folder holds the saved candidate, ``segments.json`` and
    ``metadata.json`` as artifacts, the code file
    :mod:`clv.mlflow_model.pyfunc_model`, a copy of clv's Python sources as
    ``code_paths`` (so that the model loads in a fresh environment without clv
    installed), and pinned pip requirements written explicitly. Nothing is pickled.
    ``MLmodel``'s metadata records the SHA-256 of that code
    (:mod:`clv.mlflow_model.code_digest`), which ``clv serve`` and ``clv score`` check
    before loading the model.

    Parameters
    ----------
    run : clv.training.store_client.TrackedRun
        The parent run of the training.
    candidate : clv.candidates.Candidate
        The fitted candidate (written with its ``save``).
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
    str
        The logged model's URI, ``models:/<model id>``.
    """
    import importlib.util

    spec = importlib.util.find_spec("clv.mlflow_model.pyfunc_model")
    if spec is None or spec.origin is None:  # pragma: no cover - clv is always importable
        raise InvalidParameterError("clv.mlflow_model.pyfunc_model cannot be found.")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        candidate.save(root / "candidate")
        segments_path = root / "segments.json"
        metadata_path = root / "metadata.json"
        segments_path.write_text(json.dumps(jsonable(segments), indent=2), encoding="utf-8")
        metadata_path.write_text(json.dumps(jsonable(metadata), indent=2), encoding="utf-8")
        code = _copy_clv_sources(root / "code")
        # The model file is logged from this copy: MLmodel records its path
        # (``model_code_path``), which must not be the build machine's source tree.
        model_file = root / Path(spec.origin).name
        shutil.copyfile(spec.origin, model_file)
        digest = code_digest(root)
        # Also in the tracking store, out of reach of who can write only the artifacts.
        run.log(tags={DIGEST_TAG: digest})
        return run.log_pyfunc_model(
            name,
            python_model=str(model_file),
            artifacts={
                "candidate": str(root / "candidate"),
                "segments": str(segments_path),
                "metadata": str(metadata_path),
            },
            code_paths=[str(code)],
            pip_requirements=model_requirements(str(metadata["kind"])),
            signature=signature,
            input_example=input_example,
            metadata={**_mlmodel_metadata(metadata), DIGEST_KEY: digest},
        )
