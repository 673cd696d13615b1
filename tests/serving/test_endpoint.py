"""End to end: a real `clv serve` process on 127.0.0.1 answering real HTTP requests."""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidParameterError
from clv.serving.server import serve, server_command

PREDICTIONS = [
    "expected_purchases",
    "probability_alive",
    "churn_probability",
    "expected_spend",
    "clv",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port, method, path, body=None, content_type="application/json"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {} if content_type is None else {"Content-Type": content_type}
    if isinstance(body, dict | list):
        body = json.dumps(body)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _start_server(
    trained, log: Path, environment: dict[str, str] | None = None, *extra: str
) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "clv.cli",
        "serve",
        "--model-uri",
        trained.model_uri,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--tracking-uri",
        trained.tracking_uri,
        *extra,
    ]
    environment = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", **(environment or {}))
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            command,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"clv serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if _request(port, "GET", "/ping", content_type=None)[0] == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.25)
    _stop(process)
    raise AssertionError(f"clv serve did not answer /ping in 120 s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def _bad_requests(example: pd.DataFrame) -> dict[str, tuple[object, str | None, str]]:
    """name -> (body, content type, a word the message must contain)."""
    columns = list(example.columns)
    row = [None if isinstance(v, float) and math.isnan(v) else v for v in example.iloc[0].tolist()]
    row = [
        int(v) if isinstance(v, np.integer) else float(v) if isinstance(v, float) else v
        for v in row
    ]

    def with_value(name, value):
        values = list(row)
        values[columns.index(name)] = value
        return {"dataframe_split": {"columns": columns, "data": [values]}}

    def without(name):
        keep = [i for i, column in enumerate(columns) if column != name]
        return {
            "dataframe_split": {
                "columns": [columns[i] for i in keep],
                "data": [[row[i] for i in keep]],
            }
        }

    good = {"dataframe_split": {"columns": columns, "data": [row]}}
    return {
        "missing column": (without("frequency"), "application/json", "frequency"),
        "text in a numeric column": (
            with_value("recency", "SECRET-TEXT-VALUE"),
            "application/json",
            "recency",
        ),
        "null frequency": (with_value("frequency", None), "application/json", "frequency"),
        "null T": (with_value("T", None), "application/json", "'T'"),
        "null customer id": (with_value("customer_id", None), "application/json", "customer"),
        "negative frequency": (with_value("frequency", -1.0), "application/json", "frequency"),
        "fractional frequency": (with_value("frequency", 3.5), "application/json", "frequency"),
        "recency > T": (with_value("recency", 1e6), "application/json", "recency > T"),
        "negative T": (with_value("T", -5.0), "application/json", "'T'"),
        "negative amount": (
            with_value("monetary_value", -12.5),
            "application/json",
            "monetary_value",
        ),
        "negative horizon": (
            {**good, "params": {"horizon": -1}},
            "application/json",
            "horizon",
        ),
        "text horizon": (
            {**good, "params": {"horizon": "SECRET-TEXT-VALUE"}},
            "application/json",
            "horizon",
        ),
        "malformed JSON": ('{"dataframe_split": {SECRET-TEXT-VALUE', "application/json", "JSON"),
        "deeply nested JSON": ("[" * 100_000, "application/json", "JSON"),
        "JSON list": ("[1, 2, 3]", "application/json", "dataframe_split"),
        "no input key": ({"SECRET-TEXT-VALUE": 1}, "application/json", "dataframe_split"),
        "no rows": (
            {"dataframe_split": {"columns": columns, "data": []}},
            "application/json",
            "no rows",
        ),
        "empty body": ("", "application/json", "empty"),
        "missing content type": (good, None, "Content-Type"),
        "wrong content type": (good, "text/plain", "Content-Type"),
        "not UTF-8": (b'\xff\xfe{"SECRET-TEXT-VALUE"', "application/json", "UTF-8"),
    }


@pytest.mark.slow
def test_clv_serve_end_to_end(trained, tmp_path):
    import mlflow
    from mlflow.models import Model

    from clv.serving._models import download_model, resolve_model

    local = download_model(resolve_model(trained.model_uri, trained.tracking_uri), tmp_path / "m")
    example = Model.load(str(local)).load_input_example(str(local))
    model = mlflow.pyfunc.load_model(str(local))
    assert len(example) >= 2

    process, port = _start_server(trained, tmp_path / "server.log")
    try:
        # Answers equal in-process predictions, for both JSON layouts and with params.
        split = example.to_dict(orient="split")
        split.pop("index", None)
        records = json.loads(example.to_json(orient="records"))
        for params in (None, {"horizon": 10.0}, {"horizon": 10.0, "discount_rate": 0.1}):
            expected = model.predict(example, params=params)
            for body in ({"dataframe_split": split}, {"dataframe_records": records}):
                if params is not None:
                    body = {**body, "params": params}
                status, text = _request(port, "POST", "/invocations", body)
                assert status == 200, text
                answer = pd.DataFrame(json.loads(text)["predictions"])
                assert list(answer.columns) == list(expected.columns)
                assert answer["customer_id"].tolist() == expected["customer_id"].tolist()
                np.testing.assert_allclose(answer[PREDICTIONS], expected[PREDICTIONS], rtol=1e-9)
                assert answer["segment"].tolist() == expected["segment"].tolist()

        # Every bad input gets a 4xx and a short message naming the field, never the payload.
        failures = []
        for name, (body, content_type, word) in _bad_requests(example).items():
            payload = json.dumps(body) if isinstance(body, dict | list) else body
            status, text = _request(port, "POST", "/invocations", body, content_type)
            printable = payload.decode("latin-1") if isinstance(payload, bytes) else payload
            problems = []
            if not 400 <= status < 500:
                problems.append(f"status {status}")
            if "SECRET-TEXT-VALUE" in text or (len(printable) > 20 and printable in text):
                problems.append("echoes the payload")
            try:
                message = json.loads(text)["message"]
            except (ValueError, KeyError):
                message = text
                problems.append("no JSON message")
            if word not in message or len(message) > 400:
                problems.append(f"message {message[:200]!r}")
            if problems:
                failures.append(f"{name}: {', '.join(problems)}")
        assert not failures, "\n".join(failures)

        # Still healthy afterwards.
        assert _request(port, "GET", "/ping", content_type=None)[0] == 200
        assert _request(port, "GET", "/health", content_type=None)[0] == 200
        status, version = _request(port, "GET", "/version", content_type=None)
        assert (status, version) == (200, mlflow.__version__)
        assert process.poll() is None
    finally:
        _stop(process)
    assert process.poll() is not None
    log = (tmp_path / "server.log").read_text()
    assert "SECRET-TEXT-VALUE" not in log
    assert " 500 " not in log


@pytest.mark.slow
def test_plain_mlflow_models_serve_answers_as_clv_serve(trained, tmp_path):
    """The registered model works under plain `mlflow models serve` (clv serve --server mlflow)."""
    from mlflow.models import Model

    from clv.serving._models import download_model, resolve_model

    local = download_model(resolve_model(trained.model_uri, trained.tracking_uri), tmp_path / "m")
    example = Model.load(str(local)).load_input_example(str(local))
    split = example.to_dict(orient="split")
    split.pop("index", None)
    answers = []
    for name, extra in (("mlflow", ("--server", "mlflow")), ("clv", ())):
        process, port = _start_server(trained, tmp_path / f"{name}.log", None, *extra)
        try:
            body = {"dataframe_split": split, "params": {"horizon": 10.0, "discount_rate": 0.1}}
            status, text = _request(port, "POST", "/invocations", body)
            assert status == 200, text
            answers.append(pd.DataFrame(json.loads(text)["predictions"]))
            assert _request(port, "GET", "/ping", content_type=None)[0] == 200
        finally:
            _stop(process)
    plain, ours = answers
    assert list(plain.columns) == list(ours.columns)
    for column in ("customer_id", "segment", "action"):
        assert plain[column].tolist() == ours[column].tolist()
    np.testing.assert_allclose(plain[PREDICTIONS], ours[PREDICTIONS], rtol=1e-12)


def test_server_command_runs_plain_mlflow_models_serve():
    plain = server_command("models:/clv/1", port=5001, workers=2)
    assert plain[1:7] == ["-m", "mlflow", "models", "serve", "-m", "models:/clv/1"]
    assert plain[plain.index("--env-manager") + 1] == "local"
    assert plain[-6:] == ["-h", "127.0.0.1", "-p", "5001", "-w", "2"]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"port": 0}, "'port' parameter"),
        ({"port": 70000}, "'port' parameter"),
        ({"workers": 0}, "'workers' parameter"),
        ({"host": ""}, "'host' parameter"),
        ({"server": "gunicorn"}, "'server' parameter"),
        ({"host": "0.0.0.0"}, "--allow-remote"),
        ({"host": "::"}, "--allow-remote"),
    ],
)
def test_serve_checks_its_arguments_first(tmp_path, options, match):
    with pytest.raises(InvalidParameterError, match=match):
        serve(str(tmp_path / "absent"), **options)


def run_clv(*args: str) -> subprocess.CompletedProcess:
    """Run ``clv ARGS`` in a subprocess (text output captured)."""
    return subprocess.run(
        [sys.executable, "-m", "clv.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true"),
    )


def clv_error_line(*args: str) -> str:
    """Run ``clv ARGS``; check it exits 2 with one line on stderr, and return that line."""
    result = run_clv(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_clv_serve_unknown_model_exits_2(tmp_path):
    line = clv_error_line(
        "serve",
        "--model-uri",
        "models:/nope@champion",
        "--tracking-uri",
        f"sqlite:///{tmp_path / 'absent.db'}",
    )
    assert line.startswith("error: No MLflow store at"), line
    assert not (tmp_path / "absent.db").exists()
