"""X12 at cluster scale on Apache Spark (``pip install x12engine[spark]``).

Two entry points, both running the ordinary engine inside the executors:

* :func:`x12_to_rows` — a DataFrame of X12 files (``spark.read.format("binaryFile")``,
  ``spark.read.text(..., wholetext=True)`` or just a ``path`` column) → one row per
  837 claim / 835 claim payment / other transaction set, via ``mapInArrow``. Each
  file is streamed through :func:`x12engine.iter_models`, so memory per task is one
  file's bytes (none with a path-only DataFrame) plus one claim. A file that is not
  X12 or breaks off yields an error row (location + message, never data); the job
  goes on.
* :func:`write_x12` — a DataFrame of model rows (the output above, or any rows with a
  ``model`` JSON column) → X12 files, one per partition or per key, each written to a
  temporary name and renamed into place.

pyspark is imported only inside these functions: ``import x12engine`` never needs it.
The row-level work (:func:`convert_file`, :class:`FileWriter`) is plain Python.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator
from urllib.parse import unquote, urlparse

from .assemble import EnvelopeSettings
from .atomicio import atomic_open
from .convert import MODEL_FORMAT, detect_map, iter_models, to_x12
from .errors import BuildError, Location, X12Error

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from pyspark.sql import DataFrame

#: output columns of :func:`x12_to_rows`, in order (flattened columns follow)
ROW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("path", "string"),
    ("interchange_control_number", "string"),  # ISA13
    ("group_control_number", "string"),  # GS06
    ("transaction_control_number", "string"),  # ST02
    ("transaction", "string"),  # ST01
    ("guide", "string"),  # e.g. 005010X221A1
    ("part_kind", "string"),  # unit | other | rest | null (a whole set)
    ("part_index", "int"),  # claim number within its set, 0 otherwise
    ("map", "string"),  # null when no map reads the guide yet
    ("model", "string"),  # the semantic JSON
    ("unmapped", "string"),  # JSON of segments the map does not model, or null
    ("envelope", "string"),  # JSON of the envelope values (the entry's ``x12``)
    ("findings", "string"),  # JSON list of reading findings (+ validation when asked)
    ("error", "string"),  # why the file could not be read on from here; null on good rows
    ("error_location", "string"),  # JSON: source, segment_index, line, offset ...
)

#: result columns of :func:`write_x12`
WRITE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("file", "string"),  # the file written (or that the failed row was meant for)
    ("key", "string"),
    ("sets", "long"),  # transaction sets written (0 on error rows)
    ("interchanges", "long"),
    ("source_path", "string"),  # a failed row's ``path`` column, if it has one
    ("source_row", "long"),  # a failed row's position in its partition (0-based)
    ("error", "string"),
)

_CONTENT_COLUMNS = ("content", "value")  # binaryFile, text(wholetext=True)


# ----------------------------------------------------------------------------
# X12 → rows (plain Python; runs in the executors)
# ----------------------------------------------------------------------------
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def pick(model: Any, path: str) -> str | None:
    """A flattened column's value: ``a.b[0].c`` into the model; scalars as text, objects as JSON."""
    cur = model
    for name, index in _STEP.findall(path):
        if name:
            cur = cur.get(name) if isinstance(cur, dict) else None
        else:
            cur = cur[int(index)] if isinstance(cur, list) and int(index) < len(cur) else None
        if cur is None:
            return None
    if isinstance(cur, (dict, list)):
        return json.dumps(cur, separators=(",", ":"))
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _local_path(path: str) -> str:
    """``file:/x`` / ``file:///x`` (percent-encoded, as Spark lists files) → ``/x``; plain paths as given."""
    if path.startswith("file:"):
        return unquote(urlparse(path).path)
    return path


def _error_row(path: str | None, exc: BaseException, columns: dict[str, str]) -> dict:
    if isinstance(exc, X12Error):
        message, where = str(exc), exc.location.to_dict()
        kind = type(exc).__name__
    else:
        # an engine bug: the exception text may quote data, so only its type is reported
        message, where, kind = f"internal error ({type(exc).__name__}) while converting this file", {"source": path}, "InternalError"
    where.setdefault("source", path)
    row = {name: None for name, _ in ROW_COLUMNS}
    row.update({"path": path, "error": f"{kind}: {message}", "error_location": _dumps(where), "findings": "[]"})
    row.update({k: None for k in columns})
    return row


def _validation_by_set(content: bytes | str, path: str | None) -> tuple[dict[tuple, list[dict]], list[dict]]:
    """Validation findings of one file, by (ISA13, GS06, ST02); the rest (envelope-level) apart."""
    from .validate import validate

    by_set: dict[tuple, list[dict]] = {}
    other: list[dict] = []
    for f in validate(content, name=path).findings:
        d = {k: v for k, v in f.to_dict().items() if v is not None} if hasattr(f, "to_dict") else {"message": str(f)}
        d["origin"] = "validation"
        if f.transaction is not None:
            by_set.setdefault((f.interchange, f.group, f.transaction), []).append(d)
        else:
            other.append(d)
    return by_set, other


def convert_file(source: bytes | str | os.PathLike, path: str | None, *, by_claim: bool = True,
                 columns: dict[str, str] | None = None, validate: bool = False) -> Iterator[dict]:
    """Rows of one file: one per claim / claim payment (``by_claim``) or transaction set.

    Never raises for bad input: a read error ends the file's rows with one error row
    (rows already yielded are complete claims and stand). ``validate`` adds the
    implementation-guide findings (a second pass over the file; each set's findings go
    on its first row, envelope-level ones on the file's first row)."""
    columns = columns or {}
    pending: dict[tuple, list[dict]] = {}
    loose: list[dict] = []
    if validate:
        try:
            pending, loose = _validation_by_set(source, path)
        except Exception:  # the read below reports the same problem with its location
            pending, loose = {}, []
    try:
        for entry in iter_models(source, name=path, by_claim=by_claim):
            env = entry.get("x12") or {}
            icn = (env.get("interchange") or {}).get("control_number")
            gcn = (env.get("group") or {}).get("control_number")
            tcn = (env.get("transaction") or {}).get("control_number")
            part = entry.get("part") or {}
            findings = list(entry.get("findings") or [])
            if validate:
                findings += pending.pop((icn, gcn, tcn), [])
                if loose:
                    findings, loose = findings + loose, []
            model = entry.get("model")
            row = {
                "path": path, "interchange_control_number": icn, "group_control_number": gcn,
                "transaction_control_number": tcn, "transaction": entry.get("transaction"), "guide": entry.get("guide"),
                "part_kind": part.get("kind"), "part_index": part.get("index", 0), "map": entry.get("map"),
                "model": _dumps(model), "unmapped": _dumps(entry.get("unmapped")), "envelope": _dumps(env),
                "findings": _dumps(findings), "error": None, "error_location": None,
            }
            for name, where in columns.items():
                row[name] = pick(model, where) if model is not None else None
            yield row
    except Exception as exc:  # noqa: BLE001 — one bad file must not end the job
        yield _error_row(path, exc, columns)


# ----------------------------------------------------------------------------
# X12 → rows (Spark)
# ----------------------------------------------------------------------------
def _row_schema(columns: dict[str, str]) -> str:
    fixed = [n for n, _ in ROW_COLUMNS]
    clash = [c for c in columns if c in fixed]
    if clash:
        raise ValueError(f"flattened column names clash with the standard columns: {', '.join(clash)}")
    return ", ".join(f"`{n}` {t}" for n, t in ROW_COLUMNS) + "".join(f", `{n}` string" for n in columns)


def _arrow_schema(columns: dict[str, str]) -> "pa.Schema":
    import pyarrow as pa

    types = {"string": pa.string(), "int": pa.int32(), "long": pa.int64()}
    return pa.schema([(n, types[t]) for n, t in ROW_COLUMNS] + [(n, pa.string()) for n in columns])


def _batches(rows: Iterable[dict], schema: "pa.Schema", size: int) -> Iterator["pa.RecordBatch"]:
    import pyarrow as pa

    buf: list[dict] = []
    for row in rows:
        buf.append(row)
        if len(buf) >= size:
            yield pa.RecordBatch.from_pylist(buf, schema=schema)
            buf = []
    if buf:
        yield pa.RecordBatch.from_pylist(buf, schema=schema)


def x12_to_rows(df: "DataFrame", *, by_claim: bool = True, columns: dict[str, str] | None = None,
                validate: bool = False, batch_rows: int = 256) -> "DataFrame":
    """A DataFrame of X12 files → a DataFrame of model rows (see :data:`ROW_COLUMNS`).

    ``df`` is ``spark.read.format("binaryFile").load(...)`` (``path``, ``content``),
    ``spark.read.text(..., wholetext=True)`` (``value``; the path comes from the file
    metadata), or any DataFrame with a ``path`` column naming files the executors can
    open (local, or a shared mount): those are streamed from disk, never held whole.
    ``columns`` adds flattened string columns: name → model path (``payer.name``,
    ``claim_payments[0].patient_control_number``). Lazy, like any transformation."""
    from pyspark.sql import functions as F

    columns = dict(columns or {})
    names = set(df.columns)
    content = next((c for c in _CONTENT_COLUMNS if c in names), None)
    if "path" in names:
        path_col = F.col("path").cast("string")
    elif content is not None:
        path_col = F.col("_metadata.file_path")
    else:
        raise ValueError("expected a DataFrame with a 'content' (binaryFile), 'value' (text) or 'path' column")
    src = df.select(path_col.alias("path"), (F.col(content).cast("binary") if content else F.lit(None).cast("binary")).alias("content"))
    ddl = _row_schema(columns)
    opts = {"by_claim": by_claim, "columns": columns, "validate": validate}
    size = max(1, int(batch_rows))

    def run(batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        schema = _arrow_schema(columns)

        def rows() -> Iterator[dict]:
            for batch in batches:
                paths = batch.column("path")
                data = batch.column("content")
                for i in range(batch.num_rows):
                    path = paths[i].as_py()
                    raw = data[i]
                    if raw.is_valid:
                        yield from convert_file(raw.as_py(), path, **opts)
                    elif path is None:
                        yield _error_row(None, X12Error("row has neither content nor a path"), columns)
                    else:
                        yield from _open_and_convert(path, opts)

        yield from _batches(rows(), schema, size)

    return src.mapInArrow(run, ddl)


def _open_and_convert(path: str, opts: dict) -> Iterator[dict]:
    local = Path(_local_path(path))
    try:
        with open(local, "rb"):
            pass
    except OSError as exc:
        yield _error_row(path, X12Error(f"cannot open the file ({exc.strerror or type(exc).__name__})", Location(source=path)),
                         opts.get("columns") or {})
        return
    yield from convert_file(local, path, **opts)  # each pass opens and streams the file itself


# ----------------------------------------------------------------------------
# rows → X12 (plain Python; runs in the executors)
# ----------------------------------------------------------------------------
def _safe_name(key: str) -> str:
    """A file name for a group key: readable part + a hash, so distinct keys never collide."""
    tail = re.sub(r"\.(x12|edi|txt|dat)$", "", key.rstrip("/").rsplit("/", 1)[-1], flags=re.I)  # a path key reads best by its file name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", tail)[-60:].strip("._") or "key"
    return f"{stem}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:10]}"


def _entry(row: dict, transaction: str | None) -> dict:
    """A model row → a model-document entry; errors name the column, never its value."""
    raw = row.get("model")
    if raw is None:
        why = "the row has no model (no map reads its transaction set, or it is an error row)"
        raise BuildError(why, Location(source="model column"))
    try:
        model = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError as exc:
        raise BuildError(f"the model column is not JSON (char {exc.pos})" if hasattr(exc, "pos") else "the model column is not JSON",
                         Location(source="model column")) from None
    if not isinstance(model, dict):
        raise BuildError("the model column is not a JSON object", Location(source="model column"))
    name = row.get("map") or detect_map(model, transaction).map.name
    entry: dict[str, Any] = {"map": name, "model": model}
    for col, key in (("unmapped", "unmapped"), ("envelope", "x12")):
        v = row.get(col)
        if v:
            try:
                entry[key] = json.loads(v) if isinstance(v, (str, bytes)) else v
            except ValueError:
                raise BuildError(f"the {col} column is not JSON", Location(source=f"{col} column")) from None
    return entry


def _signature(entry: dict) -> tuple:
    """Rows that share an envelope go into one interchange."""
    env = entry.get("x12") or {}
    i, g = env.get("interchange") or {}, env.get("group") or {}
    return (i.get("sender_id"), i.get("receiver_id"), i.get("usage"), i.get("control_number"), g.get("control_number"))


@dataclass
class FileWriter:
    """Writes one X12 file from a stream of model rows, an interchange per run of rows
    sharing an envelope (at most ``max_sets`` sets each), to a temporary name first."""

    target: Path
    settings: EnvelopeSettings | None = None
    check: bool = True
    max_sets: int = 1000
    transaction: str | None = None
    sets: int = 0
    interchanges: int = 0
    failures: list[tuple[int, dict, str]] = field(default_factory=list)  # (row number, row, message)
    _open: Any = None  # the atomicio.atomic_open context of the file being written
    _fh: Any = None
    _chunk: list[tuple[int, dict, dict]] = field(default_factory=list)
    _used: set[int] = field(default_factory=set)

    def add(self, n: int, row: dict) -> None:
        try:
            entry = _entry(row, self.transaction)
        except X12Error as exc:
            self.failures.append((n, row, str(exc)))
            return
        except Exception as exc:  # noqa: BLE001
            self.failures.append((n, row, f"internal error ({type(exc).__name__}) reading this row"))
            return
        if self._chunk and (len(self._chunk) >= self.max_sets or _signature(self._chunk[0][2]) != _signature(entry)):
            self._flush()
        self._chunk.append((n, row, entry))

    def _icn(self, chunk: list[tuple[int, dict, dict]]) -> int:
        """A control number not yet used in this file: the settings' next, else the source's, else the next free."""
        base = self.settings.interchange_control_number if self.settings else None
        if base is not None:
            return base + self.interchanges
        src = str(((chunk[0][2].get("x12") or {}).get("interchange") or {}).get("control_number") or "")
        if src.isdigit() and 0 < int(src) <= 999_999_999 and int(src) not in self._used:
            return int(src)
        return max(self._used, default=0) + 1

    def _build(self, chunk: list[tuple[int, dict, dict]]) -> str:
        icn = self._icn(chunk)
        s = (self.settings or EnvelopeSettings()).merged(EnvelopeSettings(interchange_control_number=icn))
        s.interchange_control_number = icn
        text = to_x12({"format": MODEL_FORMAT, "transactions": [e for _, _, e in chunk]}, settings=s, check=self.check)
        self._used.add(icn)
        return text

    def _flush(self) -> None:
        chunk, self._chunk = self._chunk, []
        if not chunk:
            return
        try:
            text = self._build(chunk)
        except Exception:  # noqa: BLE001 — find the rows that fail alone; keep the rest
            good = []
            for item in chunk:
                try:
                    to_x12({"format": MODEL_FORMAT, "transactions": [item[2]]}, settings=self.settings, check=self.check)
                    good.append(item)
                except X12Error as exc:
                    self.failures.append((item[0], item[1], str(exc)))
                except Exception as exc:  # noqa: BLE001
                    self.failures.append((item[0], item[1], f"internal error ({type(exc).__name__}) building this row"))
            if not good:
                return
            try:
                text = self._build(good)
            except Exception:  # noqa: BLE001 — each builds alone: one interchange each
                for item in good:
                    self._write(self._build([item]), 1)
                return
            chunk = good
        self._write(text, len(chunk))

    def _write(self, text: str, sets: int) -> None:
        if self._fh is None:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._open = atomic_open(self.target, "w", newline="", fsync=True)
            self._fh = self._open.__enter__()
        self._fh.write(text)
        self.sets += sets
        self.interchanges += 1

    def close(self) -> None:
        """Flush, then rename the temporary file into place (nothing is written for no sets)."""
        self._flush()
        if self._fh is not None:
            self._fh = None
            self._open.__exit__(None, None, None)

    def abort(self) -> None:
        if self._fh is not None:
            self._fh = None
            err = RuntimeError("write aborted")
            try:
                self._open.__exit__(RuntimeError, err, None)  # removes the temp file
            except RuntimeError:
                pass


def write_rows(rows: Iterable[dict], out_dir: str | os.PathLike, name_of, *, key: str | None = None,
               settings: EnvelopeSettings | None = None, check: bool = True, max_sets: int = 1000,
               transaction: str | None = None) -> Iterator[dict]:
    """Write rows (grouped by ``key`` when given; consecutive rows of one key form one file)
    and yield one result per file plus one per row that could not be built."""
    out = Path(out_dir)
    writer: FileWriter | None = None
    current: Any = object()

    def results(w: FileWriter, k: Any) -> Iterator[dict]:
        if w.sets:
            yield {"file": str(w.target), "key": k, "sets": w.sets, "interchanges": w.interchanges,
                   "source_path": None, "source_row": None, "error": None}
        for n, row, message in w.failures:
            yield {"file": str(w.target), "key": k, "sets": 0, "interchanges": 0,
                   "source_path": row.get("path"), "source_row": n, "error": message}

    try:
        for n, row in enumerate(rows):
            k = None if key is None else row.get(key)
            k = None if k is None else str(k)
            if writer is None or k != current:
                if writer is not None:
                    writer.close()
                    yield from results(writer, current)
                current = k
                writer = FileWriter(out / name_of(k), settings, check, max_sets, transaction)
            writer.add(n, row)
        if writer is not None:
            writer.close()
            yield from results(writer, current)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise


# ----------------------------------------------------------------------------
# rows → X12 (Spark)
# ----------------------------------------------------------------------------
def write_x12(df: "DataFrame", out_dir: str | os.PathLike, *, key: str | None = None,
              settings: EnvelopeSettings | None = None, check: bool = True, max_sets: int = 1000,
              transaction: str | None = None, partitions: int | None = None) -> list[dict]:
    """Write a DataFrame of model rows as X12 files and return what was written.

    Rows need a ``model`` column (JSON text, or a struct/map turned to JSON); ``map``, ``unmapped`` and ``envelope`` (as
    :func:`x12_to_rows` makes them) are used when present. Without ``key``: one file
    per non-empty partition (``part-00000.x12`` ...). With ``key``: rows are
    repartitioned and sorted by that column, one file per distinct value. Each file
    is written under a temporary name and renamed (a retried task replaces it whole).
    ``out_dir`` must be a filesystem path every executor can write (local, or a shared
    mount). Rows that cannot be built come back as results with ``error`` set; the
    other rows are written. Runs the job (an action)."""
    from pyspark import TaskContext
    from pyspark.sql import functions as F

    if key is not None and key not in df.columns:
        raise ValueError(f"no column {key!r} to group files by")
    if "model" not in df.columns:
        raise ValueError("expected a 'model' column of model JSON")
    wanted = [c for c in ("model", "map", "unmapped", "envelope", "path") if c in df.columns]
    order = [c for c in ("path", "interchange_control_number", "group_control_number", "transaction_control_number",
                         "part_index") if c in df.columns]
    src = df
    if key is not None:
        n = partitions or df.sparkSession.sparkContext.defaultParallelism
        src = df.repartition(n, F.col(key)).sortWithinPartitions(key, *order)
        if key not in wanted:
            wanted.append(key)
    elif partitions:
        src = df.repartition(partitions)
    nested = {f.name for f in df.schema.fields if f.dataType.typeName() in ("struct", "map", "array")}
    src = src.select(*[(F.to_json(c) if c in nested else F.col(c).cast("string")).alias(c) for c in wanted])
    out = str(Path(out_dir).resolve())
    ddl = ", ".join(f"`{n}` {t}" for n, t in WRITE_COLUMNS)
    opts = {"key": key, "settings": settings, "check": check, "max_sets": max_sets, "transaction": transaction}

    def run(batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa

        pid = TaskContext.get().partitionId()

        def name_of(k: str | None) -> str:
            return f"part-{pid:05d}.x12" if key is None else (_safe_name(k) if k is not None else "no-key") + ".x12"

        def rows() -> Iterator[dict]:
            for batch in batches:
                yield from batch.to_pylist()

        schema = pa.schema([(n, pa.string() if t == "string" else pa.int64()) for n, t in WRITE_COLUMNS])
        yield from _batches(write_rows(rows(), out, name_of, **opts), schema, 256)

    return [r.asDict() for r in src.mapInArrow(run, ddl).collect()]


# ----------------------------------------------------------------------------
# python -m x12engine.spark DIR --out OUT
# ----------------------------------------------------------------------------
def local_session(master: str = "local[2]", app: str = "x12engine"):
    """A small local Spark session (quiet logs, Arrow on, a few shuffle partitions)."""
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(master).appName(app)
             .config("spark.sql.shuffle.partitions", "4")
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main(argv: list[str] | None = None) -> int:
    """Convert a directory of X12 files on local Spark, write the rows as JSON lines and
    the models back to X12, and print a summary."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m x12engine.spark", description=main.__doc__)
    p.add_argument("input", help="a directory (or glob) of X12 files")
    p.add_argument("--out", required=True, help="output directory: rows/ (JSON lines) and x12/ (rebuilt files)")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--glob", default="*.x12", help="file name pattern inside the directory (default *.x12)")
    p.add_argument("--whole-sets", action="store_true", help="one row per transaction set instead of per claim")
    p.add_argument("--validate", action="store_true", help="add implementation-guide validation findings")
    args = p.parse_args(argv)

    spark = local_session(args.master)
    try:
        files = spark.read.format("binaryFile").option("pathGlobFilter", args.glob).load(args.input)
        rows = x12_to_rows(files, by_claim=not args.whole_sets, validate=args.validate).cache()
        out = Path(args.out)
        rows.write.mode("overwrite").json(str(out / "rows"))
        print(f"{rows.count()} rows from {files.count()} files -> {out / 'rows'}")
        for r in rows.groupBy("transaction", "map").count().orderBy("transaction", "map").collect():
            print(f"  {r['transaction'] or '-':>4} {r['map'] or '(no map)':<14} {r['count']:>6} rows")
        for r in rows.where("error is not null").select("path", "error").collect():
            print(f"  error: {r['error']}")
        built = rows.where("model is not null and error is null")
        results = write_x12(built, out / "x12", key="path", check=args.whole_sets)
        files_out = [r for r in results if r["error"] is None]
        print(f"{sum(r['sets'] for r in files_out)} sets rebuilt into {len(files_out)} files -> {out / 'x12'}")
        for r in results:
            if r["error"] is not None:
                print(f"  not rebuilt: {r['source_path']} row {r['source_row']}: {r['error']}")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
