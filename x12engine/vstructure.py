"""Structure of one transaction set against its guide: placement, counts, order, HL tree.

The walk follows the parser's placement (the place the reader recorded for each
segment, or the same :class:`~.placement.PlacementTable` lookups again when it
kept no record, so both always agree on where a segment went) and keeps, per open
loop instance, how often each segment position and child loop occurred. When a
loop instance closes, its required segments and loops are known to be present
or missing. Element checks run on each placed segment with the checks compiled
for its position (:mod:`.velements`).
"""
from __future__ import annotations

from typing import Callable

from .grammar import LoopNode, SegmentNode, load_dictionary
from .placement import PlacementTable, keys_match
from .velements import ElementProblem, compile_node
from .vfast import fast_check
from .vfinding import (
    IK3_ELEMENT_ERRORS, IK3_LOOP_OVER_MAX, IK3_NOT_IN_SET, IK3_NOT_USED, IK3_OUT_OF_SEQUENCE, IK3_REQUIRED_MISSING,
    IK3_SEGMENT_OVER_MAX, IK3_UNEXPECTED, IK3_UNRECOGNIZED,
)

# emit(token, loop id, severity, code, message, ik3, problem or None, segment id override)
Emit = Callable[..., None]


class _Frame:
    __slots__ = ("loop", "segs", "loops", "loop_id")

    def __init__(self, loop: LoopNode, loop_id: str):
        self.loop = loop
        self.loop_id = loop_id  # "" for the set's root
        self.segs: dict[SegmentNode, int] = {}  # uses of each segment position
        self.loops: dict[LoopNode, int] = {}  # iterations of each child loop


def replay(table: PlacementTable, toks: list[tuple], comp: str, rep: str | None) -> list[tuple | None]:
    """The place of each token as the parser decides it (None: no place; the first, ST, is the start
    state itself), for a set whose reader kept no record (:attr:`~.tree.Transaction.placement`)."""
    state: SegmentNode = table.start
    places_for = table.places
    out: list[tuple | None] = [None] if toks else []
    for tok in toks[1:]:
        els = tok[0]
        chosen = None
        for place in state.places.get(els[0]) or places_for(state, els[0]):
            keys = place[3]
            if keys and not keys_match(els, keys, comp, rep):
                continue
            chosen = place
            state = place[0]
            break
        out.append(chosen)
    return out


def walk(table: PlacementTable, toks: list[tuple], comp: str, rep: str | None, emit: Emit,
         places: list[tuple | None] | None = None) -> None:
    """Check the structure and elements of one set (``toks``: ST … SE in document order; ``places``:
    the place the reader gave each, from :attr:`~.tree.Transaction.placement`, else decided again here)."""
    if places is None:
        places = replay(table, toks, comp, rep)
    root = table.guide.root
    frame = _Frame(root, "")
    stack: list[_Frame] = [frame]
    state: SegmentNode = table.start
    dictionary = load_dictionary()
    hl_loops: dict[str, LoopNode] = {}  # HL01 -> loop node it opened
    hl_flags: list[tuple[tuple, str, str, str]] = []  # (token, HL01, HL04, loop id)
    hl_parents: set[str] = set()
    hl_expected = 1
    checks: dict[SegmentNode, tuple] = {}  # (element check, max use, not used) of each position met, for this walk
    required: dict[LoopNode, tuple] = {}  # required children of each loop met, for this walk
    if toks:  # ST: the start state itself, whatever the reader made of it
        frame.segs[state] = 1
        _elements(state, toks[0], comp, rep, "", emit)
    segs = frame.segs
    loop_id = ""
    rest = zip(toks, places)
    next(rest, None)  # ST, done above
    for tok, place in rest:
        if place is None:
            _unplaced(tok, stack, table.segment_ids, dictionary, state, comp, rep, emit)
            continue
        target, pops, pushes, _ = place
        if pops:
            for _ in range(pops):
                _close(stack.pop(), tok, emit, required)
        if pushes:
            for loop_node in pushes:
                loops = stack[-1].loops
                n = loops.get(loop_node, 0) + 1
                loops[loop_node] = n
                if n > loop_node.repeat:
                    emit(tok, loop_node.id, "error", "loop_over_max",
                         f"loop {loop_node.id} ({loop_node.name}) occurs {n} times; at most {loop_node.repeat} allowed",
                         IK3_LOOP_OVER_MAX, None, None)
                if loop_node.usage == "N":
                    emit(tok, loop_node.id, "error", "loop_not_used",
                         f"loop {loop_node.id} ({loop_node.name}) is not used in this guide", IK3_NOT_USED, None, None)
                stack.append(_Frame(loop_node, loop_node.id))
        if pops or pushes:
            frame = stack[-1]
            segs = frame.segs
            loop_id = frame.loop_id
        n = segs.get(target, 0) + 1
        segs[target] = n
        info = checks.get(target)
        if info is None:
            info = checks[target] = (fast_check(compile_node(target)), target.max_use, target.usage == "N")
        chk, max_use, not_used = info
        els = tok[0]
        if n > max_use:
            emit(tok, loop_id, "error", "segment_over_max",
                 f"{els[0]} ({target.name}) occurs {n} times here; at most {max_use} allowed", IK3_SEGMENT_OVER_MAX, None, None)
        if not_used:
            emit(tok, loop_id, "error", "segment_not_used", f"{els[0]} ({target.name}) is not used in this guide", IK3_NOT_USED, None, None)
        state = target
        problems = chk(els, comp, rep)
        if problems:
            _report(problems, tok, loop_id, emit)
        if els[0] == "HL":
            hl_expected = _hl(tok, els, pushes, hl_loops, hl_flags, hl_parents, hl_expected, loop_id, emit)
    last = toks[-1] if toks else None
    while stack:
        _close(stack.pop(), last, emit, required, at_end=True)
    for tok, hl01, hl04, loop_id in hl_flags:
        has = hl01 in hl_parents
        if hl04 == "1" and not has:
            emit(tok, loop_id, "error", "hl_child_flag", f"HL04 says level {hl01} has children but none follows",
                 IK3_ELEMENT_ERRORS, ElementProblem(4, None, None, "736", "I12", "HL04 = 1 but the level has no subordinate HL", None, False), None)
        elif hl04 == "0" and has:
            emit(tok, loop_id, "error", "hl_child_flag", f"HL04 says level {hl01} has no children but a subordinate HL names it",
                 IK3_ELEMENT_ERRORS, ElementProblem(4, None, None, "736", "I12", "HL04 = 0 but a subordinate HL follows", None, False), None)


def _elements(node: SegmentNode, tok: tuple, comp: str, rep: str | None, loop_id: str, emit: Emit) -> None:
    problems = compile_node(node).check(tok[0], comp, rep)
    if problems:
        _report(problems, tok, loop_id, emit)


def _report(problems: list[ElementProblem], tok: tuple, loop_id: str, emit: Emit) -> None:
    for p in problems:
        if p.code == "7W":
            emit(tok, loop_id, "warning", "code_not_in_bundled_list", p.message, None, p, None)
            continue
        emit(tok, loop_id, "error", _PROBLEM_CODES.get(p.code, "element_error"), p.message, IK3_ELEMENT_ERRORS, p, None)


_PROBLEM_CODES = {
    "1": "element_missing", "2": "syntax_rule", "3": "too_many_elements", "4": "element_too_short", "5": "element_too_long",
    "6": "element_bad_character", "7": "element_bad_code", "8": "element_bad_date", "9": "element_bad_time",
    "10": "syntax_rule_exclusion", "12": "too_many_repetitions", "13": "too_many_components", "I10": "element_not_used",
    "I12": "element_pattern",
}


def _close(frame: _Frame, tok: tuple | None, emit: Emit, required: dict[LoopNode, tuple], at_end: bool = False) -> None:
    """A loop instance ends: report its required segments and loops that never came."""
    loop = frame.loop
    need = required.get(loop)
    if need is None:  # (required children in order, required segment positions, required loops)
        children = tuple(c for c in loop.children if c.usage == "R")
        need = required[loop] = (children, frozenset(c for c in children if isinstance(c, SegmentNode)),
                                 frozenset(c for c in children if not isinstance(c, SegmentNode)))
    children, segments, loops = need
    if segments <= frame.segs.keys() and loops <= frame.loops.keys():
        return  # everything required came (the common case: one set test instead of a loop)
    loop_id = frame.loop_id
    for child in children:
        if isinstance(child, SegmentNode):
            if child not in frame.segs:
                emit(tok, loop_id, "error", "segment_missing",
                     f"required segment {child.id} ({child.name}) is missing" + (f" in loop {loop_id}" if loop_id else ""),
                     IK3_REQUIRED_MISSING, None, child.id)
        elif child not in frame.loops:
            emit(tok, child.id, "error", "loop_missing",
                 f"required loop {child.id} ({child.name}) is missing" + (f" in loop {loop_id}" if loop_id else ""),
                 IK3_REQUIRED_MISSING, None, child.children[0].id)


def _unplaced(tok: tuple, stack: list[_Frame], ids: frozenset[str], dictionary, state: SegmentNode, comp: str,
              rep: str | None, emit: Emit) -> None:
    sid = tok[0][0]
    loop_id = stack[-1].loop_id
    if sid not in dictionary.segments:
        emit(tok, loop_id, "error", "segment_unrecognized", f"segment id {sid} is not an X12 005010 segment", IK3_UNRECOGNIZED, None, None)
    elif sid not in ids:
        emit(tok, loop_id, "error", "segment_not_in_set", f"segment {sid} is not part of this transaction set", IK3_NOT_IN_SET, None, None)
    elif _earlier(state, tok[0], comp, rep):
        emit(tok, loop_id, "error", "segment_out_of_order",
             f"segment {sid} is out of sequence: its position in this loop comes earlier", IK3_OUT_OF_SEQUENCE, None, None)
    else:
        emit(tok, loop_id, "error", "segment_unexpected",
             f"segment {sid} has no place here (no position in the open loops takes it with these qualifiers)", IK3_UNEXPECTED, None, None)


def _earlier(state: SegmentNode, els: list[str], comp: str, rep: str | None) -> bool:
    """Whether the segment (with its qualifiers) fits a position before ``state`` in one of the open loops."""
    sid = els[0]
    node: SegmentNode | LoopNode | None = state
    while node is not None and node.parent is not None:
        for sib in node.parent.children[: node.index]:
            if isinstance(sib, SegmentNode) and sib.id == sid and keys_match(els, sib.keys, comp, rep):
                return True
        node = node.parent
    return False


def _hl(tok, els, pushes, hl_loops, hl_flags, hl_parents, expected, loop_id, emit) -> int:
    hl01 = els[1] if len(els) > 1 else ""
    hl02 = els[2] if len(els) > 2 else ""
    hl04 = els[4] if len(els) > 4 else ""
    if hl01 != str(expected):
        emit(tok, loop_id, "error", "hl_sequence", f"HL01 should be {expected}: levels are numbered 1, 2, 3 … in order",
             IK3_ELEMENT_ERRORS, ElementProblem(1, None, None, "628", "I12", "HL01 out of sequence", None, False), None)
    nxt = int(hl01) + 1 if hl01.isdigit() else expected + 1
    loop_node = pushes[-1] if pushes else None
    if hl02:
        parent_node = hl_loops.get(hl02)
        if parent_node is None:
            emit(tok, loop_id, "error", "hl_parent_unknown", "HL02 names no earlier HL level",
                 IK3_ELEMENT_ERRORS, ElementProblem(2, None, None, "734", "I12", "HL02 names no earlier level", None, False), None)
        else:
            hl_parents.add(hl02)
            if loop_node is not None and not _inside(loop_node, parent_node):
                emit(tok, loop_id, "error", "hl_parent_level",
                     f"HL02 names a level of loop {parent_node.id}; loop {loop_node.id} belongs under {_hl_parent(loop_node)}",
                     IK3_ELEMENT_ERRORS, ElementProblem(2, None, None, "734", "I12", "HL02 names a level of the wrong kind", None, False), None)
    elif loop_node is not None and _hl_parent(loop_node) != "none":
        emit(tok, loop_id, "error", "hl_parent_missing", f"HL02 is empty but loop {loop_node.id} belongs under {_hl_parent(loop_node)}",
             IK3_ELEMENT_ERRORS, ElementProblem(2, None, None, "734", "I12", "HL02 missing", None, False), None)
    if loop_node is not None and hl01:
        hl_loops[hl01] = loop_node
    if hl04 in ("0", "1"):
        hl_flags.append((tok, hl01, hl04, loop_id))
    return nxt


def _hl_loop_ancestor(node: LoopNode) -> LoopNode | None:
    p = node.parent
    while p is not None and not (p.children and isinstance(p.children[0], SegmentNode) and p.children[0].id == "HL"):
        p = p.parent
    return p


def _hl_parent(node: LoopNode) -> str:
    p = _hl_loop_ancestor(node)
    return p.id if p is not None else "none"


def _inside(node: LoopNode, parent: LoopNode) -> bool:
    return _hl_loop_ancestor(node) is parent
