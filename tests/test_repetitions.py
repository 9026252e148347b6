"""Sets without repetitions read through generated code that never splits one off.

The tokenizer notes whether any segment after an ISA holds the interchange's
repetition separator; a set closed while it has seen none is read by a variant of
the generated readers without the per-element repetition tests. The variant must
give the same model as the general code, and a set holding a repetition must
still get the general code, wherever in the file (and in which read chunk) the
repetition appears.
"""
from __future__ import annotations

import json

import pytest

from conftest import CORPUS, FIXTURES, corpus_rows, require_corpus
from x12engine import to_models
from x12engine.convert import context_model
from x12engine.parser import Reader
from x12engine.tokenizer import Tokenizer

SUPPORTED = ("270", "271", "276", "277", "278", "835", "837")


def _both_ways(path) -> list[tuple[bool, str, str]]:
    """(set's repeats flag, model read as flagged, model read by the general code) per set."""
    out = []
    for ctx in Reader(path).transactions():
        flagged = ctx.transaction.repeats
        first = json.dumps(context_model(ctx), default=str)
        ctx.transaction.repeats = True
        general = json.dumps(context_model(ctx), default=str)
        out.append((flagged, first, general))
    return out


@pytest.mark.parametrize("path", sorted(p for p in FIXTURES.glob("*.x12") if p.name[:3] in SUPPORTED), ids=lambda p: p.name)
def test_sets_without_repetitions_read_as_the_general_code_does(path):
    for flagged, first, general in _both_ways(path):
        assert first == general


def test_most_fixture_sets_take_the_variant():
    """The comparison above means something only where the variant ran."""
    flags = [f for p in FIXTURES.glob("*.x12") if p.name[:3] in SUPPORTED for f, _, _ in _both_ways(p)]
    assert flags.count(False) > len(flags) // 2


def test_the_flag_picks_the_code_that_splits():
    """A set flagged without repetitions is read by code that never splits one off: forced
    onto a set that holds one (CLP01 PCN0001^PCN9), the variant keeps the whole element,
    where the general code keeps its first repetition. So the flag does choose the code."""
    data = (FIXTURES / "835-payment.x12").read_bytes().replace(b"CLP*PCN0001*", b"CLP*PCN0001^PCN9*", 1)
    ctx = next(Reader(data).transactions())
    assert ctx.transaction.repeats is True
    general = context_model(ctx)["model"]["claim_payments"][0]["patient_control_number"]
    ctx.transaction.repeats = False
    variant = context_model(ctx)["model"]["claim_payments"][0]["patient_control_number"]
    assert (general, variant) == ("PCN0001", "PCN0001^PCN9")


def test_corpus_sets_read_alike_with_and_without_the_repetition_code():
    require_corpus()
    plain = 0
    for row in corpus_rows():
        if row["transaction_set"][:3] not in SUPPORTED:
            continue
        try:
            sets = _both_ways(CORPUS / row["path"])
        except Exception:  # broken files stop the reader; other tests cover them
            continue
        for flagged, first, general in sets:
            plain += not flagged
            assert first == general, row["path"]
    assert plain > 50  # most of the corpus has no repetition: the variant did run


def test_flag_follows_the_segments_not_the_isa():
    tok = Tokenizer(FIXTURES / "835-payment.x12")
    list(tok)
    assert tok.repeats is False  # its only '^' is ISA11
    tok = Tokenizer(FIXTURES / "271-benefit-entities.x12")
    list(tok)
    assert tok.repeats is True  # EB*1*IND*30^88


@pytest.mark.parametrize("chunk_size", [1, 5, 97, 4096])
def test_flag_is_the_same_for_any_read_size(chunk_size):
    for name, expected in (("835-payment.x12", False), ("271-benefit-entities.x12", True)):
        tok = Tokenizer(FIXTURES / name, chunk_size=chunk_size)
        list(tok)
        assert tok.repeats is expected, (name, chunk_size)


def test_a_repetition_in_a_later_set_still_splits():
    """Two 271 sets: the first without a repetition, the second with EB03 30^88. The
    first is read by the variant, the second by the general code, and the second's
    service types are the two codes, as when it is read on its own."""
    text = (FIXTURES / "271-benefit-entities.x12").read_text()

    def one_set(t: str, ctl: str) -> str:
        body = t[t.index("ST*"):t.index("~", t.index("SE*")) + 1]
        old = body.split("*")[2].split("~")[0]
        body = body.replace(f"ST*271*{old}", f"ST*271*{ctl}", 1)
        se = body[body.index("SE*"):]
        return body.replace(se, se.replace(old, ctl), 1)

    first_set = one_set(text.replace("30^88", "30"), "0001")
    second_set = one_set(text, "0002")
    assert "30^88" in second_set and "^" not in first_set
    head = text[:text.index("ST*")]
    tail = text[text.index("GE*"):]
    both = head + first_set + second_set + tail.replace("GE*1*", "GE*2*", 1)
    # read in small chunks, the first set closes before the tokenizer reaches the second's EB
    contexts = list(Reader(both.encode(), chunk_size=64).transactions())
    assert [c.transaction.repeats for c in contexts] == [False, True]
    doc = to_models(both.encode())
    alone = to_models((head + second_set + tail).encode())
    assert doc["transactions"][1]["model"] == alone["transactions"][0]["model"]
    assert doc["transactions"][0]["model"] != doc["transactions"][1]["model"]
