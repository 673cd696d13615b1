"""Feature engine benchmark: clv against lifetimes on the same simulated log.

Run: .venv/bin/python benchmarks/features.py [--rows 2000000] [--big-rows 10000000]

Prints the time of ``rfm_summary`` and ``calibration_holdout_split`` and their
ratios to lifetimes' ``summary_data_from_transaction_data`` and
``calibration_and_holdout_data`` measured in the same run, then the time and peak
memory (a child process's max RSS) of both functions on a large log.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _logs import transaction_log  # noqa: E402

CAL, HOLD = "2023-06-30", "2023-12-31"


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def compare(rows: int) -> None:
    from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

    from clv.features import calibration_holdout_split, rfm_summary

    log = transaction_log(rows)
    print(f"log: {len(log):,} rows, {log['customer_id'].nunique():,} customers")
    ours_s, table = timed(rfm_summary, log, observation_end=HOLD, time_unit="W")
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
    ours_c, _ = timed(
        calibration_holdout_split, log, calibration_end=CAL, holdout_end=HOLD, time_unit="W"
    )
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


def big(rows: int) -> None:
    from clv.features import calibration_holdout_split, rfm_summary

    log = transaction_log(rows)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    summary_s, _ = timed(rfm_summary, log, observation_end=HOLD, time_unit="W")
    split_s, _ = timed(
        calibration_holdout_split, log, calibration_end=CAL, holdout_end=HOLD, time_unit="W"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": rows,
                "summary_s": summary_s,
                "split_s": split_s,
                "log_mb": log.memory_usage(deep=True).sum() / 2**20,
                "peak_rss_mb": peak / 1024,
                "before_features_rss_mb": base / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--big-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.big_only:
        big(args.big_rows)
        return
    compare(args.rows)
    # peak memory in a fresh process, so the comparison above does not count
    out = subprocess.run(
        [sys.executable, __file__, "--big-only", "--big-rows", str(args.big_rows)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    print(
        f"{figures['rows']:,}-row log ({figures['log_mb']:.0f} MB in pandas): rfm_summary "
        f"{figures['summary_s']:.1f} s, calibration_holdout_split {figures['split_s']:.1f} s, "
        f"peak RSS {figures['peak_rss_mb']:.0f} MB (log alone {figures['before_features_rss_mb']:.0f} MB)"
    )


if __name__ == "__main__":
    main()
