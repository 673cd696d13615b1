"""A transaction model's expected repeat purchases per acquisition cohort and age.

Beside :func:`clv.features.cohorts.cohort_table`'s actual ``repeat_purchases``, the
model's expectation for the same cells: a customer whose first purchase was on day
``f`` is expected to make ``E[X(t_b)] - E[X(t_a)]`` repeat purchases in a period of
days ``[s, e)``, with ``t_b = (e - 1 - f) / u``, ``t_a = (s - 1 - f) / u`` (``u`` the
model's time unit in days, or the month clock of :mod:`clv.features._calendar` for
"M"; negative times read as 0) and ``E[X(t)]`` the model's new-customer curve (e.g.
Fader, Hardie & Lee 2005 eq. 9 for BG/NBD): repeat purchases on days ``s .. e - 1``,
as the RFM tables count days. Summed over the cohort's customers. This is the
tracking comparison of Fader, Hardie & Lee (2005), by cohort.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from clv.errors import InvalidParameterError
from clv.features._calendar import duration
from clv.features._contract import AMOUNT, CUSTOMER_ID, TIMESTAMP
from clv.features._options import LogOptions
from clv.features.cohorts import (
    cohort_purchases,
    period_bounds,
    period_index,
    purchases_cohort_table,
)

__all__ = ["cohort_expected_activity"]

_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": math.nan, "Y": 365.25}


def cohort_expected_activity(
    model,
    transactions: pd.DataFrame,
    *,
    period: str = "M",
    observation_end: object = None,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str | None = AMOUNT,
    merge_same_day: bool = True,
) -> pd.DataFrame:
    """Return the cohort table with the model's ``expected_repeat_purchases`` beside the actual.

    Parameters
    ----------
    model : TransactionModel
        A fitted continuous-time model (BG/NBD, MBG/NBD, Pareto/NBD) with a time unit
        ("D", "W", "M" or "Y"), typically fitted on a calibration period.
    transactions : pandas.DataFrame
        The transaction log.
    period, observation_end, customer_id, timestamp, amount, merge_same_day
        As in :func:`clv.features.cohorts.cohort_table`.

    Returns
    -------
    pandas.DataFrame
        :func:`~clv.features.cohorts.cohort_table` plus ``expected_repeat_purchases``
        (missing where the period is not wholly observed).
    """
    model._check_is_fitted()
    unit = getattr(model, "time_unit_", None)
    if getattr(model, "discrete_time", False) or unit not in _UNIT_DAYS:
        raise InvalidParameterError(
            f"cohort_expected_activity needs a continuous-time model fitted in 'D', 'W', "
            f"'M' or 'Y'; got {type(model).__name__} with time unit {unit!r}."
        )
    log = LogOptions(customer_id, timestamp, amount, merge_same_day)
    purchases, end_day = cohort_purchases(transactions, period, observation_end, log)
    table = purchases_cohort_table(purchases, end_day, period)
    first_days = purchases.drop_duplicates(CUSTOMER_ID)["first"].to_numpy()
    days, customers = np.unique(np.floor(first_days), return_counts=True)
    cohorts = period_index(days, period)
    ages = np.arange(int(table.index.get_level_values("age").max()) + 1)
    start, end = period_bounds(cohorts[:, None] + ages[None, :], period)
    bounds = np.stack([start - 1, end - 1]).astype(np.float64)
    if unit == "M":  # the month clock of clv.features._calendar
        times = duration(np.broadcast_to(days[:, None], bounds.shape[1:]), bounds, "M")
    else:
        times = (bounds - days[:, None]) / _UNIT_DAYS[unit]
    times = np.maximum(times, 0.0)
    curve = np.asarray(
        model._expected_purchases_new_customer(model.params_.to_numpy(), times.reshape(-1)),
        dtype=np.float64,
    ).reshape(times.shape)
    expected = (curve[1] - curve[0]) * customers[:, None]
    by_cell = (
        pd.DataFrame(expected, index=pd.Index(cohorts, name="cohort"), columns=ages)
        .groupby(level="cohort")
        .sum()
        .stack()
    )
    by_cell.index = by_cell.index.set_names(["cohort", "age"])
    labels = table.index
    numbers = period_index(
        labels.get_level_values("cohort")
        .start_time.to_numpy()
        .astype("datetime64[D]")
        .astype(np.int64),
        period,
    )
    values = by_cell.reindex(
        pd.MultiIndex.from_arrays([numbers, labels.get_level_values("age")])
    ).to_numpy()
    result = table.copy()
    result["expected_repeat_purchases"] = np.where(
        result["repeat_purchases"].notna().to_numpy(), values, np.nan
    )
    return result
