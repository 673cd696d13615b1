"""A clv model trained once per test session into a temporary SQLite MLflow store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
