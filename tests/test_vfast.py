"""The generated element checks (vfast) return exactly what SegmentCheck.check returns, for every
segment position of every bundled guide and the envelope, on clean, broken and odd values."""
from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings, strategies as st

from x12engine import registry
from x12engine.grammar import load_envelope
from x12engine.velements import _K_COMP, SegmentCheck, compile_node
from x12engine.vfast import fast_check


@cache
def _positions() -> list[tuple[str, SegmentCheck]]:
    out = []
    for entry in registry.entries():
        for node in entry.table().guide.segments():
            out.append((f"{entry.guide} {node.id}@{node.pos}", compile_node(node)))
    env = load_envelope()
    for sid in ("ISA", "GS", "GE", "IEA", "TA1"):
        out.append((f"envelope {sid}", compile_node(env.segment(sid))))
    return out


def _codes(chk: SegmentCheck) -> list[str]:
    """Codes the position's elements and components know (so values hit the code paths)."""
    out: set[str] = set()
    for e in chk.elems:
        out |= set(e.codes or ())
        for c in e.comps or ():
            out |= set(c.codes or ())
    return sorted(out)[:50]


_ODD = ["", " ", "0", "1", "12", "-3", "1.5", ".", "5.", "-", "1E2", "20240230", "20240229", "240115", "2359", "2460",
        "D8", "RD8", "20240101-20240105", "20240105-20240101", "ABC", "abc\x07", "A^B", "A:B", "A:B:C:D:E:F:G:H",
        "1:2:3:4:5", "HC:99213:25", "ABK:J449", "X" * 90, "9" * 20, "1234567890", "00501", "\u00e9t\u00e9", "\u0661\u0662", "1\u00b2"]


@st.composite
def _segment(draw) -> tuple[str, SegmentCheck, list[str]]:
    name, chk = draw(st.sampled_from(_positions()))
    pool = _ODD + _codes(chk)
    value = st.sampled_from(pool)
    composite = st.lists(value, min_size=1, max_size=6).map(":".join)
    n = draw(st.integers(0, chk.n + 2))
    els = [name.split()[-1].split("@")[0]]
    for i in range(n):
        kind = chk.fast[i][1] if i < chk.n else None
        els.append(draw(composite if kind == _K_COMP and draw(st.booleans()) else value))
    return name, chk, els


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=_segment(), rep=st.sampled_from(["^", None]))
def test_generated_checks_equal_the_generic_check(case, rep):
    name, chk, els = case
    assert fast_check(chk)(els, ":", rep) == chk.check(els, ":", rep), name


def test_every_position_generates_and_agrees_on_an_empty_segment():
    for name, chk in _positions():
        for els in ([name.split()[-1].split("@")[0]], [name.split()[-1].split("@")[0]] + [""] * chk.n):
            assert fast_check(chk)(els, ":", "^") == chk.check(els, ":", "^"), name


def test_clean_values_never_reach_the_slow_path_for_a_code_element():
    """The point of the generated code: a clean NM1 at the 837P billing provider builds nothing."""
    [entry] = [e for e in registry.entries() if e.guide == "005010X222A1"]
    node = next(n for n in entry.table().guide.segments() if n.id == "NM1" and n.parent.id == "2010AA")
    els = ["NM1", "85", "2", "CLINIC", "", "", "", "", "XX", "1234567893"]
    assert fast_check(compile_node(node))(els, ":", "^") is None
    assert fast_check(compile_node(node))(["NM1", "QQ"] + els[2:], ":", "^")[0].code == "7"
