"""The maps in ``maps/``: load, check against their guides, and find the map for a transaction set.

Checking happens once, when a map is first used: every loop path must exist in
the guide below the loop it is written in, every element reference must name a
segment of that loop and an element the segment has, and every transform and
code table must exist. Errors name the map file and line.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import Location
from .grammar import Guide, LoopNode, SegmentNode
from .mapread import Implied
from .derivations import get as get_derivation
from .maplang import Binding, Block, Derive, DeriveCall, Map, MapError, Ref, SetConst, Step, When, parse_map
from .registry import GuideEntry, entries
from .resources import maps_dir
from .transforms import make

ENVELOPE_SEGMENTS = frozenset({"ISA", "GS"})


@dataclass(slots=True)
class Compiled:
    map: Map
    guide: Guide
    entry: GuideEntry
    select_value: str | None  # the value of the guide's select element this map writes (BHT02=13)
    implied: Implied  # elements the guide fixes, which the reader never reports as unmapped


@cache
def _headers() -> dict[str, tuple[Path, str | None]]:
    """Map name → (its file, the ST01 it declares), from the header lines alone: one
    short read per file, no parsing (fragment libraries, which open with no `map`
    line, are not maps)."""
    out: dict[str, tuple[Path, str | None]] = {}
    for p in sorted(maps_dir().glob("*.x12m")):
        name = None
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                s = line.split("#", 1)[0].split()
                if not s:
                    continue
                if name is None:
                    if s[0] != "map" or len(s) < 2:
                        break
                    name = s[1]
                    out[name] = (p, None)
                elif s[0] == "transaction" and len(s) >= 2:
                    out[name] = (p, s[1])
                    break
    return out


def map_names() -> tuple[str, ...]:
    return tuple(sorted(_headers()))


@cache
def load_map(name: str) -> Compiled:
    found = _headers().get(name)
    if found is None:
        raise MapError(f"no map named {name!r} (known: {', '.join(map_names())})")
    return compile_map(found[0])


def compile_map(path: Path) -> Compiled:
    m = parse_map(path)
    entry, select_value = _guide_entry(m)
    guide = entry.load()
    if guide.group is None:  # the builder writes GS01 from it
        raise MapError(f"grammar {guide.source_file} has no `group` line (the GS01 its sets travel under)",
                       Location(source=str(m.path)))
    _Checker(m, guide).check()
    return Compiled(m, guide, entry, select_value, _implied(guide))


@cache
def _implied(guide: Guide) -> Implied:
    return Implied(guide)


def _guide_entry(m: Map) -> tuple[GuideEntry, str | None]:
    found = [e for e in entries() if e.transaction == m.transaction and m.guide in e.versions]
    if not found:
        raise MapError(f"no grammar for transaction {m.transaction} guide {m.guide}", Location(source=str(m.path)))
    if len(found) == 1:
        sel = found[0].select
        return found[0], _set_value(m, sel) if sel else None
    for e in found:
        if e.select is None:
            continue
        value = _set_value(m, e.select)
        if value is not None and value in e.select[3]:
            return e, value
    raise MapError(
        f"{len(found)} grammars read {m.transaction} {m.guide}; add `set` for their select element so the map names one",
        Location(source=str(m.path)),
    )


def _set_value(m: Map, select) -> str | None:
    seg, elem, comp, _ = select
    for s in m.sets:
        if s.ref.segment == seg and s.ref.element == elem and s.ref.component == comp:
            return s.value
    return None


@cache
def _transactions() -> dict[str, tuple[str, ...]]:
    """Map names by the ST01 their header declares."""
    out: dict[str, list[str]] = {}
    for name, (_, st01) in _headers().items():
        if st01 is not None:
            out.setdefault(st01, []).append(name)
    return {k: tuple(v) for k, v in out.items()}


def maps_of(st01: str) -> tuple[str, ...]:
    """The names of the maps writing transaction set ``st01``, without compiling any."""
    return _transactions().get(st01, ())


@cache
def _by_guide(set_id: str) -> dict[tuple[str, str], Compiled]:
    # only the maps of this transaction set are compiled (each loads its guide)
    return {(c.guide.guide, c.guide.name): c for c in map(load_map, maps_of(set_id))}


def map_for(set_id: str, guide: str | None, guide_name: str | None) -> Compiled | None:
    """The map for a set the parser read with the guide named so (a dict lookup once loaded)."""
    return _by_guide(set_id).get((guide or "", guide_name or ""))


# ----------------------------------------------------------------------------
# checking
# ----------------------------------------------------------------------------
class _Checker:
    def __init__(self, m: Map, guide: Guide):
        self.m = m
        self.guide = guide

    def fail(self, line: int, message: str) -> MapError:
        return MapError(message, Location(source=f"{self.m.path}:{line}"))

    def check(self) -> None:
        self.pools: dict[str, set[str]] = {}
        self._collect_pools(self.m.body)
        self.stmts(self.m.body, self.guide.root, None)

    def _collect_pools(self, body: list) -> None:
        for stmt in body:
            if isinstance(stmt, Block):
                if stmt.pool:
                    self.pools[stmt.name] = {t for b in stmt.body if isinstance(b, Binding) for t in b.targets}
                self._collect_pools(stmt.body)
            elif isinstance(stmt, When):
                self._collect_pools(stmt.then)
                self._collect_pools(stmt.otherwise)

    def loop_at(self, loop: LoopNode, path: tuple[Step, ...], line: int) -> LoopNode:
        node = loop
        for step in path:
            nxt = next((c for c in node.children if isinstance(c, LoopNode) and c.id == step.loop), None)
            if nxt is None:
                have = sorted({c.id for c in node.children if isinstance(c, LoopNode)})
                raise self.fail(line, f"loop {step.loop} is not inside loop {node.id} in {self.guide.guide} (children: {', '.join(have) or 'none'})")
            for cond in step.conds:
                self.ref(nxt, cond.ref, None, line)
            node = nxt
        return node

    def ref(self, loop: LoopNode, ref: Ref, each: Ref | None, line: int) -> None:
        if ref.segment is None:
            if (each is None or each.component is not None) and ref.text.startswith("+"):
                raise self.fail(line, f"`{ref.text}` names an element relative to the current one; only valid inside an element list (`list .. each XX01..XX12`)")
            if each is None or each.component is not None:
                raise self.fail(line, f"`{ref.text}` names a component of the current element; only valid inside `list .. each XX01..XX12`")
            return
        if ref.segment in ENVELOPE_SEGMENTS:
            return
        nodes = [c for c in loop.children if isinstance(c, SegmentNode) and c.id == ref.segment]
        if not nodes:
            have = sorted({c.id for c in loop.children if isinstance(c, SegmentNode)})
            raise self.fail(line, f"segment {ref.segment} is not in loop {loop.id} of {self.guide.guide} (it has {', '.join(have)})")
        d = nodes[0].definition
        if d is not None and ref.element is not None and ref.element > len(d.members):
            raise self.fail(line, f"`{ref.text}`: {ref.segment} has {len(d.members)} elements")

    def transform(self, stmt: Binding | Derive) -> None:
        try:
            stmt.fn = make(stmt.transform, stmt.args)
        except (ValueError, OSError, LookupError) as exc:
            raise self.fail(stmt.line, str(exc)) from None
        except MapError:
            raise
        except Exception as exc:  # a code table that does not load names its own file
            raise self.fail(stmt.line, f"transform `{stmt.transform}`: {exc}") from None
        if isinstance(stmt, Binding) and len(stmt.targets) != stmt.fn.arity:
            raise self.fail(stmt.line, f"transform `{stmt.transform or 'text'}` fills {stmt.fn.arity} field(s), the binding names {len(stmt.targets)}")

    def stmts(self, body: list, loop: LoopNode, each: Ref | None) -> None:
        bound: dict[str, int] = {}
        for stmt in body:
            if isinstance(stmt, Binding):
                for t in stmt.targets:
                    if t in bound:
                        raise self.fail(stmt.line, f"`{t}` is already bound on line {bound[t]} of this block")
                    bound[t] = stmt.line
                for src in stmt.sources:
                    self.ref(loop, src.ref, each, stmt.line)
                    for c in src.conds:
                        self.ref(loop, c.ref, each, stmt.line)
                        if any(code.startswith("$") for code in c.codes):
                            raise self.fail(stmt.line, f"`{c.ref.text}=$field` is only allowed on a loop step (`at 2000[LX01=$n]/2100`)")
                for a in stmt.args:
                    if isinstance(a, Ref):
                        self.ref(loop, a, each, stmt.line)
                if stmt.via is not None and stmt.via[1] not in self.pools.get(stmt.via[0], ()):
                    raise self.fail(stmt.line, f"`via {stmt.via[0]} {stmt.via[1]}`: no `pool` list {stmt.via[0]} binding {stmt.via[1]}")
                self.transform(stmt)
            elif isinstance(stmt, Derive):
                if stmt.quantifier == "local":  # read from the current loop: its references must fit it
                    self.ref(loop, stmt.source.ref, each, stmt.line)
                    for c in stmt.source.conds:
                        self.ref(loop, c.ref, each, stmt.line)
                self.transform(stmt)
            elif isinstance(stmt, DeriveCall):
                try:
                    stmt.fn = get_derivation(stmt.function, len(stmt.fields))
                except ValueError as exc:
                    raise self.fail(stmt.line, str(exc)) from None
            elif isinstance(stmt, SetConst):
                self.ref(loop, stmt.ref, each, stmt.line)
            elif isinstance(stmt, When):
                for path in (stmt.path, *stmt.more):
                    self.loop_at(loop, path, stmt.line)
                self.stmts(stmt.then, loop, each)
                self.stmts(stmt.otherwise, loop, each)
            elif isinstance(stmt, Block):
                inner = self.loop_at(loop, stmt.path, stmt.line) if stmt.path else loop
                inner_each = each
                if stmt.kind == "list_each":
                    self.ref(inner, stmt.each.ref, each, stmt.line)
                    inner_each = stmt.each.ref if stmt.each_last is not None else None
                self.stmts(stmt.body, inner, inner_each)
            else:
                raise self.fail(0, f"unexpected statement {stmt!r}")
