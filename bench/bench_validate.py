"""Validation benchmark: x12engine.validate against pyx12's x12n_document, same file, same run.

    python bench/bench_validate.py [--kind both|837p|835] [--segments 100000] [--repeat 3]

The inputs are ``fixtures/837p-claims.x12`` and ``fixtures/835-payment.x12``
grown to about ``--segments`` segments by ``bench/synth.py`` (one transaction
set, one segment per line). Both validators read the file from disk and
produce their findings (pyx12 its 999 into a buffer). Each runs in a fresh
child process of its own, timed the same way: the first call ("cold": the
process loads its grammars, maps and code tables during it) and the best of
``--repeat`` further calls ("warm"). Each call is timed by the wall clock and
by the process's CPU time: on a shared machine the CPU ratio is the steadier
one. pyx12 missing is reported, not faked.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from synth import grow  # noqa: E402

_TIMER = """
import gc, json, sys, time
sys.path.insert(0, {root!r})
{setup}
def once():
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    r = run()
    return time.perf_counter() - t0, time.process_time() - c0, r
cold, cold_cpu, r = once()
runs = [once() for _ in range({repeat})]
print(json.dumps({{"cold": cold, "cold_cpu": cold_cpu, "warm": min(x[0] for x in runs),
                  "warm_cpu": min(x[1] for x in runs), "result": r}}))
"""

_SETUP = {
    "x12engine validate": """
from x12engine.validate import validate
def run():
    return len(validate({path!r}).errors)
""",
    "pyx12 x12n_document": """
import io, logging
logging.disable(logging.CRITICAL)
import pyx12.params, pyx12.x12n_document
def run():
    return bool(pyx12.x12n_document.x12n_document(pyx12.params.params(), {path!r}, io.StringIO(), None, None))
""",
}

_FIXTURES = {"837p": "837p-claims.x12", "835": "835-payment.x12"}


def child(name: str, path: Path, repeat: int) -> dict | None:
    code = _TIMER.format(root=str(ROOT), repeat=repeat, setup=_SETUP[name].format(path=str(path)))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _line(label: str, nseg: int, r: dict, tail: str) -> str:
    return (f"  {label:<20} cold {nseg / r['cold']:10,.0f} seg/s ({r['cold']:.2f} s, cpu {r['cold_cpu']:.2f} s)   "
            f"warm {nseg / r['warm']:10,.0f} seg/s ({r['warm']:.2f} s, cpu {r['warm_cpu']:.2f} s)   {tail}")


def bench(kind: str, segments: int, repeat: int) -> None:
    text = grow(ROOT / "fixtures" / _FIXTURES[kind], segments)
    nseg = text.count("~")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}-big.x12"
        path.write_text(text)
        print(f"{kind.upper()}: {nseg:,} segments, {len(text) / 1e6:.1f} MB")
        ours = child("x12engine validate", path, repeat)
        theirs = child("pyx12 x12n_document", path, repeat)
    if ours is None:
        print("  x12engine validate: failed")
        return
    print(_line("x12engine validate", nseg, ours, f"{ours['result']} errors"))
    if theirs is None:
        print("  pyx12: not installed or failed (pip install -e '.[bench]')")
        return
    print(_line("pyx12 x12n_document", nseg, theirs, f"valid={theirs['result']}"))
    print(f"  validate / pyx12     cold {theirs['cold'] / ours['cold']:.1f}x (cpu {theirs['cold_cpu'] / ours['cold_cpu']:.1f}x)   "
          f"warm {theirs['warm'] / ours['warm']:.1f}x (cpu {theirs['warm_cpu'] / ours['warm_cpu']:.1f}x)   (target >= 20x)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", choices=("both", *_FIXTURES), default="both")
    ap.add_argument("--segments", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="warm calls after the first, per validator")
    args = ap.parse_args(argv)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {platform.platform()}")
    for kind in (_FIXTURES if args.kind == "both" else (args.kind,)):
        bench(kind, args.segments, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
