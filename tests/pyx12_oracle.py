"""pyx12 as a test oracle, and the fixture mutations the differential test feeds both validators.

``verdict`` runs pyx12's ``x12n_document`` and reads its 999: which transaction
sets it rejected and at which segment positions (IK3), so a disagreement can be
named down to the segment. ``mutate`` turns a valid fixture into a broken one
deterministically from (kind, segment index, element index), so a disagreement
found by hypothesis is listed under a stable key and can be replayed.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

KINDS = ("drop", "overflow", "code", "count", "duplicate")


@dataclass(frozen=True)
class Verdict:
    status: str  # accepted | rejected | unreadable (pyx12's reader refuses the file) | no-map (no pyx12 map for the guide)
    segments: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)  # (ST02, segment id, IK302 position)
    sets: frozenset[str] = field(default_factory=frozenset)  # ST02 of the sets it rejected
    detail: str = ""


def verdict(text: str) -> Verdict:
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    ack = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), ack, None, None)
    except pyx12.errors.EngineError as e:
        return Verdict("no-map", detail=str(e).split(".")[0])
    except UnicodeError:
        return Verdict("unreadable", detail="non-ASCII bytes")
    out = ack.getvalue()
    if ok:
        return Verdict("accepted")
    if len(out) < 106:
        return Verdict("unreadable", detail="pyx12's reader refused the file")
    sep, term = out[3], out[105]
    segs = [s.strip().split(sep) for s in out.split(term) if s.strip()]
    positions: set[tuple[str, str, str]] = set()
    sets: set[str] = set()
    st02 = ""
    for s in segs:
        if s[0] == "AK2" and len(s) > 2:
            st02 = s[2]
        elif s[0] == "IK3" and len(s) > 2:
            positions.add((st02, s[1], s[2]))
        elif s[0] == "IK5" and len(s) > 1 and s[1] != "A":
            sets.add(st02)
    return Verdict("rejected", frozenset(positions), frozenset(sets))


# ----------------------------------------------------------------------------
# mutations of a one-segment-per-line fixture
# ----------------------------------------------------------------------------
def _split(text: str) -> tuple[list[list[str]], str]:
    term = text[105]
    segs = [s.strip("\r\n").split("*") for s in text.split(term)]
    if segs and segs[-1] == [""]:
        segs.pop()
    return segs, term


def _join(segs: list[list[str]], term: str) -> str:
    return (term + "\n").join("*".join(s) for s in segs) + term + "\n"


def body_range(text: str) -> range:
    """Indexes of the body segments (between the first ST and its SE)."""
    segs, _ = _split(text)
    st = next(i for i, s in enumerate(segs) if s[0] == "ST")
    se = next(i for i, s in enumerate(segs) if s[0] == "SE")
    return range(st + 1, se)


def _fix_se01(segs: list[list[str]]) -> None:
    st = next(i for i, s in enumerate(segs) if s[0] == "ST")
    se = next(i for i, s in enumerate(segs) if s[0] == "SE")
    segs[se][1] = str(se - st + 1)


def mutate(text: str, kind: str, seg: int, element: int) -> tuple[str, str] | None:
    """(mutated text, stable key) or None when the mutation does not apply to that segment/element.

    ``seg`` indexes the body segments (modulo their count); ``element`` the elements of that segment.
    """
    segs, term = _split(text)
    body = body_range(text)
    i = body[seg % len(body)]
    s = segs[i]
    j = 1 + element % max(1, len(s) - 1)
    if kind == "drop":
        key = f"drop {s[0]}@{i}"
        del segs[i]
        _fix_se01(segs)
    elif kind == "duplicate":
        key = f"duplicate {s[0]}@{i}"
        segs.insert(i, list(s))
        _fix_se01(segs)
    elif kind == "overflow":
        if j >= len(s) or not s[j]:
            return None
        key = f"overflow {s[0]}{j:02d}@{i}"
        s[j] = s[j] + "9" * 90
    elif kind == "code":
        if j >= len(s) or not (1 <= len(s[j]) <= 3 and s[j].isalnum()):
            return None
        key = f"code {s[0]}{j:02d}@{i}"
        s[j] = "Q9" if s[j] != "Q9" else "Q8"
    elif kind == "count":
        trailers = [k for k, x in enumerate(segs) if x[0] in ("SE", "GE", "IEA")]
        k = trailers[element % len(trailers)]
        field_no = 1 + seg % 2
        key = f"count {segs[k][0]}{field_no:02d}"
        v = segs[k][field_no]
        segs[k][field_no] = str(int(v) + 1).zfill(len(v)) if v.isdigit() else v + "1"
    else:
        raise ValueError(kind)
    return _join(segs, term), key
