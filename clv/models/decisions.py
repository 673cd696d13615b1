"""The decision tables, in one call: what marketing does with the scores.

:func:`decision_tables` turns scored customers and, for the BTYD models, the fitted
models into the tables the report opens with and ``clv train`` logs as CSV artifacts:
``headline``, ``segments`` (:func:`clv.models.actions.segment_actions`),
``new_customer`` (:mod:`clv.models.acquisition`) and ``retention``
(:func:`clv.models.retention.retention_what_if`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from clv.models._transaction_model import TransactionModel
from clv.models.acquisition import new_customer_value_curve, payback_time
from clv.models.actions import segment_actions
from clv.models.retention import retention_what_if
from clv.models.segments import SegmentRules
from clv.models.value import whole_periods

__all__ = ["decision_tables"]


def _step(horizon: float) -> float:
    """Return the payback grid step: about a unit, at most ~100 points, ending on the horizon."""
    wanted = float(max(1, math.ceil(horizon / 100)))
    return horizon / max(1, math.ceil(horizon / wanted - 1e-9))


def decision_tables(
    predictions: pd.DataFrame,
    *,
    horizon: float,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    time_unit: str | None = None,
    rules: SegmentRules | None = None,
    actions: Mapping[str, Any] | None = None,
    transaction_model: TransactionModel | None = None,
    spend_model: Any = None,
    customers: pd.DataFrame | None = None,
    reduction: float = 0.1,
    target: Sequence[str] = ("high value at risk", "medium value at risk"),
    acquisition_cost: float | None = None,
) -> dict[str, pd.DataFrame]:
    """Return the decision tables for a scored customer base.

    Parameters
    ----------
    predictions : pandas.DataFrame
        One row per customer with ``clv`` (already with ``margin``) and
        ``churn_probability`` over ``horizon``; ``segment`` too when ``rules`` is not
        given.
    horizon : float
        Horizon of the CLV, in the time unit.
    margin : float, default 1.0
        Share of spend that is profit (1.0: the values are revenue).
    discount_rate : float, default 0.0
        Annual effective discount rate.
    time_unit : str, optional
        The time unit (default: the transaction model's).
    rules : SegmentRules, optional
        Fitted segment rules: assign the segments (and state their thresholds).
    actions : mapping, optional
        Overrides of :data:`clv.models.actions.DEFAULT_ACTIONS`.
    transaction_model, spend_model : optional
        The fitted BTYD transaction model and spend model behind the predictions;
        without them (boosted or baseline models) the new-customer and retention
        tables are left out.
    customers : pandas.DataFrame, optional
        The customer table the models read, in the rows of ``predictions``
        (needed with the models).
    reduction : float, default 0.1
        Relative dropout reduction of the retention what-if.
    target : sequence of str
        Segments whose dropout the what-if lowers (those present).
    acquisition_cost : float, optional
        Cost of acquiring a customer, for the payback time.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``headline`` and ``segments`` always; ``new_customer`` and ``retention`` with
        the models.
    """
    scored = predictions
    if rules is not None:
        scored = predictions.assign(segment=rules.assign(predictions))
    segments = segment_actions(scored, rules=rules, actions=actions)
    unit = time_unit or getattr(transaction_model, "time_unit_", None)
    headline: dict[str, Any] = {
        "customers": len(scored),
        "total_clv": float(scored["clv"].sum()),
        "value_at_risk": float(segments["value_at_risk"].sum()),
        "horizon": float(horizon),
        "time_unit": unit,
        "margin": float(margin),
        "measure": "profit" if margin < 1 else "revenue",
        "discount_rate": float(discount_rate),
    }
    tables = {"segments": segments}
    if transaction_model is not None and spend_model is not None and customers is not None:
        options = {"horizon": horizon, "margin": margin, "discount_rate": discount_rate}
        curve = new_customer_value_curve(
            transaction_model, spend_model, step=_step(horizon), time_unit=unit, **options
        )
        # as the candidates discount: whole periods of one unit, continuously otherwise
        if not whole_periods(horizon) and not transaction_model.discrete_time:
            options["discounting"] = "continuous"
        tables["new_customer"] = curve.rename("cumulative_value").to_frame()
        present = [s for s in target if s in set(scored["segment"])]
        what_if = retention_what_if(
            transaction_model,
            spend_model,
            customers,
            reduction=reduction,
            segments=pd.Series(scored["segment"].to_numpy(), index=customers.index),
            target=present or None,
            time_unit=unit,
            **options,
        )
        tables["retention"] = what_if.by_segment.reindex(segments.index)
        new_value = float(curve.iloc[-1])
        headline |= {
            "new_customer_value": new_value,
            "max_acquisition_cost": new_value,
            "acquisition_cost": acquisition_cost,
            "payback_time": (
                payback_time(curve, acquisition_cost) if acquisition_cost is not None else None
            ),
            "retention_reduction": float(reduction),
            "retention_target": " and ".join(present) if present else "all customers",
            "retention_gain": what_if.total_gain,
        }
    tables["headline"] = pd.Series(headline, name="value").to_frame()
    return {
        name: tables[name]
        for name in ("headline", "segments", "new_customer", "retention")
        if name in tables
    }
