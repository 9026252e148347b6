"""The inline fast path of the element checks never changes a result.

``SegmentCheck.check`` recognises clean values inline and sends everything else to
the full check. The reference below is the full check alone (every non-empty
element through ``_slow``, every empty required one reported, the syntax rules
always evaluated); on random segments for real guide positions both must give
the same problems in the same order.
"""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from x12engine import registry
from x12engine.velements import IK4_TOO_MANY_ELEMENTS, ElementProblem, SegmentCheck, _rules, compile_node

COMP, REP = ":", "^"


def _nodes() -> list:
    seen, out = set(), []
    for e in registry.entries():
        if e.transaction not in ("837", "835", "270", "278"):
            continue
        for node in e.table().nodes:
            key = (e.guide, node.id, node.name)
            if key not in seen and node.definition is not None:
                seen.add(key)
                out.append(node)
    return out


NODES = _nodes()


def reference(chk: SegmentCheck, els: list[str]) -> list | None:
    out: list | None = None
    n = min(len(els) - 1, chk.n)
    if len(els) - 1 > chk.n:  # written out here, not taken from the check under test
        out = [ElementProblem(chk.n + 1, None, None, None, IK4_TOO_MANY_ELEMENTS,
                              f"{els[0]} has {len(els) - 1} elements; the segment has {chk.n}", None, False)]
    for i in range(n):
        v = els[i + 1]
        if not v:
            if chk.elems[i].usage == "R":
                out = (out or []) + [chk._missing(i)]
            continue
        out = chk._slow(i, v, els, COMP, REP, out)
    for i in range(n, chk.n):
        if chk.elems[i].usage == "R":
            out = (out or []) + [chk._missing(i)]
    if chk.rules:
        out = _rules(chk.rules, els, els[0], "", out)
    return out or None


def _values(node) -> st.SearchStrategy[str]:
    codes = sorted({c for spec in node.specs.values() if spec.codes for c in spec.codes})
    atoms = st.sampled_from(codes or ["X"]) | st.sampled_from(
        ["", "1", "12.50", "-3", "1.2.3", "20240110", "20241340", "D8", "RD8", "20240101-20240105", "HC", "99213",
         "ABK", "J20.9", "Q9", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "A\x01B"])
    return st.lists(atoms, min_size=1, max_size=4).map(COMP.join) | atoms | st.lists(atoms, min_size=2, max_size=3).map(REP.join)


@st.composite
def segments(draw):
    node = draw(st.sampled_from(NODES))
    chk = compile_node(node)
    n = draw(st.integers(0, chk.n + 1))
    return node, [node.id] + [draw(_values(node)) for _ in range(n)]


@settings(max_examples=400, deadline=None)
@given(segments())
def test_fast_path_gives_the_full_checks_result(case):
    node, els = case
    chk = compile_node(node)
    assert chk.check(els, COMP, REP) == reference(chk, els)


def test_clean_segments_take_the_fast_path_and_have_no_problems():
    chk = compile_node(next(n for n in NODES if n.id == "SV1"))
    assert chk.check(["SV1", "HC:99213:25", "125.00", "UN", "1", "", "", "1:2"], COMP, REP) is None
