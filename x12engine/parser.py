"""Segments → loop tree.

Two small state machines:

* the envelope machine (OUT → INTERCHANGE → GROUP → TRANSACTION) owns ISA/GS/ST/
  SE/GE/IEA/TA1 and repairs nothing silently: a missing trailer is a finding, a
  stray segment is kept as :class:`~x12engine.tree.Unexpected`;
* the transaction machine places each body segment with one lookup in the
  guide's :class:`~x12engine.placement.PlacementTable`.

``parse`` returns a whole :class:`~x12engine.tree.Document`; ``iter_transactions``
streams transaction sets one at a time for files that do not fit in memory.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Iterator

from . import registry
from .errors import Finding, Location
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

    def __init__(self, table: PlacementTable | None, where: Location, comp: str, name: str = "", rep: str | None = None):
        self.table = table
        self.root = Loop("ST_LOOP", name)
        self.stack: list = [(table.guide.root if table else None, self.root)]
        self.state = table.start if table else None
        self.hl: dict[str, Loop] = {}
        self.findings: list[Finding] = []
        self.where = where
        self.comp = comp
        self.rep = rep
        self.unexpected = 0
        self.cur = self.root.children  # children of the innermost open loop

    def feed(self, tok: tuple) -> None:
        els = tok[0]
        sid = els[0]
        state = self.state
        if state is None:  # no grammar: keep the segments flat
            self.cur.append(tok)
            return
        places = state.places.get(sid)
        if places is None:
            places = self.table.places(state, sid)
        for target, pops, pushes, keys in places:
            if keys:
                ok = True
                for ei, ci, codes in keys:
                    v = els[ei] if ei < len(els) else ""
                    if ci is not None:
                        parts = v.split(self.comp)
                        v = parts[ci - 1] if ci <= len(parts) else ""
                    if v not in codes and not (self.rep and self.rep in v and v.split(self.rep, 1)[0] in codes):
                        ok = False
                        break
                if not ok:
                    continue
            if pops or pushes:
                stack = self.stack
                if pops:
                    del stack[-pops:]
                inst = stack[-1][1]
                for loop_node in pushes:
                    new = Loop(loop_node.id, loop_node.name)
                    parent = inst
                    if sid == "HL" and len(els) > 2:
                        # HL loops hang under the level HL02 names (document order is kept by index)
                        if els[2]:
                            parent = self.hl.get(els[2], inst)
                        self.hl[els[1]] = new
                    parent.children.append(new)
                    stack.append((loop_node, new))
                    inst = new
                self.cur = inst.children
            self.cur.append(tok)
            self.state = target
            return
        loop_id = self.stack[-1][0].id
        self.cur.append(Unexpected(tok))
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


_ENVELOPE = frozenset(("ISA", "GS", "ST", "SE", "GE", "IEA"))


class Reader:
    """Reads one X12 stream; ``parse()`` for a document, ``transactions()`` to stream."""

    def __init__(self, source: Source, *, name: str | None = None, chunk_size: int | None = None):
        self.name = name if name is not None else source_name(source)
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

    def _choose(self, st: tuple, group: Group, inter: Interchange):
        """Return (entries, version_matched) for this ST."""
        els = st[0]
        st01 = els[1] if len(els) > 1 else ""
        version = els[3] if len(els) > 3 and els[3] else group.version
        return registry.candidates(st01, version), version

    # -- the envelope machine ------------------------------------------------
    def transactions(self, keep: bool = False) -> Iterator[Context]:
        """Stream transaction sets; with ``keep`` they also stay in ``self.document``."""
        inter: Interchange | None = None
        group: Group | None = None
        txn: list | None = None  # [ST token, buffered tokens, body machine or None, entries]
        state = "OUT"
        doc = self.document
        tokenizer = self.tokenizer

        def close_txn(se: tuple | None) -> Context:
            nonlocal txn
            st, body = txn[0], txn[2]
            if se is not None:
                body.feed(se)
            if se is None:
                self._finding("error", "missing_se", "transaction set has no SE trailer", self._loc(st, inter, group, st[0][2] if len(st[0]) > 2 else None))
            self.findings.extend(body.findings)
            guide = body.table.guide if body.table else None
            t = Transaction(st, body.root, guide.guide if guide else None, guide.name if guide else None, se)
            t.findings = body.findings
            if keep:
                group.transactions.append(t)
            txn = None
            return Context(inter, group, t)

        for tok in tokenizer:
            sid = tok[0][0]
            if state == "TRANSACTION":
                if sid not in _ENVELOPE:
                    body = txn[2]
                    if body is not None:
                        body.feed(tok)
                    else:
                        txn[1].append(tok)
                        self._maybe_select(txn, tok, inter, group)
                    continue
                if sid == "SE":
                    if txn[2] is None:
                        yield self._close_buffered(txn, tok, inter, group, keep)
                        txn = None
                    else:
                        yield close_txn(tok)
                    state = "GROUP"
                    continue
                else:
                    if txn[2] is None:
                        yield self._close_buffered(txn, None, inter, group, keep)
                        txn = None
                    else:
                        yield close_txn(None)
                    state = "GROUP"
                    # fall through to handle the envelope segment
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
                entries, version = self._choose(tok, group, inter)
                txn = self._open_txn(tok, entries, version, inter, group)
                state = "TRANSACTION"
            else:
                container = group if state == "GROUP" else inter
                container.unexpected.append(Unexpected(tok, f"{sid} outside a transaction set"))
                self._finding("error", "unexpected_segment", f"segment {sid} outside a transaction set", self._loc(tok, inter, group))
        if state == "TRANSACTION" and txn is not None:
            yield self._close_buffered(txn, None, inter, group, keep) if txn[2] is None else close_txn(None)
        self.findings[:0] = tokenizer.findings
        doc.findings = self.findings

    # -- guide choice ------------------------------------------------------------
    def _open_txn(self, st: tuple, found, version: str, inter: Interchange, group: Group) -> list:
        entries, matched = found
        ctl = st[0][2] if len(st[0]) > 2 else None
        where = self._loc(st, inter, group, ctl)
        if not entries:
            st01 = st[0][1] if len(st[0]) > 1 else ""
            self._finding(
                "error",
                "no_grammar",
                f"no grammar for transaction set {st01!r} version {version!r}; segments kept unplaced",
                where,
            )
            body = _Body(None, where, inter.delimiters.component, rep=inter.delimiters.repetition)
            body.feed(st)
            return [st, [], body, entries, version, matched]
        if len(entries) == 1:
            e = entries[0]
            if not matched:
                self._finding("warning", "version_mismatch", f"version {version!r} is not a label of {e.guide}; reading it as {e.guide}", where)
            body = _Body(e.table(), where, inter.delimiters.component, rep=inter.delimiters.repetition)
            body.feed(st)
            return [st, [], body, entries, version, matched]
        return [st, [st], None, entries, version, matched]

    def _maybe_select(self, txn: list, tok: tuple, inter: Interchange, group: Group) -> None:
        st, buffered, _, entries, version, matched = txn
        sel = [e for e in entries if e.select and e.select[0] == tok[0][0]]
        if not sel:
            return
        els = tok[0]
        chosen = []
        for e in sel:
            _, ei, ci, codes = e.select
            v = els[ei] if ei < len(els) else ""
            if ci is not None:
                parts = v.split(inter.delimiters.component)
                v = parts[ci - 1] if ci <= len(parts) else ""
            if v in codes:
                chosen.append(e)
        if len(chosen) == 1:
            where = self._loc(st, inter, group, st[0][2] if len(st[0]) > 2 else None)
            if not matched:
                self._finding("warning", "version_mismatch", f"version {version!r} is not a label of {chosen[0].guide}", where)
            body = _Body(chosen[0].table(), where, inter.delimiters.component, rep=inter.delimiters.repetition)
            for b in buffered:
                body.feed(b)
            txn[1] = []
            txn[2] = body

    def _decide(self, st, buffered, entries, version, matched, inter, group) -> _Body:
        """Several guides could read this set: read it with each, keep the best fit."""
        where = self._loc(st, inter, group, st[0][2] if len(st[0]) > 2 else None)
        best = None
        for e in entries:
            body = _Body(e.table(), where, inter.delimiters.component, rep=inter.delimiters.repetition)
            for b in buffered:
                body.feed(b)
            if best is None or body.unexpected < best.unexpected:
                best = body
        self._finding(
            "warning",
            "guide_by_fit",
            f"version {version!r} does not pick one guide; read as {best.table.guide.guide} ({best.table.guide.name}), the best fit",
            where,
        )
        return best

    def _close_buffered(self, txn: list, se: tuple | None, inter: Interchange, group: Group, keep: bool) -> Context:
        st, buffered, body, entries, version, matched = txn
        if se is not None and (not buffered or buffered[-1] is not se):
            buffered.append(se)
        body = self._decide(st, buffered, entries, version, matched, inter, group)
        if se is None:
            self._finding("error", "missing_se", "transaction set has no SE trailer", self._loc(st, inter, group, st[0][2] if len(st[0]) > 2 else None))
        self.findings.extend(body.findings)
        guide = body.table.guide
        t = Transaction(st, body.root, guide.guide, guide.name, se)
        t.findings = body.findings
        if keep:
            group.transactions.append(t)
        return Context(inter, group, t)

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


def parse(source: Source, *, name: str | None = None) -> Document:
    """Parse a whole X12 stream into a :class:`Document` (every interchange, group, set)."""
    return Reader(source, name=name).parse()


def iter_transactions(source: Source, *, name: str | None = None) -> Iterator[Context]:
    """Stream transaction sets with their envelope context, in bounded memory."""
    return Reader(source, name=name).transactions(keep=False)
