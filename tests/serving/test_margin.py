"""Profit everywhere: ``margin`` in `clv train`, `clv score`, the endpoint's params, the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidParameterError
from clv.mlflow_model.margin import check_margin, scoring_margin
from tests.serving.conftest import run_clv_score
from tests.serving.test_endpoint import _request, _start_server, _stop, clv_error_line

OTHER_PREDICTIONS = ["expected_purchases", "probability_alive", "churn_probability"]


@pytest.mark.parametrize("value", [-0.1, 1.5, 30, float("nan"), float("inf"), True, "0.3", None])
def test_a_margin_outside_0_1_is_refused(value):
    with pytest.raises(InvalidParameterError, match=r"'margin' parameter .* range \[0, 1\]"):
        check_margin(value)


def test_a_model_without_margins_scores_revenue_only():
    assert scoring_margin({"kind": "bg_nbd"}) == 1.0
    assert scoring_margin({"kind": "bg_nbd"}, 1.0) == 1.0
    with pytest.raises(InvalidParameterError, match="logged before clv knew margins"):
        scoring_margin({"kind": "bg_nbd"}, 0.3)
    assert scoring_margin({"margin": 0.4}) == 0.4
    assert scoring_margin({"margin": 0.4}, 0.3) == 0.3


def test_clv_score_margin_gives_that_share_of_the_revenue_clv(trained, clv_score, tmp_path):
    revenue = clv_score
    output = tmp_path / "profit.parquet"
    result = run_clv_score(trained, output, "--margin", "0.3")
    assert result.returncode == 0, result.stderr
    assert "clv is profit (margin 0.3 of spend)" in result.stdout
    profit = pd.read_parquet(output)
    assert profit["customer_id"].tolist() == revenue["customer_id"].tolist()
    assert (revenue["margin"] == 1.0).all() and (profit["margin"] == 0.3).all()
    np.testing.assert_allclose(profit["clv"], 0.3 * revenue["clv"], rtol=1e-15, atol=0)
    assert revenue["clv"].sum() > 0
    np.testing.assert_array_equal(profit["expected_spend"], revenue["expected_spend"])
    np.testing.assert_array_equal(profit[OTHER_PREDICTIONS], revenue[OTHER_PREDICTIONS])
    # Segments are the model's (thresholds at its stored margin), not the query's.
    assert profit["segment"].tolist() == revenue["segment"].tolist()


def test_clv_score_refuses_a_margin_above_1(trained, tmp_path):
    line = clv_error_line(
        "score",
        str(trained.cdnow_csv),
        "--model-uri",
        trained.model_uri,
        "--as-of",
        "1997-09-30",
        "--horizon",
        "39",
        "--output",
        str(tmp_path / "scores.parquet"),
        "--tracking-uri",
        trained.tracking_uri,
        "--margin",
        "30",
    )
    assert "'margin'" in line and "[0, 1]" in line
    assert not (tmp_path / "scores.parquet").exists()


def test_the_endpoint_takes_margin_in_params(trained, tmp_path):
    from clv.datasets import load_cdnow
    from clv.features.behaviour import customer_features

    features = customer_features(load_cdnow(), as_of="1997-09-30", time_unit="W").head(20)
    split = json.loads(features.to_json(orient="split", index=False))
    process, port = _start_server(trained, tmp_path / "server.log")
    try:
        answers = {}
        for margin in (None, 1.0, 0.3, 0):
            params = {"horizon": 39} if margin is None else {"horizon": 39, "margin": margin}
            for layout in ("split", "records"):  # the fast path and MLflow's own route
                data = (
                    {"dataframe_split": split}
                    if layout == "split"
                    else {"dataframe_records": features.to_dict(orient="records")}
                )
                status, text = _request(port, "POST", "/invocations", {**data, "params": params})
                assert status == 200, text
                answers[margin, layout] = pd.DataFrame(json.loads(text)["predictions"])
        status, text = _request(
            port,
            "POST",
            "/invocations",
            {"dataframe_split": split, "params": {"horizon": 39, "margin": 1.5}},
        )
        assert status == 400 and "margin" in json.loads(text)["message"], text
    finally:
        _stop(process)
    for (margin, layout), answer in answers.items():
        # (each layout against itself: to_json rounds the split's floats to 10 digits)
        revenue = answers[None, layout]
        share = 1.0 if margin is None else margin
        assert (answer["margin"] == share).all()
        np.testing.assert_allclose(answer["clv"], share * revenue["clv"], rtol=1e-15, atol=0)
        assert answer["segment"].tolist() == revenue["segment"].tolist()


@pytest.mark.slow
def test_clv_train_margin_flag_sets_the_models_default_and_the_report(trained, tmp_path):
    config = tmp_path / "train.toml"
    config.write_text('kinds = ["bg_nbd"]\nhorizon = 39\n', encoding="utf-8")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    environment = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    common = [sys.executable, "-m", "clv.cli"]
    train = subprocess.run(
        [
            *common,
            "train",
            str(trained.cdnow_csv),
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--tracking-uri",
            uri,
            "--margin",
            "0.25",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
        cwd=tmp_path,
    )
    assert train.returncode == 0, train.stderr
    assert "clv is profit (margin 0.25 of spend)" in train.stdout
    import mlflow

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        model = mlflow.pyfunc.load_model("models:/clv@champion")
    finally:
        mlflow.set_tracking_uri(previous)
    assert model.metadata.metadata["clv_margin"] == 0.25
    assert model.metadata.metadata["clv_basis"] == "profit"
    defaults = {spec.name: spec.default for spec in model.metadata.get_params_schema().params}
    assert defaults["margin"] == 0.25
    from clv.datasets import load_cdnow
    from clv.features.behaviour import customer_features

    features = customer_features(load_cdnow(), as_of="1998-06-30", time_unit="W")
    profit = model.predict(features)
    revenue = model.predict(features, params={"margin": 1.0})
    np.testing.assert_allclose(profit["clv"], 0.25 * revenue["clv"], rtol=1e-15, atol=0)
    report = subprocess.run(
        [*common, "report", "--tracking-uri", uri, "--output", str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    assert report.returncode == 0, report.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Margin (share of spend that is profit)" in page
    assert "clv is profit (margin 0.25 of spend)" in page
