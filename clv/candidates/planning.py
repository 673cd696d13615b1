"""Cutoff planning of the boosted kinds: the training horizon and the rolling origins.

The labels of the training examples cover ``training_horizon`` time units after each
cutoff; the cutoffs step back by ``cutoff_step`` from ``as_of - training_horizon`` (so
every label window ends by ``as_of``: nothing after ``as_of`` is used). Choose
``training_horizon`` equal to the prediction horizon when the history is long enough.
By default it is ``min(a year, half the history before as_of)`` in whole units (a
year: 364 days, 52 weeks or 12 calendar months), so
that there are cutoffs with some history before them (on CDNOW with 39 weeks of
calibration data: 19 weeks). When ``predict`` is asked for another horizon ``h``,
totals are extrapolated: ``boosted`` multiplies them by ``h / training_horizon``
(constant purchase rate), ``hybrid`` by BG/NBD's per-customer ratio
``E[Y(h)] / E[Y(training_horizon)]`` (which accounts for dropout); churn probabilities
become ``p ** (h / training_horizon)`` (a constant hazard). Discounting of the boosted
kinds spreads the spend evenly over the horizon
(:func:`clv.models.baseline.uniform_discount_factor`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from clv._validation import check_number
from clv.errors import InvalidDataError
from clv.features._calendar import duration, unit_day, unit_time
from clv.features._options import LogOptions

__all__ = ["plan_cutoffs"]

#: The default longest training horizon: a year (364 days, 52 weeks, 12 months).
_YEAR = {"D": 364, "W": 52, "M": 12}


def plan_cutoffs(
    transactions: pd.DataFrame,
    as_of: object,
    time_unit: str,
    *,
    owner: str,
    training_horizon: float | None,
    n_cutoffs: int,
    cutoff_step: float | None,
) -> tuple[float, list[pd.Timestamp], float]:
    """Training horizon (units) and cutoff dates, from the history before ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The canonical transaction log.
    as_of : date-like
        Last day the model may see.
    time_unit : {"D", "W", "M"}
        The time unit; horizons and steps in calendar months are measured on the
        month clock (:mod:`clv.features._calendar`).
    owner : str
        The candidate's class name, for messages.
    training_horizon, n_cutoffs, cutoff_step
        The candidate's hyperparameters (:class:`clv.candidates.BoostedCandidate`).

    Returns
    -------
    horizon : float
        Label window in time units.
    cutoffs : list of pandas.Timestamp
        The rolling origins, latest first.
    end : float
        ``as_of`` in days since 1970-01-01.

    Raises
    ------
    clv.errors.InvalidParameterError
        For a hyperparameter out of range.
    clv.errors.InvalidDataError
        If the history before ``as_of`` leaves no cutoff.
    """
    check_number("n_cutoffs", n_cutoffs, owner=owner, low=1, integer=True)
    prepared = LogOptions().prepare(transactions, require_amount=True)
    first = float(np.floor(prepared.events["t"].min()))
    end = prepared.day_of(as_of, "as_of")
    history_units = float(duration(first, end, time_unit))
    if training_horizon is None:
        horizon = float(min(_YEAR[time_unit], math.floor(history_units / 2)))
    else:
        horizon = check_number("training_horizon", training_horizon, owner=owner, low_open=True)
    last = unit_time(end, time_unit) - horizon  # as_of - horizon, on the unit's clock
    if cutoff_step is None:  # four weeks
        days = [float(unit_day(last, time_unit)) - 28.0 * k for k in range(int(n_cutoffs))]
    else:
        step = check_number("cutoff_step", cutoff_step, owner=owner, low_open=True)
        times = last - step * np.arange(int(n_cutoffs))
        days = [float(day) for day in unit_day(times, time_unit)]
    days = [np.floor(day + 1e-9) for day in days if day >= first]
    if horizon < 1 or not days:
        raise InvalidDataError(
            f"{owner}: {history_units:.1f} time units of history before as_of leave no "
            f"cutoff for a training horizon of {horizon:g}; pass a shorter "
            "training_horizon or an earlier-starting log."
        )
    return horizon, [pd.Timestamp(int(day), unit="D") for day in days], end
