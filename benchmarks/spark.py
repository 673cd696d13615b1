"""Local against Spark: the same feature definitions on a simulated log.

Run: .venv/bin/python benchmarks/spark.py [--rows 10000000]

Spark runs on this machine as ``local[2]``; it is expected to be slower here than the
embedded engine (JVM start, Arrow transfer, Python workers). The point is that the
same definitions run unchanged on a cluster, where the work scales out.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _logs import transaction_log  # noqa: E402

END = "2023-12-31"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    from clv.features import rfm_summary

    log = transaction_log(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "log.parquet")
        log.to_parquet(path, index=False)
        start = time.perf_counter()
        local = rfm_summary(log, observation_end=END, time_unit="W")
        local_s = time.perf_counter() - start

        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.memory", "6g")
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        start = time.perf_counter()
        frame = spark.read.parquet(path)
        remote = rfm_summary(frame, observation_end=END, time_unit="W")
        out = str(Path(folder) / "summary.parquet")
        remote.write.mode("overwrite").parquet(out)
        spark_s = time.perf_counter() - start
        rows = spark.read.parquet(out).count()
        spark.stop()
    print(f"log: {len(log):,} rows; customers: local {len(local):,}, spark {rows:,}")
    print(f"rfm_summary local (pandas)   {local_s:7.1f} s")
    print(f"rfm_summary spark local[2]   {spark_s:7.1f} s  (read parquet, compute, write parquet)")
    print(f"ratio spark/local            {spark_s / local_s:7.1f}x")


if __name__ == "__main__":
    main()
