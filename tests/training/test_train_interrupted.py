"""A real `clv train` stopped by a real signal leaves nothing RUNNING or PENDING (issue 12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


def _start_training(folder, uri) -> subprocess.Popen:
    from clv.datasets import load_cdnow

    log = folder / "cdnow.csv"
    load_cdnow()[["customer_id", "timestamp", "amount"]].to_csv(log, index=False)
    (folder / "train.toml").write_text('kinds = "bg_nbd"\n')  # one kind, given as a string
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONUNBUFFERED": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(
        [sys.executable, "-m", "clv.cli", "train", str(log)]
        + ["--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30"]
        + ["--tracking-uri", uri, "--config", str(folder / "train.toml")],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for_line(process: subprocess.Popen, text: str) -> None:
    for line in process.stdout:
        if text in line:
            return
    raise AssertionError(f"the training ended before printing {text!r}: {process.stderr.read()}")


def _pending_models(client, experiment_ids):
    models = client.search_logged_models(experiment_ids=experiment_ids)
    return [model for model in models if str(model.status) == "PENDING"]


def _has_pending_model(database) -> bool | None:
    """Whether the store holds a PENDING logged model; ``None`` while a writer locks it.

    Read-only and without waiting: the training may be frozen while it holds the lock.
    """
    import sqlite3

    from mlflow.entities import LoggedModelStatus

    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0) as store:
            row = store.execute(
                "SELECT 1 FROM logged_models WHERE status = ? LIMIT 1",
                (LoggedModelStatus.PENDING.to_int(),),
            ).fetchone()
    except sqlite3.OperationalError:
        return None
    return row is not None


def _stop_while_pending(process: subprocess.Popen, database) -> bool:
    """Step the training in short slices until its logged model is PENDING; leave it stopped.

    Between slices the process is frozen with SIGSTOP, so the window in which the
    logged model is PENDING cannot pass unseen however loaded the machine is; the
    SIGTERM that follows lands wherever the training was in that window.
    """
    import time

    for _ in range(20_000):  # bounded: about 100 s of the training's own time
        process.send_signal(signal.SIGSTOP)
        if process.poll() is not None:
            return False
        if _has_pending_model(database):
            return True
        process.send_signal(signal.SIGCONT)
        time.sleep(0.005)
    return False


@pytest.mark.parametrize(
    "stop",
    [signal.SIGTERM, signal.SIGINT],
    ids=["SIGTERM while logging the model", "SIGINT after the child run"],
)
def test_an_interrupted_training_marks_its_runs_and_models_failed(tmp_path, stop):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    process = _start_training(tmp_path, uri)
    saw_pending = False
    try:
        _wait_for_line(process, "logged 1 candidate runs")  # the child run is done, the parent runs
        if stop == signal.SIGTERM:  # the next logged model is the pyfunc model
            saw_pending = _stop_while_pending(process, tmp_path / "mlflow.db")
        process.send_signal(stop)
        if stop == signal.SIGTERM:
            process.send_signal(signal.SIGCONT)
        _, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + stop, stderr
    assert f"interrupted by {stop.name}" in stderr

    client = MlflowClient(tracking_uri=uri)
    ids = [experiment.experiment_id for experiment in client.search_experiments()]
    runs = client.search_runs(ids)
    assert runs, "the training had started its runs"
    statuses = [(run.info.run_name, run.info.status) for run in runs]
    assert all(status in ("FAILED", "FINISHED") for _, status in statuses), statuses
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert [run.info.status for run in parents] == ["FAILED"], statuses  # the one it stopped
    assert _pending_models(client, ids) == []
    if stop == signal.SIGTERM:
        assert saw_pending, "the signal was meant to arrive while the model was PENDING"
