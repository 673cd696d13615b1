"""Training settings from a TOML or JSON file (``clv train --config``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clv.errors import InvalidParameterError
from clv.training.preflight import TRAINING_SETTINGS

__all__ = ["CONFIG_KEYS", "load_config"]

#: Settings a --config file may hold (the keyword arguments of :func:`train`, and
#: ``date_format``, the format of the log's timestamps, used when reading the file).
CONFIG_KEYS = (
    *TRAINING_SETTINGS,  # checked up front by clv.training.preflight
    "date_format",
    "invoice",
    "missing_customer_id",
    "negative_amounts",
    "duplicates",
    "segments",
)


def load_config(path: str | Path) -> dict[str, Any]:
    """Read training settings from a TOML or JSON file.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.toml`` or ``.json`` file whose keys are among :data:`CONFIG_KEYS`
        (a TOML file may also put them in a ``[train]`` table).

    Returns
    -------
    dict
        The settings, ready to pass to :func:`train` as keyword arguments.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    clv.errors.InvalidParameterError
        If the file cannot be parsed or holds an unknown key.
    """
    import json

    location = Path(path)
    if not location.exists():
        raise FileNotFoundError(f"No such config file: {location}")
    text = location.read_text(encoding="utf-8")
    try:
        if location.suffix.lower() == ".json":
            settings = json.loads(text)
        else:
            try:
                import tomllib
            except ModuleNotFoundError:  # pragma: no cover - Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            settings = tomllib.loads(text)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise InvalidParameterError(f"Cannot parse the config file {location}: {first}") from exc
    if not isinstance(settings, dict):
        raise InvalidParameterError(f"The config file {location} must hold a table of settings.")
    if isinstance(settings.get("train"), dict):
        settings = settings["train"]
    unknown = sorted(set(settings) - set(CONFIG_KEYS))
    if unknown:
        raise InvalidParameterError(
            f"Unknown setting(s) {', '.join(map(repr, unknown))} in {location}; "
            f"known: {', '.join(CONFIG_KEYS)}."
        )
    for key in ("calibration_end", "holdout_end"):
        if key in settings:
            settings[key] = str(settings[key])
    return dict(settings)
