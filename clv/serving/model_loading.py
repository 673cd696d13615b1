"""Resolve, download and load a model on a helper thread while the caller reads data.

Finding a registered model costs a fixed ~2-3 s on this machine before any
customer is scored: importing MLflow and its SQLAlchemy store (most of it),
resolving the alias, copying the artifacts and loading the pyfunc. None of that
needs the transaction log, and reading and partitioning the log does not need the
model, so batch scoring (:func:`clv.serving.batch.score_file`) starts
:class:`BackgroundModel` first and reads the log meanwhile: pyarrow, numpy and
file writes release the GIL, so on two cores the two overlap.

The thread only calls :func:`clv.serving._models.resolve_model`,
``download_model`` and ``load_pyfunc``, into a folder the caller owns, or takes a
registry version resolved and checked by an earlier run from the cache of
:mod:`clv.serving.model_cache` (no MLflow store opened); the caller
does not touch MLflow until :meth:`BackgroundModel.result`. Errors are the same
:class:`~clv.errors.ModelLoadError` / :class:`~clv.errors.InvalidParameterError`
as before, raised in the caller's thread: by :meth:`BackgroundModel.result`, or
earlier by :meth:`BackgroundModel.check` (called between read batches, so an
unknown model stops reading a large log early). Leaving the ``with`` block waits
for the thread, so nothing is written into the folder after the caller removes it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

__all__ = ["BackgroundModel"]


class BackgroundModel:
    """A model being resolved and loaded on a helper thread.

    Parameters
    ----------
    model_uri : str
        Any model URI :func:`clv.serving._models.resolve_model` takes.
    tracking_uri : str or None
        The MLflow store.
    folder : pathlib.Path
        Where to download the model (must not exist yet; the caller removes it).
    """

    def __init__(self, model_uri: str, tracking_uri: str | None, folder: Path) -> None:
        self._arguments = (model_uri, tracking_uri, Path(folder))
        self._value: tuple[Any, Any] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="clv-model-loader", daemon=True)

    def _run(self) -> None:
        from clv.serving._models import download_model, load_pyfunc, resolve_model
        from clv.serving.model_cache import cache_entry, load_entry, save_entry

        model_uri, tracking_uri, folder = self._arguments
        try:
            entry = cache_entry(model_uri, tracking_uri)
            resolved = load_entry(*entry, folder) if entry else None
            if resolved is not None:
                self._value = (resolved, load_pyfunc(folder))
                return
            resolved = resolve_model(model_uri, tracking_uri)
            path = download_model(resolved, folder)
            self._value = (resolved, load_pyfunc(path))
            if entry and resolved.version is not None:
                save_entry(*entry, resolved, path)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            self._error = error

    def __enter__(self) -> BackgroundModel:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join()

    def check(self) -> None:
        """Raise the loading error now if the thread has already failed."""
        if self._error is not None:
            raise self._error

    def result(self) -> tuple[Any, Any]:
        """Wait for the model; return ``(ResolvedModel, PyFuncModel)`` or raise its error."""
        self._thread.join()
        self.check()
        assert self._value is not None
        return self._value
