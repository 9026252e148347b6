"""Mapping files (*.x12m) → compiled statements.

The language is the lark grammar ``maps/x12m.lark``; ``maps/README.md`` documents
it. A map is compiled once per process and checked against its guide (every loop
path and element reference must exist there) and the code tables it names, so a
typo in a map fails when the map loads, naming the file and line, never while a
user's file is being converted.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args

from .diskcache import cached, code_hash
from .errors import X12Error, Location
from .larkfile import parse_and_transform
from .resources import maps_dir


class MapError(X12Error):
    """A mapping file is malformed or does not fit its guide."""


# ----------------------------------------------------------------------------
# compiled objects
# ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Ref:
    """An element or component reference: ``NM109`` / ``SV101-02``, ``-02`` inside ``each HI01..HI12``,
    or ``+1`` / ``+1-02`` (the element *offset* positions after the current one) inside an element list
    (``each CAS02..CAS19 step 3``: ``+1``, ``+2`` are the other elements of an item)."""

    segment: str | None  # None for a component of the current element
    element: int | None
    component: int | None
    text: str
    offset: int = 0  # relative refs: element = current element + offset


@dataclass(frozen=True, slots=True)
class Cond:
    ref: Ref
    codes: tuple[str, ...]  # any of these on read; the first is written on build


@dataclass(frozen=True, slots=True)
class Source:
    ref: Ref
    conds: tuple[Cond, ...] = ()


@dataclass(frozen=True, slots=True)
class Default:
    """A build-time value for an absent field; constants are also elided on read.

    ``$path`` names another field of the document (from the root) instead of a
    constant; ``@name`` a value the builder computes (``@date``, ``@time``).
    """

    first: str
    rest: str | None = None  # for list items after the first (`default ABK then ABF`)
    elide: bool = True  # `fill`: written the same way, but a value equal to it is still read into the JSON

    def for_index(self, index: int) -> str:
        return self.first if index == 0 or self.rest is None else self.rest

    @property
    def constant(self) -> bool:
        return not (self.first.startswith("$") or self.first.startswith("@"))


@dataclass(slots=True, eq=False)
class Binding:
    targets: tuple[str, ...]
    sources: tuple[Source, ...]
    is_list: bool  # `name[] = A | B`: read collects every source's value; build spreads the items
    transform: str | None
    args: tuple[object, ...]  # Ref or str (table names)
    default: Default | None
    line: int
    fn: object = None  # the Transform, attached when the map is checked
    repeats: bool = False  # `name[] = EB03 repeats`: one list item per repetition of the one source element
    needs: object = None  # reader's cache: the segment ids a value can come from (False: any), set on first use
    via: tuple[str, str] | None = None  # `via POOL FIELD`: the elements hold 1-based pointers into a pool list


@dataclass(frozen=True, slots=True)
class Step:
    loop: str
    conds: tuple[Cond, ...] = ()


@dataclass(slots=True)
class Block:
    kind: str  # object | list_at | list_each | at | meta
    name: str | None
    path: tuple[Step, ...] | None
    body: list
    line: int
    each: Source | None = None
    each_last: Ref | None = None  # `each HI01..HI12`: elements from each.ref to this one
    slots: tuple[int, ...] = ()  # element lists: the element each item starts at (HI01..HI12, CAS02..CAS19 step 3)
    required: bool = False  # build creates the loop even when the JSON object is absent
    own: bool = False  # `at PATH own`: the block claims its loop (a later `list … at PATH` skips it)
    pool: bool = False  # `pool`: `via` bindings point into this list; elided on read when derivable from them


@dataclass(slots=True)
class When:
    """`when PATH | FIELD {..} else {..}`: read takes the first branch when the loop
    path exists; build takes it when the JSON field is present."""

    path: tuple[Step, ...]
    field: str
    then: list
    otherwise: list
    line: int
    many: bool = False  # `when many P1, P2 | f`: read takes the first branch when the paths hold more than one loop
    more: tuple[tuple[Step, ...], ...] = ()  # the paths after the first


@dataclass(slots=True, eq=False)
class Derive:
    name: str
    quantifier: str  # first | none | any
    source: Source
    transform: str | None
    args: tuple[object, ...]
    line: int
    fn: object = None


@dataclass(slots=True, eq=False)
class DeriveCall:
    """`derive NAME = fn(field, ...)`: a value computed on read from fields already read (ignored on build)."""

    name: str
    function: str
    fields: tuple[str, ...]
    line: int
    fn: object = None  # the Derivation, attached when the map is checked


@dataclass(frozen=True, slots=True)
class SetConst:
    ref: Ref
    value: str  # a code, or `@sequence`: the 1-based position of the list item (LX01), consumed whatever it is on read
    only_if_empty: bool  # `default REF = v` (True) vs `set REF = v` (False)
    line: int


@dataclass(slots=True)
class Map:
    name: str
    title: str
    transaction: str  # ST01
    guide: str  # 005010X217
    model: str  # class name of the generated pydantic model
    model_title: str
    platform: tuple[str, ...]  # JSON fields the model accepts but X12 does not carry
    body: list
    path: Path
    sets: list[SetConst] = field(default_factory=list)  # top-level constants (BHT02 ...)
    prefer: bool = False  # `prefer`: wins when JSON fits several maps of one transaction equally (837P over I/D)


# ----------------------------------------------------------------------------
# parsing
# ----------------------------------------------------------------------------
@cache
def _lark() -> Lark:
    text = (maps_dir() / "x12m.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


def parse_ref(text: str) -> Ref:
    if text.startswith("+"):
        off, _, comp = text[1:].partition("-")
        return Ref(None, None, int(comp) if comp else None, text, int(off))
    if text.startswith("-"):
        return Ref(None, None, int(text[1:]), text)
    comp = None
    base = text
    if "-" in text:
        base, c = text.split("-", 1)
        comp = int(c)
    return Ref(base[:-2], int(base[-2:]), comp, text)


def _unquote(tok) -> str:
    s = str(tok)
    return s[1:-1] if len(s) >= 2 and s[0] == '"' and s[-1] == '"' else s


class _Compile(Transformer):
    def __init__(self, path: Path):
        super().__init__()
        self.file = path
        self.headers: dict = {"platform": ()}
        self.fragments: dict[str, list] = {}

    # headers ---------------------------------------------------------------
    def map_decl(self, items):
        self.headers["name"] = str(items[0])
        self.headers["title"] = _unquote(items[1]) if len(items) > 1 else ""
        return None

    def transaction_decl(self, items):
        self.headers["transaction"] = str(items[0])

    def guide_decl(self, items):
        self.headers["guide"] = str(items[0])


    def model_decl(self, items):
        self.headers["model"] = str(items[0])
        self.headers["model_title"] = _unquote(items[1]) if len(items) > 1 else ""

    def platform_decl(self, items):
        self.headers["platform"] = tuple(str(i) for i in items)

    def prefer_decl(self, items):
        self.headers["prefer"] = True

    def include_decl(self, items):
        self.headers.setdefault("include", []).append(_unquote(items[0]))

    # pieces ----------------------------------------------------------------
    def ref(self, items):
        return parse_ref(str(items[0]))

    def code(self, items):
        return _unquote(items[0])

    @v_args(meta=True)
    def cond(self, meta, items):
        codes = tuple(items[1:])
        if "" in codes:  # the reader counts a condition's element as read, which an empty one never is
            raise MapError(f'`{items[0].text}=""`: a condition needs a code; an empty element meets none',
                           Location(source=f"{self.file}:{meta.line}"))
        return Cond(items[0], codes)

    def conds(self, items):
        return tuple(items)

    def source(self, items):
        return Source(items[0], items[1] if len(items) > 1 else ())

    def single_target(self, items):
        return (str(items[0]),)

    def list_target(self, items):
        return ("[]", str(items[0]))

    def pair_target(self, items):
        return (str(items[0]), str(items[1]))

    def targ(self, items):
        t = items[0]
        return t if isinstance(t, Ref) else str(t)

    def as_transform(self, items):
        return ("transform", str(items[0]), tuple(items[1:]))

    def value(self, items):
        return _unquote(items[0])

    def default_value(self, items):
        return ("default", Default(items[0], items[1] if len(items) > 1 else None))

    def repeats_mod(self, items):
        return ("repeats",)
    def fill_value(self, items):
        return ("default", Default(items[0], items[1] if len(items) > 1 else None, elide=False))

    def via_pool(self, items):
        return ("via", (str(items[0]), str(items[1])))

    def step(self, items):
        return Step(str(items[0]), items[1] if len(items) > 1 else ())

    def path(self, items):
        return tuple(items)

    @staticmethod
    def _modifiers(mods) -> tuple[str | None, tuple, Default | None]:
        transform, args, default = None, (), None
        for kind, *rest in mods:
            if kind == "transform":
                transform, args = rest
            elif kind == "default":
                default = rest[0]
        return transform, args, default

    # statements ------------------------------------------------------------
    @v_args(meta=True)
    def binding(self, meta, items):
        targets = items[0]
        is_list = targets[0] == "[]"
        if is_list:
            targets = targets[1:]
        sources = tuple(i for i in items[1:] if isinstance(i, Source))
        mods = [i for i in items[1:] if isinstance(i, tuple)]
        transform, args, default = self._modifiers(mods)
        repeats = any(m[0] == "repeats" for m in mods)
        if repeats and (not is_list or len(sources) != 1 or sources[0].ref.segment is None):
            raise MapError("`repeats` needs a list target and exactly one element: `name[] = EB03 repeats`",
                           Location(source=f"{self.file}:{meta.line}"))
        via = next((m[1] for m in mods if m[0] == "via"), None)
        if via is not None and not is_list:
            raise MapError("`via` needs a list target (`name[] = ...`)", Location(source=f"{self.file}:{meta.line}"))
        return Binding(targets, sources, is_list, transform, args, default, meta.line, repeats=repeats, via=via)

    @v_args(meta=True)
    def derive(self, meta, items):
        name, quant, source, *mods = items
        transform, args, _ = self._modifiers(mods)
        return Derive(str(name), str(quant), source, transform, args, meta.line)

    @v_args(meta=True)
    def derive_call(self, meta, items):
        name, func, *fields = items
        return DeriveCall(str(name), str(func), tuple(str(f) for f in fields), meta.line)

    @v_args(meta=True)
    def set_stmt(self, meta, items):
        value = str(items[1])
        if value.startswith("@") and value != "@sequence":
            raise MapError(f"`set` takes a code or @sequence, not {value}", Location(source=f"{self.file}:{meta.line}"))
        return SetConst(items[0], value, False, meta.line)

    @v_args(meta=True)
    def default_stmt(self, meta, items):
        return SetConst(items[0], items[1], True, meta.line)

    @v_args(meta=True)
    def use_stmt(self, meta, items):
        return ("use", str(items[0]), meta.line, dict(items[1:]))

    def rename(self, items):
        return (str(items[0]), str(items[1]))

    @staticmethod
    def _body(items) -> list:
        return [i for i in items if i is not None]

    @v_args(meta=True)
    def object_block(self, meta, items):
        name = str(items[0])
        path = items[1] if len(items) > 1 and isinstance(items[1], tuple) and items[1] and isinstance(items[1][0], Step) else None
        rest = list(items[2:] if path is not None else items[1:])
        required = bool(rest) and isinstance(rest[0], Token) and rest[0].type == "REQUIRED"
        if required:
            rest.pop(0)
        return Block("object", name, path, self._body(rest), meta.line, required=required)

    @v_args(meta=True)
    def list_at(self, meta, items):
        return Block("list_at", str(items[0]), items[1], self._body(items[2:]), meta.line)

    @v_args(meta=True)
    def list_each(self, meta, items):
        name, seg = str(items[0]), str(items[1])
        rest = list(items[2:])
        conds: tuple = ()
        if rest and isinstance(rest[0], tuple) and all(isinstance(c, Cond) for c in rest[0]):
            conds = rest.pop(0)
        return Block("list_each", name, None, self._body(rest), meta.line, Source(Ref(seg, None, None, seg), conds))

    @v_args(meta=True)
    def list_each_element(self, meta, items):
        name = str(items[0])
        rest = list(items[1:])
        ranges: list[tuple] = []
        while rest and isinstance(rest[0], tuple) and rest[0] and isinstance(rest[0][0], Ref):
            ranges.append(rest.pop(0))
        conds: tuple = ()
        if rest and isinstance(rest[0], tuple) and rest[0] and all(isinstance(c, Cond) for c in rest[0]):
            conds = rest.pop(0)
        step, pool = 1, False
        while rest and isinstance(rest[0], Token) and rest[0].type in ("STEP", "POOL"):
            tok = rest.pop(0)
            if tok.type == "STEP":
                step = int(tok)
            else:
                pool = True
        return self._slots(meta, name, ranges, step, conds, pool, rest)

    def slot(self, items):
        return tuple(items)

    def _slots(self, meta, name: str, ranges: list[tuple], step: int, conds: tuple, pool: bool, body: list) -> Block:
        """An element list over explicit elements: ranges of one segment, an item every `step` elements.

        One representation for every form (`HI01..HI12`, `CAS02..CAS19 step 3`, `MIA05 | MIA20..MIA23`):
        ``slots`` holds the element each item starts at; ``+N`` refs reach the rest of an item.
        """
        where = Location(source=f"{self.file}:{meta.line}")
        refs = [r for rng in ranges for r in rng]
        seg = refs[0].segment
        if any(r.segment is None or r.segment != seg or r.component is not None for r in refs):
            raise MapError(f"`each {refs[0].text}..{refs[-1].text}` must run over whole elements of one segment", where)
        slots: list[int] = []
        for rng in ranges:
            first, last = rng[0], rng[-1]
            if last.element < first.element:
                raise MapError(f"`{first.text}..{last.text}` runs backwards", where)
            slots.extend(range(first.element, last.element + 1, step))
        if len(set(slots)) != len(slots) or slots != sorted(slots):
            raise MapError("the elements of an element list must be in order and not repeat", where)
        last_ref = Ref(seg, slots[-1] + step - 1, None, f"{seg}{slots[-1] + step - 1:02d}")
        return Block("list_each", name, None, self._body(body), meta.line, Source(refs[0], conds), last_ref,
                     slots=tuple(slots), pool=pool)

    @v_args(meta=True)
    def at_block(self, meta, items):
        own = len(items) > 1 and isinstance(items[1], Token) and items[1].type == "OWN"
        body = self._body(items[2:] if own else items[1:])
        return Block("at", None, items[0], body, meta.line, own=own)

    @v_args(meta=True)
    def meta_block(self, meta, items):
        return Block("meta", None, None, self._body(items), meta.line)

    def alt(self, items):
        return self._body(items)

    @v_args(meta=True)
    def when_block(self, meta, items):
        many = bool(items) and isinstance(items[0], Token) and items[0].type == "MANY"
        if many:
            items = items[1:]
        paths = []
        while isinstance(items[0], tuple):
            paths.append(items.pop(0))
        name, then, *rest = items
        return When(paths[0], str(name), then, rest[0] if rest else [], meta.line, many, tuple(paths[1:]))

    @v_args(meta=True)
    def fragment(self, meta, items):
        self.fragments[str(items[0])] = self._body(items[1:])
        return None

    def start(self, items):
        return self._body(items)


def _load_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text if text.endswith("\n") else text + "\n"


class _Parsed:
    """What parsing one map file yields: statements, header declarations, fragments."""

    __slots__ = ("headers", "fragments")

    def __init__(self, headers: dict, fragments: dict):
        self.headers, self.fragments = headers, fragments


def _parse(path: Path) -> tuple[list, _Parsed]:
    # lark takes most of a second to build the parser and read a map: keep the
    # result in the disk cache, keyed by the text, the lark grammar and this module
    text = _load_text(path)
    salt = code_hash(__file__, str(maps_dir() / "x12m.lark"), str(Path(__file__).with_name("transforms.py")))
    return cached("x12m", f"{path}\0{text}", salt, lambda: _parse_text(text, path))


def _parse_text(text: str, path: Path) -> tuple[list, _Parsed]:
    compiler = _Compile(path)
    body = parse_and_transform(_lark(), compiler, text, str(path), MapError)
    return body, _Parsed(compiler.headers, compiler.fragments)


def parse_map(path: Path) -> Map:
    """Parse and compile one map file (not yet checked against its guide)."""
    body, compiler = _parse(path)
    headers = compiler.headers
    fragments: dict[str, list] = {}
    for name in headers.get("include", []):
        fragments.update(_library(path.parent / name, (path.resolve(),)))
    fragments.update(compiler.fragments)
    for key in ("name", "transaction", "guide", "model"):
        if key not in headers:
            raise MapError(f"missing `{key}` declaration", Location(source=str(path)))
    body = _expand(body, fragments, path)
    sets = [s for s in body if isinstance(s, SetConst)]
    return Map(
        name=headers["name"], title=headers.get("title", ""), transaction=headers["transaction"], guide=headers["guide"],
        model=headers["model"], model_title=headers.get("model_title", ""),
        platform=headers["platform"], body=body, path=path, sets=sets, prefer=headers.get("prefer", False),
    )


def _library(path: Path, chain: tuple[Path, ...]) -> dict[str, list]:
    """The fragments of an included file, with those of the files it includes (its own win)."""
    if path.resolve() in chain:
        raise MapError(f"include cycle: {' -> '.join(p.name for p in (*chain, path))}", Location(source=str(path)))
    _, lib = _parse(path)
    out: dict[str, list] = {}
    for name in lib.headers.get("include", []):
        out.update(_library(path.parent / name, (*chain, path.resolve())))
    out.update(lib.fragments)
    return out


def _expand(body: list, fragments: dict[str, list], path: Path, depth: int = 0) -> list:
    """Replace `use NAME` by the fragment's statements (recursively)."""
    if depth > 20:
        raise MapError("fragments nest more than 20 deep (a fragment uses itself?)", Location(source=str(path)))
    out: list = []
    for stmt in body:
        if isinstance(stmt, tuple) and stmt and stmt[0] == "use":
            _, name, line, renames = stmt
            if name not in fragments:
                raise MapError(f"`use {name}`: no fragment of that name", Location(source=f"{path}:{line}"))
            pasted = _expand(fragments[name], fragments, path, depth + 1)
            out.extend(_renamed(pasted, renames) if renames else pasted)
        elif isinstance(stmt, Block):
            stmt.body = _expand(stmt.body, fragments, path, depth + 1)
            out.append(stmt)
        elif isinstance(stmt, When):
            stmt.then = _expand(stmt.then, fragments, path, depth + 1)
            stmt.otherwise = _expand(stmt.otherwise, fragments, path, depth + 1)
            out.append(stmt)
        else:
            out.append(stmt)
    return out


def _renamed(body: list, renames: dict[str, str]) -> list:
    """`use NAME with 2110C=2110D`: copies of a fragment's blocks with those loop ids replaced in their paths.

    Subscriber and dependent loops of one guide (2110C / 2110D) often have the
    same content; one fragment then serves both. Only loop paths change: element
    references and JSON names stay as written.
    """
    def steps(p: tuple[Step, ...] | None) -> tuple[Step, ...] | None:
        return None if p is None else tuple(replace(s, loop=renames.get(s.loop, s.loop)) for s in p)

    out: list = []
    for stmt in body:
        if isinstance(stmt, Block):
            out.append(replace(stmt, path=steps(stmt.path), body=_renamed(stmt.body, renames)))
        elif isinstance(stmt, When):
            out.append(replace(stmt, path=steps(stmt.path), more=tuple(steps(p) for p in stmt.more),
                               then=_renamed(stmt.then, renames), otherwise=_renamed(stmt.otherwise, renames)))
        else:
            out.append(stmt)
    return out
