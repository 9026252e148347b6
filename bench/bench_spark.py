"""Rows/second of x12engine.spark on local Spark against the non-Spark path, same files, same run.

    pip install -e '.[spark]' && python bench/bench_spark.py [--files 200] [--segments 2000] [--master local[2]]

The inputs are ``--files`` X12 files grown from the bundled 835 and 837 fixtures
(``bench/synth.py``), written to a temporary directory. Four ways turn them into
rows (one per claim / claim payment, with the model JSON and findings), output
discarded:

- one process: ``x12engine.spark.convert_file`` over every file;
- two processes (what a ``--jobs 2`` batch conversion does): a ``multiprocessing``
  pool of 2 over the files;
- ``x12 convert DIR --to jsonl --jobs 2`` run as a command (start-up included);
- Spark ``local[2]``: ``x12_to_rows(spark.read.format("binaryFile").load(dir))``
  written to the ``noop`` sink, after one warm-up pass (session start-up, JVM JIT and
  Python worker start are reported apart, not in the rate).

Each is timed as the best of ``--repeat`` runs; the ratios are of rates measured here.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from synth import grow  # noqa: E402

SEEDS = ["835-payment.x12", "835-institutional.x12", "837p-claims.x12", "837i-inpatient.x12", "837d-basic.x12"]


def make_files(d: Path, files: int, segments: int) -> list[Path]:
    grown = {name: grow(ROOT / "fixtures" / name, segments) for name in SEEDS}
    out = []
    for i in range(files):
        name = SEEDS[i % len(SEEDS)]
        p = d / f"{i:04d}-{name}"
        p.write_text(grown[name])
        out.append(p)
    return out


def rows_of(path: str) -> int:
    from x12engine.spark import convert_file

    return sum(1 for _ in convert_file(Path(path).read_bytes(), path))


def best(fn, repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - t0)
    return min(times), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--segments", type=int, default=2000, help="segments per file (grown from the fixtures)")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from x12engine.spark import local_session, x12_to_rows

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        paths = [str(p) for p in make_files(d, args.files, args.segments)]
        size = sum(os.path.getsize(p) for p in paths)
        print(f"inputs: {len(paths)} files, {args.segments} segments each, {size / 1e6:.1f} MB, seeds {', '.join(SEEDS)}")
        rows_of(paths[0])  # grammars and maps load once

        t1, n1 = best(lambda: sum(rows_of(p) for p in paths), args.repeat)
        ctx = mp.get_context("fork")
        with ctx.Pool(2) as pool:
            pool.map(rows_of, paths[:2])  # each worker loads its grammars and maps once
            t2, n2 = best(lambda: sum(pool.map(rows_of, paths, chunksize=4)), args.repeat)

        import subprocess

        out = Path(tempfile.mkdtemp(prefix="x12-convert-"))

        def cli_run() -> int:
            # the batch CLI itself, as a user runs it (process start and guide loading included)
            subprocess.run([sys.executable, "-m", "x12engine.cli", "convert", str(d), "--to", "jsonl", "--out", str(out),
                            "--jobs", "2", "--quiet", "--force"], check=True)
            return sum(sum(1 for _ in open(f)) for f in out.rglob("*.jsonl"))

        try:
            t4, n4 = best(cli_run, args.repeat)
        finally:
            import shutil

            shutil.rmtree(out, ignore_errors=True)

        import pyspark

        t0 = time.perf_counter()
        spark = local_session(args.master, app="x12engine-bench")
        start = time.perf_counter() - t0
        try:
            df = spark.read.format("binaryFile").load(str(d))
            parts = df.rdd.getNumPartitions()
            rows = x12_to_rows(df)
            t0 = time.perf_counter()
            rows.write.format("noop").mode("overwrite").save()
            warm = time.perf_counter() - t0

            def spark_run() -> int:
                rows.write.format("noop").mode("overwrite").save()
                return n1

            t3, _ = best(spark_run, args.repeat)
            n3 = rows.count()
        finally:
            spark.stop()
    assert n1 == n2 == n3 == n4, (n1, n2, n3, n4)
    r1, r2, r3 = n1 / t1, n2 / t2, n3 / t3
    print(f"rows: {n1} (one per claim / claim payment / other set)")
    print(f"  one process                 {r1:10,.0f} rows/s  ({t1:.2f} s)")
    print(f"  2 processes (--jobs 2)      {r2:10,.0f} rows/s  ({t2:.2f} s)")
    print(f"  Spark {args.master:<10} pyspark {pyspark.__version__}  {r3:10,.0f} rows/s  ({t3:.2f} s; {parts} input partitions;"
          f" session start {start:.1f} s, first pass {warm:.1f} s)")
    r4 = n4 / t4
    print(f"  x12 convert --jobs 2        {r4:10,.0f} rows/s  ({t4:.2f} s; {n4} JSONL lines; process start-up and guide loading included)")
    print(f"  Spark / 2 processes   {r3 / r2:.2f}x")
    print(f"  Spark / x12 convert --jobs 2   {r3 / r4:.2f}x  (Spark without its session start and warm-up pass; the command with its start-up)")
    print(f"  Spark / one process   {r3 / r1:.2f}x")


if __name__ == "__main__":
    main()
