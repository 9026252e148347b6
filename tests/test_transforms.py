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
