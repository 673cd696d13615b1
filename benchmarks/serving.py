"""Serving speed: endpoint latency and throughput, and batch scoring of a large log.

    .venv/bin/python benchmarks/serving.py [--customers 10000000] [--skip-batch] [--skip-endpoint]
        [--threads 2,4] [--seconds 10] [--kind bg_nbd] [--baseline DIR] [--repeat 1]

Endpoint: trains BG/NBD on CDNOW into a temporary SQLite store (or uses
--model-uri/--tracking-uri), starts a real `clv serve` on 127.0.0.1, and measures
from this process with http.client over keep-alive connections: p50/p99 latency of
sequential 1-row and 1000-row requests, and requests/s of 1-row requests from a
pool of client threads (each with its own connection), with 1 and 2 uvicorn
workers. The clients run on the same machine as the server and share its CPUs:
each throughput line says how much CPU the server processes and this client used
(from /proc and process_time) and the load average, since other work on the
machine changes the figures.

Batch: simulates a transaction log of --customers customers (about 2.5
transactions each, ordered by time, as parquet), then runs `clv score` on it in a
subprocess and prints its wall time, CPU time (os.wait4) and peak resident memory
(its VmHWM).
``--customers 800000`` makes a log of 2.0M rows. With ``--baseline DIR`` (the
source tree of an earlier clv, e.g. ``git worktree add --detach /tmp/base
<commit>``), the same `clv score` also runs with ``PYTHONPATH=DIR``, the two
interleaved ``--repeat`` times on the same log and model; the best wall time of
each and their ratio are printed (the machine is shared: read the ratio, measured
in one run, rather than either time). ``--kind`` picks the candidate trained on
CDNOW (``pareto_nbd`` exercises the slowest predictions). This tree's runs share a model
cache (:mod:`clv.serving.model_cache`) in the run's folder: its first run resolves the
model in the store (cold), the later ones reuse it (warm); both ratios are printed
(``--no-model-cache`` resolves every time).

Targets (issue 6): single-row p99 < 50 ms; >= 200 requests/s with 2 workers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _train(folder: Path, kind: str = "bg_nbd") -> tuple[str, str]:
    from clv.datasets import load_cdnow
    from clv.training.train import train

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    train(
        load_cdnow(),
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
        time_unit="W",
        tracking_uri=uri,
        kinds=[kind],
    )
    return "models:/clv@champion", uri


def _train_with(source: Path, folder: Path, kind: str) -> str:
    """Train ``kind`` with the clv of ``source`` (another tree) into its own store."""
    folder.mkdir()
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
        f"from pathlib import Path; from serving import _train; "
        f"_train(Path({str(folder)!r}), {kind!r})"
    )
    environment = {**os.environ, "PYTHONPATH": str(source)}
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=source, env=environment, capture_output=True
    )
    return f"sqlite:///{folder / 'mlflow.db'}"


def _start(
    model_uri: str, tracking_uri: str, workers: int, log: Path
) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    command = [sys.executable, "-m", "clv.cli", "serve", "--model-uri", model_uri]
    command += ["--port", str(port), "--workers", str(workers), "--tracking-uri", tracking_uri]
    handle = open(log, "wb")  # noqa: SIM115 - kept open for the server's lifetime
    process = subprocess.Popen(
        command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"clv serve exited:\n{log.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.25)
    raise SystemExit("clv serve did not start")


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _post(connection: http.client.HTTPConnection, body: bytes) -> float:
    started = time.perf_counter()
    connection.request(
        "POST", "/invocations", body=body, headers={"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"request failed with {response.status}")
    return elapsed


def _latency(port: int, body: bytes, count: int) -> tuple[float, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(10):
        _post(connection, body)
    times = np.array([_post(connection, body) for _ in range(count)])
    connection.close()
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


def _group_cpu_seconds(group: int) -> float:
    """CPU seconds (user + system) used so far by the processes of a process group."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _throughput(port: int, body: bytes, threads: int, seconds: float, group: int) -> str:
    """Requests/s from ``threads`` keep-alive clients, and who used the CPUs meanwhile."""
    stop = time.perf_counter() + seconds
    counts = [0] * threads

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.perf_counter() < stop:
            _post(connection, body)
            counts[index] += 1
        connection.close()

    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    server_before = _group_cpu_seconds(group)
    client_before = time.process_time()
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    client_share = (time.process_time() - client_before) / elapsed
    server_share = (_group_cpu_seconds(group) - server_before) / elapsed
    rate = sum(counts) / elapsed
    return (
        f"{rate:7.1f} requests/s  ({threads} client threads, {seconds:g} s; CPU used: server "
        f"{server_share * 100:.0f}%, client {client_share * 100:.0f}% of one CPU; "
        f"load average {_load()})"
    )


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _bodies() -> tuple[bytes, bytes]:
    from clv.datasets import load_cdnow
    from clv.features.behaviour import customer_features

    features = customer_features(load_cdnow(), as_of="1998-06-30", time_unit="W")

    def body(rows: pd.DataFrame) -> bytes:
        split = json.loads(rows.to_json(orient="split", index=False))
        return json.dumps({"dataframe_split": split}).encode()

    return body(features.iloc[[7]]), body(features.iloc[:1000])


def endpoint(
    model_uri: str, tracking_uri: str, folder: Path, seconds: float, threads: list[int]
) -> None:
    one, thousand = _bodies()
    for workers in (1, 2):
        process, port = _start(model_uri, tracking_uri, workers, folder / f"serve-{workers}.log")
        try:
            print(f"workers={workers}  load average before: {_load()}")
            p50, p99 = _latency(port, one, 1000)
            print(
                f"workers={workers}  1-row requests     p50 {p50:6.2f} ms   p99 {p99:6.2f} ms  (n=1000, sequential)"
            )
            p50, p99 = _latency(port, thousand, 100)
            print(
                f"workers={workers}  1000-row requests  p50 {p50:6.2f} ms   p99 {p99:6.2f} ms  (n=100, sequential)"
            )
            for count in threads:
                result = _throughput(port, one, count, seconds, process.pid)
                print(f"workers={workers}  1-row throughput {result}")
        finally:
            _stop(process)


def _simulate(path: Path, customers: int, seed: int = 0, block: int = 1_000_000) -> int:
    """Write a time-ordered log of ``customers`` customers; return its number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    start = np.datetime64("2020-01-01", "s")
    writer = None
    rows = 0
    for first in range(0, customers, block):
        size = min(block, customers - first)
        ids = np.arange(first + 1, first + size + 1, dtype=np.int64)
        counts = 1 + rng.poisson(1.5, size)
        owner = np.repeat(ids, counts)
        birth = np.repeat(rng.uniform(0, 365, size), counts)
        later = rng.uniform(0, 1, owner.size) * (730 - birth)
        is_first = np.r_[True, owner[1:] != owner[:-1]]
        days = birth + np.where(is_first, 0.0, later)
        stamps = start + (days * 86_400).astype("timedelta64[s]")
        amounts = np.round(rng.gamma(2.0, 20.0, owner.size), 2)
        order = np.argsort(stamps, kind="stable")
        table = pa.table(
            {"customer_id": owner[order], "timestamp": stamps[order], "amount": amounts[order]}
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        rows += owner.size
    writer.close()
    return rows


# ru_maxrss survives fork and exec, so a child forked from this process (which holds
# the simulated log) would report this process's memory as its peak: the scoring
# process writes its own peak (VmHWM, reset by exec) as it exits.
_REPORT_PEAK = (
    "import atexit, runpy, sys\n"
    "report = sys.argv.pop(1)\n"
    "def peak():\n"
    "    with open('/proc/self/status') as status, open(report, 'w') as out:\n"
    "        out.write(next(x.split()[1] for x in status if x.startswith('VmHWM:')))\n"
    "atexit.register(peak)\n"
    "runpy.run_module('clv.cli', run_name='__main__', alter_sys=True)\n"
)


def _score(arguments: list[str], source: Path, cache: str) -> tuple[float, float, int, str]:
    """Run `clv ARGUMENTS` with clv imported from ``source``: wall s, CPU s, peak RSS KB, stdout."""
    environment = {**os.environ, "PYTHONPATH": str(source), "CLV_MODEL_CACHE": cache}
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "peak"
        command = [sys.executable, "-c", _REPORT_PEAK, str(report), *arguments]
        started = time.perf_counter()
        process = subprocess.Popen(  # `python -c` puts the working folder first on sys.path
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment, cwd=source
        )
        stdout = process.stdout.read().decode() if process.stdout else ""
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"clv score ({source}) failed:\n{stdout}\n{' '.join(command)}")
        peak = int(report.read_text())
    return elapsed, usage.ru_utime + usage.ru_stime, peak, stdout


def batch(
    model_uri: str,
    tracking_uri: str,
    folder: Path,
    customers: int,
    chunk: int,
    baseline: Path | None = None,
    repeat: int = 1,
    kind: str = "bg_nbd",
    model_cache: bool = True,
) -> None:
    log = folder / "transactions.parquet"
    started = time.perf_counter()
    rows = _simulate(log, customers)
    print(
        f"batch: simulated {customers:,} customers, {rows:,} transactions "
        f"({log.stat().st_size / 1e6:,.0f} MB parquet) in {time.perf_counter() - started:.1f} s"
    )
    sources = {"this tree": Path(__file__).resolve().parents[1]}
    stores = {"this tree": tracking_uri}
    if baseline is not None:
        # the baseline scores a model its own code trained (saved models may name
        # modules an earlier tree does not have)
        sources["baseline"] = baseline.resolve()
        stores["baseline"] = _train_with(sources["baseline"], folder / "baseline-store", kind)
    outputs = {name: folder / f"scores-{index}.parquet" for index, name in enumerate(sources)}
    times: dict[str, list[float]] = {name: [] for name in sources}
    cpu: dict[str, list[float]] = {name: [] for name in sources}
    # clv.serving.model_cache, in this run's folder: this tree's first run resolves the
    # model in the store, the later ones find it there (an earlier tree has no cache).
    cache = str(folder / "model-cache") if model_cache else "off"
    for run in range(repeat):
        for name, source in sources.items():
            command = ["score", str(log), "--model-uri"]
            command += [model_uri, "--as-of", "2021-12-31", "--horizon", "52", "--output"]
            command += [str(outputs[name]), "--tracking-uri", stores[name]]
            command += ["--chunk-customers", str(chunk)]
            load = _load()
            elapsed, used, peak, stdout = _score(command, source, cache)
            times[name].append(elapsed)
            cpu[name].append(used)
            print(
                f"batch: clv score ({name}: {source}) {customers:,} customers, {rows:,} rows "
                f"(--chunk-customers {chunk:,}): {elapsed:.1f} s wall ({used:.1f} s CPU), "
                f"{customers / elapsed:,.0f} customers/s, peak RSS {peak / 1024:,.0f} MB; "
                f"load average before {load}"
                + (
                    f"; model cache {'cold' if run == 0 else 'warm'}"
                    if name == "this tree" and model_cache
                    else ""
                )
            )
    scored = pd.read_parquet(outputs["this tree"])
    print(f"batch: {len(scored):,} rows written")
    print("\n".join(stdout.strip().splitlines()[-8:]))
    if baseline is not None:
        before = pd.read_parquet(outputs["baseline"])
        common = [c for c in scored.columns if c in before.columns and c != "scored_at"]
        differ = [c for c in common if not scored[c].equals(before[c])]
        same = f"identical in {len(common)} columns" if not differ else f"differ in {differ}"
        for label, values in (("wall", times), ("CPU", cpu)):
            best = {name: min(runs) for name, runs in values.items()}
            print(
                f"batch: best {label} time of {repeat}: this tree {best['this tree']:.2f} s, "
                f"baseline {best['baseline']:.2f} s: "
                f"{best['baseline'] / best['this tree']:.2f}x faster"
            )
            first = {name: runs[0] for name, runs in values.items()}
            if model_cache and repeat > 1:
                print(
                    f"batch: first {label} time (this tree's model cache cold): this tree "
                    f"{first['this tree']:.2f} s, baseline {first['baseline']:.2f} s: "
                    f"{first['baseline'] / first['this tree']:.2f}x faster"
                )
        print(f"batch: the two outputs are {same}; load average {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--chunk-customers", type=int, default=500_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--threads",
        default="2,4",
        help="client thread counts for the throughput runs (comma-separated; default 2,4)",
    )
    parser.add_argument("--kind", default="bg_nbd", help="candidate kind to train")
    parser.add_argument("--baseline", type=Path, help="source tree of an earlier clv")
    parser.add_argument("--repeat", type=int, default=1, help="batch runs of each tree")
    parser.add_argument("--model-uri")
    parser.add_argument("--tracking-uri")
    parser.add_argument("--skip-endpoint", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument(
        "--no-model-cache",
        action="store_true",
        help="resolve the model in the store on every run (CLV_MODEL_CACHE=off)",
    )
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="clv-bench-") as name:
        folder = Path(name)
        if args.model_uri:
            model_uri, tracking_uri = args.model_uri, args.tracking_uri or "sqlite:///mlflow.db"
        else:
            model_uri, tracking_uri = _train(folder, args.kind)
        if not args.skip_endpoint:
            threads = [int(value) for value in args.threads.split(",") if value.strip()]
            endpoint(model_uri, tracking_uri, folder, args.seconds, threads)
        if not args.skip_batch:
            batch(
                model_uri,
                tracking_uri,
                folder,
                args.customers,
                args.chunk_customers,
                args.baseline,
                args.repeat,
                args.kind,
                not args.no_model_cache,
            )


if __name__ == "__main__":
    main()
