"""XGBoost's learning API against its scikit-learn wrapper, as clv's boosted models train.

Run: ``.venv/bin/python benchmarks/xgboost_api.py [--rows 20000] [--rounds 300]
[--repeat 3]``. Fits the same Tweedie booster (hist, depth 4, one thread) with a
per-row ``base_margin`` offset and ``sample_weight`` twice: through ``xgboost.train`` on
a ``DMatrix`` (what ``clv.models._boosted_base`` did before) and through
``xgboost.XGBRegressor.fit`` (what it does now), interleaved. Prints the largest
relative difference of the predictions and the ratio of the best CPU times (issue 13
asked whether the scikit-learn estimators give equal results).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import xgboost as xgb

PARAMS = dict(max_depth=4, min_child_weight=1.0, subsample=0.8, colsample_bytree=0.8)


def learning_api(X, y, w, m, mean, rounds):
    """Fit and predict through ``xgboost.train``."""
    params = dict(PARAMS, objective="reg:tweedie", eta=0.05, tree_method="hist")
    params.update({"lambda": 1.0, "seed": 0, "nthread": 1, "base_score": mean})
    train = xgb.DMatrix(X, label=y, weight=w, base_margin=m, nthread=1)
    booster = xgb.train(params, train, num_boost_round=rounds)
    return booster.predict(xgb.DMatrix(X, base_margin=m, nthread=1))


def sklearn_api(X, y, w, m, mean, rounds):
    """Fit and predict through ``xgboost.XGBRegressor``."""
    model = xgb.XGBRegressor(
        **PARAMS,
        n_estimators=rounds,
        learning_rate=0.05,
        reg_lambda=1.0,
        tree_method="hist",
        random_state=0,
        n_jobs=1,
        objective="reg:tweedie",
        base_score=mean,
    )
    model.fit(X, y, sample_weight=w, base_margin=m)
    return model.predict(X, base_margin=m)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(args.rows, 20)), columns=[f"f{i}" for i in range(20)])
    y = np.exp(0.3 * X["f0"] + rng.normal(size=args.rows) * 0.5) * (rng.random(args.rows) < 0.6)
    w = rng.uniform(0.5, 2.0, args.rows)
    m = np.log(rng.uniform(0.5, 3.0, args.rows))
    mean = float(np.average(y, weights=w))
    best: dict[str, tuple[float, np.ndarray]] = {}
    for _ in range(args.repeat):
        for name, fit in (("xgboost.train", learning_api), ("XGBRegressor", sklearn_api)):
            start = time.process_time()
            predictions = fit(X, y, w, m, mean, args.rounds)
            seconds = time.process_time() - start
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, predictions)
    (a, pa), (b, pb) = best["xgboost.train"], best["XGBRegressor"]
    difference = np.max(np.abs(pa - pb) / np.maximum(np.abs(pa), 1e-12))
    print(f"xgboost {xgb.__version__}, {args.rows:,} rows, {args.rounds} rounds, 1 thread")
    print(f"largest relative difference of the predictions: {difference:.2e}")
    print(f"best CPU of {args.repeat}: xgboost.train {a:.2f} s, XGBRegressor {b:.2f} s")
    print(f"XGBRegressor / xgboost.train: {b / a:.2f}x")


if __name__ == "__main__":
    main()
