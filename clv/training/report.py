"""A self-contained HTML report of one training run (``clv report``): the data.

:func:`collect_report` gathers, from the MLflow store, what the page shows; the page
itself (decisions first, model evidence second) is rendered by
:mod:`clv.training.report_page` from a Jinja2 template:

* the decision tables ``clv train`` logged (``decisions/*.csv``: headline, segments
  with actions and value at risk, new-customer value, retention what-if; see
  :func:`clv.models.decisions.decision_tables`);
* the segment summary (``segment_summary.csv``; for runs logged before clv recorded
  it, recomputed by scoring the run's data source with the registered version when
  that file still exists);
* the training settings, the holdout comparison table (``comparison.csv``), the
  registry decision (version, gate decision and reason, aliases now), the model
  diagnostics, and every PNG plot of the run and its child runs.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clv.training.report_page import duration
from clv.training.report_page import render_page as render_report
from clv.training.run_reader import (
    dataset_source,
    download_artifact,
    find_training_run,
    read_comparison,
    read_decisions,
    run_images,
)

__all__ = ["ReportData", "collect_report", "render_report", "write_report"]


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
    decisions : dict of str to pandas.DataFrame
        The run's decision tables (``decisions/<name>.csv``, see
        :func:`clv.models.decisions.decision_tables`); empty for older runs.
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
    decisions: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


def _recompute_segments(run: Any, tracking_uri: str) -> tuple[pd.DataFrame | None, str]:
    """Score the run's data source with its registered version (older runs only)."""
    tags, params = run.data.tags, run.data.params
    name, version = tags.get("clv.registered_model"), tags.get("clv.registered_version")
    source = dataset_source(run)
    if not (name and version):
        return None, "The run registered no model version; no segment summary."
    if not source or not Path(source).is_file():
        return None, (
            "The run recorded no segment summary and its data source "
            f"({source or 'unknown'}) is not a file here; retrain to record it."
        )
    from clv.features.io import read_transactions
    from clv.mlflow_model.scoring import score_transactions
    from clv.models.segments import segment_summary
    from clv.training.store_client import load_registered_model

    scored = score_transactions(
        read_transactions(source),
        model=load_registered_model(name, version, tracking_uri),
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
    local = download_artifact(client, run.info.run_id, "segment_summary.csv", folder)
    if local is not None:
        table = pd.read_csv(local).set_index("segment")
        as_of = run.data.params.get("holdout_end", "the holdout end")
        params = run.data.params
        horizon = duration(params.get("horizon", "?"), params.get("time_unit", ""))
        note = (
            f"Every customer as of {as_of}, scored by the registered model over the "
            f"horizon of {horizon}."
        )
        if "margin" in run.data.params:
            from clv.mlflow_model.margin import describe_margin

            note += f" Here {describe_margin(float(run.data.params['margin']))}."
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

    from clv.training.registry import aliases as registered_aliases
    from clv.training.store_client import mlflow_client
    from clv.training.stores import check_store, resolve_tracking_uri

    uri = check_store(resolve_tracking_uri(tracking_uri), create=False)
    client = mlflow_client(uri)
    run = find_training_run(client, run_id, experiment)
    tags = dict(run.data.tags)
    aliases: dict[str, str] = {}
    if tags.get("clv.registered_model"):
        try:
            aliases = registered_aliases(tags["clv.registered_model"], tracking_uri=uri)
        except MlflowException:
            pass
    try:
        experiment_name = client.get_experiment(run.info.experiment_id).name
    except MlflowException:  # pragma: no cover - the run's experiment always exists
        experiment_name = str(run.info.experiment_id)
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        comparison = read_comparison(client, run, root)
        segments, note = _segments(client, run, root, uri)
        images = run_images(client, run, root / "plots")
        decisions = read_decisions(client, run, root / "decisions")
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
        decisions=decisions,
    )


def write_report(
    output: str | Path = "report.html",
    run_id: str | None = None,
    *,
    experiment: str = "clv",
    tracking_uri: str | None = None,
    currency: str = "",
    acquisition_cost: float | None = None,
) -> Path:
    """Write the HTML report of a training run.

    Parameters
    ----------
    output : str or pathlib.Path, default "report.html"
        The HTML file to write (its folder must exist); replaced atomically.
    run_id, experiment, tracking_uri
        The training run, as for :func:`collect_report`.
    currency : str, default ""
        Shown with every amount (e.g. ``"USD"``).
    acquisition_cost : float, optional
        Cost of acquiring a customer, for the payback time in the headline.

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
    page = render_report(
        collect_report(run_id, experiment=experiment, tracking_uri=tracking_uri),
        currency=currency,
        acquisition_cost=acquisition_cost,
    )
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(page)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
