import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from clv.errors import InvalidDataError, InvalidParameterError, ModelLoadError, NotFittedError
from clv.models.segments import SEGMENTS, SegmentRules, segment_summary


def _predictions(n=100, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "clv": np.arange(n, dtype=float),  # 0..99: thresholds at the 80 % and 50 % quantiles
            "churn_probability": rng.random(n),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )


def test_fit_stores_quantile_thresholds_and_tiers_have_their_shares():
    predictions = _predictions()
    rules = SegmentRules().fit(predictions)
    assert rules.high_threshold_ == pytest.approx(np.quantile(np.arange(100), 0.8))
    assert rules.medium_threshold_ == pytest.approx(np.quantile(np.arange(100), 0.5))
    segments = rules.assign(predictions)
    assert segments.index.equals(predictions.index) and segments.name == "segment"
    tiers = segments.str.replace(" at risk", "", regex=False).value_counts()
    assert tiers.to_dict() == {"low value": 50, "medium value": 30, "high value": 20}
    at_risk = segments.str.endswith("at risk")
    assert (at_risk == (predictions["churn_probability"] >= 0.5)).all()
    assert set(segments) <= set(SEGMENTS)


def test_single_row_uses_the_stored_thresholds():
    rules = SegmentRules().fit(_predictions())
    assert rules.assign({"clv": 95.0, "churn_probability": 0.2}) == "high value"
    assert rules.assign(pd.Series({"clv": 95.0, "churn_probability": 0.5})) == "high value at risk"
    assert rules.assign({"clv": 60.0, "churn_probability": 0.9}) == "medium value at risk"
    assert rules.assign({"clv": 1e-3, "churn_probability": 0.1}) == "low value"
    one = rules.assign(pd.DataFrame({"clv": [60.0], "churn_probability": [0.1]}, index=["x"]))
    assert one.to_dict() == {"x": "medium value"}


def test_ties_at_zero_fall_in_the_lower_tier():
    clv = np.r_[np.zeros(70), np.arange(1.0, 31.0)]
    table = pd.DataFrame({"clv": clv, "churn_probability": np.full(100, 0.1)})
    segments = SegmentRules().fit_assign(table)
    assert (segments[clv == 0] == "low value").all()
    assert segments.value_counts().to_dict() == {
        "low value": 70,
        "high value": 20,
        "medium value": 10,
    }


def test_json_round_trip_and_clone():
    rules = SegmentRules(high_share=0.1, medium_share=0.4, churn_threshold=0.7).fit(_predictions())
    text = json.dumps(rules.to_dict())
    restored = SegmentRules.from_dict(json.loads(text))
    assert restored.get_params() == rules.get_params()
    predictions = _predictions(seed=3)
    assert restored.assign(predictions).equals(rules.assign(predictions))
    assert clone(rules).get_params() == rules.get_params()
    assert not hasattr(clone(rules), "high_threshold_")


def test_errors():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        SegmentRules().assign(_predictions())
    with pytest.raises(NotFittedError, match="not fitted yet"):
        SegmentRules().to_dict()
    with pytest.raises(InvalidParameterError, match="'high_share' parameter of SegmentRules"):
        SegmentRules(high_share=0).fit(_predictions())
    with pytest.raises(InvalidParameterError, match="'medium_share' parameter .* \\[0, 0.2\\]"):
        SegmentRules(high_share=0.8, medium_share=0.3).fit(_predictions())
    with pytest.raises(InvalidParameterError, match="'churn_threshold'"):
        SegmentRules(churn_threshold=1.5).fit(_predictions())
    with pytest.raises(InvalidDataError, match="missing column 'clv'"):
        SegmentRules().fit(_predictions().drop(columns="clv"))
    rules = SegmentRules().fit(_predictions())
    with pytest.raises(
        InvalidDataError, match="1 row\\(s\\) have a missing or infinite 'clv' \\(e.g. c3\\)"
    ):
        bad = _predictions()
        bad.loc["c3", "clv"] = np.nan
        rules.assign(bad)
    with pytest.raises(InvalidDataError, match="'churn_probability' outside \\[0, 1\\]"):
        rules.assign({"clv": 1.0, "churn_probability": 1.2})
    with pytest.raises(ModelLoadError, match="Not a saved SegmentRules"):
        SegmentRules.from_dict({"format": "other"})
    broken = rules.to_dict()
    del broken["thresholds"]
    with pytest.raises(ModelLoadError, match="incomplete or malformed"):
        SegmentRules.from_dict(broken)


def test_segment_summary():
    table = pd.DataFrame(
        {
            "clv": [10.0, 20.0, 1.0, 3.0, 0.0],
            "segment": [
                "high value",
                "high value",
                "low value at risk",
                "low value at risk",
                "low value",
            ],
        }
    )
    summary = segment_summary(table)
    assert summary.index.tolist() == ["high value", "low value", "low value at risk"]
    assert summary.columns.tolist() == ["count", "total_clv", "mean_clv"]
    assert summary.loc["high value"].tolist() == [2, 30.0, 15.0]
    assert summary.loc["low value at risk"].tolist() == [2, 4.0, 2.0]
    assert summary["count"].dtype == np.int64
    with pytest.raises(InvalidDataError, match="no 'segment' column"):
        segment_summary(table.drop(columns="segment"))
