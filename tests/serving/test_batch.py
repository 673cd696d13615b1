"""Batch scoring: `clv score` and clv.serving.batch.score_file."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidDataError, InvalidParameterError, ModelLoadError
from clv.serving.batch import OUTPUT_COLUMNS, score_file

PREDICTIONS = [
    "expected_purchases",
    "probability_alive",
    "churn_probability",
    "expected_spend",
    "clv",
]


def _clv(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "clv.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env=dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true"),
    )


def _score_args(trained, source, output, *extra):
    return [
        "score",
        source,
        "--model-uri",
        trained.model_uri,
        "--as-of",
        "1997-09-30",
        "--horizon",
        "39",
        "--output",
        output,
        "--tracking-uri",
        trained.tracking_uri,
        *extra,
    ]


@pytest.fixture(scope="module")
def cdnow_scores(trained, tmp_path_factory):
    """`clv score` on CDNOW as of 1997-09-30, horizon 39 (a real subprocess)."""
    output = tmp_path_factory.mktemp("scores") / "scores.parquet"
    result = _clv(*_score_args(trained, trained.cdnow_csv, output))
    assert result.returncode == 0, result.stderr
    return output, result.stdout


def test_clv_score_scores_every_cdnow_customer(trained, cdnow_scores):
    output, stdout = cdnow_scores
    scores = pd.read_parquet(output)
    assert list(scores.columns) == list(OUTPUT_COLUMNS)
    assert len(scores) == 2357
    assert scores["customer_id"].is_unique
    assert set(scores["model_version"]) == {trained.version}
    assert scores["scored_at"].nunique() == 1
    assert str(scores["scored_at"].dtype).endswith("UTC]")
    assert scores[PREDICTIONS].notna().all().all()
    assert scores["probability_alive"].between(0, 1).all()
    assert scores["churn_probability"].between(0, 1).all()
    # The summary printed is the per-segment count, total and mean clv, as a Markdown table.
    assert "scored 2,357 customers" in stdout
    assert "| segment " in stdout and "| count | share | total_clv | mean_clv |" in stdout
    counts = scores["segment"].value_counts()
    for segment, count in counts.items():
        assert any(
            line.startswith(f"| {segment} ") and f" {count:,} | " in line
            for line in stdout.splitlines()
        )


def test_batch_scores_equal_the_pyfunc_on_the_training_features(trained, cdnow_scores):
    import mlflow

    from clv.datasets import load_cdnow
    from clv.features.behaviour import customer_features
    from clv.mlflow_model.validation import to_model_input
    from clv.serving._models import download_model, resolve_model

    output, _ = cdnow_scores
    local = download_model(resolve_model(trained.model_uri, trained.tracking_uri))
    model = mlflow.pyfunc.load_model(str(local))
    features = customer_features(load_cdnow(), as_of="1997-09-30", time_unit="W")
    columns = model.unwrap_python_model().metadata["feature_columns"]
    expected = model.predict(to_model_input(features[columns]), params={"horizon": 39.0})
    scores = pd.read_parquet(output)
    np.testing.assert_allclose(scores[PREDICTIONS], expected[PREDICTIONS], rtol=1e-12)
    assert scores["segment"].tolist() == expected["segment"].tolist()


@pytest.mark.parametrize("source", ["cdnow_csv", "cdnow_parquet"])
def test_chunked_scoring_to_csv_equals_the_in_memory_result(
    trained, cdnow_scores, tmp_path, source
):
    output = tmp_path / "scores.csv"
    calls = []
    summary = score_file(
        getattr(trained, source),
        model_uri=trained.model_uri,
        as_of="1997-09-30",
        horizon=39,
        output=output,
        tracking_uri=trained.tracking_uri,
        chunk_customers=500,
        progress=lambda *args: calls.append(args),
    )
    chunked = pd.read_csv(output).set_index("customer_id").sort_index()
    whole = pd.read_parquet(cdnow_scores[0]).set_index("customer_id").sort_index()
    assert list(chunked.columns) == list(OUTPUT_COLUMNS[1:])
    assert chunked.index.equals(whole.index)
    np.testing.assert_allclose(chunked[PREDICTIONS], whole[PREDICTIONS], rtol=1e-12)
    assert (chunked["segment"] == whole["segment"]).all()
    assert int(summary["count"].sum()) == 2357
    assert summary.attrs["model_version"] == trained.version
    assert {phase for phase, _, _ in calls} == {"reading", "scoring"}
    assert calls[-1] == ("scoring", 6919, 6919)
    assert sorted(os.listdir(tmp_path)) == ["scores.csv"]


def test_a_failure_in_a_late_chunk_leaves_no_output(trained, tmp_path):
    from clv.datasets import load_cdnow

    log = load_cdnow()[["customer_id", "timestamp", "amount"]].copy()
    log.loc[log.index[-1], "amount"] = -5.0  # a return, refused by the contract
    source = tmp_path / "log.parquet"
    log.to_parquet(source, index=False)
    output = tmp_path / "scores.parquet"
    with pytest.raises(InvalidDataError, match="negative"):
        score_file(
            source,
            model_uri=trained.model_uri,
            as_of="1997-09-30",
            horizon=39,
            output=output,
            tracking_uri=trained.tracking_uri,
            chunk_customers=300,
        )
    assert sorted(os.listdir(tmp_path)) == ["log.parquet"]


def test_an_existing_output_is_kept_when_scoring_fails(trained, tmp_path):
    output = tmp_path / "scores.parquet"
    output.write_bytes(b"previous scores")
    with pytest.raises(ModelLoadError, match="Unknown model"):
        score_file(
            trained.cdnow_csv,
            model_uri="models:/clv@nobody",
            as_of="1997-09-30",
            horizon=39,
            output=output,
            tracking_uri=trained.tracking_uri,
        )
    assert output.read_bytes() == b"previous scores"
    assert sorted(os.listdir(tmp_path)) == ["scores.parquet"]


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"horizon": 0}, InvalidParameterError, "'horizon' parameter"),
        ({"discount_rate": -0.1}, InvalidParameterError, "'discount_rate' parameter"),
        ({"output": "scores.json"}, InvalidParameterError, "must end in .parquet"),
        ({"as_of": "not a date"}, InvalidParameterError, "'as_of' parameter must be a date"),
        ({"chunk_customers": 0}, InvalidParameterError, "'chunk_customers' parameter"),
        ({"as_of": "1990-01-01"}, InvalidDataError, "before the first transaction"),
    ],
)
def test_score_file_checks_its_arguments(trained, tmp_path, options, error, match):
    arguments = {
        "model_uri": trained.model_uri,
        "as_of": "1997-09-30",
        "horizon": 39,
        "output": tmp_path / "scores.parquet",
        "tracking_uri": trained.tracking_uri,
    }
    arguments.update(options)
    if isinstance(arguments["output"], str):
        arguments["output"] = tmp_path / arguments["output"]
    with pytest.raises(error, match=match):
        score_file(trained.cdnow_csv, **arguments)
    assert os.listdir(tmp_path) == []


def test_user_errors_exit_2_with_one_line(trained, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,timestamp,amount\n1,1997-01-01,12.5\n2,1997-01-02,SECRET\n")
    output = tmp_path / "out.parquet"
    cases = {
        "missing file": (_score_args(trained, tmp_path / "absent.csv", output), "No such file"),
        "invalid data": (_score_args(trained, bad, output), "amount"),
        "unknown model": (
            [
                *_score_args(trained, trained.cdnow_csv, output)[:2],
                "--model-uri",
                "models:/nope@champion",
                *_score_args(trained, trained.cdnow_csv, output)[4:],
            ],
            "Unknown model 'models:/nope@champion'",
        ),
        "spark engine": (
            _score_args(trained, trained.cdnow_csv, output, "--engine", "spark"),
            "spark",
        ),
    }
    from importlib.util import find_spec

    if find_spec("clv.serving.spark") is not None:
        del cases["spark engine"]
    for name, (args, text) in cases.items():
        result = _clv(*args)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (name, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], (
            name,
            lines,
        )
        assert not output.exists(), name
    assert sorted(os.listdir(tmp_path)) == ["bad.csv"]
