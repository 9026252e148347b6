from __future__ import annotations

import json

import pytest

from x12engine import document_from_json, document_to_json, iter_transactions, parse, to_bytes
from x12engine.tree import Loop, Unexpected

from conftest import FIXTURES, isa


def _loop_paths(loop: Loop, prefix: str = "") -> set[str]:
    out = set()
    for c in loop.children:
        if type(c) is Loop:
            path = f"{prefix}/{c.id}"
            out.add(path)
            out |= _loop_paths(c, path)
    return out


def _only_txn(doc):
    txns = [t for _, _, t in doc.transactions()]
    assert len(txns) == 1
    return txns[0]


def test_837p_hierarchy_nests_by_hl():
    t = _only_txn(parse(FIXTURES / "837p-claims.x12"))
    assert t.guide == "005010X222A1"
    paths = _loop_paths(t.body)
    assert "/1000A" in paths and "/1000B" in paths
    assert "/2000A/2010AA" in paths
    assert "/2000A/2000B/2010BA" in paths
    assert "/2000A/2000B/2300/2400" in paths
    # every HL02 points at the loop the subordinate HL sits in
    for parent in t.body.loops():
        for child in parent.child_loops():
            hl = child.own_segments("HL")
            if hl and parent.own_segments("HL"):
                assert hl[0][0][2] == parent.own_segments("HL")[0][0][1]


def test_patient_level_under_subscriber_when_present():
    doc = parse(FIXTURES / "837d-basic.x12")
    t = _only_txn(doc)
    assert "/2000A/2000B/2000C/2300" in _loop_paths(t.body)


@pytest.mark.parametrize(
    "name, guide, expected_loops",
    [
        ("278-request.x12", "005010X217", {"/2000A/2000B/2000C", "/2000A/2010A"}),
        ("278-response-certified.x12", "005010X217", {"/2000A/2000B/2000C"}),
    ],
)
def test_278_request_and_response_are_told_apart_by_bht02(name, guide, expected_loops):
    t = _only_txn(parse(FIXTURES / name))
    assert t.guide == guide
    bht02 = t.body.own_segments("BHT")[0][0][2]
    assert ("Request" in t.guide_name) == (bht02 == "13")
    assert expected_loops <= _loop_paths(t.body)
    assert any(p.endswith("/2000E") for p in _loop_paths(t.body))
    assert any(p.endswith("/2000F") for p in _loop_paths(t.body))


def test_each_fixture_is_read_with_the_guide_it_declares():
    for path in sorted(FIXTURES.glob("*.x12")):
        doc = parse(path)
        for _, group, t in doc.transactions():
            declared = t.header[0][3] if len(t.header[0]) > 3 else group.version
            assert t.guide == declared, path.name
        assert not [f for f in doc.findings if f.code in ("guide_by_fit", "version_mismatch", "no_grammar")], path.name


def _with_body(body: str, version="005010X222A1", st01="837") -> str:
    segs = [s for s in body.split("~") if s]
    n = len(segs) + 2
    return (
        isa()
        + f"GS*HC*S*R*20230101*1200*7*X*{version}~ST*{st01}*0001*{version}~"
        + body
        + f"SE*{n}*0001~GE*1*7~IEA*1*000000001~"
    )


PROF_BODY = (
    "BHT*0019*00*1*20230101*1200*CH~NM1*41*2*SUBMITTER*****46*X~PER*IC*C*TE*5555555555~"
    "NM1*40*2*RECEIVER*****46*Y~HL*1**20*1~NM1*85*2*BILLING*****XX*1234567893~N3*1 MAIN~"
    "N4*CITY*NY*10001~REF*EI*123456789~HL*2*1*22*0~SBR*P*18*******CI~NM1*IL*1*DOE*JANE****MI*SECRETID~"
    "NM1*PR*2*PAYER*****PI*P1~CLM*ABC*100***11:B:1*Y*A*Y*Y~HI*ABK:J20~LX*1~SV1*HC:99213*100*UN*1***1~DTP*472*D8*20230101~"
)


def test_unexpected_segment_is_kept_reported_and_round_trips():
    text = _with_body(PROF_BODY.replace("HI*ABK:J20~", "HI*ABK:J20~ZZZ*SECRET*VALUE~"))
    doc = parse(text.encode())
    bad = [f for f in doc.findings if f.code == "unexpected_segment"]
    assert len(bad) == 1
    f = bad[0]
    assert f.location.segment_id == "ZZZ"
    assert f.location.loop == "2300"
    assert f.location.interchange == "000000001" and f.location.group == "7" and f.location.transaction == "0001"
    assert f.location.segment_index == 19  # ISA=1, GS=2, ST=3 ... HI=18
    assert "SECRET" not in str(f)
    t = _only_txn(doc)
    clm_loop = next(t.body.loops("2300"))
    assert any(type(c) is Unexpected and c.token[0][0] == "ZZZ" for c in clm_loop.children)
    again = to_bytes(document_from_json(json.loads(json.dumps(document_to_json(doc)))))
    assert again.decode() == text


def test_qualifier_decides_the_position():
    doc = parse(_with_body(PROF_BODY).encode())
    t = _only_txn(doc)
    assert not doc.errors
    sub = next(t.body.loops("2010BA"))
    payer = next(t.body.loops("2010BB"))
    assert sub.own_segments("NM1")[0][0][1] == "IL"
    assert payer.own_segments("NM1")[0][0][1] == "PR"


def test_unknown_transaction_set_keeps_segments_flat_with_an_error():
    doc = parse(_with_body("BGN*00*1*20230101~REF*38*X~", version="005010X220A1", st01="834").encode())
    t = _only_txn(doc)
    assert t.guide is None
    assert [f.code for f in doc.errors] == ["no_grammar"]
    assert [s[0][0] for s in t.segments()] == ["ST", "BGN", "REF", "SE"]


def test_mislabeled_version_reads_with_the_family_guide():
    doc = parse(_with_body(PROF_BODY, version="005010X222").encode())
    t = _only_txn(doc)
    assert t.guide == "005010X222A1"
    assert not doc.errors


def test_unknown_version_picks_the_best_fitting_guide_with_a_warning():
    doc = parse(_with_body(PROF_BODY, version="004010").encode())
    t = _only_txn(doc)
    assert t.guide == "005010X222A1"
    assert any(f.code == "guide_by_fit" for f in doc.findings)


def test_missing_trailers_are_findings_not_crashes():
    text = isa() + "GS*HC*S*R*20230101*1200*7*X*005010X222A1~ST*837*0001*005010X222A1~" + PROF_BODY + "IEA*1*000000001~"
    doc = parse(text.encode())
    codes = {f.code for f in doc.errors}
    assert {"missing_se", "missing_ge"} <= codes
    assert len(list(doc.transactions())) == 1


def test_segments_outside_a_transaction_are_kept():
    text = isa() + "GS*HC*S*R*20230101*1200*7*X*005010X222A1~NTE*ADD*STRAY~GE*0*7~IEA*1*000000001~"
    doc = parse(text.encode())
    assert doc.interchanges[0].groups[0].unexpected[0].token[0][0] == "NTE"
    assert to_bytes(doc).decode() == text


def test_streaming_yields_the_same_transactions_as_parse():
    path = FIXTURES / "270-inquiry.x12"
    streamed = [(c.group.control_number, c.transaction.control_number, len(list(c.transaction.segments()))) for c in iter_transactions(path)]
    parsed = [(g.control_number, t.control_number, len(list(t.segments()))) for _, g, t in parse(path).transactions()]
    assert streamed == parsed and len(streamed) >= 1


def test_ta1_is_kept_at_interchange_level():
    text = isa() + "TA1*000000001*230101*1200*A*000~IEA*0*000000001~"
    doc = parse(text.encode())
    assert doc.interchanges[0].acknowledgments[0][0][0] == "TA1"
    assert not doc.errors


def test_segments_sharing_a_position_may_come_in_any_order():
    # 2300 REF G1 (prior authorization) and REF 9F (referral) share position 1800
    a = PROF_BODY.replace("HI*ABK:J20~", "REF*G1*AUTH1~REF*9F*REF1~HI*ABK:J20~")
    b = PROF_BODY.replace("HI*ABK:J20~", "REF*9F*REF1~REF*G1*AUTH1~HI*ABK:J20~")
    for body in (a, b):
        doc = parse(_with_body(body).encode())
        assert not doc.errors, [str(f) for f in doc.errors]
        clm = next(_only_txn(doc).body.loops("2300"))
        assert sorted(s[0][1] for s in clm.own_segments("REF")) == ["9F", "G1"]


def test_a_forced_guide_reads_sets_whatever_their_version_says():
    from x12engine.grammar import guide_files

    p837d = next(p for p in guide_files() if p.name == "837d.x12g")
    doc = parse(_with_body(PROF_BODY).encode(), guide=p837d)
    t = _only_txn(doc)
    assert t.guide == "005010X224A2"
    # SV1 is professional, so the dental guide has no place for it
    assert [f.location.segment_id for f in doc.errors] == ["SV1"]  # dental lines are SV3; DTP*472 exists in 837D 2400


# --- batches: the result does not depend on where reads split the input ------
def _tree(doc) -> str:
    return json.dumps(document_to_json(doc), sort_keys=True)


@pytest.mark.parametrize("name", ["837p-claims.x12", "835-payment.x12", "278-request.x12", "278-response-pended.x12", "999-partial.x12"])
@pytest.mark.parametrize("chunk", [1, 13, 106, 4096])
def test_chunk_size_does_not_change_the_tree(name, chunk):
    from x12engine import Reader

    data = (FIXTURES / name).read_bytes()
    data = data + b"\n" + data  # two interchanges: a batch boundary at each IEA
    assert _tree(Reader(data, chunk_size=chunk).parse()) == _tree(parse(data))


def test_envelope_segments_close_a_set_in_the_middle_of_a_batch():
    # no SE: the next ST, then GE, close the sets; everything arrives in one batch
    body = PROF_BODY
    text = (
        isa() + "GS*HC*S*R*20230101*1200*7*X*005010X222A1~"
        + "ST*837*0001*005010X222A1~" + body
        + "ST*837*0002*005010X222A1~" + body + "SE*23*0002~"
        + "GE*2*7~IEA*1*000000001~"
    )
    doc = parse(text.encode())
    assert [f.code for f in doc.errors] == ["missing_se"]
    txns = [t for _, _, t in doc.transactions()]
    assert [t.control_number for t in txns] == ["0001", "0002"]
    assert txns[0].trailer is None and txns[1].trailer[0][0] == "SE"
    assert [s[0][0] for s in txns[0].segments()][-1] == "DTP"
    assert doc.interchanges[0].groups[0].trailer[0][0] == "GE"
    assert to_bytes(doc).decode() == text


def test_streaming_hands_out_each_set_before_reading_the_next_interchange():
    from x12engine import Reader

    one = (FIXTURES / "270-inquiry.x12").read_bytes()
    reader = Reader(one + b"\n" + one.replace(b"000000101", b"000000102"), chunk_size=64)
    seen = []
    for ctx in reader.transactions():
        seen.append((ctx.interchange.control_number, reader.tokenizer.interchanges))
    per_interchange = len(list(parse(one).transactions()))
    assert seen == [("000000101", 1)] * per_interchange + [("000000102", 2)] * per_interchange
