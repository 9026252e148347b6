"""Compact JSON through orjson against the standard encoder's compact ASCII text.

``jsontext.compact`` may only differ from ``json.dumps(..., ensure_ascii=True,
separators=(",", ":"))`` in how a float outside 1e-4..1e16 is spelled; every
model of every fixture and corpus file, and every case orjson would write
differently (non-ASCII text, bytes kept as surrogates, 64-bit overflow, keys that
are not strings), must come out byte for byte as the standard encoder's.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPUS, FIXTURES, corpus_rows, require_corpus
from x12engine import iter_models, jsontext, to_models


def _same(data) -> None:
    assert jsontext.compact(data) == jsontext.standard(data)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.x12")), ids=lambda p: p.name)
def test_fixture_models_are_written_as_the_standard_encoder_writes_them(path):
    _same(to_models(path))
    for entry in iter_models(path, by_claim=True):
        _same(entry)


def test_corpus_models_are_written_as_the_standard_encoder_writes_them():
    require_corpus()
    n = 0
    for row in corpus_rows():
        try:
            doc = to_models(CORPUS / row["path"])
        except Exception:  # broken files raise; not this test's concern
            continue
        _same(doc)
        n += 1
    assert n > 100


@pytest.mark.parametrize("data", [
    {"name": "JOS\u00c9"},  # non-ASCII: escaped as \u00c9
    {"name": "caf\udce9"},  # a cp1252 byte kept as a surrogate
    {"n": 2**64},  # beyond orjson's integers
    {1: "a", None: "b"},  # keys that are not strings
    {"t": ("a", 1)},
    ["\u2028", "\x00", "\t"],
    {"del": "A\x7fB"},  # ASCII that the standard encoder still escapes (hypothesis found it)
])
def test_what_orjson_writes_otherwise_takes_the_standard_encoder(data):
    _same(data)
    assert jsontext.compact(data).isascii()


def test_without_orjson_everything_takes_the_standard_encoder(monkeypatch):
    monkeypatch.setattr(jsontext, "_orjson", None)
    data = to_models(FIXTURES / "835-payment.x12")
    assert jsontext.compact(data) == jsontext.standard(data)


def test_a_model_with_unreadable_bytes_is_written_alike():
    raw = (FIXTURES / "837p-claims.x12").read_bytes().replace(b"SMITH", b"SM\xc9TH", 1)
    doc = to_models(raw)
    assert "\\udcc9" in json.dumps(doc)  # kept byte-exact as a surrogate, escaped
    _same(doc)


_text = st.text(st.characters(blacklist_categories=()))  # surrogates included
_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_without_floats_is_written_as_the_standard_encoder_writes_it(data):
    _same(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=6))
def test_floats_keep_their_values(values):
    assert json.loads(jsontext.compact(values)) == json.loads(jsontext.standard(values))


def test_a_number_no_float_holds_is_refused_so_models_hold_no_infinity():
    """orjson writes an infinite float as null where the standard encoder writes Infinity;
    the number transform refuses such a value, so no model holds one to write."""
    huge = b"1" + b"0" * 400 + b".5"
    raw = (FIXTURES / "835-institutional.x12").read_bytes().replace(b"TS2*900~", b"TS2*900*********" + huge + b"~", 1)
    doc = to_models(raw)
    entry = doc["transactions"][0]
    assert "out of range" in json.dumps(entry["findings"])
    kept = entry["model"]["provider_summaries"][0]["supplemental"]["average_drg_length_of_stay"]
    assert kept == huge.decode()  # the text as it was, not a float
    _same(doc)
