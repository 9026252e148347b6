"""Bytes → segments, streaming.

Two states: SEEK (looking for the next ISA: leading BOM, whitespace, text between
interchanges) and IN (splitting segments with the delimiters that ISA declared).
Each segment comes out as a plain tuple ``(elements, index, offset, line)`` —
``elements[0]`` is the segment id, ``index`` is its 1-based position in the
stream, ``offset`` the byte offset of its first character and ``line`` its
1-based line — because the hot loop builds millions of them.

Iterating a :class:`Tokenizer` gives one segment at a time; ``batches()`` gives
the same segments as lists (all the complete segments of one read, never two
interchanges in one list), which saves the parser a generator step per segment.
"""
from __future__ import annotations

import codecs
import io
import itertools
import operator
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Union

from .errors import Finding, Location, X12SyntaxError
from .gcpause import paused_gc

Token = tuple  # (elements: list[str], index: int, offset: int, line: int)
Source = Union[bytes, bytearray, memoryview, str, os.PathLike, BinaryIO]

CHUNK_SIZE = 1 << 20
_WS = frozenset(" \t\r\n\x0b\x0c")
_ISA_SPAN = 106  # fixed width of a conforming ISA, terminator included


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"

    @property
    def repetition_or_never(self) -> str:
        """The repetition separator, or where there is none the segment terminator, which no
        element holds: ``sep in value`` then needs no None test of its own (hot loops)."""
        return self.repetition or self.segment

    def as_dict(self) -> dict:
        return {"element": self.element, "component": self.component, "repetition": self.repetition, "segment": self.segment}

    @classmethod
    def from_dict(cls, d: dict) -> "Delimiters":
        return cls(d.get("element", "*"), d.get("component", ":"), d.get("repetition"), d.get("segment", "~"))

    def check(self, where: Location | None = None) -> None:
        used = [c for c in (self.element, self.component, self.repetition, self.segment) if c is not None]
        for c in used:
            if len(c) != 1:
                raise X12SyntaxError(f"delimiter {c!r} must be a single character", where)
            if c.isalnum():
                raise X12SyntaxError(f"alphanumeric delimiter {c!r} is not allowed", where)
            if "\ud800" <= c <= "\udfff" or not c.isascii():
                raise X12SyntaxError(f"delimiter {c.encode('utf-8', 'surrogateescape')!r} is not an ASCII character", where)
        if len(set(used)) != len(used):
            raise X12SyntaxError(
                "delimiter collision: element {!r}, component {!r}, repetition {!r}, segment {!r} must all differ".format(
                    self.element, self.component, self.repetition, self.segment
                ),
                where,
            )


def _valid_segment_id(sid: str) -> bool:
    return 2 <= len(sid) <= 3 and sid.isascii() and sid.isalnum() and sid.upper() == sid


def _looks_like_path(s: str) -> bool:
    """A str is X12 text unless it is a short single line naming an existing file."""
    return len(s) < 4096 and "\n" not in s and "~" not in s and os.path.isfile(s)


def _open(source: Source) -> tuple[BinaryIO, str | None, bool]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), None, True
    if isinstance(source, str):
        if _looks_like_path(source):
            return open(source, "rb"), source, True
        return io.BytesIO(source.encode("utf-8", "surrogateescape")), None, True
    if isinstance(source, (os.PathLike,)):
        return open(source, "rb"), str(source), True
    if hasattr(source, "read"):
        return source, getattr(source, "name", None), False
    raise TypeError(f"cannot read X12 from {type(source).__name__}")


def _utf16(head: bytes) -> str | None:
    """The UTF-16 codec a file starting with ``head`` is in (by BOM, or by a NUL-interleaved "ISA"), or None."""
    if head.startswith((codecs.BOM_UTF16_LE, b"I\0S\0A\0")):
        return "utf-16" if head.startswith(codecs.BOM_UTF16_LE) else "utf-16-le"
    if head.startswith((codecs.BOM_UTF16_BE, b"\0I\0S\0A")):
        return "utf-16" if head.startswith(codecs.BOM_UTF16_BE) else "utf-16-be"
    return None


_UNDECODED = re.compile("[\udc80-\udcff]")  # what ``surrogateescape`` leaves for a byte that is not UTF-8


class Tokenizer:
    """Iterate over segments of one X12 stream (any number of interchanges), or over
    ``batches()`` of them.

    ``delimiters`` always holds the delimiters of the interchange whose segment
    (or batch) was yielded last; ``findings`` collects warnings met on the way (junk between
    interchanges, ISA11 'U' under 00501, a missing final terminator).
    """

    def __init__(self, source: Source, *, name: str | None = None, chunk_size: int = CHUNK_SIZE):
        self._source = source
        self.name = name if name is not None else source_name(source)
        self.chunk_size = chunk_size
        self.delimiters: Delimiters | None = None
        self.findings: list[Finding] = []
        self.interchanges = 0
        self.segments = 0
        # whether a segment after an ISA held its interchange's repetition separator so far;
        # a reader may skip splitting off repetitions in a set read while it is False
        self.repeats = False

    # ------------------------------------------------------------------
    def _where(self, index=None, offset=None, line=None, segment_id=None) -> Location:
        return Location(source=self.name, segment_index=index, offset=offset, line=line, segment_id=segment_id)

    def _chunks(self) -> Iterator[str]:
        fh, _, owned = _open(self._source)
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        undecoded = first_at = read = 0  # bytes that are not UTF-8 (kept as surrogate escapes); where the first is
        try:
            raw = fh.read(self.chunk_size)
            while raw and len(raw) < 6:  # room to see a BOM or a UTF-16 "ISA", however small the reads
                more = fh.read(self.chunk_size)
                if not more:
                    break
                raw += more
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
                self._bom = 3
            wide = _utf16(raw)
            if wide is not None:
                # a text editor's "Unicode" save; read as text, offsets then count its UTF-8 form
                decoder = codecs.getincrementaldecoder(wide)("replace")
                self.findings.append(
                    Finding("warning", "utf16", f"the file is {wide.upper()}, not ASCII/UTF-8; byte offsets "
                            "in findings count the text as UTF-8", self._where(offset=0))
                )
            while True:
                final = not raw
                start = read - len(decoder.getstate()[0])  # byte offset of this text's first character
                read += len(raw)
                text = decoder.decode(raw, final)
                if text:
                    if not text.isascii():
                        try:
                            text.encode("utf-8")  # C speed; fails only on a surrogate escape
                        except UnicodeEncodeError as exc:
                            if not undecoded:
                                first_at = self._bom + start + len(text[: exc.start].encode("utf-8", "surrogateescape"))
                            undecoded += len(_UNDECODED.findall(text, exc.start))
                    yield text
                if final:
                    break
                raw = fh.read(self.chunk_size)
            if undecoded:
                # names in legacy code pages (cp1252 'Ñ') are the usual cause; the bytes are kept,
                # so a file written back is byte-identical, but JSON shows them as \udcXX escapes
                self.findings.append(
                    Finding(
                        "warning",
                        "not_utf8",
                        f"{undecoded} byte(s) are not UTF-8 (the first at byte {first_at}); they are kept as-is",
                        self._where(offset=first_at),
                    )
                )
        finally:
            if owned:
                fh.close()

    def _read_isa(self, buf: str, at: int, offset: int, line: int, eof: bool) -> Delimiters | None:
        """Delimiters from the ISA starting at ``buf[at]``; None when more text is needed."""
        e = buf[at + 3]
        # Walk the sixteen element separators instead of trusting fixed columns:
        # real files trim ISA padding more often than the standard would like.
        pos = at + 3
        for _ in range(15):
            pos = buf.find(e, pos + 1)
            if pos < 0 or pos - at > 400:
                break
        else:
            # pos is the separator before ISA16; ISA16 is one char, then the terminator
            if pos + 2 < len(buf):
                comp, term = buf[pos + 1], buf[pos + 2]
                where = self._where(self.segments + 1, offset, line, "ISA")
                span = pos + 3 - at
                if span != _ISA_SPAN:
                    self.findings.append(
                        Finding("warning", "isa_width", f"ISA is {span} characters, not the fixed {_ISA_SPAN}", where)
                    )
                elements = buf[at:pos].split(e)
                version = elements[12].strip() if len(elements) > 12 else ""
                rep: str | None = None
                cand = elements[11] if len(elements) > 11 else ""
                # a blank ISA11 is a sender leaving it empty, not a separator: splitting on
                # spaces would cut every name and address at its first word
                separator = len(cand) == 1 and not cand.isalnum() and cand not in (e, comp, term, " ")
                if version < "00402" and separator:
                    # before 00402 ISA11 is the standards code 'U'; punctuation there is a later
                    # sender's repetition separator under a stale ISA12, and leaving it unsplit
                    # would read '1^33^35' as one code
                    rep = cand
                    self.findings.append(
                        Finding(
                            "warning",
                            "isa12_mislabeled",
                            f"ISA12 is {version or '?'} but ISA11 {cand!r} is a repetition separator (a 00402+ header); repetitions are split",
                            where,
                        )
                    )
                elif version >= "00402":  # ISA11 became the repetition separator in 00402
                    if separator:
                        rep = cand
                    else:
                        self.findings.append(
                            Finding(
                                "warning",
                                "isa11_not_separator",
                                f"ISA11 is not a repetition separator under version {version or '?'}; repetitions are not split",
                                where,
                            )
                        )
                delims = Delimiters(e, comp, rep, term)
                delims.check(where)
                return delims
            if not eof:
                return None
        if not eof:
            return None
        raise X12SyntaxError(
            f"ISA shorter than {_ISA_SPAN} bytes: the interchange header is truncated",
            self._where(self.segments + 1, offset, line, "ISA"),
        )

    # ------------------------------------------------------------------
    def __iter__(self) -> Iterator[Token]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[Token]]:
        """The segments in lists, in order: each list holds segments of one interchange."""
        self._bom = 0
        buf = ""
        base_offset = 0  # byte offset of buf[0]
        line = 1  # line of buf[0]
        seeking = True
        ascii_buf = True
        index = self.segments
        valid_ids: set[str] = set()
        chunks = self._chunks()
        eof = False
        delims: Delimiters | None = None
        while True:
            if not eof:
                try:
                    text = next(chunks)
                except StopIteration:
                    eof = True
                    text = ""
                if text:
                    if base_offset == 0 and not buf:
                        base_offset = self._bom
                    buf = buf + text if buf else text
                    ascii_buf = buf.isascii()
            while True:
                if seeking:
                    at = buf.find("ISA")
                    while at >= 0 and (at + 3 < len(buf) and buf[at + 3].isalnum()):
                        at = buf.find("ISA", at + 1)
                    skip_to = at if at >= 0 else max(0, len(buf) - 2)
                    if at < 0 and eof:
                        skip_to = len(buf)
                    skipped = buf[:skip_to]
                    if skipped:
                        if skipped.strip():
                            self.findings.append(
                                Finding(
                                    "warning",
                                    "text_outside_interchange",
                                    f"{len(skipped.strip())} characters of non-X12 text skipped",
                                    self._where(None, base_offset, line),
                                )
                            )
                        line += skipped.count("\n")
                        base_offset += len(skipped) if skipped.isascii() else len(skipped.encode("utf-8", "surrogateescape"))
                        buf = buf[skip_to:]
                    if at < 0:
                        break
                    if len(buf) < 4:
                        if eof:
                            raise X12SyntaxError(
                                f"ISA shorter than {_ISA_SPAN} bytes: the interchange header is truncated",
                                self._where(index + 1, base_offset, line, "ISA"),
                            )
                        break
                    found = self._read_isa(buf, 0, base_offset, line, eof)
                    if found is None:
                        break
                    delims = self.delimiters = found
                    seeking = False
                    self.interchanges += 1
                    continue
                # ---- IN: split complete segments --------------------------------
                e = delims.element
                t = delims.segment
                last = buf.rfind(t)
                if last < 0:
                    if not eof:
                        break
                    if not buf.strip():
                        base_offset += len(buf)
                        buf = ""
                        break
                    # final segment without a terminator: keep it, say so
                    self.findings.append(
                        Finding("warning", "missing_terminator", "last segment has no segment terminator", self._where(index + 1, base_offset, line))
                    )
                    buf += t
                    last = len(buf) - 1
                # the interchange ends with its IEA: split up to there, then seek the next ISA
                iea_end = _iea_end(buf, last, t, e)
                if iea_end >= 0:
                    last = iea_end
                body = buf[:last]
                rest = buf[last + 1 :]
                r = delims.repetition
                if r is not None and not self.repeats:
                    # a body opening an interchange starts with its ISA, whose ISA11 is the separator
                    # (the body stops short of its last terminator: it may be the ISA alone)
                    start = 0
                    if body.startswith("ISA"):
                        start = body.find(t) + 1 or len(body)
                    if body.find(r, start) >= 0:
                        self.repeats = True
                if ascii_buf:
                    fast = _fast_batch(body, t, e, base_offset, line, index, valid_ids)
                    if fast is not None:
                        batch, base_offset, line, index = fast
                        self.segments = index
                        yield batch
                        buf = rest
                        if iea_end >= 0:
                            seeking = True
                        elif not eof or not buf.strip():
                            break
                        continue
                has_nl = "\n" in body
                term_nl = 1 if t == "\n" else 0
                off = base_offset
                pieces = body.split(t)
                consumed = 0  # characters of buf consumed by processed pieces
                ended = False
                batch = []
                for raw in pieces:
                    n = len(raw)
                    seg_off = off
                    seg_line = line
                    if raw and raw[0] in _WS:
                        s = raw.lstrip()
                        lead = n - len(s)
                        if has_nl:
                            seg_line = line + raw.count("\n", 0, lead)
                        seg_off = off + (lead if ascii_buf else len(raw[:lead].encode("utf-8", "surrogateescape")))
                    else:
                        s = raw
                    if has_nl:
                        line += raw.count("\n")
                    line += term_nl
                    consumed += n + 1
                    off += (n + 1) if ascii_buf else len(raw.encode("utf-8", "surrogateescape")) + len(t.encode('utf-8', 'surrogateescape'))
                    if not s:
                        continue
                    if s[-1] == "\r" or s[-1] == "\n":
                        s = s.rstrip("\r\n")
                    els = s.split(e)
                    sid = els[0]
                    index += 1
                    if sid not in valid_ids:
                        if not _valid_segment_id(sid):
                            self.segments = index
                            if batch:  # the segments before the bad one still reach the caller
                                yield batch
                            shown = sid[:8].encode("ascii", "backslashreplace").decode()
                            raise X12SyntaxError(
                                f"segment id {shown!r} is not 2-3 upper-case letters or digits",
                                self._where(index, seg_off, seg_line),
                            )
                        valid_ids.add(sid)
                    batch.append((els, index, seg_off, seg_line))
                    if sid == "IEA":
                        ended = True
                        break
                self.segments = index
                if batch:
                    yield batch
                if ended:
                    remaining = buf[consumed:]
                    base_offset = off
                    buf = remaining
                    seeking = True
                    continue
                buf = rest
                base_offset = off
                if not eof or not buf.strip():
                    break
            if eof:
                break
        if not seeking:  # inside an interchange when the input ran out
            raise X12SyntaxError(
                "truncated interchange: end of input before IEA",
                self._where(index, base_offset, line),
            )
        if self.interchanges == 0:
            raise X12SyntaxError("no ISA segment found: this is not an X12 interchange", self._where(None, 0, 1))


def _iea_end(buf: str, last: int, t: str, e: str) -> int:
    """Index of the terminator ending the first IEA segment in ``buf[:last + 1]``, or -1.

    A segment is an IEA by the general loop's rule: its text after the previous
    terminator, less leading blanks and trailing CR/LF, has the id ``IEA``.
    """
    k = buf.find("IEA", 0, last)
    while k >= 0:
        start = buf.rfind(t, 0, k) + 1
        end = buf.find(t, k)
        if not buf[start:k].strip() and buf[k:end].rstrip("\r\n").split(e, 1)[0] == "IEA":
            return end
        k = buf.find("IEA", k + 1, last)
    return -1


def _fast_batch(body: str, t: str, e: str, offset: int, line: int, index: int, valid_ids: set):
    """Split a whole run of complete segments with C-level operations.

    Applies to the two layouts nearly every file uses — one long line, or one
    segment per line — in ASCII text. Returns None for anything else (stray CR
    or LF, several segments on a line of a one-per-line file, a segment id not
    seen before that turns out invalid — which is also how indented and empty
    segments show) and the general loop handles it.
    """
    if t == "\n" or t == "\r":
        other = "\r" if t == "\n" else "\n"
        if not body or other in body:
            return None
        sep = t
        pieces = body.split(t)
        n = len(pieces)
        lines = _numbered(line, index) if t == "\n" else itertools.repeat(line)
        next_line = line + n if t == "\n" else line
        return _finish_batch(body, pieces, n, sep, t, e, offset, lines, next_line, index, valid_ids)
    if body[:1] == "\r":
        body = body[1:]
        offset += 1
    if body[:1] == "\n":
        body = body[1:]
        offset += 1
        line += 1
    if not body or body[0] in _WS:
        return None
    nl = body.find("\n")
    if nl >= 0:
        # the first line break tells the layout; the counts below check every other one
        sep = t + "\r\n" if body[nl - 2 : nl] == t + "\r" else t + "\n"
        pieces = body.split(sep)
        n = len(pieces)
        if body.count("\n") != n - 1 or (sep[1] != "\r" and "\r" in body) or body.count(t) != n - 1:
            return None
        lines = _numbered(line, index)
        next_line = line + n - 1
    else:
        if "\r" in body:
            return None
        sep = t
        pieces = body.split(t)
        n = len(pieces)
        lines = itertools.repeat(line)
        next_line = line
    return _finish_batch(body, pieces, n, sep, t, e, offset, lines, next_line, index, valid_ids)


def _finish_batch(body, pieces, n, sep, t, e, offset, lines, next_line, index, valid_ids):
    with paused_gc():  # ~100k young containers at once, none of them in a cycle
        elements = list(map(str.split, pieces, itertools.repeat(e, n)))  # C-level loop
        size = len(sep)
        offsets = itertools.accumulate(map(size.__add__, map(len, pieces)), initial=offset)
        if lines is None:  # one segment per line, numbered as the segments are: one int serves both
            numbers = list(range(index + 1, index + 1 + n))
            batch = list(zip(elements, numbers, offsets, numbers))
        else:
            batch = list(zip(elements, itertools.count(index + 1), offsets, lines))
    ids = set(map(_first, elements))
    if not ids <= valid_ids:
        for sid in ids - valid_ids:
            if not _valid_segment_id(sid):
                return None
        valid_ids |= ids
    end = batch[-1][2] + len(pieces[-1]) + len(t)  # just past the last terminator
    return batch, end, next_line, index + n


_first = operator.itemgetter(0)


def _numbered(line: int, index: int) -> Iterator[int] | None:
    """Line numbers of a batch with one segment per line, starting at ``line``; None when
    they are the segment indices themselves (the usual layout: ISA on line 1)."""
    return None if line == index + 1 else itertools.count(line)


def tokenize(source: Source, **kw) -> Iterator[Token]:
    """Segments of ``source`` (bytes, str, path or binary file object), streamed."""
    return iter(Tokenizer(source, **kw))


def source_name(source: Source) -> str | None:
    if isinstance(source, str):
        return source if _looks_like_path(source) else None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return None
    if isinstance(source, Path) or isinstance(source, os.PathLike):
        return str(source)
    return getattr(source, "name", None)
