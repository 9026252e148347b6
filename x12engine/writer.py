"""Segments → X12 text; the mirror of the tokenizer.

Writes with the source's delimiters by default or with chosen ones. Because X12
has no escape mechanism, a value that contains a delimiter of the output cannot
be written: that is a :class:`BuildError` naming the segment and element (never
the value).
"""
from __future__ import annotations

from typing import IO, Iterable, Iterator

from .errors import BuildError, Location
from .tokenizer import Delimiters
from .tree import Document, Interchange

_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


def _translate(value: str, src: Delimiters, dst: Delimiters, where) -> str:
    """Re-express one element written with ``src`` delimiters in ``dst`` delimiters."""
    if src == dst:
        return value
    reps = value.split(src.repetition) if src.repetition and src.repetition in value else [value]
    out_reps = []
    for rep in reps:
        comps = rep.split(src.component) if src.component in rep else [rep]
        for c in comps:
            for delim in (dst.element, dst.component, dst.repetition, dst.segment):
                if delim and delim in c:
                    raise BuildError("value contains the output delimiter " + repr(delim), where())
        out_reps.append(dst.component.join(comps))
    if len(out_reps) > 1 and not dst.repetition:
        raise BuildError("repeated element but the output has no repetition separator", where())
    return (dst.repetition or "").join(out_reps)


def _check_plain(value: str, d: Delimiters, where) -> None:
    if d.element in value or d.segment in value:
        raise BuildError("value contains the element or segment delimiter", where())


def isa_elements(els: list[str], d: Delimiters) -> list[str]:
    """ISA with ISA11/ISA16 set to the output delimiters (ISA11 only under 00501+)."""
    out = list(els)
    while len(out) < 17:
        out.append("")
    version = out[12].strip()
    if d.repetition and version >= "00501":
        out[11] = d.repetition
    out[16] = d.component
    return out


def segment_text(els: list[str], src: Delimiters, dst: Delimiters, interchange: str | None = None, index: int | None = None) -> str:
    """One segment's text; ``interchange``/``index`` only go into an error's location."""
    sid = els[0]
    if sid == "ISA":
        return dst.element.join(isa_elements(els, dst)) + dst.segment
    if src == dst:
        text = dst.element.join(els)
        # one scan per segment; find the offending element only when there is one
        if dst.segment in text or text.count(dst.element) != len(els) - 1:
            for n, v in enumerate(els[1:], 1):
                _check_plain(v, dst, lambda n=n: _where(interchange, index, sid, n))
        return text + dst.segment
    parts = [sid]
    for n, v in enumerate(els[1:], 1):
        parts.append(_translate(v, src, dst, lambda n=n: _where(interchange, index, sid, n)))
    return dst.element.join(parts) + dst.segment


def _where(interchange: str | None, index: int | None, sid: str, n: int) -> Location:
    return Location(interchange=interchange, segment_index=index, segment_id=sid, element=f"{sid}{n:02d}")


def iter_interchange_text(inter: Interchange, delimiters: Delimiters | None = None, newline: bool = False) -> Iterator[str]:
    src = inter.delimiters
    dst = delimiters or src
    dst.check()
    nl = "\n" if newline and dst.segment != "\n" else ""
    ctl = inter.control_number
    for tok in inter.segments():
        yield segment_text(tok[0], src, dst, ctl, tok[1]) + nl


def write_document(doc: Document, out: IO[str] | None = None, *, delimiters: Delimiters | None = None, newline: bool = False) -> str | None:
    """Write every interchange; returns the text when ``out`` is None."""
    chunks: list[str] = []
    emit = out.write if out is not None else chunks.append
    for inter in doc.interchanges:
        for text in iter_interchange_text(inter, delimiters, newline):
            emit(text)
    return None if out is not None else "".join(chunks)


def to_bytes(doc: Document, **kw) -> bytes:
    return write_document(doc, **kw).encode("utf-8", "surrogateescape")


def write_segments(segments: Iterable[list[str]], delimiters: Delimiters, newline: bool = False) -> str:
    """Text for plain element lists (builders use this); ISA is padded to its fixed widths."""
    nl = "\n" if newline and delimiters.segment != "\n" else ""
    out = []
    for els in segments:
        if els[0] == "ISA":
            els = ["ISA"] + [v.ljust(w)[:w] if i not in (10, 15) else v for i, (v, w) in enumerate(zip(els[1:], _ISA_WIDTHS))]
        out.append(segment_text(els, delimiters, delimiters) + nl)
    return "".join(out)
