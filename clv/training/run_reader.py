"""Reading a training run back from the MLflow store (for ``clv report``).

The parent run of a ``clv train`` (tag ``clv.best_model``), its child runs (one per
candidate), and the artifacts they logged: ``comparison.csv``, ``decisions/*.csv``,
the PNG plots, the dataset's source. Every function takes the store's client
(:func:`clv.training.store_client.mlflow_client`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from clv.errors import CLVError, InvalidParameterError, first_line

__all__ = [
    "artifact_paths",
    "child_runs",
    "dataset_source",
    "download_artifact",
    "find_training_run",
    "read_comparison",
    "read_decisions",
    "run_images",
]


def child_runs(client: Any, run: Any) -> list[Any]:
    """Return the child runs of a training run (one per candidate), oldest first."""
    return list(
        client.search_runs(
            [run.info.experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'",
            order_by=["attributes.start_time ASC"],
            max_results=100,
        )
    )


def find_training_run(client: Any, run_id: str | None, experiment: str) -> Any:
    """Return the parent training run: the given one (or its parent), or the latest one."""
    from mlflow.exceptions import MlflowException

    if run_id is not None:
        try:
            run = client.get_run(run_id)
        except MlflowException as error:
            raise InvalidParameterError(
                f"No run {run_id!r} in the store: {first_line(error)}"
            ) from None
        parent = run.data.tags.get("mlflow.parentRunId")
        if parent and "clv.best_model" not in run.data.tags:
            run = client.get_run(parent)
        if "clv.best_model" not in run.data.tags:
            raise InvalidParameterError(
                f"Run {run_id!r} is not a clv training run (it has no tag clv.best_model)."
            )
        return run
    found = client.get_experiment_by_name(experiment)
    if found is None:
        raise InvalidParameterError(f"No experiment named {experiment!r} in the store.")
    runs = client.search_runs(
        [found.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=200,
    )
    for run in runs:
        tags = run.data.tags
        if "mlflow.parentRunId" not in tags and "clv.best_model" in tags:
            return run
    raise InvalidParameterError(
        f"The experiment {experiment!r} has no finished clv training run; run `clv train` first."
    )


def download_artifact(client: Any, run_id: str, path: str, folder: Path) -> Path | None:
    """Download one artifact (file or folder) of a run into ``folder``; ``None`` if absent."""
    from mlflow.exceptions import MlflowException

    try:
        return Path(client.download_artifacts(run_id, path, str(folder)))
    except (MlflowException, OSError):
        return None


def artifact_paths(client: Any, run_id: str, path: str | None = None) -> list[str]:
    """List every artifact file of a run (below ``path``), folders walked."""
    paths: list[str] = []
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            paths.extend(artifact_paths(client, run_id, item.path))
        else:
            paths.append(item.path)
    return paths


def run_images(client: Any, run: Any, folder: Path) -> list[tuple[str, bytes]]:
    """Return the PNG artifacts of the parent run, then of each child run (by name)."""
    runs = [(None, run)]
    children = child_runs(client, run)
    runs.extend((child.info.run_name or child.info.run_id, child) for child in children)
    images: list[tuple[str, bytes]] = []
    for owner, source in runs:
        for path in sorted(artifact_paths(client, source.info.run_id)):
            if not path.lower().endswith(".png"):
                continue
            local = download_artifact(client, source.info.run_id, path, folder / source.info.run_id)
            if local is None:
                continue
            label = Path(path).stem.replace("_", " ")
            title = label if owner is None else f"{owner}: {label}"
            images.append((title, local.read_bytes()))
    return images


def read_comparison(client: Any, run: Any, folder: Path) -> pd.DataFrame:
    """Read the run's holdout comparison table (``comparison.csv``, index ``model``)."""
    local = download_artifact(client, run.info.run_id, "comparison.csv", folder)
    if local is None:
        raise CLVError(f"Run {run.info.run_id} has no comparison.csv artifact.")
    table = pd.read_csv(local)
    first = table.columns[0]
    return table.set_index(first).rename_axis("model")


def dataset_source(run: Any) -> str | None:
    """Return where the run's training data came from (its dataset's ``source`` tag)."""
    for dataset_input in getattr(run.inputs, "dataset_inputs", None) or []:
        for tag in dataset_input.tags or []:
            if tag.key == "source":
                return str(tag.value)
    return None


def read_decisions(client: Any, run: Any, folder: Path) -> dict[str, pd.DataFrame]:
    """Read the decision tables ``clv train`` logged (none for older runs)."""
    local = download_artifact(client, run.info.run_id, "decisions", folder)
    if local is None or not local.is_dir():
        return {}
    tables = {}
    for path in sorted(local.glob("*.csv")):
        frame = pd.read_csv(path, index_col=0)
        if path.stem == "headline":
            frame["value"] = [_parse(v) for v in frame["value"]]
        tables[path.stem] = frame
    return tables


def _parse(value: object) -> object:
    """Turn a headline cell back into a number where it is one."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value
