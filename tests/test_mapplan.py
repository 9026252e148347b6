"""The compiled reader against the plain interpreter: the same JSON, key order included.

``mapplan`` rewrites every statement list before it runs (objects dissolved into
dotted targets, bindings precomputed, runs of bindings tested once, each list
generated as Python by ``mapgen``; streamed claims replay the context objects an
earlier claim read); with ``COMPILE`` off the same maps run as written. Any
difference on a fixture, a corpus file or a fixture with segments repeated (so a
loop holds several candidates for one binding) is a compile step that changed
meaning.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, FIXTURES, corpus_rows, require_corpus
from x12engine import iter_models, mapplan, to_models

SUPPORTED = ("270", "271", "276", "277", "278", "835", "837")


def _both(monkeypatch, path) -> tuple[str, str, str, str]:
    def run() -> tuple[str, str]:
        whole = json.dumps(to_models(path), default=str)
        parts = "\n".join(json.dumps(e, default=str) for e in iter_models(path, by_claim=True))
        return whole, parts

    monkeypatch.setattr(mapplan, "_PROGRAMS", {})
    monkeypatch.setattr(mapplan, "COMPILE", True)  # hypothesis runs many examples in one test
    compiled = run()
    monkeypatch.setattr(mapplan, "_PROGRAMS", {})
    monkeypatch.setattr(mapplan, "COMPILE", False)
    plain = run()
    return (*compiled, *plain)


@pytest.mark.parametrize("path", sorted(p for p in FIXTURES.glob("*.x12") if p.name[:3] in SUPPORTED), ids=lambda p: p.name)
def test_compiled_reader_reads_fixtures_as_the_interpreter_does(monkeypatch, path):
    whole, parts, plain_whole, plain_parts = _both(monkeypatch, path)
    assert '"model": {' in whole  # a map read it
    assert whole == plain_whole and parts == plain_parts


def test_compiled_reader_reads_the_corpus_as_the_interpreter_does(monkeypatch):
    require_corpus()
    rows = [r for r in corpus_rows() if r["transaction_set"][:3] in SUPPORTED]
    assert len(rows) > 100
    differ = []
    for row in rows:
        whole, parts, plain_whole, plain_parts = _both(monkeypatch, CORPUS / row["path"])
        if (whole, parts) != (plain_whole, plain_parts):
            differ.append(row["path"])
    assert differ == []


_FIXTURES = sorted(p for p in FIXTURES.glob("*.x12") if p.name[:3] in SUPPORTED)


def _with_repeats(path, picks: list[int]) -> bytes:
    """The fixture with the body segments at ``picks`` (indexes, wrapped) written twice, SE01 recounted."""
    from x12engine import Tokenizer
    from x12engine.writer import write_segments

    t = Tokenizer(path)
    segs = [list(tok[0]) for tok in t]
    body = [i for i, s in enumerate(segs) if s[0] not in ("ISA", "GS", "ST", "SE", "GE", "IEA", "HL", "LX", "CLP", "LS", "LE")]
    twice = {body[p % len(body)] for p in picks}
    out: list[list[str]] = []
    for i, s in enumerate(segs):
        out.append(s)
        if i in twice:
            out.append(list(s))
    st_at = [i for i, s in enumerate(out) if s[0] == "ST"]
    for i, s in enumerate(out):
        if s[0] == "SE":
            start = max(j for j in st_at if j < i)
            s[1] = str(i - start + 1)
    return write_segments(out, t.delimiters, newline=True).encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fixture=st.sampled_from(_FIXTURES), picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=6))
def test_compiled_reader_reads_repeated_segments_as_the_interpreter_does(monkeypatch, fixture, picks):
    data = _with_repeats(fixture, picks)
    whole, parts, plain_whole, plain_parts = _both(monkeypatch, data)
    assert whole == plain_whole and parts == plain_parts


@pytest.mark.parametrize("fixture, old, new, check", [
    # both alternatives of `tax_id = N104 [N103=FI] | REF02 [REF01=TJ]` present: the first wins
    ("835-payment.x12", b"N1*PE*RIVERSIDE FAMILY CLINIC*XX*1234567893", b"N1*PE*RIVERSIDE FAMILY CLINIC*FI*111111111",
     lambda m: m["payee"]["tax_id"] == "111111111"),
    # CAS triples read inline in the claim's loop: an unknown group code, a reason that is no
    # CARC and an amount that is no number (each goes through the slow path with its item's
    # place), a triple with a quantity, and an empty triple between two others
    ("835-payment.x12", b"CAS*CO*45*12.50~", b"CAS*ZZ*45*12.50*****XX*ABC*2*9999*1*3~",
     lambda m: [(a["reason_code"], a.get("quantity")) for a in m["claim_payments"][0]["services"][0]["adjustments"]][:3]
     == [("45", None), ("XX", "2"), ("9999", "3")]),
    # a qualifier argument with no value (DTP02 of a service period)
    ("837p-claims.x12", b"DTP*472*D8*", b"DTP*472**", lambda m: True),
])
def test_compiled_reader_reads_edited_fixtures_as_the_interpreter_does(monkeypatch, fixture, old, new, check):
    data = (FIXTURES / fixture).read_bytes()
    assert old in data
    whole, parts, plain_whole, plain_parts = _both(monkeypatch, data.replace(old, new))
    assert whole == plain_whole and parts == plain_parts
    assert check(json.loads(whole)["transactions"][0]["model"])


def _grown(path, first: str, repeats: int) -> bytes:
    """The fixture with its segments from the first ``first`` up to PLB/SE repeated (SE01 recounted);
    837 HL numbers are left alone: the reader does not need them unique."""
    from x12engine import Tokenizer
    from x12engine.writer import write_segments

    t = Tokenizer(path)
    segs = [list(tok[0]) for tok in t]
    st = next(i for i, s in enumerate(segs) if s[0] == "ST")
    start = next(i for i, s in enumerate(segs) if s[0] == first)
    end = next(i for i, s in enumerate(segs) if s[0] in ("PLB", "SE") and i > start)
    body = segs[:end] + segs[start:end] * (repeats - 1) + segs[end:]
    se = next(i for i, s in enumerate(body) if s[0] == "SE")
    body[se][1] = str(se - st + 1)
    return write_segments(body, t.delimiters, newline=True).encode()


@pytest.mark.parametrize("fixture, first", [("835-payment.x12", "LX"), ("837p-claims.x12", "HL")])
def test_the_context_memo_forgets_what_the_next_claim_does_not_use(monkeypatch, fixture, first):
    sizes: list[int] = []
    real = mapplan.ContextMemo.next_part

    def watched(self) -> None:
        real(self)
        sizes.append(len(self.entries))

    monkeypatch.setattr(mapplan.ContextMemo, "next_part", watched)
    data = _grown(FIXTURES / fixture, first, 60)
    parts = list(iter_models(data, by_claim=True))
    assert len(parts) > 100 and len(sizes) == len(parts)
    assert max(sizes) <= max(sizes[:10])  # bounded by one claim's context, not by the claims seen


def test_marks_fall_on_elements_with_values_only(monkeypatch):
    """The leftovers walk counts a segment whose marks number its non-empty elements as
    fully read; that holds only while no mark falls on an empty or absent element."""
    from x12engine import mapread

    require_corpus()
    seen: list[tuple[int, list[str]]] = []
    real = mapread.MapReader.leftovers

    def watched(self, implied):
        tokens = {tok[1]: tok for tok in self.txn.segments()}
        for key, used in self.consumed.items():
            if key in tokens:
                seen.append((used, tokens[key][0]))
        return real(self, implied)

    monkeypatch.setattr(mapread.MapReader, "leftovers", watched)
    paths = [p for p in FIXTURES.glob("*.x12") if p.name[:3] in SUPPORTED]
    paths += [CORPUS / r["path"] for r in corpus_rows() if r["transaction_set"][:3] in SUPPORTED]
    # a qualifier argument read with an empty element (DTP02 of a period) is not marked either
    blank = (FIXTURES / "837p-claims.x12").read_bytes().replace(b"DTP*472*D8*", b"DTP*472**")
    for path in [*paths, blank]:
        to_models(path)
        list(iter_models(path, by_claim=True))
    assert len(seen) > 10_000
    wrong = [(els[0], used) for used, els in seen
             if any(used >> i & 1 and (i >= len(els) or i == 0 or not els[i]) for i in range(used.bit_length()))]
    assert wrong == []


CUSTOM = '''map t-alternatives "bindings no bundled map has"
transaction 278
guide 005010X217
model AlternativesTest
set BHT02 = 13
object subscriber at 2000A/2000B/2000C/2010C {
    (born, born_end) = DMG02 [DMG01=D8] | NM109 as period DMG01
    id = NM109 [NM108=ZZ] | NM109 [NM108=MI]
}
'''


CAPTURE = '''map t-capture "a field captured from a step, its element read nowhere else"
transaction 835
guide 005010X221A1
model CaptureTest
list claims at 2000[LX01=$header]/2100 {
    pcn = CLP01
}
'''


@pytest.mark.parametrize("compile", [True, False], ids=["compiled", "interpreted"])
def test_a_captured_field_marks_its_element_read(monkeypatch, tmp_path, compile):
    """`list claims at 2000[LX01=$header]/2100`: LX01 becomes a field of each claim and
    counts as read (``loop_matches`` marks a step's conditions), so no LX is left over."""
    from x12engine.mapcatalog import compile_map
    from x12engine.mapread import MapReader
    from x12engine.parser import Reader

    path = tmp_path / "t.x12m"
    path.write_text(CAPTURE)
    c = compile_map(path)
    monkeypatch.setattr(mapplan, "_PROGRAMS", {})
    monkeypatch.setattr(mapplan, "COMPILE", compile)
    ctx = next(iter(Reader(FIXTURES / "835-payment.x12").transactions(keep=False)))
    r = MapReader(c, ctx.interchange, ctx.group, ctx.transaction)
    model = r.read()
    left = r.leftovers(c.implied)
    assert model["claims"] and all(claim["header"] == 1 for claim in model["claims"])
    assert [u for u in left if u["id"] == "LX"] == []
    lx = [t for t in ctx.transaction.segments() if t[0][0] == "LX"]
    assert lx and all(r.consumed.get(t[1], 0) & 2 for t in lx)


@pytest.mark.parametrize("first_empty", [False, True], ids=["first source", "second source"])
def test_compiled_reader_reads_a_custom_map_as_the_interpreter_does(monkeypatch, tmp_path, first_empty):
    """Alternatives of a two-target binding with a qualifier argument: the first source
    with a value gives the value; with DMG02 empty, the second reads NM109 as a date
    and warns, in the compiled code as in the interpreter."""
    from x12engine.mapcatalog import compile_map
    from x12engine.mapread import MapReader
    from x12engine.parser import Reader

    path = tmp_path / "t.x12m"
    path.write_text(CUSTOM)
    c = compile_map(path)

    def read(compile: bool):
        monkeypatch.setattr(mapplan, "_PROGRAMS", {})
        monkeypatch.setattr(mapplan, "COMPILE", compile)
        data = (FIXTURES / "278-request.x12").read_bytes()
        if first_empty:
            data = data.replace(b"DMG*D8*19800101*F~", b"DMG*D8**F~", 1)
        ctx = next(iter(Reader(data).transactions(keep=False)))
        r = MapReader(c, ctx.interchange, ctx.group, ctx.transaction)
        model = r.read()
        left = r.leftovers(c.implied)
        return json.dumps(model), [f.to_dict() for f in r.findings], len(left)

    compiled, plain = read(True), read(False)
    assert compiled == plain
    model = json.loads(compiled[0])
    warned = [f for f in compiled[1] if f["code"] == "unreadable_value"]
    if first_empty:  # NM109 is no date: the warning names the binding, the text is kept
        assert model["subscriber"]["id"] == "MEM000123" and "born" in model["subscriber"]
        assert warned
    else:
        assert model["subscriber"] == {"born": "1980-01-01", "id": "MEM000123"}
        assert not warned


def _reference_leftovers(reader, implied) -> dict[int, list[int] | None]:
    """Segment index → its unread elements (None: the whole segment), element by element."""
    from x12engine.mapread import STRUCTURAL
    from x12engine.tree import Loop

    out: dict[int, list[int] | None] = {}

    def walk(loop) -> None:
        for child in loop.children:
            if type(child) is Loop:
                walk(child)
            elif type(child) is tuple and child[0][0] not in STRUCTURAL:
                els = child[0]
                used = reader.consumed.get(child[1])
                imp = implied(loop.id, child)
                left = [i for i, v in enumerate(els) if i and v and i not in imp and (used is None or not used >> i & 1)]
                if left:
                    out[child[1]] = None if used is None else left
    walk(reader.txn.body)
    return out


def test_leftovers_are_the_elements_no_statement_read(monkeypatch):
    """The walk's shortcuts (mark counts, fixed-code masks) against a plain element-by-element reading."""
    from x12engine import mapread

    require_corpus()
    compared = []
    real = mapread.MapReader.leftovers

    def checked(self, implied):
        got = real(self, implied)
        kept = {e["index"]: e.get("patch") for e in got if "unexpected" not in e}
        assert kept == _reference_leftovers(self, implied)
        compared.append(len(kept))
        return got

    monkeypatch.setattr(mapread.MapReader, "leftovers", checked)
    paths = [p for p in FIXTURES.glob("*.x12") if p.name[:3] in SUPPORTED]
    paths += [CORPUS / r["path"] for r in corpus_rows() if r["transaction_set"][:3] in SUPPORTED]
    for path in paths:
        to_models(path)
    assert len(compared) > 100 and sum(compared) > 50
