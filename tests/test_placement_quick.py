"""The parser's one-lookup placement (``SegmentNode.quick``) is a memo of the full test.

Each quick table lists, for the values of one element, the place the ordered
place list gives them; the parser takes that place without testing keys. These
tests hold every table of every guide against ``keys_match`` value by value,
and place whole files with the tables and without them.
"""
from __future__ import annotations

from conftest import CORPUS, FIXTURES, corpus_rows
from x12engine import placement
from x12engine.errors import X12Error
from x12engine.parser import Reader
from x12engine.placement import _compute, _decided_by_one_element, control_segments, keys_match
from x12engine.registry import entries
from x12engine.tree import Loop


def _tables():
    return [e.table() for e in entries()]


def _full_test(found: tuple, els: list[str]):
    for place in found:
        if not place[3] or keys_match(els, place[3], ":", "^"):
            return place
    return None


def _segments_meeting(sid: str, found: tuple):
    """Segments whose other elements are blank, a code no guide uses, or the codes
    that meet one place's keys (a later place's keys may test other elements)."""
    width = 1 + max([k[0] for place in found for k in place[3]] + [8])
    yield [sid] + [""] * width
    yield [sid] + ["ZZ9"] * width
    for place in found:
        els = [sid] + [""] * width
        for e, c, codes in place[3]:
            code = min(codes)
            els[e] = code if c is None else ":".join([""] * c + [code])
        yield els


def test_every_quick_entry_is_the_place_the_full_test_picks():
    keyed = plain = 0
    for table in _tables():
        for state in table.nodes:
            for sid in table.segment_ids - control_segments():
                found = tuple(_compute(state, sid))
                quick = _decided_by_one_element(sid, found)
                if quick is None:
                    continue
                element, by_value = quick
                for value, place in by_value.items():
                    for els in _segments_meeting(sid, found):  # whatever the other elements hold
                        els[element] = value
                        assert _full_test(found, els) is place, (table.guide.guide, state.id, sid, value, els)
                    keyed += element != 0
                    plain += element == 0
    assert keyed > 1000 and plain > 1000  # both kinds occur in every family's guides


def test_a_value_two_places_list_goes_to_the_earlier_one():
    # a loop's NM1 or HL positions and the next iteration's (or an enclosing loop's)
    # may list the same code: the full test takes the first, so the table must
    overlaps = 0
    for table in _tables():
        for state in table.nodes:
            for sid in table.segment_ids - control_segments():
                found = tuple(_compute(state, sid))
                quick = _decided_by_one_element(sid, found)
                if quick is None or quick[0] == 0:
                    continue
                seen: dict[str, tuple] = {}
                for place in found:
                    if len(place[3]) != 1 or place[3][0][1] is not None or place[3][0][0] != quick[0]:
                        break
                    for code in place[3][0][2]:
                        if code in seen and seen[code] is not place:
                            assert quick[1][code] is seen[code]
                            overlaps += 1
                        seen.setdefault(code, place)
    assert overlaps > 100


def test_envelope_segments_never_take_the_quick_path():
    for table in _tables():
        for state in table.nodes:
            for sid in control_segments():
                table.places(state, sid)
                assert sid not in state.quick


def _forget_places(tables) -> None:
    for table in tables:
        for state in table.nodes:
            state.places.clear()
            state.quick.clear()


def _shape(loop: Loop) -> tuple:
    return (loop.id, tuple(_shape(c) if type(c) is Loop else (c[1] if type(c) is tuple else ("?", c.token[1])) for c in loop.children))


def _placed(path) -> list:
    out = []
    reader = Reader(path)
    reader.record_placement = True
    for ctx in reader.transactions(keep=False):
        txn = ctx.transaction
        recorded = txn.placement
        out.append((txn.control_number, _shape(txn.body),
                    [(tok[1], place) for tok, place in zip(*recorded)] if recorded else None))
    return out


def test_files_place_the_same_with_and_without_the_quick_tables(monkeypatch):
    files = sorted(FIXTURES.glob("*.x12")) + ([CORPUS / r["path"] for r in corpus_rows()] if CORPUS.is_dir() else [])
    tables = _tables()
    with_quick: dict = {}
    _forget_places(tables)
    for path in files:
        try:
            with_quick[path] = _placed(path)
        except X12Error:  # not X12 at all
            continue
    monkeypatch.setattr(placement, "_decided_by_one_element", lambda sid, found: None)
    _forget_places(tables)
    try:
        for path, expected in with_quick.items():
            same = _placed(path) == expected  # a bool: pytest's diff of two whole trees takes minutes
            assert same, f"{path.name} is placed differently with the quick tables"
            assert not any(state.quick for table in tables for state in table.nodes)
    finally:
        monkeypatch.undo()
        _forget_places(tables)
    assert len(with_quick) >= 27, len(with_quick)


def test_a_repeated_qualifier_misses_the_table_and_the_full_test_places_it():
    # NM101 "QC^IL" (ISA11 is ^) is listed by no table; the full test reads its
    # first repetition, as it did before the tables, and the patient NM1 is placed
    text = (FIXTURES / "835-payment.x12").read_text()
    assert "\nNM1*QC*" in text
    moved = text.replace("\nNM1*QC*", "\nNM1*QC^IL*", 1)
    [(_, shape, recorded)] = _placed(moved.encode())
    [(_, plain_shape, plain)] = _placed(text.encode())
    assert None not in [p for _, p in recorded]
    same = recorded == plain and shape == plain_shape
    assert same
