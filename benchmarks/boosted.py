"""XGBoost training time of clv's boosted models: 1M customers x ~20 features.

Run: ``.venv/bin/python benchmarks/boosted.py [n_customers] [n_jobs]`` (defaults
1,000,000 and 2; pass fewer customers where 1M takes too long on a busy machine, and
n_jobs=1 where the cores are shared: XGBoost's threads wait on each other). Prints the
wall time of fitting BoostedSpendModel (tweedie and hurdle) and BoostedChurnModel
(isotonic) with 300 rounds, depth 4, hist on synthetic behavioural features.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from clv.models.boosted import BoostedChurnModel, BoostedSpendModel


def features(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    columns = {f"f{j:02d}": rng.gamma(1.0 + j % 3, 1.0, n) for j in range(19)}
    columns["segment"] = pd.Categorical(rng.choice(["a", "b", "c", "d"], n))
    frame = pd.DataFrame({"customer_id": np.arange(n), **columns})
    rate = np.exp(0.3 * np.log1p(columns["f00"]) - 0.2 * columns["f01"] + 0.1 * columns["f02"])
    purchases = rng.poisson(rate)
    spend = purchases * rng.gamma(2.0, 15.0, n)
    return frame, spend


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    X, spend = features(n)
    print(f"{n:,} customers x {X.shape[1] - 1} features, n_jobs={jobs}, 300 rounds, depth 4")
    for label, model, target in (
        (
            "BoostedSpendModel reg:tweedie",
            BoostedSpendModel(objective="reg:tweedie", n_jobs=jobs),
            spend,
        ),
        ("BoostedSpendModel hurdle", BoostedSpendModel(objective="hurdle", n_jobs=jobs), spend),
        ("BoostedChurnModel isotonic", BoostedChurnModel(n_jobs=jobs), (spend == 0).astype(int)),
    ):
        start = time.perf_counter()
        model.fit(X, target)
        fit = time.perf_counter() - start
        start = time.perf_counter()
        model.predict(X) if hasattr(model, "objective") else model.predict_proba(X)
        predict = time.perf_counter() - start
        print(f"{label:32s} fit {fit:7.1f} s   predict {predict:6.1f} s")


if __name__ == "__main__":
    main()
