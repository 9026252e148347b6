"""parse → tree JSON → build gives back the same segments, element for element."""
from __future__ import annotations

import json

import pytest

from x12engine import Tokenizer, X12Error, document_from_json, document_to_json, parse, to_bytes
from x12engine.tokenizer import Delimiters

from conftest import CORPUS, FIXTURES, corpus_rows, require_corpus

VALID = [r for r in corpus_rows() if r["status"] == "valid-looking"]
FIXTURE_FILES = sorted(FIXTURES.glob("*.x12"))


def _segments(data) -> list[list[str]]:
    return [t[0] for t in Tokenizer(data)]


def _round_trip(path, **write_kw) -> tuple[list, list]:
    doc = parse(path)
    data = json.loads(json.dumps(document_to_json(doc)))
    rebuilt = to_bytes(document_from_json(data), **write_kw)
    return _segments(path), _segments(rebuilt)


def _check(path) -> None:
    before, after = _round_trip(path)
    assert len(before) == len(after)
    for n, (a, b) in enumerate(zip(before, after), 1):
        assert a == b, f"segment {n} ({a[0]}) differs after the round trip"


@pytest.mark.parametrize("row", VALID, ids=[r["path"] for r in VALID])
def test_corpus_valid_files_round_trip(row):
    require_corpus()
    _check(CORPUS / row["path"])


def test_corpus_is_big_enough_to_mean_something():
    require_corpus()
    assert len(VALID) >= 100


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.name for p in FIXTURE_FILES])
def test_fixtures_round_trip(path):
    _check(path)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.name for p in FIXTURE_FILES])
def test_fixtures_round_trip_with_other_delimiters(path):
    doc = parse(path)
    d = Delimiters("|", ">", "{", "\n")
    rebuilt = to_bytes(document_from_json(document_to_json(doc)), delimiters=d)
    t = Tokenizer(rebuilt)
    after = [x[0] for x in t]
    before = _segments(path)
    src = doc.interchanges[0].delimiters
    assert t.delimiters == d
    assert len(after) == len(before)
    for a, b in zip(before[1:], after[1:], strict=True):
        assert [v.replace(src.component, ">").replace(src.repetition or "\0", "{") for v in a] == b


def test_parsed_fixtures_place_every_segment():
    for path in FIXTURE_FILES:
        doc = parse(path)
        errors = [str(f) for f in doc.findings if f.severity == "error"]
        assert not errors, f"{path.name}: {errors[:3]}"


def _indices(doc) -> list:
    return [t[1] for i in doc.interchanges for t in i.segments()]


def test_parsed_documents_number_every_segment_uniquely():
    """The map reader keys what it read of a segment on the segment's index, so no two
    segments of a document may share one (interchanges, unexpected segments included)."""
    paths = [*FIXTURE_FILES, *(CORPUS / r["path"] for r in corpus_rows())]
    checked = 0
    for path in paths:
        try:
            doc = parse(path)
        except X12Error:
            continue  # the broken files of the corpus that stop the parse
        seen = _indices(doc)
        assert all(type(i) is int for i in seen), path
        assert len(set(seen)) == len(seen), path
        checked += len(seen)
    assert checked > 1000


def _without_indices(x):
    """``x`` without segment indices, the one position a renumbered tree may change (lines
    and offsets come from the JSON as they were)."""
    if isinstance(x, dict):
        return {k: _without_indices(v) for k, v in x.items() if k not in ("index", "segment_index")}
    if isinstance(x, list):
        return [_without_indices(v) for v in x]
    return x


@pytest.mark.parametrize("how", ["missing", "repeated"])
def test_trees_without_usable_indices_read_as_parsed(how):
    """A hand-written tree may leave out the indices or repeat one; it is numbered afresh,
    and every set reads to the same model, unmapped segments and findings as the file
    (their segment indices aside)."""
    from x12engine.convert import transaction_model

    def strip(x):
        if isinstance(x, dict):
            if "id" in x and "elements" in x:
                x.pop("index", None)
                if how == "repeated":
                    x["index"] = 7
            for v in x.values():
                strip(v)
        elif isinstance(x, list):
            for v in x:
                strip(v)

    compared = 0
    for path in FIXTURE_FILES:
        doc = parse(path)
        data = json.loads(json.dumps(document_to_json(doc)))
        strip(data)
        again = document_from_json(data)
        seen = _indices(again)
        assert len(set(seen)) == len(seen) == len(_indices(doc))
        for (i, g, t), (i2, g2, t2) in zip(doc.transactions(), again.transactions(), strict=True):
            a, b = transaction_model(i, g, t), transaction_model(i2, g2, t2)
            assert _without_indices(a) == _without_indices(b), path
            compared += bool(a.get("unmapped"))
    assert compared >= 1  # a set with unmapped segments, where the marks show
