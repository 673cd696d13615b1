"""`clv score --actions DIR`: the action column and the per-segment action lists."""

from __future__ import annotations

import pandas as pd

from clv.datasets import load_cdnow
from clv.models.actions import DEFAULT_ACTIONS
from tests.serving.conftest import run_clv_score


def test_scores_carry_the_action_of_their_segment(clv_score):
    expected = clv_score["segment"].map(lambda s: DEFAULT_ACTIONS[s][1])
    assert clv_score["action"].tolist() == expected.tolist()
    columns = list(clv_score.columns)
    assert columns.index("action") == columns.index("segment") + 1


def test_clv_score_writes_ranked_action_lists(trained, tmp_path):
    output = tmp_path / "scores.parquet"
    folder = tmp_path / "lists"
    result = run_clv_score(
        trained,
        output,
        "--actions",
        str(folder),
        "--action-segments",
        "high value at risk, medium value",
        "--action-top",
        "25",
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 2 action list(s)" in result.stdout
    assert sorted(p.name for p in folder.iterdir()) == [
        "high_value_at_risk.csv",
        "medium_value.csv",
    ]
    scores = pd.read_parquet(output)
    chosen = pd.read_csv(folder / "high_value_at_risk.csv")
    members = scores[scores["segment"] == "high value at risk"]
    risk = (members["clv"] * members["churn_probability"]).sort_values(ascending=False)
    assert len(chosen) == min(25, len(members)) > 0
    assert chosen["customer_id"].tolist() == members.loc[risk.index[:25], "customer_id"].tolist()
    assert (chosen["action"] == DEFAULT_ACTIONS["high value at risk"][1]).all()
    # the last purchase on or before the scoring day, from the log itself
    log = load_cdnow()
    log = log[log["timestamp"] <= "1997-09-30"]
    last = log.groupby("customer_id")["timestamp"].max().dt.strftime("%Y-%m-%d")
    assert chosen["last_purchase"].tolist() == last.loc[chosen["customer_id"]].tolist()


def test_an_unknown_action_segment_is_refused_before_scoring(trained, tmp_path):
    output = tmp_path / "scores.parquet"
    result = run_clv_score(trained, output, "--actions", str(tmp_path), "--action-segments", "vip")
    assert result.returncode == 2
    assert "Unknown segment(s) ['vip']" in result.stderr
    assert not output.exists()


def test_segment_settings_travel_with_the_model(tmp_path, monkeypatch):
    import mlflow

    from clv.features import customer_features
    from clv.training.train import train

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    log = load_cdnow()
    settings = {"churn_threshold": 0.6, "actions": {"high value at risk": "Call them today."}}
    result = train(
        log,
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
        time_unit="W",
        tracking_uri=uri,
        kinds=["bg_nbd"],
        segments=settings,
    )
    mlflow.set_tracking_uri(uri)
    try:
        model = mlflow.pyfunc.load_model(f"models:/clv/{result.version}")
    finally:
        mlflow.set_tracking_uri(None)
    rules = model.unwrap_python_model().segments
    assert rules.churn_threshold == 0.6
    scores = model.predict(customer_features(log, as_of="1998-06-30", time_unit="W"))
    risky = scores["segment"] == "high value at risk"
    assert risky.any()
    assert (scores.loc[risky, "action"] == "Call them today.").all()
    others = scores.loc[~risky]
    assert (others["action"] == others["segment"].map(lambda s: DEFAULT_ACTIONS[s][1])).all()


def test_unknown_segment_settings_are_refused_before_training():
    import pytest

    from clv.errors import InvalidParameterError
    from clv.training.train import train

    with pytest.raises(InvalidParameterError, match="Unknown key"):
        train(
            load_cdnow(),
            calibration_end="1997-09-30",
            holdout_end="1998-06-30",
            segments={"churn": 0.5},
            tracking_uri="sqlite:////nonexistent/never.db",
        )
