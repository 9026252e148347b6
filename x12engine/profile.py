"""Output profiles: flat records projected from a map's model JSON, defined as data.

A profile (``maps/profiles/*.x12p``, language ``maps/x12p.lark``, documented in
``maps/profiles/README.md``) names the maps it applies to, what one record is (one
per item a source path reaches, in document order) and each output field as an
expression over the current item, an enclosing object, a named scope or the model
root. The file is compiled once and every path is checked against the JSON Schema
of the maps' models, so a misspelt path fails at load time with the file and line,
not silently at run time with a null.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from lark import Lark, Token, Transformer, v_args

from .codes import CodeTable, CodeTableError, load_table
from .errors import Location, X12Error
from .larkfile import parse_and_transform
from .resources import maps_dir


class ProfileError(X12Error):
    """A profile file that cannot be compiled, or a profile applied to data it does not fit."""


# ----------------------------------------------------------------------------
# compiled form
# ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Cond:
    """A filter: ``op`` is present / eq / ne / contains / and / or / not."""

    op: str
    path: "PathRef | None" = None
    values: tuple[str, ...] = ()
    parts: tuple["Cond", ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    filter: Cond | None = None


@dataclass(frozen=True, slots=True)
class PathRef:
    """A path from an anchor: ``item`` (the record's item), ``parent`` (``..``), ``root`` (``/``) or ``scope``."""

    anchor: str
    steps: tuple[Step, ...]
    scope: str | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Const:
    value: Any


@dataclass(frozen=True, slots=True)
class Alternatives:
    options: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Any, ...]
    table: CodeTable | None = None


@dataclass(frozen=True, slots=True)
class IfExpr:
    cond: Cond
    then: Any
    otherwise: Any = None


@dataclass(frozen=True, slots=True)
class SourceStep:
    names: tuple[str, ...]  # alternatives: (claims | claim_level_info)
    filter: Cond | None
    scope: str | None


@dataclass(frozen=True, slots=True)
class Record:
    steps: tuple[SourceStep, ...]
    where: Cond | None
    line: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class OutField:
    name: str
    expr: Any
    line: int


@dataclass(slots=True)
class Profile:
    name: str
    title: str | None
    maps: tuple[str, ...]
    records: tuple[Record, ...]
    fields: tuple[OutField, ...]
    file: str

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def project(self, entry: dict, source: str | None = None) -> Iterator[dict]:
        """One transaction entry of a model document → its records."""
        map_name = entry.get("map")
        if map_name not in self.maps or entry.get("model") is None:
            x12 = entry.get("x12") or {}
            where = Location(
                source=source,
                interchange=(x12.get("interchange") or {}).get("control_number"),
                group=(x12.get("group") or {}).get("control_number"),
                transaction=(x12.get("transaction") or {}).get("control_number"),
            )
            what = f"map {map_name}" if map_name else f"transaction set {entry.get('transaction') or '?'} with no map"
            raise ProfileError(f"profile {self.name} applies to {', '.join(self.maps)}, not to {what}", where)
        model = entry["model"]
        env = entry.get("x12") or {}
        found: list[tuple[tuple, dict, dict, dict]] = []
        for rec in self.records:
            found.extend(_matches(rec, model, env))
        found.sort(key=lambda m: m[0])
        seen: set[int] = set()
        for _, item, parent, scopes in found:
            if id(item) in seen:  # two sources reaching one item still give one record
                continue
            seen.add(id(item))
            ctx = _Ctx(item, parent, model, scopes, env)
            yield {f.name: _scalar(_first(_eval(f.expr, ctx))) for f in self.fields}


# ----------------------------------------------------------------------------
# parsing
# ----------------------------------------------------------------------------
@cache
def _lark() -> Lark:
    text = (maps_dir() / "x12p.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


def _unquote(tok: Token | str) -> str:
    s = str(tok)[1:-1]
    return s.replace('\\"', '"').replace("\\\\", "\\")


@v_args(meta=True)
class _Compile(Transformer):
    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def _err(self, message: str, meta) -> ProfileError:
        return ProfileError(message, Location(source=f"{self.file}:{meta.line}"))

    # header
    def profile_decl(self, meta, items):
        return ("profile", str(items[0]), _unquote(items[1]) if len(items) > 1 else None, meta.line)

    def maps_decl(self, meta, items):
        return ("maps", tuple(str(i) for i in items), meta.line)

    # records
    def scope_name(self, meta, items):
        return ("scope", str(items[0]))

    def filter(self, meta, items):
        return ("filter", items[0] if items else None)

    def position(self, meta, items):
        return ("filter", Cond("position", values=(str(items[0]),)))

    def sstep(self, meta, items):
        names = tuple(str(i) for i in items if isinstance(i, Token))
        filt = scope = None
        for extra in items[len(names):]:
            if extra[0] == "filter":
                filt = extra[1]
            else:
                scope = extra[1]
        return SourceStep(names, filt, scope)

    def source(self, meta, items):
        return (tuple(items), self._text(meta))

    def record(self, meta, items):
        steps, text = items[0]
        names = [s.scope for s in steps if s.scope]
        if len(names) != len(set(names)):
            raise self._err("a scope name is given twice in one record source", meta)
        return Record(steps, items[1] if len(items) > 1 else None, meta.line, text)

    # paths
    def step(self, meta, items):
        return Step(str(items[0]), items[1][1] if len(items) > 1 else None)

    def steps(self, meta, items):
        return tuple(items)

    def _text(self, meta) -> str:
        return self._source[meta.start_pos:meta.end_pos] if hasattr(self, "_source") else ""

    def root_path(self, meta, items):
        return PathRef("root", items[0], None, self._text(meta))

    def scope_path(self, meta, items):
        return PathRef("scope", items[1] if len(items) > 1 else (), str(items[0]), self._text(meta))

    def parent_path(self, meta, items):
        return PathRef("parent", items[0], None, self._text(meta))

    def item_path(self, meta, items):
        return PathRef("item", items[0], None, self._text(meta))

    # conditions
    def value(self, meta, items):
        tok = items[0]
        return _unquote(tok) if tok.type == "STRING" else str(tok)

    def cond_present(self, meta, items):
        return Cond("present", items[0])

    def cond_eq(self, meta, items):
        return Cond("eq", items[0], tuple(items[1:]))

    def cond_ne(self, meta, items):
        return Cond("ne", items[0], tuple(items[1:]))

    def cond_contains(self, meta, items):
        return Cond("contains", items[0], tuple(v.casefold() for v in items[1:]))

    def cond_not(self, meta, items):
        return Cond("not", parts=(items[0],))

    def cond_and(self, meta, items):
        return items[0] if len(items) == 1 else Cond("and", parts=tuple(items))

    def cond_or(self, meta, items):
        return items[0] if len(items) == 1 else Cond("or", parts=tuple(items))

    # expressions
    def const_string(self, meta, items):
        return Const(_unquote(items[0]))

    def const_number(self, meta, items):
        text = str(items[0])
        return Const(float(text) if "." in text else int(text))

    def const_null(self, meta, items):
        return Const(None)

    def const_true(self, meta, items):
        return Const(True)

    def const_false(self, meta, items):
        return Const(False)

    def alternatives(self, meta, items):
        return items[0] if len(items) == 1 else Alternatives(tuple(items))

    def call(self, meta, items):
        name = str(items[0])
        args = tuple(a for a in items[1:] if a is not None)
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise self._err(f"unknown function {name}() (known: {', '.join(sorted(FUNCTIONS))})", meta)
        table = None
        if spec.table:
            first = args[0] if args else None
            if not (isinstance(first, PathRef) and first.anchor == "item" and len(first.steps) == 1 and first.steps[0].filter is None):
                raise self._err(f"{name}() takes a code table name first, e.g. {name}(gender, …)", meta)
            try:
                table = load_table(first.steps[0].name)
            except CodeTableError as exc:
                raise self._err(f"{name}(): {exc.message}", meta) from None
            args = args[1:]
        lo, hi = spec.arity
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}" if hi < 99 else f"at least {lo}"
            raise self._err(f"{name}() takes {want} argument(s){' after the table' if spec.table else ''}, got {len(args)}", meta)
        for k in spec.constant:
            if k < len(args) and not isinstance(args[k], Const):
                raise self._err(f"argument {k + 1 + spec.table} of {name}() must be a constant", meta)
        if name == "index" and not (isinstance(args[0], PathRef) and args[0].anchor == "scope" and not args[0].steps):
            raise self._err("index() takes a scope, e.g. index(@line)", meta)
        return Call(name, args, table)

    def if_expr(self, meta, items):
        return IfExpr(items[0], items[1], items[2] if len(items) > 2 else None)

    def field(self, meta, items):
        name = _unquote(items[0]) if items[0].type == "STRING" else str(items[0])
        return OutField(name, items[1], meta.line)

    def start(self, meta, items):
        return list(items)


def parse_profile(text: str, file: str) -> Profile:
    """Compile profile text; errors name ``file:line``. Paths are not checked here (see :func:`check_profile`)."""
    if not text.endswith("\n"):
        text += "\n"
    compiler = _Compile(file)
    compiler._source = text
    items = parse_and_transform(_lark(), compiler, text, str(file), ProfileError)
    name = title = None
    maps: tuple[str, ...] = ()
    records: list[Record] = []
    fields: list[OutField] = []
    for it in items:
        if isinstance(it, tuple) and it[0] == "profile":
            name, title = it[1], it[2]
        elif isinstance(it, tuple) and it[0] == "maps":
            maps = it[1]
        elif isinstance(it, Record):
            records.append(it)
        elif isinstance(it, OutField):
            if any(f.name == it.name for f in fields):
                raise ProfileError(f"field {it.name} is defined twice", Location(source=f"{file}:{it.line}"))
            fields.append(it)
    where = Location(source=f"{file}:1")
    if name is None:
        raise ProfileError("a profile starts with `profile NAME`", where)
    if not maps:
        raise ProfileError("a profile names the maps it applies to: `maps 271`", where)
    if not records:
        raise ProfileError("a profile needs at least one `record` source", where)
    if not fields:
        raise ProfileError("a profile needs at least one field", where)
    return Profile(name, title, maps, tuple(records), tuple(fields), file)


# ----------------------------------------------------------------------------
# checking against the models' JSON Schemas
# ----------------------------------------------------------------------------
# The envelope a model document entry carries under "x12" (x12engine.convert._envelope),
# plus the map's `meta` fields under "transaction".
_ENVELOPE = {
    "interchange": ("sender_qualifier", "sender_id", "receiver_qualifier", "receiver_id", "date", "time",
                    "usage", "control_number"),
    "group": ("functional_group", "sender_code", "receiver_code", "date", "time", "control_number", "version"),
    "transaction": ("set_id", "control_number", "guide"),
}


def _envelope_schema(map_name: str) -> dict:
    from .mapcatalog import load_map
    from .maplang import Binding, Block

    meta: list[str] = []
    for stmt in load_map(map_name).map.body:
        if isinstance(stmt, Block) and stmt.kind == "meta":
            meta += [t for b in stmt.body if isinstance(b, Binding) for t in b.targets]

    def obj(names: Iterable[str]) -> dict:
        return {"type": "object", "properties": {n: {"type": "string"} for n in names}}

    return {"type": "object", "properties": {
        "interchange": obj(_ENVELOPE["interchange"]), "group": obj(_ENVELOPE["group"]),
        "transaction": obj(_ENVELOPE["transaction"] + tuple(meta)),
    }}


class _Schema:
    """Path resolution over one JSON Schema: ``$ref``/``anyOf`` expanded, arrays stepped through."""

    def __init__(self, root: dict):
        self.root = root

    def expand(self, node: dict) -> list[dict]:
        out: list[dict] = []
        stack = [node]
        seen = 0
        while stack and seen < 10_000:
            seen += 1
            n = stack.pop()
            if "$ref" in n:
                target: Any = self.root
                for part in n["$ref"].lstrip("#/").split("/"):
                    target = target.get(part, {})
                stack.append(target)
            elif any(k in n for k in ("anyOf", "oneOf", "allOf")):
                for k in ("anyOf", "oneOf", "allOf"):
                    stack.extend(n.get(k, ()))
            elif n.get("type") == "array" or "items" in n:
                stack.append(n.get("items", {}))
            else:
                out.append(n)
        return out

    def child(self, nodes: list[dict], name: str) -> list[dict]:
        out: list[dict] = []
        for n in nodes:
            props = n.get("properties") or {}
            if name in props:
                out.extend(self.expand(props[name]))
        return out


def _is_object_only(nodes: list[dict]) -> bool:
    nodes = [n for n in nodes if n.get("type") != "null"]
    return bool(nodes) and all("properties" in n for n in nodes)


@dataclass(slots=True)
class _SchemaCtx:
    schema: _Schema
    item: list[dict]
    parent: list[dict]
    root: list[dict]
    scopes: dict[str, list[dict]]
    env: list[dict]


def _source_ctx(schema: _Schema, env: _Schema, rec: Record, problems: list[str]) -> _SchemaCtx | None:
    """The schema context of a record source's items (None when the source is not in this model)."""
    nodes = schema.expand(schema.root)
    root = nodes
    parent = nodes
    scopes: dict[str, list[dict]] = {}
    env_nodes = env.expand(env.root)
    for st in rec.steps:
        parent = nodes
        nodes = [n for name in st.names for n in schema.child(nodes, name)]
        if not nodes:
            return None
        if st.scope:
            scopes[st.scope] = nodes
        if st.filter is not None:
            _check_cond(st.filter, _SchemaCtx(schema, nodes, parent, root, dict(scopes), env_nodes), problems)
    ctx = _SchemaCtx(schema, nodes, parent, root, scopes, env_nodes)
    if rec.where is not None:
        _check_cond(rec.where, ctx, problems)
    return ctx


def _resolve(path: PathRef, ctx: _SchemaCtx, problems: list[str]) -> list[dict] | None:
    """Schema nodes the path reaches (None: its anchor does not exist in this context)."""
    if path.anchor == "item":
        nodes = ctx.item
    elif path.anchor == "parent":
        nodes = ctx.parent
    elif path.anchor == "root":
        nodes = ctx.root
    elif path.scope == "x12":
        nodes = ctx.env
        sch = _Schema(ctx.env[0]) if ctx.env else ctx.schema
        for st in path.steps:
            nodes = sch.child(nodes, st.name)
        return nodes
    else:
        if path.scope not in ctx.scopes:
            return None
        nodes = ctx.scopes[path.scope]
    for st in path.steps:
        nodes = ctx.schema.child(nodes, st.name)
        if not nodes:
            return []
        if st.filter is not None:
            _check_cond(st.filter, _SchemaCtx(ctx.schema, nodes, ctx.parent, ctx.root, ctx.scopes, ctx.env), problems)
    return nodes


def _check_cond(cond: Cond, ctx: _SchemaCtx, problems: list[str]) -> None:
    if cond.path is not None:
        got = _resolve(cond.path, ctx, problems)
        if not got:
            problems.append(cond.path.text)
    for p in cond.parts:
        _check_cond(p, ctx, problems)


def _paths_of(expr: Any) -> Iterator[PathRef]:
    if isinstance(expr, PathRef):
        yield expr
    elif isinstance(expr, Alternatives):
        for o in expr.options:
            yield from _paths_of(o)
    elif isinstance(expr, Call):
        for a in expr.args:
            yield from _paths_of(a)
    elif isinstance(expr, IfExpr):
        yield from _cond_paths(expr.cond)
        yield from _paths_of(expr.then)
        yield from _paths_of(expr.otherwise)


def _cond_paths(cond: Cond) -> Iterator[PathRef]:
    if cond.path is not None:
        yield cond.path
    for p in cond.parts:
        yield from _cond_paths(p)


_OBJECT_OK = frozenset({"amount", "address", "name", "index", "code", "text", "present"})


def _bare_paths(expr: Any) -> Iterator[PathRef]:
    """Paths whose value becomes the output directly (not through a function that takes objects)."""
    if isinstance(expr, PathRef):
        yield expr
    elif isinstance(expr, Alternatives):
        for o in expr.options:
            yield from _bare_paths(o)
    elif isinstance(expr, Call) and expr.name not in _OBJECT_OK:
        for a in expr.args:
            yield from _bare_paths(a)
    elif isinstance(expr, IfExpr):
        yield from _bare_paths(expr.then)
        yield from _bare_paths(expr.otherwise)


def check_profile(profile: Profile) -> None:
    """Every record source and path must exist in the JSON Schema of a map the profile names."""
    from .mapcatalog import map_names
    from .models import schema_for

    known = map_names()
    schemas: dict[str, tuple[_Schema, _Schema]] = {}
    for m in profile.maps:
        if m not in known:
            raise ProfileError(f"maps: no map named {m} (maps: {', '.join(known)})", Location(source=f"{profile.file}:1"))
        schemas[m] = (_Schema(schema_for(m)), _Schema(_envelope_schema(m)))
    contexts: list[_SchemaCtx] = []
    for rec in profile.records:
        here: list[_SchemaCtx] = []
        bad: list[list[str]] = []
        for m in profile.maps:
            probs: list[str] = []
            c = _source_ctx(*schemas[m], rec, probs)
            if c is not None:
                here.append(c)
                bad.append(probs)
        if not here:
            raise ProfileError(f"record source {rec.text} is not in the model of {', '.join(profile.maps)}",
                               Location(source=f"{profile.file}:{rec.line}"))
        if all(bad):  # a condition path no applicable model has
            raise ProfileError(f"record source {rec.text}: path {bad[0][0]} is not in the model of {', '.join(profile.maps)}",
                               Location(source=f"{profile.file}:{rec.line}"))
        contexts.extend(here)
    scopes = {s for c in contexts for s in c.scopes} | {"x12"}
    for f in profile.fields:
        where = Location(source=f"{profile.file}:{f.line}")
        for path in _paths_of(f.expr):
            if path.anchor == "scope" and path.scope not in scopes:
                raise ProfileError(f"field {f.name}: unknown scope @{path.scope} (record sources name: "
                                   f"{', '.join(sorted(scopes)) or 'none'})", where)
            ok = False
            for c in contexts:
                probs: list[str] = []
                got = _resolve(path, c, probs)
                if got and not probs:
                    ok = True
                    break
            if not ok:
                raise ProfileError(f"field {f.name}: path {path.text} is not in the model of {', '.join(profile.maps)}", where)
        for path in _bare_paths(f.expr):
            reach = [n for c in contexts for n in (_resolve(path, c, []) or [])]
            if _is_object_only(reach):
                raise ProfileError(f"field {f.name}: {path.text} is an object; name one of its fields "
                                   "or format it (amount, address, name)", where)


# ----------------------------------------------------------------------------
# evaluation
# ----------------------------------------------------------------------------
@dataclass(slots=True)
class _Ctx:
    item: Any
    parent: Any
    root: Any
    scopes: dict[str, tuple[Any, int | None]]
    env: Any


def _matches(rec: Record, model: dict, env: dict) -> Iterator[tuple[tuple, dict, dict, dict]]:
    """(document-order key, item, enclosing object, scopes) for every item the source reaches."""

    def walk(value: Any, i: int, key: tuple, scopes: dict) -> Iterator[tuple[tuple, dict, dict, dict]]:
        st = rec.steps[i]
        if not isinstance(value, dict):
            return
        keys = list(value)
        for name in st.names:
            if name not in value:
                continue
            pos = keys.index(name)
            child = value[name]
            items = list(enumerate(child)) if isinstance(child, list) else [(None, child)]
            for idx, it in items:
                if not isinstance(it, dict):
                    continue
                here = dict(scopes)
                if st.scope:
                    here[st.scope] = (it, idx)
                if st.filter is not None and st.filter.op == "position":
                    if (0 if idx is None else idx) + 1 != int(st.filter.values[0]):
                        continue
                elif st.filter is not None and not _holds(st.filter, _Ctx(it, value, model, here, env)):
                    continue
                k = key + (pos, -1 if idx is None else idx)
                if i + 1 == len(rec.steps):
                    if rec.where is None or _holds(rec.where, _Ctx(it, value, model, here, env)):
                        yield k, it, value, here
                else:
                    yield from walk(it, i + 1, k, here)

    yield from walk(model, 0, (), {})


def _walk_path(path: PathRef, ctx: _Ctx) -> list[Any]:
    if path.anchor == "item":
        start = ctx.item
    elif path.anchor == "parent":
        start = ctx.parent
    elif path.anchor == "root":
        start = ctx.root
    elif path.scope == "x12":
        start = ctx.env
    else:
        bound = ctx.scopes.get(path.scope)
        if bound is None:
            return []
        start = bound[0]
    values = [start]
    for st in path.steps:
        nxt: list[Any] = []
        for v in values:
            if isinstance(v, dict) and st.name in v:
                got = v[st.name]
                nxt.extend(got if isinstance(got, list) else [got])
        if st.filter is not None and st.filter.op == "position":
            n = int(st.filter.values[0])
            nxt = nxt[n - 1:n]
        elif st.filter is not None:
            nxt = [v for v in nxt if _holds(st.filter, _Ctx(v, ctx.parent, ctx.root, ctx.scopes, ctx.env))]
        values = nxt
    out: list[Any] = []
    for v in values:
        out.extend(v if isinstance(v, list) else [v])
    return [v for v in out if _present(v)]


def _present(v: Any) -> bool:
    return v is not None and v != "" and v != [] and v != {}


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return str(v.get("code") or v.get("amount") or "")
    return str(v)


def _equal(v: Any, lit: str) -> bool:
    t = _text(v)
    if t == lit:
        return True
    try:
        return Decimal(t) == Decimal(lit)
    except (InvalidOperation, ValueError):
        return False


def _holds(cond: Cond, ctx: _Ctx) -> bool:
    op = cond.op
    if op == "and":
        return all(_holds(p, ctx) for p in cond.parts)
    if op == "or":
        return any(_holds(p, ctx) for p in cond.parts)
    if op == "not":
        return not _holds(cond.parts[0], ctx)
    values = _walk_path(cond.path, ctx)  # type: ignore[arg-type]
    if op == "present":
        return bool(values)
    if op == "eq":
        return any(_equal(v, lit) for v in values for lit in cond.values)
    if op == "ne":
        return not any(_equal(v, lit) for v in values for lit in cond.values)
    return any(lit in _text(v).casefold() for v in values for lit in cond.values)  # contains


def _eval(expr: Any, ctx: _Ctx) -> list[Any]:
    if isinstance(expr, Const):
        return [] if expr.value is None else [expr.value]
    if isinstance(expr, PathRef):
        return _walk_path(expr, ctx)
    if isinstance(expr, Alternatives):
        for o in expr.options:
            got = _eval(o, ctx)
            if got:
                return got
        return []
    if isinstance(expr, IfExpr):
        return _eval(expr.then if _holds(expr.cond, ctx) else expr.otherwise, ctx)
    if expr is None:
        return []
    return FUNCTIONS[expr.name].fn(expr, ctx)


def _first(values: list[Any]) -> Any:
    return values[0] if values else None


def _scalar(v: Any) -> Any:
    """Flat output: unknown-code objects give their code, amount objects their amount."""
    if isinstance(v, dict):
        if isinstance(v.get("code"), str):
            return v["code"]
        if "amount" in v:
            return _decimal_text(v["amount"])
        return None
    return v if isinstance(v, (str, int, float, bool)) else None


# ---- functions ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Func:
    fn: Callable[[Call, _Ctx], list[Any]]
    arity: tuple[int, int]
    table: bool = False
    constant: tuple[int, ...] = ()


def _decimal_text(v: Any) -> str | None:
    """An amount as plain decimal text, no exponent and no trailing zeros: "12345678.90" → "12345678.9"."""
    if isinstance(v, bool):
        return None
    try:
        d = Decimal(str(v).strip())
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _code_of(table: CodeTable, v: Any) -> str | None:
    if isinstance(v, dict):
        v = v.get("code")
        return v if isinstance(v, str) and v else None
    if isinstance(v, (list, bool)) or v is None:
        return None
    v = str(v)
    return table.code_for(v) or v


def _f_code(call: Call, ctx: _Ctx) -> list[Any]:
    return [c for v in _eval(call.args[0], ctx) if (c := _code_of(call.table, v))]  # type: ignore[arg-type]


def _f_text(call: Call, ctx: _Ctx) -> list[Any]:
    out = []
    for v in _eval(call.args[0], ctx):
        code = _code_of(call.table, v)  # type: ignore[arg-type]
        d = call.table.describe(code) if code else None  # type: ignore[union-attr]
        if d:
            out.append(d)
    return out


def _f_amount(call: Call, ctx: _Ctx) -> list[Any]:
    out = []
    for v in _eval(call.args[0], ctx):
        t = _decimal_text(v.get("amount") if isinstance(v, dict) else v)
        if t is not None:
            out.append(t)
    return out


def _f_percent(call: Call, ctx: _Ctx) -> list[Any]:
    out = []
    for v in _eval(call.args[0], ctx):
        t = _decimal_text(v)
        if t is not None:
            out.append(_decimal_text(Decimal(t) * 100))
    return out


def _f_date(call: Call, ctx: _Ctx) -> list[Any]:
    fmt = call.args[1].value if len(call.args) > 1 else "%Y-%m-%d"
    out = []
    for v in _eval(call.args[0], ctx):
        s = _text(v)
        for pattern in ("%Y-%m-%d", "%Y%m%d"):
            try:
                out.append(_dt.datetime.strptime(s, pattern).date().strftime(str(fmt)))
                break
            except ValueError:
                continue
    return out


def _f_join(call: Call, ctx: _Ctx) -> list[Any]:
    sep = str(call.args[0].value)
    parts = [_text(_scalar(v) if isinstance(v, dict) else v) for a in call.args[1:] for v in _eval(a, ctx)]
    parts = [p for p in parts if p]
    return [sep.join(parts)] if parts else []


def _f_strip(call: Call, ctx: _Ctx) -> list[Any]:
    chars = str(call.args[1].value) if len(call.args) > 1 else None
    return [s for v in _eval(call.args[0], ctx) if (s := _text(v).strip(chars) if chars else _text(v).strip())]


def _f_nth(call: Call, ctx: _Ctx) -> list[Any]:
    n = call.args[0].value
    got = _eval(call.args[1], ctx)
    return [got[n - 1]] if isinstance(n, int) and 0 < n <= len(got) else []


def _f_index(call: Call, ctx: _Ctx) -> list[Any]:
    bound = ctx.scopes.get(call.args[0].scope)
    return [bound[1] + 1] if bound is not None and bound[1] is not None else []


def _words(*values: Any) -> list[str]:
    """Text parts of an object's fields (scalars only: a malformed model never breaks a record)."""
    out = []
    for v in values:
        for x in v if isinstance(v, list) else [v]:
            if isinstance(x, (str, int, float)) and not isinstance(x, bool) and str(x):
                out.append(str(x))
    return out


def _f_address(call: Call, ctx: _Ctx) -> list[Any]:
    out = []
    for v in _eval(call.args[0], ctx):
        if not isinstance(v, dict):
            continue
        city_state = ", ".join(_words(v.get("city"), v.get("state")))
        last = " ".join(_words(city_state, v.get("zipcode")))
        text = ", ".join(_words(v.get("address_lines"), last))
        if text:
            out.append(text)
    return out


def _f_name(call: Call, ctx: _Ctx) -> list[Any]:
    out = []
    for v in _eval(call.args[0], ctx):
        if not isinstance(v, dict):
            continue
        org = _words(v.get("organization_name")) or _words(v.get("name"))
        text = org[0] if org else " ".join(_words(*(v.get(k) for k in ("first_name", "middle_name", "last_name", "suffix"))))
        if text:
            out.append(text)
    return out


def _f_present(call: Call, ctx: _Ctx) -> list[Any]:
    return [any(_eval(a, ctx) for a in call.args)]


def _f_match(call: Call, ctx: _Ctx) -> list[Any]:
    lits = [str(a.value) for a in call.args[1:]]
    return [any(_equal(v, lit) for v in _eval(call.args[0], ctx) for lit in lits)]


FUNCTIONS: dict[str, _Func] = {
    "code": _Func(_f_code, (1, 1), table=True),
    "text": _Func(_f_text, (1, 1), table=True),
    "amount": _Func(_f_amount, (1, 1)),
    "percent": _Func(_f_percent, (1, 1)),
    "date": _Func(_f_date, (1, 2), constant=(1,)),
    "join": _Func(_f_join, (2, 99), constant=(0,)),
    "strip": _Func(_f_strip, (1, 2), constant=(1,)),
    "nth": _Func(_f_nth, (2, 2), constant=(0,)),
    "index": _Func(_f_index, (1, 1)),
    "address": _Func(_f_address, (1, 1)),
    "name": _Func(_f_name, (1, 1)),
    "present": _Func(_f_present, (1, 99)),
    "match": _Func(_f_match, (2, 99), constant=tuple(range(1, 99))),
}


# ----------------------------------------------------------------------------
# API
# ----------------------------------------------------------------------------
def profiles_dir() -> Path:
    return maps_dir() / "profiles"


def profile_names() -> tuple[str, ...]:
    """The bundled profiles (``maps/profiles/NAME.x12p``)."""
    d = profiles_dir()
    return tuple(sorted(p.stem for p in d.glob("*.x12p"))) if d.is_dir() else ()


def load_profile_file(path: str | Path) -> Profile:
    """Compile and check one profile file (not cached: for authoring and tests)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read profile: {exc.strerror}", Location(source=str(p))) from None
    prof = parse_profile(text, str(p))
    check_profile(prof)
    return prof


@cache
def load_profile(name: str) -> Profile:
    """A bundled profile by name (or a path to a ``.x12p`` file), compiled and checked once."""
    if name.endswith(".x12p") or "/" in name:
        return load_profile_file(name)
    path = profiles_dir() / f"{name}.x12p"
    if not path.is_file():
        raise ProfileError(f"no profile named {name!r} (profiles: {', '.join(profile_names()) or 'none'})",
                           Location(source="profile"))
    prof = load_profile_file(path)
    if prof.name != name:
        raise ProfileError(f"the file declares profile {prof.name}, its file name says {name}", Location(source=f"{path}:1"))
    return prof


def _entries(source: Any, name: str | None) -> Iterator[dict]:
    from .convert import MODEL_FORMAT, iter_models

    if isinstance(source, dict) and source.get("format") == MODEL_FORMAT:
        yield from source.get("transactions", [])
    elif isinstance(source, dict) and "model" in source and "map" in source:
        yield source
    elif isinstance(source, list) and all(isinstance(e, dict) for e in source):
        yield from source
    else:
        yield from iter_models(source, name=name)


def iter_profile(source: Any, profile: str | Profile, *, name: str | None = None) -> Iterator[dict]:
    """Stream a profile's records from X12 (path, bytes, str, file) or a ``to_models`` document."""
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    src = name or (source.get("source") if isinstance(source, dict) else None) or (str(source) if isinstance(source, Path) else None)
    for entry in _entries(source, name):
        yield from prof.project(entry, src)


PROFILE_FORMAT = "x12engine-profile/1"


def profile_document(profile: str, source: str | None, records: list[dict], findings: list[dict]) -> dict:
    """The JSON document of one file's profile records (``x12 parse`` and ``x12 convert`` write the same)."""
    return {"format": PROFILE_FORMAT, "profile": profile, "source": source, "records": records, "findings": findings}


def to_profile(source: Any, profile: str | Profile, *, name: str | None = None) -> list[dict]:
    """All records of a profile for X12 or a model document; see :func:`iter_profile`."""
    return list(iter_profile(source, profile, name=name))
