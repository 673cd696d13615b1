"""The endpoint's one path (request -> arrays -> ``predict_columns`` -> JSON) answers as MLflow.

Each answer is compared with the loaded pyfunc's ``predict`` on the same table: MLflow's
own parsing, schema enforcement and params handling, through its public API.
"""

from __future__ import annotations

import asyncio
import io
import json

import numpy as np
import pandas as pd
import pytest

from clv.mlflow_model.validation import validate_features
from clv.models.segments import SegmentRules
from clv.serving.app import records_json

TEXT = ("customer_id", "segment", "action")


@pytest.fixture(scope="module")
def loaded(trained, tmp_path_factory):
    import mlflow

    from clv.serving._models import download_model, resolve_model

    folder = tmp_path_factory.mktemp("fast-path-model")
    local = download_model(resolve_model(trained.model_uri, trained.tracking_uri), folder)
    return mlflow.pyfunc.load_model(str(local))


@pytest.fixture(scope="module")
def app(loaded):
    from clv.serving.app import build_app

    return build_app(loaded)


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


def _instances(frame: pd.DataFrame) -> dict:
    return {"instances": json.loads(frame.to_json(orient="records"))}


def _inputs(frame: pd.DataFrame) -> dict:
    return {"inputs": {name: json.loads(frame[name].to_json(orient="values")) for name in frame}}


def _as_sent(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as the JSON request carries it (to_json keeps 10 significant digits)."""
    split = _split(frame)["dataframe_split"]
    return pd.DataFrame(split["data"], columns=split["columns"])


def _same(got: list[dict], expected: pd.DataFrame) -> None:
    got = pd.DataFrame(got)
    assert list(got.columns) == list(expected.columns)
    for name in TEXT:
        assert got[name].tolist() == expected[name].tolist()
    numbers = [name for name in got.columns if name not in TEXT]
    np.testing.assert_allclose(got[numbers], expected[numbers], rtol=1e-12, atol=0)


@pytest.mark.parametrize("layout", [_split, _records, _instances, _inputs])
@pytest.mark.parametrize(
    "params",
    [None, {"horizon": 10}, {"horizon": 10.5, "discount_rate": 0.1}, {"other": "x"}],
)
def test_answers_equal_the_pyfunc(app, loaded, features, layout, params):
    rows = features.iloc[list(range(0, 2357, 11))]  # 215 rows
    for frame in (rows, rows.iloc[:1]):
        payload = layout(frame)
        if params is not None:
            payload["params"] = params
        status, body = _call(app, json.dumps(payload).encode())
        assert status == 200, body
        known = None if params is None else {k: v for k, v in params.items() if k != "other"}
        _same(json.loads(body)["predictions"], loaded.predict(_as_sent(frame), params=known))


def test_csv_and_parquet_answers_equal_the_pyfunc(app, loaded, features):
    frame = features.iloc[:40]
    expected = loaded.predict(frame)
    status, body = _call(app, frame.to_csv(index=False).encode(), "text/csv")
    assert status == 200, body
    got = json.loads(body)["predictions"]
    assert [row["customer_id"] for row in got] == frame["customer_id"].tolist()
    _same(got, expected)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    status, body = _call(app, buffer.getvalue(), "application/vnd.apache.parquet")
    assert status == 200, body
    _same(json.loads(body)["predictions"], expected)


@pytest.mark.parametrize(
    ("column", "value", "word"),
    [
        ("frequency", True, "booleans"),
        ("frequency", None, "null"),
        ("frequency", "3", "text"),
        ("recency", "SECRET", "text"),
        ("recency", [1.0], "lists or objects"),
        ("recency", 10**400, "float range"),
        ("customer_id", 1.5, "integers"),
        ("customer_id", "8", "integers"),
        ("customer_id", True, "integers"),
        ("customer_id", 2**70, "64-bit"),
    ],
)
def test_values_mlflow_would_convert_or_refuse_get_a_400(app, features, column, value, word):
    payload = _split(features.iloc[[7]])
    row = payload["dataframe_split"]["data"][0]
    row[payload["dataframe_split"]["columns"].index(column)] = value
    status, body = _call(app, json.dumps(payload).encode())
    message = json.loads(body)["message"]
    assert status == 400 and f"'{column}'" in message and word in message, message
    assert "SECRET" not in message


def test_an_integral_float_id_is_the_same_id(app, features):
    payload = _split(features.iloc[[7]])
    payload["dataframe_split"]["data"][0][0] = 8.0
    status, body = _call(app, json.dumps(payload).encode())
    assert status == 200 and json.loads(body)["predictions"][0]["customer_id"] == 8


def test_unusual_shapes(app, features):
    split = _split(features.iloc[[7, 8]])["dataframe_split"]
    columns, data = split["columns"], split["data"]
    answered = [
        {"dataframe_split": {**split, "index": [0, 1]}},
        {"dataframe_split": {"columns": [*columns, "extra"], "data": [[*row, 1] for row in data]}},
    ]
    for payload in answered:
        status, body = _call(app, json.dumps(payload).encode())
        assert status == 200, body
    refused = {
        "lacks": {"dataframe_split": {"columns": columns[1:], "data": [r[1:] for r in data]}},
        "one per column": {
            "dataframe_split": {"columns": columns, "data": [data[0], data[1][:-1]]}
        },
        "distinct": {"dataframe_split": {"columns": [*columns, "T"], "data": [[*data[0], 1]]}},
        "no rows": {"dataframe_split": {"columns": columns, "data": []}},
        "list of objects": {"dataframe_records": [data[0]]},
        "'horizon'": {"dataframe_split": split, "params": {"horizon": "10"}},
        "'discount_rate'": {"dataframe_split": split, "params": {"discount_rate": None}},
        "same length": {"inputs": {"customer_id": [1, 2], "frequency": [1]}},
    }
    for word, payload in refused.items():
        status, body = _call(app, json.dumps(payload).encode())
        assert status == 400 and word in json.loads(body)["message"], (word, body)


def test_errors_are_short_4xx(app, features):
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


def test_records_json_writes_what_json_dumps_writes():
    rng = np.random.default_rng(3)
    columns = {
        "customer_id": np.arange(601),
        "clv": rng.gamma(1.0, 50.0, 601),
        "segment": np.array(["a", 'b "quoted"'] * 300 + ["c"], dtype=object),
    }
    records = [
        {"customer_id": int(i), "clv": float(v), "segment": s}
        for i, v, s in zip(*columns.values(), strict=True)
    ]
    assert records_json(columns) == json.dumps({"predictions": records}).encode()
    empty = {name: values[:0] for name, values in columns.items()}
    assert records_json(empty) == b'{"predictions": []}'


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


def test_a_model_without_predict_columns_is_scored_through_predict(app, features, monkeypatch):
    """Models logged by an older clv have only ``predict``: it gets a DataFrame."""
    payload = _split(features.iloc[:30])
    payload["params"] = {"horizon": 20}
    status, expected = _call(app, json.dumps(payload).encode())
    monkeypatch.setattr(app.state.scorer, "predict_columns", None)
    status, body = _call(app, json.dumps(payload).encode())
    assert status == 200
    assert json.loads(body) == json.loads(expected)
