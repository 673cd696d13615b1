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
