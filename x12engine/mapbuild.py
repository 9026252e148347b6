"""Semantic JSON → segments of one transaction set, driven by the same map that reads it.

The builder fills a small tree of loops and segments, then lets the guide finish
the job: segments are ordered by their grammar position, elements the guide
fixes to one code are filled in, HL numbers, parents and child flags are
computed, and ST/SE are added with the count. Nothing the user sends is
dropped: a JSON field no statement used is an error naming its path.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from .errors import BuildError, Location
from .tokenizer import Delimiters
from .transforms import _number_write
from .grammar import LoopNode, SegmentNode, fixed_codes
from .mapcatalog import Compiled
from .maplang import Binding, Block, Cond, Derive, DeriveCall, Ref, SetConst, Source, Step, When

_MISSING = object()


class BSeg:
    __slots__ = ("id", "els", "node", "order")

    def __init__(self, sid: str, order: int):
        self.id = sid
        self.els: list[list[str]] = []  # element i (1-based at i-1) → components
        self.node: SegmentNode | None = None
        self.order = order

    def get(self, element: int, component: int | None) -> str:
        if element - 1 >= len(self.els):
            return ""
        comps = self.els[element - 1]
        c = (component or 1) - 1
        return comps[c] if c < len(comps) else ""

    def used(self, element: int) -> bool:
        return element <= len(self.els) and any(self.els[element - 1])

    def put(self, element: int, component: int | None, value: str) -> None:
        while len(self.els) < element:
            self.els.append([])
        comps = self.els[element - 1]
        c = (component or 1) - 1
        while len(comps) <= c:
            comps.append("")
        comps[c] = value

    def elements(self) -> list[list[str]]:
        out = [list(c) for c in self.els]
        for comps in out:
            while comps and comps[-1] == "":
                comps.pop()
        while out and not out[-1]:
            out.pop()
        return out


class BLoop:
    __slots__ = ("id", "node", "children", "order")

    def __init__(self, node: LoopNode, order: int):
        self.id = node.id
        self.node = node
        self.children: list = []
        self.order = order

    def segs(self, sid: str) -> list[BSeg]:
        return [c for c in self.children if type(c) is BSeg and c.id == sid]

    def loops(self, lid: str) -> list["BLoop"]:
        return [c for c in self.children if type(c) is BLoop and c.id == lid]


class _Scope:
    __slots__ = ("seg", "elem", "index", "meta", "path")

    def __init__(self, seg=None, elem=None, index=0, meta=False, path=""):
        self.seg, self.elem, self.index, self.meta, self.path = seg, elem, index, meta, path


def get_path(data: Any, dotted: str) -> Any:
    cur = data
    for p in dotted.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return _MISSING
        cur = cur[p]
    return cur


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class MapBuilder:
    """Builds one transaction set body (the segments between ST and SE) from a JSON object."""

    def __init__(self, compiled: Compiled, settings: dict[str, Any] | None = None):
        self.c = compiled
        self.settings = settings or {}
        self.envelope: dict[str, str] = {}
        self.used: set[str] = set()  # JSON paths that reached the X12
        self.counter = 0
        self.root = BLoop(compiled.guide.root, 0)
        d = self.settings.get("delimiters") or Delimiters()
        self.reserved = "".join(c for c in (d.element, d.component, d.repetition, d.segment, "\n", "\r") if c)
        self.doc: dict = {}
        self.meta: dict = {}
        # loops created only on the way to another loop (not yet an object's or list item's own),
        # by (id of the parent loop, loop id): found in O(1), however many siblings they have
        self.passed: dict[tuple[int, str], list[BLoop]] = {}
        self.pools: dict[str, dict] = {}  # pool list name → where it writes and the keys of its items

    def fail(self, message: str, path: str | None = None) -> BuildError:
        return BuildError(f"{path}: {message}" if path else message, Location(source=f"map {self.c.map.name}"))

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    # ---------------------------------------------------------------- entry
    def build(self, data: dict, meta: dict | None = None) -> BLoop:
        self.doc = data
        self.meta = meta or {}
        self.stmts(self.c.map.body, self.root, data, _Scope())
        self.reinsert(data.get("unmapped") if isinstance(data, dict) else None)
        self.finish(self.root)
        return self.root

    # ---------------------------------------------------------------- segments
    def new_seg(self, loop: BLoop, sid: str) -> BSeg:
        seg = BSeg(sid, self._next())
        loop.children.append(seg)
        return seg

    def new_loop(self, parent: BLoop, node: LoopNode, trigger: bool = True) -> BLoop:
        lp = BLoop(node, self._next())
        parent.children.append(lp)
        first = next((c for c in node.children if isinstance(c, SegmentNode)), None)
        if not trigger and (first is None or first.id != "HL"):  # HL is always computed, so always written
            first = None
        if first is not None:
            trig = self.new_seg(lp, first.id)
            for element, component, codes in first.keys:
                if len(codes) == 1:
                    trig.put(element, component, next(iter(codes)))
        return lp

    def child_node(self, loop: BLoop, lid: str) -> LoopNode:
        for c in loop.node.children:
            if isinstance(c, LoopNode) and c.id == lid:
                return c
        raise self.fail(f"loop {lid} is not inside {loop.id}")  # the checker makes this unreachable

    def any_node(self, loop: BLoop, lid: str, where: str) -> LoopNode:
        """The grammar node for a loop an unmapped entry names, even where the source file misplaced it."""
        for c in loop.node.children:
            if isinstance(c, LoopNode) and c.id == lid:
                return c
        for node in self.c.guide.loops():
            if node.id == lid:
                return node
        raise self.fail(f"the guide has no loop {lid}", where)

    def walk(self, loop: BLoop, path: tuple[Step, ...], create_last: bool, item: Any = None, where: str = "") -> BLoop:
        cur = loop
        for n, step in enumerate(path):
            last = n == len(path) - 1
            conds = [(c, self.field_code(c, item, where)) for c in step.conds]
            found = None
            if not (last and create_last):
                for lp in cur.children:  # the first fitting instance: stop there, not after every sibling
                    if type(lp) is not BLoop or lp.id != step.loop:
                        continue
                    if all(self._seg_value(lp, c.ref) == code if c.codes[0].startswith("$")
                           else self._seg_value(lp, c.ref) in c.codes or self._seg_value(lp, c.ref) == ""
                           for c, code in conds):
                        found = lp
                        break
            else:
                found = self._passed_loop(cur, step)
            if found is None:
                found = self.new_loop(cur, self.child_node(cur, step.loop))
                if not (last and create_last):
                    self.passed.setdefault((id(cur), step.loop), []).append(found)
            for c, code in conds:
                seg = next(iter(found.segs(c.ref.segment)), None) or self.new_seg(found, c.ref.segment)
                if seg.get(c.ref.element, c.ref.component) == "":
                    seg.put(c.ref.element, c.ref.component, code)
            cur = found
        return cur

    def field_code(self, c: Cond, item: Any, where: str) -> str:
        """The code a step condition writes: `$field` takes the item's field (else the next code listed)."""
        first = c.codes[0]
        if not first.startswith("$"):
            return first
        name = first[1:]
        value = get_path(item, name) if isinstance(item, dict) else _MISSING
        if value is _MISSING or value is None:
            if len(c.codes) > 1:
                return c.codes[1]
            raise self.fail("is required: it places this item in its enclosing loop", _join(where, name))
        self.used.add(_join(where, name))
        text = _text_value(value)
        if text is None:
            raise self.fail("must be a number or text", _join(where, name))
        self.check_text(text, _join(where, name))
        return text

    def _passed_loop(self, parent: BLoop, step: Step) -> BLoop | None:
        """A loop an earlier path only passed through, claimed now by the object or list item that names it.

        The reader lets `object x at A/B` and a later `list y at A` share loop A
        (passing through does not claim); building the same way keeps what the
        first statement hung below A under y's first item instead of a second A.
        """
        waiting = self.passed.get((id(parent), step.loop))
        if not waiting:
            return None
        for k, lp in enumerate(waiting):
            if all(self._seg_value(lp, c.ref) in c.codes or self._seg_value(lp, c.ref) == "" for c in step.conds):
                del waiting[k]
                return lp
        return None

    @staticmethod
    def _seg_value(loop: BLoop, ref: Ref) -> str:
        segs = loop.segs(ref.segment)
        return segs[0].get(ref.element, ref.component) if segs else ""

    def allowed(self, loop: BLoop, sid: str) -> int:
        return sum(c.max_use for c in loop.node.children if isinstance(c, SegmentNode) and c.id == sid) or 1

    def _pos(self, ref: Ref, scope: _Scope) -> tuple[int, int | None]:
        if ref.segment is None:
            return scope.elem + ref.offset, ref.component
        return ref.element, ref.component

    def compatible(self, seg: BSeg, src: Source, quals: list[tuple[Ref, str]], scope: _Scope, value: str | None = None) -> bool:
        """Whether ``seg`` can take the value at ``src`` (already holding the same value counts: two
        fields naming one element, such as a code and its enum, write it once)."""
        e, c = self._pos(src.ref, scope)
        current = seg.get(e, c)
        if current != "" and current != value:
            return False
        for cond in src.conds:
            ce, cc = self._pos(cond.ref, scope)
            v = seg.get(ce, cc)
            if v and v not in cond.codes:
                return False
        for ref, val in quals:
            qe, qc = self._pos(ref, scope)
            v = seg.get(qe, qc)
            if v and v != val:
                return False
        return True

    def place(self, sources: tuple[Source, ...], value: str, quals: list[tuple[Ref, str]], loop: BLoop, scope: _Scope, fill_only: bool = False) -> bool:
        """Write ``value`` at the first source whose segment can take it; create a segment only if allowed."""
        chosen: tuple[BSeg, Source] | None = None
        for src in sources:
            sid = src.ref.segment
            if sid is None or (scope.seg is not None and scope.seg.id == sid):
                if self.compatible(scope.seg, src, quals, scope, value):
                    chosen = (scope.seg, src)
                    break
                continue
            if sid in ("GS", "ISA"):
                self.envelope[f"{sid}{src.ref.element:02d}"] = value
                return True
            for seg in loop.segs(sid):
                if self.compatible(seg, src, quals, scope, value):
                    chosen = (seg, src)
                    break
            if chosen:
                break
        if chosen is not None and fill_only:
            e, c = self._pos(chosen[1].ref, scope)
            if c is not None and not chosen[0].used(e):
                return False  # a default component only joins a composite the data uses (SV202-01 without SV202-02)
        if chosen is None:
            if fill_only:
                return False
            for src in sources:
                sid = src.ref.segment
                if sid is None or (scope.seg is not None and scope.seg.id == sid):
                    continue
                if len(loop.segs(sid)) < self.allowed(loop, sid):
                    chosen = (self.new_seg(loop, sid), src)
                    break
            if chosen is None:
                return False
        seg, src = chosen
        e, c = self._pos(src.ref, scope)
        seg.put(e, c, value)
        for cond in src.conds:
            ce, cc = self._pos(cond.ref, scope)
            if seg.get(ce, cc) == "":
                seg.put(ce, cc, cond.codes[0])
        for ref, val in quals:
            qe, qc = self._pos(ref, scope)
            seg.put(qe, qc, val)
        return True

    # ---------------------------------------------------------------- statements
    def stmts(self, body: list, loop: BLoop, data: dict, scope: _Scope, later: list | None = None) -> None:
        """Statements, then their defaults: a `when` branch's defaults wait for the enclosing block's."""
        outer = later is not None
        later = later if outer else []
        for stmt in body:
            t = type(stmt)
            if t is Binding:
                if not self.binding(stmt, loop, data, scope, defaults=False) and stmt.default is not None:
                    later.append(stmt)
            elif t is Block:
                self.block(stmt, loop, data, scope)
            elif t is When:
                present = get_path(data, stmt.field) is not _MISSING
                self.stmts(stmt.then if present else stmt.otherwise, loop, data, scope, later)
            elif t is SetConst:
                if stmt.value == "@sequence":
                    self.place((Source(stmt.ref, ()),), str(scope.index + 1), [], loop, scope)
                elif not stmt.only_if_empty:
                    self.place((Source(stmt.ref, ()),), stmt.value, [], loop, scope)
                else:
                    later.append(stmt)
            elif t is Derive or t is DeriveCall:
                self.used.add(_join(scope.path, stmt.name))
        if outer:
            return
        for stmt in later:
            if type(stmt) is Binding:
                self.binding(stmt, loop, data, scope, defaults=True)
            else:
                for seg in loop.segs(stmt.ref.segment):
                    if seg.get(stmt.ref.element, stmt.ref.component) == "":
                        seg.put(stmt.ref.element, stmt.ref.component, stmt.value)

    def default_value(self, d, index: int) -> Any:
        v = d.for_index(index)
        if v.startswith("$"):
            got = get_path(self.doc, v[1:])
            return None if got is _MISSING else got
        if v.startswith("@"):
            return self.special(v[1:])
        return v

    def special(self, name: str) -> Any:
        now = self.settings.get("now") or _dt.datetime.now()
        if name == "date":
            return now.date().isoformat()
        if name == "time":
            return now.strftime("%H:%M")
        if name == "reference":
            return self.settings.get("reference") or self.settings.get("control_number") or "0001"
        raise self.fail(f"unknown builder value @{name}")

    def binding(self, b: Binding, loop: BLoop, data: dict, scope: _Scope, defaults: bool) -> bool:
        source = self.meta if scope.meta else data
        fn = b.fn
        paths = [_join(scope.path, t) for t in b.targets]
        values = [get_path(source, t) for t in b.targets]
        present = any(v is not _MISSING and v is not None for v in values)
        if not present:
            if not defaults:
                return False
            if not self.settings.get("fill", True) and not (b.default.elide and b.default.constant):
                return True  # a model read from X12 holds every value these defaults would add, if the X12 had it
            dv = self.default_value(b.default, scope.index)
            if dv is None:
                return True
            values = [[dv] if b.is_list else dv] + [None] * (len(b.targets) - 1)
            fill_only = b.default.elide and not b.default.first.startswith("$")  # `fill` values are always sent
        else:
            fill_only = False
            self.used.update(paths)
        values = [None if v is _MISSING else v for v in values]
        if b.via is not None:
            self.pointers(b, values[0], loop, scope, paths[0])
            return True
        if b.is_list:
            items = values[0]
            if not isinstance(items, list):
                raise self.fail("must be a list", paths[0])
            if b.repeats:
                return self.repeated(b, items, loop, scope, paths[0], fill_only)
            if len(items) > len(b.sources):
                raise self.fail(f"has {len(items)} items; X12 has room for {len(b.sources)}", paths[0])
            for item, src in zip(items, b.sources):
                text, _ = self.convert(fn, (item,), scope, paths[0])
                self.check_text(text, paths[0])
                self.place((src,), text, [], loop, scope)
            return True
        text, qual_values = self.convert(fn, tuple(values), scope, paths[0])
        if text is None:  # a read-only transform (`as description`): derived from another field on read
            return True
        self.check_text(text, paths[0])
        quals = list(zip(fn.qualifiers, qual_values))
        if not self.place(b.sources, text, quals, loop, scope, fill_only=fill_only) and present:
            raise self.fail("no room left in the X12 for this value (every place the map allows is taken)", paths[0])
        return True

    def repeated(self, b: Binding, items: list, loop: BLoop, scope: _Scope, path: str, fill_only: bool) -> bool:
        """`name[] = EB03 repeats`: the items become repetitions of one element."""
        texts = []
        for item in items:
            text, _ = self.convert(b.fn, (item,), scope, path)
            self.check_text(text, path)
            texts.append(text)
        if not texts:
            return True
        rep = (self.settings.get("delimiters") or Delimiters()).repetition
        if len(texts) > 1 and not rep:
            raise self.fail("has several items but the output has no repetition separator", path)
        if not self.place(b.sources, (rep or "").join(texts), [], loop, scope, fill_only=fill_only) and not fill_only:
            raise self.fail("no room left in the X12 for this value (every place the map allows is taken)", path)
        return True

    def pointers(self, b: Binding, items: Any, loop: BLoop, scope: _Scope, path: str) -> None:
        """Write each value's 1-based position in the pool list, adding the value to the pool when it is new."""
        pool = self.pools.get(b.via[0])
        if pool is None:
            raise self.fail(f"needs the {b.via[0]} list it points into, which this object does not have", path)
        if not isinstance(items, list):
            raise self.fail("must be a list", path)
        if len(items) > len(b.sources):
            raise self.fail(f"has {len(items)} items; X12 has room for {len(b.sources)}", path)
        field = b.via[1]
        for item, src in zip(items, b.sources):
            if isinstance(item, str) and item.startswith("#"):  # a pointer the reader could not resolve: as it was
                self.check_text(item[1:], path)
                self.place((src,), item[1:], [], loop, scope)
                continue
            key = self.pool_key(pool, field, item, path)
            if key not in pool["keys"]:
                self.pool_item(pool, {field: item})
            self.place((src,), str(pool["keys"].index(key) + 1), [], loop, scope)

    def pool_key(self, pool: dict, field: str, value: Any, path: str) -> str:
        b = next((b for b in pool["block"].body if type(b) is Binding and field in b.targets), None)
        if b is None:
            raise self.fail(f"the pool {pool['block'].name} has no field {field}", path)
        text, _ = self.convert(b.fn, (value,), _Scope(), path)
        return text

    def pool_item(self, pool: dict, item: dict) -> None:
        blk = pool["block"]
        i = len(pool["keys"])
        field = next(iter(item))
        pool["keys"].append(self.pool_key(pool, field, item[field], pool["path"]))
        self.element_item(blk, pool["loop"], item, i, f"{pool['path']}[{i}]", pool["state"])

    def element_item(self, blk: Block, loop: BLoop, item: dict, i: int, p: str, state: dict) -> None:
        """One item of an element list (`each HI01..HI12`, `each CAS02..CAS19 step 3`): the next free slot
        of the list's last segment when its own elements (CAS01) agree with the item's; else a segment of
        the loop the list's conditions admit and no item uses yet (MIA01..04 written, MIA05 free); else a new one."""
        src = blk.each
        sid = src.ref.segment
        keys = self.segment_keys(blk, item, sid, p)
        segs, fill = state["segs"], state["fill"]
        n = len(segs) - 1  # only the last segment: items keep their order through a round trip
        if n < 0 or fill[n] >= len(blk.slots) or any(segs[n].get(e, c) not in ("", v) for e, c, v in keys):
            n = None
        if n is None:
            if state.get("owned"):
                raise self.fail(f"has more items than fit in its {sid} segment", p)
            fresh = [s for s in loop.segs(sid) if s not in segs and not s.used(blk.slots[0])
                     and all(s.get(c.ref.element, c.ref.component) in c.codes for c in src.conds)
                     and not any(s.get(e, c) not in ("", v) for e, c, v in keys)]
            if fresh:
                seg = fresh[0]
            else:
                if len(loop.segs(sid)) >= self.allowed(loop, sid):
                    raise self.fail(f"has more items than fit in the {sid} segments the guide allows", p)
                seg = self.new_seg(loop, sid)  # the items write the qualifiers the conditions test
            segs.append(seg)
            fill.append(0)
            n = len(segs) - 1
        k = fill[n]
        fill[n] = k + 1
        self.stmts(blk.body, loop, item, _Scope(segs[n], blk.slots[k], i, False, p))

    def convert(self, fn, values: tuple, scope: _Scope, path: str) -> tuple[str, list[str]]:
        try:
            return fn.write(values, scope.index)
        except ValueError as exc:
            raise self.fail(str(exc), path) from None

    def check_text(self, text: str, path: str) -> None:
        """X12 has no escapes: a value holding one of the output's delimiters cannot be written."""
        if text and any(ch in text for ch in self.reserved):
            raise self.fail("contains a delimiter of the output or a line break, which X12 cannot carry", path)

    def block(self, blk: Block, loop: BLoop, data: dict, scope: _Scope) -> None:
        kind = blk.kind
        if kind == "meta":
            self.stmts(blk.body, loop, data, _Scope(scope.seg, scope.elem, scope.index, True, "x12.transaction"))
        elif kind == "at":
            if not (_fields(blk.body) & set(data)) and not _forces(blk.body):
                return  # nothing in the JSON for these loops: do not create them empty
            inner = self.walk(loop, blk.path, create_last=blk.own)
            self.stmts(blk.body, inner, data, scope)
        elif kind == "object":
            sub = get_path(data, blk.name)
            if sub is _MISSING or sub is None:
                if not blk.required:
                    return
                sub = {}
            if not isinstance(sub, dict):
                raise self.fail("must be an object", _join(scope.path, blk.name))
            if blk.path and not blk.required and not (_fields(blk.body) & set(sub)):
                return  # another block fills this object (`object coverage` twice): no loop without its own fields
            inner = self.walk(loop, blk.path, create_last=True) if blk.path else loop
            self.stmts(blk.body, inner, sub, _Scope(scope.seg, scope.elem, scope.index, scope.meta, _join(scope.path, blk.name)))
        elif kind == "list_at":
            for i, item in enumerate(self.items(data, blk, scope)):
                p = f"{_join(scope.path, blk.name)}[{i}]"
                if not isinstance(item, dict):
                    raise self.fail("must be an object", p)
                inner = self.walk(loop, blk.path, create_last=True, item=item, where=p)
                self.stmts(blk.body, inner, item, _Scope(index=i, path=p))
        elif kind == "list_each":
            src = blk.each
            sid = src.ref.segment
            state: dict = {"segs": [], "fill": []}
            if blk.each_last is not None and scope.seg is not None and scope.seg.id == sid:
                state = {"segs": [scope.seg], "fill": [0], "owned": True}  # nested in an item that owns the segment (PER of a contact)
            if blk.pool:
                self.pools[blk.name] = {"block": blk, "loop": loop, "keys": [], "state": state,
                                        "path": _join(scope.path, blk.name)}
            for i, item in enumerate(self.items(data, blk, scope)):
                p = f"{_join(scope.path, blk.name)}[{i}]"
                if not isinstance(item, dict):
                    raise self.fail("must be an object", p)
                if blk.pool:
                    pool = self.pools[blk.name]
                    first = next((b.targets[0] for b in blk.body if type(b) is Binding), None)
                    pool["keys"].append(self.pool_key(pool, first, item[first], p) if first in item else f"\x00{i}")
                if blk.each_last is None:
                    if len(loop.segs(sid)) >= self.allowed(loop, sid):
                        raise self.fail(f"has more items than the guide allows {sid} segments here", p)
                    seg = self.new_seg(loop, sid)
                    for c in src.conds:
                        seg.put(c.ref.element, c.ref.component, c.codes[0])
                    self.stmts(blk.body, loop, item, _Scope(seg, None, i, False, p))
                else:
                    self.element_item(blk, loop, item, i, p, state)

    def segment_keys(self, blk: Block, item: dict, sid: str, path: str) -> list[tuple[int, int | None, str]]:
        """Values an element-list item puts into its segment's own elements (CAS01 for CAS02..CAS19):
        items can share a segment only when these agree."""
        out = []
        for b in blk.body:
            if type(b) is not Binding or b.is_list or len(b.sources) != 1 or b.sources[0].ref.segment != sid:
                continue
            value = get_path(item, b.targets[0]) if len(b.targets) == 1 else _MISSING
            if value is _MISSING or value is None:
                if b.default is None or not b.default.constant:
                    continue
                value = b.default.first
            text, _ = self.convert(b.fn, (value,), _Scope(), _join(path, b.targets[0]))
            if text is not None:
                out.append((b.sources[0].ref.element, b.sources[0].ref.component, text))
        return out

    def items(self, data: dict, blk: Block, scope: _Scope) -> list:
        items = get_path(data, blk.name)
        if items is _MISSING or items is None:
            return []
        if not isinstance(items, list):
            raise self.fail("must be a list", _join(scope.path, blk.name))
        return items

    # ---------------------------------------------------------------- unmapped
    def reinsert(self, unmapped: Any) -> None:
        if not unmapped:
            return
        if not isinstance(unmapped, list):
            raise self.fail("must be a list of segments", "unmapped")
        for n, entry in enumerate(unmapped):
            where = f"unmapped[{n}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("elements"), list):
                raise self.fail("must be {\"loop\": .., \"id\": .., \"elements\": [..]}", where)
            loop = self.root
            for part in filter(None, str(entry.get("loop", "")).split("/")):
                lid, _, k = part.partition("[")
                k = int(k.rstrip("]")) if k else 0
                existing = loop.loops(lid)
                while len(existing) <= k:
                    existing.append(self.new_loop(loop, self.any_node(loop, lid, where), trigger=False))
                loop = existing[k]
            patch = entry.get("patch")
            seg = None
            if patch is not None:
                if not isinstance(patch, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in patch):
                    raise self.fail("patch must be a list of element positions", where)
                seg = self._patched(loop, entry)
            if seg is None:
                patch = None  # the segment is not rebuilt (its fields were removed): keep it whole
                seg = self.new_seg(loop, entry["id"])
            for i, el in enumerate(entry["elements"], start=1):
                comps = el if isinstance(el, list) else [el]
                if patch is not None and (i not in patch or seg.used(i)):
                    continue  # a patch restores only its elements, and never over what the model wrote
                for j, comp in enumerate(comps, start=1):
                    text = str(comp)
                    self.check_text(text, where)
                    seg.put(i, j, text)
        self.used.add("unmapped")

    def _patched(self, loop: BLoop, entry: dict) -> BSeg | None:
        """The rebuilt segment an element patch belongs to: same id, and every element the
        model wrote agrees with the source segment (its n-th such segment, the source's
        occurrence, breaks ties)."""
        patch = set(entry["patch"])
        source = [el if isinstance(el, list) else [el] for el in entry["elements"]]
        fits = []
        for seg in loop.segs(entry["id"]):
            ok = True
            for i, comps in enumerate(seg.els, start=1):
                if i in patch or not any(comps):
                    continue
                want = [str(c) for c in source[i - 1]] if i <= len(source) else [""]
                have = list(comps)
                while have and have[-1] == "":
                    have.pop()
                while want and want[-1] == "":
                    want.pop()
                if have != want:
                    ok = False
                    break
            if ok:
                fits.append(seg)
        if not fits:
            return None
        k = entry.get("occurrence", 0)
        return fits[k] if isinstance(k, int) and 0 <= k < len(fits) and len(fits) > 1 else fits[0]

    # ---------------------------------------------------------------- finishing
    def finish(self, root: BLoop) -> None:
        self._order(root)
        self._implied(root)
        self._hl(root)

    def _node_for(self, loop: BLoop, seg: BSeg) -> SegmentNode | None:
        best = None
        for c in loop.node.children:
            if isinstance(c, SegmentNode) and c.id == seg.id:
                if best is None:
                    best = c
                if c.keys and all(seg.get(e, comp) in codes for e, comp, codes in c.keys):
                    return c
        return best

    def _order(self, loop: BLoop) -> None:
        index = {id(c): n for n, c in enumerate(loop.node.children)}
        for child in loop.children:
            if type(child) is BSeg:
                child.node = self._node_for(loop, child)
            else:
                self._order(child)

        def key(child):
            node = child.node
            return (index.get(id(node), len(index)), child.order)

        loop.children.sort(key=key)

    def _implied(self, loop: BLoop) -> None:
        for child in loop.children:
            if type(child) is BLoop:
                self._implied(child)
                continue
            if child.node is None:
                continue
            for element, component, code, usage in fixed_codes(child.node):
                if usage != "R" or child.get(element, component) != "":
                    continue
                if component is not None and not child.used(element):
                    continue  # a component is only filled inside a composite that is used
                child.put(element, component, code)

    def _hl(self, root: BLoop) -> None:
        counter = [0]

        def has_hl(lp: BLoop) -> bool:
            return bool(lp.children) and type(lp.children[0]) is BSeg and lp.children[0].id == "HL"

        def descendants_have_hl(lp: BLoop) -> bool:
            return any(type(c) is BLoop and (has_hl(c) or descendants_have_hl(c)) for c in lp.children)

        def visit(lp: BLoop, parent_id: str) -> None:
            my_id = parent_id
            if has_hl(lp):
                counter[0] += 1
                my_id = str(counter[0])
                hl = lp.children[0]
                hl.put(1, None, my_id)
                hl.put(2, None, parent_id)
                spec = hl.node.specs.get("HL04") if hl.node is not None else None
                if spec is not None and spec.usage != "N":
                    hl.put(4, None, "1" if descendants_have_hl(lp) else "0")
            for c in lp.children:
                if type(c) is BLoop:
                    visit(c, my_id)

        visit(root, "")

    # ---------------------------------------------------------------- output
    def segments(self) -> list[list]:
        """The body segments in order (ST and SE excluded), elements as lists of components."""
        out: list[list] = []

        def visit(lp: BLoop) -> None:
            for c in lp.children:
                if type(c) is BSeg:
                    if c.id in ("ST", "SE"):
                        continue
                    out.append([c.id, *c.elements()])
                else:
                    visit(c)

        visit(self.root)
        return out


def _fields(body: list) -> set[str]:
    """The JSON keys a block's statements can write from (first part of each dotted name)."""
    out: set[str] = set()
    for stmt in body:
        t = type(stmt)
        if t is Binding:
            out.update(n.split(".", 1)[0] for n in stmt.targets)
        elif t is Block:
            out |= _fields(stmt.body) if stmt.kind in ("at", "meta") else {stmt.name.split(".", 1)[0]}
        elif t is When:
            out |= _fields(stmt.then) | _fields(stmt.otherwise)
    return out


def _forces(body: list) -> bool:
    """Whether statements write X12 whatever the JSON holds (`set`, `required` objects, constant defaults)."""
    for stmt in body:
        t = type(stmt)
        if (t is SetConst and not stmt.only_if_empty) or (t is Block and stmt.required):
            return True
        if t is Binding and stmt.default is not None and stmt.default.constant:
            return True
        if t is Block and stmt.kind in ("at", "meta") and _forces(stmt.body):
            return True
        if t is When and (_forces(stmt.then) or _forces(stmt.otherwise)):
            return True
    return False


def _text_value(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    if isinstance(value, str):
        return value
    try:
        return _number_write(value)  # the one number formatter ($field codes read back as the numbers they were)
    except ValueError:
        return None


def unused_paths(data: Any, used: set[str], platform: tuple[str, ...], prefix: str = "") -> list[str]:
    """JSON leaf paths that no statement wrote into the X12."""
    out: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            p = _join(prefix, k)
            if not prefix and k in platform:
                continue
            if p in used or v is None:
                continue
            if isinstance(v, (dict, list)):
                out.extend(unused_paths(v, used, platform, p))
            else:
                out.append(p)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(unused_paths(v, used, platform, f"{prefix}[{i}]"))
    return out
