"""The structure walk follows the reader's recorded placement: the record lists every segment
of the set in document order, and walking with it finds exactly what deciding placement again does."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import CORPUS, FIXTURES, corpus_rows
from x12engine.errors import X12Error
from x12engine.parser import Reader
from x12engine.tokenizer import Tokenizer
from x12engine.vrules import SetIndex
from x12engine.vstructure import walk
from x12engine.writer import write_segments


def _sets(source):
    reader = Reader(source)
    reader.record_placement = True
    for ctx in reader.transactions(keep=False):
        yield ctx.interchange, ctx.transaction


def _compare(source) -> int:
    """Walk each set with and without the record; the number of sets compared."""
    n = 0
    for inter, txn in _sets(source):
        if txn.table is None:
            assert txn.placement is None
            continue
        toks, places = txn.placement
        tree = sorted(SetIndex(txn.body).tokens, key=lambda t: t[1])
        assert toks == tree  # every segment of the set, in document order
        assert len(places) == len(toks)
        d = inter.delimiters
        recorded, replayed = [], []
        walk(txn.table, toks, d.component, d.repetition, lambda *a: recorded.append(a), places)
        walk(txn.table, tree, d.component, d.repetition, lambda *a: replayed.append(a))
        assert recorded == replayed
        n += 1
    return n


def test_record_matches_replay_on_fixtures_and_corpus():
    files = sorted(FIXTURES.glob("*.x12")) + [CORPUS / r["path"] for r in corpus_rows()]
    sets = 0
    for path in files:
        try:
            sets += _compare(path)
        except X12Error:  # not X12 at all
            continue
    assert sets >= 27


def test_reader_keeps_no_record_unless_asked():
    for ctx in Reader(FIXTURES / "837p-claims.x12").transactions():
        assert ctx.transaction.placement is None


def test_unplaced_segments_are_recorded_as_none():
    text = (FIXTURES / "837p-claims.x12").read_text().replace("\nCLM*", "\nZZZ*1~\nCLM*", 1)
    [(inter, txn)] = list(_sets(text.encode()))
    toks, places = txn.placement
    assert [t[0][0] for t, p in zip(toks, places) if p is None and t is not toks[0]] == ["ZZZ"]


def _segments(path):
    t = Tokenizer(path)
    return [list(tok[0]) for tok in t], t.delimiters


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fixture=st.sampled_from(sorted(p.name for p in FIXTURES.glob("8*.x12"))), data=st.data())
def test_record_matches_replay_when_segments_are_moved_dropped_or_doubled(fixture, data):
    segs, d = _segments(FIXTURES / fixture)
    st_at = next(i for i, s in enumerate(segs) if s[0] == "ST")
    se_at = next(i for i, s in enumerate(segs) if s[0] == "SE")
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(st_at + 1, se_at - 1))
        op = data.draw(st.sampled_from(["drop", "double", "move"]))
        if op == "drop" and se_at - st_at > 3:
            del segs[i]
            se_at -= 1
        elif op == "double":
            segs.insert(i, list(segs[i]))
            se_at += 1
        else:
            j = data.draw(st.integers(st_at + 1, se_at - 1))
            segs.insert(j, segs.pop(i))
    _compare(write_segments(segs, d, newline=True).encode())
