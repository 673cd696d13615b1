"""The Spark session ``clv score --engine spark`` runs in, and Spark failures as one line.

A session clv starts itself runs its Python workers with :data:`sys.executable`
unless ``PYSPARK_PYTHON`` (or ``spark.pyspark.python``) says otherwise: PySpark's
default, the first ``python3`` on ``PATH``, is a Python without clv when
``.venv/bin/clv`` runs from cron. :func:`spark_error` turns a failure of Spark into
one line (:class:`~clv.errors.SparkError`), or the clv error a task raised.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from clv.errors import CLVError, SparkError

__all__ = ["spark_error", "spark_session"]

# Lines of a JVM or Python stack trace, and Spark's wrappers around the real cause.
_NOISE = re.compile(
    r"^(at |\.\.\. \d+ more|File \"|Traceback \(most recent call last\)|JVM stacktrace:"
    r"|\^+$|~+$|Driver stacktrace:|An error occurred while calling)"
)
_WRAPPERS = re.compile(
    r"(Job aborted due to stage failure|An exception was thrown from the Python worker"
    r"|Exception thrown in awaitResult|Python worker exited unexpectedly)",
)
_EXCEPTION = re.compile(r"(?:\b[a-z_$][\w$]*\.)*\b([A-Z][\w$]*(?:Error|Exception|Exit)): ")
_MAX = 300


def spark_session() -> Any:
    """Return the active Spark session, or start a local one.

    Under ``spark-submit`` or on Databricks the session (master, partitions, Python,
    logs) is the job's. Started by clv itself (``clv score --engine spark`` on one
    machine) it is ``local[*]`` with two shuffle partitions per core (Spark's 200
    cost more than the work on a few cores), only fatal log lines (a failure reaches
    the caller as one clv error) and Python workers running :data:`sys.executable`
    unless ``PYSPARK_PYTHON`` is set.

    Returns
    -------
    pyspark.sql.SparkSession
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("clv score").config(
        "spark.ui.showConsoleProgress", "false"
    )
    standalone = "PYSPARK_GATEWAY_PORT" not in os.environ  # not launched by spark-submit
    if standalone:
        cores = os.cpu_count() or 1
        builder = (
            builder.master("local[*]")
            .config("spark.sql.shuffle.partitions", str(2 * cores))
            .config("spark.log.level", "FATAL")
        )
    session = builder.getOrCreate()
    context = session.sparkContext
    if standalone:
        context.setLogLevel("FATAL")
        chosen = os.environ.get("PYSPARK_PYTHON") or context.getConf().get(
            "spark.pyspark.python", None
        )
        # PySpark reads PYSPARK_PYTHON once, when the context starts ("python3" if unset).
        context.pythonExec = chosen or sys.executable
    return session


def _summary(text: str) -> str:
    """Return the line of a Spark failure that says what went wrong."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not _NOISE.match(line)]
    if not lines:
        return ""
    # Every "SomeError: message" in the text, a JVM wrapper's message cut where the
    # exception it wraps starts.
    found: list[tuple[str, str]] = []
    for line in lines:
        marks = list(_EXCEPTION.finditer(line))
        for mark, following in zip(marks, [*marks[1:], None][: len(marks)], strict=True):
            stop = following.start() if following is not None else len(line)
            message = line[mark.end() : stop].strip().rstrip(":").strip()
            if message and not _WRAPPERS.search(message):
                found.append((mark.group(1), message))
    if not found:
        plain = [line for line in lines if not _WRAPPERS.search(line)]
        return (plain or lines)[0]
    # The innermost cause (the Python worker's error ends its traceback; the JVM's
    # root cause comes last), or a wrapper of it that repeats it and says more.
    name, message = found[-1]
    for outer_name, outer_message in reversed(found[:-1]):
        if message in outer_message:
            name, message = outer_name, outer_message
    return f"{name}: {message}"


def spark_error(error: BaseException) -> CLVError | None:
    """Translate a Spark failure into a clv error with one readable line.

    Parameters
    ----------
    error : BaseException
        An exception raised while starting Spark or running a Spark action.

    Returns
    -------
    clv.errors.CLVError or None
        The clv error a task raised (same class and message), else a
        :class:`~clv.errors.SparkError` naming the cause; None if ``error`` does not
        come from Spark (it should then propagate as it is).
    """
    from clv.features._engines import clv_error_from_spark

    module = type(error).__module__
    if not (module.startswith("pyspark") or module.startswith("py4j")):
        return None
    recovered = clv_error_from_spark(error)
    if recovered is not None:
        return recovered
    line = _summary(str(error)) or type(error).__name__
    if len(line) > _MAX:
        line = line[: _MAX - 3] + "..."
    return SparkError(f"Spark failed: {line} (clv --debug shows the full trace)")
