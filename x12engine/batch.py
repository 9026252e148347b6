"""Batch conversion: plan the files, convert them in worker processes, collect results.

This is the library under ``x12 convert``. A file's failure is a :class:`Result`,
never an exception out of :func:`run`: one bad file (or one worker killed by the
OS) does not stop the batch. Each worker runs one file at a time, so a dead
worker is charged to exactly the file it was converting. Outputs are written
atomically (:mod:`.atomicio`); a run skips outputs newer than their source.
"""
from __future__ import annotations

import fnmatch
import gc
import json
import multiprocessing
import os
import signal
import time
import traceback
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TextIO

from .atomicio import atomic_open, remove_stale_temps
from .errors import X12Error
from .jsontext import compact as compact_json
from .tokenizer import Tokenizer

TARGETS = ("json", "jsonl", "x12")
SHAPES = ("model", "tree")
REPORT_FORMAT = "x12engine-convert-report/1"
X12_SUFFIXES = {".x12", ".edi", ".txt", ".dat"}  # kept by JSON → X12 output names (else .x12 is added)
FILE_FINDINGS_KEPT = 100  # file-level findings copied into the report (they never carry values)
PROGRESS_EVERY = 0.5  # seconds between a worker's progress messages on one file


class PlanError(ValueError):
    """The request itself is wrong (a usage error): nothing was converted."""


@dataclass(frozen=True, slots=True)
class Task:
    index: int  # position in the plan (the report's order)
    source: str
    output: str
    size: int  # bytes, for ETA and for scheduling big files first
    to: str
    shape: str = "model"
    profile: str | None = None
    kind: str | None = None  # transaction set and version from the file's head (see sniff_kind)
    indent: int = 0  # --to json: spaces per level; 0 writes one compact line


@dataclass(slots=True)
class Result:
    index: int
    source: str
    output: str
    status: str  # converted | skipped | failed | interrupted (the run stopped before this file)
    bytes: int = 0
    segments: int = 0
    transactions: int = 0
    records: int = 0  # JSON documents/lines or X12 interchanges written
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the worker's CPU time on this file (wall-clock minus waiting for a CPU or the disk)
    findings: dict[str, int] = field(default_factory=dict)  # severity -> count
    finding_codes: dict[str, int] = field(default_factory=dict)
    file_findings: list[dict] = field(default_factory=list)  # findings outside any transaction set
    error: dict | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("index")
        d["seconds"] = round(self.seconds, 4)
        d["cpu_seconds"] = round(self.cpu_seconds, 4)
        if d["error"] is None:
            d.pop("error")
        if not d["file_findings"]:
            d.pop("file_findings")
        return d

    def describe_error(self) -> str:
        """One line: where (the engine's position) and what; never a data value."""
        e = self.error or {}
        where = e.get("where") or self.source
        return f"{where}: {e.get('type', 'error')}: {e.get('message', '')}"


@dataclass(slots=True)
class Plan:
    tasks: list[Task]
    settled: list[Result]  # known before running: up to date (skipped) or unreadable (failed)

    @property
    def total_bytes(self) -> int:
        return sum(t.size for t in self.tasks)


# ----------------------------------------------------------------------------
# planning
# ----------------------------------------------------------------------------
def _matches(rel: str, patterns: Sequence[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(rel, p) for p in patterns)


def output_name(name: str, to: str) -> str:
    """a.x12 → a.x12.json / a.x12.jsonl; a.x12.json → a.x12; req.json → req.x12."""
    if to != "x12":
        return f"{name}.{to}"
    low = name.lower()
    stem = name[:-5] if low.endswith(".json") else name[:-6] if low.endswith(".jsonl") else name
    suffix = Path(stem).suffix.lower()
    if suffix in X12_SUFFIXES or suffix[1:].isdigit():
        return stem
    return stem + ".x12"


def _walk(root: Path, skip: Path | None, errors: list[OSError]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, onerror=errors.append):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (skip is None or (here / d).resolve() != skip))
        for f in sorted(filenames):
            if not f.startswith("."):
                yield here / f


def find_sources(sources: Sequence[Path], to: str, include: Sequence[str] = (), exclude: Sequence[str] = (),
                 out_dir: Path | None = None, errors: list[OSError] | None = None) -> list[tuple[Path, Path]]:
    """(source file, its path relative to --out) for every file to convert.

    A directory contributes the files under it that match ``include`` (default:
    every file for X12 input but ``*.json``/``*.jsonl``; ``*.json``/``*.jsonl`` for JSON → X12)
    and no ``exclude`` pattern; hidden files and the output directory are
    skipped. A file named on the command line is always taken. Directories that
    cannot be listed go to ``errors`` (never silently left out).
    """
    errors = [] if errors is None else errors
    if to == "x12":
        inc = list(include) or ["*.json", "*.jsonl"]
        exc = list(exclude)
    else:
        inc = list(include) or ["*"]
        exc = list(exclude) + ([] if include else ["*.json", "*.jsonl"])
    skip = out_dir.resolve() if out_dir is not None else None
    found: list[tuple[Path, Path]] = []
    for src in sources:
        src = Path(src)
        if src.is_dir():
            for f in _walk(src, skip, errors):
                rel = f.relative_to(src)
                r = rel.as_posix()
                if _matches(r, inc) and not _matches(r, exc):
                    found.append((f, rel))
        elif src.exists():
            found.append((src, Path(src.name)))
        else:
            raise PlanError(f"{src}: no such file or directory")
    return found


def plan(sources: Sequence[Path], out_dir: Path, to: str, *, shape: str = "model", profile: str | None = None,
         include: Sequence[str] = (), exclude: Sequence[str] = (), force: bool = False, indent: int = 0) -> Plan:
    """Decide what to convert and where; outputs newer than their source are skipped unless ``force``."""
    if to not in TARGETS:
        raise PlanError(f"--to must be one of {', '.join(TARGETS)}")
    if shape not in SHAPES:
        raise PlanError(f"--shape must be one of {', '.join(SHAPES)}")
    if to == "jsonl" and shape == "tree":
        raise PlanError("--shape tree is a whole-document shape: use --to json (jsonl streams model entries)")
    if profile is not None:
        if to == "x12":
            raise PlanError("--profile shapes JSON output; it does not apply to --to x12")
        if shape == "tree":
            raise PlanError("--profile applies to the model shape, not --shape tree")
        resolve_profile(profile)
    tasks: list[Task] = []
    settled: list[Result] = []
    seen: dict[Path, Path] = {}
    errors: list[OSError] = []
    for src, rel in find_sources(sources, to, include, exclude, out_dir, errors):
        out = out_dir / rel.parent / output_name(rel.name, to)
        key = out.resolve()
        if key in seen:
            raise PlanError(f"{seen[key]} and {src} would both be written to {out}; convert them in separate runs")
        if key == src.resolve():
            raise PlanError(f"{src}: the output would overwrite its own source")
        seen[key] = src
        index = len(tasks) + len(settled)
        try:
            st = src.stat()
        except OSError as exc:  # gone or unreadable since it was listed (a live drop folder)
            settled.append(_unreadable(index, str(src), str(out), exc))
            continue
        if not force and _up_to_date(out, st.st_mtime_ns):
            settled.append(Result(index, str(src), str(out), "skipped", bytes=st.st_size))
            continue
        kind = sniff_kind(src) if to != "x12" else None
        tasks.append(Task(index, str(src), str(out), st.st_size, to, shape, profile, kind, indent))
    for exc in errors:
        settled.append(_unreadable(len(tasks) + len(settled), str(exc.filename), "", exc))
    return Plan(tasks, settled)


def sniff_kind(path: Path, head: int = 4096) -> str | None:
    """ST01 and GS08 of the first set in an X12 file's head ("837 005010X222A1"), or None.

    Only a scheduling hint: a worker that already loaded a guide gets files of
    the same kind first. Never an error; the conversion itself reads the file.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read(head)
    except OSError:
        return None
    version = st01 = None
    try:  # the tokenizer reads the ISA's delimiters (padded or not); the head may end mid-file
        for els, *_ in Tokenizer(data):
            if els[0] == "GS" and len(els) > 8:
                version = els[8]
            elif els[0] == "ST" and len(els) > 1:
                st01 = els[1]
                break
    except X12Error:
        pass
    return f"{st01} {version}" if st01 else None


def _unreadable(index: int, source: str, output: str, exc: OSError) -> Result:
    return Result(index, source, output, "failed",
                  error={"type": type(exc).__name__, "message": exc.strerror or str(exc), "where": source})


def _up_to_date(out: Path, source_mtime_ns: int) -> bool:
    try:
        return out.stat().st_mtime_ns >= source_mtime_ns
    except OSError:
        return False


# ----------------------------------------------------------------------------
# output profiles (provided elsewhere in x12engine; found by name at run time)
# ----------------------------------------------------------------------------
ProfileFn = Callable[[dict, str], Iterable[dict]]  # (model entry, source file) → records


def resolve_profile(name: str) -> ProfileFn:
    """The function applying output profile ``name`` (``maps/profiles/NAME.x12p``) to one
    model entry; an unknown name or a broken profile file → :class:`PlanError`."""
    from .profile import ProfileError, load_profile, profile_names

    if name not in profile_names():
        raise PlanError(f"unknown profile {name!r} (profiles: {', '.join(profile_names()) or 'none'})")
    try:
        prof = load_profile(name)
    except ProfileError as exc:
        raise PlanError(str(exc)) from None

    def run(entry: dict, source: str) -> Iterable[dict]:
        return list(prof.project(entry, source))

    return run


# ----------------------------------------------------------------------------
# converting one file (in a worker)
# ----------------------------------------------------------------------------
Progress = Callable[[int, int], None]  # (segments so far, bytes so far)


class _Stream:
    """Model entries of one X12 file, one transaction set at a time, with counts for the report."""

    def __init__(self, path: str, progress: Progress | None):
        from .parser import Reader

        self.reader = Reader(path, name=path)
        self.progress = progress
        self.transactions = 0
        self.map_findings: Counter = Counter()  # (severity, code) of the maps' findings: counts, not a list, in bounded memory

    def entries(self, by_claim: bool = False) -> Iterator[dict]:
        """Model entries; ``by_claim``: 837 claims and 835 claim payments one at a time
        (``part`` names each), so a set of any size streams in bounded memory."""
        from .convert import model_entries

        last = time.monotonic()
        seen = None
        for ctx, entry in model_entries(self.reader, by_claim=by_claim):
            key = (id(ctx.interchange), id(ctx.group), id(ctx.transaction.header))
            if key != seen:  # the parts of one set count once
                self.transactions += 1
                seen = key
            for f in entry["findings"][len(ctx.transaction.findings):]:
                self.map_findings[f.get("severity", "?"), f.get("code", "?")] += 1
            yield entry
            if self.progress is not None and time.monotonic() - last >= PROGRESS_EVERY:
                last = time.monotonic()
                end = ctx.transaction.trailer or ctx.transaction.header
                self.progress(self.reader.tokenizer.segments, end[2] or 0)

    @property
    def segments(self) -> int:
        return self.reader.tokenizer.segments

    def findings(self) -> tuple[list[dict], list[dict]]:
        """The reader's findings: all of them (what the report counts), and those no entry
        carries (what a document lists at its top, so each finding is written once)."""
        every, outside = [], []
        for f in self.reader.findings:
            d = f.to_dict()
            every.append(d)
            if id(f) not in self.reader.carried:
                outside.append(d)
        return every, outside


def dumps_document(data: Any, indent: int = 0) -> str:
    """One JSON document as text, ASCII-only. Compact text comes from a C/Rust encoder in
    one call (:mod:`.jsontext`); Python's ``indent`` goes through its pure-Python encoder,
    about 25 times slower (0.84 s against 0.03 s on a 100k-segment 835 model), which on a
    large file costs more than reading the X12 did."""
    if indent:
        return json.dumps(data, indent=indent, ensure_ascii=True)
    return compact_json(data)


def write_jsonl(records: Iterable[dict], fh: TextIO) -> int:
    """One compact JSON object per line, written as the records come; returns the line count."""
    n = 0
    dumps = compact_json
    for rec in records:
        fh.write(dumps(rec))
        fh.write("\n")
        n += 1
    return n


def _profiled(entries: Iterable[dict], profile: ProfileFn | None, source: str) -> Iterator[dict]:
    for entry in entries:
        if profile is None:
            yield entry
        else:
            yield from profile(entry, source)


def _findings_into(entries: Iterable[dict], sink: list | None) -> Iterator[dict]:
    for entry in entries:
        if sink is not None:
            sink.extend(entry["findings"])
        yield entry


def _count(res: Result, findings: Iterable[dict], more: Counter | None = None) -> None:
    """Findings by severity and by code; ``more`` adds (severity, code) counts."""
    pairs = Counter((f.get("severity", "?"), f.get("code", "?")) for f in findings)
    pairs.update(more or {})
    sev: Counter = Counter()
    codes: Counter = Counter()
    for (severity, code), n in pairs.items():
        sev[severity] += n
        codes[code] += n
    res.findings = dict(sev)
    res.finding_codes = dict(codes)


def _file_level(all_findings: list[dict]) -> list[dict]:
    """Findings not tied to one transaction set (envelope, tokenizer): kept in the report."""
    return [f for f in all_findings if "transaction" not in f][:FILE_FINDINGS_KEPT]


def _x12_to_json(task: Task, res: Result, progress: Progress | None) -> None:
    out = Path(task.output)
    if task.shape == "tree":
        from .parser import Reader
        from .tree import document_to_json

        reader = Reader(task.source, name=task.source)
        doc = reader.parse()
        data = document_to_json(doc)
        res.segments = reader.tokenizer.segments
        res.transactions = sum(1 for _ in doc.transactions())
        findings = [f.to_dict() for f in doc.findings]
        _count(res, findings)
        res.file_findings = _file_level(findings)
    else:
        from .convert import model_document

        stream = _Stream(task.source, progress)
        profile = resolve_profile(task.profile) if task.profile else None
        of_sets: list[dict] = []  # profile records carry no findings: their document lists every one
        records = list(_profiled(_findings_into(stream.entries(), of_sets if profile else None), profile, task.source))
        every, outside = stream.findings()
        if profile is None:
            data = model_document(task.source, records, outside)
        else:
            from .profile import profile_document

            data = profile_document(task.profile, task.source, records, outside + of_sets)
        res.segments, res.transactions = stream.segments, stream.transactions
        _count(res, every, stream.map_findings)
        res.file_findings = _file_level(outside)
    with atomic_open(out, "w", errors="surrogateescape") as fh:
        fh.write(dumps_document(data, task.indent))
        fh.write("\n")
    res.records = 1


def _x12_to_jsonl(task: Task, res: Result, progress: Progress | None) -> None:
    stream = _Stream(task.source, progress)
    profile = resolve_profile(task.profile) if task.profile else None
    with atomic_open(Path(task.output), "w", errors="surrogateescape") as fh:
        res.records = write_jsonl(_profiled(stream.entries(by_claim=True), profile, task.source), fh)
    every, outside = stream.findings()
    res.segments, res.transactions = stream.segments, stream.transactions
    _count(res, every, stream.map_findings)
    res.file_findings = _file_level(outside)


def _json_to_x12(task: Task, res: Result) -> None:
    from .convert import MODEL_FORMAT, to_x12
    from .errors import BuildError, Location
    from .tree import TREE_FORMAT, document_from_json
    from .writer import write_document

    with open(task.source, encoding="utf-8") as fh:
        if task.source.lower().endswith(".jsonl"):
            # `--to jsonl` output: one model entry per line (a set, or one claim of one) → one set each
            entries = [json.loads(line) for line in fh if line.strip()]
            if not all(isinstance(e, dict) and "model" in e and "x12" in e for e in entries):
                raise BuildError("a JSONL line is not a model entry (x12 convert --to jsonl writes them; "
                                 "profile records cannot be turned into X12)", Location(source=task.source))
            data = {"format": MODEL_FORMAT, "transactions": entries}
        else:
            data = json.load(fh)
    kind = data.get("format") if isinstance(data, dict) else None
    if kind is not None and kind not in (TREE_FORMAT, MODEL_FORMAT):
        raise BuildError(f"a {kind!r} document cannot be turned into X12: give model or tree JSON",
                         Location(source=task.source))
    if kind == TREE_FORMAT:
        doc = document_from_json(data)
        text = write_document(doc)
        res.transactions = sum(1 for _ in doc.transactions())
        res.records = len(doc.interchanges)
    else:
        text = to_x12(data)
        res.records = 1
        if isinstance(data, dict) and isinstance(data.get("transactions"), list):
            res.transactions = len(data["transactions"])
        else:
            res.transactions = len(data) if isinstance(data, list) else 1
    res.segments = sum(1 for _ in Tokenizer(text.encode("utf-8", "surrogateescape")))
    with atomic_open(Path(task.output), "wb") as fh:
        fh.write(text.encode("utf-8", "surrogateescape"))


def _where_in_code(exc: BaseException) -> str:
    """The innermost x12engine frame, for errors that are bugs (their message may hold data)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "x12engine" in f.filename] or traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    f = frames[-1]
    return f"{Path(f.filename).name}:{f.lineno} in {f.name}"


def convert_one(task: Task, progress: Progress | None = None) -> Result:
    """Convert one file; every failure becomes the result's ``error`` (type, position, message)."""
    t0, c0 = time.perf_counter(), time.process_time()
    res = Result(task.index, task.source, task.output, "converted", bytes=task.size)
    try:
        out = Path(task.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(out)
        if task.to == "x12":
            _json_to_x12(task, res)
        elif task.to == "jsonl":
            _x12_to_jsonl(task, res, progress)
        else:
            _x12_to_json(task, res, progress)
    except X12Error as exc:
        loc = exc.location.to_dict()
        where = exc.location.describe()
        if loc.get("source") != task.source:  # e.g. a build error placed in "build" or a model name
            where = f"{task.source} ({where})" if where else task.source
        res.error = {"type": type(exc).__name__, "message": exc.message, "where": where,
                     "location": loc, **({"code": exc.code} if exc.code else {})}
    except (OSError, UnicodeError, json.JSONDecodeError, PlanError) as exc:
        res.error = {"type": type(exc).__name__, "message": str(exc), "where": task.source}
    except (MemoryError, RecursionError) as exc:  # a file too big or too deeply nested for this machine
        res.error = {"type": type(exc).__name__, "message": "the file is too large or too deeply nested to convert here"
                     + (" (--to jsonl streams it)" if task.to == "json" else ""), "where": task.source}
    except Exception as exc:  # a bug must not stop the batch; its message may carry data, so only its place
        res.error = {"type": type(exc).__name__, "message": f"internal error at {_where_in_code(exc)}", "where": task.source}
    if res.error is not None:
        res.status = "failed"
    res.seconds = time.perf_counter() - t0
    res.cpu_seconds = time.process_time() - c0
    return res


# ----------------------------------------------------------------------------
# worker processes
# ----------------------------------------------------------------------------
def _on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through atomic_open, which removes its temp file


def _worker_main(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt means
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Trees and models are (nearly) acyclic, but the cyclic GC keeps rescanning them while
    # they grow: rarer collections convert ~25% faster and still collect (a library
    # caller's GC settings are not touched; this is the worker's own process).
    gc.set_threshold(50_000, 20, 20)
    parent = os.getppid()
    while True:
        try:
            # A parent killed outright may leave this pipe open in a sibling worker (fork
            # copies descriptors), so EOF is not enough: check that the parent lives.
            while not conn.poll(1.0):
                if os.getppid() != parent:
                    return
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return

        def progress(segments: int, offset: int, index: int = task.index) -> None:
            conn.send(("progress", index, segments, offset))

        conn.send(("done", convert_one(task, progress)))


class _Queue:
    """Pending tasks by kind, biggest first within each kind.

    A worker gets the biggest file of a kind it has converted before (its guide
    and map are loaded), else of a kind no other worker has, else the biggest.
    """

    def __init__(self, tasks: Iterable[Task]):
        self.by_kind: dict[str | None, deque[Task]] = {}
        for t in sorted(tasks, key=lambda t: -t.size):
            self.by_kind.setdefault(t.kind, deque()).append(t)

    def __len__(self) -> int:
        return sum(len(q) for q in self.by_kind.values())

    def take(self, mine: set, others: set) -> Task:
        live = [k for k, q in self.by_kind.items() if q]
        for pool in ([k for k in live if k in mine], [k for k in live if k not in others], live):
            if pool:
                kind = max(pool, key=lambda k: self.by_kind[k][0].size)
                return self.by_kind[kind].popleft()
        raise IndexError("no task left")


class _Worker:
    __slots__ = ("proc", "conn", "task", "kinds")

    def __init__(self, ctx) -> None:
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        self.task: Task | None = None
        self.kinds: set[str | None] = set()

    def give(self, task: Task) -> None:
        self.task = task
        self.kinds.add(task.kind)
        self.conn.send(task)

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass

    def died(self) -> Result:
        self.proc.join(5)
        code = self.proc.exitcode
        if code is not None and code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        t = self.task
        assert t is not None
        return Result(t.index, t.source, t.output, "failed", bytes=t.size, error={
            "type": "WorkerDied", "message": f"the worker process converting this file {how}; no output was written",
            "where": t.source})


Event = Callable[[str, Any], None]  # ("progress", (index, segments, offset)) | ("done", Result)


def run(tasks: Sequence[Task], jobs: int, on_event: Event | None = None) -> list[Result]:
    """Convert ``tasks`` in ``jobs`` worker processes; results in task order, one per task."""
    if not tasks:
        return []
    # Workers load the grammars and maps their files need (about 1 s for all of them);
    # the queue keeps each worker to few kinds of file, so few loads are repeated.
    ctx = multiprocessing.get_context()
    queue = _Queue(tasks)
    results: dict[int, Result] = {}
    workers: list[_Worker] = []

    def finish(res: Result) -> None:
        results[res.index] = res
        if on_event is not None:
            on_event("done", res)

    def feed(w: _Worker) -> bool:
        if queue:
            others = {k for o in workers if o is not w and o.task is not None for k in o.kinds}
            w.give(queue.take(w.kinds, others))
            return True
        w.task = None
        w.stop()
        return False

    try:
        for _ in range(min(jobs, len(queue))):
            w = _Worker(ctx)
            workers.append(w)
            feed(w)
        while any(w.task is not None for w in workers):
            busy = [w for w in workers if w.task is not None]
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
            for w in busy:
                dead = False
                try:
                    while w.task is not None and w.conn.poll():
                        kind, *rest = w.conn.recv()
                        if kind == "progress":
                            if on_event is not None:
                                on_event("progress", tuple(rest))
                        else:
                            finish(rest[0])
                            feed(w)
                except (EOFError, OSError):
                    dead = True
                if w.task is not None and (dead or not w.proc.is_alive()):
                    if not dead and w.conn.poll():
                        continue  # its last message arrived meanwhile: read it on the next round
                    finish(w.died())
                    w.conn.close()
                    workers.remove(w)
                    if queue:
                        nw = _Worker(ctx)
                        workers.append(nw)
                        feed(nw)
    finally:
        for w in workers:
            if w.proc.is_alive() and w.task is not None:
                w.proc.terminate()
            else:
                w.stop()
        for w in workers:
            w.proc.join(10)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
    return [results[t.index] for t in sorted(tasks, key=lambda t: t.index)]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# ----------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------
def report(results: Sequence[Result], *, to: str, jobs: int, seconds: float, shape: str = "model",
           profile: str | None = None, interrupted: bool = False) -> dict:
    """The machine-readable summary of a run (no data values: only paths, counts, positions).

    Per file (``results``, in plan order): ``source``, ``output``, ``status``
    (converted | skipped | failed | interrupted), ``bytes``, ``segments``,
    ``transactions``, ``records`` (JSON documents or lines, or interchanges
    written), ``seconds``, ``findings`` (count by severity), ``finding_codes``
    (count by code), ``file_findings`` (up to 100 findings outside any
    transaction set: envelope and syntax warnings), and for a failure ``error``:
    ``type``, ``message``, ``where`` (file, control numbers, segment, line, byte)
    and ``location`` (the same as fields).
    """
    counts = Counter(r.status for r in results)
    return {
        "format": REPORT_FORMAT,
        "to": to, "shape": shape, "profile": profile, "jobs": jobs,
        "seconds": round(seconds, 3),
        "interrupted": interrupted,
        "files": len(results),
        "converted": counts.get("converted", 0),
        "skipped": counts.get("skipped", 0),
        "failed": counts.get("failed", 0),
        "interrupted_files": counts.get("interrupted", 0),
        "segments": sum(r.segments for r in results),
        "transactions": sum(r.transactions for r in results),
        "results": [r.to_dict() for r in sorted(results, key=lambda r: r.index)],
    }


def write_report(path: Path, data: dict) -> None:
    path = Path(path)
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "w") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
