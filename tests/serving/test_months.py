"""Calendar months end to end: `clv train --time-unit M`, then `clv score` in months.

The model trained in months on CDNOW scores the same customers as the weekly one
(the session's ``trained`` model) within the tolerances of
tests/models/test_time_units.py: 9 months and 39 weeks are the same holdout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.serving.test_endpoint import run_clv


@pytest.mark.slow
def test_clv_train_and_score_in_calendar_months(trained, clv_score, tmp_path):
    config = tmp_path / "train.toml"
    config.write_text('kinds = ["bg_nbd"]\n', encoding="utf-8")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    train = run_clv(
        "train",
        str(trained.cdnow_csv),
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--time-unit",
        "M",
        "--tracking-uri",
        uri,
        "--config",
        str(config),
    )
    assert train.returncode == 0, train.stderr
    assert "(9 M)" in train.stdout, train.stdout  # the holdout: October to June
    output = tmp_path / "months.parquet"
    scored = run_clv(
        "score",
        str(trained.cdnow_csv),
        "--model-uri",
        "models:/clv@champion",
        "--as-of",
        "1997-09-30",
        "--horizon",
        "9",
        "--interval",
        "0.9",
        "--output",
        str(output),
        "--tracking-uri",
        uri,
    )
    assert scored.returncode == 0, scored.stderr
    in_months, in_weeks = pd.read_parquet(output), clv_score
    assert in_months["customer_id"].tolist() == in_weeks["customer_id"].tolist()
    for name in ("expected_purchases", "expected_spend", "clv"):
        assert in_months[name].sum() == pytest.approx(in_weeks[name].sum(), rel=0.015), name
    for name in ("probability_alive", "churn_probability"):
        assert np.abs(in_months[name] - in_weeks[name]).max() < 0.02, name
    assert (in_months["clv_lower"] <= in_months["clv"]).all()
    assert (in_months["clv"] <= in_months["clv_upper"]).all()
