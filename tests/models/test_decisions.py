"""decision_tables: the tables the report opens with, consistent with each other."""

import pytest

from clv.datasets import load_cdnow
from clv.features import rfm_summary
from clv.models import GammaGammaModel, ParetoNBDModel
from clv.models.decisions import decision_tables
from clv.models.segments import SegmentRules
from clv.models.value import customer_lifetime_value


@pytest.fixture(scope="module")
def fitted():
    customers = rfm_summary(load_cdnow(), observation_end="1998-06-30", time_unit="W")
    purchases = ParetoNBDModel().fit(customers)
    spend = GammaGammaModel().fit(customers[customers["frequency"] > 0])
    return purchases, spend, customers


def _tables(fitted, margin, **extra):
    purchases, spend, customers = fitted
    clv = customer_lifetime_value(
        purchases, spend, customers, horizon=52, discount_rate=0.1, margin=margin
    )
    churn = purchases.probability_no_purchase(customers, 52).to_numpy()
    scored = customers[[]].assign(clv=clv.to_numpy(), churn_probability=churn)
    return decision_tables(
        scored,
        rules=SegmentRules().fit(scored),
        horizon=52,
        discount_rate=0.1,
        margin=margin,
        transaction_model=purchases,
        spend_model=spend,
        customers=customers,
        **extra,
    )


def test_tables_agree_and_scale_with_margin(fitted):
    revenue = _tables(fitted, 1.0)
    profit = _tables(fitted, 0.3, acquisition_cost=20.0)
    head, segments = profit["headline"]["value"], profit["segments"]
    assert head["customers"] == len(fitted[2]) == segments["customers"].sum()
    assert head["total_clv"] == pytest.approx(segments["total_clv"].sum())
    assert head["value_at_risk"] == pytest.approx(segments["value_at_risk"].sum())
    assert head["measure"] == "profit" and revenue["headline"]["value"]["measure"] == "revenue"
    assert head["total_clv"] == pytest.approx(0.3 * revenue["headline"]["value"]["total_clv"])
    curve = profit["new_customer"]["cumulative_value"]
    assert head["new_customer_value"] == pytest.approx(curve.iloc[-1])
    assert curve.iloc[0] < 20.0 <= curve.iloc[-1]
    assert curve.loc[head["payback_time"]] >= 20.0
    assert curve[curve.index < head["payback_time"]].lt(20.0).all()
    retention = profit["retention"]
    assert head["retention_gain"] == pytest.approx(retention["gain"].sum())
    targeted = retention.index.isin(["high value at risk", "medium value at risk"])
    assert (retention.loc[targeted, "gain"] > 0).all()
    assert (retention.loc[~targeted, "gain"] == 0).all()
    # the what-if's own CLV is the CLV of the predictions
    assert retention["clv"].sum() == pytest.approx(head["total_clv"])


def test_without_models_only_segments_and_headline(fitted):
    customers = fitted[2]
    plain = customers[[]].assign(clv=1.0, churn_probability=0.2, segment="low value")
    tables = decision_tables(plain, horizon=52)
    assert set(tables) == {"headline", "segments"}
    assert tables["segments"].loc["low value", "value_at_risk"] == pytest.approx(0.2 * len(plain))


def test_a_horizon_of_a_fraction_of_units(fitted):
    # clv train's default horizon is the holdout length, e.g. 26.2857 weeks
    purchases, spend, customers = fitted
    horizon = 184 / 7
    clv = customer_lifetime_value(
        purchases, spend, customers, horizon=horizon, discounting="continuous"
    )
    churn = purchases.probability_no_purchase(customers, horizon).to_numpy()
    scored = customers[[]].assign(clv=clv.to_numpy(), churn_probability=churn)
    tables = decision_tables(
        scored,
        rules=SegmentRules().fit(scored),
        horizon=horizon,
        transaction_model=purchases,
        spend_model=spend,
        customers=customers,
    )
    curve = tables["new_customer"]["cumulative_value"]
    assert curve.index[-1] == pytest.approx(horizon)
    assert tables["retention"]["clv"].sum() == pytest.approx(clv.sum())
