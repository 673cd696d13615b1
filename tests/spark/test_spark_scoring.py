"""Scoring on Spark equals the local engine: score_spark, score_file, `clv score --engine spark`.

A real local Spark session, a real SQLite MLflow store in a temporary folder and a
model trained by :func:`clv.training.train.train` on CDNOW (baseline and BG/NBD).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clv.datasets import load_cdnow
from clv.errors import InvalidDataError, ModelLoadError
from clv.serving import batch
from clv.serving.batch import OUTPUT_COLUMNS
from clv.serving.spark import score_file, score_spark
from tests.spark.conftest import clean_env, venv_script

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.mlflow]

PREDICTIONS = [
    "expected_purchases",
    "probability_alive",
    "churn_probability",
    "expected_spend",
    "clv",
]
AS_OF = "1997-09-30"
HORIZON = 39


@pytest.fixture(autouse=True)
def _no_telemetry(monkeypatch):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="module")
def local_scores(store, tmp_path_factory):
    """The local engine's scores of CDNOW (in process)."""
    output = tmp_path_factory.mktemp("local") / "scores.parquet"
    summary = batch.score_file(
        store["folder"] / "cdnow.parquet",
        model_uri=store["model"],
        as_of=AS_OF,
        horizon=HORIZON,
        output=output,
        tracking_uri=store["uri"],
    )
    return pd.read_parquet(output), summary


def _assert_same_scores(remote: pd.DataFrame, local: pd.DataFrame) -> None:
    remote = remote.sort_values("customer_id").reset_index(drop=True)
    local = local.sort_values("customer_id").reset_index(drop=True)
    assert len(remote) == len(local) == 2357
    assert remote["customer_id"].tolist() == local["customer_id"].tolist()
    np.testing.assert_allclose(remote[PREDICTIONS], local[PREDICTIONS], rtol=1e-9, atol=1e-12)
    assert remote["segment"].astype(str).tolist() == local["segment"].astype(str).tolist()
    versions = remote["model_version"].astype(str).tolist()
    assert versions == local["model_version"].astype(str).tolist()


def test_score_spark_equals_the_local_engine(spark, store, local_scores):
    log = load_cdnow()[["customer_id", "timestamp", "amount"]]
    scores = score_spark(
        spark.createDataFrame(log),
        model_uri=store["model"],
        as_of=AS_OF,
        horizon=HORIZON,
        tracking_uri=store["uri"],
    )
    assert scores.columns == list(OUTPUT_COLUMNS)
    remote = scores.toPandas()
    _assert_same_scores(remote, local_scores[0])
    assert set(remote["model_version"]) == {store["version"]}
    assert remote["scored_at"].nunique() == 1


def test_score_file_on_spark_writes_one_file_equal_to_local(spark, store, local_scores, tmp_path):
    output = tmp_path / "scores.parquet"
    calls = []
    summary = score_file(
        store["folder"] / "cdnow.parquet",
        model_uri=store["model"],
        as_of=AS_OF,
        horizon=HORIZON,
        output=output,
        tracking_uri=store["uri"],
        progress=lambda *call: calls.append(call),
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scores.parquet"]
    remote = pd.read_parquet(output)
    assert list(remote.columns) == list(OUTPUT_COLUMNS)
    assert remote["customer_id"].is_monotonic_increasing
    assert str(remote["scored_at"].dtype).endswith("UTC]")
    _assert_same_scores(remote, local_scores[0])
    local_summary = local_scores[1]
    pd.testing.assert_frame_equal(summary, local_summary, check_exact=False, rtol=1e-9)
    assert summary.attrs["n_customers"] == 2357
    assert summary.attrs["model_version"] == store["version"]
    assert calls == [("scoring", 2357, 2357)]


def test_score_file_on_spark_errors_leave_no_output(spark, store, tmp_path):
    log = load_cdnow()[["customer_id", "timestamp", "amount"]].head(60)
    bad = log.assign(amount=log["amount"].where(log.index != 5, -3.0))
    source = tmp_path / "bad.parquet"
    bad.to_parquet(source, index=False)
    late = tmp_path / "late.parquet"
    log.to_parquet(late, index=False)
    output = tmp_path / "scores.csv"
    options = {"as_of": AS_OF, "horizon": HORIZON, "output": output, "tracking_uri": store["uri"]}
    with pytest.raises(InvalidDataError, match="rows have a negative amount"):
        score_file(source, model_uri=store["model"], **options)
    with pytest.raises(InvalidDataError, match="lacks column"):
        score_file(source, model_uri=store["model"], **options, amount="price")
    with pytest.raises(ModelLoadError, match="Unknown model"):
        score_file(source, model_uri="models:/nope@champion", **options)
    with pytest.raises(InvalidDataError, match="No customer has a transaction"):
        score_file(late, model_uri=store["model"], **{**options, "as_of": "1996-01-01"})
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.parquet", "late.parquet"]


def _clv_score(
    store: dict, source: Path, output: Path, engine: str, **env: str
) -> subprocess.CompletedProcess:
    """Run ``.venv/bin/clv score`` as cron would: venv not activated, no PYSPARK_PYTHON.

    From the output's folder, not the checkout: Python workers started there would
    import clv from the current folder.
    """
    args = [source, "--model-uri", store["model"], "--as-of", AS_OF, "--horizon", HORIZON]
    args += ["--output", output, "--tracking-uri", store["uri"], "--engine", engine]
    return subprocess.run(
        [str(venv_script("clv")), "score", *map(str, args)],
        cwd=output.parent,
        capture_output=True,
        text=True,
        timeout=420,
        env={**clean_env(), **env},
        check=False,
    )


def test_clv_score_engine_spark_equals_engine_local(store, tmp_path):
    # The Python workers run the driver's interpreter (PYSPARK_PYTHON unset, the
    # venv's bin not on PATH: PySpark alone would start whatever python3 PATH has).
    assert "PYSPARK_PYTHON" not in clean_env()
    assert clean_env()["CLV_MODEL_CACHE"] == "off"  # not the real ~/.cache/clv/models
    outputs = {}
    for engine in ("spark", "local"):
        output: Path = tmp_path / f"{engine}.csv"
        result = _clv_score(store, store["folder"] / "cdnow.csv", output, engine)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "scored 2,357 customers" in result.stdout
        outputs[engine] = (pd.read_csv(output), result.stdout)
    remote, local = outputs["spark"][0], outputs["local"][0]
    assert list(remote.columns) == list(local.columns) == list(OUTPUT_COLUMNS)
    _assert_same_scores(remote, local)

    # The printed per-segment summaries agree (after the line with the time taken).
    def table(stdout: str) -> list[str]:
        lines = stdout.splitlines()
        return lines[[line.startswith("scored ") for line in lines].index(True) + 1 :]

    assert table(outputs["spark"][1]) == table(outputs["local"][1])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["local.csv", "spark.csv"]


def test_a_spark_failure_is_one_line_and_exit_code_2(store, tmp_path):
    # The user's PYSPARK_PYTHON wins over the driver's interpreter; here it does not
    # exist, so every Python worker fails to start inside the JVM.
    log = load_cdnow()[["customer_id", "timestamp", "amount"]].head(200)
    source = tmp_path / "small.csv"
    log.to_csv(source, index=False)
    output = tmp_path / "scores.csv"
    missing = str(tmp_path / "no-such-python")
    result = _clv_score(store, source, output, "spark", PYSPARK_PYTHON=missing)
    assert result.returncode == 2, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    assert "Spark failed" in errors[0] and "no-such-python" in errors[0]
    assert "Traceback" not in result.stderr and "\tat " not in result.stderr
    assert not output.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["small.csv"]
