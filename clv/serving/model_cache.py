"""A registered model resolved and checked once, reused while its SQLite store is unchanged.

Resolving ``models:/NAME@ALIAS`` in a SQLite store imports MLflow's SQLAlchemy store
(about 1.2 s of CPU on this machine) and downloads and checks the artifacts (0.3 s)
before any customer is scored. Batch scoring (:mod:`clv.serving.model_loading`) keeps
the resolved version and the checked model folder in a cache folder
(``CLV_MODEL_CACHE``, default ``$XDG_CACHE_HOME/clv/models`` or ``~/.cache/clv/models``;
``off`` disables it), one entry per store and URI, stamped with the state of the
store's file: device, inode, size and modification time of the database and of its
``-wal`` file, and SQLite's file change counter (header bytes 24-27, bumped by every
committed write). Any write to the store -- a version registered, an alias moved, a
tag set -- changes the stamp, and the next run resolves again; the stamp is taken
before resolving, so a write during a resolution also invalidates what it stored.
A run that finds a current entry copies the folder into its own work folder, and
loading still checks the code digest (:func:`clv.serving._models.load_pyfunc`).
Only registry versions of SQLite stores are cached. The cache is best effort: a
folder that cannot be written or read costs only the resolution.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from clv.serving._models import MODELS_SCHEME, ResolvedModel
from clv.training.stores import resolve_tracking_uri, sqlite_path

__all__ = ["CACHE_ENV", "cache_entry", "load_entry", "save_entry", "store_state"]

#: Environment variable: the cache folder, or ``off`` to resolve every time.
CACHE_ENV = "CLV_MODEL_CACHE"
_FORMAT = 1


def _root() -> Path | None:
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "0", "off", "false", "no") else Path(value)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clv" / "models"


def store_state(tracking_uri: str) -> list[Any] | None:
    """Return the stamp of a SQLite store's file, or ``None`` (not SQLite, missing, mid-write)."""
    path = sqlite_path(tracking_uri)
    if path is None or os.path.exists(f"{path}-journal"):  # a write is under way
        return None
    state: list[Any] = []
    try:
        for file in (str(path), f"{path}-wal"):
            info = os.stat(file) if file == str(path) or os.path.exists(file) else None
            state.append(info and [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns])
        with open(path, "rb") as handle:
            header = handle.read(28)
    except OSError:
        return None
    if not header.startswith(b"SQLite format 3\x00"):
        return None
    return [*state, header[24:28].hex()]


def cache_entry(model_uri: object, tracking_uri: str | None) -> tuple[Path, list[Any]] | None:
    """Return the cache entry of a model URI and its store's stamp now; ``None`` if uncacheable."""
    root = _root()
    if root is None or not isinstance(model_uri, str):
        return None
    model_uri = model_uri.strip()
    if not model_uri.startswith(MODELS_SCHEME):
        return None
    uri = resolve_tracking_uri(tracking_uri)
    state = store_state(uri)
    if state is None:
        return None
    return root / hashlib.sha256(f"{uri}\n{model_uri}".encode()).hexdigest()[:32], state


def _read(entry: Path) -> tuple[int, dict[str, Any]] | None:
    try:
        return entry.stat().st_ino, json.loads((entry / "entry.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def load_entry(entry: Path, state: list[Any], folder: Path) -> ResolvedModel | None:
    """Copy a current entry's model folder to ``folder`` (new); ``None`` if there is none."""
    found = _read(entry)
    if found is None or found[1].get("format") != _FORMAT or found[1].get("store") != state:
        return None
    try:
        resolved = ResolvedModel(**found[1]["resolved"])
        shutil.copytree(entry / "model", folder)
    except (OSError, TypeError, KeyError):
        shutil.rmtree(folder, ignore_errors=True)
        return None
    if _read(entry) != found:  # replaced by another run while copying
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return resolved


def save_entry(entry: Path, state: list[Any], resolved: ResolvedModel, path: Path) -> None:
    """Keep a resolved, checked model folder for later runs, atomically (best effort).

    Entries of stores whose file no longer exists are removed at the same time.
    """
    root = entry.parent
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        staging = Path(tempfile.mkdtemp(prefix=".new-", dir=root))
    except OSError:
        return
    try:
        shutil.copytree(path, staging / "model", ignore=shutil.ignore_patterns("__pycache__"))
        record = {"format": _FORMAT, "store": state, "resolved": dataclasses.asdict(resolved)}
        (staging / "entry.json").write_text(json.dumps(record), "utf-8")
        for other in root.iterdir():
            found = _read(other) if other.name != staging.name else None
            store = sqlite_path(found[1]["resolved"]["tracking_uri"]) if found else None
            if other == entry or (store is not None and not store.exists()):
                shutil.rmtree(other, ignore_errors=True)
        os.rename(staging, entry)
    except (OSError, KeyError, TypeError):
        pass  # another run wrote the entry first, or the folder is not writable
    finally:
        shutil.rmtree(staging, ignore_errors=True)
