"""Grammar files (*.x12g) → plain objects.

The language itself is the lark grammar ``grammars/x12g.lark``. This module
parses dictionary, guide and envelope files with it and resolves every element
spec against the dictionary, so the parser and validator never look anything
up by name at run time. Results are cached per process.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Iterator

from lark import Lark, Token, Transformer, v_args

from .diskcache import cached, code_hash
from .errors import GrammarError, Location
from .larkfile import parse_and_transform
from .resources import grammars_dir

MANY = 10**9  # stands for ">1" in usage counts


# ----------------------------------------------------------------------------
# dictionary objects
# ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DataElement:
    number: str
    type: str  # AN ID DT TM N0..N9 R B
    min: int
    max: int
    name: str


@dataclass(frozen=True, slots=True)
class Member:
    seq: int
    ref: str  # data element number or composite id (C003)
    req: str  # M O X
    repeat: int = 1


@dataclass(frozen=True, slots=True)
class CompositeDef:
    id: str
    name: str
    members: tuple[Member, ...]
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SegmentDef:
    id: str
    name: str
    members: tuple[Member, ...]
    rules: tuple[str, ...]


@dataclass(slots=True)
class Dictionary:
    elements: dict[str, DataElement] = field(default_factory=dict)
    composites: dict[str, CompositeDef] = field(default_factory=dict)
    segments: dict[str, SegmentDef] = field(default_factory=dict)


# ----------------------------------------------------------------------------
# guide objects
# ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ElementSpec:
    """One element (or component) at one segment position, as the guide uses it."""

    ref: str  # NM108 or SV101-01
    element: int  # 1-based element position
    component: int | None  # 1-based component position, None for the element itself
    usage: str  # R S N
    codes: frozenset[str] | None
    code_list: str | None
    name: str | None
    data_element: DataElement | None
    composite: CompositeDef | None
    repeat: int


@dataclass(slots=True, eq=False)
class SegmentNode:
    id: str
    pos: int
    usage: str
    max_use: int
    name: str
    keys: tuple[tuple[int, int | None, frozenset[str]], ...]  # (element, component, codes)
    specs: dict[str, ElementSpec]
    definition: SegmentDef | None
    parent: "LoopNode | None" = None
    index: int = 0
    places: dict = field(default_factory=dict)  # placement memo, filled by placement.PlacementTable
    quick: dict = field(default_factory=dict)  # sid → (element, {value: place}), see placement._decided_by_one_element
    check: object = None  # its element checks, compiled by velements.compile_node on first use


@dataclass(slots=True, eq=False)
class LoopNode:
    id: str
    name: str
    usage: str
    repeat: int
    children: list["LoopNode | SegmentNode"] = field(default_factory=list)
    parent: "LoopNode | None" = None
    index: int = 0

    def walk(self) -> Iterator["LoopNode | SegmentNode"]:
        for child in self.children:
            yield child
            if isinstance(child, LoopNode):
                yield from child.walk()


@dataclass(slots=True, eq=False)
class Guide:
    transaction: str  # ST01
    name: str
    guide: str  # 005010X222A1
    aliases: tuple[str, ...]
    select: tuple[int, int | None, str, frozenset[str]] | None  # (element, component, segment, codes)
    root: LoopNode
    source_file: str
    provenance: str | None = None
    unit: str | None = None  # the loop large sets stream by (`unit` header), e.g. 2300 in an 837
    group: str | None = None  # GS01 of the group its sets travel in (`group` header), e.g. HC for an 837

    def segments(self) -> Iterator[SegmentNode]:
        for node in self.root.walk():
            if isinstance(node, SegmentNode):
                yield node

    def loops(self) -> Iterator[LoopNode]:
        for node in self.root.walk():
            if isinstance(node, LoopNode):
                yield node


@dataclass(slots=True, eq=False)
class Envelope:
    """The interchange control structure (``grammars/envelope.x12g``).

    ``root`` is the interchange loop (ISA_LOOP, triggered by ISA); it holds the
    functional group loop (GS), which holds the transaction set loop (ST ... SE)
    whose body the guides describe. Segment positions and element specs are the
    same objects a guide has, so the validator checks ISA/GS/ST like any segment.
    """

    version: str  # ISA12, e.g. 00501
    name: str
    root: LoopNode
    source_file: str
    provenance: str | None = None

    def segments(self) -> Iterator[SegmentNode]:
        for node in self.root.walk():
            if isinstance(node, SegmentNode):
                yield node

    def loops(self) -> Iterator[LoopNode]:
        yield self.root
        for node in self.root.walk():
            if isinstance(node, LoopNode):
                yield node

    def segment(self, segment_id: str) -> SegmentNode:
        """The (first) position of ``segment_id``: ``segment("ISA").specs["ISA12"]``."""
        for node in self.segments():
            if node.id == segment_id:
                return node
        raise KeyError(segment_id)

    def spec(self, ref: str) -> ElementSpec:
        """The element spec for ``ref`` (``GS01``, ``ISA16``)."""
        return self.segment(split_ref(ref)[0]).specs[ref]

    def control_segments(self) -> frozenset[str]:
        """The header and trailer of every envelope loop: ISA/IEA, GS/GE, ST/SE."""
        ids = set()
        for loop in self.loops():
            own = [c for c in loop.children if isinstance(c, SegmentNode)]
            ids.add(own[0].id)
            ids.add(own[-1].id)
        return frozenset(ids)


# ----------------------------------------------------------------------------
# parsing
# ----------------------------------------------------------------------------
@cache
def _lark() -> Lark:
    text = (grammars_dir() / "x12g.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


def _count(tok: str) -> int:
    return MANY if tok == ">1" else int(tok)


def _unquote(tok: Token | str) -> str:
    s = str(tok)
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1].replace('\\"', '"')
    return s


def value_at(elements: list[str], element: int, component: int | None, comp_sep: str, rep_sep: str | None = None) -> str:
    """The value a key or select rule looks at: element N (component M) of the first repetition."""
    v = elements[element] if element < len(elements) else ""
    if rep_sep and rep_sep in v:
        v = v.split(rep_sep, 1)[0]
    if component is not None:
        parts = v.split(comp_sep)
        v = parts[component - 1] if component <= len(parts) else ""
    return v


@cache
def fixed_codes(node: SegmentNode) -> tuple[tuple[int, int | None, str, str], ...]:
    """(element, component, code, usage) for each element or component the guide fixes to one code.

    The reader treats such values as carrying nothing (they never go to
    ``unmapped``); the builder writes the required ones itself.
    """
    return tuple(
        (spec.element, spec.component, next(iter(spec.codes)), spec.usage)
        for spec in node.specs.values()
        if spec.codes is not None and len(spec.codes) == 1
    )


def split_ref(ref: str) -> tuple[str, int, int | None]:
    """``SV101-02`` → (``SV1``, 1, 2); ``NM109`` → (``NM1``, 9, None)."""
    comp = None
    if "-" in ref:
        ref, c = ref.split("-", 1)
        comp = int(c)
    return ref[:-2], int(ref[-2:]), comp


@dataclass(slots=True)
class _RawSeg:
    id: str
    pos: int
    usage: str
    max_use: int
    name: str | None
    keys: list[tuple[str, list[str]]]
    specs: list[tuple[str, str, tuple | None, str | None, str | None]]
    line: int


@dataclass(slots=True)
class _RawLoop:
    id: str
    name: str
    usage: str
    repeat: int
    items: list
    line: int


@dataclass(slots=True)
class _RawUse:
    id: str
    line: int


class _ToRaw(Transformer):
    """Parse tree → tuples; resolution against the dictionary happens afterwards."""

    def start(self, items):
        return items

    @v_args(meta=True)
    def transaction_decl(self, meta, items):
        return ("transaction", str(items[0]), _unquote(items[1]) if len(items) > 1 else "")

    def envelope_decl(self, items):
        return ("envelope", str(items[0]), _unquote(items[1]) if len(items) > 1 else "")

    def guide_decl(self, items):
        return ("guide", str(items[0]))

    def alias_decl(self, items):
        return ("aliases", tuple(str(i) for i in items))

    def select_decl(self, items):
        return ("select", str(items[0]), tuple(_unquote(i) for i in items[1:]))

    def unit_decl(self, items):
        return ("unit", str(items[0]))

    def group_decl(self, items):
        return ("group", str(items[0]))

    def source_decl(self, items):
        return ("source", _unquote(items[0]))

    def element_def(self, items):
        num, dtype, length, name = items
        lo, hi = str(length).split("/")
        return ("element", DataElement(str(num), str(dtype), int(lo), int(hi), _unquote(name)))

    def repeat(self, items):
        return ("repeat", _count(str(items[0])))

    def rule(self, items):
        return ("rule", str(items[0]))

    def member(self, items):
        rep = 1
        if len(items) > 3:
            rep = items[3][1]
        return Member(int(items[0]), str(items[1]), str(items[2]), rep)

    def _members(self, items):
        members = tuple(i for i in items if isinstance(i, Member))
        rules = tuple(i[1] for i in items if isinstance(i, tuple) and i[0] == "rule")
        return members, rules

    def composite_def(self, items):
        members, rules = self._members(items[2:])
        return ("composite", CompositeDef(str(items[0]), _unquote(items[1]), members, rules))

    def segment_def(self, items):
        members, rules = self._members(items[2:])
        return ("segment", SegmentDef(str(items[0]), _unquote(items[1]), members, rules))

    def key(self, items):
        return ("key", str(items[0]), [_unquote(i) for i in items[1:]])

    def inline_codes(self, items):
        return ("codes", tuple(_unquote(i) for i in items))

    def list_codes(self, items):
        return ("list", str(items[0]))

    def elem_spec(self, items):
        ref, usage = str(items[0]), str(items[1])
        codes = code_list = name = None
        for extra in items[2:]:
            if isinstance(extra, tuple) and extra[0] == "codes":
                codes = extra[1]
            elif isinstance(extra, tuple) and extra[0] == "list":
                code_list = extra[1]
            else:
                name = _unquote(extra)
        return (ref, usage, codes, code_list, name)

    def seg_body(self, items):
        return ("body", items)

    @v_args(meta=True)
    def seg(self, meta, items):
        seg_id, pos, usage, count = (str(i) for i in items[:4])
        name = None
        keys: list = []
        specs: list = []
        for extra in items[4:]:
            if isinstance(extra, Token):
                name = _unquote(extra)
            elif extra[0] == "key":
                keys.append((extra[1], extra[2]))
            elif extra[0] == "body":
                specs = extra[1]
        return _RawSeg(seg_id, int(pos[1:]), usage, _count(count), name, keys, specs, meta.line)

    @v_args(meta=True)
    def loop(self, meta, items):
        return _RawLoop(str(items[0]), _unquote(items[1]), str(items[2]), _count(str(items[3])), items[4:], meta.line)

    @v_args(meta=True)
    def use(self, meta, items):
        return _RawUse(str(items[0]), meta.line)


def parse_file(path: Path) -> list:
    """Parse one .x12g file into raw declarations; errors name the file and line.

    Parsing the large guides takes lark seconds, so the declarations are kept in
    the disk cache (keyed by the file's text, the lark grammar and this module)."""
    text = path.read_text(encoding="utf-8")
    salt = code_hash(__file__, str(grammars_dir() / "x12g.lark"))
    return cached("x12g", text, salt, lambda: _parse_text(text, path))


def _parse_text(text: str, path: Path) -> list:
    return parse_and_transform(_lark(), _ToRaw(), text, str(path), GrammarError)


# ----------------------------------------------------------------------------
# dictionary
# ----------------------------------------------------------------------------
@cache
def load_dictionary(directory: Path | None = None) -> Dictionary:
    directory = directory or grammars_dir() / "dictionary"
    d = Dictionary()
    for path in sorted(directory.glob("*.x12g")):
        for item in parse_file(path):
            kind, obj = item[0], item[1]
            table = {"element": d.elements, "composite": d.composites, "segment": d.segments}.get(kind)
            if table is None:
                raise GrammarError(f"{kind} declarations belong in guide or envelope files, not the dictionary", Location(source=str(path)))
            key = obj.number if kind == "element" else obj.id
            if key in table and table[key] != obj:
                raise GrammarError(f"{kind} {key} defined twice with different content", Location(source=str(path)))
            table[key] = obj
    for comp in d.composites.values():
        for m in comp.members:
            if m.ref not in d.elements:
                raise GrammarError(f"composite {comp.id} uses unknown data element {m.ref}")
    for seg in d.segments.values():
        for m in seg.members:
            if m.ref not in d.elements and m.ref not in d.composites:
                raise GrammarError(f"segment {seg.id} uses unknown data element {m.ref}")
    return d


# ----------------------------------------------------------------------------
# guides
# ----------------------------------------------------------------------------
def _resolve_spec(
    d: Dictionary, seg_def: SegmentDef | None, raw: tuple, where: Location
) -> ElementSpec:
    ref, usage, codes, code_list, name = raw
    seg_id, elem, comp = split_ref(ref)
    data_element = composite = None
    repeat = 1
    if seg_def is not None:
        member = next((m for m in seg_def.members if m.seq == elem), None)
        if member is None:
            raise GrammarError(f"{ref}: segment {seg_def.id} has no element {elem:02d}", where)
        repeat = member.repeat
        if member.ref in d.composites:
            composite = d.composites[member.ref]
            if comp is not None:
                cm = next((m for m in composite.members if m.seq == comp), None)
                if cm is None:
                    raise GrammarError(f"{ref}: composite {composite.id} has no component {comp:02d}", where)
                data_element = d.elements.get(cm.ref)
                composite = None
        else:
            if comp is not None:
                raise GrammarError(f"{ref}: element {elem:02d} of {seg_def.id} is not a composite", where)
            data_element = d.elements.get(member.ref)
    return ElementSpec(
        ref, elem, comp, usage, frozenset(codes) if codes is not None else None, code_list, name,
        data_element, composite, repeat,
    )


def _key_tuple(ref: str, codes: list[str], seg_id: str, where: Location) -> tuple[int, int | None, frozenset[str]]:
    rseg, elem, comp = split_ref(ref)
    if rseg != seg_id:
        raise GrammarError(f"key {ref} does not belong to segment {seg_id}", where)
    return (elem, comp, frozenset(codes))


def _build_loop(raw: _RawLoop, d: Dictionary, defined: dict[str, _RawLoop], path: Path) -> LoopNode:
    node = LoopNode(raw.id, raw.name, raw.usage, raw.repeat)
    defined.setdefault(raw.id, raw)
    _fill(node, raw.items, d, defined, path)
    if not node.children or not isinstance(node.children[0], SegmentNode):
        raise GrammarError(f"loop {raw.id} must begin with a segment", Location(source=f"{path}:{raw.line}"))
    return node


def _fill(node: LoopNode, items: list, d: Dictionary, defined: dict[str, _RawLoop], path: Path) -> None:
    for item in items:
        if isinstance(item, _RawSeg):
            where = Location(source=f"{path}:{item.line}")
            seg_def = d.segments.get(item.id)
            if seg_def is None:
                raise GrammarError(f"segment {item.id} is not in the dictionary", where)
            specs = {}
            for raw_spec in item.specs:
                if split_ref(raw_spec[0])[0] != item.id:
                    raise GrammarError(f"element {raw_spec[0]} does not belong to segment {item.id}", where)
                spec = _resolve_spec(d, seg_def, raw_spec, where)
                specs[spec.ref] = spec
            keys = tuple(_key_tuple(ref, codes, item.id, where) for ref, codes in item.keys)
            child = SegmentNode(
                item.id, item.pos, item.usage, item.max_use, item.name or seg_def.name, keys, specs, seg_def
            )
        elif isinstance(item, _RawLoop):
            child = _build_loop(item, d, defined, path)
        elif isinstance(item, _RawUse):
            target = defined.get(item.id)
            if target is None:
                raise GrammarError(f"use {item.id}: no loop {item.id} defined earlier", Location(source=f"{path}:{item.line}"))
            child = _build_loop(target, d, defined, path)
        else:  # pragma: no cover - the grammar admits nothing else here
            raise GrammarError(f"unexpected item {item!r}", Location(source=str(path)))
        child.parent = node
        child.index = len(node.children)
        node.children.append(child)


def load_guide(path: Path, dictionary: Dictionary | None = None) -> Guide:
    d = dictionary or load_dictionary()
    items = parse_file(path)
    header: dict = {}
    body = []
    for item in items:
        if isinstance(item, tuple) and item[0] in ("transaction", "guide", "aliases", "select", "unit", "group", "source"):
            header[item[0]] = item
        elif isinstance(item, tuple) and item[0] == "envelope":
            raise GrammarError("an envelope file is not a guide: load it with load_envelope()", Location(source=str(path)))
        elif isinstance(item, tuple):
            raise GrammarError(f"{item[0]} definitions belong in grammars/dictionary/", Location(source=str(path)))
        else:
            body.append(item)
    if "transaction" not in header or "guide" not in header:
        raise GrammarError("a guide file needs 'transaction' and 'guide' lines", Location(source=str(path)))
    _, st01, name = header["transaction"]
    root = LoopNode("ST_LOOP", f"{st01} transaction set", "R", 1)
    _fill(root, body, d, {}, path)
    select = None
    if "select" in header:
        _, ref, codes = header["select"]
        seg_id, elem, comp = split_ref(ref)
        select = (elem, comp, seg_id, frozenset(codes))
    guide = Guide(
        transaction=st01,
        name=name,
        guide=header["guide"][1],
        aliases=header.get("aliases", ("aliases", ()))[1],
        select=select,
        root=root,
        source_file=path.name,
        provenance=header.get("source", (None, None))[1],
        unit=header.get("unit", (None, None))[1],
        group=header.get("group", (None, None))[1],
    )
    if not root.children or root.children[0].id != "ST":
        raise GrammarError("a guide must begin with the ST segment", Location(source=str(path)))
    if guide.unit is not None and not any(lp.id == guide.unit for lp in guide.loops()):
        raise GrammarError(f"unit {guide.unit}: the guide has no loop of that id", Location(source=str(path)))
    return guide


ENVELOPE_FILE = "envelope.x12g"


def _load_envelope(path: Path, d: Dictionary) -> Envelope:
    header: dict = {}
    body = []
    for item in parse_file(path):
        if isinstance(item, tuple) and item[0] in ("envelope", "source"):
            header[item[0]] = item
        elif isinstance(item, tuple):
            raise GrammarError(f"{item[0]} declarations do not belong in an envelope file", Location(source=str(path)))
        else:
            body.append(item)
    if "envelope" not in header:
        raise GrammarError("an envelope file needs an 'envelope' line", Location(source=str(path)))
    if len(body) != 1 or not isinstance(body[0], _RawLoop):
        raise GrammarError("an envelope file holds one loop: the interchange, from ISA to IEA", Location(source=str(path)))
    root = _build_loop(body[0], d, {}, path)
    # the parser and the validator rely on this nesting; say so here rather than there
    loop, where = root, Location(source=f"{path}:{body[0].line}")
    for trigger in ("ISA", "GS", "ST"):
        if loop is None or loop.children[0].id != trigger:
            raise GrammarError(f"the envelope must nest loops triggered by ISA, GS and ST; no {trigger} loop", where)
        loop = next((c for c in loop.children if isinstance(c, LoopNode)), None)
    _, version, name = header["envelope"]
    return Envelope(version, name, root, path.name, header.get("source", (None, None))[1])


@cache
def _default_envelope() -> Envelope:
    return _load_envelope(grammars_dir() / ENVELOPE_FILE, load_dictionary())


def load_envelope(path: Path | None = None, dictionary: Dictionary | None = None) -> Envelope:
    """The interchange control structure: ``grammars/envelope.x12g`` (loaded once per process) or ``path``."""
    if path is None and dictionary is None:
        return _default_envelope()
    return _load_envelope(Path(path) if path is not None else grammars_dir() / ENVELOPE_FILE, dictionary or load_dictionary())


_ENVELOPE_LINE = re.compile(r"^\s*envelope\s")


def is_envelope_file(path: Path) -> bool:
    """Whether a grammar file has an ``envelope`` header (a line scan up to its first loop or segment)."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            stripped = line.split("#", 1)[0]
            if _ENVELOPE_LINE.match(stripped):
                return True
            if stripped.strip().startswith(("segment", "loop")):
                return False
    return False


@cache
def guide_files() -> tuple[Path, ...]:
    """The guide files in ``grammars/`` (not the envelope)."""
    return tuple(sorted(p for p in grammars_dir().glob("*.x12g") if not is_envelope_file(p)))


@cache
def load_guide_cached(path: Path) -> Guide:
    return load_guide(path)


def main(argv: list[str] | None = None) -> int:
    """``x12 grammars [FILE...]``: check grammar files and print a summary."""
    import sys

    args = list(argv) if argv is not None else sys.argv[1:]
    status = 0
    try:
        d = load_dictionary()
        print(f"dictionary: {len(d.elements)} elements, {len(d.composites)} composites, {len(d.segments)} segments")
    except GrammarError as exc:
        print(f"dictionary: {exc}")
        return 1
    for arg in args or [str(p) for p in (*guide_files(), grammars_dir() / ENVELOPE_FILE)]:
        try:
            if is_envelope_file(Path(arg)):
                env = load_envelope(Path(arg), d)
                nseg = sum(1 for _ in env.segments())
                nloop = sum(1 for _ in env.loops())
                print(f"{arg}: envelope {env.version} — {nloop} loops, {nseg} segment positions")
                continue
            g = load_guide(Path(arg), d)
            nseg = sum(1 for _ in g.segments())
            nloop = sum(1 for _ in g.loops())
            print(f"{arg}: {g.transaction} {g.guide} — {nloop} loops, {nseg} segment positions")
        except GrammarError as exc:
            print(f"{arg}: {exc}")
            status = 1
    return status

