"""`clv train` and `clv promote` as a user runs them (subprocesses, temporary store)."""

import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]

pytest.importorskip("mlflow")


def run_clv(*args, cwd):
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "clv.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory):
    from clv.datasets import load_cdnow

    folder = tmp_path_factory.mktemp("cli")
    path = folder / "cdnow.csv"
    log = load_cdnow().rename(
        columns={"customer_id": "cust", "timestamp": "day", "amount": "spend"}
    )
    log.to_csv(path, index=False)
    (folder / "train.toml").write_text(
        '[train]\ncalibration_end = "1997-09-30"\nholdout_end = 1998-06-30\n'
        'time_unit = "W"\nkinds = ["baseline", "bg_nbd"]\n'
    )
    return path


def test_train_then_promote(cdnow_csv):
    folder = cdnow_csv.parent
    done = run_clv(
        "train",
        str(cdnow_csv),
        "--config",
        "train.toml",
        "--customer-id",
        "cust",
        "--timestamp",
        "day",
        "--amount",
        "spend",
        "--model-name",
        "cdnow",
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "comparing models on calibration to 1997-09-30" in out  # progress
    assert "Holdout comparison" in out and "bg_nbd *" in out  # summary table
    assert "registered cdnow version 1 (bg_nbd), alias challenger" in out
    assert "champion: cdnow@champion = version 1" in out
    uri = f"sqlite:///{folder.resolve().as_posix()}/mlflow.db"
    assert f"mlflow ui --backend-store-uri {uri}" in out
    assert (folder / "mlflow.db").exists() and (folder / "mlartifacts").is_dir()

    promoted = run_clv("promote", "cdnow", "1", cwd=folder)
    assert promoted.returncode == 0, promoted.stderr
    assert promoted.stdout.strip() == "cdnow@champion -> version 1 (was version 1)"
    missing = run_clv("promote", "cdnow", "7", cwd=folder)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"error: Registered model 'cdnow' has no version 7 in {uri}."
    ]


@pytest.mark.parametrize(
    ("make_input", "extra", "message"),
    [
        (lambda folder: "missing.csv", [], "error: No such file: missing.csv"),
        (
            lambda folder: _write(
                folder / "bad.csv", "customer_id,timestamp,amount\n1,1997-01-01,5\n2,not a date,3\n"
            ),
            [],
            "error: Column 'timestamp': 1 rows cannot be parsed as dates (customers e.g. 2).",
        ),
        (
            lambda folder: _write(
                folder / "neg.csv",
                "customer_id,timestamp,amount\n1,1997-01-01,5\n2,1997-02-01,-3\n",
            ),
            [],
            "error: Column 'amount': 1 rows have a negative amount",
        ),
        (
            lambda folder: _write(folder / "cols.csv", "cust,timestamp,amount\n1,1997-01-01,5\n"),
            [],
            "error: Transactions lack column(s) 'customer_id'",
        ),
        (
            lambda folder: _write(
                folder / "ok.csv", "customer_id,timestamp,amount\n1,1997-01-01,5\n"
            ),
            ["--time-unit", "Q"],
            "error: The 'time_unit' parameter must be one of ['D', 'M', 'W']",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, make_input, extra, message):
    path = make_input(tmp_path)
    done = run_clv(
        "train",
        str(path),
        "--calibration-end",
        "1997-03-01",
        "--holdout-end",
        "1997-06-01",
        *extra,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(message)
    assert not (tmp_path / "mlflow.db").exists()  # nothing is tracked for bad input


def test_missing_dates_exit_2(tmp_path):
    path = _write(tmp_path / "ok.csv", "customer_id,timestamp,amount\n1,1997-01-01,5\n")
    done = run_clv("train", str(path), cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "error: Missing --calibration-end (give it as an option or in --config)."
    )


def _write(path, text):
    path.write_text(text)
    return path
