"""The ``x12`` command.

Every expected failure ends as one line on stderr and exit status 2 — never a
traceback. Findings go to stderr; data goes to stdout or ``--out``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import X12Error
from .tokenizer import Delimiters


class _Fail(click.ClickException):
    exit_code = 2

    def show(self, file=None) -> None:  # one line, no "Usage:" noise
        click.echo(f"x12: error: {self.message}", err=True)


def _run(fn):
    try:
        return fn()
    except X12Error as exc:
        raise _Fail(str(exc)) from None
    except (OSError, UnicodeError, json.JSONDecodeError) as exc:
        raise _Fail(f"{type(exc).__name__}: {exc}") from None


def _write_atomic(out: Path, data: bytes) -> None:
    """Temp file + rename: an interrupted run never leaves half an output."""
    from .atomicio import write_atomic

    write_atomic(out, data)


def _emit(text: str, out: Path | None) -> None:
    data = text.encode("utf-8", "surrogateescape")
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write_atomic(out, data)


def _report(findings: list[dict], quiet: bool) -> None:
    if quiet:
        return
    from .errors import Finding, Location

    fields = set(Location.__slots__)
    for f in findings:
        where = Location(**{k: v for k, v in f.items() if k in fields})
        click.echo(str(Finding(f["severity"], f["code"], f["message"], where)), err=True)


@click.group()
@click.version_option(__version__, prog_name="x12")
def main() -> None:
    """x12engine: read, write and check ASC X12 5010 health-care EDI."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shape", type=click.Choice(["model", "tree"]), default="model", show_default=True,
              help="model: the semantic (PokitDok-shaped) JSON of each transaction set; tree: the lossless loop tree.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout (one FILE).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), help="Write FILE.json for each FILE into this directory.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print findings on stderr.")
@click.option("--strict", is_flag=True, help="Exit 1 when the parse found any error (unplaced segment, broken envelope).")
@click.option("--profile", "profile", metavar="NAME",
              help="Flat records of an output profile (maps/profiles/NAME.x12p, e.g. insurance-discovery, claim-info) "
                   "instead of the model: {NAME: [records]}.")
@click.option("--indent", type=click.IntRange(0, 8), default=1, show_default=True,
              help="Spaces per level of the JSON; 0 writes it compact on one line (several times faster on large files).")
def parse(files: tuple[Path, ...], shape: str, out: Path | None, out_dir: Path | None, quiet: bool, strict: bool,
          profile: str | None, indent: int) -> None:
    """Parse X12 FILES and print them as JSON.

    With several FILES give --out-dir. A file that cannot be read is reported
    and the rest still convert; the exit status is then 2.
    """
    from .batch import dumps_document
    from .convert import to_models
    from .parser import parse as do_parse
    from .tree import document_to_json

    if len(files) > 1 and out_dir is None:
        raise _Fail("several files need --out-dir")
    if out is not None and out_dir is not None:
        raise _Fail("give --out or --out-dir, not both")
    if profile is not None:
        from .profile import load_profile, to_profile

        if shape == "tree":
            raise _Fail("--profile projects the model; it does not go with --shape tree")
        from .profile import profile_document

        prof = _run(lambda: load_profile(profile))
    failed = errors = 0
    for file in files:
        try:
            if shape == "tree":
                doc = _run(lambda: do_parse(file))
                data = document_to_json(doc)
                findings = [f.to_dict() for f in doc.findings]
                n = sum(1 for _ in doc.transactions())
            else:
                data = _run(lambda: to_models(file, name=str(file)))
                findings = data["findings"] + [f for t in data["transactions"] for f in t["findings"]]
                n = len(data["transactions"])
                if profile is not None:
                    doc = data
                    data = profile_document(prof.name, str(file), _run(lambda: to_profile(doc, prof)), findings)
        except _Fail as exc:
            if len(files) == 1:
                raise
            exc.show()
            failed += 1
            continue
        text = dumps_document(data, indent) + "\n"
        n_errors = sum(1 for f in findings if f["severity"] == "error")
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / (file.name + ".json")
            _emit(text, target)
            if not quiet:
                click.echo(f"{file} -> {target}: {n} transaction set(s), {n_errors} error(s)", err=True)
        else:
            _emit(text, out)
        _report(findings, quiet)
        errors += n_errors
    if failed:
        sys.exit(2)
    if strict and errors:
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--transaction", "-t", help="Map name (278-request) or transaction set (278) for bare JSON; detected when omitted.")
@click.option("--sender", help="ISA06 interchange sender id (model JSON).")
@click.option("--receiver", help="ISA08 interchange receiver id (model JSON; default: from the model, e.g. its trading partner).")
@click.option("--sender-qualifier", default=None, help="ISA05 (default ZZ).")
@click.option("--receiver-qualifier", default=None, help="ISA07 (default ZZ).")
@click.option("--usage", type=click.Choice(["T", "P"]), default=None, help="ISA15 usage indicator (default T).")
@click.option("--control-number", type=click.IntRange(1, 999_999_999), default=None,
              help="First interchange/group/transaction control number (default 1, or the model document's).")
@click.option("--date", "when", type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d"]), default=None,
              help="Envelope date/time (default: now); fixes the output for reproducible builds.")
@click.option("--element", help="Element separator for the output.")
@click.option("--component", help="Component separator for the output.")
@click.option("--repetition", help="Repetition separator for the output.")
@click.option("--segment", "segment_term", help="Segment terminator for the output.")
@click.option("--newline/--no-newline", default=None, help="Write a newline after each segment terminator.")
@click.option("--no-validate", "no_validate", is_flag=True, help="Write the output even when it does not validate against its guide.")
def build(file: Path, out: Path | None, transaction, sender, receiver, sender_qualifier, receiver_qualifier, usage,
          control_number, when, element, component, repetition, segment_term, newline, no_validate) -> None:
    """Turn FILE into X12: semantic JSON (a PokitDok-shaped object, a list of them, or
    `x12 parse` model output) or a loop tree from `x12 parse --shape tree`.

    For semantic JSON the whole interchange is built: ISA/GS/ST … SE/GE/IEA with
    computed counts and control numbers, HL numbering and every loop the data needs.
    """
    from .assemble import DEFAULTS, EnvelopeSettings
    from .convert import to_x12
    from .tree import TREE_FORMAT, document_from_json
    from .writer import write_document

    def chosen(base: Delimiters) -> Delimiters | None:
        if all(v is None for v in (element, component, repetition, segment_term)):
            return None
        return Delimiters(
            element or base.element,
            component or base.component,
            repetition if repetition is not None else base.repetition,
            _unescape(segment_term) if segment_term else base.segment,
        )

    def go() -> str:
        data = json.loads(file.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("format") == TREE_FORMAT:
            doc = document_from_json(data)
            base = doc.interchanges[0].delimiters if doc.interchanges else Delimiters()
            return write_document(doc, delimiters=chosen(base), newline=bool(newline))
        s = EnvelopeSettings()
        if sender:
            s.sender_id = sender
        if receiver:
            s.receiver_id = receiver
        if sender_qualifier:
            s.sender_qualifier = sender_qualifier
        if receiver_qualifier:
            s.receiver_qualifier = receiver_qualifier
        if usage:
            s.usage = usage
        if control_number:
            s.interchange_control_number = s.group_control_number = s.transaction_control_number = control_number
        if when:
            s.now = when
        d = chosen(DEFAULTS.delimiters)
        if d is not None:
            s.delimiters = d
        if newline is not None:
            s.newline = newline
        return to_x12(data, transaction=transaction, settings=s)

    text = _run(go)
    if not no_validate:
        from .validate import validate as check

        result = _run(lambda: check(text.encode("utf-8", "surrogateescape"), name=str(out or "<build output>")))
        if not result.valid:
            for f in result.findings:
                click.echo(f.text(), err=True)
            click.echo(f"x12: build output has {len(result.errors)} validation error(s); nothing written (--no-validate writes it anyway)", err=True)
            sys.exit(1)
    _emit(text, out)


@main.command()
@click.argument("name", required=False)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def schema(name: str | None, out: Path | None) -> None:
    """Print the JSON Schema of the model for map NAME (e.g. 278-request); without NAME, list the maps."""
    from .mapcatalog import load_map, map_names
    from .models import schema_for

    def go() -> str:
        if name is None:
            lines = []
            for n in map_names():
                c = load_map(n).map
                lines.append(f"{n}\t{c.transaction}\t{c.guide}\t{c.model}\t{c.title}")
            return "\n".join(lines) + "\n"
        if name not in map_names():
            raise _Fail(f"no map named {name!r}; `x12 schema` lists them")
        return json.dumps(schema_for(name), indent=1) + "\n"

    _emit(_run(go), out)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def grammars(files: tuple[Path, ...]) -> None:
    """Load the dictionary and guide FILES (default: every bundled guide) and summarise them.

    Exit status 1 when any grammar file has an error; each error names the file and line.
    """
    from .grammar import main as check

    sys.exit(check([str(f) for f in files]))


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one line per finding; json: a list of findings with every field.")
@click.option("--show-values", is_flag=True, help="Include offending element values (they may be PHI).")
@click.option("--warnings/--no-warnings", default=True, show_default=True, help="List warnings as well as errors.")
def validate_cmd(files: tuple[Path, ...], fmt: str, show_values: bool, warnings: bool) -> None:
    """Validate X12 FILES against their implementation guides.

    Exit status: 0 every file valid, 1 some file has errors, 2 some file could not be read.
    """
    from .validate import validate as check

    status = 0
    collected: list[dict] = []
    for file in files:
        try:
            result = _run(lambda: check(file, name=str(file), show_values=show_values))
        except _Fail as exc:
            exc.show()
            status = 2
            continue
        if not result.valid:
            status = max(status, 1)
        for f in result.findings:
            if f.severity != "error" and not warnings:
                continue
            if fmt == "json":
                collected.append(f.to_dict())
            else:
                click.echo(f.text())
    if fmt == "json":
        click.echo(json.dumps(collected, indent=1))
    sys.exit(status)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--type", "kind", type=click.Choice(["999", "TA1"]), default="999", show_default=True)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--control-number", type=click.IntRange(1, 999_999_999), default=1, show_default=True,
              help="Interchange/group control number of the acknowledgment.")
@click.option("--usage", type=click.Choice(["T", "P"]), default=None, help="ISA15 (default: the acknowledged interchange's).")
@click.option("--date", "when", type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d"]), default=None,
              help="Envelope date/time (default: now).")
def ack(file: Path, kind: str, out: Path | None, control_number: int, usage: str | None, when) -> None:
    """Write a 999 (one per functional group) or a TA1 (one per interchange) acknowledging FILE."""
    from .ack import AckSettings, ack_999, ack_ta1
    from .validate import validate as check

    def go() -> str:
        result = check(file, name=str(file))
        settings = AckSettings(control_number=control_number, usage=usage, now=when)
        return ack_999(result, settings) if kind == "999" else ack_ta1(result, settings)

    _emit(_run(go), out)


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--to", "to", type=click.Choice(["json", "jsonl", "x12"]), required=True,
              help="json: one document per file; jsonl: one line per transaction set, written as it is read; "
                   "x12: model or tree JSON back to X12.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output directory; the layout of each source directory is mirrored under it.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of CPUs).")
@click.option("--shape", type=click.Choice(["model", "tree"]), default="model", show_default=True,
              help="JSON shape for --to json: the semantic model or the lossless loop tree.")
@click.option("--profile", default=None, metavar="NAME", help="Output profile applied to each model entry (e.g. a flat record layout).")
@click.option("--include", multiple=True, metavar="GLOB",
              help="Only files in source directories whose name or relative path matches (repeatable). "
                   "Default: every file (X12 input, minus *.json/*.jsonl), or *.json for --to x12.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files in source directories that match (repeatable).")
@click.option("--force", is_flag=True, help="Convert even when the output is newer than its source.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display and no summary; only failures on stderr.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a JSON report here: every file with its status, counts and, when it failed, where and why.")
@click.option("--indent", type=click.IntRange(0, 8), default=0, show_default=True,
              help="--to json: indent the document by this many spaces per level; 0 writes it compact on one line "
                   "(several times faster to write on large files).")
def convert(sources: tuple[Path, ...], to: str, out_dir: Path, jobs: int | None, shape: str, profile: str | None,
            include: tuple[str, ...], exclude: tuple[str, ...], force: bool, quiet: bool, report_path: Path | None,
            indent: int) -> None:
    """Convert X12 files and directories (recursively) to JSON or JSONL, or JSON back to X12.

    Files run in parallel worker processes. A file that fails is reported (file,
    position, message) and the others still convert. Outputs appear atomically,
    and outputs newer than their source are skipped (--force redoes them).

    Exit status: 0 every file converted or up to date, 1 some file failed, 2 usage
    error, 130 interrupted (Ctrl-C or SIGTERM; finished files stay, the report is written).
    """
    import signal
    import time

    from . import batch

    jobs = jobs or batch.default_jobs()
    try:
        plan = batch.plan(sources, out_dir, to, shape=shape, profile=profile, include=include, exclude=exclude, force=force,
                          indent=indent)
    except batch.PlanError as exc:
        raise _Fail(str(exc)) from None
    except OSError as exc:
        raise _Fail(f"{type(exc).__name__}: {exc}") from None
    stream = sys.stderr  # read at call time: a test runner may have replaced it
    bar = None
    if not quiet and stream.isatty() and plan.tasks:
        from .progress import ProgressLine

        bar = ProgressLine(stream, len(plan.tasks), plan.total_bytes)
    done: dict[int, batch.Result] = {}

    def on_event(kind: str, payload) -> None:
        if kind == "done":
            done[payload.index] = payload
        if bar is not None:
            bar.event(kind, payload)

    def on_sigterm(signum, frame) -> None:  # stopped by a service manager: end as on Ctrl-C, with a report
        raise KeyboardInterrupt

    t0 = time.perf_counter()
    interrupted = False
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        batch.run(plan.tasks, jobs, on_event)
    except KeyboardInterrupt:
        interrupted = True
    except OSError as exc:
        raise _Fail(f"{type(exc).__name__}: {exc}") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    results = [done.get(t.index) or batch.Result(t.index, t.source, t.output, "interrupted", bytes=t.size)
               for t in plan.tasks]
    everything = sorted([*results, *plan.settled], key=lambda r: r.index)
    summary = batch.report(everything, to=to, jobs=jobs, seconds=seconds, shape=shape, profile=profile,
                           interrupted=interrupted)
    failed = [r for r in everything if r.status == "failed"]
    for r in failed:
        click.echo(f"x12: failed: {r.describe_error()}", err=True)
    if not quiet:
        rate = summary["segments"] / seconds if seconds > 0 else 0.0
        counts = f"{summary['converted']} converted, {summary['skipped']} up to date, {summary['failed']} failed"
        if interrupted:
            counts += f", {summary['interrupted_files']} not converted"
        click.echo(f"x12 convert: {counts} of {summary['files']} file(s); "
                   f"{summary['segments']:,} segments in {seconds:.1f} s ({rate:,.0f} seg/s)", err=True)
    if report_path is not None:
        try:
            batch.write_report(report_path, summary)
        except OSError as exc:
            raise _Fail(f"the report could not be written: {type(exc).__name__}: {exc}") from None
    if interrupted:
        click.echo("x12: interrupted; files not yet converted have no output", err=True)
        sys.exit(130)
    if not everything and not quiet:
        click.echo("x12 convert: no input files matched", err=True)
    sys.exit(1 if failed else 0)


def _unescape(s: str) -> str:
    return s.encode("utf-8").decode("unicode_escape") if "\\" in s else s


if __name__ == "__main__":  # pragma: no cover
    main()
