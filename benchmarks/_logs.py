"""Simulated transaction logs for the benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd


def transaction_log(n_rows: int, *, rows_per_customer: float = 5.0, seed: int = 0) -> pd.DataFrame:
    """A log of about ``n_rows`` rows over two years, with times of day."""
    rng = np.random.default_rng(seed)
    n_customers = max(1, int(n_rows / rows_per_customer))
    ids = rng.integers(0, n_customers, n_rows)
    seconds = rng.integers(0, 730 * 86_400, n_rows)
    stamps = pd.Timestamp("2022-01-01").as_unit("s") + pd.to_timedelta(seconds, unit="s")
    return pd.DataFrame(
        {
            "customer_id": ids,
            "timestamp": stamps,
            "amount": np.round(rng.gamma(2.0, 20.0, n_rows), 2),
        }
    )
