"""Loop tree → semantic JSON, driven by a compiled map.

Every element the map reads is marked consumed; what no statement consumed is
reported, never dropped: whole segments go to ``unmapped`` (with their loop
path, so the builder can put them back) and leftover elements of mapped
segments become warnings. Warnings name the loop, segment position and element,
never the value.

The statement lists run as ``mapplan`` compiled them: a generated function per
list (``mapgen``) reads the plain bindings itself and calls back here for the
rest (blocks, ``when``, derivations, pointers, repetitions) and for the rare
binding with more than one candidate segment (``fast``, ``read_list``,
``read_run``). With ``mapplan.COMPILE`` off, the interpreter below runs every
list as written: the reference the generated code is tested against.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Any, Sequence

from .errors import Finding, Location
from .grammar import LoopNode, SegmentNode, fixed_codes, value_at
from .derivations import compute
from .mapplan import ContextMemo, Read, ReadRun, needs_of, program
from .maplang import Binding, Block, Cond, Derive, DeriveCall, Ref, SetConst, Source, Step, When
from .tree import Interchange, Group, Loop, Transaction, Unexpected, segment_to_json
from .transforms import ReadIssue, _number_read

if TYPE_CHECKING:
    from .mapcatalog import Compiled

STRUCTURAL = frozenset({"ST", "SE", "HL"})


class _Scope:
    """Where statements run: the item's segment and element (``each`` lists), the item's
    index, whether they write the envelope metadata, and the dotted names of the
    path-less objects they sit in (``prefix``, for warnings: compiled lists have
    those objects dissolved into dotted targets, and both name a field alike)."""

    __slots__ = ("seg", "elem", "index", "meta", "prefix")

    def __init__(self, seg=None, elem=None, index=0, meta=False, prefix=""):
        self.seg, self.elem, self.index, self.meta, self.prefix = seg, elem, index, meta, prefix


def set_path(out: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        nxt = out.get(p)
        if not isinstance(nxt, dict):
            nxt = out[p] = {}
        out = nxt
    out[parts[-1]] = value


def _put(out: dict, r: Read, value: Any) -> None:
    """``set_path`` with the target's parts split once, at compile time."""
    parts = r.parts
    if parts is None:
        out[r.target] = value
        return
    for p in parts[:-1]:
        nxt = out.get(p)
        if type(nxt) is not dict:
            nxt = out[p] = {}
        out = nxt
    out[parts[-1]] = value


def _copy(value: Any) -> Any:
    """A JSON value's own copy (dicts and lists anew, leaves shared: they are immutable)."""
    t = type(value)
    if t is dict:
        return {k: _copy(v) for k, v in value.items()}
    if t is list:
        return [_copy(v) for v in value]
    return value


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

    def __init__(self, compiled: Compiled, inter: Interchange, group: Group, txn: Transaction, source: str | None = None,
                 memo: ContextMemo | None = None):
        self.c = compiled
        self.memo = memo  # streamed claims: context objects read once (see ContextMemo)
        self.inter, self.group, self.txn = inter, group, txn
        self.comp = inter.delimiters.component
        self.rep = inter.delimiters.repetition
        self.rep_split = inter.delimiters.repetition_or_never  # what generated code splits repetitions with
        self.norep = self.rep is None or not txn.repeats  # generated code without repetition splits
        # segment index (token[1]) → bit mask of the elements read from it; keyed on the index,
        # not id(token): no int made per mark, and neighbouring segments hash to neighbouring slots
        self.consumed: dict[int, int] = {}
        self.claimed: set[int] = set()
        self.findings: list[Finding] = []
        self.meta: dict[str, Any] = {}
        self.source = source
        self._by_loop: dict[int, dict[str, list[tuple]]] = {}
        self._paths: dict[int, str] | None = None  # id(loop) → its path, made when a finding first needs one
        self._quals: dict[tuple, set[str]] = {}
        self.pools: dict[str, tuple[list[dict], list]] = {}  # pool list name → (items, values `via` pointed to)

    # values -------------------------------------------------------------------
    def value(self, tok: tuple, element: int, component: int | None) -> str:
        return value_at(tok[0], element, component, self.comp, self.rep)

    def ref_value(self, tok: tuple, ref: Ref, scope: _Scope) -> str:
        if ref.segment is None:
            return self.value(tok, scope.elem + ref.offset, ref.component)
        return self.value(tok, ref.element, ref.component)

    def consume(self, tok: tuple, ref: Ref, scope: _Scope) -> None:
        element = scope.elem + ref.offset if ref.segment is None else ref.element
        self.mark(tok, element)

    def mark(self, tok: tuple, element: int | None) -> None:
        """Element ``element`` of ``tok`` was read (None: the segment was, no element).
        Only elements with a value are marked, so a segment whose marks number its
        non-empty elements has nothing left over (``_walk_leftovers``)."""
        k = tok[1]
        els = tok[0]
        bit = 1 << element if element is not None and element < len(els) and els[element] else 0
        self.consumed[k] = self.consumed.get(k, 0) | bit

    def segments(self, loop: Loop, sid: str) -> list[tuple]:
        return self.index(loop).get(sid, [])

    def index(self, loop: Loop) -> dict[str, list]:
        """The loop's own segments by id, and its child loops by loop id (what block
        paths start from; loop ids start with a digit or hold a "_", segment ids never do)."""
        idx = loop.index
        if idx is not None:
            return idx
        idx = self._by_loop.get(id(loop))
        if idx is None:
            idx = {}
            for c in loop.children:
                t = type(c)
                if t is tuple:
                    k = c[0][0]
                elif t is Loop:
                    k = c.id
                else:
                    continue
                got = idx.get(k)
                if got is None:
                    idx[k] = [c]
                else:
                    got.append(c)
            self._by_loop[id(loop)] = idx
        return idx

    def _qualifiers(self, loop: Loop, idx: dict, sid: str, e: int) -> set[str]:
        """The values element ``e`` takes in the loop's own ``sid`` segments (cached per loop)."""
        key = (id(loop), sid, e)
        got = self._quals.get(key)
        if got is None:
            got = self._quals[key] = {value_at(t[0], e, None, self.comp, self.rep) for t in idx[sid]}
        return got

    def candidates(self, ref: Ref, loop: Loop, scope: _Scope) -> list[tuple]:
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
        """The first candidate segment meeting the source's conditions with a value there.
        (``matches`` and ``ref_value`` inlined: this runs once per statement that can hit.)"""
        ref = src.ref
        conds = src.conds
        comp, rep = self.comp, self.rep
        e = scope.elem + ref.offset if ref.segment is None else ref.element
        rc = ref.component
        sid = ref.segment
        seg = scope.seg
        if sid is None or (seg is not None and seg[0][0] == sid):
            cands = (seg,)
        elif sid == "GS" or sid == "ISA":
            cands = self.candidates(ref, loop, scope)
        else:
            cands = self.index(loop).get(sid, ())
        for tok in cands:
            els = tok[0]
            for c in conds:
                cr = c.ref
                ce = scope.elem + cr.offset if cr.segment is None else cr.element
                if value_at(els, ce, cr.component, comp, rep) not in c.codes:
                    break
            else:
                v = value_at(els, e, rc, comp, rep)
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
            loop=self.loop_path(loop) if loop is not None else None, element=element,
        )

    def warn(self, code: str, message: str, where: Location) -> None:
        self.findings.append(Finding("warning", code, message, where))

    # statements -------------------------------------------------------------------
    def read(self) -> dict:
        out: dict = {}
        self.stmts(self.c.map.body, self.txn.body, out, _Scope())
        return out

    def loop_path(self, loop: Loop) -> str | None:
        """``2000A/2000B[3]/2300``: where a finding or an unmapped segment is (None: the set's own level)."""
        if self._paths is None:
            self._paths = {}
            self._index_paths(self.txn.body, "")
        return self._paths.get(id(loop))

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
        prog = program(body)
        run = prog.function(self.norep, scope.seg is not None)
        if run is not None:
            run(self, loop, out, scope)
            return
        for stmt in prog.body:
            t = type(stmt)
            if t is ReadRun:
                self.read_run(stmt, loop, out, scope)
            elif t is Read:
                if stmt.is_list:
                    self.read_list(stmt, loop, out, scope)
                else:
                    self.fast(stmt, loop, out, scope)
            elif t is Binding:
                self.binding(stmt, loop, out, scope)
            else:
                self.stmt(stmt, loop, out, scope)

    def compiled_candidates(self, sid: str | None, loop: Loop, scope: _Scope) -> tuple[Sequence[tuple], int]:
        """The segments a compiled source may read, and the element its positions count
        from: the current segment of an element list (positions relative to its current
        element) or the loop's own segments with that id."""
        seg = scope.seg
        if sid is None:
            return (seg,), scope.elem
        if seg is not None and seg[0][0] == sid:
            return (seg,), 0
        return self.index(loop).get(sid, ()), 0

    def meets(self, els: list[str], conds: tuple, base: int) -> bool:
        """Whether a segment's elements hold one of each compiled condition's codes."""
        rep = self.rep
        for ce, cc, codes in conds:
            ce += base
            v = els[ce] if ce < len(els) else ""
            if cc is not None or (rep and rep in v):  # the common case needs no splitting
                v = value_at(els, ce, cc, self.comp, rep)
            if v not in codes:
                return False
        return True

    def hit(self, source: tuple, loop: Loop, scope: _Scope) -> tuple[tuple, str] | None:
        """The first candidate segment meeting a compiled source's conditions with a
        value at its element, and that value (the elements read are marked consumed)."""
        sid, e, comp, conds, mask, _ = source
        cands, base = self.compiled_candidates(sid, loop, scope)
        if sid is None:
            e += base
            mask = 1 << e
            for ce, _, _ in conds:
                mask |= 1 << (ce + base)
        rep = self.rep
        for tok in cands:
            els = tok[0]
            if conds and not self.meets(els, conds, base):
                continue
            raw = els[e] if e < len(els) else ""  # value_at, inlined: the reader's innermost step
            if rep and rep in raw:
                raw = raw.split(rep, 1)[0]
            if comp is not None:
                parts = raw.split(self.comp)
                raw = parts[comp - 1] if comp <= len(parts) else ""
            if raw != "":
                k = tok[1]
                self.consumed[k] = self.consumed.get(k, 0) | mask
                return tok, raw
        return None

    def fast(self, r: Read, loop: Loop, out: dict, scope: _Scope) -> None:
        """A plain binding (one value, one target, qualifier codes only): ``_binding`` with
        the generic steps precomputed; most of a map's statements are of this kind."""
        for source in r.sources:
            found = self.hit(source, loop, scope)
            if found is None:
                continue
            tok, raw = found
            try:
                value = r.read(raw, [])
            except ReadIssue:  # the slow path words the warning and keeps what it can
                value = self.convert(r.binding.fn, raw, tok, loop, scope, r.binding, source[5])
            d = r.elide
            if d is None or value != d.for_index(scope.index):
                _put(self.meta if scope.meta else out, r, value)
            return

    def read_list(self, r: Read, loop: Loop, out: dict, scope: _Scope) -> None:
        """``name[] = A | B | …`` compiled: every source's value, in order. With one
        segment, no conditions and no transform the sources are positions, so an
        empty one before a value keeps its place (`["", "GT"]`)."""
        values = []
        blanks = 0
        for source in r.sources:
            found = self.hit(source, loop, scope)
            if found is None:
                blanks += 1
                continue
            if r.positional and blanks:
                values.extend([""] * blanks)
            blanks = 0
            tok, raw = found
            try:
                values.append(r.read(raw, []))
            except ReadIssue:
                values.append(self.convert(r.binding.fn, raw, tok, loop, scope, r.binding, source[5]))
        if values:
            _put(self.meta if scope.meta else out, r, values)

    def read_run(self, g: ReadRun, loop: Loop, out: dict, scope: _Scope) -> None:
        """``fast`` for a run of plain bindings on one segment: the candidates are found
        and tested once, then each member takes the first holding its element."""
        cands, base = self.compiled_candidates(g.sid, loop, scope)
        conds = g.conds
        matched = [tok for tok in cands if self.meets(tok[0], conds, base)] if conds else cands
        if not matched:
            return
        consumed = self.consumed
        cond_mask = g.cond_mask << base
        target = self.meta if scope.meta else out
        sep, rep = self.comp, self.rep
        for e, comp, mask, r in g.members:
            e += base
            for tok in matched:
                els = tok[0]
                raw = els[e] if e < len(els) else ""  # value_at, inlined
                if rep and rep in raw:
                    raw = raw.split(rep, 1)[0]
                if comp is not None:
                    parts = raw.split(sep)
                    raw = parts[comp - 1] if comp <= len(parts) else ""
                if raw == "":
                    continue
                k = tok[1]
                consumed[k] = consumed.get(k, 0) | (mask << base) | cond_mask
                try:
                    value = r.read(raw, [])
                except ReadIssue:  # the slow path words the warning and keeps what it can
                    b = r.binding
                    value = self.convert(b.fn, raw, tok, loop, scope, b, r.sources[0][5])
                d = r.elide
                if d is None or value != d.for_index(scope.index):
                    _put(target, r, value)
                break

    def stmt(self, stmt, loop: Loop, out: dict, scope: _Scope) -> None:
        """One statement other than a binding."""
        t = type(stmt)
        if t is Block:
            self.block(stmt, loop, out, scope)
        elif t is When:
            if stmt.many:
                hit = sum(len(self.resolve(loop, p, claim=False)) for p in (stmt.path, *stmt.more)) > 1
            else:
                hit = any(self.resolve(loop, p, claim=False) for p in (stmt.path, *stmt.more))
            self.stmts(stmt.then if hit else stmt.otherwise, loop, out, scope)
        elif t is SetConst:
            for tok in self.candidates(stmt.ref, loop, scope):
                if stmt.value == "@sequence" or self.ref_value(tok, stmt.ref, scope) == stmt.value:
                    self.consume(tok, stmt.ref, scope)
        elif t is Derive:
            if stmt.quantifier == "local":
                self.derive_local(stmt, loop, out, scope)
            else:
                self.derive(stmt, out)
        elif t is DeriveCall:
            value = compute(stmt.fn, out, stmt.fields)
            if value is not None:
                set_path(out, stmt.name, value)

    def binding(self, b: Binding, loop: Loop, out: dict, scope: _Scope) -> None:
        needs = needs_of(b)
        if needs and (scope.seg is None or scope.seg[0][0] not in needs[0]):
            # most statements of a map name segments (or qualifier codes) a given loop
            # instance does not hold: set tests skip them before any lookup
            idx = self.index(loop)
            for sid, e, codes in needs[1]:
                if sid in idx and (e is None or not codes.isdisjoint(self._qualifiers(loop, idx, sid, e))):
                    break
            else:
                return
        self._binding(b, loop, out, scope)

    def _binding(self, b: Binding, loop: Loop, out: dict, scope: _Scope) -> None:
        fn = b.fn
        target = self.meta if scope.meta else out
        if b.repeats:
            self.repetitions(b, loop, target, scope)
            return
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
                keep_null = getattr(fn, "keep_null", False)
                for name, v in zip(b.targets, value if isinstance(value, tuple) else (value, None)):
                    if v is not None or keep_null:
                        set_path(target, name, v)
            return

    def repetitions(self, b: Binding, loop: Loop, target: dict, scope: _Scope) -> None:
        """`name[] = EB03 repeats`: one item per non-empty repetition of the first matching segment's element."""
        src = b.sources[0]
        ref = src.ref
        for tok in self.candidates(src.ref, loop, scope):
            if not self.matches(tok, src.conds, scope):
                continue
            els = tok[0]
            raw = els[ref.element] if ref.element < len(els) else ""
            if raw == "":
                continue
            values = []
            for rep in (raw.split(self.rep) if self.rep else [raw]):
                v = value_at([rep], 0, ref.component, self.comp)
                if v != "":
                    values.append(self.convert(b.fn, v, tok, loop, scope, b, src))
            self.consume_source(tok, src, scope)
            d = b.default
            if values and not (d is not None and d.elide and d.constant and values == [d.first]):
                set_path(target, b.targets[0], values)
            return

    def pointers(self, b: Binding, loop: Loop, target: dict, scope: _Scope) -> None:
        """`x[] = A | B via POOL FIELD`: each element is a 1-based position in the pool list; the JSON gets that item's FIELD."""
        values = []
        for src in b.sources:
            tok, raw = self.locate(src, loop, scope)
            if tok is None:
                continue
            self.consume_source(tok, src, scope)
            values.append(self.pointed(b, raw, tok, loop, scope, src))
        if values:
            set_path(target, b.targets[0], values)

    def pointed(self, b: Binding, raw: str, tok: tuple, loop: Loop, scope: _Scope, src: Source) -> Any:
        """The pool item field a pointer names (recorded, so a pool its pointers rebuild is
        elided), or `#<pointer>` with a warning when it names no item."""
        items, refs = self.pools.get(b.via[0], ((), []))
        n = _pointer(raw)
        if 0 < n <= len(items) and b.via[1] in items[n - 1]:
            value = items[n - 1][b.via[1]]
            refs.append(value)
            return value
        # kept as `#<pointer>`, which the builder writes back as it is
        self.warn("unreadable_value", f"{scope.prefix}{b.targets[0]}: the pointer is not a position in {b.via[0]}; kept as #pointer",
                  self.where(tok, loop, src.ref.text))
        return "#" + raw

    def elide_pools(self, body: list, sub: dict) -> None:
        """A pool list that the pointers alone rebuild (same items, same order, nothing else) is left out."""
        prog = program(body)
        for name in prog.pools:
            if name not in self.pools:
                continue
            items, refs = self.pools.pop(name)
            field = next((b.via[1] for b in prog.vias if b.via[0] == name), None)
            if field is None:
                continue
            derived = [{field: v} for v in dict.fromkeys(refs)]
            if items == derived:
                sub.pop(name, None)

    def consume_source(self, tok: tuple, src: Source, scope: _Scope) -> None:
        self.consume(tok, src.ref, scope)
        for c in src.conds:
            self.consume(tok, c.ref, scope)

    def convert(self, fn, raw: str, tok, loop, scope, b: Binding, src: Source, quals: list[str] | None = None) -> Any:
        try:
            return fn.read(raw, quals or [])
        except ReadIssue as issue:
            ref = src.ref.text if src.ref.segment else _element_text(tok[0][0], scope.elem + src.ref.offset, src.ref.component)
            tail = "" if issue.null else "; kept as it is"
            names = "/".join(scope.prefix + t for t in b.targets)
            self.warn("unreadable_value", f"{names}: the value {issue.message}{tail}", self.where(tok, loop, ref))
            return issue.kept(raw)

    def block(self, blk: Block, loop: Loop, out: dict, scope: _Scope) -> None:
        kind = blk.kind
        if kind == "meta":
            self.stmts(blk.body, loop, out, _Scope(scope.seg, scope.elem, scope.index, True, scope.prefix))
        elif kind == "at":
            found = self.resolve(loop, blk.path, claim=blk.own)
            if found:
                if blk.own:
                    self.claimed.add(id(found[0]))
                self.stmts(blk.body, found[0], out, scope)
        elif kind == "object":
            if blk.path:
                found = self.resolve(loop, blk.path, claim=True)
                if not found:
                    return
                inner = found[0]
                self.claimed.add(id(inner))
                if scope.prefix:  # an object with a path names its fields from itself
                    scope = _Scope(scope.seg, scope.elem, scope.index, scope.meta)
                if self.memo is not None and scope.seg is None and not scope.meta and not self.pools \
                        and program(blk.body).pure:
                    self.memo_object(blk, inner, out, scope)
                    return
            else:
                inner = loop
                scope = _Scope(scope.seg, scope.elem, scope.index, scope.meta, f"{scope.prefix}{blk.name}.")
            sub: dict = {}
            self.stmts(blk.body, inner, sub, scope)
            if self.pools:
                self.elide_pools(blk.body, sub)
            if sub:
                _merge(out, blk.name, sub)
        elif kind == "list_at":
            items = []
            found = self.resolve_captures(loop, blk.path)  # without `$field` steps: the loops, fields empty
            for i, (inner, captured) in enumerate(found):
                self.claimed.add(id(inner))
                sub: dict = dict(captured)  # captured fields may be shared between items
                self.stmts(blk.body, inner, sub, _Scope(index=i))
                if self.pools:
                    self.elide_pools(blk.body, sub)
                items.append(sub)
            if items:
                set_path(out, blk.name, items)
        elif kind == "list_each":
            items = []
            src = blk.each
            for tok in self.candidates(src.ref, loop, scope):
                if not self.matches(tok, src.conds, scope):
                    continue
                if blk.each_last is None:
                    self.consume_source(tok, src, scope)
                    self.consumed.setdefault(tok[1], 0)
                    sub: dict = {}
                    self.stmts(blk.body, loop, sub, _Scope(tok, None, len(items)))
                    items.append(sub)
                else:
                    for e in blk.slots:
                        if self.value(tok, e, None) == "":
                            continue
                        sub = {}
                        self.stmts(blk.body, loop, sub, _Scope(tok, e, len(items)))
                        items.append(sub)
            if blk.pool:
                self.pools[blk.name] = (items, [])
            if items:
                set_path(out, blk.name, items)

    def memo_object(self, blk: Block, inner: Loop, out: dict, scope: _Scope) -> None:
        """An object block on a context loop: replayed when an earlier claim of the stream
        read it (its JSON copied, its consumed elements and claimed loops marked again)."""
        memo = self.memo
        key = (id(blk), id(inner), scope.index)
        memo.used.add(key)
        hit = memo.entries.get(key)
        if hit is None or hit[0] is not inner:
            outer_consumed, outer_claimed, seen = self.consumed, self.claimed, len(self.findings)
            self.consumed, self.claimed = {}, set(outer_claimed)
            sub: dict = {}
            try:
                self.stmts(blk.body, inner, sub, scope)
            finally:
                rec, claimed = self.consumed, self.claimed
                self.consumed, self.claimed = outer_consumed, outer_claimed
            hit = (inner, sub, rec, frozenset(claimed - outer_claimed))
            if len(self.findings) == seen:  # a read that warned is read again next time
                memo.entries[key] = hit
            sub = _copy(sub)
        else:
            sub = _copy(hit[1])
        consumed = self.consumed
        for k, mask in hit[2].items():
            consumed[k] = consumed.get(k, 0) | mask
        self.claimed |= hit[3]
        if sub:
            _merge(out, blk.name, sub)

    def resolve(self, loop: Loop, path: tuple[Step, ...], claim: bool) -> list[Loop]:
        current = [loop]
        for n, step in enumerate(path):
            last = n == len(path) - 1
            nxt = []
            key = step.loop
            for lp in current:
                for child in self.index(lp).get(key, ()):
                    if last and claim and id(child) in self.claimed:
                        continue
                    if step.conds and not self.loop_matches(child, step.conds):
                        continue
                    nxt.append(child)
            current = nxt
        return current

    def resolve_captures(self, loop: Loop, path: tuple[Step, ...]) -> list[tuple[Loop, dict]]:
        """Like `resolve` (claiming), also reading the `[XX01=$field]` step conditions into fields."""
        current: list[tuple[Loop, dict]] = [(loop, {})]
        claimed = self.claimed
        for n, step in enumerate(path):
            last = n == len(path) - 1
            conds = step.conds
            # the step's `$field` conditions, each with whether the guide types it as a number:
            # found once per step (every loop of a step has the step's loop id), not per loop
            fields = [(c.ref, c.codes[0][1:], _numeric_in(self.c.guide, step.loop, c.ref))
                      for c in conds if is_field_code(c.codes[0])]
            nxt = []
            for lp, got in current:
                for child in self.index(lp).get(step.loop, ()):
                    if last and id(child) in claimed:
                        continue
                    if conds and not self.loop_matches(child, conds):
                        continue
                    if not fields:  # the fields read so far, shared: the caller copies them
                        nxt.append((child, got))
                        continue
                    mine = dict(got)
                    idx = self.index(child)
                    for ref, name, numeric in fields:  # loop_matches has marked them read
                        toks = idx.get(ref.segment)
                        raw = self.value(toks[0], ref.element, ref.component) if toks else ""
                        if raw:
                            mine[name] = _field_number(raw) if numeric else raw
                    nxt.append((child, mine))
            current = nxt
        return current

    def loop_matches(self, loop: Loop, conds: tuple[Cond, ...]) -> bool:
        idx = self.index(loop)
        for c in conds:
            if is_field_code(c.codes[0]):
                continue  # `$field`: any value; the value is the field's
            toks = idx.get(c.ref.segment)
            if not toks or self.value(toks[0], c.ref.element, c.ref.component) not in c.codes:
                return False
        for c in conds:  # `at 2110C [EB01=C]`: the loop's choice carries the code, so it is read
            toks = idx.get(c.ref.segment)
            if toks:  # a `$field` step condition does not need its segment
                self.mark(toks[0], c.ref.element)
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

    def derive_local(self, d: Derive, loop: Loop, out: dict, scope: _Scope) -> None:
        """`derive NAME = local REF`: the first matching value among the current loop's own segments.

        Nothing is consumed: the value is a convenience copy of an element another
        statement carries (a claim's amounts copied from its first status).
        """
        tok, raw = self.locate(d.source, loop, scope)
        if tok is None:
            return
        try:
            value = d.fn.read(raw, [])
        except ReadIssue as issue:
            value = issue.kept(raw)
        set_path(self.meta if scope.meta else out, d.name, value)

    # leftovers -------------------------------------------------------------------
    def leftovers(self, implied) -> list[dict]:
        """Segments nothing consumed (returned, for ``unmapped``) and elements left over (warnings)."""
        unmapped: list[dict] = []
        d = self.inter.delimiters
        self._walk_leftovers(self.txn.body, implied, unmapped, d)
        return unmapped

    def _walk_leftovers(self, loop: Loop, implied, unmapped: list, d) -> None:
        used_of = self.consumed.get
        fixed_of = implied.by_loop.get(loop.id, _NONE_FIXED)  # (a method call per loop costs more than the rest)
        for child in loop.children:
            t = type(child)
            if t is tuple:
                # marks fall on non-empty elements only: as many marks as values, all read
                els = child[0]
                used = used_of(child[1])
                if used is not None:
                    values = len(els) - 1 - els.count("")
                    if used.bit_count() == values:
                        continue
                    fixed = fixed_of.get(els[0])
                    if fixed is not None:  # the rest may hold only the codes the guide fixes: NM101, HL03
                        n = len(els)
                        for i, code, bit in fixed:
                            if i < n and els[i] == code:
                                used |= bit
                        if used.bit_count() == values:
                            continue
                self._leftover(loop, child, used, implied, unmapped, d)
            elif t is Loop:
                self._walk_leftovers(child, implied, unmapped, d)
            else:
                self._leftover(loop, child, None, implied, unmapped, d)

    def _leftover(self, loop: Loop, child, used: int | None, implied, unmapped: list, d) -> None:
        """A child the short test in ``_walk_leftovers`` did not pass: an unexpected segment,
        one nothing read, or one with elements nothing read besides those the guide fixes."""
        t = type(child)
        if t is Unexpected:
            entry = segment_to_json(child.token, d, child.reason)
            entry["loop"] = self.loop_path(loop) or ""
            unmapped.append(entry)
            self.warn("unexpected_segment_kept", "segment has no place in the guide; kept under `unmapped`", self.where(child.token, loop))
            return
        els = child[0]
        sid = els[0]
        if sid in STRUCTURAL:
            return
        if used is None:
            imp = implied(loop.id, child)
            if all(i in imp for i, v in enumerate(els) if i and v):
                return  # only implied constants: nothing to carry
            entry = segment_to_json(child, d)
            entry["loop"] = self.loop_path(loop) or ""
            unmapped.append(entry)
            self.warn("segment_not_mapped", f"{sid} is not part of the {self.c.map.name} model; kept under `unmapped`", self.where(child, loop))
            return
        left = [i for i, v in enumerate(els) if i and v and not used >> i & 1]
        if left:
            imp = implied(loop.id, child)
            left = [i for i in left if i not in imp]
        if left:
            # the elements no statement read are kept as a patch of this segment, so a
            # rebuild writes them back into it (nothing in a mapped segment is lost either)
            full = segment_to_json(child, d)
            full["loop"] = self.loop_path(loop) or ""
            full["patch"] = left  # the element positions to restore; the rest find the rebuilt segment
            # which of the loop's own `sid` segments (the index lists them in document order)
            full["occurrence"] = next(i for i, c in enumerate(self.index(loop)[sid]) if c is child)
            unmapped.append(full)
            refs = ", ".join(f"{sid}{i:02d}" for i in left)
            self.warn("element_not_mapped", f"{refs} not part of the {self.c.map.name} model; kept under `unmapped` as a patch of the segment",
                      self.where(child, loop))


def _element_text(sid: str, element: int, component: int | None) -> str:
    return f"{sid}{element:02d}" + (f"-{component:02d}" if component else "")


def is_field_code(code: str) -> bool:
    """`[LX01=$assigned_number]` on a loop step: the element's value is a JSON field of the item."""
    return code.startswith("$")


def has_field_conds(path: tuple[Step, ...] | None) -> bool:
    return bool(path) and any(is_field_code(c.codes[0]) for step in path for c in step.conds)


def element_is_numeric(loop: LoopNode, ref: Ref) -> bool:
    """Whether the guide's dictionary types this element of the loop as a number (N0..N9, R)."""
    key = _element_text(ref.segment, ref.element, ref.component)
    for node in loop.children:
        if isinstance(node, SegmentNode) and node.id == ref.segment:
            spec = node.specs.get(key)
            if spec is not None and spec.data_element is not None:
                t = spec.data_element.type
                return t == "R" or (t.startswith("N") and len(t) == 2)
    return False


@cache
def _numeric_in(guide, loop_id: str, ref: Ref) -> bool:
    node = next((lp for lp in guide.loops() if lp.id == loop_id), None)
    return node is not None and element_is_numeric(node, ref)


def _field_number(raw: str) -> Any:
    """A captured value of a numeric element: the number, or the text when it is none."""
    try:
        return _number_read(raw)
    except ReadIssue:
        return raw


def _pointer(raw: str) -> int:
    """A 1-based pointer; senders write `1.0` for 1 too."""
    if len(raw) < 19 and raw.isascii() and raw.isdigit():
        return int(raw)
    try:
        d = Decimal(raw)
    except InvalidOperation:
        return 0
    return int(d) if d.is_finite() and d == d.to_integral_value() else 0


_NONE_FIXED: dict = {}


class Implied:
    """Elements whose value the guide fixes (a single code): carrying them adds nothing.

    A loop may hold several nodes for one segment id (REF with different keys);
    only what every one of them fixes counts.
    """

    def __init__(self, guide):
        nodes_of: dict[tuple[str, str], list[SegmentNode]] = {}
        for node in guide.segments():
            parent = node.parent.id if node.parent is not None else guide.root.id
            nodes_of.setdefault((parent, node.id), []).append(node)
        # loop id → {segment id → ((element, its fixed code, the element's bit), ...)} for the
        # segments of the loop that fix any: a bit counts when the segment holds that code.
        # The one table both the leftover walk's short test and ``__call__`` read.
        self.by_loop: dict[str, dict[str, tuple]] = {}
        for (loop_id, sid), nodes in nodes_of.items():
            common: dict[int, str] | None = None
            for node in nodes:
                fixed = {e: code for e, comp, code, _ in fixed_codes(node) if comp is None}
                common = fixed if common is None else {k: v for k, v in common.items() if fixed.get(k) == v}
            if common:
                self.by_loop.setdefault(loop_id, {})[sid] = tuple((i, code, 1 << i) for i, code in common.items())

    def __call__(self, loop_id: str, tok: tuple) -> set[int]:
        """The elements of ``tok`` (in loop ``loop_id``) that hold the code the guide fixes."""
        els = tok[0]
        fixed = self.by_loop.get(loop_id, _NONE_FIXED).get(els[0], ())
        return {i for i, code, _ in fixed if i < len(els) and els[i] == code}
