"""Guide → placement tables.

For each segment position of a guide (a *state*) and each segment id, the
table holds the ordered places the next segment may go:

1. a later position in the same loop, or the trigger of a child loop after it;
2. a new iteration of the current loop, then the same for each enclosing loop;
3. as a last resort, the same position again (its max use is then exceeded,
   which the validator reports; the segment is still placed, not lost).

Each place is ``(target, pops, pushes, keys)``: how many loop levels to close,
which loops to open, and the qualifier values the segment must carry. Entries
are computed on first use and memoised, so placing a segment is one dict lookup
plus a key check; where one element's value decides the place (the next position,
or NM101 / REF01 choosing among positions), ``quick`` holds the answer by value.
"""
from __future__ import annotations

from functools import cache

from .grammar import Guide, LoopNode, SegmentNode, load_envelope, value_at

Place = tuple  # (target: SegmentNode, pops: int, pushes: tuple[LoopNode, ...], keys: tuple)


class PlacementTable:
    __slots__ = ("guide", "nodes", "start", "segment_ids")

    def __init__(self, guide: Guide):
        self.guide = guide
        self.nodes: list[SegmentNode] = list(guide.segments())
        self.start: SegmentNode = guide.root.children[0]  # ST
        self.segment_ids = frozenset(n.id for n in self.nodes)  # every segment id the guide places somewhere

    def places(self, state: SegmentNode, sid: str) -> tuple[Place, ...]:
        found = state.places.get(sid)
        if found is None:
            found = state.places[sid] = tuple(_compute(state, sid))
            if sid not in control_segments():  # those end a set's body: the parser sees them itself
                quick = _decided_by_one_element(sid, found)
                if quick is not None:
                    state.quick[sid] = quick
        return found


def _decided_by_one_element(sid: str, found: tuple) -> tuple[int, dict] | None:
    """``(element, {value: place})``: the place a segment takes read off one element,
    for the parser's one-lookup path; None when no value decides it that way.

    An unconditional first place is ``(0, {sid: place})``. Otherwise the places are
    tested in order, each on the same simple element (NM101, REF01, HL03 ...); a
    value listed by an earlier place wins, as in the full test. The table stops
    at the first place it cannot express (no keys, several keys, a component, a
    different element): values it lists are decided before that place is reached,
    and any other value takes the full test. Only alphanumeric codes go in, so a
    repetition separator (never alphanumeric) can never be part of a listed value.
    """
    if not found:
        return None
    if not found[0][3]:
        return (0, {sid: found[0]})
    element = found[0][3][0][0]
    table: dict[str, tuple] = {}
    for place in found:
        keys = place[3]
        if len(keys) != 1 or keys[0][1] is not None or keys[0][0] != element:
            break
        for code in keys[0][2]:
            if code.isalnum():
                table.setdefault(code, place)
    return (element, table) if table else None


@cache
def control_segments() -> frozenset[str]:
    """Headers and trailers of the envelope loops (ISA/IEA, GS/GE, ST/SE), from
    ``grammars/envelope.x12g``: any of them ends an open transaction set, so the
    parser must see them itself and no ``quick`` table lists them."""
    return load_envelope().control_segments()


def _enter(loop: LoopNode, sid: str, pops: int, out: list) -> None:
    first = loop.children[0]
    if isinstance(first, SegmentNode) and first.id == sid:
        out.append((first, pops, (loop,), first.keys))


def _compute(state: SegmentNode, sid: str) -> list[Place]:
    out: list[Place] = []
    if state.id == sid and state.max_use > 1:
        out.append((state, 0, (), state.keys))
    loop = state.parent
    start = state.index + 1
    level = 0
    while loop is not None:
        for child in loop.children[start:]:
            if isinstance(child, SegmentNode):
                if child.id == sid:
                    out.append((child, level, (), child.keys))
            else:
                _enter(child, sid, level, out)
        if level == 0:
            # Positions sharing the TR3 position number of the current one (the
            # REFs at 2300/1800, the DTPs at 1350 ...) may come in any order.
            siblings = loop.children
            first = state.index
            while first > 1 and isinstance(siblings[first - 1], SegmentNode) and siblings[first - 1].pos == state.pos:
                first -= 1
            for child in siblings[first : state.index]:
                if child.id == sid:
                    out.append((child, 0, (), child.keys))
        if loop.parent is not None:
            _enter(loop, sid, level + 1, out)
        start = loop.index + 1
        loop = loop.parent
        level += 1
    if state.id == sid and state.max_use <= 1:
        out.append((state, 0, (), state.keys))
    return out


def keys_match(els: list[str], keys: tuple, comp: str, rep: str | None) -> bool:
    """Whether a segment's elements carry the identifying codes of a place
    (``keys``: (element, component or None, codes)). The parser's hot loop has
    this inlined; everything else asks here."""
    for ei, ci, codes in keys:
        if ci is None and ei < len(els) and els[ei] in codes:
            continue
        if value_at(els, ei, ci, comp, rep) not in codes:
            return False
    return True
