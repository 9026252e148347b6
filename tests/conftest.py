from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"


def grow(fixture: Path, segments: int, newline: bool = True) -> str:
    """A fixture grown to about ``segments`` segments by the benchmarks' generator (``bench/synth.py``)."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from synth import grow as synth_grow
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return synth_grow(fixture, segments, newline)


def isa(element="*", component=":", repetition="^", segment="~", control="000000001", version="00501") -> str:
    """A conforming 106-character ISA with the given delimiters."""
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
              "230101", "1200", repetition, version, control, "0", "T", component]
    return element.join(fields) + segment


def corpus_rows() -> list[dict]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with open(manifest, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def require_corpus() -> None:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/corpus is not present (it is only in the development workspace)")


# ----------------------------------------------------------------------------
# helpers the model acceptance tests share
# ----------------------------------------------------------------------------
EXAMPLES = ROOT.parent / "shared" / "reference" / "pokitdok" / "examples"
NOW = dt.datetime(2026, 1, 2, 3, 4)  # a fixed envelope date, so builds are reproducible
# the finding codes of the 835 balancing identities (claim, service line, payment total)
BALANCE_CODES = frozenset({"claim_out_of_balance", "service_out_of_balance", "payment_out_of_balance"})


def example(name: str) -> dict:
    """A PokitDok example body from ../shared/reference (skips when it is absent)."""
    path = EXAMPLES / f"{name}.json"
    if not path.is_file():
        pytest.skip("../shared/reference is not present (development workspace only)")
    return json.loads(path.read_text())["example"]


def only(doc: dict) -> dict:
    """The one transaction entry of a model document."""
    assert len(doc["transactions"]) == 1
    return doc["transactions"][0]


def every_segment_placed(x12: str) -> None:
    """The X12 parses without errors and the grammar placed every segment."""
    from x12engine import parse
    from x12engine.tree import Unexpected

    doc = parse(x12.encode())
    assert not doc.errors, [str(f) for f in doc.errors]
    (_, _, txn), = list(doc.transactions())
    stack = [txn.body]
    while stack:
        lp = stack.pop()
        assert not [c for c in lp.children if isinstance(c, Unexpected)]
        stack.extend(lp.loops())
