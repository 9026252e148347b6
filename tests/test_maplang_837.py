"""Map-language features added for the 837 maps, each tested on a small map of its own.

`set X = @sequence`, `when many`, `each A..B [conds] by N` with `+N` element
references, `pool` lists with `via` pointers, `fill` defaults, the `prefer`
header, path conditions carried on read, and rebuilding a model read from X12
without adding what the X12 did not have.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from x12engine import EnvelopeSettings, to_models
from x12engine.convert import MODEL_FORMAT
from x12engine.mapbuild import MapBuilder
from x12engine.mapcatalog import compile_map
from x12engine.maplang import MapError
from x12engine.mapread import MapReader
from x12engine.errors import BuildError
from x12engine.parser import Reader
from conftest import NOW

HEAD = """map t837 "test"
transaction 837
guide 005010X222A1
# GS01 comes from the grammar
model T837
"""
ISA = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *230101*1200*^*00501*000000001*0*T*:~"
       "GS*HC*SENDER*RECEIVER*20230101*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019*00*1*20230101*1200*CH~")


def compiled(tmp_path: Path, body: str):
    path = tmp_path / "t837.x12m"
    path.write_text(HEAD + body)
    return compile_map(path)


def build(c, data: dict, fill: bool = True) -> list[str]:
    """The body segments a test map builds from the data, as text (no model validation: the map is not catalogued)."""
    builder = MapBuilder(c, {"now": NOW, "fill": fill})
    builder.build(data)
    return ["*".join(":".join(e) for e in (seg[1:])) and seg[0] + "*" + "*".join(":".join(e) for e in seg[1:]) or seg[0]
            for seg in builder.segments()]


def read(c, segments: list[str]) -> tuple[dict, list]:
    text = ISA + "~".join(segments) + f"~SE*{len(segments) + 2}*0001~GE*1*1~IEA*1*000000001~"
    doc = Reader(text.encode()).parse()
    (inter, group, txn), = list(doc.transactions())
    reader = MapReader(c, inter, group, txn)
    model = reader.read()
    reader.leftovers(c.implied)  # adds the segment_not_mapped / element_not_mapped warnings
    return model, reader.findings


CLAIM = """
at 2000A/2000B/2300 {
    list lines at 2400 {
        set LX01 = @sequence
        code = SV101-02
        amount = SV102 as decimal
        diagnosis_codes[] = SV107-01 | SV107-02 | SV107-03 | SV107-04 via diagnoses code
    }
}
"""


def pointer_map(tmp_path):
    return compiled(tmp_path, """
object claim at 2000A/2000B/2300 {
    id = CLM01
    list diagnoses each HI01..HI12 [HI01-01=ABK|BK] pool {
        code = -02 as icd
        qualifier = -01 default ABK then ABF
    }
    list lines at 2400 {
        set LX01 = @sequence
        qualifier = SV101-01 default HC
        code = SV101-02
        diagnosis_codes[] = SV107-01 | SV107-02 | SV107-03 | SV107-04 via diagnoses code
    }
}
""")


def test_sequence_numbers_list_items_and_is_consumed_whatever_it_holds(tmp_path):
    c = pointer_map(tmp_path)
    segs = build(c, {"claim": {"id": "C1", "lines": [{"code": "A"}, {"code": "B"}, {"code": "C"}]}})
    assert [s for s in segs if s.startswith("LX")] == ["LX*1", "LX*2", "LX*3"]
    model, findings = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*C1", "LX*7", "SV1*HC:A", "LX*9", "SV1*HC:B"])
    assert model["claim"]["lines"] == [{"code": "A"}, {"code": "B"}]
    assert not [f for f in findings if f.location.segment_id in ("LX", "SV1")]


def test_pointers_build_the_pool_from_the_line_codes_and_read_back_without_it(tmp_path):
    c = pointer_map(tmp_path)
    data = {"claim": {"id": "C1", "lines": [{"code": "A", "diagnosis_codes": ["J10.1", "R05"]},
                                            {"code": "B", "diagnosis_codes": ["R05", "Z00.0"]}]}}
    segs = build(c, data)
    assert "HI*ABK:J101*ABF:R05*ABF:Z000" in segs
    assert "SV1*HC:A******1:2" in segs and "SV1*HC:B******2:3" in segs
    model, _ = read(c, ["HL*1**20*1", "HL*2*1*22*0"] + segs[2:] if segs[0].startswith("HL") else segs)
    assert model == data


def test_an_explicit_pool_is_kept_when_the_lines_do_not_rebuild_it(tmp_path):
    c = pointer_map(tmp_path)
    data = {"claim": {"id": "C1", "diagnoses": [{"code": "487.1", "qualifier": "BK"}, {"code": "R05", "qualifier": "BF"}],
                      "lines": [{"code": "A", "diagnosis_codes": ["R05"]}]}}
    segs = build(c, data)
    assert "HI*BK:4871*BF:R05" in segs and "SV1*HC:A******2" in segs
    model, _ = read(c, segs)
    assert model == data


def test_a_pointer_outside_the_pool_is_kept_as_hash_pointer_and_written_back(tmp_path):
    c = pointer_map(tmp_path)
    model, findings = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*C1", "HI*ABK:J101", "LX*1", "SV1*HC:A******1:7"])
    assert model["claim"]["lines"][0]["diagnosis_codes"] == ["J10.1", "#7"]
    (warning,) = [f for f in findings if f.code == "unreadable_value"]
    assert warning.location.element == "SV107-02" and "7" not in warning.message.replace("SV107", "")
    assert "SV1*HC:A******1:7" in build(c, model)


def test_via_needs_a_pool_list(tmp_path):
    with pytest.raises(MapError) as info:
        compiled(tmp_path, CLAIM)
    assert "t837.x12m:" in str(info.value) and "pool" in str(info.value)


def test_stepped_element_lists_share_a_segment_per_group_value(tmp_path):
    c = compiled(tmp_path, """
at 2000A/2000B/2300/2320 {
    list adjustments each CAS02..CAS17 by 3 {
        group = CAS01
        reason = +0
        amount = +1 as decimal
        quantity = +2 as decimal
    }
}
""")
    items = [{"group": "PR", "reason": "1", "amount": 5}, {"group": "PR", "reason": "2", "amount": 6, "quantity": 1},
             {"group": "CO", "reason": "45", "amount": 7}, {"group": "PR", "reason": "3", "amount": 8}]
    segs = build(c, {"adjustments": items})
    assert [s for s in segs if s.startswith("CAS")] == ["CAS*PR*1*5**2*6*1", "CAS*CO*45*7", "CAS*PR*3*8"]
    model, findings = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*C1", "SBR*S", "CAS*PR*1*5**2*6*1", "CAS*CO*45*7"])
    assert model["adjustments"] == items[:3]
    seven = [{"group": "PR", "reason": str(n), "amount": n} for n in range(1, 8)]
    assert [s for s in build(c, {"adjustments": seven}) if s.startswith("CAS")] == [
        "CAS*PR*1*1**2*2**3*3**4*4**5*5**6*6", "CAS*PR*7*7"]


def test_nested_stepped_list_stays_in_its_own_segment(tmp_path):
    c = compiled(tmp_path, """
object submitter at 1000A {
    name = NM103
    list contacts each PER {
        name = PER02
        list methods each PER03..PER07 by 2 {
            type = +0
            value = +1
        }
    }
}
""")
    data = {"submitter": {"name": "S", "contacts": [{"name": "A", "methods": [{"type": "TE", "value": "1"}, {"type": "EM", "value": "E"}]},
                                                   {"name": "B", "methods": [{"type": "FX", "value": "2"}]}]}}
    segs = build(c, data)
    assert "PER*IC*A*TE*1*EM*E" in segs and "PER*IC*B*FX*2" in segs
    data["submitter"]["contacts"][0]["methods"] *= 2
    with pytest.raises(BuildError) as info:
        build(c, data)
    assert "submitter.contacts[0].methods[3]" in str(info.value)


def test_element_list_conditions_pick_their_segment(tmp_path):
    c = compiled(tmp_path, """
at 2000A/2000B/2300 {
    list conditions each HI01..HI12 [HI01-01=BG] {
        code = -02
        qualifier = -01 default BG
    }
    list diagnoses each HI01..HI12 [HI01-01=ABK|ABF] {
        code = -02
        qualifier = -01 default ABK then ABF
    }
}
""")
    data = {"diagnoses": [{"code": "J101"}, {"code": "R05"}], "conditions": [{"code": "07"}]}
    segs = build(c, data)
    assert "HI*BG:07" in segs and "HI*ABK:J101*ABF:R05" in segs
    model, _ = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*C1", "HI*ABK:J101*ABF:R05", "HI*BG:07"])
    assert model == data


def test_when_many_reads_the_first_branch_only_for_several_loops(tmp_path):
    c = compiled(tmp_path, """
when many 2000A/2000B/2300 | claims {
    list claims at 2000A/2000B/2300 {
        id = CLM01
    }
} else {
    object claim at 2000A/2000B/2300 {
        id = CLM01
    }
}
""")
    one, _ = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*A"])
    two, _ = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*A", "HL*3*1*22*0", "CLM*B"])
    assert one == {"claim": {"id": "A"}} and two == {"claims": [{"id": "A"}, {"id": "B"}]}
    assert "CLM*B" in build(c, two) and build(c, one)[-1] == "CLM*A"


def test_fill_is_written_when_absent_and_still_read_back(tmp_path):
    c = compiled(tmp_path, """
at 2000A/2000B {
    responsibility = SBR01 fill P
    relationship = SBR02 default 18
}
""")
    segs = build(c, {})
    assert "SBR*P*18" in segs
    model, _ = read(c, ["HL*1**20*1", "HL*2*1*22*0", "SBR*P*18"])
    assert model == {"responsibility": "P"}  # the `default` is left out on read, the `fill` is not
    assert "SBR*P*18" not in build(c, {}, fill=False)  # a model read from X12 gets no fill


def test_path_conditions_are_carried_on_read(tmp_path):
    c = compiled(tmp_path, """
at 2000A/2000B/2300 {
    object referring at 2310A [NM101=DN] {
        last_name = NM103
        default NM102 = 1
    }
    object primary_care at 2310A [NM101=P3] {
        last_name = NM103
        default NM102 = 1
    }
}
""")
    model, findings = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*A", "NM1*P3*1*SMITH"])
    assert model == {"primary_care": {"last_name": "SMITH"}}
    assert not [f for f in findings if f.code == "element_not_mapped"]
    assert "NM1*P3*1*SMITH" in build(c, model)


def test_when_branch_defaults_wait_for_the_enclosing_block(tmp_path):
    c = compiled(tmp_path, """
at 2000A/2000B {
    responsibility = SBR01 fill P
    when 2000C | patient {
        object patient at 2000C/2010CA {
            last_name = NM103
        }
    } else {
        relationship = SBR02 default 18
    }
}
""")
    assert "SBR*P*18" in build(c, {})
    assert "SBR*P" in build(c, {"patient": {"last_name": "DOE"}})


def test_prefer_header_and_sequence_only_as_set_value(tmp_path):
    path = tmp_path / "bad.x12m"
    path.write_text(HEAD + "at 2000A/2000B/2300/2400 {\n    set LX01 = @date\n}\n")
    with pytest.raises(MapError) as info:
        compile_map(path)
    assert "bad.x12m:" in str(info.value) and "@sequence" in str(info.value)
    path.write_text(HEAD + "prefer\n")
    assert compile_map(path).map.prefer


def test_model_documents_rebuild_without_defaults_the_x12_did_not_have():
    text = (ISA + "NM1*41*2*S*****46*1~NM1*40*2*R*****46*2~HL*1**20*1~NM1*85*2*B*****XX*1~HL*2*1*22*0~"
            "SBR*P*18~NM1*IL*1*D****MI*1~NM1*PR*2*P*****PI*1~CLM*A*5***11:B*Y*A*Y*I~HI*ABK:J101~LX*1~SV1*HC:X*5*UN*1***1~"
            "SE*14*0001~GE*1*1~IEA*1*000000001~")
    doc = to_models(text.encode())
    model = doc["transactions"][0]["model"]
    assert "claim_frequency" not in model["claim"]  # CLM05-3 was empty
    from x12engine import to_x12
    again = to_models(to_x12(doc, settings=EnvelopeSettings(now=NOW)).encode())
    assert again["format"] == MODEL_FORMAT and again["transactions"][0]["model"] == model


def test_text_lists_keep_empty_slots_before_a_value(tmp_path):
    c = compiled(tmp_path, """
at 2000A/2000B/2300/2400 {
    qualifier = SV101-01 default HC
    code = SV101-02
    modifiers[] = SV101-03 | SV101-04 | SV101-05 | SV101-06
}
""")
    segs = build(c, {"code": "X", "modifiers": ["", "GT"]})
    assert "SV1*HC:X::GT" in segs
    model, _ = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*A", "LX*1", "SV1*HC:X::GT"])
    assert model == {"code": "X", "modifiers": ["", "GT"]}
    model, _ = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*A", "LX*1", "SV1*HC:X:25"])
    assert model == {"code": "X", "modifiers": ["25"]}  # no trailing blanks


def test_flag_writes_y_or_nothing_and_reads_y_and_n(tmp_path):
    c = compiled(tmp_path, """
at 2000A/2000B/2300/2400 {
    code = SV101-02
    emergency = SV109 as flag
}
""")
    assert "SV1*:X********Y" in build(c, {"code": "X", "emergency": True})
    assert "SV1*:X" in build(c, {"code": "X", "emergency": False})
    yes, _ = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*A", "LX*1", "SV1*:X********Y"])
    no, _ = read(c, ["HL*1**20*1", "HL*2*1*22*0", "CLM*A", "LX*1", "SV1*:X********N"])
    assert yes["emergency"] is True and no["emergency"] is False
