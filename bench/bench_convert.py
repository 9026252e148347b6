"""`x12 convert --jobs 2` against `--jobs 1` on a directory of 200 files, measured in the same run.

The files are grown from fixtures/ (837P, 837I, 837D and 835 by bench/synth.py;
278 requests and 270 inquiries as many interchanges per file) into a temp
directory. Each round runs the real command line in a fresh process, jobs 1 and
jobs 2 interleaved, with --force so every file is converted; the ratio of the
best wall-clock times is the speed-up (the median is printed as well).

Also printed for each run: its CPU time (the command and its workers), the
workers' utilisation (seconds spent converting files, from the run's --report,
over jobs x wall-clock: below 1 means a worker sat idle or waited for the
parent) and the CPU time other processes took on the machine meanwhile (from
/proc/stat). When other processes use the CPUs the wall-clock speed-up falls;
those figures show whether the batch itself was the cause. From CPU times
alone (little affected by waiting for a CPU), the speed-up the run would have
with a CPU per worker is estimated as (S + F1) / (S + F2 / 2): F the CPU seconds
spent in files (from the report), S the rest of the run's CPU time (start-up,
planning, the parent), taken as serial. ``--wait-idle S``
waits up to S seconds before each run for the CPUs to be 95% idle, and the
speed-up is also given over the rounds where others took < 5% of the CPUs.

    python bench/bench_convert.py [--files 200] [--segments 10000] [--rounds 3] [--to jsonl]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from synth import grow  # noqa: E402

from x12engine import Tokenizer  # noqa: E402

GROWN = ("837p-claims.x12", "837i-inpatient.x12", "837d-basic.x12", "835-payment.x12")
REPEATED = ("278-request.x12", "270-inquiry.x12")


def make_files(dest: Path, files: int, segments: int) -> tuple[int, int]:
    """Write ``files`` X12 files of about ``segments`` segments each; returns (segments, bytes) in all."""
    fixtures = ROOT / "fixtures"
    templates: list[str] = []
    for name in GROWN:
        templates.append(grow(fixtures / name, segments))
    for name in REPEATED:
        one = (fixtures / name).read_text(encoding="utf-8")
        n = sum(1 for _ in Tokenizer(fixtures / name))
        templates.append(one * max(1, segments // n))
    total_segments = total_bytes = 0
    counts = [sum(1 for _ in Tokenizer(t.encode())) for t in templates]
    for i in range(files):
        k = i % len(templates)
        sub = dest / f"drop{i % 4}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"f{i:03d}-{GROWN[k] if k < len(GROWN) else REPEATED[k - len(GROWN)]}"
        path.write_text(templates[k], encoding="utf-8")
        total_segments += counts[k]
        total_bytes += path.stat().st_size
    return total_segments, total_bytes


def _machine_busy() -> tuple[float, float]:
    """(busy CPU seconds, all CPU seconds) of the whole machine so far; zeros where /proc/stat is absent."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    idle = f[3] + (f[4] if len(f) > 4 else 0)  # idle + iowait
    return (sum(f[:8]) - idle) / hz, sum(f[:8]) / hz


def wait_idle(limit: float) -> float:
    """Wait until the CPUs are 95% idle over one second (at most ``limit`` s); the idle share seen last."""
    end = time.monotonic() + limit
    while True:
        b0, a0 = _machine_busy()
        time.sleep(1)
        b1, a1 = _machine_busy()
        idle = 1 - (b1 - b0) / (a1 - a0) if a1 > a0 else 1.0
        if idle >= 0.95 or time.monotonic() >= end:
            return idle


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for descendants: the command and its workers
    return r.ru_utime + r.ru_stime


def run_once(src: Path, out: Path, jobs: int, to: str) -> tuple[float, float, float, float, float]:
    """Wall-clock s, CPU s, worker utilisation, share of the CPUs other processes took, CPU s in files."""
    report = out.with_name(out.name + "-report.json")
    cmd = [sys.executable, "-m", "x12engine.cli", "convert", str(src), "--to", to, "--out", str(out),
           "--jobs", str(jobs), "--force", "--quiet", "--report", str(report)]
    cpu0 = _children_cpu()
    busy0, all0 = _machine_busy()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    busy1, all1 = _machine_busy()
    others = max(0.0, (busy1 - busy0) - cpu) / (all1 - all0) if all1 > all0 else 0.0
    if proc.returncode != 0:
        raise SystemExit(f"convert failed (exit {proc.returncode}): {proc.stderr.strip()[:2000]}")
    results = json.loads(report.read_text())["results"]
    busy = sum(r["seconds"] for r in results)
    in_files = sum(r["cpu_seconds"] for r in results)
    return elapsed, cpu, busy / (jobs * elapsed), others, in_files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--segments", type=int, default=10000, help="segments per file (about)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--to", choices=["json", "jsonl"], default="jsonl")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                    help="before each run, wait up to S seconds for the CPUs to be idle")
    args = ap.parse_args()

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}, {platform.platform()}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-convert-"))
    try:
        src = tmp / "src"
        segs, size = make_files(src, args.files, args.segments)
        print(f"input: {args.files} files, {segs:,} segments, {size / 1e6:.1f} MB; --to {args.to}, {args.rounds} rounds")
        times: dict[int, list[float]] = {1: [], 2: []}
        quiet: list[tuple[float, float]] = []  # rounds where no one else used the CPUs
        estimates: list[float] = []
        for r in range(args.rounds):
            pair = {}
            for jobs in (1, 2):
                if args.wait_idle:
                    wait_idle(args.wait_idle)
                t, cpu, util, others, in_files = run_once(src, tmp / f"out{jobs}", jobs, args.to)
                times[jobs].append(t)
                pair[jobs] = (t, others, cpu, in_files)
                print(f"  round {r + 1}: --jobs {jobs}  {t:6.2f} s  {segs / t:>9,.0f} seg/s  cpu {cpu:6.2f} s"
                      f"  workers busy {100 * util:3.0f}%  other processes {100 * others:3.0f}% of the CPUs", flush=True)
            if all(p[1] < 0.05 for p in pair.values()):
                quiet.append((pair[1][0], pair[2][0]))
            (_, _, cpu1, f1), (_, _, cpu2, f2) = pair[1], pair[2]
            serial = max(cpu1 - f1, cpu2 - f2, 0.0)
            estimates.append((serial + f1) / (serial + f2 / 2))
            print(f"  round {r + 1}: CPU in files {f1:.2f} s (jobs 1), {f2:.2f} s (jobs 2); rest {serial:.2f} s;"
                  f" with a CPU per worker: {estimates[-1]:.2f}x", flush=True)
        best = {j: min(v) for j, v in times.items()}
        med = {j: statistics.median(v) for j, v in times.items()}
        print(f"--jobs 1: best {best[1]:.2f} s, median {med[1]:.2f} s")
        print(f"--jobs 2: best {best[2]:.2f} s, median {med[2]:.2f} s")
        per_round = [a / b for a, b in zip(times[1], times[2])]  # each ratio from one round's back-to-back pair
        print(f"speed-up --jobs 2 / --jobs 1 per round: {', '.join(f'{r:.2f}x' for r in per_round)};"
              f" median {statistics.median(per_round):.2f}x, best {max(per_round):.2f}x (target >= 1.7x)")
        print(f"estimated from CPU times (a CPU per worker): {', '.join(f'{e:.2f}x' for e in estimates)}"
              f" (median {statistics.median(estimates):.2f}x)")
        if quiet:
            ratios = ", ".join(f"{a / b:.2f}x" for a, b in quiet)
            print(f"speed-up in the {len(quiet)} round(s) where other processes took < 5% of the CPUs: {ratios}")
        else:
            print("no round ran with the CPUs to itself (other processes took >= 5%): the speed-up above is not the batch's alone")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
