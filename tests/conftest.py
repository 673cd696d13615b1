import numpy as np
import pandas as pd
import pytest

from clv.datasets import load_cdnow


@pytest.fixture(scope="session", autouse=True)
def _no_model_cache():
    """Every `clv score` resolves its model afresh (tests/serving/test_model_cache.py turns
    the cache of clv.serving.model_cache on)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLV_MODEL_CACHE", "off")
        yield


@pytest.fixture(scope="session")
def cdnow():
    return load_cdnow()


def simulated_log(n_customers: int = 300, seed: int = 0) -> pd.DataFrame:
    """A random transaction log with times of day, same-day repeats and odd ids."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 12, n_customers)
    ids = np.repeat(np.array([f"c{i:04d}" for i in range(n_customers)]), sizes)
    start = pd.Timestamp("2020-01-01")
    days = rng.integers(0, 400, ids.size)
    seconds = rng.integers(0, 86_400, ids.size)
    stamps = start + pd.to_timedelta(days, unit="D") + pd.to_timedelta(seconds, unit="s")
    amounts = np.round(rng.gamma(2.0, 20.0, ids.size), 2)
    order = rng.permutation(ids.size)
    return pd.DataFrame(
        {"customer_id": ids[order], "timestamp": stamps[order], "amount": amounts[order]}
    ).reset_index(drop=True)
