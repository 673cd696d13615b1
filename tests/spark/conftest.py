import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clv.datasets import load_cdnow


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("clv-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def venv_script(name: str) -> Path:
    """A console script of the interpreter running the tests (``.venv/bin/clv``)."""
    return Path(sys.executable).parent / name


@functools.cache
def clean_env() -> dict[str, str]:
    """The environment of a cron job: the venv not activated, no PYSPARK_PYTHON.

    PATH without the venv's bin folder, no VIRTUAL_ENV, PYSPARK_*, PYTHONPATH; the
    suite's CLV_MODEL_CACHE (off, tests/conftest.py) is kept so that no Spark process
    writes into the real ~/.cache/clv/models. Where
    the venv's Python, started so, would import another clv than the tests do (an
    engineer's worktree beside the editable install), PYTHONPATH points at the tested
    clv; on a clean checkout with clv installed in its venv it is not set at all.
    """
    import clv

    bin_folder = str(Path(sys.executable).parent)
    path = os.pathsep.join(
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry != bin_folder
    )
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    for name in ("JAVA_HOME", "TMPDIR", "CLV_MODEL_CACHE"):
        if name in os.environ:
            env[name] = os.environ[name]
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["SPARK_LOCAL_IP"] = "127.0.0.1"  # bind loopback in tests; unrelated to Python
    tested = Path(clv.__file__).resolve()
    found = subprocess.run(
        [sys.executable, "-c", "import clv; print(clv.__file__)"],
        env=env,
        cwd=Path(sys.executable).parent,  # not the checkout: `-c` puts the cwd on sys.path
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout.strip()
    if not found or Path(found).resolve() != tested:
        env["PYTHONPATH"] = str(tested.parent.parent)
    return env


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """A clv model trained on CDNOW (as of 1997-09-30) registered as clv@champion, and CDNOW files."""
    from clv.training.train import train

    folder = tmp_path_factory.mktemp("spark-store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        result = train(
            load_cdnow(),
            calibration_end="1997-09-30",
            holdout_end="1998-06-30",
            time_unit="W",
            tracking_uri=uri,
            kinds=["baseline", "bg_nbd"],
        )
    log = load_cdnow()[["customer_id", "timestamp", "amount"]]
    log.to_csv(folder / "cdnow.csv", index=False)
    log.to_parquet(folder / "cdnow.parquet", index=False)
    return {
        "folder": folder,
        "uri": uri,
        "model": "models:/clv@champion",
        "version": result.version,
    }
