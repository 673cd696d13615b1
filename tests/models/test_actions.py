"""Segments with actions, the segment table and the action lists."""

import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidDataError, InvalidParameterError
from clv.models.actions import (
    DEFAULT_ACTIONS,
    action_lists,
    actions_for,
    load_segment_config,
    segment_actions,
)
from clv.models.segments import SEGMENTS, SegmentRules


@pytest.fixture()
def scored():
    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n) + 1000,
            "clv": rng.gamma(0.7, 100.0, n),
            "churn_probability": rng.uniform(0, 1, n),
            "probability_alive": rng.uniform(0, 1, n),
            "expected_purchases": rng.gamma(1.0, 1.0, n),
            "last_purchase": pd.Timestamp("1998-01-01")
            + pd.to_timedelta(rng.integers(0, 300, n), "D"),
        },
        index=pd.Index(rng.permutation(n) * 3, name="row"),
    )
    rules = SegmentRules().fit(frame)
    return frame.assign(segment=rules.assign(frame)), rules


def test_every_segment_has_a_name_and_an_action():
    assert list(DEFAULT_ACTIONS) == list(SEGMENTS)
    assert all(name and action for name, action in DEFAULT_ACTIONS.values())


def test_segment_table_adds_up(scored):
    frame, rules = scored
    table = segment_actions(frame, rules=rules)
    assert list(table.index) == [s for s in SEGMENTS if s in set(frame["segment"])]
    assert table["customers"].sum() == len(frame)
    assert table["share_clv"].sum() == pytest.approx(1.0)
    assert table["total_clv"].sum() == pytest.approx(frame["clv"].sum())
    expected_risk = (frame["clv"] * frame["churn_probability"]).groupby(frame["segment"]).sum()
    pd.testing.assert_series_equal(
        table["value_at_risk"], expected_risk.reindex(table.index), check_names=False
    )
    assert table.loc["high value", "rule"].startswith(f"CLV > {rules.high_threshold_:,.2f}")
    assert table.loc["high value at risk", "name"] == DEFAULT_ACTIONS["high value at risk"][0]


def test_actions_are_aligned_and_configurable(scored, tmp_path):
    frame, _ = scored
    config = tmp_path / "segments.toml"
    config.write_text(
        'churn_threshold = 0.6\n[actions]\n"low value at risk" = "Let go."\n'
        '[actions."high value"]\nname = "VIP"\n'
    )
    rules, actions = load_segment_config(config)
    assert rules.churn_threshold == 0.6
    labelled = actions_for(frame["segment"], actions)
    assert labelled.index.equals(frame.index)
    low = frame["segment"] == "low value at risk"
    assert (labelled.loc[low, "action"] == "Let go.").all()
    high = frame["segment"] == "high value"
    assert (labelled.loc[high, "segment_name"] == "VIP").all()
    assert (labelled.loc[high, "action"] == DEFAULT_ACTIONS["high value"][1]).all()
    bad = tmp_path / "bad.toml"
    bad.write_text('[actions]\n"vip" = "x"\n')
    with pytest.raises(InvalidParameterError, match="Unknown segment 'vip'"):
        load_segment_config(bad)
    bad.write_text("high_shar = 0.1\n")
    with pytest.raises(InvalidParameterError, match="Unknown key"):
        load_segment_config(bad)


def test_action_lists_rank_by_value_at_risk(scored):
    frame, _ = scored
    lists = action_lists(frame, segments=["high value at risk", "medium value"], top=10)
    assert set(lists) == {"high value at risk", "medium value"}
    chosen = lists["high value at risk"]
    assert list(chosen.columns) == [
        "customer_id",
        "segment",
        "segment_name",
        "action",
        "clv",
        "value_at_risk",
        "probability_alive",
        "expected_purchases",
        "last_purchase",
    ]
    members = frame[frame["segment"] == "high value at risk"]
    risk = (members["clv"] * members["churn_probability"]).sort_values(ascending=False)
    assert len(chosen) == min(10, len(members))
    assert chosen["value_at_risk"].tolist() == pytest.approx(risk.head(10).tolist())
    assert (
        chosen["customer_id"].tolist() == members.loc[risk.head(10).index, "customer_id"].tolist()
    )
    with pytest.raises(InvalidParameterError, match="Unknown segment"):
        action_lists(frame, segments=["vip"])
    with pytest.raises(InvalidDataError, match="missing column"):
        action_lists(frame.drop(columns="clv"))
