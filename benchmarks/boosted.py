"""XGBoost training time of clv's boosted models, by thread count and machine load.

Run: ``.venv/bin/python benchmarks/boosted.py [n_customers] [--jobs 1,2,auto] [--busy 0,1]
[--repeat 1]``
(default 1,000,000 customers; pass fewer where 1M takes too long on a busy machine).
Fits BoostedSpendModel (tweedie and hurdle) and BoostedChurnModel (isotonic) with 300
rounds, depth 4, hist on synthetic behavioural features, for every ``n_jobs`` in
``--jobs`` and every number of busy cores in ``--busy``: that many ``while True: pass``
processes are started next to the fits and stopped by their process ids afterwards,
to show what a neighbour's job does to each thread count. ``auto`` is XGBoost's own
default, one thread per core the process may use (``os.sched_getaffinity``). Prints
fit and predict wall times, the load average, and for each thread count the ratio of
its busy-core fits to its quiet ones (the issue-14 target: at most 1.5x). Busy
process ``i`` is pinned to core ``i``. ``--repeat N`` runs the whole sequence N times
(quiet and busy interleaved, as the machine's other load drifts) and compares the
best fits of each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
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


def fits(X: pd.DataFrame, spend: np.ndarray, jobs: int) -> list[tuple[str, float, float]]:
    results = []
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
        results.append((label, fit, time.perf_counter() - start))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_customers", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--jobs", default="2", help="n_jobs values (or auto), comma-separated")
    parser.add_argument("--busy", default="0", help="busy cores to add, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the whole sequence")
    args = parser.parse_args()
    X, spend = features(args.n_customers)
    print(f"{args.n_customers:,} customers x {X.shape[1] - 1} features, 300 rounds, depth 4")
    cores = len(os.sched_getaffinity(0))
    jobs_list = [cores if v.strip() == "auto" else int(v) for v in args.jobs.split(",")]
    labels = [f"auto ({cores})" if v.strip() == "auto" else v.strip() for v in args.jobs.split(",")]
    totals: dict[tuple[str, int], float] = {}
    busy_counts = [int(value) for value in args.busy.split(",")] * args.repeat
    for busy in busy_counts:
        spinners = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    f"import os; os.sched_setaffinity(0, {{{core}}})\nwhile 1: pass",
                ]
            )
            for core in range(busy)
        ]
        try:
            time.sleep(1.0 if busy else 0.0)
            for label, jobs in zip(labels, jobs_list, strict=True):
                load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                results = fits(X, spend, jobs)
                total = sum(fit for _, fit, _ in results)
                totals[label, busy] = min(total, totals.get((label, busy), float("inf")))
                print(
                    f"busy cores +{busy}, n_jobs={label}: fits {total:6.1f} s in all; load {load}"
                )
                for label, fit, predict in results:
                    print(f"  {label:32s} fit {fit:7.1f} s   predict {predict:6.1f} s")
        finally:
            for spinner in spinners:
                spinner.kill()
                spinner.wait()
    for (label, busy), total in totals.items():
        if busy and (label, 0) in totals:
            print(
                f"n_jobs={label}: +{busy} busy core(s) {total:.1f} s vs quiet "
                f"{totals[label, 0]:.1f} s: {total / totals[label, 0]:.2f}x"
            )


if __name__ == "__main__":
    main()
