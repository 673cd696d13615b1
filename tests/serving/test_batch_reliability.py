"""`clv score` on hostile files and under real signals (issue 12, batch scoring).

Every case runs the real ``clv`` command in a subprocess on real files.
"""

from __future__ import annotations

import gzip
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

from tests.conftest import simulated_log
from tests.serving.test_batch import _clv, _score_args

pytestmark = pytest.mark.mlflow


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def _work_folders(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if ".clv-score-" in name)


def test_output_equal_to_the_input_is_refused_by_any_path(trained, tmp_path):
    log = tmp_path / "log.csv"
    log.write_bytes(trained.cdnow_csv.read_bytes())
    before = log.read_bytes()
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(log)
    os.link(log, tmp_path / "hard.csv")
    outputs = [
        log,
        tmp_path / "link.csv",
        tmp_path / "sub" / ".." / "log.csv",
        tmp_path / "hard.csv",
    ]
    for output in outputs:
        line = _one_error_line(_clv(*_score_args(trained, log, output)))
        assert "is the transaction file" in line, line
    # the symlink given as the input, the real file as the output
    line = _one_error_line(_clv(*_score_args(trained, tmp_path / "link.csv", log)))
    assert "is the transaction file" in line
    assert log.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["hard.csv", "link.csv", "log.csv", "sub"]


def _mixed_dates_csv(trained, folder: Path) -> tuple[Path, int]:
    log = pd.read_csv(trained.cdnow_csv)
    stamps = pd.to_datetime(log["timestamp"])
    other = (log["customer_id"] % 5 == 0).to_numpy()
    log["timestamp"] = np.where(
        other, stamps.dt.strftime("%d/%m/%Y"), stamps.dt.strftime("%Y-%m-%d")
    )
    path = folder / "mixed.csv"
    log.to_csv(path, index=False)
    return path, int(other.sum())


@pytest.mark.parametrize("chunk", [None, "1500"], ids=["in-memory", "streamed"])
def test_mixed_date_formats_are_refused_with_the_count(trained, tmp_path, chunk):
    path, n_other = _mixed_dates_csv(trained, tmp_path)
    extra = [] if chunk is None else ["--chunk-customers", chunk]
    output = tmp_path / "scores.parquet"
    line = _one_error_line(_clv(*_score_args(trained, path, output, *extra)))
    assert f"{n_other:,} rows cannot be parsed as dates" in line, line
    assert "--date-format" in line
    assert not output.exists() and _work_folders(tmp_path) == []


def test_ambiguous_dates_need_a_date_format(trained, tmp_path):
    log = pd.read_csv(trained.cdnow_csv)
    stamps = pd.to_datetime(log["timestamp"])
    keep = (stamps.dt.day <= 12).to_numpy()  # every date reads day-first and month-first
    log = log.loc[keep].assign(timestamp=stamps[keep].dt.strftime("%d/%m/%Y"))
    path = tmp_path / "ambiguous.csv"
    log.to_csv(path, index=False)
    output = tmp_path / "scores.parquet"
    line = _one_error_line(_clv(*_score_args(trained, path, output)))
    assert "ambiguous" in line and "--date-format" in line

    done = _clv(*_score_args(trained, path, output, "--date-format", "%d/%m/%Y"))
    assert done.returncode == 0, done.stderr
    iso = tmp_path / "iso.csv"
    log.assign(timestamp=stamps[keep].dt.strftime("%Y-%m-%d")).to_csv(iso, index=False)
    reference = tmp_path / "reference.parquet"
    assert _clv(*_score_args(trained, iso, reference)).returncode == 0
    got = pd.read_parquet(output).drop(columns="scored_at")
    expected = pd.read_parquet(reference).drop(columns="scored_at")
    pd.testing.assert_frame_equal(got, expected)


def _write_unreadable_inputs(folder: Path, cdnow_csv: Path) -> dict[str, tuple[Path, str]]:
    cases: dict[str, tuple[Path, str]] = {}
    far = folder / "far.csv"
    far.write_text("customer_id,timestamp,amount\n1,2999-01-01,5\n2,1997-01-02,3\n")
    cases["year 2999 in a csv"] = (far, "dates outside 1677-09-22 .. 2262-04-11")
    far_parquet = folder / "far.parquet"
    pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2999-01-01", "1997-01-02"]).as_unit("us"),
            "amount": [5.0, 3.0],
        }
    ).to_parquet(far_parquet)
    cases["year 2999 in a parquet"] = (far_parquet, "dates outside")
    empty = folder / "empty.parquet"
    empty.write_bytes(b"")
    cases["empty parquet"] = (empty, "Cannot read")
    garbage = folder / "garbage.parquet"
    garbage.write_bytes(b"not a parquet file at all\n" * 10)
    cases["garbage parquet"] = (garbage, "Cannot read")
    nested = folder / "nested.parquet"
    pd.DataFrame(
        {
            "customer_id": [[1], [2, 3]],
            "timestamp": ["1997-01-01", "1997-02-01"],
            "amount": [1.0, 2],
        }
    ).to_parquet(nested)
    cases["list-typed ids"] = (nested, "hold a list or map")
    truncated = folder / "truncated.csv.gz"
    truncated.write_bytes(gzip.compress(cdnow_csv.read_bytes())[:20_000])
    cases["truncated csv.gz"] = (truncated, "truncated")
    fifo = folder / "fifo.csv"
    os.mkfifo(fifo)
    cases["fifo"] = (fifo, "not a regular file")
    return cases


def test_unreadable_inputs_give_one_line_and_exit_2(trained, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    cases = _write_unreadable_inputs(inputs, trained.cdnow_csv)
    output = tmp_path / "scores.parquet"
    for name, (path, text) in cases.items():
        line = _one_error_line(_clv(*_score_args(trained, path, output)))  # bounded: timeout
        assert text in line, (name, line)
        assert not output.exists(), name
    assert os.listdir(tmp_path) == ["inputs"]


def test_an_as_of_date_out_of_range_gives_one_line(trained, tmp_path):
    output = tmp_path / "scores.parquet"
    args = _score_args(trained, trained.cdnow_csv, output, "--as-of", "2999-01-01")
    line = _one_error_line(_clv(*args))
    assert "'as_of' parameter must be a date between 1677-09-22 and 2262-04-11" in line
    assert os.listdir(tmp_path) == []


def _large_log(folder: Path) -> Path:
    log = simulated_log(4000, seed=3)
    log["timestamp"] = log["timestamp"] - pd.Timedelta(days=23 * 365)  # into CDNOW's years
    log["customer_id"] = log["customer_id"].str[1:].astype("int64")  # CDNOW's id type
    path = folder / "large.csv"
    log.to_csv(path, index=False)
    return path


def _start_score(trained, source: Path, output: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "clv.cli", *map(str, _score_args(trained, source, output))]
        + ["--chunk-customers", "150"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true"),
    )


def _wait_for_bucket_files(process: subprocess.Popen, folder: Path) -> Path:
    """Poll (bounded) until the run has written bucket files; return its work folder."""
    for _ in range(1200):
        for name in _work_folders(folder):
            buckets = folder / name / "buckets"
            if buckets.is_dir() and any(buckets.iterdir()):
                return folder / name
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    process.kill()
    raise AssertionError("the scoring run wrote no bucket file")


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_score_removes_everything_it_wrote(trained, tmp_path, stop):
    source = _large_log(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    process = _start_score(trained, source, out / "scores.parquet")
    _wait_for_bucket_files(process, out)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + stop, stderr
    assert f"interrupted by {stop.name}" in stderr
    assert os.listdir(out) == []


@pytest.mark.slow
def test_a_later_run_sweeps_what_a_killed_run_left(trained, tmp_path):
    source = _large_log(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    output = out / "scores.parquet"
    process = _start_score(trained, source, output)
    left = _wait_for_bucket_files(process, out)
    process.kill()
    process.communicate(timeout=60)
    assert left.is_dir() and any((left / "buckets").iterdir())  # what kill -9 leaves

    done = _clv(*_score_args(trained, source, output))
    assert done.returncode == 0, done.stderr
    assert "removed 1 work folder(s)" in done.stdout
    assert os.listdir(out) == ["scores.parquet"]


def test_the_sweep_keeps_folders_of_live_runs_and_other_hosts(tmp_path):
    from clv.serving.workspace import work_folder

    output = tmp_path / "scores.parquet"
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    names = {
        "dead": f".scores.parquet.clv-score-{host}-{dead.pid}-0a1b2c3d",
        "live": f".scores.parquet.clv-score-{host}-{os.getppid()}-0a1b2c3d",
        "other host": f".scores.parquet.clv-score-elsewhere-{dead.pid}-0a1b2c3d",
        "other output": f".other.parquet.clv-score-{host}-{dead.pid}-0a1b2c3d",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
    with work_folder(output) as (folder, swept):
        assert folder.is_dir() and swept == 1
    left = sorted(os.listdir(tmp_path))
    assert left == sorted(name for key, name in names.items() if key != "dead")
