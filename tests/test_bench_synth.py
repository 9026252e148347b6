"""The benchmarks' grown files are what they claim: the fixture's shape, valid, at the size asked."""
from __future__ import annotations

import pytest

from conftest import FIXTURES, grow
from x12engine import Tokenizer
from x12engine.validate import validate


@pytest.mark.parametrize("fixture", ["835-payment.x12", "837p-claims.x12"])
def test_a_grown_file_validates_as_cleanly_as_its_fixture(fixture, tmp_path):
    path = tmp_path / fixture
    path.write_text(grow(FIXTURES / fixture, 3000))
    assert 3000 <= sum(1 for _ in Tokenizer(path)) < 3200
    assert [f.code for f in validate(path).errors] == [f.code for f in validate(FIXTURES / fixture).errors] == []
    if fixture.startswith("835"):
        lx = [t[0][1] for t in Tokenizer(path) if t[0][0] == "LX"]
        assert len(lx) > 10 and len(set(lx)) == len(lx)
