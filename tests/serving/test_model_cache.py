"""Batch scoring reuses a resolved, checked registry model while its SQLite store is unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from clv.errors import ModelLoadError
from clv.serving.batch import score_file
from clv.serving.model_cache import CACHE_ENV, store_state

# A fresh process: the registry model scored, and whether MLflow's SQL store was imported.
_PROBE = """
import json, sys
from clv.serving.batch import score_file
summary = score_file(sys.argv[1], model_uri=sys.argv[2], tracking_uri=sys.argv[3],
                     as_of="1997-09-30", horizon=39, output=sys.argv[4])
opened = "mlflow.store.tracking.sqlalchemy_store" in sys.modules
print(json.dumps({"version": summary.attrs["model_version"], "store_opened": opened}))
"""


def _score(trained, output, fresh_process=False):
    if not fresh_process:
        return score_file(
            trained.cdnow_parquet,
            model_uri=trained.model_uri,
            tracking_uri=trained.tracking_uri,
            as_of="1997-09-30",
            horizon=39,
            output=output,
        )
    arguments = [trained.cdnow_parquet, trained.model_uri, trained.tracking_uri, output]
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _scores(path):
    return pd.read_parquet(path).drop(columns="scored_at")


def test_a_second_run_skips_the_store_until_the_store_changes(trained, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    _score(trained, tmp_path / "first.parquet")
    (entry,) = cache.iterdir()
    record = json.loads((entry / "entry.json").read_text(encoding="utf-8"))
    assert record["resolved"]["version"] == trained.version
    assert record["store"] == store_state(trained.tracking_uri)
    assert (entry / "model" / "MLmodel").is_file()

    second = _score(trained, tmp_path / "second.parquet", fresh_process=True)
    assert second == {"version": trained.version, "store_opened": False}
    pd.testing.assert_frame_equal(
        _scores(tmp_path / "first.parquet"), _scores(tmp_path / "second.parquet")
    )

    before = store_state(trained.tracking_uri)
    client = MlflowClient(trained.tracking_uri, registry_uri=trained.tracking_uri)
    client.set_model_version_tag("clv", trained.version, "clv_cache_test", "1")
    assert store_state(trained.tracking_uri) != before  # any write changes the stamp
    third = _score(trained, tmp_path / "third.parquet", fresh_process=True)
    assert third == {"version": trained.version, "store_opened": True}
    (entry,) = cache.iterdir()
    record = json.loads((entry / "entry.json").read_text(encoding="utf-8"))
    assert record["store"] == store_state(trained.tracking_uri)


def test_a_tampered_cache_entry_is_refused_before_it_runs(trained, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    _score(trained, tmp_path / "first.parquet")
    (entry,) = cache.iterdir()
    with (entry / "model" / "code" / "clv" / "__init__.py").open("a", encoding="utf-8") as f:
        f.write("\nraise SystemExit('tampered code ran')\n")
    output = tmp_path / "second.parquet"
    with pytest.raises(ModelLoadError, match="digest mismatch"):
        _score(trained, output)
    assert not output.exists()


def test_no_cache_when_turned_off_or_for_a_local_folder(trained, tmp_path, monkeypatch):
    from clv.serving.model_cache import cache_entry

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert cache_entry(str(tmp_path), trained.tracking_uri) is None  # a local model folder
    assert cache_entry(trained.model_uri, "sqlite:///" + str(tmp_path / "none.db")) is None
    assert cache_entry(trained.model_uri, trained.tracking_uri) is not None
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_entry(trained.model_uri, trained.tracking_uri) is None
    _score(trained, tmp_path / "scores.parquet")
    assert not (tmp_path / "cache").exists()
