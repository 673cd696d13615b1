"""A clv model trained once per test session into a temporary SQLite MLflow store."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from clv.datasets import load_cdnow


@dataclass(frozen=True)
class Trained:
    store: Path
    tracking_uri: str
    model_uri: str
    version: str
    cdnow_csv: Path
    cdnow_parquet: Path


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """BG/NBD (the fastest real candidate) trained on CDNOW and registered as clv@champion."""
    from clv.training.train import train

    folder = tmp_path_factory.mktemp("serving-store")
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
            kinds=["bg_nbd"],
        )
    assert result.aliases["champion"] == result.version
    transactions = load_cdnow()[["customer_id", "timestamp", "amount"]]
    csv = folder / "cdnow.csv"
    parquet = folder / "cdnow.parquet"
    transactions.to_csv(csv, index=False)
    transactions.to_parquet(parquet, index=False)
    return Trained(folder, uri, "models:/clv@champion", result.version, csv, parquet)


@pytest.fixture(autouse=True)
def _no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


def run_clv_score(trained: Trained, output: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run `clv score` on CDNOW as of 1997-09-30, horizon 39, as a real process."""
    command = [
        sys.executable,
        "-m",
        "clv.cli",
        "score",
        str(trained.cdnow_csv),
        "--model-uri",
        trained.model_uri,
        "--as-of",
        "1997-09-30",
        "--horizon",
        "39",
        "--output",
        str(output),
        "--tracking-uri",
        trained.tracking_uri,
        *extra,
    ]
    environment = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)


@pytest.fixture(scope="session")
def clv_score(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The scores `clv score` writes for CDNOW as of 1997-09-30, horizon 39, default margin."""
    output = tmp_path_factory.mktemp("clv-score") / "scores.parquet"
    result = run_clv_score(trained, output)
    assert result.returncode == 0, result.stderr
    return pd.read_parquet(output)
