"""A real `clv train` stopped by a real signal leaves nothing RUNNING or PENDING (issue 12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

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


@pytest.mark.parametrize(
    ("stop", "at"),
    [(signal.SIGTERM, "logging the pyfunc model"), (signal.SIGINT, "logged bg_nbd")],
    ids=["SIGTERM while logging the model", "SIGINT after the child run"],
)
def test_an_interrupted_training_marks_its_runs_and_models_failed(tmp_path, stop, at):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    process = _start_training(tmp_path, uri)
    try:
        _wait_for_line(process, at)
        client = MlflowClient(tracking_uri=uri)
        if stop == signal.SIGTERM:  # wait (bounded) for the logged model to exist, PENDING
            ids = [e.experiment_id for e in client.search_experiments()]
            for _ in range(300):
                if _pending_models(client, ids) or process.poll() is not None:
                    break
                time.sleep(0.05)
        process.send_signal(stop)
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
    assert {run.info.status for run in runs} == {"FAILED"}, [
        (run.info.run_name, run.info.status) for run in runs
    ]
    assert _pending_models(client, ids) == []
