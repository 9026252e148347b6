"""999 and TA1 acknowledgments: counts, codes, and the 999 validates against its own guide."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings, strategies as st

from conftest import FIXTURES
from test_validate import _claim, _swap
from x12engine.ack import AckSettings, ack_999, ack_ta1
from x12engine.tokenizer import Delimiters, Tokenizer
from x12engine.validate import validate
from x12engine.writer import segment_text

WHEN = AckSettings(now=dt.datetime(2026, 1, 2, 3, 4))


def _segs(text: str) -> list[list[str]]:
    return [tok[0] for tok in Tokenizer(text.encode())]


def test_999_for_a_rejected_set_validates_and_counts():
    text = ack_999(validate(_claim(clm02="1")), WHEN)
    segs = _segs(text)
    ik3 = next(s for s in segs if s[0] == "IK3")
    assert ik3[1:] == ["CLM", "15", "2300", "8"]
    assert next(s for s in segs if s[0] == "IK4")[1:] == ["2", "782", "I12"]
    assert next(s for s in segs if s[0] == "IK5")[1:] == ["R", "5"]
    assert next(s for s in segs if s[0] == "AK9")[1:] == ["R", "1", "1", "0"]
    assert validate(text.encode()).valid


def test_999_accepts_and_works_without_st03():
    data = _swap(_claim(), "ST*837*0001*005010X222A1", "ST*837*0001")
    segs = _segs(ack_999(validate(data), WHEN))
    assert next(s for s in segs if s[0] == "AK2") == ["AK2", "837", "0001"]
    assert next(s for s in segs if s[0] == "AK9")[1:] == ["A", "1", "1", "1"]


def test_every_fixture_gets_a_valid_999():
    for path in FIXTURES.glob("*.x12"):
        if path.name.startswith("999"):
            continue  # the 999 guide acknowledges no 999s (AK101 has no FA)
        text = ack_999(validate(path), WHEN)
        assert validate(text.encode()).valid, path.name


def test_ta1_accepts_and_rejects():
    assert _segs(ack_ta1(validate(_claim()), WHEN))[1] == ["TA1", "000000001", "230101", "1200", "A", "000"]
    bad = _swap(_claim(), "IEA*1*000000001", "IEA*1*000000002")
    assert _segs(ack_ta1(validate(bad), WHEN))[1][4:] == ["R", "001"]


MUTATIONS = [
    # (old, new, finding code, 999 code field, code, position in the set)
    ("N4*CITY*NY*100011234~", "", "segment_missing", "ik3", "3", None),
    ("REF*EI*123456789", "REF*EI*" + "1" * 60, "element_too_long", "ik4", "5", 10),
    ("SBR*P*18*", "SBR*Q*18*", "element_bad_code", "ik4", "7", 12),
    ("SE*23*0001", "SE*99*0001", "se01_count", "ik5", "4", None),
    ("DTP*472*D8*20240101", "DTP*472*D8*2024011", "element_bad_date", "ik4", "8", 19),
]


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(MUTATIONS), st.sampled_from(["150", "99.5"]))
def test_mutations_find_the_right_999_code_and_position(mutation, charge):
    old, new, code, field, value, position = mutation
    base = _claim(clm02=charge, lines=((charge, "1"),) if charge != "150" else (("100", "1"), ("50", "2")))
    if old.startswith("SE*"):
        old = next(s for s in base.decode().split("~") if s.startswith("SE*"))
        new = "SE*99*0001"
    data = _swap(base, old, new)
    hits = [f for f in validate(data).errors if f.code == code]
    assert hits and getattr(hits[0], field) == value
    if position is not None:
        assert hits[0].position == position


def test_a_999_input_is_not_acknowledged_by_a_999_but_gets_a_ta1():
    """005010X231A1 lists no FA for AK101: groups of acknowledgments are never acknowledged."""
    import pytest
    from click.testing import CliRunner

    from x12engine.ack import AckError
    from x12engine.cli import main

    path = FIXTURES / "999-partial.x12"
    result = validate(path)
    with pytest.raises(AckError, match="GS01 FA"):
        ack_999(result, WHEN)
    assert _segs(ack_ta1(result, WHEN))[1][0] == "TA1"
    res = CliRunner().invoke(main, ["ack", str(path), "--type", "999"])
    assert res.exit_code != 0 and "005010X231A1" in res.output
    assert "Traceback" not in res.output


def test_only_the_acknowledgment_groups_of_a_mixed_file_are_left_out():
    claim = _claim().decode()
    ack = (FIXTURES / "999-partial.x12").read_text()
    text = ack_999(validate((claim + "\n" + ack.replace("000000404", "000000405")).encode()), WHEN)
    segs = _segs(text)
    assert [s[1] for s in segs if s[0] == "AK1"] == ["HC"]
    assert sum(1 for s in segs if s[0] == "ISA") == 1
    assert validate(text.encode()).valid


def _redelimit(text: str, element: str, component: str, segment: str) -> str:
    """The same interchange written with other delimiters (none of them occurs in the data)."""
    dst = Delimiters(element, component, "^", segment)
    return "".join(segment_text(tok[0], Delimiters(), dst) + "\n" for tok in Tokenizer(text.encode()))


def test_acknowledgments_answer_in_each_interchange_s_own_delimiters():
    plain = _claim().decode()
    odd = _redelimit(plain, "|", ">", "!")
    both = (plain + "\n" + odd).encode()
    for text in (ack_999(validate(both), WHEN), ack_ta1(validate(both), WHEN)):
        first, second = text.split("IEA", 1)[0], text.split("IEA", 1)[1]
        assert first.startswith("ISA*") and first[104] == ":"  # ISA16 = the component separator
        isa2 = second[second.index("ISA"):]
        assert isa2.startswith("ISA|") and isa2[104] == ">" and isa2[105] == "!"
        assert validate(text.encode()).valid
    forced = ack_999(validate(odd.encode()), AckSettings(now=WHEN.now, delimiters=Delimiters()))
    assert forced.startswith("ISA*") and "|" not in forced
