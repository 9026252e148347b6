"""Segments → loop tree.

Two small state machines:

* the envelope machine (OUT → INTERCHANGE → GROUP → TRANSACTION) owns ISA/GS/ST/
  SE/GE/IEA/TA1 (the structure ``grammars/envelope.x12g`` describes) and repairs
  nothing silently: a missing trailer is a finding, a stray segment is kept as
  :class:`~x12engine.tree.Unexpected`;
* the transaction machine places each body segment with one lookup in the
  guide's :class:`~x12engine.placement.PlacementTable`.

The tokenizer hands over segments in batches; the envelope machine looks at
envelope segments only and passes each run of body segments to the transaction
machine in one call (``_Body.run``), which stops at the next envelope segment.

``parse`` returns a whole :class:`~x12engine.tree.Document`; ``iter_transactions``
streams transaction sets one at a time for files that do not fit in memory.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Iterator

from . import registry
from .errors import Finding, Location
from .grammar import load_envelope, value_at
from .placement import PlacementTable
from .tokenizer import Delimiters, Source, Tokenizer, source_name
from .tree import Document, Group, Interchange, Loop, Transaction, Unexpected


@dataclass(slots=True)
class Context:
    """Envelope context handed out with each streamed transaction set."""

    interchange: Interchange
    group: Group
    transaction: Transaction


class _Body:
    """The transaction machine: places body segments of one transaction set."""

    __slots__ = ("table", "root", "stack", "state", "hl", "findings", "where", "comp", "rep", "unexpected", "cur")

    def __init__(self, table: PlacementTable | None, where: Location, delimiters: Delimiters):
        self.table = table
        self.root = Loop("ST_LOOP", table.guide.root.name if table else "")
        self.stack: list[Loop] = [self.root]  # the open loops, innermost last
        self.state = table.start if table else None
        self.hl: dict[str, Loop] = {}
        self.findings: list[Finding] = []
        self.where = where
        self.comp = delimiters.component
        self.rep = delimiters.repetition
        self.unexpected = 0
        self.cur = self.root.children  # children of the innermost open loop

    def feed(self, tok: tuple) -> None:
        """Place one segment."""
        self.run((tok,), 0, _NOTHING)

    def run(self, toks: list, i: int, stop: frozenset[str]) -> int:
        """Place ``toks[i]``, ``toks[i + 1]`` ... up to the first segment whose id is
        in ``stop`` (an envelope segment, left to the envelope machine); return its
        index, or ``len(toks)``. This is the hot loop: the position in the guide
        (``state``) and the open loop's children (``cur``) live in locals."""
        n = len(toks)
        state = self.state
        cur = self.cur
        if state is None:  # no grammar: keep the segments flat
            while i < n and toks[i][0][0] not in stop:
                cur.append(toks[i])
                i += 1
            return i
        places_for = self.table.places
        comp, rep = self.comp, self.rep
        while i < n:
            tok = toks[i]
            els = tok[0]
            sid = els[0]
            if sid in stop:
                break
            i += 1
            places = state.places.get(sid)
            if places is None:
                places = places_for(state, sid)
            for target, pops, pushes, keys in places:
                if keys:
                    ok = True
                    for ei, ci, codes in keys:
                        if ci is None and ei < len(els) and els[ei] in codes:
                            continue
                        if value_at(els, ei, ci, comp, rep) not in codes:
                            ok = False
                            break
                    if not ok:
                        continue
                if pops or pushes:
                    cur = self._move(pops, pushes, els)
                cur.append(tok)
                state = target
                break
            else:
                self._unexpected(tok, cur)
        self.state = state
        self.cur = cur
        return i

    def _move(self, pops: int, pushes: tuple, els: list) -> list:
        """Close ``pops`` loops, open ``pushes``; the children list of the new innermost loop."""
        stack = self.stack
        if pops:
            del stack[-pops:]
        inst = stack[-1]
        for loop_node in pushes:
            new = Loop(loop_node.id, loop_node.name)
            parent = inst
            if els[0] == "HL" and len(els) > 2:
                # HL loops hang under the level HL02 names (document order is kept by index)
                if els[2]:
                    parent = self.hl.get(els[2], inst)
                self.hl[els[1]] = new
            parent.children.append(new)
            stack.append(new)
            inst = new
        return inst.children

    def _unexpected(self, tok: tuple, cur: list) -> None:
        sid = tok[0][0]
        loop_id = self.stack[-1].id
        cur.append(Unexpected(tok))
        self.unexpected += 1
        w = self.where
        self.findings.append(
            Finding(
                "error",
                "unexpected_segment",
                f"segment {sid} has no place here in {self.table.guide.guide}",
                Location(w.source, w.interchange, w.group, w.transaction, tok[1], tok[3], tok[2], sid, loop_id),
            )
        )


_NOTHING: frozenset[str] = frozenset()


@cache
def control_segments() -> frozenset[str]:
    """Headers and trailers of the envelope loops (ISA/IEA, GS/GE, ST/SE), from
    ``grammars/envelope.x12g``: any of them ends an open transaction set."""
    return load_envelope().control_segments()


class _OpenSet:
    """A transaction set being read: its body machine, or, while several guides
    could read it, the buffered segments until a select rule or the trial decides."""

    __slots__ = ("reader", "st", "where", "inter", "group", "entries", "version", "matched", "buffered", "body")

    def __init__(self, reader, st, where, inter, group, entries, version, matched):
        self.reader = reader
        self.st = st
        self.where = where
        self.inter = inter
        self.group = group
        self.entries = entries
        self.version = version
        self.matched = matched
        self.buffered: list[tuple] = [st]
        self.body: _Body | None = None

    def start(self, entry) -> None:
        if entry is not None and not self.matched:
            self.reader._finding(
                "warning", "version_mismatch", f"version {self.version!r} is not a label of {entry.guide}; reading it as {entry.guide}", self.where
            )
        self.body = self._read_with(entry)
        self.buffered = []

    def _read_with(self, entry) -> _Body:
        body = _Body(entry.table() if entry is not None else None, self.where, self.inter.delimiters)
        body.run(self.buffered, 0, _NOTHING)
        return body

    def run(self, toks: list, i: int, stop: frozenset[str]) -> int:
        """As :meth:`_Body.run`; until a guide is chosen, one segment at a time."""
        n = len(toks)
        while self.body is None and i < n and toks[i][0][0] not in stop:
            self.feed(toks[i])
            i += 1
        return self.body.run(toks, i, stop) if self.body is not None else i

    def feed(self, tok: tuple) -> None:
        if self.body is not None:
            self.body.feed(tok)
            return
        self.buffered.append(tok)
        d = self.inter.delimiters
        chosen = [
            e for e in self.entries
            if e.select and e.select[0] == tok[0][0] and value_at(tok[0], e.select[1], e.select[2], d.component, d.repetition) in e.select[3]
        ]
        if len(chosen) == 1:
            self.start(chosen[0])

    def finish(self) -> _Body:
        """The body machine; when no rule picked a guide, the best fit by unplaced segments."""
        if self.body is None:
            self.body = min((self._read_with(e) for e in self.entries), key=lambda b: b.unexpected)
            g = self.body.table.guide
            self.reader._finding(
                "warning", "guide_by_fit", f"version {self.version!r} does not pick one guide; read as {g.guide} ({g.name}), the best fit", self.where
            )
        return self.body


class Reader:
    """Reads one X12 stream; ``parse()`` for a document, ``transactions()`` to stream."""

    def __init__(self, source: Source, *, name: str | None = None, chunk_size: int | None = None, guide: "str | Path | None" = None):
        self.name = name if name is not None else source_name(source)
        # guide: a .x12g file that reads every set with its ST01, whatever the version says
        self.forced = registry.entry_for(Path(guide)) if guide is not None else None
        kw = {"chunk_size": chunk_size} if chunk_size else {}
        self.tokenizer = Tokenizer(source, name=self.name, **kw)
        self.findings: list[Finding] = []
        self.document = Document(source=self.name)

    # -- helpers ---------------------------------------------------------------
    def _loc(self, tok, inter: Interchange | None = None, group: Group | None = None, txn: str | None = None) -> Location:
        return Location(
            source=self.name,
            interchange=inter.control_number if inter else None,
            group=group.control_number if group else None,
            transaction=txn,
            segment_index=tok[1] if tok else None,
            line=tok[3] if tok else None,
            offset=tok[2] if tok else None,
            segment_id=tok[0][0] if tok else None,
        )

    def _finding(self, severity: str, code: str, message: str, where: Location) -> None:
        self.findings.append(Finding(severity, code, message, where))

    # -- the envelope machine ------------------------------------------------
    def transactions(self, keep: bool = False) -> Iterator[Context]:
        """Stream transaction sets; with ``keep`` they also stay in ``self.document``."""
        inter: Interchange | None = None
        group: Group | None = None
        open_set: _OpenSet | None = None
        state = "OUT"
        doc = self.document
        tokenizer = self.tokenizer
        control = control_segments()

        for batch in tokenizer.batches():
            i, n = 0, len(batch)
            while i < n:
                if state == "TRANSACTION":
                    # the set's body goes to its machine in one call, up to the next envelope segment
                    i = open_set.run(batch, i, control)
                    if i == n:
                        break
                tok = batch[i]
                i += 1
                sid = tok[0][0]
                if state == "TRANSACTION":  # an envelope segment ends the set
                    trailer = tok if sid == "SE" else None
                    yield self._close(open_set, trailer, keep)
                    open_set = None
                    state = "GROUP"
                    if trailer is not None:
                        continue
                    # any other envelope segment is handled below
                if sid == "ISA":
                    if state != "OUT":
                        self._finding("error", "missing_iea", "interchange has no IEA trailer", self._loc(tok, inter))
                    inter = Interchange(tok, tokenizer.delimiters)
                    doc.interchanges.append(inter)
                    group = None
                    state = "INTERCHANGE"
                elif sid == "IEA":
                    if state == "GROUP":
                        self._finding("error", "missing_ge", "functional group has no GE trailer", self._loc(tok, inter, group))
                    inter.trailer = tok
                    state = "OUT"
                elif sid == "GS":
                    if state == "GROUP":
                        self._finding("error", "missing_ge", "functional group has no GE trailer", self._loc(tok, inter, group))
                    group = Group(tok)
                    inter.groups.append(group)
                    state = "GROUP"
                elif sid == "GE":
                    if state != "GROUP":
                        inter.unexpected.append(Unexpected(tok, "GE outside a functional group"))
                        self._finding("error", "unexpected_segment", "GE outside a functional group", self._loc(tok, inter))
                    else:
                        group.trailer = tok
                        state = "INTERCHANGE"
                elif sid == "TA1" and state == "INTERCHANGE":
                    inter.acknowledgments.append(tok)
                elif sid == "ST":
                    if state != "GROUP":
                        self._finding("error", "missing_gs", "transaction set outside a functional group", self._loc(tok, inter))
                        group = Group((["GS"], None, None, None))
                        inter.groups.append(group)
                    open_set = self._open(tok, inter, group)
                    state = "TRANSACTION"
                else:
                    container = group if state == "GROUP" else inter
                    container.unexpected.append(Unexpected(tok, f"{sid} outside a transaction set"))
                    self._finding("error", "unexpected_segment", f"segment {sid} outside a transaction set", self._loc(tok, inter, group))
        if open_set is not None:
            yield self._close(open_set, None, keep)
        self.findings[:0] = tokenizer.findings
        doc.findings = self.findings

    # -- guide choice ------------------------------------------------------------
    def _open(self, st: tuple, inter: Interchange, group: Group) -> "_OpenSet":
        els = st[0]
        st01 = els[1] if len(els) > 1 else ""
        version = els[3] if len(els) > 3 and els[3] else group.version
        if self.forced is not None and self.forced.transaction == st01:
            entries, matched = [self.forced], True
        else:
            entries, matched = registry.candidates(st01, version)
        where = self._loc(st, inter, group, els[2] if len(els) > 2 else None)
        open_set = _OpenSet(self, st, where, inter, group, entries, version, matched)
        if not entries:
            self._finding("error", "no_grammar", f"no grammar for transaction set {st01!r} version {version!r}; segments kept unplaced", where)
            open_set.start(None)
        elif len(entries) == 1:
            open_set.start(entries[0])
        return open_set

    def _close(self, open_set: "_OpenSet", se: tuple | None, keep: bool) -> Context:
        if se is not None:
            open_set.feed(se)
        body = open_set.finish()
        if se is None:
            self._finding("error", "missing_se", "transaction set has no SE trailer", open_set.where)
        self.findings.extend(body.findings)
        guide = body.table.guide if body.table else None
        t = Transaction(open_set.st, body.root, guide.guide if guide else None, guide.name if guide else None, se)
        t.findings = body.findings
        if keep:
            open_set.group.transactions.append(t)
        return Context(open_set.inter, open_set.group, t)

    def parse(self) -> Document:
        # The tree holds every segment and has no reference cycles; letting the
        # cyclic GC rescan it while it grows costs ~40% of the parse time.
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            for _ in self.transactions(keep=True):
                pass
        finally:
            if paused:
                gc.enable()
        return self.document


def parse(source: Source, *, name: str | None = None, guide: "str | Path | None" = None) -> Document:
    """Parse a whole X12 stream into a :class:`Document` (every interchange, group, set)."""
    return Reader(source, name=name, guide=guide).parse()


def iter_transactions(source: Source, *, name: str | None = None) -> Iterator[Context]:
    """Stream transaction sets with their envelope context, in bounded memory."""
    return Reader(source, name=name).transactions(keep=False)
