#!/usr/bin/env python3
"""Translate pyx12's 005010 maps into x12engine guide files (grammars/*.x12g).

    python tools/import_pyx12.py            # regenerate every guide listed in GUIDES
    python tools/import_pyx12.py 835        # only the named ones

pyx12 (installed from PyPI) ships one XML map per implementation guide. Each map
is a tree of loops, segments, elements and composites with the guide's usage,
repeat counts and allowed codes. This script reads a map and writes the part
between ST and SE in the grammar language of grammars/x12g.lark:

* pyx12 wraps the transaction set in ISA_LOOP / GS_LOOP / ST_LOOP and splits it
  into HEADER / DETAIL / FOOTER wrapper loops. The envelope is dropped and the
  wrappers are flattened, so the guide's top level is ST, the header segments,
  the table loops, SE.
* Loop ids (TR3 ids such as 2000A, 2010AA), nesting, usage and repeat are kept.
  A loop pyx12 repeats in two places (837 2300 under 2000B and 2000C) is
  written out twice, since its usage differs between the two places.
* Every element and component keeps pyx12's usage (R/S/N), name and inline
  codes; an external code table in pyx12 becomes ``list:NAME`` (EXTERNAL_LISTS).
  A few large code sets pyx12 leaves open are named too (ENRICH_LISTS, PRV03
  taxonomy, STC C043 status codes). ST03 lists the guide id and its aliases
  (its usage stays pyx12's: the 835 guide does not use ST03).
* ``key`` clauses: pyx12 tells two segment positions with the same id apart by
  the value of one "identifying" element (map_if segment matching): element 01
  when it is an ID element with codes, else component 01 of a composite at 01
  when it has codes, and HL03 for HL. A position gets a key on that element,
  with every code the guide allows there, when its segment id occurs more than
  once among the positions the parser weighs together -- the segments of one
  loop plus the first segments of that loop's child loops -- and always for HL.
"""
from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from x12engine.grammar import load_dictionary  # noqa: E402


@dataclass
class Guide:
    out: str
    map_file: str
    st01: str
    title: str
    guide: str
    aliases: tuple[str, ...]
    notes: tuple[str, ...] = ()
    unit: str | None = None  # the loop a large set streams by (written as the `unit` header)


GUIDES: dict[str, Guide] = {
    "837p": Guide(
        "837p.x12g", "837.5010.X222.A1.xml", "837", "Health Care Claim: Professional",
        "005010X222A1", ("005010X222", "005010X222A2"), unit="2300",
    ),
    "837i": Guide(
        "837i.x12g", "837Q3.I.5010.X223.A1.v2.xml", "837", "Health Care Claim: Institutional",
        "005010X223A2", ("005010X223", "005010X223A1", "005010X223A3"),
        (
            "pyx12 ships two 837I maps named X223A1: 837Q3.I.5010.X223.A1.xml and the",
            "attribute-style 837Q3.I.5010.X223.A1.v2.xml, titled X223A2. They carry the same",
            "loops, segments and codes except that v2 has the A2 errata (CL101 Admission Type",
            "Code required; 2300 under 2000B required), so v2 is used. A3 differs from A2 at",
            "errata level only; ST03 accepts every alias.",
        ),
        unit="2300",
    ),
    "835": Guide(
        "835.x12g", "835.5010.X221.A1.xml", "835", "Health Care Claim Payment/Advice",
        "005010X221A1", ("005010X221",), unit="2100",
    ),
    "999": Guide(
        "999.x12g", "999.5010X231.A1.xml", "999", "Implementation Acknowledgment",
        "005010X231A1", ("005010X231",),
    ),
    "277ca": Guide(
        "277ca.x12g", "277.5010.X214.xml", "277", "Health Care Claim Acknowledgment",
        "005010X214", (),
    ),
}

# pyx12 external code tables -> names of our code lists in maps/codes/
EXTERNAL_LISTS = {
    "pos": "place_of_service",
    "states": "state",
    "country": "country",
    "currency": "currency",
    "remark_code": "rarc",
    "claim_status": "claim_status",
    "claim_status_cat": "claim_status_category",
    "entity_id": "entity_identifier_codes",  # every code the guides use (entity_identifier holds the 271 enum names)
}

# Large code sets pyx12 leaves open (no codes, no external table):
# data element number -> list name, applied only when pyx12 gives no codes.
ENRICH_LISTS = {
    "1034": "carc",  # Claim Adjustment Reason Code (CAS02/05/08/11/14/17)
}

# GS01 functional identifier code each transaction set travels under (the `group` header)
FUNCTIONAL_GROUPS = {"270": "HS", "271": "HB", "276": "HR", "277": "HN", "278": "HI", "835": "HP", "837": "HC", "999": "FA"}

WRAPPERS = {"HEADER", "DETAIL", "FOOTER"}
BARE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")


# ---------------------------------------------------------------------------
# reading a pyx12 map (both the element-style and the attribute-style schema)
# ---------------------------------------------------------------------------
def _get(node: ET.Element, name: str) -> str | None:
    v = node.get(name)
    if v is not None:
        return v
    child = node.find(name)
    return child.text.strip() if child is not None and child.text is not None else None


@dataclass
class Elem:
    ref: str  # NM101, CLM05-01
    data_ele: str
    name: str
    usage: str
    seq: int
    codes: list[str] | None
    external: str | None


@dataclass
class Comp:
    ref: str
    data_ele: str
    name: str
    usage: str
    seq: int
    parts: list[Elem]


@dataclass
class Seg:
    id: str
    name: str
    usage: str
    pos: str
    max_use: str
    items: list  # Elem | Comp
    key: tuple[str, list[str]] | None = None


@dataclass
class Loop:
    id: str
    name: str
    usage: str
    pos: str
    repeat: str
    type: str | None
    children: list = field(default_factory=list)


def _codes(node: ET.Element) -> tuple[list[str] | None, str | None]:
    vc = node.find("valid_codes")
    if vc is None:
        return None, None
    ext = vc.get("external")
    codes = [c.text.strip() for c in vc.findall("code") if c.text and c.text.strip()]
    return (codes or None), ext


def _elem(node: ET.Element, prefix: str, sep: str = "") -> Elem:
    """An element (prefix NM1) or a component (prefix CLM05, sep "-"); the reference
    is rebuilt from the position because pyx12 leaves some xid attributes out."""
    codes, ext = _codes(node)
    seq = int(_get(node, "seq") or node.get("xid")[-2:])
    return Elem(f"{prefix}{sep}{seq:02d}", _get(node, "data_ele") or "", _get(node, "name") or "",
                _get(node, "usage") or "S", seq, codes, ext)


def _read(node: ET.Element):
    if node.tag == "loop":
        loop = Loop(node.get("xid"), _get(node, "name") or "", _get(node, "usage") or "S",
                    _get(node, "pos") or "", _get(node, "repeat") or "1", node.get("type"))
        for child in node:
            if child.tag in ("loop", "segment"):
                loop.children.append(_read(child))
        return loop
    seg_id = node.get("xid")
    items: list = []
    for child in node:
        if child.tag == "element":
            items.append(_elem(child, seg_id))
        elif child.tag == "composite":
            seq = int(_get(child, "seq") or child.get("xid")[-2:])
            ref = f"{seg_id}{seq:02d}"
            parts = [_elem(e, ref, "-") for e in child.findall("element")]
            items.append(Comp(ref, _get(child, "data_ele") or "", _get(child, "name") or "",
                              _get(child, "usage") or "S", seq, parts))
    return Seg(seg_id, _get(node, "name") or "", _get(node, "usage") or "S", _get(node, "pos") or "",
               _get(node, "max_use") or "1", items)


def read_map(path: Path) -> Loop:
    root = ET.parse(path).getroot()

    def find_st(n: ET.Element):
        for child in n:
            if child.tag == "loop":
                if child.get("xid") == "ST_LOOP":
                    return child
                hit = find_st(child)
                if hit is not None:
                    return hit
        return None

    st = find_st(root)
    if st is None:
        raise SystemExit(f"{path.name}: no ST_LOOP")
    return _read(st)


def flatten_wrappers(items: list) -> list:
    out = []
    for item in items:
        if isinstance(item, Loop) and (item.type == "wrapper" or item.id in WRAPPERS):
            out.extend(flatten_wrappers(item.children))
        else:
            out.append(item)
    return out


# ---------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------
def identifying(seg: Seg, dictionary) -> tuple[str, list[str]] | None:
    """The element pyx12 matches a segment position on, with the guide's codes."""
    first = next((i for i in seg.items if i.seq == 1), None)
    if isinstance(first, Elem) and first.codes:
        de = dictionary.elements.get(first.data_ele)
        if de is None or de.type == "ID":
            return first.ref, first.codes
    if isinstance(first, Comp) and first.parts and first.parts[0].seq == 1 and first.parts[0].codes:
        return first.parts[0].ref, first.parts[0].codes
    if seg.id == "HL":
        hl03 = next((i for i in seg.items if isinstance(i, Elem) and i.seq == 3), None)
        if hl03 is not None and hl03.codes:
            return hl03.ref, hl03.codes
    return None


def first_segment(loop: Loop) -> Seg:
    first = loop.children[0]
    while isinstance(first, Loop):
        first = first.children[0]
    return first


def assign_keys(items: list, dictionary, problems: list[str], where: str) -> None:
    entries: list[Seg] = []
    for item in items:
        entries.append(item if isinstance(item, Seg) else first_segment(item))
    counts: dict[str, int] = {}
    for seg in entries:
        counts[seg.id] = counts.get(seg.id, 0) + 1
    for seg in entries:
        if counts[seg.id] > 1 or seg.id == "HL":
            key = identifying(seg, dictionary)
            if key is None:
                if counts[seg.id] > 1:
                    problems.append(f"{where}: {seg.id}@{seg.pos} '{seg.name}' shares its id but has no identifying codes")
            else:
                seg.key = key
    for item in items:
        if isinstance(item, Loop):
            assign_keys(item.children, dictionary, problems, item.id)


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def q(text: str) -> str:
    return '"' + " ".join(text.replace('"', "'").split()) + '"'


def code(c: str) -> str:
    return c if BARE_CODE.match(c) else q(c)


def count(v: str) -> str:
    v = v.strip()
    return ">1" if v.startswith(">") else str(int(v))


def pos(v: str) -> str:
    return "@" + (v.strip() or "0")


def spec_line(e: Elem, indent: str, guide: Guide) -> str:
    parts = [e.ref, e.usage]
    codes = e.codes
    if e.ref == "ST03":  # accept every label this grammar answers to
        codes = [guide.guide, *guide.aliases]
    if codes:
        parts.append("[" + " ".join(code(c) for c in codes) + "]")
    elif e.external:
        name = EXTERNAL_LISTS.get(e.external)
        if name is None:
            raise SystemExit(f"unmapped pyx12 external code table {e.external!r} at {e.ref}")
        parts.append(f"list:{name}")
    elif e.data_ele in ENRICH_LISTS and e.usage != "N":
        parts.append(f"list:{ENRICH_LISTS[e.data_ele]}")
    elif e.ref.startswith("PRV03") and e.usage != "N":
        parts.append("list:taxonomy")
    elif re.match(r"^STC(01|10|11)-0[12]$", e.ref) and e.usage != "N":
        # C043 status category / status code where pyx12 names no table
        parts.append("list:claim_status_category" if e.ref.endswith("-01") else "list:claim_status")
    if e.name:
        parts.append(q(e.name))
    return indent + " ".join(parts)


# Second keys where pyx12's identifying element does not tell two positions apart:
# (grammar file, segment id, segment name) -> (element, codes). 837P 2400 line PWK and
# DME CMN PWK both take PWK01 = CT; PWK02 (transmission codes vs CMN codes) decides.
EXTRA_KEYS = {
    ("837p.x12g", "PWK", "Line Supplemental Information"): ("PWK02", ("AA", "BM", "EL", "EM", "FT", "FX")),
}


def write_seg(seg: Seg, indent: str, guide: Guide, out: list[str]) -> None:
    head = f"{indent}segment {seg.id} {pos(seg.pos)} {seg.usage} {count(seg.max_use)} {q(seg.name)}"
    if seg.key:
        ref, codes = seg.key
        head += f" key {ref}=" + "|".join(code(c) for c in codes)
    extra = EXTRA_KEYS.get((guide.out, seg.id, seg.name))
    if extra:
        head += f" key {extra[0]}=" + "|".join(code(c) for c in extra[1])
    if not seg.items:
        out.append(head)
        return
    out.append(head + " {")
    inner = indent + "    "
    for item in sorted(seg.items, key=lambda i: i.seq):
        if isinstance(item, Elem):
            out.append(spec_line(item, inner, guide))
        else:
            out.append(f"{inner}{item.ref} {item.usage} {q(item.name)}".rstrip())
            for part in sorted(item.parts, key=lambda p: p.seq):
                out.append(spec_line(part, inner + "    ", guide))
    out.append(indent + "}")


# Loop usage pyx12 gets wrong for validation: (grammar file, loop id, enclosing loop id) -> usage.
# 837I 2300 sits under 2000B when the subscriber is the patient and under 2000C
# otherwise (the TR3's note on both loops); pyx12's A2 map makes the 2000B one
# required, which rejects every claim for a dependent. 837P already has S there.
LOOP_USAGE = {("837i.x12g", "2300", "2000B"): "S"}


def write_items(items: list, indent: str, guide: Guide, out: list[str], parent: str = "") -> None:
    for item in items:
        if isinstance(item, Seg):
            write_seg(item, indent, guide, out)
        else:
            usage = LOOP_USAGE.get((guide.out, item.id, parent), item.usage)
            out.append(f"{indent}loop {item.id} {q(item.name)} {usage} {count(item.repeat)} {{")
            write_items(item.children, indent + "    ", guide, out, item.id)
            out.append(indent + "}")


def stats(items: list) -> tuple[int, int]:
    loops = segs = 0
    for item in items:
        if isinstance(item, Seg):
            segs += 1
        else:
            loops += 1
            a, b = stats(item.children)
            loops += a
            segs += b
    return loops, segs


def build(name: str, guide: Guide, map_dir: Path, version: str, dictionary) -> list[str]:
    st_loop = read_map(map_dir / guide.map_file)
    items = flatten_wrappers(st_loop.children)
    if not items or not isinstance(items[0], Seg) or items[0].id != "ST":
        raise SystemExit(f"{guide.map_file}: transaction set does not begin with ST")
    problems: list[str] = []
    assign_keys(items, dictionary, problems, "ST")
    for p in problems:
        print(f"  note: {p}", file=sys.stderr)
    out = [
        f"# ASC X12 {guide.guide} {guide.title} ({guide.st01}).",
        "# GENERATED by tools/import_pyx12.py -- edit that script, then rerun it; do not edit by hand.",
        f"# Source: pyx12 {version}, map {guide.map_file} (ST through SE; envelope dropped,",
        "# HEADER/DETAIL/FOOTER wrappers flattened). Loop ids, nesting, positions, usage,",
        "# repeats, element usage and codes are pyx12's; keys come from the identifying",
        "# element pyx12 matches repeated segment ids on.",
    ]
    out += [f"# {line}" for line in guide.notes]
    out += [
        "",
        f"transaction {guide.st01} {q(guide.title)}",
        f"guide {guide.guide}",
        f"group {FUNCTIONAL_GROUPS[guide.st01]}",
    ]
    if guide.aliases:
        out.append("aliases " + " ".join(guide.aliases))
    if guide.unit:
        out.append(f"unit {guide.unit}")
    out.append(f'source "generated by tools/import_pyx12.py from pyx12 {version} map {guide.map_file}"')
    out.append("")
    write_items(items, "", guide, out)
    loops, segs = stats(items)
    print(f"{guide.out}: {loops} loops, {segs} segment positions, {len(problems)} unkeyable repeats")
    return out


def main(argv: list[str]) -> int:
    import pyx12  # noqa: PLC0415

    map_dir = Path(pyx12.__file__).resolve().parent / "map"
    dictionary = load_dictionary()
    names = argv or list(GUIDES)
    for name in names:
        guide = GUIDES[name]
        lines = build(name, guide, map_dir, pyx12.__version__, dictionary)
        (ROOT / "grammars" / guide.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
