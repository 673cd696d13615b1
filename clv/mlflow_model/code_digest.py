"""A digest of the code a logged clv model runs, recorded at logging and checked at load.

A clv model folder carries its own code: the model file (``pyfunc_model.py``, at the
top of the folder) and a copy of the clv package (``code/clv``), which MLflow puts
first on ``sys.path`` and executes when the model loads. Whoever can change those
files runs code wherever the model is loaded. :func:`code_digest` hashes them
(every file under ``code/`` and every ``*.py`` at the top, by relative path and
content); :func:`clv.training.tracking.log_pyfunc_model` records it in the model's
``MLmodel`` metadata as :data:`DIGEST_KEY`, and ``clv serve`` and ``clv score``
recompute it before loading (:func:`check_code_digest`) and refuse a folder whose
code changed. The training run also carries the digest as the tag :data:`DIGEST_TAG`
in the tracking store: a registry version is refused when its ``MLmodel`` digest
differs from its run's tag, so rewriting both the code and ``MLmodel`` in the
artifact store is caught too.

What this protects against, and what not, is the trust model of the README
("Operating clv serve"): a changed file is caught; someone who can rewrite both
the artifacts and the tracking store can also rewrite both digests.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from clv.errors import ModelLoadError

__all__ = ["DIGEST_KEY", "DIGEST_TAG", "check_code_digest", "code_digest", "remove_bytecode"]

#: Key of the digest in the ``metadata`` section of a model's ``MLmodel`` file.
DIGEST_KEY = "clv_code_sha256"
#: Tag holding the same digest on the training run, in the tracking store.
DIGEST_TAG = "clv.code_sha256"
_CODE = "code"


def _code_files(folder: Path) -> list[Path]:
    files = [path for path in folder.glob("*.py") if path.is_file()]
    code = folder / _CODE
    if code.is_dir():
        files += [
            path
            for path in code.rglob("*")
            if (path.is_file() or path.is_symlink()) and not _is_bytecode(path)
        ]
    return sorted(files, key=lambda path: path.relative_to(folder).as_posix())


def _is_bytecode(path: Path) -> bool:
    return "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo")


def remove_bytecode(folder: str | Path) -> None:
    """Delete compiled Python files (``__pycache__``, ``*.pyc``) from a model folder.

    The digest covers sources only, so bytecode in a folder is not vouched for and
    must not be run: call this on a local copy before :func:`check_code_digest`.
    """
    import shutil

    root = Path(folder)
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_symlink() or not _is_bytecode(path):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def code_digest(folder: str | Path) -> str:
    """SHA-256 of the code in a model folder: ``*.py`` at its top and ``code/`` (no bytecode).

    Parameters
    ----------
    folder : str or pathlib.Path
        A model folder (or the folder a model is about to be logged from).

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    root = Path(folder)
    hasher = hashlib.sha256()
    for path in _code_files(root):
        name = path.relative_to(root).as_posix().encode()
        # A symlink is hashed as its target's name: the digest never follows it.
        data = str(path.readlink()).encode() if path.is_symlink() else path.read_bytes()
        hasher.update(b"%d:%s%d:" % (len(name), name, len(data)))
        hasher.update(data)
    return hasher.hexdigest()


def check_code_digest(folder: str | Path, recorded: object) -> None:
    """Refuse a model folder whose code does not match the digest recorded at logging.

    Parameters
    ----------
    folder : str or pathlib.Path
        The local model folder.
    recorded : object
        The ``MLmodel`` metadata's :data:`DIGEST_KEY` (``None`` when absent).

    Raises
    ------
    clv.errors.ModelLoadError
        If no digest was recorded, or the code differs from it.
    """
    if not isinstance(recorded, str) or len(recorded) != 64:
        raise ModelLoadError(
            f"The model at {folder} records no digest of its bundled code ('{DIGEST_KEY}' in "
            "MLmodel): it was not logged by this clv or was altered; retrain it with clv train."
        )
    actual = code_digest(folder)
    if actual != recorded:
        raise ModelLoadError(
            f"The code bundled with the model at {folder} (code/ or its model file) differs "
            "from what was logged at training (digest mismatch): refusing to run it. Someone "
            "or something changed the model's artifacts; retrain or restore it."
        )
