"""X12 ↔ semantic JSON for library users: :func:`to_models`, :func:`iter_models`, :func:`to_x12`.

The model document (format ``x12engine-model/1``) holds one entry per
transaction set: the map used, the envelope values (``x12``), the PokitDok-shaped
``model``, anything the map does not model (``unmapped``), and the findings.
Feeding that document back to :func:`to_x12` reproduces the interchange.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Iterator

from pydantic import ValidationError

from .assemble import EnvelopeSettings, SetBody, assemble
from .errors import BuildError, Finding, Location, X12Error
from .mapbuild import MapBuilder, unused_paths
from .mapcatalog import Compiled, load_map, map_names
from .mapread import Implied, MapReader
from .models import model_for
from .parser import iter_transactions
from .tokenizer import Delimiters
from .tree import Group, Interchange, Transaction

MODEL_FORMAT = "x12engine-model/1"

_implied: dict[int, Implied] = {}


def _implied_for(c: Compiled) -> Implied:
    got = _implied.get(id(c.guide))
    if got is None:
        got = _implied[id(c.guide)] = Implied(c.guide)
    return got


def map_for_transaction(txn: Transaction) -> Compiled | None:
    """The map whose guide read this set (same guide id and grammar name), if any."""
    for name in map_names():
        c = load_map(name)
        if c.map.transaction == txn.set_id and c.guide.guide == txn.guide and c.guide.name == txn.guide_name:
            return c
    return None


def _envelope(inter: Interchange, group: Group, txn: Transaction) -> dict:
    isa = inter.header[0]
    gs = group.header[0]

    def el(els, n):
        return els[n].strip() if n < len(els) else ""

    return {
        "interchange": {
            "sender_qualifier": el(isa, 5), "sender_id": el(isa, 6),
            "receiver_qualifier": el(isa, 7), "receiver_id": el(isa, 8),
            "date": el(isa, 9), "time": el(isa, 10), "usage": el(isa, 15),
            "control_number": el(isa, 13), "delimiters": inter.delimiters.as_dict(),
        },
        "group": {
            "functional_group": el(gs, 1), "sender_code": el(gs, 2), "receiver_code": el(gs, 3),
            "date": el(gs, 4), "time": el(gs, 5), "control_number": el(gs, 6), "version": el(gs, 8),
        },
        "transaction": {"set_id": txn.set_id, "control_number": txn.control_number, "guide": txn.guide},
    }


def transaction_model(inter: Interchange, group: Group, txn: Transaction, source: str | None = None) -> dict:
    """One transaction set → its model entry (``model`` is None when no map reads this guide)."""
    entry: dict[str, Any] = {"transaction": txn.set_id, "guide": txn.guide, "map": None, "x12": _envelope(inter, group, txn)}
    findings = [f.to_dict() for f in txn.findings]
    c = map_for_transaction(txn)
    if c is None:
        entry["model"] = None
        findings.append(Finding(
            "warning", "no_map", f"no semantic map reads {txn.set_id} {txn.guide or ''} yet; use --shape tree for the loop tree",
            Location(source=source, interchange=inter.control_number, group=group.control_number, transaction=txn.control_number),
        ).to_dict())
        entry["findings"] = findings
        return entry
    reader = MapReader(c, inter, group, txn, source)
    model = reader.read()
    unmapped = reader.leftovers(_implied_for(c))
    entry["map"] = c.map.name
    entry["x12"]["transaction"].update(reader.meta)
    entry["model"] = model
    if unmapped:
        entry["unmapped"] = unmapped
    entry["findings"] = findings + [f.to_dict() for f in reader.findings]
    return entry


def iter_models(source, *, name: str | None = None) -> Iterator[dict]:
    """Stream model entries, one per transaction set, in bounded memory."""
    for ctx in iter_transactions(source, name=name):
        yield transaction_model(ctx.interchange, ctx.group, ctx.transaction, name)


def to_models(source, *, name: str | None = None) -> dict:
    """Parse X12 (bytes, str, path or binary file) into a model document."""
    from .parser import Reader

    reader = Reader(source, name=name)
    doc = reader.parse()
    out = {"format": MODEL_FORMAT, "source": name, "transactions": [], "findings": [f.to_dict() for f in doc.findings]}
    for inter, group, txn in doc.transactions():
        out["transactions"].append(transaction_model(inter, group, txn, name))
    return out


# ----------------------------------------------------------------------------
# JSON → X12
# ----------------------------------------------------------------------------
def _leaf_paths(data: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(data, dict):
        for k, v in data.items():
            p = f"{prefix}.{k}" if prefix else k
            out.add(p)
            out |= _leaf_paths(v, p)
    elif isinstance(data, list):
        for v in data:
            out |= _leaf_paths(v, prefix)
    return out


def _map_paths(c: Compiled) -> set[str]:
    schema = model_for(c.map.name).model_json_schema()
    defs = schema.get("$defs", {})
    out: set[str] = set()

    def walk(node: dict, prefix: str, depth: int = 0) -> None:
        if depth > 12:
            return
        if "$ref" in node:
            node = defs.get(node["$ref"].split("/")[-1], {})
        for key in ("anyOf", "allOf", "oneOf"):
            for sub in node.get(key, []):
                walk(sub, prefix, depth + 1)
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            walk(node["items"], prefix, depth + 1)
        for k, v in node.get("properties", {}).items():
            p = f"{prefix}.{k}" if prefix else k
            out.add(p)
            walk(v, p, depth + 1)

    walk(schema, "")
    return out


def detect_map(data: dict, transaction: str | None = None) -> Compiled:
    """The map for a bare JSON object: by name, by ST01 (best field coverage wins), or by coverage alone."""
    names = map_names()
    if transaction in names:
        return load_map(transaction)
    pool = [load_map(n) for n in names if transaction is None or load_map(n).map.transaction == transaction]
    if not pool:
        raise BuildError(f"no map builds transaction {transaction!r} (maps: {', '.join(names)})", Location(source="build"))
    paths = _leaf_paths(data)

    def score(c: Compiled) -> tuple[int, int]:
        known = _map_paths(c)
        return (-len(paths - known), len(paths & known))

    return max(pool, key=score)


def validate_model(c: Compiled, data: dict) -> dict:
    """Check the JSON against the map's model; errors name each field path."""
    model = model_for(c.map.name)
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"]).replace(".[", "[")
            msg = err["msg"]
            if err["type"] == "literal_error":
                msg = "is not one of the allowed enum values"
            problems.append(f"{path}: {msg}")
        raise BuildError("; ".join(dict.fromkeys(problems)), Location(source=f"{c.map.name} model")) from None
    return obj.model_dump(mode="json", exclude_none=True, exclude_unset=True)


def build_set(c: Compiled, data: dict, meta: dict | None = None, *, control_number: str = "0001",
              now: _dt.datetime | None = None, strict: bool = True) -> SetBody:
    clean = validate_model(c, data)
    builder = MapBuilder(c, {"control_number": control_number, "now": now})
    builder.build(clean, meta or {})
    left = unused_paths(clean, builder.used, c.map.platform)
    if left and strict:
        raise BuildError(
            "fields with no place in the X12 for this data: " + ", ".join(left),
            Location(source=f"{c.map.name} model"),
        )
    guide = c.guide.guide
    return SetBody(c.map.transaction, guide, c.map.group, builder.segments(), builder.envelope)


def to_x12(data: Any, *, transaction: str | None = None, settings: EnvelopeSettings | None = None) -> str:
    """Model document, one bare model object, or a list of them → X12 text of one interchange."""
    s = settings or EnvelopeSettings()
    items: list[tuple[Compiled, dict, dict]] = []
    if isinstance(data, dict) and data.get("format") == MODEL_FORMAT:
        for n, entry in enumerate(data.get("transactions", [])):
            if not entry.get("map") or entry.get("model") is None:
                raise BuildError(f"transactions[{n}] has no map/model to build from", Location(source="build"))
            model = dict(entry["model"])
            if entry.get("unmapped"):
                model["unmapped"] = entry["unmapped"]
            meta = (entry.get("x12") or {}).get("transaction") or {}
            items.append((load_map(entry["map"]), model, {k: v for k, v in meta.items() if k not in ("set_id", "control_number", "guide")}))
        first = data.get("transactions", [{}])[0].get("x12", {}) if data.get("transactions") else {}
        _settings_from_envelope(s, first)
    elif isinstance(data, list):
        for obj in data:
            items.append((detect_map(obj, transaction), obj, {}))
    elif isinstance(data, dict):
        items.append((detect_map(data, transaction), data, {}))
    else:
        raise BuildError("expected a JSON object, a list of objects or a model document", Location(source="build"))
    now = s.now or _dt.datetime.now()
    s.now = now
    bodies = []
    for k, (c, model, meta) in enumerate(items):
        try:
            bodies.append(build_set(c, model, meta, control_number=f"{s.transaction_control_number + k:04d}", now=now))
        except X12Error as exc:
            if len(items) > 1:
                raise BuildError(f"item {k}: {exc.message}", exc.location) from None
            raise
    return assemble(bodies, s)


def _settings_from_envelope(s: EnvelopeSettings, x12: dict) -> None:
    """Take sender/receiver/usage/control numbers from a model document unless set explicitly."""
    inter = x12.get("interchange") or {}
    defaults = EnvelopeSettings()
    if s.sender_id == defaults.sender_id and inter.get("sender_id"):
        s.sender_id = inter["sender_id"]
        s.sender_qualifier = inter.get("sender_qualifier") or s.sender_qualifier
    if s.receiver_id is None and inter.get("receiver_id"):
        s.receiver_id = inter["receiver_id"]
        s.receiver_qualifier = inter.get("receiver_qualifier") or s.receiver_qualifier
    group = x12.get("group") or {}
    if s.group_sender is None and group.get("sender_code"):
        s.group_sender = group["sender_code"]
    if s.group_receiver is None and group.get("receiver_code"):
        s.group_receiver = group["receiver_code"]
    if s.delimiters == defaults.delimiters and isinstance(inter.get("delimiters"), dict):
        d = Delimiters.from_dict(inter["delimiters"])
        if d.segment not in ("\n", "\r"):
            s.delimiters = d
    if s.now is None and str(group.get("date", "")).isdigit() and str(group.get("time", "")).isdigit():
        try:
            s.now = _dt.datetime.strptime(group["date"] + group["time"][:4], "%Y%m%d%H%M")
        except ValueError:
            pass
    if s.usage == defaults.usage and inter.get("usage") in ("T", "P", "I"):
        s.usage = inter["usage"]
    for key, src in (("interchange_control_number", inter), ("group_control_number", x12.get("group") or {}), ("transaction_control_number", x12.get("transaction") or {})):
        if getattr(s, key) == getattr(defaults, key):
            v = str(src.get("control_number") or "")
            if v.isdigit() and 0 < int(v) <= 999_999_999:
                setattr(s, key, int(v))
