"""A map's statement lists compiled for the reader, once per list.

The map language is read by an interpreter (``mapread``); what makes it fast
is decided here, before any segment is seen:

- path-less object blocks are dissolved into the statements around them
  (their fields get dotted names), so a loop instance runs one list, not one
  per nested object;
- plain bindings (one value, one target) become ``Read`` tuples: segment id,
  element, component, qualifier conditions and the bit mask of the elements a
  hit consumes; consecutive ones on the same segment and conditions, a
  ``ReadRun``;
- each list becomes a generated Python function (``mapgen``) that reads those
  in straight-line code and hands the other statements to the interpreter.
"""
from __future__ import annotations

from dataclasses import replace

from .maplang import Binding, Block, Derive, SetConst, When

ENVELOPE = ("GS", "ISA")


class Read:
    """A plain binding: per source (segment id, or None for a ref relative to the
    current element of an element list; element; component; conditions as
    (element, component, codes); bit mask of the elements a hit consumes, None
    when relative; the Source, for warnings)."""

    __slots__ = ("binding", "sources", "read", "target", "parts", "elide", "is_list", "positional")

    def __init__(self, b: Binding, sources: tuple):
        self.binding = b
        self.sources = sources
        self.is_list = b.is_list  # `name[] = A | B`: every source's value, in order
        # one segment, no conditions, no transform: the sources are positions (`["", "GT"]`)
        self.positional = b.transform is None and len({s[0] for s in sources}) == 1 and not any(s[3] for s in sources)
        self.read = b.fn.read
        self.target = b.targets[0]
        self.parts = None if "." not in self.target else tuple(self.target.split("."))
        d = b.default
        self.elide = d if d is not None and d.elide and d.constant else None

    @classmethod
    def of(cls, b: Binding) -> Read | None:
        """The compiled form, or None for a binding the general path must run
        (repetitions, pointers, several targets, qualifier arguments)."""
        if b.repeats or b.via is not None or len(b.targets) != 1 or b.fn.qualifiers:
            return None
        sources = []
        for src in b.sources:
            ref = src.ref
            rel = ref.segment is None
            if ref.segment in ENVELOPE or (not rel and ref.element is None):
                return None
            conds = []
            for c in src.conds:
                cr = c.ref
                if (cr.segment is None) != rel or (not rel and (cr.segment != ref.segment or cr.element is None)):
                    return None
                conds.append((cr.offset if rel else cr.element, cr.component, frozenset(c.codes)))
            if rel:
                sources.append((None, ref.offset, ref.component, tuple(conds), None, src))
            else:
                mask = 1 << ref.element
                for ce, _, _ in conds:
                    mask |= 1 << ce
                sources.append((ref.segment, ref.element, ref.component, tuple(conds), mask, src))
        return cls(b, tuple(sources))


class ReadRun:
    """Consecutive ``Read`` statements with one source each, all from the same segment
    under the same conditions (SV101 … SV115, the name parts of one NM1): the
    candidate segments are found and tested once for all of them. Each member
    still takes the first matching segment holding its element, as alone.

    ``members``: (element, component, bit mask, Read) in map order."""

    __slots__ = ("sid", "conds", "cond_mask", "members", "binding")

    def __init__(self, reads: list[Read]):
        sid, _, _, conds, _, _ = reads[0].sources[0]
        self.sid, self.conds = sid, conds
        self.cond_mask = 0
        for ce, _, _ in conds:
            self.cond_mask |= 1 << ce
        self.members = tuple((r.sources[0][1], r.sources[0][2], 1 << r.sources[0][1], r) for r in reads)
        self.binding = reads[0].binding

    @staticmethod
    def key(stmt) -> tuple | None:
        if type(stmt) is Read and len(stmt.sources) == 1 and not stmt.is_list:
            sid, _, _, conds, _, _ = stmt.sources[0]
            return sid, conds
        return None


def _grouped(body: list) -> list:
    out: list = []
    run: list[Read] = []
    run_key = None
    for stmt in body + [None]:
        key = ReadRun.key(stmt) if stmt is not None else None
        if key is not None and key == run_key:
            run.append(stmt)
            continue
        if run:
            out.append(ReadRun(run) if len(run) > 1 else run[0])
        run, run_key = ([stmt], key) if key is not None else ([], None)
        if key is None and stmt is not None:
            out.append(stmt)
    return out


COMPILE = True  # False: every list runs as written, through the interpreter alone (the tests' reference)


class Program:
    """One statement list, compiled: ``body`` (flattened, plain bindings as ``Read``),
    the generated functions running it for a loop instance and for an item of an
    ``each`` list (``function``; None: the interpreter runs it), and the names of
    the pool lists it declares (``pools``)."""

    __slots__ = ("source", "body", "pools", "vias", "pure", "label", "_made")

    def __init__(self, source: list):
        self.source = source  # kept alive with the program, so its id stays its own
        self.pools = tuple(s.name for s in source if type(s) is Block and s.pool)
        self.vias = tuple(_via_bindings(source)) if self.pools else ()
        self.pure = _pure(source)
        self._made: dict[bool, tuple] = {}
        self.label = ""
        if not COMPILE:
            self._made = {False: (None, None), True: (None, None)}
            self.body = list(source)
            return
        flat: list = []
        for stmt in source:
            if type(stmt) is Block and stmt.kind == "object" and not stmt.path:
                inner = _prefixed(stmt.body, stmt.name + ".")
                if inner is not None:
                    flat.extend(inner)
                    continue
            flat.append(stmt)
        self.body = _grouped([(Read.of(s) or s) if type(s) is Binding else s for s in flat])
        line = next((getattr(s, "line", None) for s in source if getattr(s, "line", None)), 0)
        self.label = f"from line {line}"

    def function(self, norep: bool, item: bool):
        """The generated function for a loop instance or, with ``item``, for an item of an
        ``each`` list (None: the interpreter runs the list); ``norep`` for sets whose elements
        hold no repetition separator. Each kind is made on first use, so a process reading
        only files of one kind never generates the other."""
        made = self._made.get(norep)
        if made is None:
            from .mapgen import generate  # generated code calls back into the reader, which imports this module

            made = self._made[norep] = generate(self.body, self.label, norep=norep)
        return made[item]


_PROGRAMS: dict[int, Program] = {}


def program(body: list) -> Program:
    prog = _PROGRAMS.get(id(body))
    if prog is None or prog.source is not body:
        prog = _PROGRAMS[id(body)] = Program(body)
    return prog


def needs_of(b: Binding) -> tuple | bool:
    """What ``b`` can read from: (segment ids, per source (segment id, qualifier
    element or None, its codes)); False when it can read anything (the current
    element of an `each` list, the envelope). Cached on the binding."""
    if b.needs is not None:
        return b.needs
    ids = set()
    per_source = []
    for src in b.sources:
        seg = src.ref.segment
        if seg is None or seg in ENVELOPE:
            b.needs = False
            return False
        ids.add(seg)
        qual = next((c for c in src.conds if c.ref.segment == seg and c.ref.component is None and c.ref.offset == 0
                     and c.ref.element is not None and not any(str(x).startswith("$") for x in c.codes)), None)
        per_source.append((seg, None, None) if qual is None else (seg, qual.ref.element, frozenset(qual.codes)))
    b.needs = (frozenset(ids), tuple(per_source))
    return b.needs


def trigger(stmt) -> str | None:
    """What a block or a constant needs in the loop instance to do anything: the child
    loop its path starts with, or the segment it reads (None: it always runs)."""
    t = type(stmt)
    if t is Block:
        if stmt.kind in ("object", "list_at", "at") and stmt.path:
            return stmt.path[0].loop
        if stmt.kind == "list_each" and stmt.each.ref.segment not in (None, *ENVELOPE):
            return stmt.each.ref.segment
    elif t is SetConst and stmt.ref.segment not in (None, *ENVELOPE):
        return stmt.ref.segment
    return None


def _prefixed(body: list, prefix: str) -> list | None:
    """The statements of ``body`` writing under ``prefix``; None when one cannot be moved
    (it reads the object it is in, or names a pool or the envelope metadata)."""
    out: list = []
    for stmt in body:
        t = type(stmt)
        if t is Binding:
            out.append(replace(stmt, targets=tuple(prefix + name for name in stmt.targets), needs=None))
        elif t is SetConst:
            out.append(stmt)
        elif t is When:
            then, otherwise = _prefixed(stmt.then, prefix), _prefixed(stmt.otherwise, prefix)
            if then is None or otherwise is None:
                return None
            out.append(replace(stmt, then=then, otherwise=otherwise))
        elif t is Block:
            if stmt.kind == "meta" or stmt.pool:
                return None
            if stmt.kind == "at" or (stmt.kind == "object" and not stmt.path):
                inner = _prefixed(stmt.body, prefix if stmt.kind == "at" else prefix + stmt.name + ".")
                if inner is None:
                    return None
                out.extend(inner) if stmt.kind == "object" else out.append(replace(stmt, body=inner))
            else:
                out.append(replace(stmt, name=prefix + stmt.name))
        else:  # derivations read the object they sit in
            return None
    return out


def _via_bindings(body: list):
    """The `via` bindings anywhere in ``body``: what points into its pools."""
    for stmt in body:
        if type(stmt) is Binding and stmt.via is not None:
            yield stmt
        elif type(stmt) is Block:
            yield from _via_bindings(stmt.body)
        elif type(stmt) is When:
            yield from _via_bindings(stmt.then)
            yield from _via_bindings(stmt.otherwise)


def _pure(body: list) -> bool:
    """Whether what ``body`` reads into its object depends on its loop's subtree alone:
    no set-wide derivation, envelope metadata, pool or pointer into one."""
    for stmt in body:
        t = type(stmt)
        if t is Derive and stmt.quantifier != "local":
            return False
        if t is Binding and stmt.via is not None:
            return False
        if t is Block:
            if stmt.kind == "meta" or stmt.pool or not _pure(stmt.body):
                return False
        elif t is When and not (_pure(stmt.then) and _pure(stmt.otherwise)):
            return False
    return True


class ContextMemo:
    """What object blocks read from the context loops of streamed claims.

    Claims streamed one at a time share their context loops (payer, payee,
    submitter, billing provider names …) as the same objects; an object block
    reading one of them gives the same JSON, consumes the same elements and
    claims the same loops for every claim, so it is read once and replayed.
    Entries keep their loop alive (its id stays its own) and last while the
    parts keep using them.
    """

    __slots__ = ("entries", "used")

    def __init__(self) -> None:
        self.entries: dict[tuple, tuple] = {}
        self.used: set[tuple] = set()

    def next_part(self) -> None:
        """A new claim: forget what the previous one did not use."""
        self.entries = {k: v for k, v in self.entries.items() if k in self.used}
        self.used = set()
