"""A self-contained HTML report of one training run (``clv report``).

The report of a parent run of :func:`clv.training.train.train` holds, in one HTML
file with no external resource:

* the training settings (dates, time unit, horizon, discount rate, data size);
* the holdout comparison table (the run's ``comparison.csv``), the chosen model
  marked;
* the registry decision: the registered version, the gate's decision and reason,
  the model's aliases now;
* the segment summary (customers and total CLV per segment, as of the holdout
  end, from the run's ``segment_summary.csv``; for runs logged before clv recorded
  it, recomputed by scoring the run's data source with the registered version when
  that file still exists);
* every PNG plot logged by the run and its child runs, embedded as base64
  ``data:`` URIs.

Every piece of text taken from the store is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import math
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clv.errors import CLVError, InvalidParameterError

__all__ = ["ReportData", "collect_report", "render_report", "write_report"]

#: Parameters of the parent run shown under "Training", in this order.
_SETTINGS = (
    ("calibration_end", "Calibration end"),
    ("holdout_end", "Holdout end"),
    ("time_unit", "Time unit"),
    ("horizon", "Horizon (time units)"),
    ("discount_rate", "Annual discount rate"),
    ("n_transactions", "Transactions"),
    ("n_customers", "Customers"),
    ("kinds", "Candidates"),
    ("gate_metric", "Gate metric"),
    ("dataset_digest", "Dataset digest"),
)


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, gathered from the MLflow store.

    Attributes
    ----------
    tracking_uri : str
        The store read.
    run_id : str
        The parent training run.
    run_name : str
        Its name.
    experiment : str
        Its experiment's name.
    start_time : str
        When it started (UTC, ISO format).
    params : dict of str to str
        The parent run's parameters.
    tags : dict of str to str
        The parent run's tags (``clv.best_model``, ``clv.gate_*``, ...).
    comparison : pandas.DataFrame
        One row per candidate kind (index ``model``), the holdout metrics.
    best_model : str
        The chosen candidate kind.
    aliases : dict of str to str
        Alias -> version of the registered model now (empty if unknown).
    segments : pandas.DataFrame or None
        ``count``, ``total_clv``, ``mean_clv`` per segment, or ``None`` if the run
        did not record them and they could not be recomputed.
    segments_note : str
        Where the segment summary comes from (or why it is missing).
    images : list of (str, bytes)
        ``(title, PNG bytes)`` of every plot, parent run first.
    diagnostics : pandas.DataFrame or None
        Per BTYD candidate: parameters with standard errors, AIC, BIC, the
        spend-frequency correlation and the holdout calibration
        (:mod:`clv.training.model_diagnostics`).
    """

    tracking_uri: str
    run_id: str
    run_name: str
    experiment: str
    start_time: str
    params: dict[str, str]
    tags: dict[str, str]
    comparison: pd.DataFrame = field(repr=False)
    best_model: str
    aliases: dict[str, str]
    segments: pd.DataFrame | None = field(repr=False)
    segments_note: str
    images: list[tuple[str, bytes]] = field(repr=False)
    diagnostics: pd.DataFrame | None = field(default=None, repr=False)


def _client(tracking_uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "message", None) or error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _find_run(client: Any, run_id: str | None, experiment: str) -> Any:
    """Return the parent training run: the given one (or its parent), or the latest one."""
    from mlflow.exceptions import MlflowException

    if run_id is not None:
        try:
            run = client.get_run(run_id)
        except MlflowException as error:
            raise InvalidParameterError(
                f"No run {run_id!r} in the store: {_first_line(error)}"
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


def _download(client: Any, run_id: str, path: str, folder: Path) -> Path | None:
    from mlflow.exceptions import MlflowException

    try:
        return Path(client.download_artifacts(run_id, path, str(folder)))
    except (MlflowException, OSError):
        return None


def _artifact_paths(client: Any, run_id: str, path: str | None = None) -> list[str]:
    paths: list[str] = []
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            paths.extend(_artifact_paths(client, run_id, item.path))
        else:
            paths.append(item.path)
    return paths


def _plots(client: Any, run: Any, folder: Path) -> list[tuple[str, bytes]]:
    """Return the PNG artifacts of the parent run, then of each child run (by name)."""
    runs = [(None, run)]
    children = client.search_runs(
        [run.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=100,
    )
    runs.extend((child.info.run_name or child.info.run_id, child) for child in children)
    images: list[tuple[str, bytes]] = []
    for owner, source in runs:
        for path in sorted(_artifact_paths(client, source.info.run_id)):
            if not path.lower().endswith(".png"):
                continue
            local = _download(client, source.info.run_id, path, folder / source.info.run_id)
            if local is None:
                continue
            label = Path(path).stem.replace("_", " ")
            title = label if owner is None else f"{owner}: {label}"
            images.append((title, local.read_bytes()))
    return images


def _comparison(client: Any, run: Any, folder: Path) -> pd.DataFrame:
    local = _download(client, run.info.run_id, "comparison.csv", folder)
    if local is None:
        raise CLVError(f"Run {run.info.run_id} has no comparison.csv artifact.")
    table = pd.read_csv(local)
    first = table.columns[0]
    return table.set_index(first).rename_axis("model")


def _dataset_source(run: Any) -> str | None:
    for dataset_input in getattr(run.inputs, "dataset_inputs", None) or []:
        for tag in dataset_input.tags or []:
            if tag.key == "source":
                return str(tag.value)
    return None


def _recompute_segments(run: Any, tracking_uri: str) -> tuple[pd.DataFrame | None, str]:
    """Score the run's data source with its registered version (older runs only)."""
    tags, params = run.data.tags, run.data.params
    name, version = tags.get("clv.registered_model"), tags.get("clv.registered_version")
    source = _dataset_source(run)
    if not (name and version):
        return None, "The run registered no model version; no segment summary."
    if not source or not Path(source).is_file():
        return None, (
            "The run recorded no segment summary and its data source "
            f"({source or 'unknown'}) is not a file here; retrain to record it."
        )
    import mlflow

    from clv.models.segments import segment_summary
    from clv.serving.batch import score_transactions
    from clv.training.tracking import tracking_store
    from clv.training.train import read_transactions

    with tracking_store(tracking_uri):
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
        scored = score_transactions(
            read_transactions(source),
            model=model,
            as_of=params["holdout_end"],
            horizon=float(params["horizon"]),
            discount_rate=float(params.get("discount_rate", 0.0)),
        )
    note = (
        f"Recomputed: {name} version {version} scoring every customer of {source} "
        f"as of {params['holdout_end']}."
    )
    return segment_summary(scored), note


def _segments(
    client: Any, run: Any, folder: Path, tracking_uri: str
) -> tuple[pd.DataFrame | None, str]:
    local = _download(client, run.info.run_id, "segment_summary.csv", folder)
    if local is not None:
        table = pd.read_csv(local).set_index("segment")
        as_of = run.data.params.get("holdout_end", "the holdout end")
        note = (
            f"Every customer as of {as_of}, scored by the registered model over the "
            f"horizon of {run.data.params.get('horizon', '?')} time units."
        )
        return table, note
    return _recompute_segments(run, tracking_uri)


def collect_report(
    run_id: str | None = None,
    *,
    experiment: str = "clv",
    tracking_uri: str | None = None,
) -> ReportData:
    """Gather what the report of a training run shows.

    Parameters
    ----------
    run_id : str, optional
        A parent training run (a child run stands for its parent). Default: the
        latest finished training run of ``experiment``.
    experiment : str, default "clv"
        Experiment searched when ``run_id`` is not given.
    tracking_uri : str, optional
        MLflow store; ``sqlite:///mlflow.db`` in the working directory (or
        ``$MLFLOW_TRACKING_URI``) by default.

    Returns
    -------
    ReportData

    Raises
    ------
    clv.errors.InvalidParameterError
        If the run or the experiment does not exist or holds no clv training.
    clv.errors.CLVError
        If the run lacks its comparison table.
    """
    from datetime import datetime, timezone

    from mlflow.exceptions import MlflowException

    from clv.training.stores import check_store
    from clv.training.tracking import resolve_tracking_uri

    uri = check_store(resolve_tracking_uri(tracking_uri), create=False)
    client = _client(uri)
    run = _find_run(client, run_id, experiment)
    tags = dict(run.data.tags)
    aliases: dict[str, str] = {}
    name = tags.get("clv.registered_model")
    if name:
        try:
            model = client.get_registered_model(name)
            aliases = {alias: str(v) for alias, v in (model.aliases or {}).items()}
        except MlflowException:
            aliases = {}
    try:
        experiment_name = client.get_experiment(run.info.experiment_id).name
    except MlflowException:  # pragma: no cover - the run's experiment always exists
        experiment_name = str(run.info.experiment_id)
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        comparison = _comparison(client, run, root)
        segments, note = _segments(client, run, root, uri)
        images = _plots(client, run, root / "plots")
    from clv.training.model_diagnostics import collect_model_diagnostics

    diagnostics = collect_model_diagnostics(client, run)
    return ReportData(
        tracking_uri=uri,
        run_id=run.info.run_id,
        run_name=run.info.run_name or run.info.run_id,
        experiment=experiment_name,
        start_time=started.isoformat(timespec="seconds"),
        params=dict(run.data.params),
        tags=tags,
        comparison=comparison,
        best_model=tags.get("clv.best_model", ""),
        aliases=aliases,
        segments=segments,
        segments_note=note,
        images=images,
        diagnostics=diagnostics,
    )


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { font-weight: bold; background: #eef6ee; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
.note { color: #555; font-size: 0.9em; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "n/a"
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:,.4g}" if abs(number) < 1e4 else f"{number:,.0f}"


def _table(
    frame: pd.DataFrame, *, index_name: str, highlight: str | None = None, mark: str = ""
) -> str:
    header = "".join(f"<th>{_e(column)}</th>" for column in [index_name, *frame.columns])
    rows = []
    for label, row in frame.iterrows():
        best = highlight is not None and str(label) == str(highlight)
        cells = [f"<td>{_e(label)}{_e(mark) if best else ''}</td>"]
        for value in row:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            cell = _number(value) if numeric else str(value)
            cells.append(f'<td class="num">{_e(cell)}</td>' if numeric else f"<td>{_e(cell)}</td>")
        rows.append(f"<tr{' class=best' if best else ''}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _definition_list(items: Iterable[tuple[str, object]]) -> str:
    rows = "".join(f"<tr><th>{_e(key)}</th><td>{_e(value)}</td></tr>" for key, value in items)
    return f"<table>{rows}</table>"


def _image(title: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{_e(title)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(title)}</figcaption></figure>"
    )


def render_report(data: ReportData) -> str:
    """Render a report as one self-contained HTML page.

    Parameters
    ----------
    data : ReportData
        From :func:`collect_report`.

    Returns
    -------
    str
        The HTML document: styles inline, plots as ``data:`` URIs, no script and no
        external resource; every text from the store escaped.
    """
    from clv.training.compare import _DISPLAY

    params, tags = data.params, data.tags
    comparison = data.comparison.rename(
        columns={name: label for name, (label, _) in _DISPLAY.items()}
    )
    settings = [(label, params[name]) for name, label in _SETTINGS if name in params]
    model_name = tags.get("clv.registered_model")
    registry_rows: list[tuple[str, object]] = [("Chosen model", data.best_model)]
    if model_name:
        registry_rows += [
            ("Registered model", model_name),
            ("New version", tags.get("clv.registered_version", "?")),
            ("Gate decision", tags.get("clv.gate_decision", "?")),
            ("Reason", tags.get("clv.gate_reason", "")),
            ("Champion before", tags.get("clv.previous_champion", "none")),
        ]
        registry_rows += [
            (f"{model_name}@{alias} now", f"version {version}")
            for alias, version in sorted(data.aliases.items())
        ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>clv training report: {_e(data.run_name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>clv training report: {_e(data.run_name)}</h1>",
        '<p class="note">'
        f"Run {_e(data.run_id)} of experiment {_e(data.experiment)}, started "
        f"{_e(data.start_time)}; store {_e(data.tracking_uri)}.</p>",
        "<h2>Training</h2>",
        _definition_list(settings),
        "<h2>Holdout comparison</h2>",
        '<p class="note">One row per candidate, fitted on the calibration period and '
        "judged on the holdout; lower is better except Gini, Spearman and AUC. "
        "The chosen model is marked.</p>",
        _table(comparison, index_name="Model", highlight=data.best_model, mark=" (chosen)"),
        "<h2>Chosen model and registry</h2>",
        _definition_list(registry_rows),
        "<h2>Segments</h2>",
        f'<p class="note">{_e(data.segments_note)}</p>',
    ]
    if data.segments is not None:
        segments = data.segments.rename(
            columns={"count": "Customers", "total_clv": "Total CLV", "mean_clv": "Mean CLV"}
        )
        total = pd.DataFrame(
            {
                "Customers": [int(data.segments["count"].sum())],
                "Total CLV": [float(data.segments["total_clv"].sum())],
            },
            index=["all customers"],
        )
        parts.append(_table(segments, index_name="Segment"))
        parts.append(_table(total, index_name=""))
    if data.diagnostics is not None:
        parts.append("<h2>Model diagnostics</h2>")
        parts.append(
            '<p class="note">Fitted on the calibration period: estimates with standard '
            "errors, AIC and BIC; Gamma-Gamma's spend-frequency correlation (it assumes "
            "none; warned from 0.3); and whether the predictive distribution of holdout "
            "purchases holds what it claims (randomised PIT, calibrated at 0.90 and 0.50; "
            "plain central intervals of a count over-cover).</p>"
        )
        parts.append(_table(data.diagnostics, index_name="Model"))
    parts.append("<h2>Plots</h2>")
    if not data.images:
        parts.append('<p class="note">The run logged no plots.</p>')
    parts.extend(_image(title, png) for title, png in data.images)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    output: str | Path = "report.html",
    run_id: str | None = None,
    *,
    experiment: str = "clv",
    tracking_uri: str | None = None,
) -> Path:
    """Write the HTML report of a training run.

    Parameters
    ----------
    output : str or pathlib.Path, default "report.html"
        The HTML file to write (its folder must exist); replaced atomically.
    run_id : str, optional
        The training run; default the latest one of ``experiment``.
    experiment : str, default "clv"
        Experiment searched when ``run_id`` is not given.
    tracking_uri : str, optional
        MLflow store (default ``sqlite:///mlflow.db``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import os

    target = Path(output)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"No such folder for the report: {target.parent}")
    if target.is_dir():
        raise IsADirectoryError(f"The report output is a directory: {target}")
    page = render_report(collect_report(run_id, experiment=experiment, tracking_uri=tracking_uri))
    with tempfile.NamedTemporaryFile(
        "w",
        encoding="utf-8",
        dir=target.parent,
        prefix=f".{target.name}.",
        suffix=".tmp",
        delete=False,
    ) as handle:
        temporary = Path(handle.name)
        try:
            handle.write(page)
        except BaseException:
            handle.close()
            temporary.unlink(missing_ok=True)
            raise
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
