"""parse → tree JSON → build gives back the same segments, element for element."""
from __future__ import annotations

import json

import pytest

from x12engine import Tokenizer, document_from_json, document_to_json, parse, to_bytes
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
