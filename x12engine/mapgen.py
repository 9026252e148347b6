"""A compiled statement list as generated Python: one function per list.

The reader's interpreter pays a method call, a tuple unpacking and a few
attribute loads per binding, and a map reads most of its fields through plain
bindings. Here the plain ones (``Read`` and ``ReadRun``) become straight-line
code with their segment id, element positions, condition codes, consumed-bit
masks and targets written in as constants; everything else (blocks, ``when``,
derivations, pointer and repetition bindings) stays with the interpreter and is
called from the generated code, guarded by the segment or child loop it needs.

Two kinds of list are generated: loop-level lists (the statements of a loop
instance; sources name their segment) and segment-level lists (the body of a
``list … each SEG`` or ``each HI01..HI12`` item, whose relative sources read the
item's segment). The generated code keeps the interpreter's meaning exactly:
statements run in map order, each binding takes the first candidate segment
that meets its conditions and has a value, and the elements it read are marked
consumed. ``tests/test_mapplan.py`` holds the JSON of every fixture and corpus
file equal to the plain interpreter's.
"""
from __future__ import annotations

import marshal
import re
from importlib.util import MAGIC_NUMBER
from typing import Any, Callable

from .diskcache import cached
from .grammar import value_at
from .maplang import Binding, Block, SetConst, When
from .mapplan import ENVELOPE, Read, ReadRun, needs_of, trigger
from .transforms import INLINE_READS, CodeTransform, DescriptionTransform, MoneyTransform, ReadIssue, Transform, _Simple, is_amount

Runner = Callable[[Any, Any, dict, Any], None]


class _Source:
    """Generated text and the constants it names."""

    def __init__(self, norep: bool = False) -> None:
        # norep: the set holds no repetition separator inside any element (the tokenizer
        # saw none), so the code splitting off a first repetition is left out
        self.norep = norep
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {"ReadIssue": ReadIssue, "value_at": value_at}
        self.n = 0
        self.buckets: set[tuple[str, int]] = set()  # (segment id, element) buckets the body uses
        self.built: set[str] = set()  # buckets built at the body's top level: later uses skip the test
        # where values go, the item's place in its list and its scope: an item body written
        # inline in its list's loop (``_each``) names them otherwise than its own function
        self.tg, self.index, self.scope = "tg", "index", "scope"

    def const(self, value: Any) -> str:
        name = f"K{self.n}"
        self.n += 1
        self.ns[name] = value
        return name

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def first_rep(self, depth: int, var: str) -> None:
        """``var`` cut to its first repetition (nothing to cut in a set without repetitions)."""
        if not self.norep:
            self.emit(depth, f"if rep in {var}:")
            self.emit(depth + 1, f"{var} = {var}.split(rep, 1)[0]")

    def variant(self, prog, seg_level: bool):
        """The generated function of a nested statement list this one calls."""
        return prog.function(self.norep, seg_level)

    def bucket(self, depth: int, sid: str, e: int) -> str:
        """The loop's ``sid`` segments by the first repetition of element ``e`` (its
        qualifier), built where first needed and shared by every later statement: a
        binding on NM1*82 then visits the NM1s qualified 82, not every NM1."""
        name = f"q{sid}_{e}"
        self.buckets.add((sid, e))
        if name in self.built:
            return name
        self.emit(depth, f"if {name} is None:")
        self.sort_by(depth + 1, name, f"idx.get({sid!r}, ())", e)
        if depth == 1:  # the function's own level: whatever follows runs after this
            self.built.add(name)
        return name

    def sort_by(self, depth: int, name: str, cands: str, e: int) -> None:
        """``name``: the segments of ``cands`` in lists by element ``e`` (first repetition)."""
        self.emit(depth, f"{name} = {{}}")
        self.emit(depth, f"for x in {cands}:")
        self.emit(depth + 1, f"v = x[0][{e}] if len(x[0]) > {e} else ''")
        self.first_rep(depth + 1, "v")
        self.emit(depth + 1, f"same = {name}.get(v)")
        self.emit(depth + 1, "if same is None:")
        self.emit(depth + 2, f"{name}[v] = [x]")
        self.emit(depth + 1, "else:")
        self.emit(depth + 2, "same.append(x)")


def generate(body: list, label: str, norep: bool = False) -> tuple[Runner | None, Runner | None]:
    """The list's loop-level and segment-level functions (None where a statement
    cannot run at that level: a relative source needs an item's segment);
    ``norep``: for sets without repetitions."""
    relative = any(s[0] is None for stmt in body if type(stmt) is Read for s in stmt.sources) or \
        any(stmt.sid is None for stmt in body if type(stmt) is ReadRun)
    loop_level = None if relative else _build(body, label, seg_level=False, norep=norep)
    return loop_level, _build(body, label, seg_level=True, norep=norep)


_NO_SID = object()


def _plain_sid(stmt) -> Any:
    """The one segment id (None: the item's own segment) a plain binding reads; _NO_SID otherwise."""
    if type(stmt) is ReadRun:
        return stmt.sid
    if type(stmt) is Read:
        sids = {s[0] for s in stmt.sources}
        if len(sids) == 1:
            return next(iter(sids))
    return _NO_SID


def _build(body: list, label: str, seg_level: bool, norep: bool = False) -> Runner:
    from .mapread import _Scope, _merge, set_path  # the reader imports the compiler, not the other way

    g = _Source(norep)
    g.ns.update(Scope=_Scope, merge=_merge, set_path=set_path)
    for sid, stmts in _runs(body):
        if sid is not _NO_SID and sid not in ENVELOPE:
            _group(g, sid, stmts, seg_level)
            continue
        for stmt in stmts:
            t = type(stmt)
            if t is Read and not stmt.is_list:
                _read_loop(g, 1, stmt, seg_level)
            elif t is Read:
                _guarded(g, {s[0] for s in stmt.sources}, "R.read_list", stmt, seg_level)
            elif t is Binding and _general(g, stmt, seg_level):
                pass
            elif t is Binding:
                needs = needs_of(stmt)
                _guarded(g, needs[0] if needs else None, "R.binding", stmt, seg_level)
            elif t is Block and _block(g, stmt, seg_level):
                pass
            elif t is SetConst and _set_const(g, stmt, seg_level):
                pass
            elif t is When and _when(g, stmt, seg_level):
                pass
            elif t is Block or t is SetConst:
                key = trigger(stmt)
                _guarded(g, None if key is None else {key}, "R.block" if t is Block else "R.stmt", stmt, seg_level)
            else:  # when, derivations: they find what they need themselves
                g.emit(1, f"R.stmt({g.const(stmt)}, loop, out, scope)")
    g.emit(1, "return None")
    body_text = "\n".join(g.lines)
    used = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", body_text))
    # the prologue loads only what the body uses: a loop instance runs it once
    prologue = ["def run(R, loop, out, scope):"]
    if "idx" in used:
        prologue.append("    idx = loop.index")  # kept by the parser; built by the reader for other trees
        prologue.append("    if idx is None:")
        prologue.append("        idx = R.index(loop)")
    for name, line in _PROLOGUE:
        if name in used and (seg_level or name not in ("cur", "csid", "base")):
            prologue.append("    " + line)
    for sid, e in sorted(g.buckets):
        prologue.append(f"    q{sid}_{e} = None")
    text = "\n".join(prologue) + "\n" + body_text + "\n"
    exec(_code(text, f"<map list {label}{' (item)' if seg_level else ''}{' (no rep)' if norep else ''}>"), g.ns)
    return g.ns["run"]


def _code(text: str, name: str):
    """The generated text compiled; the code object comes from the disk cache when the same
    text was compiled before (compiling a large map's lists costs ~0.3-0.7 s per process,
    which a one-file command would pay every time). The key is the text itself and the
    interpreter's bytecode version, so a cached entry can only be this compilation."""
    data = cached("x12c", f"{name}\0{text}", MAGIC_NUMBER, lambda: marshal.dumps(compile(text, name, "exec")))
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError):  # a damaged entry: compile afresh
        return compile(text, name, "exec")


_PROLOGUE = (  # (name, how the generated function gets it), in dependency order
    ("consumed", "consumed = R.consumed"),
    ("rep", "rep = R.rep_split"),
    ("sep", "sep = R.comp"),
    ("tg", "tg = R.meta if scope.meta else out"),
    ("index", "index = scope.index"),
    ("cur", "cur = scope.seg"),
    ("csid", "csid = scope.seg[0][0]"),
    ("base", "base = scope.elem"),
)


# ---------------------------------------------------------------------------- plain bindings
def _group(g: _Source, sid: str | None, stmts: list, seg_level: bool) -> None:
    """Consecutive plain bindings on one segment id. When the loop holds exactly one
    such segment (the usual case) they all read it in straight-line code, its
    qualifiers and composite elements taken apart once; with more, each binding
    looks for its own first match (or the interpreter takes it)."""
    if sid is None:
        g.emit(1, "t = cur")
        _single(g, 1, stmts, rel=True)
        return
    if seg_level:
        g.emit(1, f"c = (cur,) if csid == {sid!r} else idx.get({sid!r})")
    else:
        g.emit(1, f"c = idx.get({sid!r})")
    g.emit(1, "if c is not None:")
    g.emit(2, "if len(c) == 1:")
    g.emit(3, "t = c[0]")
    _single(g, 3, stmts, rel=False)
    g.emit(2, "else:")
    parts = _by_qualifier(stmts)
    for e in sorted({key[0] for key, _ in parts if key is not None}):
        # the candidates by their qualifier, sorted once (an 835 claim's NM1s: QC, IL, 82 …)
        if seg_level:  # the candidates may be the item's own segment, not the loop's
            g.sort_by(3, f"by{e}", "c", e)
        else:  # shared with the function's other statements on this segment
            g.emit(3, f"by{e} = {g.bucket(3, sid, e)}")
    for key, part in parts:
        if key is None:
            for stmt in part:
                _several(g, 3, stmt, "c", seg_level)
            continue
        e, codes = key
        if len(codes) == 1:
            g.emit(3, f"cc = by{e}.get({next(iter(codes))!r}, ())")
        else:  # document order across the codes
            k = g.const(codes)
            if g.norep:
                g.emit(3, f"cc = [x for x in c if (x[0][{e}] if len(x[0]) > {e} else '') in {k}]")
            else:
                g.emit(3, f"cc = [x for x in c if (v := (x[0][{e}] if len(x[0]) > {e} else '')) in {k}"
                          f" or (rep in v and v.split(rep, 1)[0] in {k})]")
        g.emit(3, "if len(cc) == 1:")
        g.emit(4, "t = cc[0]")
        _single(g, 4, part, rel=False)
        g.emit(3, "elif cc:")
        for stmt in part:
            _several(g, 4, stmt, "cc", seg_level)


def _key(stmt) -> tuple | None:
    """A qualifier condition (element, codes) every source of the binding has, or None."""
    srcs = _sources(stmt)
    for ce, cc, codes in srcs[0][2]:
        if cc is None and all((ce, cc, codes) in other[2] for other in srcs[1:]):
            return ce, codes
    return None


def _by_qualifier(stmts: list) -> list[tuple[tuple | None, list]]:
    """The group's bindings cut into runs requiring one qualifier (None: no common one)."""
    out: list[tuple[tuple | None, list]] = []
    for stmt in stmts:
        key = _key(stmt)
        if out and key is not None and out[-1][0] == key:
            out[-1][1].append(stmt)
        else:
            out.append((key, [stmt]))
    return out


def _pos(e: int, rel: bool) -> str:
    return ("base" if e == 0 else f"base + {e}") if rel else str(e)


def _sources(stmt) -> list[tuple]:
    """(element, component, conditions, mask of the element, Read, Source) per value read."""
    if type(stmt) is ReadRun:
        return [(e, comp, stmt.conds, mask, r, r.sources[0][5]) for e, comp, mask, r in stmt.members]
    return [(s[1], s[2], s[3], 1 << s[1], stmt, s[5]) for s in stmt.sources]


def _mask(conds: tuple) -> int:
    m = 0
    for ce, _, _ in conds:
        m |= 1 << ce
    return m


def _single(g: _Source, d: int, stmts: list, rel: bool, split: bool = True) -> None:
    """``t`` is the one candidate segment and every binding of the group reads it
    (``split``: its ``els`` and ``n`` are still to be taken). Masks of a relative group
    are collected unshifted and moved to the item's element once, at the end."""
    if split:
        g.emit(d, "els = t[0]")
        g.emit(d, "n = len(els)")
    g.emit(d, "got = 0")
    quals: set[int] = set()
    composites: set[int] = set()
    for stmt in stmts:
        for e, comp, conds, _, _, _ in _sources(stmt):
            if comp is not None:
                composites.add(e)
            quals.update(ce for ce, cc, _ in conds if cc is None)
    for e in sorted(quals | composites):  # each taken apart once: first repetition, components
        g.emit(d, f"v{e} = els[{_pos(e, rel)}] if n > {_pos(e, rel)} else ''")
        g.first_rep(d, f"v{e}")
        if e in composites:
            g.emit(d, f"p{e} = v{e}.split(sep)")
            g.emit(d, f"l{e} = len(p{e})")
    # runs of bindings sharing a qualifier (NM101=QC, REF01=1A ...) go under one test of it,
    # and a run whose codes exclude the previous run's on the same element is an `elif`:
    # the segment's one qualifier value picks one run instead of being tested by every binding
    prev: tuple | None = None
    for key, part in _by_qualifier(stmts):
        dd = d
        if key is not None:
            e, codes = key
            chain = prev is not None and prev[0] == e and prev[1].isdisjoint(codes)
            g.emit(d, f"{'elif' if chain else 'if'} v{e} in {g.const(codes)}:")
            prev = (e, codes if not chain else prev[1] | codes)
            dd = d + 1
        else:
            prev = None
        for stmt in part:
            _single_stmt(g, dd, stmt, rel, key)
    g.emit(d, "if got:")
    g.emit(d + 1, "key = t[1]")
    g.emit(d + 1, f"consumed[key] = consumed.get(key, 0) | {'(got << base)' if rel else 'got'}")


def _single_stmt(g: _Source, d: int, stmt, rel: bool, known: tuple | None) -> None:
    """One binding of a ``_single`` group; ``known``: a qualifier condition already tested."""
    srcs = _sources(stmt)
    if type(stmt) is Read and stmt.is_list:
        # a segment that ends before every source (SVC01 without modifiers, an absent
        # SVC06) skips the list in one test instead of taking each slot empty
        reach = {}
        for e, comp, *_ in srcs:
            reach[e] = min(reach.get(e, comp or 0), comp or 0)
        g.emit(d, "if " + " or ".join(f"l{e} >= {c}" if c else f"n > {_pos(e, rel)}" for e, c in sorted(reach.items())) + ":")
        d += 1
        g.emit(d, "vals = []")
        g.emit(d, "blanks = 0")
        for e, comp, conds, mask, r, src in srcs:
            if _untested(conds, known):  # the test may skip the take: no value then
                g.emit(d, "raw = ''")
            dd = _test(g, d, conds, rel, known)
            _take(g, dd, e, comp, rel)
            g.emit(d, "if raw:")
            g.emit(d + 1, f"got |= {mask | _mask(conds)}")
            _list_value(g, d + 1, stmt, src)
            g.emit(d, "else:")
            g.emit(d + 1, "blanks += 1")
        g.emit(d, "if vals:")
        _put(g, d + 1, stmt, "vals")
    elif type(stmt) is ReadRun or len(srcs) == 1:
        dd = _test(g, d, srcs[0][2], rel, known)
        for e, comp, conds, mask, r, src in srcs:
            _take_if(g, dd, e, comp, rel)
            g.emit(dd + 1, f"got |= {mask | _mask(conds)}")
            _value(g, dd + 1, r, src)
    else:  # alternatives: the first source with a value
        g.emit(d, "done = False")
        for k, (e, comp, conds, mask, r, src) in enumerate(srcs):
            dd = d
            if k:
                g.emit(d, "if not done:")
                dd += 1
            dd = _test(g, dd, conds, rel, known)
            _take_if(g, dd, e, comp, rel)
            g.emit(dd + 1, f"got |= {mask | _mask(conds)}")
            g.emit(dd + 1, "done = True")
            _value(g, dd + 1, stmt, src)


def _untested(conds: tuple, known: tuple | None) -> list[tuple]:
    """The conditions ``_test`` still has to test."""
    return [c for c in conds if not (known is not None and c[1] is None and (c[0], c[2]) == known)]


def _test(g: _Source, d: int, conds: tuple, rel: bool, known: tuple | None = None) -> int:
    """``if`` the one candidate meets the conditions (its qualifiers were taken apart
    once; ``known``, (element, codes), was tested already); returns the depth the
    guarded code goes at."""
    parts = []
    for ce, cc, codes in _untested(conds, known):
        k = g.const(codes)
        if cc is None:
            parts.append(f"v{ce} in {k}")
        else:
            parts.append(f"value_at(els, {_pos(ce, rel)}, {cc}, sep, R.rep) in {k}")
    if not parts:
        return d
    g.emit(d, f"if {' and '.join(parts)}:")
    return d + 1


def _take(g: _Source, d: int, e: int, comp: int | None, rel: bool) -> None:
    """``raw``: element ``e`` (component ``comp``) of the one candidate, first repetition."""
    if comp is not None:
        g.emit(d, f"raw = p{e}[{comp - 1}] if l{e} >= {comp} else ''")
    else:
        g.emit(d, f"raw = els[{_pos(e, rel)}] if n > {_pos(e, rel)} else ''")
        g.first_rep(d, "raw")


def _take_if(g: _Source, d: int, e: int, comp: int | None, rel: bool) -> None:
    """``if`` the one candidate holds a value at ``e`` (component ``comp``), with ``raw``
    bound to it: one test where the set holds no repetition to cut off first."""
    if comp is not None:
        g.emit(d, f"if l{e} >= {comp} and (raw := p{e}[{comp - 1}]):")
    elif g.norep:
        g.emit(d, f"if n > {_pos(e, rel)} and (raw := els[{_pos(e, rel)}]):")
    else:
        _take(g, d, e, comp, rel)
        g.emit(d, "if raw:")


def _value(g: _Source, d: int, r: Read, src) -> None:
    """``raw`` converted, compared with an elided default, and put at the target."""
    got_in = _convert(g, d, r, src)
    elide = r.elide
    if elide is not None:
        if elide.rest is None:
            g.emit(d, f"if {got_in} != {elide.first!r}:")
        else:
            g.emit(d, f"if {got_in} != ({elide.first!r} if {g.index} == 0 else {elide.rest!r}):")
        d += 1
    _put(g, d, r, got_in)


def _several(g: _Source, d: int, stmt, cands: str, seg_level: bool) -> None:
    """One binding when the loop holds several candidate segments: each value from
    the first candidate meeting its conditions with a value there. A run whose
    conditions more than one candidate meets, a run without conditions, and
    alternatives go to the interpreter."""
    k = g.const(stmt)
    if type(stmt) is Read and stmt.is_list:
        _list_loop(g, d, stmt, cands)
        return
    srcs = _sources(stmt)
    conds = srcs[0][2]
    fallback = "R.read_run" if type(stmt) is ReadRun else "R.fast"
    if type(stmt) is Read and (len(srcs) > 1 or not conds):
        _read_loop(g, d, stmt, seg_level, cands)
        return
    if not conds:
        g.emit(d, f"{fallback}({k}, loop, out, scope)")
        return
    test = " and ".join(_cond(g, ce, cc, codes) for ce, cc, codes in conds)
    g.emit(d, "t = None")
    g.emit(d, f"for x in {cands}:")
    g.emit(d + 1, "els = x[0]")
    g.emit(d + 1, "n = len(els)")
    g.emit(d + 1, f"if {test}:")
    g.emit(d + 2, "if t is not None:")
    g.emit(d + 3, "t = False")
    g.emit(d + 3, "break")
    g.emit(d + 2, "t = x")
    g.emit(d, "if t is False:")
    g.emit(d + 1, f"{fallback}({k}, loop, out, scope)")
    g.emit(d, "elif t is not None:")
    d += 1
    g.emit(d, "els = t[0]")
    g.emit(d, "n = len(els)")
    g.emit(d, "got = 0")
    cond_mask = _mask(conds)
    for e, comp, _, mask, r, src in srcs:
        _extract(g, d, e, comp)
        g.emit(d, "if raw:")
        g.emit(d + 1, f"got |= {mask | cond_mask}")
        _value(g, d + 1, r, src)
    g.emit(d, "if got:")
    g.emit(d + 1, "key = t[1]")
    g.emit(d + 1, "consumed[key] = consumed.get(key, 0) | got")


def _candidates(sid: str | None, seg_level: bool) -> str:
    """The expression for the segments a source with this id may read."""
    if sid is None:
        return "(cur,)"
    if seg_level:
        return f"((cur,) if csid == {sid!r} else idx.get({sid!r}, ()))"
    return f"idx.get({sid!r}, ())"


def _read_loop(g: _Source, d: int, r: Read, seg_level: bool, cands: str | None = None) -> None:
    """``fast``, compiled: the first source with a candidate meeting its conditions and
    holding a value gives the value (alternatives, several candidates, any segments).
    ``cands``: the candidates already found, when every source reads that segment id.
    A source's loop breaks on a value, so the next source goes in its ``else``."""
    for i, (sid, e, comp, conds, mask, src) in enumerate(r.sources):
        if i:
            g.emit(d, "else:")
            d += 1
        rel = sid is None
        key = None if cands is not None or seg_level or rel or sid in ENVELOPE else _one_code(conds)
        if key is not None:  # only the segments carrying the qualifier
            q = g.bucket(d, sid, key[0])
            g.emit(d, f"for t in {q}.get({key[1]!r}, ()):")
            conds = tuple(c for c in conds if c != key[2])
        else:
            g.emit(d, f"for t in {cands or _candidates(sid, seg_level)}:")
        g.emit(d + 1, "els = t[0]")
        g.emit(d + 1, "n = len(els)")
        if conds:
            test = " and ".join(_cond(g, ce, cc, codes, rel) for ce, cc, codes in conds)
            g.emit(d + 1, f"if not ({test}):")
            g.emit(d + 2, "continue")
        _extract(g, d + 1, e, comp, rel)
        g.emit(d + 1, "if raw:")
        g.emit(d + 2, "key = t[1]")
        hit = mask if not rel else f"({(1 << e) | _mask(conds)} << base)"
        g.emit(d + 2, f"consumed[key] = consumed.get(key, 0) | {hit}")
        _value(g, d + 2, r, src)
        g.emit(d + 2, "break")


def _one_code(conds: tuple) -> tuple | None:
    """(element, code, condition) of a condition requiring one code of a whole element, if any."""
    for cond in conds:
        ce, cc, codes = cond
        if cc is None and len(codes) == 1:
            return ce, next(iter(codes)), cond
    return None


def _general(g: _Source, b: Binding, seg_level: bool) -> bool:
    """The bindings ``Read`` leaves out, compiled where their sources are plain (named
    segment, same-segment conditions): qualifier arguments and several targets
    (``(start, end) = DTP03 as period DTP02``), and pointers into a pool
    (``x[] = SV107-01 | … via diagnoses code``). ``_binding`` and ``pointers``,
    as code; False for the others (repetitions, lists, relative or envelope refs)."""
    if b.repeats or (b.is_list and b.via is None):
        return False
    fn = b.fn
    quals = fn.qualifiers
    for src in b.sources:
        ref = src.ref
        if ref.segment is None or ref.segment in ENVELOPE or ref.element is None:
            return False
        if any(c.ref.segment != ref.segment or c.ref.element is None for c in src.conds):
            return False
    if any(q.segment is None or q.element is None for q in quals):
        return False
    kb, kfn = g.const(b), g.const(fn)
    d = 1
    if b.via is not None:
        g.emit(d, "vals = []")
    for i, src in enumerate(b.sources):
        ref = src.ref
        if i and b.via is None:  # as in _read_loop: a source's loop breaks on a value
            g.emit(d, "else:")
            d += 1
        conds = tuple((c.ref.element, c.ref.component, frozenset(c.codes)) for c in src.conds)
        g.emit(d, f"for t in {_candidates(ref.segment, seg_level)}:")
        g.emit(d + 1, "els = t[0]")
        g.emit(d + 1, "n = len(els)")
        if conds:
            test = " and ".join(_cond(g, ce, cc, codes) for ce, cc, codes in conds)
            g.emit(d + 1, f"if not ({test}):")
            g.emit(d + 2, "continue")
        _extract(g, d + 1, ref.element, ref.component)
        g.emit(d + 1, "if raw:")
        d2 = d + 2
        g.emit(d2, "key = t[1]")
        g.emit(d2, f"consumed[key] = consumed.get(key, 0) | {(1 << ref.element) | _mask(conds)}")
        ksrc = g.const(src)
        if b.via is not None:
            g.emit(d2, f"vals.append(R.pointed({kb}, raw, t, loop, scope, {ksrc}))")
            g.emit(d2, "break")
            continue
        for j, q in enumerate(quals):  # read alongside, and marked read when they hold a value
            g.emit(d2, f"q{j} = value_at(els, {q.element}, {q.component}, sep, R.rep)")
            g.emit(d2, f"if n > {q.element} and els[{q.element}]:")
            g.emit(d2 + 1, f"consumed[key] |= {1 << q.element}")
        args = "[" + ", ".join(f"q{j}" for j in range(len(quals))) + "]"
        g.emit(d2, f"value = R.convert({kfn}, raw, t, loop, scope, {kb}, {ksrc}, {args})")
        if len(b.targets) == 1:
            dflt = b.default
            d3 = d2
            if dflt is not None and dflt.elide and dflt.constant:
                if dflt.rest is None:
                    g.emit(d2, f"if value != {dflt.first!r}:")
                else:
                    g.emit(d2, f"if value != ({dflt.first!r} if index == 0 else {dflt.rest!r}):")
                d3 += 1
            _set_path(g, d3, "tg", b.targets[0], "value")
        else:
            keep_null = bool(getattr(fn, "keep_null", False))
            g.emit(d2, "parts = value if type(value) is tuple else (value, None)")
            for j, name in enumerate(b.targets):  # zip(targets, parts): a short tuple fills fewer
                g.emit(d2, f"if len(parts) > {j}{'' if keep_null else f' and parts[{j}] is not None'}:")
                _set_path(g, d2 + 1, "tg", name, f"parts[{j}]")
        g.emit(d2, "break")
    if b.via is not None:
        g.emit(d, "if vals:")
        _set_path(g, d + 1, "tg", b.targets[0], "vals")
    return True


def _set_const(g: _Source, sc: SetConst, seg_level: bool) -> bool:
    """`set`/`default REF = code`: the element marked read where it holds the code
    (`@sequence`: whatever it holds)."""
    ref = sc.ref
    if ref.segment is None or ref.segment in ENVELOPE or ref.element is None:
        return False
    e = ref.element
    g.emit(1, f"for t in {_candidates(ref.segment, seg_level)}:")
    g.emit(2, "els = t[0]")
    d = 2
    if sc.value != "@sequence":
        g.emit(2, "n = len(els)")
        g.emit(2, f"if {_cond(g, e, ref.component, frozenset((sc.value,)))}:")
        d = 3
    g.emit(d, "key = t[1]")
    g.emit(d, f"consumed[key] = consumed.get(key, 0) | ({1 << e} if len(els) > {e} and els[{e}] else 0)")
    return True


def _when(g: _Source, w: When, seg_level: bool) -> bool:
    """`when P1, P2 | field {…} else {…}` over one-step paths without conditions: the
    branch chosen by the child loops the instance holds, its function called directly."""
    from .mapplan import program

    paths = (w.path, *w.more)
    if any(len(p) != 1 or p[0].conds for p in paths):
        return False
    branches = []
    for body in (w.then, w.otherwise):
        prog = program(body)
        run = g.variant(prog, seg_level)
        if run is None:
            return False
        branches.append(g.const(run))
    ids = [p[0].loop for p in paths]
    if w.many:
        test = " + ".join(f"len(idx.get({i!r}, ()))" for i in ids) + " > 1"
    else:
        test = " or ".join(f"{i!r} in idx" for i in ids)
    g.emit(1, f"if {test}:")
    g.emit(2, f"{branches[0]}(R, loop, out, scope)")
    g.emit(1, "else:")
    g.emit(2, f"{branches[1]}(R, loop, out, scope)")
    return True


def _list_loop(g: _Source, d: int, r: Read, cands: str) -> None:
    """``name[] = A | B | …`` over several candidates (``c``): every source's value in
    order, each from the first candidate meeting its conditions with a value;
    positional lists keep an empty slot before a value (`["", "GT"]`)."""
    g.emit(d, "vals = []")
    g.emit(d, "blanks = 0")
    for sid, e, comp, conds, mask, src in r.sources:
        g.emit(d, f"for t in {cands}:")
        g.emit(d + 1, "els = t[0]")
        g.emit(d + 1, "n = len(els)")
        if conds:
            test = " and ".join(_cond(g, ce, cc, codes) for ce, cc, codes in conds)
            g.emit(d + 1, f"if not ({test}):")
            g.emit(d + 2, "continue")
        _extract(g, d + 1, e, comp)
        g.emit(d + 1, "if raw:")
        g.emit(d + 2, "key = t[1]")
        g.emit(d + 2, f"consumed[key] = consumed.get(key, 0) | {mask}")
        _list_value(g, d + 2, r, src)
        g.emit(d + 2, "break")
        g.emit(d, "else:")
        g.emit(d + 1, "blanks += 1")
    g.emit(d, "if vals:")
    _put(g, d + 1, r, "vals")


def _list_value(g: _Source, d: int, r: Read, src) -> None:
    """A list item found: the empty slots before it (positional lists), then its value."""
    if r.positional:
        g.emit(d, "if blanks:")
        g.emit(d + 1, "vals.extend([''] * blanks)")
    g.emit(d, "blanks = 0")
    g.emit(d, f"vals.append({_convert(g, d, r, src)})")


def _cond(g: _Source, ce: int, cc: int | None, codes: frozenset, rel: bool = False) -> str:
    """A condition on ``els`` (``n``: its length) as an expression, for candidates tested one by one."""
    k = g.const(codes)
    pos = _pos(ce, rel)
    if cc is not None:
        return f"value_at(els, {pos}, {cc}, sep, R.rep) in {k}"
    if g.norep:
        return f"(els[{pos}] if n > {pos} else '') in {k}"
    return f"((v := (els[{pos}] if n > {pos} else '')) in {k} or (rep in v and v.split(rep, 1)[0] in {k}))"


# ---------------------------------------------------------------------------- blocks
def _block(g: _Source, blk: Block, seg_level: bool) -> bool:
    """An object, list or `at` block on a one-step loop path, and an `each` list over
    a segment, inline (their bodies' generated functions called directly); False for
    the others, which the interpreter runs."""
    from .mapplan import program
    from .mapread import has_field_conds

    kind = blk.kind
    if kind == "list_each":
        return _each(g, blk, seg_level)
    if kind == "list_at" and blk.path and (len(blk.path) != 1 or has_field_conds(blk.path)):
        return _list_at_path(g, blk)
    if kind not in ("object", "list_at", "at") or not blk.path or len(blk.path) != 1 or has_field_conds(blk.path):
        return False
    inner = program(blk.body)
    run = g.variant(inner, seg_level)
    if run is None:
        return False
    k, body_run = g.const(blk), g.const(run)
    step = blk.path[0]
    conds = g.const(step.conds) if step.conds else None
    claim = kind != "at" or blk.own
    g.emit(1, f"c = idx.get({step.loop!r})")
    g.emit(1, "if c is not None:")
    g.emit(2, "claimed = R.claimed")
    g.emit(2, "found = []")
    g.emit(2, "for ch in c:")
    if claim:
        g.emit(3, "if id(ch) in claimed:")
        g.emit(4, "continue")
    if conds:  # every match is tested: a match marks its condition's element read
        g.emit(3, f"if R.loop_matches(ch, {conds}):")
        g.emit(4, "found.append(ch)")
    else:
        g.emit(3, "found.append(ch)")
        if kind != "list_at":
            g.emit(3, "break")
    if kind == "list_at":
        _list_items(g, 2, blk, inner, body_run, captured=False)
        return True
    g.emit(2, "if found:")
    g.emit(3, "ch = found[0]")
    if kind == "at":
        if blk.own:
            g.emit(3, "claimed.add(id(ch))")
        g.emit(3, f"{body_run}(R, ch, out, scope)")
        return True
    g.emit(3, "claimed.add(id(ch))")
    g.emit(3, "sc = Scope(scope.seg, scope.elem, scope.index, scope.meta) if scope.prefix else scope")
    d = 3
    if inner.pure and not seg_level:  # streamed claims replay what an earlier claim read here
        g.emit(3, "if R.memo is not None and not scope.meta and not R.pools:")
        g.emit(4, f"R.memo_object({k}, ch, out, sc)")
        g.emit(3, "else:")
        d = 4
    g.emit(d, "sub = {}")
    g.emit(d, f"{body_run}(R, ch, sub, sc)")
    if inner.pools:
        g.emit(d, "if R.pools:")
        g.emit(d + 1, f"R.elide_pools({g.const(blk.body)}, sub)")
    g.emit(d, "if sub:")
    if "." in blk.name:
        g.emit(d + 1, f"merge(out, {blk.name!r}, sub)")
    else:  # _merge for a plain name
        g.emit(d + 1, f"ex = out.get({blk.name!r})")
        g.emit(d + 1, "if isinstance(ex, dict):")
        g.emit(d + 2, "ex.update(sub)")
        g.emit(d + 1, "else:")
        g.emit(d + 2, f"out[{blk.name!r}] = sub")
    return True


def _list_at_path(g: _Source, blk: Block) -> bool:
    """`list NAME at 2000[LX01=$n]/2100`: the loops found as the interpreter finds them
    (``resolve_captures``: claiming, `$field` values read into each item), each item's
    function then called directly (an 835's claim payments)."""
    from .mapplan import program

    inner = program(blk.body)
    run = g.variant(inner, False)  # an item's scope holds no segment: the loop-level function
    if run is None:
        return False
    g.emit(1, "claimed = R.claimed")
    g.emit(1, f"found = R.resolve_captures(loop, {g.const(blk.path)})")
    _list_items(g, 1, blk, inner, g.const(run), captured=True)
    return True


def _list_items(g: _Source, d: int, blk: Block, inner, body_run: str, captured: bool) -> None:
    """The items of a `list … at` from ``found``: its loops, or with ``captured`` (loop,
    captured fields) pairs, each claimed and read by ``body_run`` (the interpreter's
    ``block`` does the same)."""
    g.emit(d, "items = []")
    g.emit(d, f"for i, {'(ch, captured)' if captured else 'ch'} in enumerate(found):")
    g.emit(d + 1, "claimed.add(id(ch))")
    g.emit(d + 1, "sub = dict(captured)" if captured else "sub = {}")  # captured fields may be shared between items
    g.emit(d + 1, f"{body_run}(R, ch, sub, Scope(None, None, i))")
    if inner.pools:  # only a list declaring pools has any to elide
        g.emit(d + 1, "if R.pools:")
        g.emit(d + 2, f"R.elide_pools({g.const(blk.body)}, sub)")
    g.emit(d + 1, "items.append(sub)")
    g.emit(d, "if items:")
    _set_path(g, d + 1, "out", blk.name, "items")


def _each(g: _Source, blk: Block, seg_level: bool) -> bool:
    """`list NAME each SEG` / `each HI01..HI12`: one item per matching segment (or per
    non-empty element of it), its body run with the item's segment as the scope."""
    from .mapplan import program

    src = blk.each
    sid = src.ref.segment
    run = g.variant(program(blk.body), True)
    if sid is None or sid in ENVELOPE or run is None:
        return False
    k_src, body_run = g.const(src), g.const(run)
    g.emit(1, "items = []")
    if seg_level:
        g.emit(1, f"c = (cur,) if csid == {sid!r} else idx.get({sid!r}, ())")
    else:
        g.emit(1, f"c = idx.get({sid!r}, ())")
    g.emit(1, "for t in c:")
    if src.conds and all(c.ref.segment is not None for c in src.conds):
        # the conditions on the segment itself (HI01-01=ABK|BK), tested here rather than by
        # the interpreter's matches (four calls deep, once per segment)
        g.emit(2, "els = t[0]")
        g.emit(2, "n = len(els)")
        test = " and ".join(_cond(g, c.ref.element, c.ref.component, frozenset(c.codes)) for c in src.conds)
        g.emit(2, f"if not ({test}):")
        g.emit(3, "continue")
    elif src.conds:
        g.emit(2, f"if not R.matches(t, {g.const(src.conds)}, scope):")
        g.emit(3, "continue")
    if blk.each_last is None:
        g.emit(2, f"R.consume_source(t, {k_src}, scope)")
        g.emit(2, "consumed.setdefault(t[1], 0)")
        g.emit(2, "sub = {}")
        g.emit(2, f"{body_run}(R, loop, sub, Scope(t, None, len(items)))")
        g.emit(2, "items.append(sub)")
    else:
        # an item body reading only the item's segment is written here, in the list's own
        # loop: no call and no scope object per item (an 835 claim's CAS triples, HI codes)
        inline = not seg_level and _inline_item(program(blk.body).body, sid)
        slot = "base" if inline else "e"
        g.emit(2, "els = t[0]")
        g.emit(2, "n = len(els)")
        slots = blk.slots
        step = slots[1] - slots[0] if len(slots) > 1 else 1
        if step > 0 and slots == tuple(range(slots[0], slots[-1] + 1, step)):
            # evenly spaced (CAS triples, HI01..HI12): only the positions the segment has
            end = slots[-1] + 1
            g.emit(2, f"for {slot} in range({slots[0]}, n if n < {end} else {end}, {step}):")
            g.emit(3, f"v = els[{slot}]")
        else:
            g.emit(2, f"for {slot} in {slots!r}:")
            g.emit(3, f"v = els[{slot}] if n > {slot} else ''")
        g.first_rep(3, "v")
        g.emit(3, "if v:")
        g.emit(4, "sub = {}")
        if inline:
            saved = g.tg, g.index, g.scope
            g.tg, g.index, g.scope = "sub", "len(items)", "Scope(t, base, len(items))"
            try:
                for own, stmts in _runs(program(blk.body).body):
                    _single(g, 4, stmts, rel=own is None, split=False)
            finally:
                g.tg, g.index, g.scope = saved
        else:
            g.emit(4, f"{body_run}(R, loop, sub, Scope(t, e, len(items)))")
        g.emit(4, "items.append(sub)")
    if blk.pool:
        g.emit(1, f"R.pools[{blk.name!r}] = (items, [])")
    g.emit(1, "if items:")
    _set_path(g, 2, "out", blk.name, "items")
    return True


def _runs(body: list) -> list[tuple]:
    """Consecutive plain bindings of a list cut into runs on one segment id."""
    out: list[tuple] = []
    for stmt in body:
        sid = _plain_sid(stmt)
        if out and out[-1][0] == sid:
            out[-1][1].append(stmt)
        else:
            out.append((sid, [stmt]))
    return out


def _inline_item(body: list, sid: str) -> bool:
    """An item body ``_each`` can write inline: plain bindings on the item's own segment
    only (relative to its element, or naming its id), none of them a list."""
    for stmt in body:
        if _plain_sid(stmt) not in (None, sid) or (type(stmt) is Read and stmt.is_list):
            return False
    return bool(body)


# ---------------------------------------------------------------------------- shared steps
def _extract(g: _Source, d: int, e: int, comp: int | None, rel: bool = False) -> None:
    """``raw``: element ``e`` (component ``comp``) of ``els``, first repetition (``value_at``, inline)."""
    g.emit(d, f"raw = els[{_pos(e, rel)}] if n > {_pos(e, rel)} else ''")
    g.first_rep(d, "raw")
    if comp is not None:
        g.emit(d, "p = raw.split(sep)")
        g.emit(d, f"raw = p[{comp - 1}] if len(p) >= {comp} else ''")


def _convert(g: _Source, d: int, r: Read, src) -> str:
    """``value``: ``raw`` through the binding's transform; a value that does not fit
    goes through ``R.convert``, which words the warning and keeps what it can.
    Returns the variable holding the result (``raw`` itself for text kept as is)."""
    b = r.binding
    fn = b.fn
    slow = f"R.convert({g.const(fn)}, raw, t, loop, {g.scope}, {g.const(b)}, {g.const(src)})"
    if type(fn) is Transform:
        return "raw"
    if type(fn) is CodeTransform:
        g.emit(d, f"value = {g.const(fn.table.enum_by_code())}.get(raw)")
        g.emit(d, "if value is None:")
        g.emit(d + 1, f"value = {slow}")
    elif type(fn) is DescriptionTransform:  # the description by one lookup; unknown codes get the warning
        g.emit(d, f"value = {g.const(fn.table.description_by_code())}.get(raw)")
        g.emit(d, "if value is None:")
        g.emit(d + 1, f"value = {slow}")
    elif type(fn) is MoneyTransform:
        # the usual amount ("125.50", "80") passes a C-level test; the rest take is_amount
        g.emit(d, f"if raw.replace('.', '', 1).isdecimal() or {g.const(is_amount)}(raw):")
        g.emit(d + 1, f"value = {{'amount': raw, 'currency': {MoneyTransform.CURRENCY!r}}}")
        g.emit(d, "else:")
        g.emit(d + 1, f"value = {slow}")
    else:
        call = f"{g.const(fn._reader)}(raw)" if type(fn) is _Simple else f"{g.const(fn.read)}(raw, ())"
        inline = INLINE_READS.get(fn._reader) if type(fn) is _Simple else None
        if inline is not None:  # the reader's usual case without the call (a date seen before, a count)
            expr, names = inline
            g.ns.update(names)
            g.emit(d, f"value = {expr}")
            g.emit(d, "if value is None:")
            d += 1
        g.emit(d, "try:")
        g.emit(d + 1, f"value = {call}")
        g.emit(d, "except ReadIssue:")
        g.emit(d + 1, f"value = {slow}")
    return "value"


def _set_path(g: _Source, d: int, obj: str, name: str, value: str) -> None:
    """``set_path(obj, name, value)``; a name without dots is one store, not a call."""
    if "." in name:
        g.emit(d, f"set_path({obj}, {name!r}, {value})")
    else:
        g.emit(d, f"{obj}[{name!r}] = {value}")


def _put(g: _Source, d: int, r: Read, value: str) -> None:
    """``tg[target] = value``, through the dissolved objects of a dotted target."""
    if r.parts is None:
        g.emit(d, f"{g.tg}[{r.target!r}] = {value}")
        return
    g.emit(d, f"o = {g.tg}")
    for part in r.parts[:-1]:
        g.emit(d, f"x = o.get({part!r})")
        g.emit(d, "if type(x) is not dict:")
        g.emit(d + 1, f"x = o[{part!r}] = {{}}")
        g.emit(d, "o = x")
    g.emit(d, f"o[{r.parts[-1]!r}] = {value}")


def _guarded(g: _Source, sids: set[str] | frozenset[str] | None, call: str, stmt, seg_level: bool) -> None:
    """A statement the interpreter runs, skipped when the loop instance holds none of
    the segments (or child loops) it can read from."""
    k = g.const(stmt)
    if sids is None or None in sids or any(s in ENVELOPE for s in sids):
        g.emit(1, f"{call}({k}, loop, out, scope)")
        return
    test = " or ".join(f"{s!r} in idx" for s in sorted(sids))
    if seg_level:
        test += f" or csid in {g.const(frozenset(sids))}"
    g.emit(1, f"if {test}:")
    g.emit(2, f"{call}({k}, loop, out, scope)")
