"""The data-policy flags of `clv score` and `clv train` are checked before any work."""

from __future__ import annotations

import pytest

from clv.cli import main

pytest.importorskip("mlflow")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["score", "log.csv", "--engine", "spark", "--negative-amounts", "net"],
            "error: --engine spark applies the default data policies only",
        ),
        (
            ["score", "log.csv", "--negative-amounts", "offset"],
            "error: The 'negative_amounts' parameter must be 'raise', 'drop' or 'net'. "
            "Got 'offset' instead.",
        ),
        (
            [
                "train",
                "log.csv",
                "--calibration-end",
                "2024-01-02",
                "--holdout-end",
                "2024-01-03",
                "--missing-customer-id",
                "keep",
            ],
            "error: The 'missing_customer_id' parameter must be 'raise' or 'drop'. "
            "Got 'keep' instead.",
        ),
    ],
)
def test_bad_policy_flags_exit_2_with_one_line(tmp_path, monkeypatch, capsys, args, message):
    (tmp_path / "log.csv").write_text(
        "customer_id,timestamp,amount\n1,2024-01-01,5\n1,2024-01-02,-5\n"
    )
    score = ["--model-uri", "models:/clv@champion", "--as-of", "2024-01-02"]
    score += ["--horizon", "4", "--output", "out.parquet"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(SystemExit) as exited:
        main([*args, *(score if args[0] == "score" else [])])
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert not (tmp_path / "out.parquet").exists() and not (tmp_path / "mlflow.db").exists()
