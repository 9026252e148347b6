"""Machine instructions per X12 → model JSON conversion, counted by valgrind's cachegrind.

    python bench/bench_instructions.py [--segments 10000 100000] [--root CHECKOUT] [--text json.dumps|convert]
                                       [--only 837P|835] [--json]

Wall-clock figures on a shared VM drift by a third between runs; the instruction
count of a conversion does not. For each grown file (``bench/synth.py``: the 837P
and 835 fixtures grown to N segments) a child Python runs under cachegrind twice:
once loading grammars, maps and generated code on a small grown file only, once
doing that and then one conversion (``to_models`` + ``json.dumps``, or with ``--text
convert`` the text ``x12 convert --to json`` writes) of the big file. The difference is one conversion with warm caches. ``--root`` measures
another checkout (a ``git worktree`` of an older commit) with the same inputs, so
two commits compare in one invocation. Needs ``valgrind`` on PATH.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synth import grow  # noqa: E402

_CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from x12engine import to_models
{dumps_import}
json.dumps(to_models({warm!r}))
for _ in range({n}):
    {dumps}(to_models({path!r}))
"""

# how the model becomes text: the standard library's encoder (every checkout has it), or
# what `x12 convert --to json` writes (batch.dumps_document: orjson where it matches)
_TEXT = {
    "json.dumps": ("", "json.dumps"),
    "convert": ("from x12engine.batch import dumps_document", "dumps_document"),
}


# the same hash seed in every child: set and dict layouts (and so their probe counts) repeat
_ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def instructions(root: Path, warm: Path, path: Path, n: int, text: str = "json.dumps") -> int:
    imp, dumps = _TEXT[text]
    code = _CHILD.format(root=str(root), warm=str(warm), path=str(path), n=n, dumps_import=imp, dumps=dumps)
    # one run outside valgrind first: the generated readers' code objects go to the disk
    # cache there, so neither measured run compiles them (a cold cache counts the compile
    # in whichever run comes first)
    subprocess.run([sys.executable, "-c", code], capture_output=True, env=_ENV, check=True)
    proc = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           sys.executable, "-c", code], capture_output=True, text=True, env=_ENV)
    m = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    if proc.returncode != 0 or m is None:
        raise SystemExit(f"cachegrind failed: {proc.stderr.strip().splitlines()[-1:]}")
    return int(m.group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--segments", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--root", type=Path, action="append", help="checkout to measure (repeatable; default: this one)")
    ap.add_argument("--text", choices=sorted(_TEXT), default="json.dumps",
                    help="how the model is written: json.dumps (default, comparable with older counts) or convert")
    ap.add_argument("--only", choices=("837P", "835"), help="one of the two files")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not on PATH")
    roots = args.root or [ROOT]
    rows = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        warm = {}
        for label, fixture in (("837P", "837p-claims.x12"), ("835", "835-payment.x12")):
            if args.only and label != args.only:
                continue
            warm[label] = tmp / f"{label}-warm.x12"
            warm[label].write_text(grow(ROOT / "fixtures" / fixture, 2_000))
            for n in args.segments:
                path = tmp / f"{label}-{n}.x12"
                path.write_text(grow(ROOT / "fixtures" / fixture, n))
                for root in roots:
                    base = instructions(root, warm[label], path, 0, args.text)
                    one = instructions(root, warm[label], path, 1, args.text)
                    rows.append({"file": label, "segments": n, "root": str(root), "instructions": one - base})
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    for r in rows:
        print(f"{r['file']:5s} {r['segments']:>8,} segments  {r['instructions'] / 1e6:8,.0f}M instructions  {r['root']}")


if __name__ == "__main__":
    main()
