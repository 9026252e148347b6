"""The compiled reader against the plain interpreter: the same JSON, key order included.

``mapplan`` rewrites every statement list before it runs (objects dissolved into
dotted targets, bindings precomputed, runs of bindings tested once, statements
chosen per loop instance; streamed claims replay the context objects an earlier
claim read); with ``COMPILE`` off the same maps run as written. Any difference on
a fixture or a corpus file is a compile step that changed meaning.
"""
from __future__ import annotations

import json

import pytest

from conftest import CORPUS, FIXTURES, corpus_rows, require_corpus
from x12engine import iter_models, mapplan, to_models

SUPPORTED = ("270", "271", "276", "277", "278", "835", "837")


def _both(monkeypatch, path) -> tuple[str, str, str, str]:
    def run() -> tuple[str, str]:
        whole = json.dumps(to_models(path), default=str)
        parts = "\n".join(json.dumps(e, default=str) for e in iter_models(path, by_claim=True))
        return whole, parts

    monkeypatch.setattr(mapplan, "_PROGRAMS", {})
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
