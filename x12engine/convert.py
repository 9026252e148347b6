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

from . import balance as _balance  # noqa: F401  (registers the 835 checks)
from .assemble import DEFAULTS, EnvelopeSettings, SetBody, assemble
from .errors import BuildError, Finding, Location, X12Error
from .mapbuild import MapBuilder, unused_paths
from .mapcatalog import Compiled, load_map, map_for, map_names, maps_of
from . import mapplan
from .mapplan import ContextMemo
from .checks import run_checks
from .mapread import MapReader
from .models import field_paths, model_for
from .tokenizer import Delimiters
from .tree import Group, Interchange, Transaction
from .gcpause import paused_gc

MODEL_FORMAT = "x12engine-model/1"

def map_for_transaction(txn: Transaction) -> Compiled | None:
    """The map whose guide read this set (same guide id and grammar name), if any."""
    return map_for(txn.set_id, txn.guide, txn.guide_name)


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


def transaction_model(inter: Interchange, group: Group, txn: Transaction, source: str | None = None,
                      whole: bool = True, memo: ContextMemo | None = None) -> dict:
    """One transaction set → its model entry (``model`` is None when no map reads this guide).
    ``whole=False``: the set is one streamed claim of a larger set, so checks of the
    set's totals (an 835's BPR02) are not run on it; ``memo`` carries what the
    stream's earlier claims read from the context they share."""
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
    reader = MapReader(c, inter, group, txn, source, memo)
    with paused_gc():  # the model is a tree of new dicts and lists
        model = reader.read()
        unmapped = reader.leftovers(c.implied)
    entry["map"] = c.map.name
    entry["x12"]["transaction"].update(reader.meta)
    entry["model"] = model
    if unmapped:
        entry["unmapped"] = unmapped
    where = Location(source=source, interchange=inter.control_number, group=group.control_number, transaction=txn.control_number)
    checked = [Finding("warning", i.code, i.describe(), where) for i in run_checks(c.map.name, model)
               if whole or not i.whole_set]
    entry["findings"] = findings + [f.to_dict() for f in reader.findings + checked]
    return entry


def model_entries(reader, *, by_claim: bool = False) -> Iterator[tuple[Any, dict]]:
    """(context, model entry) for every set a :class:`~x12engine.parser.Reader` streams;
    ``by_claim``: 837 claims and 835 claim payments one at a time (each with ``part``).
    The one loop every streaming consumer (iter_models, to_models, x12 convert) uses."""
    memo = ContextMemo() if by_claim and mapplan.COMPILE else None
    for ctx in reader.transactions(keep=False, by_unit=by_claim):
        if memo is not None:
            memo.next_part()
        yield ctx, context_model(ctx, reader.name, memo)


def iter_models(source, *, name: str | None = None, by_claim: bool = False) -> Iterator[dict]:
    """Stream model entries, one per transaction set, in bounded memory.

    ``by_claim``: one entry per 837 claim / 835 claim payment instead (each with
    its billing provider, subscriber, payer ... as a one-claim set, and a
    ``part`` key), so a set of any size streams in memory bounded by one claim."""
    from .parser import Reader

    for _, entry in model_entries(Reader(source, name=name), by_claim=by_claim):
        yield entry


def context_model(ctx, source: str | None = None, memo: ContextMemo | None = None) -> dict:
    """The model entry of a streamed context: a whole set, or one claim of it with ``part``."""
    entry = transaction_model(ctx.interchange, ctx.group, ctx.transaction, source, whole=ctx.part is None,
                              memo=memo if ctx.part is not None else None)
    if ctx.part is not None:
        entry["part"] = {"kind": ctx.part, "index": ctx.index, "loop": ctx.transaction.table.guide.unit}
    return entry


def model_document(source: str | None, entries: list[dict], findings: list) -> dict:
    """The ``x12engine-model/1`` document: its entries and the findings outside them."""
    return {"format": MODEL_FORMAT, "source": source, "transactions": entries,
            "findings": [f if isinstance(f, dict) else f.to_dict() for f in findings]}


def to_models(source, *, name: str | None = None) -> dict:
    """Parse X12 (bytes, str, path or binary file) into a model document (streamed: the
    loop tree of a set is dropped once its model is read)."""
    from .parser import Reader

    reader = Reader(source, name=name)
    entries = [entry for _, entry in model_entries(reader)]
    return model_document(name, entries, reader.outside_sets())


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


def detect_map(data: dict, transaction: str | None = None) -> Compiled:
    """The map for a bare JSON object: by name, by ST01 (best field coverage wins), or by coverage alone."""
    names = map_names()
    if transaction in names:
        return load_map(transaction)
    pool = [load_map(n) for n in (names if transaction is None else maps_of(transaction))]
    if not pool:
        raise BuildError(f"no map builds transaction {transaction!r} (maps: {', '.join(names)})", Location(source="build"))
    paths = _leaf_paths(data)

    def score(c: Compiled) -> tuple[int, int, bool, int]:
        # fewest unknown fields, then most known ones, then a `prefer` map, then the narrower map (a request over its response)
        known = field_paths(c.map.name)
        return (-len(paths - known), len(paths & known), c.map.prefer, -len(known))

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
              now: _dt.datetime | None = None, delimiters: Delimiters | None = None, strict: bool = True,
              check: bool = True, fill: bool = True, whole: bool = True) -> SetBody:
    """``check=False`` skips the map's consistency checks (835 balancing); ``whole=False`` only
    those of a whole set's totals (the model is one streamed claim). ``fill=False`` for models
    read from X12: only the defaults reading elided are written back; `fill`, `$field` and `@value`
    defaults add nothing the X12 did not have."""
    clean = validate_model(c, data)
    if check:
        issues = [i for i in run_checks(c.map.name, clean) if whole or not i.whole_set]
        if issues:
            raise BuildError("; ".join(i.describe() + f" [{i.code}]" for i in issues)
                             + " (to_x12(..., check=False) builds it anyway)", Location(source=f"{c.map.name} model"))
    builder = MapBuilder(c, {"control_number": control_number, "now": now, "delimiters": delimiters or Delimiters(),
                             "fill": fill})
    builder.build(clean, meta or {})
    left = unused_paths(clean, builder.used, c.map.platform)
    if left and strict:
        raise BuildError(
            "fields with no place in the X12 for this data: " + ", ".join(left),
            Location(source=f"{c.map.name} model"),
        )
    guide = c.guide.guide
    st = c.guide.root.children[0]
    st03 = st.specs.get("ST03")
    return SetBody(c.map.transaction, guide, c.guide.group, builder.segments(), builder.envelope,
                   st03=st03 is None or st03.usage != "N")


def to_x12(data: Any, *, transaction: str | None = None, settings: EnvelopeSettings | None = None,
           check: bool = True) -> str:
    """Model document, one bare model object, or a list of them → X12 text of one interchange.

    ``check=False`` skips the map's consistency checks (835 balancing), e.g. to write test
    data that is out of balance on purpose.
    """
    s = settings or EnvelopeSettings()
    items: list[tuple[Compiled, dict, dict]] = []
    parts: set[int] = set()  # items that are one streamed claim of a set (no set-total checks)
    from_x12 = isinstance(data, dict) and data.get("format") == MODEL_FORMAT
    if from_x12:
        for n, entry in enumerate(data.get("transactions", [])):
            if not entry.get("map") or entry.get("model") is None:
                raise BuildError(f"transactions[{n}] has no map/model to build from", Location(source="build"))
            model = dict(entry["model"])
            if entry.get("unmapped"):
                model["unmapped"] = entry["unmapped"]
            meta = (entry.get("x12") or {}).get("transaction") or {}
            if entry.get("part"):
                parts.add(len(items))
            items.append((load_map(entry["map"]), model, {k: v for k, v in meta.items() if k not in ("set_id", "control_number", "guide")}))
        first = data.get("transactions", [{}])[0].get("x12", {}) if data.get("transactions") else {}
        s = s.merged(_settings_from_envelope(first))
    elif isinstance(data, list):
        for obj in data:
            items.append((detect_map(obj, transaction), obj, {}))
    elif isinstance(data, dict):
        items.append((detect_map(data, transaction), data, {}))
    else:
        raise BuildError("expected a JSON object, a list of objects or a model document", Location(source="build"))
    now = s.now or _dt.datetime.now()
    s = s.merged(EnvelopeSettings(now=now))  # one timestamp for BHT and the envelope; the caller's object is not touched
    tcn = s.transaction_control_number or DEFAULTS.transaction_control_number
    bodies = []
    for k, (c, model, meta) in enumerate(items):
        try:
            bodies.append(build_set(c, model, meta, control_number=f"{tcn + k:04d}",
                                    now=now, delimiters=s.delimiters or DEFAULTS.delimiters, check=check,
                                    fill=not from_x12, whole=k not in parts))
        except X12Error as exc:
            if len(items) > 1:
                raise BuildError(f"item {k}: {exc.message}", exc.location) from None
            raise
    return assemble(bodies, s)


def _settings_from_envelope(x12: dict) -> EnvelopeSettings:
    """The envelope a model document records, as fallback settings for rebuilding it."""
    inter = x12.get("interchange") or {}
    group = x12.get("group") or {}
    out = EnvelopeSettings(
        sender_id=inter.get("sender_id") or None, sender_qualifier=inter.get("sender_qualifier") or None,
        receiver_id=inter.get("receiver_id") or None, receiver_qualifier=inter.get("receiver_qualifier") or None,
        group_sender=group.get("sender_code") or None, group_receiver=group.get("receiver_code") or None,
        usage=inter.get("usage") if inter.get("usage") in ("T", "P", "I") else None,
    )
    if isinstance(inter.get("delimiters"), dict):
        d = Delimiters.from_dict(inter["delimiters"])
        if d.segment not in ("\n", "\r"):  # a newline terminator is rebuilt with the default one
            out.delimiters = d
    try:
        out.now = _dt.datetime.strptime(str(group.get("date", "")) + str(group.get("time", ""))[:4], "%Y%m%d%H%M")
    except ValueError:
        pass
    for key, src in (("interchange_control_number", inter), ("group_control_number", group),
                     ("transaction_control_number", x12.get("transaction") or {})):
        v = str(src.get("control_number") or "")
        if v.isdigit() and 0 < int(v) <= 999_999_999:
            setattr(out, key, int(v))
    return out
