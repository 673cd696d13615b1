"""The `clv` command talks like a tool: --version, progress with times, no library chatter."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

from clv import __version__
from clv.datasets import load_cdnow
from clv.errors import CLVWarning, DataPolicyWarning


def _clv(*args, cwd=None, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "clv.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true"),
    )


def test_version():
    result = _clv("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"clv {__version__}"


def test_importing_the_cli_changes_no_logging_or_warning_state():
    # (numpy and scipy add filters of their own when clv first imports them)
    script = (
        "import logging, warnings, clv\n"
        "filters = list(warnings.filters)\n"
        "levels = {name: logging.getLogger(name).level for name in ('mlflow', 'alembic', '')}\n"
        "import clv.cli, clv._cli_output\n"
        "assert warnings.filters == filters\n"
        "assert {n: logging.getLogger(n).level for n in levels} == levels\n"
        "import sys; assert 'mlflow' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_library_output_is_scoped_and_keeps_clv_warnings(capsys):
    from mlflow.utils.logging_utils import MLFLOW_LOGGING_STREAM

    from clv._cli_output import library_output

    filters = list(warnings.filters)
    from mlflow.utils.logging_utils import eprint

    with library_output():
        eprint("MLflow's event line")
        MLFLOW_LOGGING_STREAM.enabled = True  # MLflow turns its switch back on at times
        eprint("MLflow's event line")
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
        warnings.warn("a future deprecation", FutureWarning, stacklevel=1)
        warnings.warn(CLVWarning("XGBoost is not installed\nsecond line"), stacklevel=1)
        warnings.warn(DataPolicyWarning("3 rows dropped", {}), stacklevel=1)
    assert "write" not in vars(MLFLOW_LOGGING_STREAM)
    assert warnings.filters == filters
    assert capsys.readouterr().err == "warning: XGBoost is not installed\n"
    with library_output(verbose=True), pytest.warns(UserWarning, match="library"):
        warnings.warn("a library's warning", UserWarning, stacklevel=1)


def test_compare_models_reports_each_candidate_with_its_time():
    from clv.training.compare import compare_models

    lines = []
    compare_models(
        load_cdnow(),
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
        kinds=["baseline", "bg_nbd"],
        progress=lines.append,
    )
    assert lines[0] == "building the holdout split and features ..."
    assert lines[1].startswith("holdout and features in ") and lines[1].endswith(" s")
    assert lines[2] == "[1/2] baseline: fitting ..."
    assert lines[3].startswith("[1/2] baseline: fitted and scored in ")
    assert " s; holdout RMSE spend " in lines[3]
    assert lines[4] == "[2/2] bg_nbd: fitting ..."
    assert lines[5].startswith("[2/2] bg_nbd: fitted and scored in ")
    assert len(lines) == 6


@pytest.mark.slow
def test_clv_train_prints_no_mlflow_lines_unless_verbose(tmp_path):
    csv = tmp_path / "cdnow.csv"
    load_cdnow()[["customer_id", "timestamp", "amount"]].to_csv(csv, index=False)
    (tmp_path / "train.toml").write_text('kinds = ["bg_nbd"]\n', encoding="utf-8")
    arguments = [
        "train",
        csv,
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--config",
        tmp_path / "train.toml",
    ]
    quiet = _clv(*arguments, "--tracking-uri", f"sqlite:///{tmp_path / 'a.db'}", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    output = quiet.stdout + quiet.stderr
    for chatter in (" INFO ", "Warning", "warnings.warn", "Successfully registered", "Created"):
        assert chatter not in output, output
    assert "[1/1] bg_nbd: fitted and scored in " in quiet.stdout
    assert "logged the pyfunc model in " in quiet.stdout
    verbose = _clv(
        "--verbose", *arguments, "--tracking-uri", f"sqlite:///{tmp_path / 'b.db'}", cwd=tmp_path
    )
    assert verbose.returncode == 0, verbose.stderr
    assert " INFO mlflow" in verbose.stderr


def test_table_text_is_a_markdown_table_with_formats():
    import pandas as pd

    from clv._cli_output import table_text

    frame = pd.DataFrame(
        {"count": [133963, 9], "mean_clv": [69.125, 4.0]},
        index=pd.Index(["high value", "low value"], name="segment"),
    )
    lines = table_text(frame, {"count": "{:,}", "mean_clv": "{:,.2f}"}).splitlines()
    assert lines[0].split("|")[1:-1] == [" segment    ", "   count ", " mean_clv "]
    assert set(lines[1]) == {"|", "-"}
    assert lines[2] == "| high value | 133,963 |    69.12 |"
    assert lines[3] == "| low value  |       9 |     4.00 |"
    assert all(len(line) == len(lines[0]) for line in lines)
