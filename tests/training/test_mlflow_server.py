"""Training against a real ``mlflow server`` on 127.0.0.1 (not the embedded store)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]

mlflow = pytest.importorskip("mlflow")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _mlflow_executable() -> str:
    beside = Path(sys.executable).with_name("mlflow")
    return str(beside) if beside.exists() else (shutil.which("mlflow") or "mlflow")


def _wait_healthy(url: str, process: subprocess.Popen, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"mlflow server at {url} not healthy after {seconds:.0f} s")


def test_train_against_a_real_tracking_server(tmp_path, cdnow, monkeypatch):
    from clv.training.train import train

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [
            _mlflow_executable(),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{tmp_path}/db",
            "--default-artifact-root",
            str(tmp_path / "art"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
        start_new_session=True,
    )
    try:
        _wait_healthy(url, server)
        result = train(
            cdnow,
            calibration_end="1997-09-30",
            holdout_end="1998-06-30",
            time_unit="W",
            tracking_uri=url,
            kinds=["baseline", "bg_nbd"],
        )
        assert result.tracking_uri == url
        assert result.version == "1" and result.promoted
        client = mlflow.tracking.MlflowClient(tracking_uri=url, registry_uri=url)
        assert str(client.get_model_version_by_alias("clv", "champion").version) == "1"
        run = client.get_run(result.parent_run_id)
        assert run.data.tags["clv.best_model"] == "bg_nbd"
        # the artifacts went to the server's artifact root, not to the working directory
        assert any((tmp_path / "art").rglob("candidate.json"))
        assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlartifacts").exists()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
