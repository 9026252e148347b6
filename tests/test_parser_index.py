"""The index the parser keeps on each loop against the loop's children.

The map reader starts every loop instance from ``Loop.index`` (segments by id,
child loops by loop id, document order) instead of walking the children itself.
The parser keeps it while placing segments, hanging HL loops under their parent
level and cutting streamed claims out of the tree; any drift would make a
binding read a segment that is not in the loop, or miss one that is.
"""
from __future__ import annotations

import pytest

from conftest import CORPUS, FIXTURES, corpus_rows, require_corpus
from x12engine.parser import Reader
from x12engine.tree import Loop, Unexpected


def _built(loop: Loop) -> dict[str, list]:
    idx: dict[str, list] = {}
    for c in loop.children:
        if type(c) is tuple:
            idx.setdefault(c[0][0], []).append(c)
        elif type(c) is Loop:
            idx.setdefault(c.id, []).append(c)
        else:
            assert type(c) is Unexpected
    return idx


def _drift(loop: Loop, where: str = "") -> list[str]:
    """Loops whose kept index differs from their children (by identity and order)."""
    out = []
    if loop.index is not None:
        kept = {k: [id(x) for x in v] for k, v in loop.index.items()}
        built = {k: [id(x) for x in v] for k, v in _built(loop).items()}
        if kept != built:
            out.append(f"{where}/{loop.id}")
    for c in loop.children:
        if type(c) is Loop:
            out += _drift(c, f"{where}/{loop.id}")
    return out


def _check(path) -> tuple[int, list[str]]:
    indexed = 0
    drift = []
    for by_unit in (False, True):
        for ctx in Reader(path).transactions(by_unit=by_unit):
            body = ctx.transaction.body
            indexed += body.index is not None
            drift += [f"{'unit' if by_unit else 'set'} {ctx.transaction.control_number}{d}" for d in _drift(body)]
    return indexed, drift


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.x12")), ids=lambda p: p.name)
def test_kept_index_matches_children_in_fixtures(path):
    indexed, drift = _check(path)
    assert drift == []
    assert indexed  # whole sets read with a guide carry the index


def test_kept_index_matches_children_in_corpus():
    require_corpus()
    drift = []
    indexed = 0
    for row in corpus_rows():
        try:
            n, d = _check(CORPUS / row["path"])
        except Exception:  # intentionally broken files stop the reader; not this test's concern
            continue
        indexed += n
        drift += [f"{row['path']}: {x}" for x in d]
    assert indexed > 100
    assert drift == []


def _dependent_of_earlier_subscriber() -> bytes:
    """The 837P fixture with a second dependent (HL*5) whose HL02 names subscriber 2 while
    subscriber 3 is the open level: the parser hangs it under a loop off its stack."""
    text = (FIXTURES / "837p-claims.x12").read_text()
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("HL*4*3*23"))
    end = next(i for i, line in enumerate(lines) if line.startswith("SE*"))
    block = [line.replace("HL*4*3*23", "HL*5*2*23").replace("PCN0002", "PCN0005") for line in lines[start:end]]
    se = lines[end].split("*")
    lines[end] = "*".join([se[0], str(int(se[1]) + len(block)), *se[2:]])
    return "\n".join(lines[:end] + block + lines[end:]).encode()


def test_kept_index_follows_an_hl_parent_off_the_stack():
    data = _dependent_of_earlier_subscriber()
    indexed, drift = _check(data)
    assert drift == []
    body = next(Reader(data).transactions()).transaction.body
    subscribers = {lp.children[0][0][1]: lp for lp in body.loops("2000B")}
    hung = subscribers["2"].index.get("2000C", [])
    assert [lp.children[0][0][1] for lp in hung] == ["5"]  # HL*5 sits under subscriber 2, in its index
    assert [lp.children[0][0][1] for lp in subscribers["3"].index["2000C"]] == ["4"]


def test_kept_index_after_claims_are_cut_out():
    """Streamed claim by claim, each 2300 is cut out of its subscriber as it closes; the
    subscriber's kept index must lose it too (the reader would see it twice otherwise)."""
    data = _dependent_of_earlier_subscriber()
    contexts = list(Reader(data).transactions(by_unit=True))
    assert len([c for c in contexts if c.part == "unit"]) == 3
    indexed, drift = _check(data)
    assert drift == []
