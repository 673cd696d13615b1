"""Simulated transaction logs for the boosted-vs-BTYD comparisons (deterministic)."""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2020-01-01")
AS_OF = START + pd.Timedelta(days=545)  # 78 weeks after the start, minus the first day
HOLDOUT_END = AS_OF + pd.Timedelta(days=182)  # 26 weeks


def simulate(n_customers: int, *, signal: bool, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """BG/NBD customers; with ``signal`` a static segment says who fades (see below).

    Returns the transaction log and the attribute table (``customer_id``, ``segment``).
    """
    rng = np.random.default_rng(seed)
    end_day = (HOLDOUT_END - START).days
    segment = rng.random(n_customers) < 0.5
    rate = rng.gamma(1.0, 1.0 / 25.0, n_customers)  # purchases per day, mean 0.04
    dropout = rng.beta(1.0, 6.0, n_customers)
    growth = np.zeros(n_customers)
    last_acquisition = 180
    if signal:
        # A static segment sets how the purchase rate moves with age: "a" customers
        # start three times as active and fade (half-life 13 weeks), "b" customers keep
        # their rate; customers keep arriving until as_of. RFM sees neither the segment
        # nor the fading (BG/NBD assumes a constant rate while alive); the segment and
        # the trailing-window counts show both.
        rate = rate * np.where(segment, 1.0, 3.0)
        growth = np.where(segment, 0.0, -np.log(2.0) / 91.0)
        dropout = rng.beta(1.0, 12.0, n_customers)
        last_acquisition = (AS_OF - START).days
    ids, days, amounts = [], [], []
    for i in range(n_customers):
        first = float(rng.integers(0, last_acquisition))
        peak = rate[i] * max(1.0, np.exp(growth[i] * (end_day - first)))
        t = first
        alive = True
        while alive and t <= end_day:
            if t == first or rng.random() < rate[i] * np.exp(growth[i] * (t - first)) / peak:
                ids.append(i)
                days.append(int(t))
                amounts.append(float(rng.gamma(4.0, 35.0 / 4.0)))
                alive = rng.random() >= dropout[i]
            t += rng.exponential(1.0 / peak)
    log = pd.DataFrame(
        {
            "customer_id": np.array(ids),
            "timestamp": START + pd.to_timedelta(np.array(days), unit="D"),
            "amount": np.round(np.array(amounts), 2),
        }
    )
    attributes = pd.DataFrame(
        {"customer_id": np.arange(n_customers), "segment": np.where(segment, "b", "a")}
    )
    return log, attributes


def holdout_spend(log: pd.DataFrame, customers: np.ndarray, start, end) -> np.ndarray:
    """Actual total spend in (start, end] per customer, in the order of ``customers``."""
    window = log[(log["timestamp"] > start) & (log["timestamp"] <= end)]
    return (
        window.groupby("customer_id")["amount"].sum().reindex(customers, fill_value=0.0).to_numpy()
    )
