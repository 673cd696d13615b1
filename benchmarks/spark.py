"""Local against Spark: the same feature definitions and the same model on a simulated log.

Run: .venv/bin/python benchmarks/spark.py [--rows 10000000]

Times, for one simulated log (written to parquet first, not timed):

* ``rfm_summary`` and ``customer_features``: the embedded engine on the pandas log,
  then Spark reading the parquet file, computing per customer bucket and writing
  parquet;
* scoring every customer with a registered model (BG/NBD trained by
  ``clv.training.train`` on a 200k-row log like it, in a temporary SQLite store):
  ``clv.serving.batch.score_file`` (streams customer buckets of 500k) against
  ``clv.serving.spark.score_file`` (features on Spark, the model through
  ``mlflow.pyfunc.spark_udf``, one parquet file written).

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
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _logs import transaction_log  # noqa: E402

END = "2023-12-31"
HORIZON = 26


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def _train(folder: Path) -> str:
    from clv.training.train import train

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    from clv.datasets import load_cdnow

    # The simulated log has no signal for the selection guards; the model's
    # parameters do not change the cost of scoring.
    train(
        load_cdnow(),
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
        time_unit="W",
        tracking_uri=uri,
        kinds=["bg_nbd"],
    )
    return uri


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=8, help="Spark shuffle partitions")
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    warnings.filterwarnings("ignore", category=FutureWarning)  # pyspark on pandas 3
    from pyspark.sql import SparkSession

    from clv.features import customer_features, rfm_summary
    from clv.serving import batch
    from clv.serving import spark as spark_scoring

    log = transaction_log(args.rows)
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        path = str(folder / "log.parquet")
        log.to_parquet(path, index=False)
        uri = _train(folder)
        model = "models:/clv@champion"

        local_rfm, rfm_local_s = _timed(rfm_summary, log, observation_end=END, time_unit="W")
        local_features, features_local_s = _timed(customer_features, log, as_of=END, time_unit="W")
        del log
        _, score_local_s = _timed(
            batch.score_file,
            path,
            model_uri=model,
            as_of=END,
            horizon=HORIZON,
            output=folder / "local-scores.parquet",
            tracking_uri=uri,
        )

        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.memory", "6g")
            .config("spark.sql.shuffle.partitions", str(args.partitions))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")

        def spark_rfm() -> None:
            table = rfm_summary(spark.read.parquet(path), observation_end=END, time_unit="W")
            table.write.mode("overwrite").parquet(str(folder / "rfm"))

        def spark_features() -> None:
            table = customer_features(spark.read.parquet(path), as_of=END, time_unit="W")
            table.write.mode("overwrite").parquet(str(folder / "features"))

        # Warm up (JVM code paths, Python workers) on 1,000 rows, untimed.
        rfm_summary(spark.read.parquet(path).limit(1000), observation_end=END).count()
        _, rfm_spark_s = _timed(spark_rfm)
        _, features_spark_s = _timed(spark_features)
        _, score_spark_s = _timed(
            spark_scoring.score_file,
            path,
            model_uri=model,
            as_of=END,
            horizon=HORIZON,
            output=folder / "spark-scores.parquet",
            tracking_uri=uri,
        )
        counts = [
            spark.read.parquet(str(folder / name)).count()
            for name in ("rfm", "features", "spark-scores.parquet")
        ]
        spark.stop()
        import pandas as pd

        scored_local = len(pd.read_parquet(folder / "local-scores.parquet", columns=["clv"]))
    rows = [
        ("rfm_summary", rfm_local_s, rfm_spark_s),
        ("customer_features", features_local_s, features_spark_s),
        ("score_file (features + model)", score_local_s, score_spark_s),
    ]
    print(
        f"log: {args.rows:,} rows; customers: local {len(local_rfm):,} / "
        f"{len(local_features):,} / {scored_local:,}, spark {counts[0]:,} / {counts[1]:,} / "
        f"{counts[2]:,} (rfm / features / scores)"
    )
    print(f"spark: local[2], {args.partitions} shuffle partitions; model: BG/NBD, horizon 26 W")
    print(f"{'step':32s} {'local (pandas)':>15s} {'spark local[2]':>15s} {'spark/local':>12s}")
    for name, local_s, spark_s in rows:
        print(f"{name:32s} {local_s:13.1f} s {spark_s:13.1f} s {spark_s / local_s:11.1f}x")
    print("spark times include reading the parquet log and writing parquet output")


if __name__ == "__main__":
    main()
