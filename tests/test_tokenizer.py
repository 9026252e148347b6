from __future__ import annotations

import io
import string

import pytest
from hypothesis import given, settings, strategies as st

from x12engine import Delimiters, Tokenizer, X12SyntaxError
from x12engine.writer import write_segments

from conftest import isa

BODY = "GS*HC*S*R*20230101*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~SE*2*0001~GE*1*1~IEA*1*000000001~"


def toks(data, **kw):
    return list(Tokenizer(data, **kw))


def ids(data, **kw):
    return [t[0][0] for t in toks(data, **kw)]


def test_basic_segments_and_positions():
    data = isa() + "\n" + BODY.replace("~", "~\n")
    out = toks(data.encode())
    assert [t[0][0] for t in out] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert [t[1] for t in out] == [1, 2, 3, 4, 5, 6]
    assert [t[3] for t in out] == [1, 2, 3, 4, 5, 6]
    # byte offset points at the segment id
    raw = data.encode()
    for t in out:
        assert raw[t[2]: t[2] + len(t[0][0])].decode() == t[0][0]


def test_delimiters_come_from_isa():
    t = Tokenizer((isa("|", ">", "{", "\n") + BODY.replace("*", "|").replace("~", "\n")).encode())
    out = list(t)
    assert t.delimiters == Delimiters("|", ">", "{", "\n")
    assert out[1][0] == ["GS", "HC", "S", "R", "20230101", "1200", "1", "X", "005010X222A1"]


def test_newline_terminator_with_crlf():
    data = (isa(segment="\r") + "\n" + BODY.replace("~", "\r\n")).encode()
    out = toks(data)
    assert [t[0][0] for t in out] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert out[-1][0] == ["IEA", "1", "000000001"]
    assert out[-1][3] == 6


def test_bom_indentation_and_text_between_interchanges():
    one = isa() + BODY
    two = isa("!", "@", "#", "$", control="000000002") + BODY.replace("*", "!").replace("~", "$")
    data = ("\ufeff" + "  " + one + "\n\nsome trailer text\n   " + two + "\n").encode()
    t = Tokenizer(data)
    out = list(t)
    assert [x[0][0] for x in out].count("ISA") == 2
    assert out[0][2] == 5  # after the 3-byte BOM and two spaces
    assert t.interchanges == 2
    assert any(f.code == "text_outside_interchange" for f in t.findings)


def test_trailing_empty_elements_are_kept():
    data = isa() + "GS*HC~ST*837*1~NM1*85*2*ACME*****XX*1234567893**~SE*3*1~GE*1*1~IEA*1*000000001~"
    nm1 = toks(data.encode())[3][0]
    assert nm1 == ["NM1", "85", "2", "ACME", "", "", "", "", "XX", "1234567893", "", ""]


def test_isa11_u_under_00501_warns_and_disables_repetition():
    t = Tokenizer((isa(repetition="U") + BODY).encode())
    list(t)
    assert t.delimiters.repetition is None
    assert [f.code for f in t.findings] == ["isa11_not_separator"]


def test_4010_isa11_is_not_a_separator():
    t = Tokenizer((isa(repetition="U", version="00401") + BODY).encode())
    list(t)
    assert t.delimiters.repetition is None
    assert t.findings == []


def test_unpadded_isa_is_read_with_a_warning():
    short = "ISA*00**00**ZZ*S*ZZ*R*230101*1200*^*00501*1*0*T*:~"
    t = Tokenizer((short + BODY).encode())
    assert [x[0][0] for x in t][-1] == "IEA"
    assert any(f.code == "isa_width" for f in t.findings)


def test_missing_final_terminator_keeps_the_segment():
    t = Tokenizer((isa() + BODY[:-1]).encode())
    assert list(t)[-1][0] == ["IEA", "1", "000000001"]
    assert any(f.code == "missing_terminator" for f in t.findings)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 105, 106, 107, 4096])
def test_chunk_size_does_not_change_the_result(chunk):
    data = ("\ufeff" + isa() + "\r\n" + BODY.replace("~", "~\r\n") + "  " + isa("|", ">", "{", "\n") + BODY.replace("*", "|").replace("~", "\n")).encode()
    assert toks(data, chunk_size=chunk) == toks(data)


def test_reads_paths_and_file_objects(tmp_path):
    p = tmp_path / "a.x12"
    p.write_text(isa() + BODY)
    assert ids(p) == ids(str(p)) == ids(io.BytesIO(p.read_bytes())) == ids(p.read_text())


def test_non_ascii_offsets_are_bytes():
    data = (isa() + "GS*HC~ST*837*1~NM1*IL*1*MÜLLER*JOSÉ~REF*SY*1~SE*4*1~GE*1*1~IEA*1*000000001~").encode()
    out = toks(data)
    ref = [t for t in out if t[0][0] == "REF"][0]
    assert data[ref[2]: ref[2] + 3] == b"REF"
    assert out[3][0][3] == "MÜLLER"


@pytest.mark.parametrize(
    "data, needle",
    [
        (b"", "no ISA"),
        (b"hello world, not edi", "no ISA"),
        (b"ISA*00*   ", "ISA shorter than 106"),
        (isa("*", "*", "^", "~").encode() + b"IEA*1*1~", "collision"),
        (isa("*", ":", "^", ":").encode() + b"IEA*1*1~", "collision"),
        (isa("A", ":", "^", "~").encode() + b"IEA*1*1~", "ISA"),
        (isa(component="B").encode() + b"IEA*1*1~", "alphanumeric"),
        ((isa() + "GS*HC~ST*837*1~").encode(), "truncated interchange"),
        ((isa() + "GS*HC~st*837~").encode(), "segment id"),
        ((isa() + "GS*HC~TOOLONG*1~").encode(), "segment id"),
        ((isa() + "GS*HC~\x00\x01\x02*1~").encode(), "segment id"),
    ],
)
def test_bad_input_raises_typed_error_naming_where(data, needle):
    with pytest.raises(X12SyntaxError) as exc:
        toks(data)
    assert needle in str(exc.value)
    # the location is always part of the message
    assert "line" in str(exc.value) or "byte" in str(exc.value)


def test_error_messages_carry_no_element_values():
    data = (isa() + "GS*HC~ST*837*1~NM1*IL*1*SECRETNAME~bad id*1~").encode()
    with pytest.raises(X12SyntaxError) as exc:
        toks(data)
    assert "SECRETNAME" not in str(exc.value)
    assert exc.value.location.segment_index == 5


# --- properties ------------------------------------------------------------
_DELIM_POOL = [c for c in string.punctuation + "\x1c\x1d\x1e\x1f|" if c not in " "] + ["\n"]
_VALUE = st.text(alphabet=string.ascii_letters + string.digits + " .-()/#&'+", max_size=12)


@st.composite
def delimiter_sets(draw):
    e, c, r = draw(st.lists(st.sampled_from([x for x in _DELIM_POOL if x != "\n"]), min_size=3, max_size=3, unique=True))
    t = draw(st.sampled_from([x for x in _DELIM_POOL if x not in (e, c, r)]))
    return Delimiters(e, c, r, t)


def _clean(value: str, d: Delimiters) -> str:
    """X12 data never contains its own delimiters."""
    return "".join(ch for ch in value if ch not in (d.element, d.component, d.repetition, d.segment))


@settings(max_examples=150, deadline=None)
@given(d=delimiter_sets(), rows=st.lists(st.lists(_VALUE, min_size=1, max_size=8), min_size=1, max_size=20),
       chunk=st.sampled_from([1, 5, 64, 1 << 20]), newline=st.booleans())
def test_random_delimiters_and_values_round_trip(d, rows, chunk, newline):
    segs = [["ISA", "00", "", "00", "", "ZZ", "S", "ZZ", "R", "230101", "1200", d.repetition, "00501", "000000001", "0", "T", d.component]]
    segs.append(["GS", "HC", "S", "R", "20230101", "1200", "1", "X", "005010X222A1"])
    segs.append(["ST", "837", "0001"])
    for n, row in enumerate(rows):
        segs.append(["N" + str(n % 10) + "X"[: n % 2]] + [_clean(v, d) for v in row])
    segs += [["SE", "1", "0001"], ["GE", "1", "1"], ["IEA", "1", "000000001"]]
    text = write_segments(segs, d, newline=newline)
    t = Tokenizer(text.encode(), chunk_size=chunk)
    got = [x[0] for x in t]
    assert t.delimiters == d
    expected = [list(s) for s in segs]
    expected[0] = got[0]  # ISA fields are padded to their fixed widths by the writer
    assert got == expected
    assert got[0][16] == d.component


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(lambda b: isa().encode() + b)))
def test_random_bytes_only_raise_the_typed_error(data):  # raw junk, and junk after a good ISA
    try:
        list(Tokenizer(data))
    except X12SyntaxError:
        pass


@settings(max_examples=200, deadline=None)
@given(prefix=st.binary(max_size=50), cut=st.floats(min_value=0, max_value=1), junk=st.binary(max_size=30))
def test_mangled_interchanges_only_raise_the_typed_error(prefix, cut, junk):
    data = (isa() + BODY).encode()
    cut = int(cut * len(data))  # a position inside the interchange
    data = prefix + data[:cut] + junk + data[cut:]
    try:
        list(Tokenizer(data))
    except X12SyntaxError:
        pass


def test_writer_refuses_values_holding_a_delimiter_and_names_the_element():
    from x12engine import BuildError

    with pytest.raises(BuildError) as exc:
        write_segments([["NM1", "IL", "1", "DOE*SECRET"]], Delimiters())
    assert exc.value.location.element == "NM103" and "SECRET" not in str(exc.value)
    with pytest.raises(BuildError):
        write_segments([["NM1", "IL", "A~B"]], Delimiters())


# --- the fast path and the general loop agree -------------------------------
def _layouts():
    one = isa() + BODY
    lf = isa() + "\n" + BODY.replace("~", "~\n")
    crlf = isa() + "\r\n" + BODY.replace("~", "~\r\n")
    nl_term = isa(segment="\n") + BODY.replace("~", "\n")
    two = one + "\n" + isa("|", ">", "{", "!", control="000000002") + BODY.replace("*", "|").replace("~", "!")
    return {
        "one line": one,
        "one per line": lf,
        "crlf": crlf,
        "newline terminator": nl_term,
        "indented": lf.replace("~\nST", "~\n   ST").replace("~\nSE", "~\n\tSE"),
        "blank lines": lf.replace("~\nSE", "~\n\nSE"),
        "newline terminator, blank line": nl_term.replace("\nSE", "\n\nSE"),
        "space after terminator": one.replace("~ST", "~ ST"),
        "two interchanges": two,
        "three, text between": lf + "junk\n" + crlf.replace("000000001", "000000002") + "  \n" + one,
        "bare IEA": isa() + BODY.replace("IEA*1*000000001~", "IEA~") + isa(control="000000002") + BODY,
        "IEA inside a value": isa() + BODY.replace("ST*837*0001", "ST*837*0001~NM1*XIEA*IEA") + isa(control="000000002") + BODY,
        "stray CR": lf.replace("~\nSE", "~\r\nSE"),
        "two segments on a line": lf.replace("~\nSE", "~SE"),
    }


@pytest.mark.parametrize("name", sorted(_layouts()))
@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_fast_path_and_general_loop_give_the_same_segments(name, chunk, monkeypatch):
    data = _layouts()[name].encode()
    fast = Tokenizer(data, chunk_size=chunk)
    expected = list(fast)
    monkeypatch.setattr("x12engine.tokenizer._fast_batch", lambda *a: None)
    general = Tokenizer(data, chunk_size=chunk)
    assert list(general) == expected
    assert [f.code for f in general.findings] == [f.code for f in fast.findings]
    assert [t[0][0] for t in expected].count("IEA") == fast.interchanges


def test_batches_hold_one_interchange_each_and_flatten_to_the_iteration():
    data = (isa() + BODY + isa("|", ">", "{", "!", control="000000002") + BODY.replace("*", "|").replace("~", "!")).encode()
    t = Tokenizer(data)
    seen = []
    for batch in t.batches():
        assert batch and all(type(tok) is tuple for tok in batch)
        assert len({tok[0][0] == "ISA" for tok in batch[1:]} - {False}) == 0  # an ISA only opens a batch
        seen.append((batch[0][0][0], t.delimiters.element))
        assert all(len(tok[0]) == 1 or t.delimiters.element not in "".join(tok[0]) for tok in batch)
    assert seen == [("ISA", "*"), ("ISA", "|")]
    assert [tok for b in Tokenizer(data).batches() for tok in b] == list(Tokenizer(data))


def test_segments_before_a_bad_id_still_reach_the_caller():
    data = (isa() + "GS*HC~ST*837*1~NM1*IL*1*X~bad id*1~").encode()
    got = []
    with pytest.raises(X12SyntaxError):
        for tok in Tokenizer(data):
            got.append(tok[0][0])
    assert got == ["ISA", "GS", "ST", "NM1"]


def test_punctuation_isa11_under_a_stale_00401_is_the_repetition_separator():
    # a 5010 interchange whose ISA12 was left at 00401: ISA11 '^' still splits repetitions
    data = (isa(repetition="^", version="00401") + BODY.replace("SE*", "EB*1**1^33^35~SE*", 1)).encode()
    t = Tokenizer(data)
    eb = [x[0] for x in t if x[0][0] == "EB"]
    assert t.delimiters.repetition == "^"
    assert [f.code for f in t.findings] == ["isa12_mislabeled"]
    assert "00401" in t.findings[0].message and "1^33" not in t.findings[0].message
    assert eb == [["EB", "1", "", "1^33^35"]]  # tokens keep the text; readers split on the separator


def test_isa11_is_the_repetition_separator_from_00402_on():
    t = Tokenizer((isa(repetition="`", version="00402") + BODY).encode())
    list(t)
    assert t.delimiters.repetition == "`"
    assert t.findings == []


@pytest.mark.parametrize("chunk", [1, 2, 5, 64, 1 << 16])
def test_bytes_that_are_not_utf8_are_kept_and_reported_once_with_their_offset(chunk):
    body = BODY.replace("GS*HC*S*R", "GS*HC*S*R~NM1*IL*1*MU\xd1OZ\x92", 1)
    data = b"\xef\xbb\xbf" + (isa() + body).encode("latin-1")
    t = Tokenizer(data, chunk_size=chunk)
    nm1 = [x[0] for x in t if x[0][0] == "NM1"][0]
    first = data.index(b"\xd1")
    assert [(f.code, f.location.offset) for f in t.findings] == [("not_utf8", first)]
    assert "2 byte(s)" in t.findings[0].message and "MU" not in t.findings[0].message
    assert nm1[3].encode("utf-8", "surrogateescape") == "MU\xd1OZ\x92".encode("latin-1")


def test_utf8_text_is_not_reported():
    data = (isa() + BODY.replace("GS*HC*S*R", "GS*HC*S*R~NM1*IL*1*MUÑOZ", 1)).encode("utf-8")
    t = Tokenizer(data, chunk_size=3)  # a character split across reads
    assert [x[0][3] for x in t if x[0][0] == "NM1"] == ["MUÑOZ"]
    assert t.findings == []


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("chunk", [1, 7, 1 << 16])
def test_a_utf16_file_reads_like_its_utf8_text_with_a_warning(codec, chunk):
    text = isa() + BODY
    t = Tokenizer(text.encode(codec), chunk_size=chunk)
    assert [x[0] for x in t] == [x[0] for x in Tokenizer(text.encode())]
    assert [f.code for f in t.findings] == ["utf16"]


def test_a_blank_isa11_is_no_separator():
    t = Tokenizer((isa(repetition=" ") + BODY).encode())
    list(t)
    assert t.delimiters.repetition is None
    assert [f.code for f in t.findings] == ["isa11_not_separator"]


@pytest.mark.parametrize("chunk", [1, 4, 1 << 16])
def test_a_multibyte_character_cut_off_at_the_end_is_reported_where_it_starts(chunk):
    data = (isa() + BODY).encode() + "\n€".encode()[:-1]  # the last byte of '€' is missing
    t = Tokenizer(data, chunk_size=chunk)
    list(t)
    not_utf8 = [f for f in t.findings if f.code == "not_utf8"]
    assert [(f.location.offset, f.message.split(" byte")[0]) for f in not_utf8] == [(len(data) - 2, "2")]
