"""X12 → semantic JSON benchmark, against LinuxForHealth x12 and pyx12 in the same run.

    python bench/bench_models.py [--segments 100000] [--repeat 2] [--big-mb 1024]
                                 [--lfh-python PATH | --setup-lfh]

Every engine runs in a child process of its own, so each figure carries that
engine's own peak memory (the child's VmHWM) and nobody's imports or garbage
bias another. The inputs are one 100,000-segment transaction set grown from the
bundled 837P and 835 fixtures (``bench/synth.py``). Each child first converts the
small fixture once, so one-time loading (grammars, maps, a peer's model classes)
is not in the timed figure; the timing is the best of ``--repeat`` runs.

- x12engine: ``to_models`` and the text ``x12 convert --to json`` writes
  (``batch.dumps_document``: compact JSON through orjson, see ``x12engine/jsontext.py``);
  the same with the standard library's ``json.dumps``, as earlier runs measured it; and
  the streaming path (``iter_models(by_claim=True)`` written by ``batch.write_jsonl``,
  one JSON line per claim, as ``x12 convert --to jsonl`` does).
- LinuxForHealth x12 0.57 (``X12ModelReader(...).models()`` and ``.json()``): it
  needs pydantic 1, so it runs from its own virtualenv. ``--setup-lfh`` creates
  one in ``bench/.venv-lfh`` (``linuxforhealth-x12==0.57.0 'pydantic<2'
  'fastapi<0.100'``); ``--lfh-python`` or ``X12ENGINE_LFH_PYTHON`` names another.
- pyx12 ``x12n_document`` (the whole-file validation pass, its JSON summary
  written): pyx12 has no per-claim model output; this is its document pass.

``--big-mb`` writes an 837P of that size holding ONE transaction set and converts
it with the streaming path to a JSONL file, reporting the child's peak RSS.
Baselines that cannot run are reported as missing, not faked.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from synth import grow, write_big  # noqa: E402

from x12engine import Tokenizer  # noqa: E402

_PEAK = """
import resource, sys, time, json
def peak_kb():
    try:
        with open('/proc/self/status') as fh:
            return next(int(l.split()[1]) for l in fh if l.startswith('VmHWM:'))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

_TO_MODELS = """
sys.path.insert(0, {root!r})
import x12engine
from x12engine.batch import dumps_document
json.dumps(x12engine.to_models({warm!r}))  # grammars and maps load once per process
base = peak_kb()
best = None
for _ in range({repeat}):
    t0 = time.perf_counter()
    doc = x12engine.to_models({path!r})
    text = DUMPS(doc)
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
    modelled = sum(1 for t in doc["transactions"] if t["model"] is not None)
    del text, doc
print(json.dumps({{"seconds": best, "base_kb": base, "peak_kb": peak_kb(), "modelled": modelled}}))
"""

_JOBS = {
    # the text `x12 convert --to json` writes, and the standard library's encoder as earlier runs timed it
    "x12engine to_models": _TO_MODELS.replace("DUMPS", "dumps_document"),
    "x12engine to_models (json.dumps)": _TO_MODELS.replace("DUMPS", "json.dumps"),
    "x12engine by claim (jsonl)": """
sys.path.insert(0, {root!r})
import x12engine
from x12engine.batch import write_jsonl
for entry in x12engine.iter_models({warm!r}, by_claim=True):
    json.dumps(entry)
base = peak_kb()
best = None
lines = 0
def counted(entries):
    global modelled
    for entry in entries:
        modelled += entry["model"] is not None
        yield entry
for _ in range({repeat}):
    t0 = time.perf_counter()
    modelled = 0
    with open({out!r}, "w") as fh:
        lines = write_jsonl(counted(x12engine.iter_models({path!r}, by_claim=True)), fh)
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
print(json.dumps({{"seconds": best, "base_kb": base, "peak_kb": peak_kb(), "lines": lines, "modelled": modelled}}))
""",
    "LinuxForHealth x12 0.57": """
from linuxforhealth.x12.io import X12ModelReader
try:
    with X12ModelReader({warm!r}) as r:
        for m in r.models():
            m.json()
except Exception:
    pass
base = peak_kb()
best = None
for _ in range({repeat}):
    t0 = time.perf_counter()
    n = 0
    with X12ModelReader({path!r}) as r:
        for m in r.models():
            s = m.json(); n += len(s)
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
print(json.dumps({{"seconds": best, "base_kb": base, "peak_kb": peak_kb()}}))
""",
    "pyx12 x12n_document": """
import io, logging
logging.disable(logging.CRITICAL)
import pyx12.params, pyx12.x12n_document
pyx12.x12n_document.x12n_document(pyx12.params.params(), {warm!r}, fd_997=None, fd_html=None, fd_json=io.StringIO())
base = peak_kb()
best = None
for _ in range({repeat}):
    t0 = time.perf_counter()
    pyx12.x12n_document.x12n_document(pyx12.params.params(), {path!r}, fd_997=None, fd_html=None, fd_json=io.StringIO())
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
print(json.dumps({{"seconds": best, "base_kb": base, "peak_kb": peak_kb()}}))
""",
}


def child(python: str, job: str, **kw) -> dict:
    code = _PEAK + _JOBS[job].format(root=str(ROOT), **kw)
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def lfh_python(args) -> str | None:
    if args.lfh_python:
        return args.lfh_python
    if os.environ.get("X12ENGINE_LFH_PYTHON"):
        return os.environ["X12ENGINE_LFH_PYTHON"]
    venv = HERE / ".venv-lfh"
    py = venv / "bin" / "python"
    if args.setup_lfh and not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "linuxforhealth-x12==0.57.0", "pydantic<2", "fastapi<0.100"], check=True)
    return str(py) if py.exists() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--segments", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--big-mb", type=int, default=1024, help="size of the one-set 837P for the streaming memory check (0 to skip)")
    ap.add_argument("--lfh-python", help="python of a virtualenv with linuxforhealth-x12 0.57 and pydantic<2")
    ap.add_argument("--setup-lfh", action="store_true", help="create bench/.venv-lfh for the LinuxForHealth baseline")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    lfh = lfh_python(args)

    results = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for label, fixture in (("837P", "837p-claims.x12"), ("835", "835-payment.x12")):
            text = grow(ROOT / "fixtures" / fixture, args.segments)
            path = tmp / f"{label}.x12"
            path.write_text(text)
            nseg = sum(1 for _ in Tokenizer(path))
            res = {"file": label, "segments": nseg, "bytes": path.stat().st_size, "engines": {}}
            for job in _JOBS:
                py = sys.executable
                if job.startswith("LinuxForHealth"):
                    if lfh is None:
                        res["engines"][job] = {"error": "no LinuxForHealth virtualenv (--setup-lfh or --lfh-python)"}
                        continue
                    py = lfh
                res["engines"][job] = child(py, job, path=str(path), warm=str(ROOT / "fixtures" / fixture), repeat=args.repeat, out=str(tmp / "out.jsonl"))
            results.append(res)
        big = None
        if args.big_mb:
            path = tmp / "big.x12"
            nseg = write_big(path, ROOT / "fixtures" / "837p-claims.x12", args.big_mb * 1024 * 1024)
            big = child(sys.executable, "x12engine by claim (jsonl)", path=str(path), warm=str(ROOT / "fixtures" / "837p-claims.x12"), repeat=1, out=str(tmp / "big.jsonl"))
            big.update(segments=nseg, bytes=path.stat().st_size)

    if args.json:
        print(json.dumps({"files": results, "big": big}, indent=1))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}")
    for res in results:
        print(f"\n{res['file']}: {res['segments']:,} segments in one transaction set, {res['bytes'] / 1e6:.1f} MB")
        eng = res["engines"]
        for job, r in eng.items():
            if "error" in r:
                print(f"  {job:30s} not run: {r['error']}")
                continue
            r["rate"] = res["segments"] / r["seconds"]
            note = " (NO MODEL: no map reads this set)" if r.get("modelled") == 0 else ""
            print(f"  {job:30s} {r['rate']:10,.0f} seg/s   peak RSS {r['peak_kb'] / 1024:6.0f} MB (after imports {r['base_kb'] / 1024:.0f} MB){note}")
        ours = eng["x12engine to_models"]
        std = eng.get("x12engine to_models (json.dumps)", {})
        for base, target in (("LinuxForHealth x12 0.57", 10), ("pyx12 x12n_document", 20)):
            b = eng.get(base, {})
            if "rate" in ours and "rate" in b:
                also = f"; with json.dumps {std['rate'] / b['rate']:.1f}x" if "rate" in std else ""
                print(f"  to_models / {base:24s} {ours['rate'] / b['rate']:6.1f}x   (target >= {target}x{also})")
                if base.startswith("Linux"):
                    print(f"  peak RSS to_models / {base}: {ours['peak_kb'] / b['peak_kb']:.2f} (target < 1)")
    if big:
        if "error" in big:
            print(f"\nbig file: not run: {big['error']}")
        else:
            print(
                f"\n{big['bytes'] / 2**30:.2f} GiB 837P, one transaction set, {big['segments']:,} segments -> JSONL by claim: "
                f"{big['lines']:,} lines at {big['segments'] / big['seconds']:,.0f} seg/s, peak RSS {big['peak_kb'] / 1024:.0f} MB "
                f"(after imports {big['base_kb'] / 1024:.0f} MB; target < 200 MB)"
            )


if __name__ == "__main__":
    main()
