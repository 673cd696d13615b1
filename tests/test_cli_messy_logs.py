"""`clv train` and `clv score` end to end on real, messy logs, with every policy counted.

The full CDNOW master (23,570 customers, $0 lines, one repeat buyer whose repeat
spend is $0) and the messy simulated export (multi-line invoices, cancellations,
$0 lines, guest checkouts, bulk buyers). One candidate kind: the point is the data
path, not the model comparison.
"""

from __future__ import annotations

import pandas as pd
import pytest

from clv.features import clean_transactions
from tests.test_cli_train import run_clv

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


def _data_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.lstrip(" -").startswith("data: ")]
    assert lines, stdout[-3000:]
    return lines[-1].lstrip(" -")


def test_train_and_score_the_full_cdnow_master(tmp_path):
    from clv.datasets import load_cdnow

    log = load_cdnow(full=True)[["customer_id", "timestamp", "amount"]]
    log.to_csv(tmp_path / "cdnow_master.csv", index=False)
    (tmp_path / "train.toml").write_text('[train]\nkinds = ["bg_nbd"]\n')
    trained = run_clv(
        "train",
        "cdnow_master.csv",
        "--config",
        "train.toml",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    zero = int((log["amount"] == 0).sum())
    assert zero == 80
    line = f"data: {len(log):,} rows, {len(log):,} used; {zero} $0 rows kept as purchases"
    assert _data_line(trained.stdout) == line
    assert (
        "Gamma-Gamma: 1 customers with repeat purchases but a $0 mean repeat spend left out "
        "of the fit (predicted with the population mean)" in trained.stdout
    )
    scored = run_clv(
        "score",
        "cdnow_master.csv",
        "--model-uri",
        "models:/clv@champion",
        "--as-of",
        "1998-06-30",
        "--horizon",
        "52",
        "--output",
        "scores.parquet",
        cwd=tmp_path,
    )
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert _data_line(scored.stdout) == line
    scores = pd.read_parquet(tmp_path / "scores.parquet")
    assert len(scores) == log["customer_id"].nunique() == 23_570
    assert scores[["clv", "expected_spend"]].notna().all().all()


def test_train_and_score_the_messy_simulated_log(tmp_path):
    from clv.datasets import simulate_messy_log

    simulate_messy_log(600, random_state=2).to_csv(tmp_path / "messy.csv", index=False)
    raw = pd.read_csv(tmp_path / "messy.csv")  # customer ids come back as floats
    policies = ["--invoice", "invoice", "--missing-customer-id", "drop"]
    cleaned = clean_transactions(
        raw, invoice="invoice", negative_amounts="net", missing_customer_id="drop", warn=False
    )
    expected = cleaned.report
    assert expected.missing_customer_rows and expected.return_rows_netted
    assert expected.cancelled_purchase_rows and expected.zero_amount_rows

    (tmp_path / "train.toml").write_text(
        '[train]\nkinds = ["bg_nbd"]\nnegative_amounts = "net"\n'
        'calibration_end = "2023-06-30"\nholdout_end = "2023-12-31"\n'
    )
    refused = run_clv("train", "messy.csv", "--config", "train.toml", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert "null customer id" in refused.stderr and "missing_customer_id='drop'" in refused.stderr
    trained = run_clv("train", "messy.csv", "--config", "train.toml", *policies, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert _data_line(trained.stdout) == expected.line()
    assert f"{expected.return_rows_netted:,} returns netted" in expected.line()

    def score(output, *options):
        arguments = ["--model-uri", "models:/clv@champion", "--as-of", "2023-12-31"]
        arguments += ["--horizon", "26", "--output", output, *options]
        return run_clv("score", "messy.csv", *arguments, cwd=tmp_path)

    refused = score("never.parquet")  # the same file without the policies
    assert refused.returncode == 2
    assert "null customer id" in refused.stderr and "missing_customer_id='drop'" in refused.stderr
    for name, extra in (("whole.parquet", []), ("chunked.csv", ["--chunk-customers", "2000"])):
        scored = score(name, "--negative-amounts", "net", *policies, *extra)
        assert scored.returncode == 0, scored.stderr[-3000:]
        assert _data_line(scored.stdout) == expected.line()  # bucket counts add up
    whole = pd.read_parquet(tmp_path / "whole.parquet").set_index("customer_id").sort_index()
    chunked = pd.read_csv(tmp_path / "chunked.csv").set_index("customer_id").sort_index()
    assert whole.index.equals(chunked.index)
    assert whole.index.dtype.kind == "i"
    assert len(whole) == cleaned.transactions["customer_id"].nunique()
    pd.testing.assert_series_equal(whole["clv"], chunked["clv"], rtol=1e-9)
