"""The one file format of clv's fitted models: small JSON, never a pickle.

Every file starts with :func:`header` (format, version, class name, clv version,
hyperparameters), read back through :func:`check_header`, which finds the class in a
registry (:func:`register`); the boosted models' ``model.json`` carries the same
header. :class:`JsonPersistence` gives ``to_json``, ``save``, ``from_json``, ``load``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clv.errors import ModelLoadError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "JsonPersistence",
    "check_header",
    "header",
    "parameter_state",
    "restore_fitted_state",
]

FORMAT_NAME = "clv-model"
FORMAT_VERSION = 1
_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Make ``cls`` readable back by name (a class decorator, or called by a base class)."""
    _REGISTRY[cls.__name__] = cls
    return cls


def _clv_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("clv")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


def header(model: Any, format_name: str = FORMAT_NAME) -> dict[str, Any]:
    """Return the fields every saved model starts with (``format_name`` for the boosted models)."""
    return {
        "format": format_name,
        "format_version": FORMAT_VERSION,
        "model": type(model).__name__,
        "clv_version": _clv_version(),
        "hyperparameters": model.get_params(),
    }


def check_format(state: object, format_name: str, version: int, what: str) -> None:
    """Check a saved object's ``format`` and ``format_version``; ``what`` names it in errors."""
    if not isinstance(state, Mapping) or state.get("format") != format_name:
        raise ModelLoadError(f"Not a {what}: the 'format' field is not {format_name!r}.")
    if state.get("format_version") != version:
        raise ModelLoadError(
            f"Unsupported {what} format version {state.get('format_version')!r} "
            f"(this clv reads version {version})."
        )


def check_header(state: object, cls: type, format_name: str = FORMAT_NAME) -> type:
    """Check a saved model's header; return the class (``cls`` or a subclass) that reads the rest.

    Raises :class:`~clv.errors.ModelLoadError` for another format, version or class.
    """
    check_format(state, format_name, FORMAT_VERSION, "clv model file")
    model_class = _REGISTRY.get(str(state.get("model")))
    if model_class is None or not issubclass(model_class, cls):
        raise ModelLoadError(
            f"The file holds a {state.get('model')!r}, which is not a {cls.__name__}."
        )
    return model_class


def _number_or_none(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def parameter_state(model: Any) -> dict[str, Any]:
    """Fitted state of a probabilistic model after :func:`header` (NaN written as null)."""
    state: dict[str, Any] = {
        **header(model),
        "params": {name: float(value) for name, value in model.params_.items()},
        "time_unit": model.time_unit_,
        "log_likelihood": _number_or_none(model.log_likelihood_),
        "n_customers": model.n_customers_,
    }
    if hasattr(model, "standard_errors_"):
        state["standard_errors"] = {
            name: _number_or_none(value) for name, value in model.standard_errors_.items()
        }
    if hasattr(model, "covariance_"):
        state["covariance"] = [
            [_number_or_none(v) for v in row] for row in model.covariance_.to_numpy()
        ]
    return state


def restore_fitted_state(model: Any, state: dict[str, Any]) -> Any:
    """Set the fitted attributes of :func:`parameter_state` (beyond ``params``) on ``model``."""
    ll = state.get("log_likelihood")
    model.log_likelihood_ = float("nan") if ll is None else float(ll)
    model.n_customers_ = state.get("n_customers", 0)
    if "standard_errors" in state:
        model.standard_errors_ = pd.Series(
            {k: (np.nan if v is None else v) for k, v in state["standard_errors"].items()},
            name="standard_error",
        )
    if "covariance" in state:
        names = list(model.parameter_names)
        values = np.array(state["covariance"], dtype=np.float64)  # None reads as NaN
        model.covariance_ = pd.DataFrame(values, index=names, columns=names)
    return model


def parse(text: str) -> Any:
    """Parse JSON text; raise :class:`~clv.errors.ModelLoadError` if it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelLoadError(f"Not a clv model file: invalid JSON ({error.msg}).") from None


def read_text(path: str | Path) -> str:
    """Read a saved model file; raise :class:`~clv.errors.ModelLoadError` if unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ModelLoadError(f"Cannot read model file {str(path)!r}: {error.strerror}.") from None


def model_folder(model: Any, directory: str | Path) -> Path:
    """Check that ``model`` is fitted; return ``directory`` as a Path, created if needed."""
    model._check_is_fitted()
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_json(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` as indented, key-sorted JSON."""
    Path(path).write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class JsonPersistence:
    """``to_json``, ``save``, ``from_json`` and ``load`` from ``to_dict`` and ``_from_state``."""

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - every model defines it
        raise NotImplementedError

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> Any:  # pragma: no cover
        raise NotImplementedError

    def to_json(self) -> str:
        """Serialise the fitted model as a small JSON document (no pickle, no data).

        Returns
        -------
        str
            The JSON text of :meth:`to_dict`.
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path``.

        Parameters
        ----------
        path : str or pathlib.Path
            Destination file.
        """
        write_json(path, self.to_dict())

    @classmethod
    def from_json(cls, text: str):
        """Rebuild a model from :meth:`to_json` output.

        Parameters
        ----------
        text : str
            JSON text.

        Returns
        -------
        model
            The model, ready to predict.

        Raises
        ------
        clv.errors.ModelLoadError
            The text is not a clv model or not of this class.
        """
        state = parse(text)
        return check_header(state, cls)._from_state(state)

    @classmethod
    def load(cls, path: str | Path):
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : str or pathlib.Path
            File written by :meth:`save`.

        Returns
        -------
        model
            The model, ready to predict.

        Raises
        ------
        clv.errors.ModelLoadError
            The file cannot be read or does not hold a model of this class.
        """
        return cls.from_json(read_text(path))
