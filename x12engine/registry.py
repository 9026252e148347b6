"""Which guide reads a transaction set: ST01 + version (ST03, else GS08) + select rule.

Guide headers are read with a cheap line scan so that choosing a guide does not
load every grammar; the chosen guide is loaded (and its placement table built)
once per process. The envelope file (``grammars/envelope.x12g``) describes no
transaction set and is never offered as a guide.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import GrammarError, Location
from .grammar import Guide, guide_files, is_envelope_file, load_guide_cached, split_ref
from .placement import PlacementTable

_HEADER = re.compile(r"^\s*(transaction|guide|aliases|select|group)\s+(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class GuideEntry:
    path: Path
    transaction: str
    guide: str
    versions: frozenset[str]
    select: tuple[str, int, int | None, frozenset[str]] | None  # (segment, element, component, codes)
    group: str | None = None  # GS01 functional identifier (the grammar's `group` header)

    def load(self) -> Guide:
        return load_guide_cached(self.path)

    def table(self) -> PlacementTable:
        return _table(self.path)


@cache
def _table(path: Path) -> PlacementTable:
    return PlacementTable(load_guide_cached(path))


def _scan(path: Path) -> GuideEntry | None:
    if is_envelope_file(path):
        return None
    fields: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            stripped = line.split("#", 1)[0]
            m = _HEADER.match(stripped)
            if m:
                fields.setdefault(m.group(1), m.group(2))
            elif stripped.strip().startswith(("segment", "loop")):
                break
    if "transaction" not in fields or "guide" not in fields:
        return None
    st01 = fields["transaction"].split()[0]
    guide = fields["guide"].split()[0]
    versions = {guide, *fields.get("aliases", "").split()}
    select = None
    if "select" in fields:
        ref, *codes = fields["select"].split()
        seg, elem, comp = split_ref(ref)
        select = (seg, elem, comp, frozenset(c.strip('"') for c in codes))
    group = fields["group"].split()[0] if "group" in fields else None
    return GuideEntry(path, st01, guide, frozenset(versions), select, group)


def entry_for(path: Path) -> GuideEntry:
    """The entry of one grammar file, registered or not (grammar authors test with it)."""
    if is_envelope_file(path):
        raise GrammarError("not a guide file: this is the envelope grammar (load_envelope reads it)", Location(source=str(path)))
    entry = _scan(path)
    if entry is None:
        raise GrammarError("not a guide file: no 'transaction' and 'guide' lines", Location(source=str(path)))
    return entry


@cache
def functional_group(st01: str) -> str | None:
    """The GS01 code sets ``st01`` travel under, as the grammars of that set declare it
    (None: no grammar reads the set)."""
    return next((e.group for e in entries() if e.transaction == st01 and e.group), None)


@cache
def entries() -> tuple[GuideEntry, ...]:
    return tuple(e for e in (_scan(p) for p in guide_files()) if e is not None)


def normalize_version(version: str | None) -> str:
    return (version or "").strip().upper()


def candidates(st01: str, version: str | None) -> tuple[list[GuideEntry], bool]:
    """Guides for ST01 and version; the flag says whether the version itself matched."""
    v = normalize_version(version)
    same_set = [e for e in entries() if e.transaction == st01]
    exact = [e for e in same_set if v in e.versions]
    if exact:
        return exact, True
    # mislabeled versions: same guide family (005010X222 for 005010X222A1 ...)
    family = re.match(r"^(\d{6}X\d{3})", v)
    if family:
        fam = [e for e in same_set if any(x.startswith(family.group(1)) for x in e.versions)]
        if fam:
            return fam, False
    return same_set, False
