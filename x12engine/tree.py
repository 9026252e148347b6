"""The lossless loop tree: interchange → group → transaction → loops → segments.

Segments inside the tree stay the tokenizer's tuples ``(elements, index, offset,
line)``: the tree is built for every segment of large files, so it allocates
nothing per segment beyond what the tokenizer made. Segments that fit nowhere
are wrapped in :class:`Unexpected` so they are kept, in order, and reported.
A segment's ``index`` is unique in its document: the map reader keys what it
read of a segment on it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .errors import Finding, Location
from .tokenizer import Delimiters

TREE_FORMAT = "x12engine-tree/1"


@dataclass(slots=True, eq=False)
class Unexpected:
    """A segment the grammar had no place for, kept where it was met."""

    token: tuple
    reason: str = "no place in the grammar"


@dataclass(slots=True, eq=False)
class Loop:
    id: str
    name: str = ""
    children: list = field(default_factory=list)  # token tuples, Unexpected, Loop
    # the children by segment id / loop id, in document order, kept by the parser as it
    # places them (the map reader's first step on every loop); None: not kept, built on
    # demand. Code that changes ``children`` of a parsed tree sets it to None.
    index: dict | None = None

    def segments(self) -> Iterator[tuple]:
        """Every segment under this loop, in document order."""
        for child in self.children:
            if type(child) is tuple:
                yield child
            elif type(child) is Loop:
                yield from child.segments()
            else:
                yield child.token

    def loops(self, loop_id: str | None = None) -> Iterator["Loop"]:
        for child in self.children:
            if type(child) is Loop:
                if loop_id is None or child.id == loop_id:
                    yield child
                yield from child.loops(loop_id)

    def child_loops(self, loop_id: str | None = None) -> list["Loop"]:
        return [c for c in self.children if type(c) is Loop and (loop_id is None or c.id == loop_id)]

    def own_segments(self, segment_id: str | None = None) -> list[tuple]:
        out = []
        for c in self.children:
            tok = c if type(c) is tuple else (c.token if type(c) is Unexpected else None)
            if tok is not None and (segment_id is None or tok[0][0] == segment_id):
                out.append(tok)
        return out


@dataclass(slots=True, eq=False)
class Transaction:
    header: tuple  # ST token
    body: Loop  # ST_LOOP: ST ... SE in loops
    guide: str | None = None  # e.g. 005010X222A1
    guide_name: str | None = None
    trailer: tuple | None = None  # SE token (also the last child of body)
    findings: list[Finding] = field(default_factory=list)
    table: Any = None  # the PlacementTable that read it (None without a grammar): a validator checks against the same
    # when the reader was asked to record placement: (tokens in document order, the place each took or None)
    placement: tuple[list, list] | None = None
    # False when no element of the set can hold a repetition separator (the tokenizer saw
    # none after the ISA); True, the safe default, when it did or nobody checked
    repeats: bool = True

    @property
    def set_id(self) -> str:
        return self.header[0][1] if len(self.header[0]) > 1 else ""

    @property
    def control_number(self) -> str:
        return self.header[0][2] if len(self.header[0]) > 2 else ""

    def segments(self) -> Iterator[tuple]:
        return self.body.segments()


@dataclass(slots=True, eq=False)
class Group:
    header: tuple  # GS token
    transactions: list[Transaction] = field(default_factory=list)
    trailer: tuple | None = None
    unexpected: list[Unexpected] = field(default_factory=list)

    @property
    def control_number(self) -> str:
        return self.header[0][6] if len(self.header[0]) > 6 else ""

    @property
    def version(self) -> str:
        return self.header[0][8] if len(self.header[0]) > 8 else ""


@dataclass(slots=True, eq=False)
class Interchange:
    header: tuple  # ISA token
    delimiters: Delimiters
    groups: list[Group] = field(default_factory=list)
    acknowledgments: list[tuple] = field(default_factory=list)  # TA1 tokens
    trailer: tuple | None = None
    unexpected: list[Unexpected] = field(default_factory=list)

    @property
    def control_number(self) -> str:
        return self.header[0][13] if len(self.header[0]) > 13 else ""

    def segments(self) -> Iterator[tuple]:
        """Every segment of the interchange in document order."""
        items: list[tuple] = [self.header]
        items.extend(self.acknowledgments)
        items.extend(u.token for u in self.unexpected)
        for g in self.groups:
            items.append(g.header)
            for t in g.transactions:
                items.extend(t.segments())
            items.extend(u.token for u in g.unexpected)
            if g.trailer is not None:
                items.append(g.trailer)
        if self.trailer is not None:
            items.append(self.trailer)
        if all(len(t) > 1 and t[1] is not None for t in items):
            items.sort(key=lambda t: t[1])
        return iter(items)


@dataclass(slots=True, eq=False)
class Document:
    interchanges: list[Interchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    source: str | None = None

    def transactions(self) -> Iterator[tuple[Interchange, Group, Transaction]]:
        for i in self.interchanges:
            for g in i.groups:
                for t in g.transactions:
                    yield i, g, t

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


# ----------------------------------------------------------------------------
# JSON (the `--shape tree` output and `x12 build` input)
# ----------------------------------------------------------------------------
def _element_out(value: str, d: Delimiters) -> Any:
    rep = d.repetition
    if rep and rep in value:
        return {"repeat": [_element_out_single(v, d) for v in value.split(rep)]}
    return _element_out_single(value, d)


def _element_out_single(value: str, d: Delimiters) -> Any:
    if d.component in value:
        return value.split(d.component)
    return value


def segment_to_json(tok: tuple, d: Delimiters, unexpected: str | None = None) -> dict:
    els = tok[0]
    if els[0] == "ISA":  # fixed-width and holds the delimiters themselves: never split
        elements: list = list(els[1:])
    else:
        elements = [_element_out(v, d) for v in els[1:]]
    out: dict[str, Any] = {"id": els[0], "elements": elements}
    if len(tok) > 1 and tok[1] is not None:
        out["index"] = tok[1]
        out["line"] = tok[3]
        out["offset"] = tok[2]
    if unexpected:
        out["unexpected"] = unexpected
    return out


def _loop_to_json(loop: Loop, d: Delimiters) -> dict:
    children = []
    for c in loop.children:
        if type(c) is tuple:
            children.append(segment_to_json(c, d))
        elif type(c) is Loop:
            children.append(_loop_to_json(c, d))
        else:
            children.append(segment_to_json(c.token, d, c.reason))
    return {"loop": loop.id, "name": loop.name, "children": children}


def document_to_json(doc: Document) -> dict:
    out = {"format": TREE_FORMAT, "interchanges": [], "findings": [f.to_dict() for f in doc.findings]}
    for i in doc.interchanges:
        d = i.delimiters
        groups = []
        for g in i.groups:
            transactions = []
            for t in g.transactions:
                transactions.append(
                    {
                        "transaction": t.set_id,
                        "control_number": t.control_number,
                        "guide": t.guide,
                        "guide_name": t.guide_name,
                        "body": _loop_to_json(t.body, d),
                    }
                )
            groups.append(
                {
                    "header": segment_to_json(g.header, d),
                    "transactions": transactions,
                    "unexpected": [segment_to_json(u.token, d, u.reason) for u in g.unexpected],
                    "trailer": segment_to_json(g.trailer, d) if g.trailer else None,
                }
            )
        out["interchanges"].append(
            {
                "delimiters": d.as_dict(),
                "header": segment_to_json(i.header, d),
                "acknowledgments": [segment_to_json(a, d) for a in i.acknowledgments],
                "unexpected": [segment_to_json(u.token, d, u.reason) for u in i.unexpected],
                "groups": groups,
                "trailer": segment_to_json(i.trailer, d) if i.trailer else None,
            }
        )
    return out


def _element_in(value: Any, d: Delimiters, where: str) -> str:
    from .errors import BuildError

    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise BuildError(f"{where}: components must be strings")
        return d.component.join(value)
    if isinstance(value, dict) and "repeat" in value:
        if not d.repetition:
            raise BuildError(f"{where}: repeated element but the interchange has no repetition separator")
        return d.repetition.join(_element_in(v, d, where) for v in value["repeat"])
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise BuildError(f"{where}: element must be a string, a list of components or {{'repeat': [...]}}")


def segment_from_json(seg: dict, d: Delimiters, where: str = "", number: Callable[[], int] | None = None) -> tuple:
    """``number``: gives the segment's index instead of its ``index`` key (see ``document_from_json``)."""
    from .errors import BuildError

    if not isinstance(seg, dict) or "id" not in seg:
        raise BuildError(f"{where}: a segment needs an 'id'")
    sid = seg["id"]
    elements = [sid]
    for n, v in enumerate(seg.get("elements", []), 1):
        elements.append(_element_in(v, d, f"{where} {sid}{n:02d}".strip()))
    return (elements, seg.get("index") if number is None else number(), seg.get("offset"), seg.get("line"))


def _indices_unique(interchanges: Any) -> bool:
    """Whether every segment of a tree's JSON has an int ``index`` no other segment has."""
    seen: set[int] = set()
    stack = [interchanges]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            if "id" in x and "elements" in x:
                i = x.get("index")
                if type(i) is not int or i in seen:
                    return False
                seen.add(i)
            else:
                stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return True


def _loop_from_json(node: dict, d: Delimiters, where: str, number: Callable[[], int] | None) -> Loop:
    loop = Loop(node.get("loop", ""), node.get("name", ""))
    for n, child in enumerate(node.get("children", []), 1):
        if "loop" in child:
            loop.children.append(_loop_from_json(child, d, f"{where}/{child.get('loop')}", number))
        else:
            tok = segment_from_json(child, d, f"{where}[{n}]", number)
            loop.children.append(Unexpected(tok, child["unexpected"]) if child.get("unexpected") else tok)
    return loop


def document_from_json(data: dict) -> Document:
    """Rebuild a :class:`Document` from ``document_to_json`` output (or a hand-written tree).

    When segment indices are missing or repeat (a hand-written or edited tree), every
    segment is numbered afresh as the tree is read, so that each index stays unique."""
    from .errors import BuildError

    if not isinstance(data, dict) or "interchanges" not in data:
        raise BuildError("not an x12engine tree: no 'interchanges' key")
    number = None if _indices_unique(data["interchanges"]) else itertools.count(1).__next__
    doc = Document()
    for ni, ic in enumerate(data["interchanges"], 1):
        d = Delimiters.from_dict(ic.get("delimiters", {}))
        d.check(Location(source=f"interchange {ni}"))
        where = f"interchange {ni}"
        inter = Interchange(segment_from_json(ic["header"], d, where, number), d)
        inter.acknowledgments = [segment_from_json(a, d, where, number) for a in ic.get("acknowledgments", [])]
        inter.unexpected = [Unexpected(segment_from_json(u, d, where, number), u.get("unexpected", "")) for u in ic.get("unexpected", [])]
        for ng, g in enumerate(ic.get("groups", []), 1):
            gw = f"{where} group {ng}"
            group = Group(segment_from_json(g["header"], d, gw, number))
            for nt, t in enumerate(g.get("transactions", []), 1):
                tw = f"{gw} transaction {nt}"
                body = _loop_from_json(t["body"], d, tw, number)
                segs = list(body.segments())
                if not segs:
                    raise BuildError(f"{tw}: empty transaction body")
                group.transactions.append(Transaction(segs[0], body, t.get("guide"), t.get("guide_name"), segs[-1]))
            group.unexpected = [Unexpected(segment_from_json(u, d, gw, number), u.get("unexpected", "")) for u in g.get("unexpected", [])]
            group.trailer = segment_from_json(g["trailer"], d, gw, number) if g.get("trailer") else None
            inter.groups.append(group)
        inter.trailer = segment_from_json(ic["trailer"], d, where, number) if ic.get("trailer") else None
        doc.interchanges.append(inter)
    return doc
