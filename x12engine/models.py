"""Pydantic models generated from the maps, so a model can never disagree with its map.

Each map names its model (``model AuthorizationRequest``). The model's fields
are the JSON fields the map reads and writes; a field translated by a code
table accepts exactly that table's enum values (or ``{"code": .., "enum": null}``
for a code the table does not know), so an enum value cannot exist without a
table row, nor a row without an enum value. Unknown fields are rejected, which
is how a misspelt field becomes an error naming its path instead of silently
vanishing.
"""
from __future__ import annotations

import datetime as _dt
import re
from functools import cache
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from .mapcatalog import Compiled, load_map, map_names
from .grammar import LoopNode, SegmentNode
from .derivations import Money
from .maplang import Binding, Block, Derive, DeriveCall, When
from .mapread import element_is_numeric, is_field_code
from .transforms import CodeTransform, MoneyTransform, PeriodTransform, Transform, _Simple


class UnknownCode(BaseModel):
    """A code the code table does not (yet) list: kept as sent, never dropped."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1)
    enum: None = None


class UnmappedSegment(BaseModel):
    """A segment the map does not model, kept with its loop path so a rebuild puts it back."""

    model_config = ConfigDict(extra="allow")
    loop: str = ""
    id: str
    elements: list[Any]


MonetaryAmount = Money  # PokitDok's monetary amount object (one class for every map)


_TIME = r"^\d\d:\d\d(:\d\d(\.\d+)?)?$"


def _scalar_type(fn: Transform) -> Any:
    if isinstance(fn, CodeTransform):
        enums = fn.table.enums()
        if not enums:  # description-only lists: the code itself is the value
            return str
        return Union[Literal[enums], UnknownCode]  # type: ignore[valid-type]
    if isinstance(fn, PeriodTransform):
        return _dt.date
    if isinstance(fn, MoneyTransform):
        return MonetaryAmount
    if isinstance(fn, _Simple):
        return _SIMPLE_TYPES.get(fn.name, str)
    return str


_SIMPLE_TYPES: dict[str, Any] = {
    "date": _dt.date,
    "number": Union[int, float],
    "decimal": Union[int, float],
    "bool": bool,
    "flag": bool,
    "time": Annotated[str, Field(pattern=_TIME)],
}


class _Shape:
    """Field tree collected from a map: name → ("scalar", type) | ("object", _Shape) | ("list", _Shape) | ("values", type)."""

    def __init__(self):
        self.fields: dict[str, tuple[str, Any]] = {}

    def sub(self, dotted: str, kind: str) -> "_Shape":
        parts = dotted.split(".")
        shape = self
        for p in parts[:-1]:
            shape = shape._child(p, "object")
        return shape._child(parts[-1], kind)

    def _child(self, name: str, kind: str) -> "_Shape":
        got = self.fields.get(name)
        if got is None:
            got = (kind, _Shape())
            self.fields[name] = got
        return got[1]

    def scalar(self, dotted: str, typ: Any, kind: str = "scalar") -> None:
        parts = dotted.split(".")
        shape = self
        for p in parts[:-1]:
            shape = shape._child(p, "object")
        shape.fields.setdefault(parts[-1], (kind, typ))


def _codes(loop: LoopNode | None, b: Binding) -> frozenset[str] | None:
    """The guide's code set for an untranslated binding, or None when any text is allowed."""
    if loop is None:
        return None
    out: set[str] = set()
    for src in b.sources:
        ref = src.ref
        if ref.segment is None:
            return None
        nodes = [c for c in loop.children if isinstance(c, SegmentNode) and c.id == ref.segment]
        key = f"{ref.segment}{ref.element:02d}" + (f"-{ref.component:02d}" if ref.component else "")
        for node in nodes:
            # a key element: only the key's codes read back into this loop
            keyed = next((codes for e, c, codes in node.keys if e == ref.element and c == ref.component), None)
            spec = node.specs.get(key)
            codes = keyed if keyed is not None else (spec.codes if spec is not None else None)
            if codes is None:
                return None
            out |= codes
    return frozenset(out) or None


def _annotate(typ: Any, codes: frozenset[str] | None, default) -> Any:
    """Carry the guide's code set and the map's default (omitted on read, written on build) into the schema."""
    extra: dict[str, Any] = {}
    if codes is not None:
        extra["x-x12-codes"] = sorted(codes)
    if default is not None and default.constant:
        key = "x-x12-default" if default.elide else "x-x12-fill"  # fill: written when absent, still read back
        extra[key] = default.first if default.rest is None else [default.first, default.rest]
    return Annotated[typ, Field(json_schema_extra=extra)] if extra else typ


def _child(loop: LoopNode | None, path) -> LoopNode | None:
    for step in path or ():
        loop = next((c for c in loop.children if isinstance(c, LoopNode) and c.id == step.loop), None) if loop else None
    return loop


def _collect(body: list, shape: _Shape, loop: LoopNode | None) -> None:
    for stmt in body:
        if isinstance(stmt, Binding):
            typ = _scalar_type(stmt.fn)
            codes = _codes(loop, stmt) if typ is str and stmt.fn.__class__ is Transform else None
            typ = _annotate(typ, codes, stmt.default)
            if stmt.is_list:
                shape.scalar(stmt.targets[0], typ, "values")
            else:
                for t in stmt.targets:
                    shape.scalar(t, typ)
        elif isinstance(stmt, Derive):
            shape.scalar(stmt.name, bool if stmt.quantifier in ("none", "any") else _scalar_type(stmt.fn))
        elif isinstance(stmt, DeriveCall):
            shape.scalar(stmt.name, stmt.fn.type)
        elif isinstance(stmt, When):
            _collect(stmt.then, shape, loop)
            _collect(stmt.otherwise, shape, loop)
        elif isinstance(stmt, Block):
            inner = _child(loop, stmt.path)
            if stmt.kind == "meta":
                continue
            if stmt.kind == "at":
                _collect(stmt.body, shape, inner)
            elif stmt.kind == "object":
                _collect(stmt.body, shape.sub(stmt.name, "object"), inner)
            else:
                sub = shape.sub(stmt.name, "list")
                _captured(stmt, sub, loop)
                _collect(stmt.body, sub, inner)


def _captured(blk: Block, shape: _Shape, loop: LoopNode | None) -> None:
    """`list X at 2000[LX01=$assigned_number]/2100`: the item field the step condition fills."""
    node = loop
    for step in blk.path or ():
        node = _child(node, (step,))
        for c in step.conds:
            if is_field_code(c.codes[0]) and node is not None:
                shape.scalar(c.codes[0][1:], Union[int, float] if element_is_numeric(node, c.ref) else str)


def _camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[._]", name) if p)


def _make(name: str, shape: _Shape, doc: str | None, extra_fields: dict[str, Any] | None = None) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for fname, (kind, val) in shape.fields.items():
        if kind == "scalar":
            typ = val
        elif kind == "values":
            typ = list[val]
        elif kind == "object":
            typ = _make(name + _camel(fname), val, None)
        else:
            typ = list[_make(name + _camel(fname), val, None)]
        fields[fname] = (Optional[typ], None)
    for fname, spec in (extra_fields or {}).items():
        fields[fname] = spec
    model = create_model(name, __config__=ConfigDict(extra="forbid"), __doc__=doc, **fields)
    return model


@cache
def _shape(map_name: str) -> _Shape:
    c: Compiled = load_map(map_name)
    shape = _Shape()
    _collect(c.map.body, shape, c.guide.root)
    return shape


@cache
def field_paths(map_name: str) -> frozenset[str]:
    """Every dotted JSON path the map's model has (list items share their list's path)."""
    out: set[str] = set(load_map(map_name).map.platform)

    def walk(shape: _Shape, prefix: str) -> None:
        for name, (kind, val) in shape.fields.items():
            path = f"{prefix}.{name}" if prefix else name
            out.add(path)
            if kind in ("object", "list"):
                walk(val, path)

    walk(_shape(map_name), "")
    return frozenset(out)


@cache
def model_for(map_name: str) -> type[BaseModel]:
    """The pydantic model of one map (cached)."""
    c: Compiled = load_map(map_name)
    shape = _shape(map_name)
    extras = {name: (Optional[Any], Field(None, description="platform field: accepted, not carried in X12")) for name in c.map.platform}
    extras["unmapped"] = (Optional[list[UnmappedSegment]], Field(None, description="segments the map does not model, kept verbatim"))
    return _make(c.map.model, shape, c.map.model_title or c.map.title, extras)


def schema_for(map_name: str) -> dict:
    schema = model_for(map_name).model_json_schema()
    c = load_map(map_name)
    schema["$comment"] = f"x12engine map {c.map.name}: transaction {c.map.transaction}, guide {c.map.guide}"
    return schema


def models() -> dict[str, type[BaseModel]]:
    return {name: model_for(name) for name in map_names()}
