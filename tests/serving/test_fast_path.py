"""The endpoint's fast path answers exactly as MLflow's route, and steps aside otherwise."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pandas as pd
import pytest

from clv.mlflow_model.validation import validate_features
from clv.models.segments import SegmentRules


@pytest.fixture(scope="module")
def app(trained, tmp_path_factory):
    import mlflow

    from clv.serving._models import download_model, resolve_model
    from clv.serving.server import build_app

    folder = tmp_path_factory.mktemp("fast-path-model")
    local = download_model(resolve_model(trained.model_uri, trained.tracking_uri), folder)
    return build_app(mlflow.pyfunc.load_model(str(local)))


@pytest.fixture(scope="module")
def features():
    from clv.datasets import load_cdnow
    from clv.features.behaviour import customer_features

    return customer_features(load_cdnow(), as_of="1998-06-30", time_unit="W")


def _call(app, body: bytes, content_type: str | None = "application/json"):
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invocations",
        "headers": headers,
        "query_string": b"",
    }
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def _split(frame: pd.DataFrame) -> dict:
    return {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}


def _records(frame: pd.DataFrame) -> dict:
    return {"dataframe_records": json.loads(frame.to_json(orient="records"))}


@pytest.mark.parametrize("layout", [_split, _records])
@pytest.mark.parametrize(
    "params", [None, {"horizon": 10}, {"horizon": 10.5, "discount_rate": 0.1}, {"other": "x"}]
)
def test_fast_path_answers_as_mlflow_route(app, features, layout, params):
    handler = app.invocations
    assert handler.fast is not None
    rows = features.iloc[list(range(0, 2357, 11))]  # 215 rows: scored in a thread
    for frame in (rows, rows.iloc[:1], rows.iloc[:50]):
        payload = layout(frame)
        if params is not None:
            payload["params"] = params
        prepared = handler.fast.prepare(payload)
        assert prepared is not None
        status, fast = _call(app, json.dumps(payload).encode())
        assert status == 200
        slow = handler._mlflow(payload, "application/json", "json")
        assert slow.status == 200
        got, expected = json.loads(fast)["predictions"], json.loads(slow.response)["predictions"]
        assert [list(row) for row in got] == [list(row) for row in expected]
        got, expected = pd.DataFrame(got), pd.DataFrame(expected)
        assert got["customer_id"].tolist() == expected["customer_id"].tolist()
        text = ("customer_id", "segment", "action")
        for name in text[1:]:
            assert got[name].tolist() == expected[name].tolist()
        numbers = [name for name in got.columns if name not in text]
        np.testing.assert_allclose(got[numbers], expected[numbers], rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("frequency", True),
        ("frequency", None),
        ("frequency", "3"),
        ("recency", "SECRET"),
        ("customer_id", 8.0),
        ("customer_id", "8"),
        ("customer_id", True),
        ("customer_id", 2**70),
    ],
)
def test_fast_path_leaves_unusual_values_to_mlflow(app, features, column, value):
    payload = _split(features.iloc[[7]])
    row = payload["dataframe_split"]["data"][0]
    row[payload["dataframe_split"]["columns"].index(column)] = value
    assert app.invocations.fast.prepare(payload) is None


def test_fast_path_leaves_unusual_shapes_to_mlflow(app, features):
    fast = app.invocations.fast
    split = _split(features.iloc[[7, 8]])["dataframe_split"]
    columns, data = split["columns"], split["data"]
    unusual = [
        {"dataframe_split": {**split, "index": [0, 1]}},
        {"dataframe_split": {"columns": columns[1:], "data": [row[1:] for row in data]}},
        {"dataframe_split": {"columns": columns, "data": [data[0], data[1][:-1]]}},
        {"dataframe_split": {"columns": [*columns, "frequency"], "data": [[*data[0], 1]]}},
        {"dataframe_split": {"columns": columns, "data": []}},
        {"dataframe_records": [dict(zip(columns[1:], data[0][1:], strict=True))]},
        {"dataframe_records": [data[0]]},
        {"dataframe_split": {"columns": columns, "data": data}, "params": {"horizon": "10"}},
        {"dataframe_split": {"columns": columns, "data": data}, "params": {"horizon": None}},
        {"instances": [dict(zip(columns, data[0], strict=True))]},
    ]
    for payload in unusual:
        assert fast.prepare(payload) is None, payload


def test_fast_path_errors_are_short_4xx(app, features):
    payload = _split(features.iloc[[7]])
    payload["params"] = {"horizon": -1}
    status, body = _call(app, json.dumps(payload).encode())
    assert status == 400 and "horizon" in json.loads(body)["message"]
    payload = _split(features.iloc[[7]])
    columns = payload["dataframe_split"]["columns"]
    payload["dataframe_split"]["data"][0][columns.index("recency")] = 1e6
    status, body = _call(app, json.dumps(payload).encode())
    assert status == 400 and "recency > T" in json.loads(body)["message"]
    status, body = _call(app, json.dumps(payload).encode(), content_type=None)
    assert status == 415


def test_validate_features_reads_a_dict_of_arrays_as_the_dataframe(features):
    columns = list(features.columns)
    frame = features.iloc[:40]
    arrays = {name: frame[name].to_numpy() for name in columns}
    expected = validate_features(frame, columns=columns)
    pd.testing.assert_frame_equal(validate_features(arrays, columns=columns), expected)
    bad = dict(arrays, frequency=arrays["frequency"] + 0.5)
    with pytest.raises(ValueError, match="fractional"):
        validate_features(bad, columns=columns)


def test_segments_assign_arrays_matches_assign():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"clv": rng.gamma(1.0, 50.0, 500), "churn_probability": rng.random(500)})
    rules = SegmentRules().fit(table)
    expected = rules.assign(table).to_numpy()
    got = rules.assign_arrays(table["clv"], table["churn_probability"])
    assert got.tolist() == expected.tolist()
    with pytest.raises(ValueError, match="churn_probability"):
        rules.assign_arrays([1.0], [1.5], labels=np.array([42]))


def test_fast_path_of_a_model_without_predict_columns(app, features, monkeypatch):
    """Models logged by an older clv have only ``predict``: it gets MLflow's DataFrame."""
    handler = app.invocations
    monkeypatch.setattr(handler.fast, "predict_columns", None)
    payload = _split(features.iloc[:30])
    payload["params"] = {"horizon": 20}
    status, fast = _call(app, json.dumps(payload).encode())
    assert status == 200
    slow = handler._mlflow(payload, "application/json", "json")
    assert json.loads(fast) == json.loads(slow.response)
