"""Leave nothing unfinished in MLflow when a training stops early.

A training interrupted by Ctrl-C or SIGTERM (which ``clv`` turns into the same
interruption), or stopped by an error, must not leave runs in ``RUNNING`` or
logged models in ``PENDING`` -- the MLflow UI would show them as still in
progress forever. :func:`fail_unfinished` marks them ``FAILED``;
:func:`failing_unfinished` does it for a block (:func:`clv.training.train.train`
wraps its runs in it) on any exception, then re-raises it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["fail_unfinished", "failing_unfinished"]


def fail_unfinished(run_ids: Sequence[str], experiment_id: str, tracking_uri: str) -> int:
    """Mark the still-running runs (``run_ids``, their children) and pending logged models failed.

    Returns how many runs and logged models were marked ``FAILED``.
    """
    from mlflow.entities import LoggedModelStatus, RunStatus

    from clv.training.store_client import mlflow_client

    if not run_ids:
        return 0
    client = mlflow_client(tracking_uri)
    marked = 0
    running = RunStatus.to_string(RunStatus.RUNNING)
    for run_id in run_ids:
        children = client.search_runs(
            [str(experiment_id)], filter_string=f"tags.mlflow.parentRunId = '{run_id}'"
        )
        runs = [client.get_run(run_id), *children]
        for run in runs:
            if run.info.status == running:
                client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FAILED))
                marked += 1
        models = client.search_logged_models(
            experiment_ids=[str(experiment_id)], filter_string=f"source_run_id = '{run_id}'"
        )
        for model in models:
            if str(model.status) == str(LoggedModelStatus.PENDING):
                client.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
                marked += 1
    return marked


@contextmanager
def failing_unfinished(experiment_id: str, tracking_uri: str) -> Iterator[list[str]]:
    """Run a block whose runs are marked failed if it raises (or is interrupted).

    Yields a list: append each top-level run id to it as soon as it is created (its
    child runs are found by their ``mlflow.parentRunId`` tag).
    """
    run_ids: list[str] = []
    try:
        yield run_ids
    except BaseException as error:
        try:
            fail_unfinished(run_ids, experiment_id, tracking_uri)
        except Exception as cleanup:  # noqa: BLE001 - never hide the original error
            error.add_note(f"clv could not mark the unfinished MLflow runs failed: {cleanup}")
        raise
