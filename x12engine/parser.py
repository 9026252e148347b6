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

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Iterator

from . import registry
from .errors import Finding, Location
from .grammar import value_at
from .placement import PlacementTable, control_segments
from .tokenizer import Delimiters, Source, Tokenizer, source_name
from .tree import Document, Group, Interchange, Loop, Transaction, Unexpected
from .gcpause import paused_gc


@dataclass(slots=True)
class Context:
    """Envelope context handed out with each streamed transaction set.

    When streaming by unit (:func:`iter_units`), ``part`` says what ``transaction``
    holds: ``"unit"`` — one unit loop (an 837 claim, an 835 claim payment) with
    its context loops (billing provider, subscriber, payer ...); ``"other"`` — a
    loop that can hold units but closed without one (a subscriber with no claim),
    with its context; ``"rest"`` — what the set holds besides its units (an 835's
    PLB and SE); ``None`` is a whole set.
    """

    interchange: Interchange
    group: Group
    transaction: Transaction
    part: str | None = None
    index: int = 0  # the unit's number within its set (1-based), 0 for whole sets and rests


class Units:
    """How to cut one guide's sets into units: the unit loop id and the loops that
    can contain one (closed carriers are dropped from the tree, so memory stays
    bounded by one unit plus its context however large the set is)."""

    __slots__ = ("unit", "carriers")

    def __init__(self, guide_root, unit: str):
        self.unit = unit
        carriers: set[str] = set()

        def walk(node) -> bool:
            found = False
            for child in node.children:
                if hasattr(child, "children"):
                    if child.id == unit or walk(child):
                        found = True
            if found:
                carriers.add(node.id)
            return found

        walk(guide_root)
        carriers.discard(guide_root.id)
        self.carriers = frozenset(carriers)


class _Body:
    """The transaction machine: places body segments of one transaction set."""

    __slots__ = ("table", "root", "stack", "state", "hl", "findings", "where", "comp", "rep", "unexpected", "cur",
                 "units", "parts", "context", "given", "handed", "opened", "placed", "places", "idx", "rsplit")

    def __init__(self, table: PlacementTable | None, where: Location, delimiters: Delimiters, units: Units | None = None,
                 record: bool = False):
        self.table = table
        self.root = Loop("ST_LOOP", table.guide.root.name if table else "", index={} if table else None)
        self.stack: list[Loop] = [self.root]  # the open loops, innermost last
        self.state = table.start if table else None
        self.hl: dict[str, Loop] = {}
        self.findings: list[Finding] = []
        self.where = where
        self.comp = delimiters.component
        self.rep = delimiters.repetition
        self.rsplit = delimiters.repetition_or_never
        self.unexpected = 0
        self.cur = self.root.children  # children of the innermost open loop
        self.idx = self.root.index  # and its index
        self.units = units
        self.parts: list[tuple[str, Loop, list[Finding]]] = []  # units closed and cut out, not yet handed out
        self.handed = 0  # parts cut so far
        self.opened: dict[int, int] = {}  # id(open carrier) → parts cut before it opened
        self.context: set[int] | None = None  # ids of the root's children when the first unit was cut
        self.given = 0  # findings already handed out with a unit
        # record=True: every token in document order and the place it took (None: unplaced), so a
        # validator checks the structure the reader decided instead of deciding it again
        self.placed: list[tuple] | None = [] if record and table is not None else None
        self.places: list[tuple | None] | None = [] if record and table is not None else None

    def feed(self, tok: tuple) -> None:
        """Place one segment."""
        self.run((tok,), 0, _NOTHING)

    def run(self, toks: list, i: int, stop: frozenset[str]) -> int:
        """Place ``toks[i]``, ``toks[i + 1]`` ... up to the first segment whose id is
        in ``stop`` (an envelope segment, left to the envelope machine; ``quick``
        tables never list one, see ``placement.control_segments``); return its
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
        rsplit = self.rsplit
        idx = self.idx
        placed, record = self.placed, self.places
        while i < n:
            tok = toks[i]
            els = tok[0]
            sid = els[0]
            place = None
            quick = state.quick.get(sid)  # one element's value decides the place (never for an envelope segment)
            if quick is not None:
                e, by_value = quick
                if e < len(els):
                    place = by_value.get(els[e])
            if place is None:  # the full test: each place's keys in turn
                if sid in stop:
                    break
                places = state.places.get(sid)
                if places is None:
                    places = places_for(state, sid)
                for place in places:
                    keys = place[3]
                    if keys:  # placement.keys_match, inlined: this loop runs once per segment
                        ok = True
                        for ei, ci, codes in keys:
                            if ci is None and ei < len(els):
                                v = els[ei]
                                if v in codes:
                                    continue
                                if rsplit not in v:  # no repetition to split off: a plain miss
                                    ok = False
                                    break
                            if value_at(els, ei, ci, comp, rep) not in codes:
                                ok = False
                                break
                        if not ok:
                            continue
                    break
                else:
                    i += 1
                    self._unexpected(tok, cur)
                    if record is not None:
                        placed.append(tok)
                        record.append(None)
                    continue
            i += 1
            if place[1] or place[2]:
                cur = self._move(place[1], place[2], els)
                idx = self.idx
            cur.append(tok)
            same = idx.get(sid)
            if same is None:
                idx[sid] = [tok]
            else:
                same.append(tok)
            state = place[0]
            if record is not None:
                placed.append(tok)
                record.append(place)
        self.state = state
        self.cur = cur
        self.idx = idx
        return i

    def _move(self, pops: int, pushes: tuple, els: list) -> list:
        """Close ``pops`` loops, open ``pushes``; the children list of the new innermost loop."""
        stack = self.stack
        if pops:
            if self.units is not None:
                self._cut(pops)
            del stack[-pops:]
        inst = stack[-1]
        for loop_node in pushes:
            new = Loop(loop_node.id, loop_node.name, [], {})
            parent = inst
            if els[0] == "HL" and len(els) > 2:
                # HL loops hang under the level HL02 names (document order is kept by index)
                if els[2]:
                    parent = self.hl.get(els[2], inst)
                self.hl[els[1]] = new
            parent.children.append(new)
            same = parent.index.get(loop_node.id)
            if same is None:
                parent.index[loop_node.id] = [new]
            else:
                same.append(new)
            stack.append(new)
            inst = new
            if self.units is not None and loop_node.id in self.units.carriers:
                self.opened[id(new)] = self.handed
        self.idx = inst.index
        return inst.children

    def _cut(self, pops: int) -> None:
        """The innermost ``pops`` open loops are closing: hand out each unit among them
        with a copy of its context, and drop closed units and carriers from the tree."""
        stack = self.stack
        unit, carriers = self.units.unit, self.units.carriers
        for j in range(len(stack) - 1, len(stack) - 1 - pops, -1):
            loop = stack[j]
            if loop.id == unit:
                self._hand_out(j, "unit")
            elif loop.id not in carriers:
                continue
            elif self.opened.pop(id(loop), self.handed) == self.handed:
                self._hand_out(j, "other")  # a carrier that held no unit (a subscriber without claims)
            parent = stack[j - 1]
            siblings = parent.children
            cut = True
            if siblings and siblings[-1] is loop:
                siblings.pop()
            elif loop in siblings:  # an HL02 that hung it elsewhere is left in place
                siblings.remove(loop)
            else:
                cut = False
            if cut:
                same = parent.index[loop.id]
                if same[-1] is loop:
                    same.pop()
                else:
                    same.remove(loop)
                if not same:
                    del parent.index[loop.id]
            first = loop.children[0] if loop.children else None
            if type(first) is tuple and first[0][0] == "HL" and len(first[0]) > 1 and self.hl.get(first[0][1]) is loop:
                del self.hl[first[0][1]]

    def _hand_out(self, j: int, kind: str) -> None:
        stack = self.stack
        if self.context is None:
            self.context = {id(c) for c in self.root.children}
        inner: Loop = stack[j]
        for k in range(j - 1, -1, -1):
            anc = stack[k]
            nxt = stack[k + 1]
            copy = Loop(anc.id, anc.name, [inner if c is nxt else c for c in anc.children])
            inner = copy
        found = self.findings[self.given:]
        self.given = len(self.findings)
        self.parts.append((kind, inner, found))
        self.handed += 1

    def close_units(self) -> bool:
        """At the set's end: cut the units still open; whether anything outside the
        units and their context is left (or no unit was ever cut)."""
        if len(self.stack) > 1:
            self._cut(len(self.stack) - 1)
            del self.stack[1:]
            self.cur = self.root.children
            self.idx = self.root.index
        if self.context is None:
            return True
        return any(id(c) not in self.context for c in self.root.children if not (type(c) is tuple and c[0][0] == "SE"))

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
def _units_for(guide) -> Units:
    return Units(guide.root, guide.unit)


class _OpenSet:
    """A transaction set being read: its body machine, or, while several guides
    could read it, the buffered segments until a select rule or the trial decides."""

    __slots__ = ("reader", "st", "where", "inter", "group", "entries", "version", "matched", "buffered", "body", "by_unit", "record")

    def __init__(self, reader, st, where, inter, group, entries, version, matched, by_unit=False, record=False):
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
        self.by_unit = by_unit  # cut the set at its guide's `unit` loop
        self.record = record  # keep each segment's place (Reader.record_placement)

    def start(self, entry) -> None:
        if entry is not None and not self.matched:
            self.reader._finding(
                "warning", "version_mismatch", f"version {self.version!r} is not a label of {entry.guide}; reading it as {entry.guide}", self.where
            )
        self.body = self._read_with(entry)
        self.buffered = []

    def _read_with(self, entry) -> _Body:
        table = entry.table() if entry is not None else None
        units = _units_for(table.guide) if self.by_unit and table is not None and table.guide.unit else None
        body = _Body(table, self.where, self.inter.delimiters, units, self.record and units is None)
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
        self.carried: set[int] = set()  # ids of the findings a handed-out set (or unit) carries
        self.document = Document(source=self.name)
        self.by_unit = False
        self._count = 0  # units handed out from the open set
        # set before streaming: whole sets (not units) come with Transaction.placement filled
        self.record_placement = False

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

    def _carry(self, ctx: Context) -> Context:
        self.carried.update(map(id, ctx.transaction.findings))
        return ctx

    def outside_sets(self) -> list[Finding]:
        """The findings no handed-out set carries (envelope, tokenizer, a missing SE), so a
        document listing each set's findings under it lists these once at its top."""
        return [f for f in self.findings if id(f) not in self.carried]

    # -- the envelope machine ------------------------------------------------
    def transactions(self, keep: bool = False, by_unit: bool = False) -> Iterator[Context]:
        """Stream transaction sets; with ``keep`` they also stay in ``self.document``.

        ``by_unit`` cuts the sets whose guide names a ``unit`` loop (837: 2300, 835:
        2100) into units as their loops close (see :class:`Context`); others come whole."""
        if by_unit and keep:
            raise ValueError("streaming by unit does not keep the document")
        self.by_unit = by_unit
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
                    # the set's body goes to its machine in one call, up to the next envelope segment;
                    # the loops and indexes it adds hold no cycle, and a growing tree would otherwise
                    # draw full collections that rescan every segment read so far
                    with paused_gc():
                        i = open_set.run(batch, i, control)
                    if open_set.body is not None and open_set.body.parts:
                        yield from self._units_of(open_set)
                    if i == n:
                        break
                tok = batch[i]
                i += 1
                sid = tok[0][0]
                if state == "TRANSACTION":  # an envelope segment ends the set
                    trailer = tok if sid == "SE" else None
                    yield from self._close_set(open_set, trailer, keep)
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
            yield from self._close_set(open_set, None, keep)
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
        open_set = _OpenSet(self, st, where, inter, group, entries, version, matched, self.by_unit, self.record_placement)
        if not entries:
            self._finding("error", "no_grammar", f"no grammar for transaction set {st01!r} version {version!r}; segments kept unplaced", where)
            open_set.start(None)
        elif len(entries) == 1:
            open_set.start(entries[0])
        return open_set

    def _units_of(self, open_set: "_OpenSet") -> Iterator[Context]:
        body = open_set.body
        guide = body.table.guide
        parts, body.parts = body.parts, []
        for kind, root, found in parts:
            if kind == "unit":
                self._count += 1
            t = Transaction(open_set.st, root, guide.guide, guide.name, None, table=body.table)
            t.findings = found
            t.repeats = self.tokenizer.repeats  # every segment of the unit is tokenized by now
            yield self._carry(Context(open_set.inter, open_set.group, t, kind, self._count if kind == "unit" else 0))

    def _close_set(self, open_set: "_OpenSet", se: tuple | None, keep: bool) -> Iterator[Context]:
        if se is not None:
            open_set.feed(se)
        body = open_set.finish()
        if se is None:
            self._finding("error", "missing_se", "transaction set has no SE trailer", open_set.where)
        self.findings.extend(body.findings)
        guide = body.table.guide if body.table else None
        rest = True
        if body.units is not None:
            rest = body.close_units()
            yield from self._units_of(open_set)
        t = Transaction(open_set.st, body.root, guide.guide if guide else None, guide.name if guide else None, se, table=body.table)
        t.repeats = self.tokenizer.repeats
        if body.placed is not None:
            t.placement = (body.placed, body.places)
        t.findings = body.findings[body.given:] if body.units is not None else body.findings
        if keep:
            open_set.group.transactions.append(t)
        if body.units is None:
            yield self._carry(Context(open_set.inter, open_set.group, t))
        elif rest:
            yield self._carry(Context(open_set.inter, open_set.group, t, "rest" if body.context is not None else None))
        self._count = 0

    def parse(self) -> Document:
        with paused_gc():  # the tree holds every segment and no cycle (~40% of the parse otherwise)
            for _ in self.transactions(keep=True):
                pass
        return self.document


def parse(source: Source, *, name: str | None = None, guide: "str | Path | None" = None) -> Document:
    """Parse a whole X12 stream into a :class:`Document` (every interchange, group, set)."""
    return Reader(source, name=name, guide=guide).parse()


def iter_transactions(source: Source, *, name: str | None = None) -> Iterator[Context]:
    """Stream transaction sets with their envelope context, in bounded memory."""
    return Reader(source, name=name).transactions(keep=False)


def iter_units(source: Source, *, name: str | None = None) -> Iterator[Context]:
    """Stream 837 claims and 835 claim payments (each guide's ``unit`` loop) one at a
    time, each with its context loops, in memory bounded by one claim (plus its set's
    header loops), however many claims one set holds. Other sets, and sets without
    claims, come whole; what an 835 holds besides its claims (PLB) comes last as
    ``part="rest"``."""
    return Reader(source, name=name).transactions(keep=False, by_unit=True)
