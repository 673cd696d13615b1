"""`clv train`, `clv report` and `clv promote` refuse bad settings and stores up front.

Real subprocesses of the ``clv`` command, real files, real SQLite stores (issue 12).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from clv.errors import InvalidParameterError

pytestmark = pytest.mark.mlflow


def _clv(*args: object, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "clv.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def _log(folder: Path, n_customers: int = 40, fmt: str = "%Y-%m-%d") -> Path:
    rows = [
        (customer, (pd.Timestamp("1997-01-01") + pd.Timedelta(days=37 * k + customer)), 10.0)
        for customer in range(n_customers)
        for k in range(4)
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    frame["timestamp"] = frame["timestamp"].dt.strftime(fmt)
    path = folder / f"log{n_customers}.csv"
    frame.to_csv(path, index=False)
    return path


DATES = ("--calibration-end", "1997-03-31", "--holdout-end", "1997-06-30")


@pytest.mark.parametrize(
    ("extra", "config", "message"),
    [
        (["--model-name", ""], None, "The model name must be a non-empty string"),
        (["--model-name", "team/clv"], None, "must not contain '/'"),
        (["--experiment", " "], None, "The experiment name must be a non-empty string"),
        ([], 'kinds = "bgnbd"\n', "Unknown model kind(s) 'bgnbd'"),
        ([], "horizon = -1\n", "The 'horizon' parameter must be a float"),
        (["--time-unit", "Q"], None, "The 'time_unit' parameter must be one of ['D', 'M', 'W']"),
        (["--holdout-end", "2999-01-01"], None, "must be a date between 1677-09-22 and 2262"),
    ],
    ids=["empty name", "slash name", "blank experiment", "kinds string", "horizon", "unit", "2999"],
)
def test_train_checks_its_settings_before_any_run(tmp_path, extra, config, message):
    args = ["train", _log(tmp_path), *DATES, *extra]
    if config is not None:
        (tmp_path / "train.toml").write_text(config)
        args += ["--config", "train.toml"]
    result = _clv(*args, cwd=tmp_path)
    line = _one_error_line(result)
    assert message in line, line
    assert "read" not in result.stdout  # refused before the log was even read
    assert not (tmp_path / "mlflow.db").exists()  # no store, no run, no model


def test_kinds_given_as_one_string_mean_one_kind():
    from clv.training.preflight import check_training_settings

    settings = check_training_settings(
        calibration_end="1997-03-31",
        holdout_end="1997-06-30",
        kinds="bg_nbd",
        tracking_uri="sqlite:///:memory:",
    )
    assert settings.kinds == ["bg_nbd"]


@pytest.mark.parametrize("n_customers", [1, 2])
def test_a_log_with_too_few_customers_is_refused_up_front(tmp_path, n_customers):
    result = _clv("train", _log(tmp_path, n_customers), *DATES, cwd=tmp_path)
    line = _one_error_line(result)
    assert f"Only {n_customers} customer(s) have a purchase by the calibration end" in line
    assert "Warning" not in result.stderr and not (tmp_path / "mlflow.db").exists()


def test_train_dates_mixed_ambiguous_out_of_range_or_explicit(tmp_path):
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "customer_id,timestamp,amount\n1,1997-01-10,5\n2,10/05/1997,3\n3,1997-02-01,4\n"
        "4,11/05/1997,4\n"
    )
    line = _one_error_line(_clv("train", mixed, *DATES, cwd=tmp_path))
    assert "2 rows cannot be parsed as dates" in line and "--date-format" in line

    ambiguous = tmp_path / "ambiguous.csv"  # every day <= 12: day-first and month-first read
    ambiguous.write_text(
        "customer_id,timestamp,amount\n"
        + "".join(f"{c},0{m}/0{m + c}/1997,5\n" for c in (1, 2) for m in (1, 2, 3, 4, 5))
    )
    assert "ambiguous" in _one_error_line(_clv("train", ambiguous, *DATES, cwd=tmp_path))
    # with the format given (as an option or a config key) the dates are read, and the
    # next check speaks: the two customers are too few
    line = _one_error_line(
        _clv("train", ambiguous, *DATES, "--date-format", "%d/%m/%Y", cwd=tmp_path)
    )
    assert "Only 2 customer(s)" in line
    (tmp_path / "train.toml").write_text('date_format = "%d/%m/%Y"\n')
    line = _one_error_line(_clv("train", ambiguous, *DATES, "--config", "train.toml", cwd=tmp_path))
    assert "Only 2 customer(s)" in line

    far = tmp_path / "far.csv"
    far.write_text("customer_id,timestamp,amount\n1,2999-01-10,5\n2,1997-01-05,3\n")
    assert "dates outside" in _one_error_line(_clv("train", far, *DATES, cwd=tmp_path))
    assert not (tmp_path / "mlflow.db").exists()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unusable_tracking_stores_give_one_line(tmp_path):
    log = _log(tmp_path)
    not_a_database = tmp_path / "data.csv"
    not_a_database.write_text("a,b\n1,2\n")
    missing = tmp_path / "new.db"
    cases = {
        "csv as sqlite": (f"sqlite:///{not_a_database}", "is not a SQLite database"),
        "mysql without driver": ("mysql://user:secret@127.0.0.1/clv", "driver"),
        "closed port": (f"http://127.0.0.1:{_closed_port()}", "Cannot reach the MLflow server"),
    }
    for name, (uri, text) in cases.items():
        for command in (
            ["train", log, *DATES, "--tracking-uri", uri],
            ["report", "--tracking-uri", uri],
            ["promote", "clv", "1", "--tracking-uri", uri],
        ):
            # MLflow's own retries took 248 s on a closed port: the timeout bounds the wait
            line = _one_error_line(_clv(*command, cwd=tmp_path, timeout=120))
            assert text in line, (name, command[0], line)
    assert not_a_database.read_text() == "a,b\n1,2\n"
    for command in (["report"], ["promote", "clv", "1"]):
        line = _one_error_line(
            _clv(*command, "--tracking-uri", f"sqlite:///{missing}", cwd=tmp_path)
        )
        assert "No MLflow store at" in line
        assert not missing.exists()
    assert sorted(os.listdir(tmp_path)) == ["data.csv", "log40.csv"]


def test_report_into_an_existing_folder_leaves_nothing(tmp_path):
    (tmp_path / "report.html").mkdir()
    line = _one_error_line(_clv("report", "--output", "report.html", cwd=tmp_path))
    assert "is a directory" in line
    assert sorted(os.listdir(tmp_path)) == ["report.html"]
    assert os.listdir(tmp_path / "report.html") == []


def test_store_checks_in_process(tmp_path):
    from clv.training.stores import check_store

    with pytest.raises(InvalidParameterError, match="No MLflow store"):
        check_store(f"sqlite:///{tmp_path / 'absent.db'}")
    assert check_store(f"sqlite:///{tmp_path / 'new.db'}", create=True)
    assert not (tmp_path / "new.db").exists()
    with pytest.raises(InvalidParameterError, match="No such folder"):
        check_store(f"sqlite:///{tmp_path / 'no' / 'new.db'}", create=True)
    with pytest.raises(InvalidParameterError, match="not a regular file"):
        check_store(f"sqlite:///{tmp_path}")
