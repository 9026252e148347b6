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


def test_kept_index_follows_hl_parents_and_cut_claims():
    """An 837 whose second subscriber's claim follows a dependent: the claim loops are cut
    out of the tree one by one while streaming, and the HL loops hang by HL02."""
    text = (FIXTURES / "837p-claims.x12").read_text()
    indexed, drift = _check(text.encode())
    assert drift == []
    ctxs = list(Reader(text.encode()).transactions(by_unit=True))
    assert len(ctxs) > 1  # streamed claim by claim
    for ctx in ctxs:
        body = ctx.transaction.body
        # a unit's ancestors are copies: no kept index, the reader builds one
        assert all(lp.index is None or _drift(lp) == [] for lp in body.loops())
