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
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)


def _emit(text: str, out: Path | None) -> None:
    data = text.encode("utf-8", "surrogateescape")
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write_atomic(out, data)


def _report(findings, quiet: bool) -> None:
    if quiet:
        return
    for f in findings:
        click.echo(str(f), err=True)


@click.group()
@click.version_option(__version__, prog_name="x12")
def main() -> None:
    """x12engine: read, write and check ASC X12 5010 health-care EDI."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shape", type=click.Choice(["tree"]), default="tree", show_default=True,
              help="tree: the lossless loop tree as JSON.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout (one FILE).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), help="Write FILE.json for each FILE into this directory.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print findings on stderr.")
@click.option("--strict", is_flag=True, help="Exit 1 when the parse found any error (unplaced segment, broken envelope).")
def parse(files: tuple[Path, ...], shape: str, out: Path | None, out_dir: Path | None, quiet: bool, strict: bool) -> None:
    """Parse X12 FILES and print them as JSON.

    With several FILES give --out-dir. A file that cannot be read is reported
    and the rest still convert; the exit status is then 2.
    """
    from .parser import parse as do_parse
    from .tree import document_to_json

    if len(files) > 1 and out_dir is None:
        raise _Fail("several files need --out-dir")
    if out is not None and out_dir is not None:
        raise _Fail("give --out or --out-dir, not both")
    failed = errors = 0
    for file in files:
        try:
            doc = _run(lambda: do_parse(file))
        except _Fail as exc:
            if len(files) == 1:
                raise
            exc.show()
            failed += 1
            continue
        text = json.dumps(document_to_json(doc), indent=1, ensure_ascii=True) + "\n"
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / (file.name + ".json")
            _emit(text, target)
            if not quiet:
                n = sum(1 for _ in doc.transactions())
                click.echo(f"{file} -> {target}: {n} transaction set(s), {len(doc.errors)} error(s)", err=True)
        else:
            _emit(text, out)
        _report(doc.findings, quiet)
        errors += len(doc.errors)
    if failed:
        sys.exit(2)
    if strict and errors:
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--element", help="Element separator for the output (default: the tree's).")
@click.option("--component", help="Component separator for the output.")
@click.option("--repetition", help="Repetition separator for the output.")
@click.option("--segment", "segment_term", help="Segment terminator for the output.")
@click.option("--newline/--no-newline", default=False, help="Write a newline after each segment terminator.")
def build(file: Path, out: Path | None, element, component, repetition, segment_term, newline: bool) -> None:
    """Turn FILE (JSON from `x12 parse --shape tree`) back into X12."""
    from .tree import document_from_json
    from .writer import write_document

    def go() -> str:
        data = json.loads(file.read_text(encoding="utf-8"))
        doc = document_from_json(data)
        chosen = None
        if any(v is not None for v in (element, component, repetition, segment_term)):
            base = doc.interchanges[0].delimiters if doc.interchanges else Delimiters()
            chosen = Delimiters(
                element or base.element,
                component or base.component,
                repetition if repetition is not None else base.repetition,
                _unescape(segment_term) if segment_term else base.segment,
            )
        return write_document(doc, delimiters=chosen, newline=newline)

    _emit(_run(go), out)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def grammars(files: tuple[Path, ...]) -> None:
    """Load the dictionary and guide FILES (default: every bundled guide) and summarise them.

    Exit status 1 when any grammar file has an error; each error names the file and line.
    """
    from .grammar import main as check

    sys.exit(check([str(f) for f in files]))


def _unescape(s: str) -> str:
    return s.encode("utf-8").decode("unicode_escape") if "\\" in s else s


if __name__ == "__main__":  # pragma: no cover
    main()
