"""Read fast paths of the value transforms give what the general path gives."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from x12engine import transforms
from x12engine.codes import load_table
from x12engine.transforms import AMOUNT_PATTERN, MoneyTransform, ReadIssue, _date_read, _number_read


def _number_by_decimal(raw: str) -> int | float | None:
    """The general reading: through Decimal, an integer unless the text has a point (None: not a number)."""
    try:
        d = Decimal(raw)
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    if d == d.to_integral_value() and "." not in raw:
        return int(d)
    return float(d)


@given(st.one_of(
    st.from_regex(r"[0-9]{1,18}(\.[0-9]{0,12})?", fullmatch=True),
    st.from_regex(r"-?[0-9]{0,6}\.?[0-9]{0,6}(E[0-9])?", fullmatch=True).filter(lambda s: any(c.isdigit() for c in s)),
))
def test_numbers_read_as_through_decimal(raw):
    want = _number_by_decimal(raw)
    if want is None:
        with pytest.raises(ReadIssue):
            _number_read(raw)
        return
    got = _number_read(raw)
    assert type(got) is type(want) and got == want


@pytest.mark.parametrize("raw", ["", "1.2.3", "12a", "NaN", "Infinity", "1-2"])
def test_non_numbers_are_read_issues(raw):
    with pytest.raises(ReadIssue):
        _number_read(raw)


def test_dates_are_remembered_within_a_bound(monkeypatch):
    monkeypatch.setattr(transforms, "_DATES", {})
    monkeypatch.setattr(transforms, "_DATES_KEPT", 3)
    days = [f"202401{d:02d}" for d in range(1, 10)]
    for raw in days + days:
        assert _date_read(raw) == f"2024-01-{raw[-2:]}"
        assert len(transforms._DATES) <= 3
    with pytest.raises(ReadIssue):
        _date_read("20240230")  # no such day: not remembered, still a read issue
    assert "20240230" not in transforms._DATES


def test_enum_by_code_is_enum_for_as_one_dict():
    table = load_table("gender")
    mapping = table.enum_by_code()
    assert mapping and all(table.enum_for(code) == enum for code, enum in mapping.items())
    assert all(code in mapping or table.enum_for(code) is None for code in table.codes())


@settings(max_examples=500)
@given(st.text(alphabet="-.0123456789١²e +", max_size=8))
def test_amounts_are_what_the_amount_pattern_matches(raw):
    fits = re.fullmatch(AMOUNT_PATTERN, raw) is not None
    if fits:
        assert MoneyTransform().read(raw, []) == {"amount": raw, "currency": "USD"}
    else:
        with pytest.raises(ReadIssue):
            MoneyTransform().read(raw, [])


def _inline(reader, raw: str):
    expr, names = transforms.INLINE_READS[reader]
    return eval(expr, dict(names), {"raw": raw})  # what the generated code computes


@given(st.one_of(
    st.sampled_from(["0", "007", "1" * 18, "1" * 19, "²", "1²", "٣", "12.50", "-3", ""]),
    st.text(alphabet="0123456789", max_size=22),
    st.text(alphabet="0123456789.-+ e٣²", max_size=12),
    st.text(max_size=10),
))
def test_a_counts_inline_read_is_the_number_readers(raw):
    """The compiler writes the number reader's usual case inline: where it gives a value,
    the reader gives the same; where it gives None, the reader runs."""
    got = _inline(_number_read, raw)
    if got is not None:
        assert got == _number_read(raw) and type(got) is type(_number_read(raw))


@given(st.one_of(st.dates().map(lambda d: d.strftime("%Y%m%d")), st.text(alphabet="0123456789", max_size=9)))
def test_a_dates_inline_read_is_the_date_readers(raw):
    assert _inline(_date_read, raw) is None or _inline(_date_read, raw) == _date_read(raw)
    try:
        expected = _date_read(raw)  # now in the reader's cache, where the inline read finds it
    except ReadIssue:
        assert _inline(_date_read, raw) is None
    else:
        assert _inline(_date_read, raw) == expected


@pytest.mark.parametrize("name", ["date", "number", "decimal"])
def test_the_date_and_number_transforms_have_their_reads_inline(name):
    # what mapgen._convert looks an inline read up by: the transform's own reader
    assert transforms.make(name, ())._reader in transforms.INLINE_READS
