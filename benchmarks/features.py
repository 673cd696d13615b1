"""Feature engine benchmark: clv against DuckDB, polars and lifetimes on the same log.

Run: .venv/bin/python benchmarks/features.py [--rows 10000000] [--repeat 3]
     [--scaling 100000,1000000,2000000] [--rounds 3] [--lifetimes-rows 1000000]

1. ``rfm_summary``, ``calibration_holdout_split`` and ``customer_features`` (its 22
   columns: trailing windows, gaps between purchases, trend, first and last spend) on
   one simulated log, against
   DuckDB and polars (dev dependencies) computing the same tables from the same
   pandas frame in the same process, runs interleaved; the best of ``--repeat`` runs
   of each, the ratio of clv's time to the faster engine (below 1: clv is faster),
   and a check that the three tables are identical (ids and counts exactly, float
   columns to the rounding of sums taken in another order).
2. The same two functions against lifetimes' ``summary_data_from_transaction_data``
   and ``calibration_and_holdout_data`` (``--lifetimes-rows 0`` skips it).
3. Scaling: each size in ``--scaling`` (customers; 5 rows per customer) in a fresh
   process, ``--rounds`` times with the sizes interleaved, the log built before the
   timed calls; the best wall time and the best user and system CPU time of both
   functions over all runs (CPU time is the steadier figure on a loaded machine: clv
   runs on one thread; system time is the kernel's first-touch page faults of fresh
   memory, see DESIGN.md), the peak working memory (the rise of peak RSS over the RSS
   with the log loaded), and the log-log slope of time against customers between
   consecutive sizes (1.0 is linear).

Load average is printed with each part: on a shared machine, read the figures with it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _logs import transaction_log  # noqa: E402

CAL, HOLD = "2023-06-30", "2023-12-31"
WEEK = 7.0
ROWS_PER_CUSTOMER = 5


def _day(date: str) -> int:
    return int(pd.Timestamp(date).value // (86_400 * 10**9))


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


# --- the same tables in DuckDB and polars ----------------------------------------

_DUCK_PURCHASES = """
WITH purchases AS (
    SELECT customer_id, day, sum(amount) AS amount
    FROM (SELECT customer_id, CAST("timestamp" AS DATE) - DATE '1970-01-01' AS day, amount
          FROM log)
    WHERE day <= {end}
    GROUP BY customer_id, day
)
"""

_DUCK_SUMMARY = (
    _DUCK_PURCHASES
    + """
SELECT customer_id,
       count(*) - 1 AS frequency,
       (max(day) - min(day)) / {unit} AS recency,
       ({end} - min(day)) / {unit} AS "T",
       CASE WHEN count(*) > 1
            THEN (sum(amount) - arg_min(amount, day)) / (count(*) - 1) ELSE 0 END
           AS monetary_value
FROM purchases GROUP BY customer_id ORDER BY customer_id
"""
)

_DUCK_SPLIT = (
    _DUCK_PURCHASES
    + """
, customers AS (
    SELECT customer_id,
           count(*) FILTER (WHERE day <= {cal}) AS n,
           min(day) AS first,
           max(day) FILTER (WHERE day <= {cal}) AS last,
           sum(amount) FILTER (WHERE day <= {cal}) AS total,
           arg_min(amount, day) AS first_amount,
           count(*) FILTER (WHERE day > {cal}) AS holdout_n,
           sum(amount) FILTER (WHERE day > {cal}) AS holdout_total
    FROM purchases GROUP BY customer_id HAVING min(day) <= {cal}
)
SELECT customer_id,
       n - 1 AS frequency,
       (last - first) / {unit} AS recency,
       ({cal} - first) / {unit} AS "T",
       CASE WHEN n > 1 THEN (total - first_amount) / (n - 1) ELSE 0 END AS monetary_value,
       holdout_n AS holdout_frequency,
       CASE WHEN holdout_n > 0 THEN holdout_total / holdout_n ELSE 0 END
           AS holdout_monetary_value,
       ({end} - {cal}) / {unit} AS holdout_duration
FROM customers ORDER BY customer_id
"""
)


def duckdb_summary(log: pd.DataFrame, end: str) -> pd.DataFrame:
    import duckdb

    with duckdb.connect() as con:
        con.register("log", log)
        return con.sql(_DUCK_SUMMARY.format(end=_day(end), unit=WEEK)).df()


def duckdb_split(log: pd.DataFrame, cal: str, end: str) -> pd.DataFrame:
    import duckdb

    with duckdb.connect() as con:
        con.register("log", log)
        return con.sql(_DUCK_SPLIT.format(cal=_day(cal), end=_day(end), unit=WEEK)).df()


def _polars_purchases(log: pd.DataFrame, end: int):
    import polars as pl

    return (
        pl.from_pandas(log)
        .lazy()
        .with_columns(day=pl.col("timestamp").cast(pl.Date).cast(pl.Int64))
        .filter(pl.col("day") <= end)
        .group_by("customer_id", "day")
        .agg(pl.col("amount").sum())
    )


def _polars_table(log: pd.DataFrame, cal_day: int, end_day: int, holdout: bool) -> pd.DataFrame:
    """The RFM columns as of ``cal_day``, from purchases up to ``end_day`` (+ holdout)."""
    import polars as pl

    before = pl.col("day") <= cal_day
    n, first, hn = pl.col("n"), pl.col("first"), pl.col("holdout_n")
    columns = {
        "frequency": n - 1,
        "recency": (pl.col("last") - first) / WEEK,
        "T": (cal_day - first) / WEEK,
        "monetary_value": pl.when(n > 1)
        .then((pl.col("total") - pl.col("first_amount")) / (n - 1))
        .otherwise(0.0),
    }
    if holdout:
        columns["holdout_frequency"] = hn
        columns["holdout_monetary_value"] = (
            pl.when(hn > 0).then(pl.col("holdout_total") / hn).otherwise(0.0)
        )
        columns["holdout_duration"] = pl.lit((end_day - cal_day) / WEEK)
    day, amount = pl.col("day"), pl.col("amount")
    sums = {  # no filter when there is no holdout: every purchase is before cal_day
        "n": (before.sum() if holdout else pl.len()).cast(pl.Int64),
        "first": day.min(),
        "last": (day.filter(before) if holdout else day).max(),
        "total": (amount.filter(before) if holdout else amount).sum(),
        "first_amount": amount.get(day.arg_min()),
    }
    if holdout:
        sums["holdout_n"] = (~before).sum().cast(pl.Int64)
        sums["holdout_total"] = amount.filter(~before).sum()
    return (
        _polars_purchases(log, end_day)
        .group_by("customer_id")
        .agg(**sums)
        .filter(first <= cal_day)
        .select("customer_id", **columns)
        .sort("customer_id")
        .collect()
        .to_pandas()
    )


def polars_summary(log: pd.DataFrame, end: str) -> pd.DataFrame:
    return _polars_table(log, _day(end), _day(end), holdout=False)


def polars_split(log: pd.DataFrame, cal: str, end: str) -> pd.DataFrame:
    return _polars_table(log, _day(cal), _day(end), holdout=True)


_WINDOWS = (28, 91, 182, 364)  # clv.features' WINDOWS_DAYS; the trend's halves are 182 days

_DUCK_FEATURES = (
    _DUCK_PURCHASES
    + """
, gaps AS (
    SELECT customer_id, day, amount,
           day - lag(day) OVER (PARTITION BY customer_id ORDER BY day) AS gap
    FROM purchases
), customers AS (
    SELECT customer_id, count(*) AS n, min(day) AS first, max(day) AS last,
           sum(amount) AS total, arg_min(amount, day) AS first_amount,
           arg_max(amount, day) AS last_amount, sum(gap * gap) AS squares, {windows}
    FROM gaps GROUP BY customer_id
)
SELECT customer_id,
       n - 1 AS frequency,
       (last - first) / {unit} AS recency,
       ({end} - first) / {unit} AS "T",
       CASE WHEN n > 1 THEN (total - first_amount) / (n - 1) ELSE 0 END AS monetary_value,
       {window_columns},
       CASE WHEN n > 1 THEN (last - first) / {unit} / (n - 1) ELSE 0 END AS ipt_mean,
       CASE WHEN n > 1 THEN sqrt(greatest(squares / ({unit} * {unit}) / (n - 1)
            - ((last - first) / {unit} / (n - 1)) ** 2, 0)) ELSE 0 END AS ipt_std,
       CASE WHEN w364 > 0 THEN (2 * w182 - w364) / w364 ELSE 0 END AS trend,
       ({end} - first) / {unit} AS tenure,
       greatest(({end} - last) / {unit}, 0) AS time_since_last,
       first_amount AS first_purchase_value,
       last_amount AS last_purchase_value,
       total AS total_spend,
       total / n AS mean_basket
FROM customers ORDER BY customer_id
"""
)


def duckdb_features(log: pd.DataFrame, end: str) -> pd.DataFrame:
    """``customer_features`` as of ``end`` (weeks): windows, gaps, trend, first/last."""
    import duckdb

    day = _day(end)
    windows = ", ".join(
        f"count(*) FILTER (WHERE day > {day - w}) AS w{w}, "
        f"coalesce(sum(amount) FILTER (WHERE day > {day - w}), 0) AS s{w}"
        for w in _WINDOWS
    )
    window_columns = ", ".join(
        [f"w{w} AS purchases_{w}d" for w in _WINDOWS] + [f"s{w} AS spend_{w}d" for w in _WINDOWS]
    )
    query = _DUCK_FEATURES.format(
        end=day, unit=WEEK, windows=windows, window_columns=window_columns
    )
    with duckdb.connect() as con:
        con.register("log", log)
        return con.sql(query).df()


def polars_features(log: pd.DataFrame, end: str) -> pd.DataFrame:
    """The same table as :func:`duckdb_features`, in polars."""
    import polars as pl

    day_end = _day(end)
    day, amount, n = pl.col("day"), pl.col("amount"), pl.col("n")
    first, last, total = pl.col("first"), pl.col("last"), pl.col("total")
    sums = {
        "n": pl.len().cast(pl.Int64),
        "first": day.min(),
        "last": day.max(),
        "total": amount.sum(),
        "first_amount": amount.get(day.arg_min()),
        "last_amount": amount.get(day.arg_max()),
        "squares": (pl.col("gap") ** 2).sum(),
    }
    for w in _WINDOWS:
        sums[f"w{w}"] = (day > day_end - w).sum().cast(pl.Int64)
        sums[f"s{w}"] = amount.filter(day > day_end - w).sum()
    ipt_mean = pl.when(n > 1).then((last - first) / WEEK / (n - 1)).otherwise(0.0)
    variance = pl.col("squares") / (WEEK * WEEK) / (n - 1) - ipt_mean**2
    w364, w182 = pl.col("w364"), pl.col("w182")
    columns = {
        "frequency": n - 1,
        "recency": (last - first) / WEEK,
        "T": (day_end - first) / WEEK,
        "monetary_value": pl.when(n > 1)
        .then((total - pl.col("first_amount")) / (n - 1))
        .otherwise(0.0),
        **{f"purchases_{w}d": pl.col(f"w{w}") for w in _WINDOWS},
        **{f"spend_{w}d": pl.col(f"s{w}") for w in _WINDOWS},
        "ipt_mean": ipt_mean,
        "ipt_std": pl.when(n > 1).then(variance.clip(lower_bound=0.0).sqrt()).otherwise(0.0),
        "trend": pl.when(w364 > 0).then((2 * w182 - w364) / w364).otherwise(0.0),
        "tenure": (day_end - first) / WEEK,
        "time_since_last": ((day_end - last) / WEEK).clip(lower_bound=0.0),
        "first_purchase_value": pl.col("first_amount"),
        "last_purchase_value": pl.col("last_amount"),
        "total_spend": total,
        "mean_basket": total / n,
    }
    return (
        _polars_purchases(log, day_end)
        .sort("customer_id", "day")
        .with_columns(gap=day.diff().over("customer_id"))
        .group_by("customer_id")
        .agg(**sums)
        .select("customer_id", **columns)
        .sort("customer_id")
        .collect()
        .to_pandas()
    )


def clv_features(log: pd.DataFrame, end: str) -> pd.DataFrame:
    from clv.features.behaviour import customer_features

    return customer_features(log, as_of=end, time_unit="W")


def clv_summary(log: pd.DataFrame, end: str) -> pd.DataFrame:
    from clv.features import rfm_summary

    return rfm_summary(log, observation_end=end, time_unit="W")


def clv_split(log: pd.DataFrame, cal: str, end: str) -> pd.DataFrame:
    from clv.features import calibration_holdout_split

    return calibration_holdout_split(log, calibration_end=cal, holdout_end=end, time_unit="W")


def compare_tables(ours: pd.DataFrame, theirs: pd.DataFrame) -> float:
    """Raise unless the tables hold the same rows; return the largest relative float gap.

    Ids and counts must be equal; float columns may differ by the rounding of sums
    taken in another order (at most 1e-9 relative; ``ipt_std`` 1e-5 on the scale of
    max(|x|, 1): the queries here take the square root of a difference of such sums).
    """
    if list(ours.columns) != list(theirs.columns) or len(ours) != len(theirs):
        raise AssertionError(f"different shapes: {list(ours.columns)} vs {list(theirs.columns)}")
    worst = 0.0
    for name in ours.columns:
        a, b = ours[name].to_numpy(), theirs[name].to_numpy()
        if name == "customer_id" or np.issubdtype(a.dtype, np.integer):
            if not np.array_equal(a, b.astype(a.dtype)):
                raise AssertionError(f"column {name} differs")
            continue
        # the DuckDB and polars queries take a standard deviation as the square root of
        # E[x^2] - E[x]^2 (up to 1.4e-6 where it is 0; clv's is within 4e-12 of a
        # two-pass std on 1M rows): 1e-5 on the scale of max(|x|, 1)
        std = name == "ipt_std"
        gap = np.abs(a - b) / np.maximum(np.abs(a), 1.0 if std else 1e-300)
        gap = float(np.max(gap, initial=0.0, where=a != b))
        if std and gap <= 1e-5:
            continue
        if gap > 1e-9:
            raise AssertionError(f"column {name} differs by {gap:.2e} (relative)")
        worst = max(worst, gap)
    return worst


def engines(rows: int, repeat: int) -> None:
    import duckdb
    import polars as pl

    import clv.features  # noqa: F401  (imported before timing)

    log = transaction_log(rows)
    print(
        f"log: {len(log):,} rows, {log['customer_id'].nunique():,} customers; "
        f"DuckDB {duckdb.__version__}, polars {pl.__version__} (their default threads: "
        f"{os.cpu_count()} cores), clv one thread; best of {repeat} interleaved runs"
    )
    print(f"  start: {_load()}")
    tasks = {
        "rfm_summary": (
            (log, HOLD),
            {"clv": clv_summary, "DuckDB": duckdb_summary, "polars": polars_summary},
        ),
        "calibration_holdout_split": (
            (log, CAL, HOLD),
            {"clv": clv_split, "DuckDB": duckdb_split, "polars": polars_split},
        ),
        "customer_features": (
            (log, HOLD),
            {"clv": clv_features, "DuckDB": duckdb_features, "polars": polars_features},
        ),
    }
    for task, (args, runners) in tasks.items():
        times: dict[str, list[float]] = {name: [] for name in runners}
        tables = {}
        for _ in range(repeat):
            for name, runner in runners.items():
                seconds, tables[name] = timed(runner, *args)
                times[name].append(seconds)
        gaps = [compare_tables(tables["clv"], tables[name]) for name in ("DuckDB", "polars")]
        best = {name: min(values) for name, values in times.items()}
        faster = min(("DuckDB", "polars"), key=best.get)
        runs = "  ".join(
            f"{name} {' '.join(f'{s:.2f}' for s in values)}" for name, values in times.items()
        )
        print(
            f"{task:26s} clv {best['clv']:6.2f} s  DuckDB {best['DuckDB']:6.2f} s  "
            f"polars {best['polars']:6.2f} s  clv / {faster} {best['clv'] / best[faster]:.2f}x  "
            f"tables identical (floats within {max(gaps):.1e})"
        )
        print(f"  every run (s): {runs}; {_load()}")


def lifetimes_compare(rows: int) -> None:
    from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

    log = transaction_log(rows)
    print(f"lifetimes, log of {len(log):,} rows; {_load()}")
    ours_s, _ = timed(clv_summary, log, HOLD)
    theirs_s, _ = timed(
        summary_data_from_transaction_data,
        log,
        "customer_id",
        "timestamp",
        monetary_value_col="amount",
        observation_period_end=HOLD,
        freq="D",
        freq_multiplier=7,
    )
    print(
        f"rfm_summary               clv {ours_s:7.2f} s  lifetimes {theirs_s:7.2f} s  "
        f"ratio {theirs_s / ours_s:5.1f}x faster"
    )
    ours_c, _ = timed(clv_split, log, CAL, HOLD)
    theirs_c, _ = timed(
        calibration_and_holdout_data,
        log,
        "customer_id",
        "timestamp",
        calibration_period_end=CAL,
        observation_period_end=HOLD,
        freq="D",
        freq_multiplier=7,
        monetary_value_col="amount",
    )
    print(
        f"calibration_holdout_split clv {ours_c:7.2f} s  lifetimes {theirs_c:7.2f} s  "
        f"ratio {theirs_c / ours_c:5.1f}x faster"
    )


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def one_size(customers: int, repeat: int) -> dict:
    """Time and peak working memory of both functions on one log (run in a fresh process)."""
    import clv.features  # noqa: F401  (imported before timing)

    log = transaction_log(customers * ROWS_PER_CUSTOMER)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
    base = _rss_kb("VmRSS")
    runs = {"summary": (clv_summary, (log, HOLD)), "split": (clv_split, (log, CAL, HOLD))}
    size = {"customers": customers, "rows": len(log)}
    for _ in range(repeat):
        for name, (function, args) in runs.items():
            before = resource.getrusage(resource.RUSAGE_SELF)
            seconds = timed(function, *args)[0]
            after = resource.getrusage(resource.RUSAGE_SELF)
            figures = {
                "s": seconds,
                "user": after.ru_utime - before.ru_utime,
                "sys": after.ru_stime - before.ru_stime,
                "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            }
            for key, value in figures.items():
                size[f"{name}_{key}"] = min(value, size.get(f"{name}_{key}", math.inf))
    size["log_mb"] = log.memory_usage(deep=True).sum() / 2**20
    size["working_mb"] = (_rss_kb("VmHWM") - base) / 1024
    return size


def scaling(sizes: list[int], repeat: int, rounds: int) -> None:
    print(
        f"scaling ({ROWS_PER_CUSTOMER} rows per customer, fresh process each, {rounds} rounds "
        f"of interleaved sizes, best of {rounds} x {repeat} runs); {_load()}"
    )
    best: dict[int, dict] = {}
    for _ in range(rounds):
        for customers in sizes:
            command = [__file__, "--one-size", str(customers), "--repeat", str(repeat)]
            out = subprocess.run(
                [sys.executable, *command], check=True, capture_output=True, text=True
            ).stdout
            size = json.loads(out.strip().splitlines()[-1])
            kept = best.setdefault(customers, size)
            for key, value in size.items():
                kept[key] = min(kept[key], value) if key.endswith(_TIMES) else value
    previous = None
    for customers in sizes:
        size = best[customers]
        slopes = ""
        if previous is not None:
            step = math.log(size["customers"] / previous["customers"])
            slopes = "; log-log slope (wall, user CPU, user+system CPU) " + "; ".join(
                f"{name} "
                + ", ".join(
                    f"{math.log(size[f'{name}_{k}'] / previous[f'{name}_{k}']) / step:.2f}"
                    for k in ("s", "user", "cpu")
                )
                for name in ("summary", "split")
            )
        print(
            f"{size['customers']:>10,} customers {size['rows']:>11,} rows: "
            + ", ".join(
                f"{label} {size[f'{name}_s']:5.2f} s (CPU {size[f'{name}_user']:.2f} user "
                f"+ {size[f'{name}_sys']:.2f} system)"
                for name, label in (("summary", "rfm_summary"), ("split", "split"))
            )
            + f", peak working memory {size['working_mb']:4.0f} MB over the log's "
            f"{size['log_mb']:.0f} MB{slopes}"
        )
        previous = size
    print(f"  {_load()}")


_TIMES = ("_s", "_user", "_sys", "_cpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lifetimes-rows", type=int, default=1_000_000)
    parser.add_argument("--scaling", default="100000,1000000,2000000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_size:
        print(json.dumps(one_size(args.one_size, args.repeat)))
        return
    if args.rows:
        engines(args.rows, args.repeat)
    if args.lifetimes_rows:
        lifetimes_compare(args.lifetimes_rows)
    if args.scaling:
        scaling([int(s) for s in args.scaling.split(",")], args.repeat, args.rounds)


if __name__ == "__main__":
    main()
