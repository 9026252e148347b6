"""Loop tree → semantic JSON, driven by a compiled map.

Every element the map reads is marked consumed; what no statement consumed is
reported, never dropped: whole segments go to ``unmapped`` (with their loop
path, so the builder can put them back) and leftover elements of mapped
segments become warnings. Warnings name the loop, segment position and element,
never the value.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .errors import Finding, Location
from .grammar import SegmentNode, fixed_codes, value_at
from .maplang import Binding, Block, Cond, Derive, Ref, SetConst, Source, Step, When
from .tree import Interchange, Group, Loop, Transaction, Unexpected, segment_to_json
from .transforms import ReadIssue

if TYPE_CHECKING:
    from .mapcatalog import Compiled

STRUCTURAL = frozenset({"ST", "SE", "HL"})


class _Scope:
    __slots__ = ("seg", "elem", "index", "meta")

    def __init__(self, seg=None, elem=None, index=0, meta=False):
        self.seg, self.elem, self.index, self.meta = seg, elem, index, meta


def set_path(out: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        nxt = out.get(p)
        if not isinstance(nxt, dict):
            nxt = out[p] = {}
        out = nxt
    out[parts[-1]] = value


def _merge(out: dict, name: str, sub: dict) -> None:
    parts = name.split(".")
    for p in parts[:-1]:
        out = out.setdefault(p, {})
    existing = out.get(parts[-1])
    if isinstance(existing, dict):
        existing.update(sub)
    else:
        out[parts[-1]] = sub


class MapReader:
    """Reads one transaction set with one map."""

    def __init__(self, compiled: Compiled, inter: Interchange, group: Group, txn: Transaction, source: str | None = None):
        self.c = compiled
        self.inter, self.group, self.txn = inter, group, txn
        self.comp = inter.delimiters.component
        self.rep = inter.delimiters.repetition
        self.consumed: dict[int, set[int]] = {}
        self.claimed: set[int] = set()
        self.findings: list[Finding] = []
        self.meta: dict[str, Any] = {}
        self.source = source
        self._by_loop: dict[int, dict[str, list[tuple]]] = {}
        self._paths: dict[int, str] = {}
        self.pools: dict[str, tuple[list[dict], list]] = {}  # pool list name → (items, values `via` pointed to)

    # values -------------------------------------------------------------------
    def value(self, tok: tuple, element: int, component: int | None) -> str:
        return value_at(tok[0], element, component, self.comp, self.rep)

    def ref_value(self, tok: tuple, ref: Ref, scope: _Scope) -> str:
        if ref.segment is None:
            if ref.element is not None:  # `+N` in an `each A..B by N` list
                return self.value(tok, scope.elem + ref.element, None)
            return self.value(tok, scope.elem, ref.component)
        return self.value(tok, ref.element, ref.component)

    def consume(self, tok: tuple, ref: Ref, scope: _Scope) -> None:
        if ref.segment is None:
            element = scope.elem + (ref.element or 0)
        else:
            element = ref.element
        self.consumed.setdefault(id(tok), set()).add(element)

    def segments(self, loop: Loop, sid: str) -> list[tuple]:
        idx = self._by_loop.get(id(loop))
        if idx is None:
            idx = {}
            for c in loop.children:
                if type(c) is tuple:
                    idx.setdefault(c[0][0], []).append(c)
            self._by_loop[id(loop)] = idx
        return idx.get(sid, [])

    def _has_any(self, loop: Loop, sids: frozenset[str]) -> bool:
        idx = self._by_loop.get(id(loop))
        if idx is None:
            self.segments(loop, "")
            idx = self._by_loop[id(loop)]
        return any(s in idx for s in sids)

    def candidates(self, src: Source, loop: Loop, scope: _Scope) -> list[tuple]:
        ref = src.ref
        if ref.segment is None:
            return [scope.seg]
        if scope.seg is not None and scope.seg[0][0] == ref.segment:
            return [scope.seg]
        if ref.segment == "GS":
            return [self.group.header]
        if ref.segment == "ISA":
            return [self.inter.header]
        return self.segments(loop, ref.segment)

    def matches(self, tok: tuple, conds: tuple[Cond, ...], scope: _Scope) -> bool:
        return all(self.ref_value(tok, c.ref, scope) in c.codes for c in conds)

    def locate(self, src: Source, loop: Loop, scope: _Scope) -> tuple[tuple | None, str]:
        for tok in self.candidates(src, loop, scope):
            if self.matches(tok, src.conds, scope):
                v = self.ref_value(tok, src.ref, scope)
                if v != "":
                    return tok, v
        return None, ""

    # findings -------------------------------------------------------------------
    def where(self, tok: tuple | None, loop: Loop | None, element: str | None = None) -> Location:
        return Location(
            source=self.source, interchange=self.inter.control_number, group=self.group.control_number,
            transaction=self.txn.control_number,
            segment_index=tok[1] if tok is not None else None, line=tok[3] if tok is not None else None,
            segment_id=tok[0][0] if tok is not None else None,
            loop=self._paths.get(id(loop)) if loop is not None else None, element=element,
        )

    def warn(self, code: str, message: str, where: Location) -> None:
        self.findings.append(Finding("warning", code, message, where))

    # statements -------------------------------------------------------------------
    def read(self) -> dict:
        self._index_paths(self.txn.body, "")
        out: dict = {}
        self.stmts(self.c.map.body, self.txn.body, out, _Scope())
        return out

    def _index_paths(self, loop: Loop, prefix: str) -> None:
        seen: dict[str, int] = {}
        for child in loop.children:
            if type(child) is Loop:
                n = seen.get(child.id, 0)
                seen[child.id] = n + 1
                path = f"{prefix}/{child.id}" if prefix else child.id
                if n:
                    path += f"[{n}]"
                self._paths[id(child)] = path
                self._index_paths(child, path)

    def stmts(self, body: list, loop: Loop, out: dict, scope: _Scope) -> None:
        for stmt in body:
            t = type(stmt)
            if t is Binding:
                sids = stmt.sids
                if sids is None:
                    sids = stmt.sids = _source_segments(stmt)
                if sids and (scope.seg is None or scope.seg[0][0] not in sids) and not self._has_any(loop, sids):
                    continue  # none of its segments is in this loop: nothing to read (the common case in big maps)
                self.binding(stmt, loop, out, scope)
            elif t is Block:
                self.block(stmt, loop, out, scope)
            elif t is When:
                if stmt.many:
                    hit = sum(len(self.resolve(loop, p, claim=False)) for p in (stmt.path, *stmt.more)) > 1
                else:
                    hit = any(self.resolve(loop, p, claim=False) for p in (stmt.path, *stmt.more))
                self.stmts(stmt.then if hit else stmt.otherwise, loop, out, scope)
            elif t is SetConst:
                src = Source(stmt.ref, ())
                for tok in self.candidates(src, loop, scope):
                    if stmt.value == "@sequence" or self.ref_value(tok, stmt.ref, scope) == stmt.value:
                        self.consume(tok, stmt.ref, scope)
            elif t is Derive:
                self.derive(stmt, out)

    def binding(self, b: Binding, loop: Loop, out: dict, scope: _Scope) -> None:
        fn = b.fn
        target = self.meta if scope.meta else out
        if b.via is not None:
            self.pointers(b, loop, target, scope)
            return
        if b.is_list:
            values = []
            blanks = 0
            positional = b.transform is None and len({src.ref.segment for src in b.sources}) == 1 and not any(src.conds for src in b.sources)
            for src in b.sources:
                tok, raw = self.locate(src, loop, scope)
                if tok is None:
                    blanks += 1
                    continue
                if positional and blanks:  # `["", "GT"]`: an empty slot before a value keeps its place
                    values.extend([""] * blanks)
                blanks = 0
                self.consume_source(tok, src, scope)
                values.append(self.convert(fn, raw, tok, loop, scope, b, src))
            if values:
                set_path(target, b.targets[0], values)
            return
        for src in b.sources:
            tok, raw = self.locate(src, loop, scope)
            if tok is None:
                continue
            self.consume_source(tok, src, scope)
            quals = []
            for q in fn.qualifiers:
                quals.append(self.ref_value(tok, q, scope))
                self.consume(tok, q, scope)
            value = self.convert(fn, raw, tok, loop, scope, b, src, quals)
            if len(b.targets) == 1:
                if b.default is not None and b.default.elide and b.default.constant and value == b.default.for_index(scope.index):
                    return
                set_path(target, b.targets[0], value)
            else:
                for name, v in zip(b.targets, value if isinstance(value, tuple) else (value, None)):
                    if v is not None:
                        set_path(target, name, v)
            return

    def pointers(self, b: Binding, loop: Loop, target: dict, scope: _Scope) -> None:
        """`x[] = A | B via POOL FIELD`: each element is a 1-based position in the pool list; the JSON gets that item's FIELD."""
        items, refs = self.pools.get(b.via[0], ([], []))
        values = []
        for src in b.sources:
            tok, raw = self.locate(src, loop, scope)
            if tok is None:
                continue
            self.consume_source(tok, src, scope)
            n = _pointer(raw)
            if 0 < n <= len(items) and b.via[1] in items[n - 1]:
                value = items[n - 1][b.via[1]]
                refs.append(value)
            else:  # kept as `#<pointer>`, which the builder writes back as it is
                value = "#" + raw
                self.warn("unreadable_value", f"{b.targets[0]}: the pointer is not a position in {b.via[0]}; kept as #pointer",
                          self.where(tok, loop, src.ref.text))
            values.append(value)
        if values:
            set_path(target, b.targets[0], values)

    def elide_pools(self, body: list, sub: dict) -> None:
        """A pool list that the pointers alone rebuild (same items, same order, nothing else) is left out."""
        for stmt in body:
            if type(stmt) is not Block or not stmt.pool or stmt.name not in self.pools:
                continue
            items, refs = self.pools.pop(stmt.name)
            field = next((b.via[1] for b in self._via_bindings(body) if b.via[0] == stmt.name), None)
            if field is None:
                continue
            derived = [{field: v} for v in dict.fromkeys(refs)]
            if items == derived:
                sub.pop(stmt.name, None)

    def _via_bindings(self, body: list):
        for stmt in body:
            if type(stmt) is Binding and stmt.via is not None:
                yield stmt
            elif type(stmt) is Block:
                yield from self._via_bindings(stmt.body)
            elif type(stmt) is When:
                yield from self._via_bindings(stmt.then)
                yield from self._via_bindings(stmt.otherwise)

    def consume_source(self, tok: tuple, src: Source, scope: _Scope) -> None:
        self.consume(tok, src.ref, scope)
        for c in src.conds:
            self.consume(tok, c.ref, scope)

    def convert(self, fn, raw: str, tok, loop, scope, b: Binding, src: Source, quals: list[str] | None = None) -> Any:
        try:
            return fn.read(raw, quals or [])
        except ReadIssue as issue:
            ref = src.ref.text if src.ref.segment else f"{tok[0][0]}{scope.elem:02d}{src.ref.text}"
            self.warn("unreadable_value", f"{'/'.join(b.targets)}: the value {issue.message}; kept as it is", self.where(tok, loop, ref))
            return issue.kept(raw)

    def block(self, blk: Block, loop: Loop, out: dict, scope: _Scope) -> None:
        kind = blk.kind
        if kind == "meta":
            self.stmts(blk.body, loop, out, _Scope(scope.seg, scope.elem, scope.index, meta=True))
        elif kind == "at":
            found = self.resolve(loop, blk.path, claim=False)
            if found:
                self.stmts(blk.body, found[0], out, scope)
        elif kind == "object":
            if blk.path:
                found = self.resolve(loop, blk.path, claim=True)
                if not found:
                    return
                inner = found[0]
                self.claimed.add(id(inner))
                self.consume_step(inner, blk.path[-1])
            else:
                inner = loop
            sub: dict = {}
            self.stmts(blk.body, inner, sub, scope)
            if self.pools:
                self.elide_pools(blk.body, sub)
            if sub:
                _merge(out, blk.name, sub)
        elif kind == "list_at":
            items = []
            for i, inner in enumerate(self.resolve(loop, blk.path, claim=True)):
                self.claimed.add(id(inner))
                self.consume_step(inner, blk.path[-1])
                sub: dict = {}
                self.stmts(blk.body, inner, sub, _Scope(index=i))
                if self.pools:
                    self.elide_pools(blk.body, sub)
                items.append(sub)
            if items:
                set_path(out, blk.name, items)
        elif kind == "list_each":
            items = []
            src = blk.each
            for tok in self.candidates(Source(src.ref, ()), loop, scope):
                if not self.matches(tok, src.conds, scope):
                    continue
                if blk.each_last is None:
                    self.consume_source(tok, src, scope)
                    self.consumed.setdefault(id(tok), set())
                    sub: dict = {}
                    self.stmts(blk.body, loop, sub, _Scope(tok, None, len(items)))
                    items.append(sub)
                else:
                    for e in range(src.ref.element, blk.each_last.element + 1, blk.step):
                        if self.value(tok, e, None) == "":
                            continue
                        sub = {}
                        self.stmts(blk.body, loop, sub, _Scope(tok, e, len(items)))
                        items.append(sub)
            if blk.pool:
                self.pools[blk.name] = (items, [])
            if items:
                set_path(out, blk.name, items)

    def resolve(self, loop: Loop, path: tuple[Step, ...], claim: bool) -> list[Loop]:
        current = [loop]
        for n, step in enumerate(path):
            last = n == len(path) - 1
            nxt = []
            for lp in current:
                for child in lp.children:
                    if type(child) is not Loop or child.id != step.loop:
                        continue
                    if last and claim and id(child) in self.claimed:
                        continue
                    if step.conds and not self.loop_matches(child, step.conds):
                        continue
                    nxt.append(child)
            current = nxt
        return current

    def consume_step(self, loop: Loop, step: Step) -> None:
        """A path condition (`at 2310A [NM101=DN]`) carries its element: the builder writes it back."""
        for c in step.conds:
            toks = self.segments(loop, c.ref.segment)
            if toks:
                self.consumed.setdefault(id(toks[0]), set()).add(c.ref.element)

    def loop_matches(self, loop: Loop, conds: tuple[Cond, ...]) -> bool:
        for c in conds:
            toks = self.segments(loop, c.ref.segment)
            if not toks or self.value(toks[0], c.ref.element, c.ref.component) not in c.codes:
                return False
        return True

    def derive(self, d: Derive, out: dict) -> None:
        ref = d.source.ref
        hits = (tok for tok in self.txn.segments()
                if tok[0][0] == ref.segment and self.matches(tok, d.source.conds, _Scope()))
        if d.quantifier == "none":
            out[d.name] = next(hits, None) is None
        elif d.quantifier == "any":
            out[d.name] = next(hits, None) is not None
        else:  # first: the first matching segment that has the element
            raw = next((v for v in (self.value(tok, ref.element, ref.component) for tok in hits) if v), "")
            if raw:
                try:
                    out[d.name] = d.fn.read(raw, [])
                except ReadIssue as issue:
                    out[d.name] = issue.kept(raw)

    # leftovers -------------------------------------------------------------------
    def leftovers(self, implied) -> list[dict]:
        """Segments nothing consumed (returned, for ``unmapped``) and elements left over (warnings)."""
        unmapped: list[dict] = []
        d = self.inter.delimiters
        self._walk_leftovers(self.txn.body, implied, unmapped, d)
        return unmapped

    def _walk_leftovers(self, loop: Loop, implied, unmapped: list, d) -> None:
        path = self._paths.get(id(loop), "")
        for child in loop.children:
            t = type(child)
            if t is Loop:
                self._walk_leftovers(child, implied, unmapped, d)
                continue
            if t is Unexpected:
                entry = segment_to_json(child.token, d, child.reason)
                entry["loop"] = path
                unmapped.append(entry)
                self.warn("unexpected_segment_kept", "segment has no place in the guide; kept under `unmapped`", self.where(child.token, loop))
                continue
            sid = child[0][0]
            if sid in STRUCTURAL:
                continue
            used = self.consumed.get(id(child))
            imp = implied(loop.id, child)
            if used is None:
                if all(i in imp for i, v in enumerate(child[0]) if i and v):
                    continue  # only implied constants: nothing to carry
                entry = segment_to_json(child, d)
                entry["loop"] = path
                unmapped.append(entry)
                self.warn("segment_not_mapped", f"{sid} is not part of the {self.c.map.name} model; kept under `unmapped`", self.where(child, loop))
                continue
            left = [i for i, v in enumerate(child[0]) if i and v and i not in used and i not in imp]
            if left:
                refs = ", ".join(f"{sid}{i:02d}" for i in left)
                self.warn("element_not_mapped", f"{refs} not carried by the model", self.where(child, loop))


def _source_segments(b: Binding) -> frozenset[str]:
    """Segment ids a binding reads; empty when one source reads the envelope or the current element (never skipped)."""
    out = set()
    for src in b.sources:
        if src.ref.segment is None or src.ref.segment in ("GS", "ISA"):
            return frozenset()
        out.add(src.ref.segment)
    return frozenset(out)


def _pointer(raw: str) -> int:
    """A 1-based pointer; senders write `1.0` for 1 too."""
    try:
        d = Decimal(raw)
    except InvalidOperation:
        return 0
    return int(d) if d.is_finite() and d == d.to_integral_value() else 0


class Implied:
    """Elements whose value the guide fixes (a single code): carrying them adds nothing.

    A loop may hold several nodes for one segment id (REF with different keys);
    only what every one of them fixes counts.
    """

    def __init__(self, guide):
        by_loop: dict[tuple[str, str], list[SegmentNode]] = {}
        for node in guide.segments():
            parent = node.parent.id if node.parent is not None else guide.root.id
            by_loop.setdefault((parent, node.id), []).append(node)
        self.fixed: dict[tuple[str, str], dict[int, str]] = {}
        for key, nodes in by_loop.items():
            common: dict[int, str] | None = None
            for node in nodes:
                fixed = {e: code for e, comp, code, _ in fixed_codes(node) if comp is None}
                common = fixed if common is None else {k: v for k, v in common.items() if fixed.get(k) == v}
            self.fixed[key] = common or {}

    def __call__(self, loop_id: str, tok: tuple) -> set[int]:
        fixed = self.fixed.get((loop_id, tok[0][0]))
        if not fixed:
            return set()
        els = tok[0]
        return {i for i, code in fixed.items() if i < len(els) and els[i] == code}
