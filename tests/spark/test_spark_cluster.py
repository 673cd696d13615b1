"""clv on a real Spark standalone cluster on loopback equals the embedded engine.

``local[*]`` runs every executor inside the driver's JVM, which hides what a cluster
does (executors in other processes, the model shipped to them as a file, Python
workers started by another JVM). Here a master and two workers run in their own
processes, started as Spark's launchers start them (``spark-class``), with 1 core
and 512m each; a driver process (tests/spark/cluster_job.py) runs the features,
the collapsed-statistics fit and ``mlflow.pyfunc.spark_udf`` scoring through
``spark://127.0.0.1:PORT``. Every wait is bounded and the daemons are stopped by
their process ids.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clv.datasets import load_cdnow
from tests.spark.conftest import clean_env

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.mlflow]

AS_OF = "1997-09-30"
HORIZON = 39
PREDICTIONS = ["expected_purchases", "probability_alive", "churn_probability", "expected_spend"]
_START_TIMEOUT = 180.0
_JOB_TIMEOUT = 900.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _master_state(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/", timeout=5) as response:
        return json.load(response)


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _stop(processes: list[tuple[subprocess.Popen, Path]]) -> None:
    """SIGTERM each daemon by its pid, wait, then SIGKILL what is left (workers first)."""
    for process, _ in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, _ in reversed(processes):
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A standalone master and two workers on 127.0.0.1; yields the master URL."""
    pyspark = pytest.importorskip("pyspark")
    home = Path(pyspark.__file__).parent
    spark_class = home / "bin" / "spark-class"
    folder = tmp_path_factory.mktemp("cluster")
    env = {
        **clean_env(),
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_LOG_DIR": str(folder),
        "SPARK_WORKER_DIR": str(folder / "work"),
    }
    port, ui = _free_port(), _free_port()
    url = f"spark://127.0.0.1:{port}"
    master = ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
    commands = [("master", [*master, "--port", str(port), "--webui-port", str(ui)])]
    for index in (1, 2):
        work = folder / f"worker{index}"
        work.mkdir()
        worker = ["org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1"]
        worker += ["--cores", "1", "--memory", "512m", "--work-dir", str(work)]
        commands.append((f"worker{index}", [*worker, "--webui-port", str(_free_port())]))
    processes: list[tuple[subprocess.Popen, Path]] = []
    try:
        for name, arguments in commands:
            log = folder / f"{name}.log"
            with open(log, "wb") as handle:
                process = subprocess.Popen(
                    ["bash", str(spark_class), *arguments],
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=folder,
                )
            processes.append((process, log))
            if name == "master":
                _wait(lambda: _master_state(ui), processes, "the master's web UI")
        _wait(
            lambda: len([w for w in _master_state(ui)["workers"] if w["state"] == "ALIVE"]) == 2,
            processes,
            "two ALIVE workers",
        )
        yield {"url": url, "ui": ui, "env": env, "folder": folder}
    finally:
        _stop(processes)


def _wait(ready, processes: list[tuple[subprocess.Popen, Path]], what: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        for process, log in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{log.stem} exited ({process.returncode}):\n{_tail(log)}")
        try:
            if ready():
                return
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {log.stem}\n{_tail(log)}" for _, log in processes)
            raise TimeoutError(f"no {what} after {_START_TIMEOUT:.0f} s:\n{logs}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def job(cluster, store, tmp_path_factory):
    """Run tests/spark/cluster_job.py against the cluster; return its output folder."""
    out = tmp_path_factory.mktemp("cluster-job")
    source = out / "cdnow.parquet"
    load_cdnow()[["customer_id", "timestamp", "amount"]].to_parquet(source, index=False)
    script = Path(__file__).with_name("cluster_job.py")
    # The user's choice of Python for the workers (a cluster has no sys.executable of
    # the driver): here every "node" has the same venv.
    env = {**cluster["env"], "PYSPARK_PYTHON": sys.executable}
    arguments = [cluster["url"], source, out, store["model"], store["uri"], AS_OF, HORIZON]
    # Its own process group: on a timeout the driver and the JVM it started go together.
    process = subprocess.Popen(
        [sys.executable, str(script), *map(str, arguments)],
        cwd=out,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=_JOB_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
        pytest.fail(f"the cluster job took over {_JOB_TIMEOUT:.0f} s:\n{stderr[-4000:]}")
    causes = [line for line in stderr.splitlines() if "Error" in line or "Exception" in line]
    assert process.returncode == 0, "\n".join(causes[-10:]) + "\n" + stderr[-2000:]
    fit = json.loads((out / "fit.json").read_text(encoding="utf-8"))
    return out, fit


def test_the_job_ran_on_two_executors_of_the_standalone_master(cluster, job):
    _, fit = job
    assert fit["master"] == cluster["url"]
    assert len(fit["block_managers"]) == 3  # the driver and two executors
    apps = _master_state(cluster["ui"])["completedapps"]
    assert [app["name"] for app in apps] == ["clv-cluster-test"]


def test_features_on_the_cluster_equal_the_embedded_engine(job, cdnow):
    from clv.features import customer_features

    out, _ = job
    remote = pd.read_parquet(out / "features.parquet")
    local = customer_features(
        cdnow[["customer_id", "timestamp", "amount"]], as_of=AS_OF, time_unit="W"
    )
    local = local.sort_values("customer_id").reset_index(drop=True)
    remote = remote.sort_values("customer_id").reset_index(drop=True)
    assert list(remote.columns) == list(local.columns)
    pd.testing.assert_frame_equal(remote, local, check_dtype=False, check_exact=False, rtol=1e-12)


def test_the_collapsed_fit_on_the_cluster_equals_the_local_fit(job, cdnow):
    from clv.features import rfm_summary
    from clv.models import BetaGeoModel

    _, fit = job
    log = cdnow[["customer_id", "timestamp", "amount"]]
    table = rfm_summary(log, observation_end=AS_OF, time_unit="W")
    local = BetaGeoModel().fit(table)
    assert fit["params"] == local.params_.to_dict()
    assert fit["log_likelihood"] == local.log_likelihood_


@pytest.fixture(scope="module")
def local_scores(job, store):
    """``clv score``'s scores of the same file (the local engine, in process)."""
    from clv.serving import batch

    out, _ = job
    batch.score_file(
        out / "cdnow.parquet",
        model_uri=store["model"],
        as_of=AS_OF,
        horizon=HORIZON,
        output=out / "local.parquet",
        tracking_uri=store["uri"],
    )
    local = pd.read_parquet(out / "local.parquet")
    return local.sort_values("customer_id").reset_index(drop=True)


def _assert_same_scores(path: Path, local: pd.DataFrame) -> None:
    remote = pd.read_parquet(path).sort_values("customer_id").reset_index(drop=True)
    assert len(local) == 2357
    assert remote["customer_id"].tolist() == local["customer_id"].tolist()
    columns = [*PREDICTIONS, "clv"]
    np.testing.assert_allclose(remote[columns], local[columns], rtol=1e-9, atol=1e-12)
    assert remote["segment"].tolist() == local["segment"].tolist()


def test_score_spark_on_the_cluster_equals_clv_score(job, local_scores):
    out, _ = job
    _assert_same_scores(out / "scores.parquet", local_scores)


def test_spark_udf_over_the_feature_table_as_it_is_equals_clv_score(job, local_scores):
    # customer_features' own Spark table: integer columns, every column (extra ones too)
    out, _ = job
    error = out / "udf-error.txt"
    assert not error.exists(), error.read_text(encoding="utf-8")
    _assert_same_scores(out / "udf.parquet", local_scores)
