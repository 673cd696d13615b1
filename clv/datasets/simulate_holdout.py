"""Simulated customers followed past the end of calibration, with their true state.

:func:`simulate_with_holdout` draws each customer's latent rates, runs the model's
purchase and drop-out process over calibration and a holdout window, and returns the
calibration summary beside what a prediction is checked against: purchases in the
holdout and whether the customer is truly alive at the end of calibration and at the
end of the holdout. It is the ground truth for calibration checks of predictive
distributions (``benchmarks/coverage.py``) and for P(alive) at a future time.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["simulate_with_holdout"]

_MODELS = ("bgnbd", "mbgnbd", "pareto_nbd", "bgbb")
_COLUMNS_PER_STEP = 64


def _arrivals(rate: np.ndarray, cap: np.ndarray, end: np.ndarray, rng) -> np.ndarray:
    """Poisson arrival times (rows) up to ``end``, at most ``cap`` per row; +inf pads."""
    times = np.zeros((len(rate), 0))
    last = np.zeros(len(rate))
    while True:
        need = (times.shape[1] < cap) & (last <= end)
        if not need.any():
            break
        gaps = rng.exponential(1.0, size=(len(rate), _COLUMNS_PER_STEP)) / rate[:, None]
        block = last[:, None] + np.cumsum(gaps, axis=1)
        times = np.concatenate([times, block], axis=1)
        last = block[:, -1]
    index = np.arange(times.shape[1])[None, :]
    return np.where((index < cap[:, None]) & (times <= end[:, None]), times, np.inf)


def simulate_with_holdout(
    model: str,
    params: Mapping[str, float],
    n_customers: int,
    *,
    T: float | np.ndarray = 39.0,
    holdout: float = 39.0,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate calibration summaries, holdout purchases and the true alive state.

    Parameters
    ----------
    model : {"bgnbd", "mbgnbd", "pareto_nbd", "bgbb"}
        The process: BG/NBD (drop-out after a purchase), MBG/NBD (also at time 0),
        Pareto/NBD (exponential lifetime) or BG/BB (discrete opportunities).
    params : mapping
        The model's parameters, named as in its ``params_``.
    n_customers : int
        Number of customers.
    T : float or numpy.ndarray, default 39.0
        Calibration length per customer (opportunities for ``"bgbb"``, an integer).
    holdout : float, default 39.0
        Length of the holdout window (opportunities for ``"bgbb"``).
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T`` (``n_periods`` for BG/BB),
        ``holdout_frequency``, ``alive_at_T``, ``alive_at_end``.
    """
    if model not in _MODELS:
        raise ValueError(f"model must be one of {_MODELS}; got {model!r}")
    rng = np.random.default_rng(random_state)
    n = int(n_customers)
    ids = np.arange(1, n + 1)
    if model == "bgbb":
        return _bgbb(params, ids, int(T), int(holdout), rng)
    T = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    end = T + holdout
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], size=n)
    if model == "pareto_nbd":
        death = rng.exponential(1.0, size=n) / rng.gamma(params["s"], 1.0 / params["beta"], size=n)
        times = _arrivals(rate, np.full(n, np.inf), np.minimum(death, end), rng)
        alive_T, alive_end = death > T, death > end
    else:
        p = rng.beta(params["a"], params["b"], size=n)
        # drops out right after purchase number `cap` (MBG/NBD: cap 0 is at time 0)
        cap = rng.geometric(p) - (1 if model == "mbgnbd" else 0)
        times = _arrivals(rate, cap.astype(np.float64), end, rng)
        kth = np.where(
            cap > 0,
            np.take_along_axis(
                np.concatenate([times, np.full((n, 1), np.inf)], axis=1),
                np.minimum(np.maximum(cap - 1, 0), times.shape[1])[:, None],
                axis=1,
            )[:, 0],
            0.0,
        )
        alive_T, alive_end = kth > T, kth > end
    in_calibration = times <= T[:, None]
    x = in_calibration.sum(axis=1)
    t_x = np.where(in_calibration, times, 0.0).max(axis=1)
    holdout_x = ((times > T[:, None]) & (times <= end[:, None])).sum(axis=1)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "frequency": x.astype(np.int64),
            "recency": t_x,
            "T": T,
            "holdout_frequency": holdout_x.astype(np.int64),
            "alive_at_T": alive_T,
            "alive_at_end": alive_end,
        }
    )


def _bgbb(params, ids, n_periods: int, holdout: int, rng) -> pd.DataFrame:
    n = len(ids)
    p = rng.beta(params["alpha"], params["beta"], size=n)
    theta = rng.beta(params["gamma"], params["delta"], size=n)
    survived = rng.geometric(theta) - 1  # opportunities reached alive
    periods = np.arange(1, n_periods + holdout + 1)
    bought = (rng.random((n, len(periods))) < p[:, None]) & (periods[None, :] <= survived[:, None])
    calibration = bought[:, :n_periods]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "frequency": calibration.sum(axis=1).astype(np.int64),
            "recency": np.where(calibration, periods[None, :n_periods], 0).max(axis=1),
            "n_periods": np.full(n, n_periods, dtype=np.int64),
            "holdout_frequency": bought[:, n_periods:].sum(axis=1).astype(np.int64),
            "alive_at_T": survived >= n_periods,
            "alive_at_end": survived >= n_periods + holdout,
        }
    )
