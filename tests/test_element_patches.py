"""Elements a map does not model, inside segments it does, survive a rebuild: they are
kept under `unmapped` as a patch of their segment and written back into it."""
from __future__ import annotations

import pytest

from conftest import FIXTURES
import x12engine


def _with_extra(text: str, occurrence: int) -> tuple[str, str, str]:
    """The fixture with NM110/NM111 added to its n-th NM1 (no map reads them)."""
    term = text[105]
    segs = text.split(term)
    hits = [i for i, s in enumerate(segs) if s.strip().startswith("NM1*")]
    i = hits[occurrence % len(hits)]
    old = segs[i].strip()
    fields = old.split("*")
    fields += [""] * (10 - len(fields))
    new = "*".join(fields[:10] + ["ZX9", "QQ7"])
    segs[i] = segs[i].replace(old, new)
    return term.join(segs), old, new


@pytest.mark.parametrize("name", ["278-request.x12", "837p-claims.x12", "835-payment.x12", "271-response.x12",
                                  "277-response.x12", "276-request.x12", "837i-inpatient.x12"])
@pytest.mark.parametrize("occurrence", [0, 1, 2])
def test_unmodelled_elements_of_a_mapped_segment_are_written_back(name, occurrence):
    text, old, new = _with_extra((FIXTURES / name).read_text(), occurrence)
    doc = x12engine.to_models(text.encode())
    t = doc["transactions"][0]
    assert t["model"] is not None
    patches = [u for u in t.get("unmapped", []) if u.get("patch")]
    assert any(u["id"] == "NM1" and 11 in u["patch"] for u in patches)
    warn = [f for f in t["findings"] if f["code"] == "element_not_mapped"]
    assert warn and all("ZX9" not in f["message"] and "QQ7" not in f["message"] for f in warn)  # no values in messages
    rebuilt = x12engine.to_x12(doc)
    term = rebuilt[105]
    assert new in [s.strip() for s in rebuilt.split(term)], "the extra elements went back into their own NM1"
    again = x12engine.to_models(rebuilt.encode())["transactions"][0]
    assert again["model"] == t["model"]
