"""The decision tables, in one call: what marketing does with the scores.

:func:`decision_tables` turns a fitted transaction model, a spend model and a customer
table into the tables the report opens with and ``clv train`` logs as CSV artifacts:

``headline``
    customers, total (profit) CLV over the horizon, value at risk, new-customer value;
``segments``
    :func:`clv.models.actions.segment_actions`: name, action, rule, size, value, risk;
``new_customer``
    the value of a newly acquired customer over time
    (:func:`clv.models.acquisition.new_customer_value_curve`), the largest acquisition
    cost that pays back within the horizon and, given a cost, the payback time;
``retention``
    :func:`clv.models.retention.retention_what_if` per segment for a relative dropout
    reduction of the targeted segments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from clv.models._base import TransactionModel
from clv.models.acquisition import new_customer_value_curve, payback_time
from clv.models.actions import segment_actions
from clv.models.retention import retention_what_if
from clv.models.segments import SegmentRules
from clv.models.value import customer_lifetime_value

__all__ = ["decision_tables"]


def _step(horizon: float) -> float:
    """Return the payback grid step: whole time units, at most ~100 points."""
    return float(max(1, math.ceil(horizon / 100)))


def decision_tables(
    transaction_model: TransactionModel,
    spend_model: Any,
    customers: pd.DataFrame,
    *,
    horizon: float,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    rules: SegmentRules | None = None,
    actions: Mapping[str, Any] | None = None,
    reduction: float = 0.1,
    target: Sequence[str] = ("high value at risk", "medium value at risk"),
    acquisition_cost: float | None = None,
) -> dict[str, pd.DataFrame]:
    """Return the decision tables for a scored customer base.

    Parameters
    ----------
    transaction_model : TransactionModel
        A fitted BG/NBD, MBG/NBD, Pareto/NBD or BG/BB model.
    spend_model : GammaGammaModel or float
        Fitted spend model (or a mean spend per purchase).
    customers : pandas.DataFrame
        Customer table the models read.
    horizon : float
        Horizon of the CLV, in the model's time unit (a whole number of units).
    margin : float, default 1.0
        Share of spend that is profit (1.0: the tables are revenue).
    discount_rate : float, default 0.0
        Annual effective discount rate.
    rules : SegmentRules, optional
        Fitted segment rules; fitted on these customers when omitted.
    actions : mapping, optional
        Overrides of :data:`clv.models.actions.DEFAULT_ACTIONS`.
    reduction : float, default 0.1
        Relative dropout reduction of the retention what-if.
    target : sequence of str
        Segments whose dropout the what-if lowers (those present).
    acquisition_cost : float, optional
        Cost of acquiring a customer, for the payback time.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``headline``, ``segments``, ``new_customer``, ``retention``.
    """
    options = {"horizon": horizon, "margin": margin, "discount_rate": discount_rate}
    values = customer_lifetime_value(transaction_model, spend_model, customers, **options)
    data, _ = transaction_model._prediction_table(customers)
    params = transaction_model.params_.to_numpy()
    churn = transaction_model._probability_no_purchase(params, data, float(horizon))
    scored = pd.DataFrame(
        {"clv": values.to_numpy(), "churn_probability": churn}, index=customers.index
    )
    rules = rules if rules is not None else SegmentRules().fit(scored)
    scored["segment"] = rules.assign(scored)
    segments = segment_actions(scored, rules=rules, actions=actions)

    curve = new_customer_value_curve(transaction_model, spend_model, step=_step(horizon), **options)
    new_customer = curve.rename("cumulative_value").to_frame()
    new_value = float(curve.iloc[-1])
    payback = payback_time(curve, acquisition_cost) if acquisition_cost is not None else math.nan

    present = [s for s in target if s in set(scored["segment"])]
    what_if = retention_what_if(
        transaction_model,
        spend_model,
        customers,
        reduction=reduction,
        segments=scored["segment"],
        target=present or None,
        **options,
    )
    retention = what_if.by_segment.reindex(segments.index)

    headline = pd.Series(
        {
            "customers": len(scored),
            "total_clv": float(scored["clv"].sum()),
            "value_at_risk": float(segments["value_at_risk"].sum()),
            "horizon": float(horizon),
            "time_unit": getattr(transaction_model, "time_unit_", None),
            "margin": float(margin),
            "measure": "profit" if margin < 1 else "revenue",
            "discount_rate": float(discount_rate),
            "new_customer_value": new_value,
            "max_acquisition_cost": new_value,
            "acquisition_cost": acquisition_cost,
            "payback_time": payback,
            "retention_reduction": float(reduction),
            "retention_target": ", ".join(present) if present else "all customers",
            "retention_gain": what_if.total_gain,
        },
        name="value",
    ).to_frame()
    return {
        "headline": headline,
        "segments": segments,
        "new_customer": new_customer,
        "retention": retention,
    }
