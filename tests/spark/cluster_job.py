"""The driver of tests/spark/test_spark_cluster.py: clv on a Spark standalone cluster.

Run as its own process (one SparkContext per process; the other Spark tests hold a
``local[2]`` one) with ``MASTER INPUT OUTPUT MODEL_URI TRACKING_URI AS_OF HORIZON``.
It waits for the two executors (their own JVMs, started by the workers), then writes what
the test compares with the embedded engine: ``features.parquet``
(``customer_features``), ``stats.parquet`` and ``fit.json`` (the collapsed
statistics and the BG/NBD fit on them), ``scores.parquet`` (``score_spark``, i.e.
``mlflow.pyfunc.spark_udf``) and ``udf.parquet`` (``spark_udf`` over the feature
table as it is).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _executors(spark, expected: int, timeout: float = 180.0) -> list[str]:
    """Wait until ``expected`` executors have registered; return their host:port."""
    tracker = spark.sparkContext._jsc.statusTracker()
    deadline = time.monotonic() + timeout
    while True:
        # The driver's own block manager is listed too.
        infos = [f"{info.host()}:{info.port()}" for info in tracker.getExecutorInfos()]
        if len(infos) >= expected + 1:
            return infos
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expected} executors did not register in {timeout:.0f} s")
        time.sleep(0.5)


def main(master, source, output, model_uri, tracking_uri, as_of, horizon) -> None:
    import mlflow.pyfunc
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from clv.features import customer_features
    from clv.features.spark_stats import collapsed_customer_table
    from clv.mlflow_model.signature import PREDICTION_COLUMNS
    from clv.models import BetaGeoModel
    from clv.serving.spark import score_spark

    spark = (
        SparkSession.builder.master(master)
        .appName("clv-cluster-test")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.executor.memory", "512m")
        .config("spark.executor.cores", "1")
        .config("spark.cores.max", "2")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.task.maxFailures", "1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    out = Path(output)
    try:
        executors = _executors(spark, expected=2)
        frame = spark.read.parquet(source)
        # Computed once on the executors, reused by the fit and the as-is scoring.
        features = customer_features(frame, as_of=as_of, time_unit="W").persist()
        features.toPandas().to_parquet(out / "features.parquet", index=False)

        # frequency, recency and T of customer_features are rfm_summary's
        stats = collapsed_customer_table(features, time_unit="W")
        stats.to_parquet(out / "stats.parquet", index=False)
        model = BetaGeoModel().fit(stats, sample_weight=stats["count"])
        fit = {"params": model.params_.to_dict(), "log_likelihood": model.log_likelihood_}

        scores = score_spark(
            frame,
            model_uri=model_uri,
            as_of=as_of,
            horizon=float(horizon),
            tracking_uri=tracking_uri,
        )
        scores.toPandas().to_parquet(out / "scores.parquet", index=False)

        # spark_udf over clv's feature table as it is: integer columns, every column.
        result_type = T.StructType(
            [T.StructField("customer_id", features.schema["customer_id"].dataType)]
            + [T.StructField(name, T.DoubleType()) for name in PREDICTION_COLUMNS]
            + [T.StructField("segment", T.StringType())]
        )
        mlflow.set_tracking_uri(tracking_uri)  # this job's own process: spark_udf reads it
        udf = mlflow.pyfunc.spark_udf(
            spark,
            model_uri=model_uri,
            env_manager="local",
            result_type=result_type,
            params={"horizon": float(horizon)},
        )
        as_is = features.select(udf(F.struct(*features.columns)).alias("s")).select("s.*")
        try:
            as_is.toPandas().to_parquet(out / "udf.parquet", index=False)
        except Exception as error:  # reported by its own test, not the others
            (out / "udf-error.txt").write_text(str(error)[-4000:], encoding="utf-8")
        fit["block_managers"] = executors
        fit["master"] = spark.sparkContext.master
        (out / "fit.json").write_text(json.dumps(fit), encoding="utf-8")
    finally:
        spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:8])
