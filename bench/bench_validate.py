"""Validation benchmark: x12engine.validate against pyx12's x12n_document, same file, same run.

    python bench/bench_validate.py [--segments 100000] [--repeat 3]

The input is ``fixtures/837p-claims.x12`` grown to about ``--segments``
segments by ``bench/synth.py`` (one transaction set, one segment per line).
Both validators read the file from disk and produce their findings (pyx12 its
999 into a buffer). Each runs in a fresh child process of its own, timed the
same way: the first call ("cold": the process loads its grammars or maps
during it) and the best of ``--repeat`` further calls ("warm"). The ratio is
given for both. pyx12 missing is reported, not faked.
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
    t0 = time.perf_counter()
    r = run()
    return time.perf_counter() - t0, r
cold, r = once()
warm = min(once()[0] for _ in range({repeat}))
print(json.dumps({{"cold": cold, "warm": warm, "result": r}}))
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


def child(name: str, path: Path, repeat: int) -> dict | None:
    code = _TIMER.format(root=str(ROOT), repeat=repeat, setup=_SETUP[name].format(path=str(path)))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="warm calls after the first, per validator")
    args = ap.parse_args(argv)

    text = grow(ROOT / "fixtures" / "837p-claims.x12", args.segments)
    nseg = text.count("~")
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {platform.platform()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "837p-big.x12"
        path.write_text(text)
        print(f"837P: {nseg:,} segments, {len(text) / 1e6:.1f} MB")
        ours = child("x12engine validate", path, args.repeat)
        theirs = child("pyx12 x12n_document", path, args.repeat)
    print(f"  x12engine validate   cold {nseg / ours['cold']:10,.0f} seg/s ({ours['cold']:.2f} s)   "
          f"warm {nseg / ours['warm']:10,.0f} seg/s ({ours['warm']:.2f} s)   {ours['result']} errors")
    if theirs is None:
        print("  pyx12: not installed or failed (pip install -e '.[bench]')")
        return 0
    print(f"  pyx12 x12n_document  cold {nseg / theirs['cold']:10,.0f} seg/s ({theirs['cold']:.2f} s)   "
          f"warm {nseg / theirs['warm']:10,.0f} seg/s ({theirs['warm']:.2f} s)   valid={theirs['result']}")
    print(f"  validate / pyx12     cold {theirs['cold'] / ours['cold']:.1f}x   warm {theirs['warm'] / ours['warm']:.1f}x   (target >= 20x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
