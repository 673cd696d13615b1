"""Prediction intervals as optional columns: `clv score --interval`, the endpoint, the pyfunc."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidParameterError
from clv.mlflow_model.intervals import INTERVAL_COLUMNS, check_interval, interval_arrays
from tests.serving.conftest import run_clv_score
from tests.serving.test_endpoint import _request, _start_server, _stop

BOUNDS = [*INTERVAL_COLUMNS, "interval"]


def check_bounds(frame: pd.DataFrame, level: float) -> None:
    """lower <= point <= upper on every row, finite, the level on every row."""
    values = frame[["expected_purchases", "clv", *INTERVAL_COLUMNS]].to_numpy()
    assert np.isfinite(values).all()
    assert (frame["purchases_lower"] <= frame["expected_purchases"]).all()
    assert (frame["expected_purchases"] <= frame["purchases_upper"]).all()
    assert (frame["clv_lower"] <= frame["clv"]).all() and (frame["clv"] <= frame["clv_upper"]).all()
    assert (frame["clv_lower"] >= 0).all() and (frame["purchases_lower"] >= 0).all()
    counts = frame[["purchases_lower", "purchases_upper"]].to_numpy()
    np.testing.assert_array_equal(counts, np.round(counts))
    assert (frame["interval"] == level).all()


@pytest.fixture(scope="module")
def scored_with_intervals(trained, tmp_path_factory):
    folder = tmp_path_factory.mktemp("intervals")
    scores = {}
    for level in (0.5, 0.9):
        output = folder / f"scores-{level}.parquet"
        result = run_clv_score(trained, output, "--interval", str(level), "--margin", "0.3")
        assert result.returncode == 0, result.stderr
        assert f"intervals: {level:.0%}" in result.stdout
        scores[level] = pd.read_parquet(output)
    return scores


def test_clv_score_interval_adds_nested_intervals_after_clv(scored_with_intervals, trained):
    wide, narrow = scored_with_intervals[0.9], scored_with_intervals[0.5]
    columns = list(wide.columns)
    assert columns[columns.index("clv") + 1 : columns.index("clv") + 6] == BOUNDS
    for level, frame in scored_with_intervals.items():
        check_bounds(frame, level)
    assert wide["customer_id"].tolist() == narrow["customer_id"].tolist()
    # nested by level
    assert (wide["purchases_lower"] <= narrow["purchases_lower"]).all()
    assert (narrow["purchases_upper"] <= wide["purchases_upper"]).all()
    assert (wide["clv_lower"] <= narrow["clv_lower"] * (1 + 1e-9)).all()
    assert (narrow["clv_upper"] <= wide["clv_upper"] * (1 + 1e-9)).all()
    # not degenerate: most customers' 90 % value interval is wider than their 50 % one
    assert (wide["clv_upper"] > narrow["clv_upper"] * 1.01).mean() > 0.5
    assert (wide["purchases_upper"] > narrow["purchases_upper"]).any()


def test_clv_score_interval_leaves_the_other_columns_as_they_were(
    scored_with_intervals, trained, tmp_path
):
    output = tmp_path / "plain.parquet"
    result = run_clv_score(trained, output, "--margin", "0.3")
    assert result.returncode == 0, result.stderr
    plain = pd.read_parquet(output)
    wide = scored_with_intervals[0.9]
    assert not set(BOUNDS) & set(plain.columns)
    pd.testing.assert_frame_equal(
        wide.drop(columns=[*BOUNDS, "scored_at"]), plain.drop(columns="scored_at")
    )
    # the value interval is in the unit of clv: profit at margin 0.3
    assert (wide["margin"] == 0.3).all()


@pytest.mark.parametrize("level", ["0", "1.5"])
def test_clv_score_refuses_a_level_outside_0_1(trained, tmp_path, level):
    result = run_clv_score(trained, tmp_path / "scores.parquet", "--interval", level)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and "'interval' parameter must be a float in the range (0, 1)" in lines[0]
    )
    assert not (tmp_path / "scores.parquet").exists()


@pytest.mark.parametrize("value", [0.0, 1.0, 2, -1, float("nan"), True, "abc", [0.9]])
def test_check_interval_refuses(value):
    with pytest.raises(InvalidParameterError, match="'interval' parameter"):
        check_interval(value)


def test_a_kind_without_a_predictive_distribution_refuses_intervals(cdnow):
    from clv.candidates import make_candidate
    from clv.features.behaviour import customer_features

    baseline = make_candidate("baseline").fit_transactions(cdnow, as_of="1997-09-30", time_unit="W")
    features = customer_features(cdnow, as_of="1997-09-30", time_unit="W").head(5)
    point = baseline.predict(features, horizon=39)
    with pytest.raises(InvalidParameterError, match="predictive distribution.*'baseline'"):
        interval_arrays(
            baseline,
            features,
            level=0.9,
            horizon=39,
            discount_rate=0.0,
            margin=1.0,
            point={name: point[name].to_numpy() for name in point},
        )


def test_pyfunc_intervals_keep_the_index_and_fit_the_signature(trained, cdnow, tmp_path):
    from mlflow.models.utils import _enforce_schema

    from clv.features.behaviour import customer_features
    from clv.serving._models import download_model, resolve_model

    features = customer_features(cdnow, as_of="1997-09-30", time_unit="W")
    shuffled = features.sample(frac=1.0, random_state=3)
    shuffled.index = pd.Index(np.arange(len(shuffled))[::-1] * 7 + 1000)
    local = download_model(resolve_model(trained.model_uri, trained.tracking_uri), tmp_path / "m")
    model = mlflow.pyfunc.load_model(str(local))
    answer = model.predict(shuffled, params={"horizon": 39, "interval": 0.8})
    assert answer.index.equals(shuffled.index)
    assert answer["customer_id"].tolist() == shuffled["customer_id"].tolist()
    check_bounds(answer, 0.8)
    schema = model.metadata.get_output_schema()
    assert [spec.name for spec in schema.inputs if not spec.required] == BOUNDS
    _enforce_schema(answer, schema)  # the declared output schema holds, with intervals
    _enforce_schema(model.predict(shuffled.head(3), params={"horizon": 39}), schema)  # and without
    params = {spec.name: spec.default for spec in model.metadata.get_params_schema().params}
    assert "interval" in params and params["interval"] is None


def test_the_endpoint_takes_interval_in_params(trained, cdnow, tmp_path):
    from clv.features.behaviour import customer_features

    features = customer_features(cdnow, as_of="1997-09-30", time_unit="W").head(40)
    split = json.loads(features.to_json(orient="split", index=False))
    records = features.to_dict(orient="records")
    process, port = _start_server(trained, tmp_path / "server.log")
    answers = {}
    refusals = {}
    try:
        for layout, data in (("split", {"dataframe_split": split}), ("records", None)):
            data = data or {"dataframe_records": records}  # records: MLflow's own route
            for level in (None, 0.5, 0.9):
                params = {"horizon": 39} if level is None else {"horizon": 39, "interval": level}
                status, text = _request(port, "POST", "/invocations", {**data, "params": params})
                assert status == 200, text
                answers[layout, level] = pd.DataFrame(json.loads(text)["predictions"])
            for bad in (1.5, 0, -1, "0.9", True, None, [0.9]):
                status, text = _request(
                    port,
                    "POST",
                    "/invocations",
                    {**data, "params": {"horizon": 39, "interval": bad}},
                )
                refusals[layout, repr(bad)] = (status, json.loads(text)["message"])
        status, _ = _request(port, "GET", "/ping", content_type=None)
        assert status == 200  # still serving
    finally:
        _stop(process)
    for (layout, bad), (status, message) in refusals.items():
        assert 400 <= status < 500, (layout, bad, status, message)
        assert "interval" in message, (layout, bad, message)
        assert "customer_id" not in message  # the payload is not repeated
    for layout in ("split", "records"):
        plain = answers[layout, None]
        assert not set(BOUNDS) & set(plain.columns)
        for level in (0.5, 0.9):
            answer = answers[layout, level]
            assert answer["customer_id"].tolist() == features["customer_id"].tolist()
            check_bounds(answer, level)
            pd.testing.assert_frame_equal(answer.drop(columns=BOUNDS), plain)
        wide, narrow = answers[layout, 0.9], answers[layout, 0.5]
        assert (wide["clv_upper"] >= narrow["clv_upper"]).all()
        assert (wide["clv_lower"] <= narrow["clv_lower"]).all()
    # both routes give the same intervals (to_json rounds the split's floats: 1e-9)
    pd.testing.assert_frame_equal(
        answers["split", 0.9][BOUNDS], answers["records", 0.9][BOUNDS], rtol=1e-6
    )


def test_candidate_intervals_are_those_of_customer_lifetime_value(cdnow):
    from clv.candidates import make_candidate
    from clv.features.behaviour import customer_features
    from clv.models import customer_lifetime_value

    candidate = make_candidate("bg_nbd").fit_transactions(cdnow, as_of="1997-09-30", time_unit="W")
    features = customer_features(cdnow, as_of="1997-09-30", time_unit="W")
    features.index = features.index * 3 + 5  # any index
    bounds = candidate.prediction_intervals(features, horizon=39, level=0.9, discount_rate=0.1)
    assert bounds.index.equals(features.index)
    inputs = candidate.decision_inputs(features)
    table = inputs["customers"].set_axis(features.index)
    # the candidate discounts a whole horizon by one-unit periods
    direct = customer_lifetime_value(
        inputs["transaction_model"],
        inputs["spend_model"],
        table,
        horizon=39,
        discount_rate=0.1,
        period=1.0,
        interval=0.9,
    )
    np.testing.assert_allclose(bounds["clv_lower"], direct["clv_lower"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bounds["clv_upper"], direct["clv_upper"], rtol=1e-9, atol=1e-12)
    purchases = inputs["transaction_model"].purchases_interval(table, 39, 0.9)
    pd.testing.assert_frame_equal(
        bounds[["purchases_lower", "purchases_upper"]],
        purchases[["purchases_lower", "purchases_upper"]],
    )
