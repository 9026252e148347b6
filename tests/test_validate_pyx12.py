"""Differential validation against pyx12: whatever pyx12 rejects, x12engine rejects too.

On 837P (X222A1), 837I (X223A2) and 835 (X221A1) input — the corpus files and
fixtures plus mutations of the fixtures (a dropped or duplicated segment, an
overflowed length, a bad code, a broken count) — every transaction set pyx12's
``x12n_document`` rejects must carry an x12engine error (or the envelope must),
and on the corpus every segment position pyx12 reports (IK3) must carry one too.
Each exception is listed in ``tests/data/pyx12_disagreements.tsv`` with the
reason this engine is right; an unlisted disagreement fails, and so does a
listed one that no longer happens.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from conftest import CORPUS, FIXTURES, corpus_rows, require_corpus
from pyx12_oracle import KINDS, Verdict, body_range, mutate, verdict
from x12engine.validate import ValidationResult, validate

pytest.importorskip("pyx12.x12n_document")

DATA = Path(__file__).parent / "data"
GUIDES = re.compile(r"005010X22(?:1(?:A1)?|2(?:A1)?|3(?:A1|A2)?)(?![A-Z0-9])")  # the 5010 guides pyx12 has maps for (not X222A2, X223A3)
WARNED = "warned: code_not_in_bundled_list"  # pyx12 rejects a code x12engine only warns about
FIXTURE_NAMES = ("837p-claims.x12", "837i-inpatient.x12", "835-payment.x12", "835-institutional.x12", "835-pokitdok-example.x12")


def _listed() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in (DATA / "pyx12_disagreements.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            source, where, _pyx12, reason = line.split("\t")
            assert reason.strip(), f"{source} {where}: a listed disagreement needs the reason this engine is right"
            out.setdefault(source, set()).add(where)
    return out


def disagreements(v: Verdict, result: ValidationResult, *, segments: bool) -> set[str]:
    """What pyx12 rejects that x12engine does not: '*' (the file), 'set ST02', or 'SEG@position'."""
    errors = result.errors
    # a code missing from a bundled external list (CARC, RARC ...) is a warning here on purpose
    warned = {f.transaction for f in result.findings if f.code == "code_not_in_bundled_list"}
    out: set[str] = set()
    if v.status in ("rejected", "unreadable") and not errors:
        out.add(WARNED if warned else "*")
    envelope = any(f.transaction is None for f in errors)
    for st02 in v.sets:
        if not envelope and not any(f.transaction == st02 for f in errors):
            out.add(WARNED if st02 in warned else f"set {st02}")
    if segments:
        ours = {(f.transaction, str(f.position)) for f in errors if f.position is not None}
        for st02, sid, pos in v.segments:
            if (st02, pos) not in ours:
                out.add(f"{sid}@{pos}")
    return out


def _compare(source: str, text: str, *, segments: bool) -> tuple[Verdict, set[str]]:
    v = verdict(text)
    if v.status == "no-map":
        pytest.skip(f"pyx12 gives no verdict: {v.detail}")
    return v, disagreements(v, validate(text.encode("utf-8", "surrogateescape"), name=source), segments=segments)


# ----------------------------------------------------------------------------
# corpus
# ----------------------------------------------------------------------------
ROWS = [r for r in corpus_rows() if r["transaction_set"] in ("835", "837") and GUIDES.search(r["implementation_guide"])]


@pytest.mark.parametrize("row", ROWS or [{"path": "-"}], ids=lambda r: r["path"])
def test_corpus_pyx12_rejections_are_rejected_here(row):
    require_corpus()
    text = (CORPUS / row["path"]).read_bytes().decode("utf-8", "surrogateescape")
    _, found = _compare(row["path"], text, segments=True)
    listed = _listed()
    assert found - listed.get(row["path"], set()) - listed.get("*", set()) == set(), "unlisted disagreement"
    assert listed.get(row["path"], set()) - found == set(), "listed disagreement no longer happens: unlist it"


def test_corpus_comparison_is_not_empty():
    require_corpus()
    assert len(ROWS) >= 60  # 837P, 837I and 835 files of every status


# ----------------------------------------------------------------------------
# fixtures and their mutations
# ----------------------------------------------------------------------------
def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_clean_fixtures_pass_both(name):
    v, found = _compare(f"fixture:{name}", _fixture(name), segments=True)
    assert v.status == "accepted" and not found and validate(FIXTURES / name).valid


# (fixture, old segment text, new segment text): the four defects of the issue, on each transaction type
NAMED = [
    ("837p-claims.x12", "N4*SPRINGFIELD*IL*627010001~\n", ""),  # a required segment dropped (2010AA N4)
    ("837p-claims.x12", "REF*EI*371234567~", "REF*EI*" + "3" * 60 + "~"),  # an overflowed length
    ("837p-claims.x12", "SBR*P*18*", "SBR*Q*18*"),  # a bad code
    ("837i-inpatient.x12", "CLM*", "CLM*" + "X" * 40),  # an overflowed length
    ("837i-inpatient.x12", "SBR*P*", "SBR*Q*"),  # a bad code
    ("835-payment.x12", "BPR*I*", "BPR*Q*"),  # a bad code
    ("835-payment.x12", "TRN*1*", "TRN*"),  # a required element shifted away
    ("835-institutional.x12", "SE*", "SE*9"),  # a broken count
    ("835-pokitdok-example.x12", "GE*1*", "GE*2*"),  # a broken group count
]


@pytest.mark.parametrize("name,old,new", NAMED, ids=lambda x: x if isinstance(x, str) and x.endswith(".x12") else None)
def test_named_mutations_rejected_by_both(name, old, new):
    text = _fixture(name)
    assert old in text, old
    mutated = text.replace(old, new, 1)
    v, found = _compare(f"fixture:{name}", mutated, segments=False)
    assert v.status == "rejected", "the mutation should break the file for pyx12 too"
    assert not found


def _generated(name: str, kind: str, seg: int, element: int) -> tuple[str, str, str] | None:
    m = mutate(_fixture(name), kind, seg, element)
    if m is None:
        return None
    text, key = m
    return text, f"fixture:{name}", key


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIXTURE_NAMES), st.sampled_from(KINDS), st.integers(0, 120), st.integers(0, 20))
def test_generated_mutations_pyx12_rejects_are_rejected_here(name, kind, seg, element):
    g = _generated(name, kind, seg, element)
    assume(g is not None)
    text, source, key = g
    v = verdict(text)
    found = disagreements(v, validate(text.encode()), segments=False)
    listed = _listed()
    unlisted = found - listed.get("*", set())
    if unlisted:
        assert key in listed.get(source, set()), f"{source} {key}: pyx12 {v.status}, x12engine misses {sorted(unlisted)}"


def test_listed_generated_disagreements_still_happen():
    """A listed generated case is replayed: it must still be one where pyx12 rejects and x12engine does not."""
    for source, keys in _listed().items():
        if not source.startswith("fixture:"):
            continue  # corpus rows are checked file by file; '*' rows name a class, not a case
        name = source.split(":", 1)[1]
        text = _fixture(name)
        for key in keys:
            replayed = _replay(text, key)
            assert replayed is not None, f"{source} {key} cannot be replayed"
            v = verdict(replayed)
            assert disagreements(v, validate(replayed.encode()), segments=False), f"{source} {key} no longer disagrees: unlist it"


def _replay(text: str, key: str) -> str | None:
    """The mutated text for a key written by :func:`mutate` (search the small space of its arguments)."""
    n = len(body_range(text))
    for kind in KINDS:
        if not key.startswith(kind):
            continue
        for seg in range(max(n, 2)):
            for element in range(40):
                m = mutate(text, kind, seg, element)
                if m is not None and m[1] == key:
                    return m[0]
    return None
