"""The endpoint's limits against a real `clv serve` process on 127.0.0.1 (issue 12).

Bounded work per request (horizon, rows, body), the event loop free while scoring,
a time limit per request, ids answered exactly as sent, no 5xx whatever the request,
only the documented paths, read deadlines for slow clients, loopback unless told
otherwise, and no temporary folder left by a killed server.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import threading
import time

import pytest

from tests.serving.test_endpoint import _request, _start_server, _stop, clv_error_line, run_clv

READ_TIMEOUT = 2


@pytest.fixture(scope="module")
def example(trained, tmp_path_factory):
    from mlflow.models import Model

    from clv.serving._models import download_model, resolve_model

    folder = tmp_path_factory.mktemp("limits-model")
    local = download_model(resolve_model(trained.model_uri, trained.tracking_uri), folder)
    frame = Model.load(str(local)).load_input_example(str(local))
    return json.loads(frame.to_json(orient="split", index=False))


@pytest.fixture(scope="module")
def server(trained, tmp_path_factory):
    """One `clv serve` with a short read deadline, for the tests of this module."""
    folder = tmp_path_factory.mktemp("limits-server")
    environment = {"CLV_SERVE_READ_TIMEOUT": str(READ_TIMEOUT), "TMPDIR": str(folder)}
    process, port = _start_server(trained, folder / "server.log", environment)
    try:
        yield port
    finally:
        _stop(process)
    assert " 500 " not in (folder / "server.log").read_text()


def _with(example, column, value, row=0):
    split = json.loads(json.dumps(example))
    split["data"][row][split["columns"].index(column)] = value
    return {"dataframe_split": split}


def _message(text: str) -> str:
    return json.loads(text)["message"]


def test_values_mlflow_would_convert_are_refused(server, example):
    port = server
    # Ids 1.5 and 1.9 were answered as customer 1 (200); now refused, naming the column.
    payload = _with(_with(example, "customer_id", 1.5)["dataframe_split"], "customer_id", 1.9, 1)
    status, text = _request(port, "POST", "/invocations", payload)
    assert status == 400 and "customer_id" in _message(text), text
    status, text = _request(port, "POST", "/invocations", _with(example, "customer_id", "8"))
    assert status == 400 and "customer_id" in _message(text), text
    # The same ids in a CSV body.
    columns = example["columns"]
    rows = [",".join(map(str, row)) for row in example["data"]]
    rows[0] = ",".join(["1.5", *rows[0].split(",")[1:]])
    status, text = _request(
        port, "POST", "/invocations", "\n".join([",".join(columns), *rows]), "text/csv"
    )
    assert status == 400 and "customer_id" in _message(text), text
    # frequency: true was scored as 1.
    status, text = _request(port, "POST", "/invocations", _with(example, "frequency", True))
    assert status == 400 and "'frequency'" in _message(text), text
    assert "boolean" in _message(text)
    # frequency: 1e308 was refused as "negative".
    status, text = _request(port, "POST", "/invocations", _with(example, "frequency", 1e308))
    assert status == 400, text
    assert "frequency" in _message(text) and "negative" not in _message(text), text
    # Plain ids of the signature's type come back exactly as sent.
    status, text = _request(port, "POST", "/invocations", {"dataframe_split": example})
    assert status == 200, text
    answered = [row["customer_id"] for row in json.loads(text)["predictions"]]
    assert answered == [row[0] for row in example["data"]]


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"horizon": 1e6}, "10 years"),
        ({"horizon": 1e7, "discount_rate": 0.1}, "10 years"),
        ({"horizon": True}, "horizon"),
        ({"horizon": "52"}, "horizon"),
        ({"discount_rate": -0.5}, "discount_rate"),
    ],
)
def test_params_are_bounded(server, example, params, word):
    status, text = _request(
        server, "POST", "/invocations", {"dataframe_split": example, "params": params}
    )
    assert status == 400 and word in _message(text), text


def test_no_request_gives_a_5xx(server, example):
    port = server
    long_integer = "9" * 5000
    good = json.dumps({"dataframe_split": example})
    bodies = [
        # (a marker replaced in the text: the example's own value, "2", is found elsewhere)
        json.dumps(_with(example, "frequency", 123456789)).replace("123456789", long_integer),
        '{"dataframe_split": {"columns": ["customer_id"], "data": [[' + long_integer + "]]}}",
        json.dumps({"dataframe_split": example, "params": {"horizon": 1}}).replace(
            '"horizon": 1', '"horizon": 1e999'
        ),
        good.replace("]]", "], NaN]"),
    ]
    many = {"columns": example["columns"], "data": [example["data"][0]] * 10_001}
    bodies.append(json.dumps({"dataframe_split": many}))
    for body in bodies:
        status, text = _request(port, "POST", "/invocations", body)
        assert 400 <= status < 500, (status, text[:300])
        assert long_integer not in text
    # A seeded fuzz loop of malformed requests: every answer is a 4xx with a JSON message
    # (or a 200 when the mutation left a valid request).
    rng = random.Random(12)
    weird = [None, True, -1, 0, 1.5, 1e308, -1e308, 2**64, "", "x" * 50, [], {}, [1], {"a": 1}]
    failures = []
    for _ in range(150):
        payload = json.loads(good)
        split = payload["dataframe_split"]
        choice = rng.randrange(6)
        if choice == 0:
            row = rng.randrange(len(split["data"]))
            split["data"][row][rng.randrange(len(split["columns"]))] = rng.choice(weird)
        elif choice == 1:
            payload["params"] = {rng.choice(["horizon", "discount_rate", "x"]): rng.choice(weird)}
        elif choice == 2:
            split[rng.choice(["columns", "data"])] = rng.choice(weird)
        elif choice == 3:
            payload = {"dataframe_records": rng.choice(weird)}
        elif choice == 4:
            split["columns"][rng.randrange(len(split["columns"]))] = rng.choice(["", "T", "zz"])
        body = json.dumps(payload)
        if choice == 5:
            cut = rng.randrange(1, len(body))
            body = body[:cut] if rng.random() < 0.5 else body[:cut] + "\x00{" + body[cut:]
        content_type = rng.choice(["application/json"] * 8 + ["text/csv", "application/xml"])
        status, text = _request(port, "POST", "/invocations", body, content_type)
        if status >= 500 or (status >= 400 and "message" not in json.loads(text)):
            failures.append((status, body[:200], text[:200]))
    assert not failures, failures[:5]
    assert _request(port, "GET", "/ping", content_type=None)[0] == 200


def test_only_documented_paths_are_served(server):
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect", "/nope"):
        status, text = _request(server, "GET", path, content_type=None)
        assert status == 404, (path, status)
        assert "cdn" not in text.lower()
    assert _request(server, "GET", "/invocations", content_type=None)[0] == 405
    for path in ("/ping", "/health", "/version"):
        assert _request(server, "GET", path, content_type=None)[0] == 200


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_slow_clients_are_disconnected(server):
    port = server
    half_bodies = []
    for _ in range(10):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"dataframe_split"'
        )
        half_bodies.append(sock)
    # Every half-sent body is dropped by the server (the socket timeout bounds the wait).
    for sock in half_bodies:
        assert _closed_by_server(sock)
        sock.close()
    # A header sent one byte at a time is dropped long before it is complete.
    header = b"GET /ping HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", port), timeout=1)
    sent = 0
    closed = False
    try:
        for byte in header:
            sock.sendall(bytes([byte]))
            sent += 1
            time.sleep(0.05)
            sock.setblocking(False)
            try:
                closed = sock.recv(1024) == b""
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
            if closed:
                break
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    finally:
        sock.close()
    assert closed and sent < len(header)
    assert _request(port, "GET", "/ping", content_type=None)[0] == 200


def _raw_status(port: int, head: bytes) -> int | None:
    """Send ``head`` on a raw connection; the answer's status, ``None`` if reset unanswered."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking all of it
        try:
            answer = sock.recv(4096)
        except ConnectionResetError:
            return None
        return int(answer.split(b" ", 2)[1]) if answer else None


def test_oversized_requests_are_refused(server):
    # A body over the limit (16 MiB) is refused from its Content-Length, before it is read.
    declared = b"Content-Length: %d\r\n" % (17 * 1024 * 1024)
    head = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    assert _raw_status(server, head + declared + b"\r\n{") == 413
    # Headers that do not arrive complete within 16 KiB are refused by the HTTP parser.
    big = b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    assert _raw_status(server, big) in (400, None)
    assert _request(server, "GET", "/ping", content_type=None)[0] == 200


def test_clv_serve_refuses_a_remote_host_without_the_flag(tmp_path):
    line = clv_error_line("serve", "--model-uri", "models:/clv@champion", "--host", "0.0.0.0")
    assert "--allow-remote" in line
    # With the flag it goes on, warning first (here it then stops: there is no store).
    result = run_clv(
        *("serve", "--model-uri", "models:/clv@champion", "--host", "0.0.0.0", "--allow-remote"),
        *("--tracking-uri", f"sqlite:///{tmp_path / 'absent.db'}"),
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 2, result.stderr
    assert lines[0].startswith("warning: listening on 0.0.0.0") and "authentication" in lines[0]
    assert lines[1].startswith("error: No MLflow store")


def _heavy_body(example, rows: int) -> str:
    data = [list(example["data"][index % len(example["data"])]) for index in range(rows)]
    for index, row in enumerate(data):
        row[0] = index
    split = {"columns": example["columns"], "data": data}
    # The longest horizon allowed (10 years of weeks), discounted: the most work per row.
    return json.dumps({"dataframe_split": split, "params": {"horizon": 521, "discount_rate": 0.1}})


@pytest.mark.slow
def test_heavy_requests_leave_ping_free_and_meet_the_time_limit(trained, example, tmp_path):
    # One scoring thread and a 0.3 s time limit: 8 requests of the most work allowed
    # queue behind each other, so the later ones exceed the limit as long as one takes
    # over 43 ms (with 1 s, a quiet machine scored all 8 in time: the test then failed).
    environment = {"CLV_SERVE_THREADS": "1", "CLV_SERVE_REQUEST_TIMEOUT": "0.3"}
    process, port = _start_server(trained, tmp_path / "server.log", environment)
    try:
        body = _heavy_body(example, 10_000)
        answers: list[int] = []

        def heavy() -> None:
            answers.append(_request(port, "POST", "/invocations", body)[0])

        threads = [threading.Thread(target=heavy) for _ in range(8)]
        for thread in threads:
            thread.start()
        pings = []
        while len(answers) < len(threads) and len(pings) < 50:
            pings.append((_request(port, "GET", "/ping", content_type=None)[0], len(answers)))
        for thread in threads:
            thread.join(timeout=120)
        assert pings and pings[0] == (200, 0), pings[:3]
        assert all(status == 200 for status, _ in pings)
        assert set(answers) <= {200, 503} and 503 in answers, answers
        # Afterwards the server scores again, once the request that was running when its
        # time ran out has finished in the background (queued ones were dropped).
        statuses = []
        while not statuses or (statuses[-1] == 503 and len(statuses) < 60):
            time.sleep(0.5)
            statuses.append(_request(port, "POST", "/invocations", {"dataframe_split": example})[0])
        assert statuses[-1] == 200, statuses
    finally:
        _stop(process)


@pytest.mark.slow
def test_a_killed_server_leaves_no_folder_behind(trained, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {"TMPDIR": str(temporary)}
    first, _ = _start_server(trained, tmp_path / "first.log", environment)
    try:
        left = list(temporary.glob("clv-serve-*"))
        assert len(left) == 1
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        _stop(first)
    assert left[0].exists()  # kill -9 gave clv serve no chance to clean up
    second, _ = _start_server(trained, tmp_path / "second.log", environment)
    try:
        assert not left[0].exists()
        assert len(list(temporary.glob("clv-serve-*"))) == 1
    finally:
        _stop(second)
    assert list(temporary.glob("clv-serve-*")) == []
