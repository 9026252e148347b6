"""Grow a fixture into a large file with the same shape, for benchmarks.

837: the subscriber hierarchy (every HL from the first HL03=22 to SE) is
repeated with fresh HL numbers. 835: the header-number loops (LX to the last
claim) are repeated, LX01 numbered afresh and BPR02 set to the claims' total. SE01 is
recomputed so the result still reads as valid.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from x12engine import Tokenizer
from x12engine.writer import write_segments


def _segments(path: Path):
    t = Tokenizer(path)
    segs = [tok[0] for tok in t]
    return segs, t.delimiters


def grow(path: Path, target_segments: int, newline: bool = True) -> str:
    segs, d = _segments(path)
    st = next(i for i, s in enumerate(segs) if s[0] == "ST")
    se = next(i for i, s in enumerate(segs) if s[0] == "SE")
    body = segs[st:se]
    if body[0][1] == "837":
        start = next(i for i, s in enumerate(body) if s[0] == "HL" and s[3] == "22")
        head, block = body[:start], body[start:]
    elif body[0][1] == "835":
        start = next(i for i, s in enumerate(body) if s[0] in ("LX", "CLP"))
        end = max(i for i, s in enumerate(body) if s[0] in ("CLP", "SVC", "CAS", "AMT", "DTM", "LQ", "REF", "QTY", "NM1", "MIA", "MOA", "PER")) + 1
        head, block = body[:start], body[start:end]
        body_tail = body[end:]
    else:
        raise ValueError(f"no growth rule for {body[0][1]}")
    out = [list(s) for s in segs[:st]] + [list(s) for s in head]
    hl_next = max((int(s[1]) for s in head if s[0] == "HL"), default=0) + 1
    lx_next = 1
    while len(out) < target_segments:
        mapping: dict[str, str] = {}
        for s in block:
            s = list(s)
            if s[0] == "HL":
                new = str(hl_next)
                hl_next += 1
                mapping[s[1]] = new
                s[1] = new
                if s[2] in mapping:
                    s[2] = mapping[s[2]]
            elif s[0] == "LX" and body[0][1] == "835":  # the 835's header numbers are unique in the set
                s[1] = str(lx_next)
                lx_next += 1
            out.append(s)
    if body[0][1] == "835":
        out.extend(list(s) for s in body_tail)
        _balance_835(out)
    count = len(out) - st + 1
    out.append(["SE", str(count), segs[se][2]])
    out.extend(list(s) for s in segs[se + 1 :])
    return write_segments(out, d, newline=newline)


def _balance_835(segs: list[list[str]]) -> None:
    """BPR02 = sum of CLP04 - sum of PLB amounts, so the grown remittance still balances."""
    total = sum((Decimal(s[4]) for s in segs if s[0] == "CLP" and len(s) > 4 and s[4]), Decimal(0))
    total -= sum((Decimal(s[i]) for s in segs if s[0] == "PLB" for i in range(4, len(s), 2) if s[i]), Decimal(0))
    for s in segs:
        if s[0] == "BPR":
            s[2] = f"{total:.2f}"


def write_big(path: Path, fixture: Path, target_bytes: int) -> int:
    """Write one interchange holding ONE transaction set of about ``target_bytes``
    (the fixture's subscriber hierarchies repeated), without holding it in memory;
    returns the segment count. A set this large is what claim streaming is for."""
    segs, d = _segments(fixture)
    st = next(i for i, s in enumerate(segs) if s[0] == "ST")
    se = next(i for i, s in enumerate(segs) if s[0] == "SE")
    body = segs[st:se]
    if body[0][1] != "837":
        raise ValueError("write_big grows 837 fixtures")
    start = next(i for i, s in enumerate(body) if s[0] == "HL" and s[3] == "22")
    head, block = body[:start], body[start:]
    hl_next = max((int(s[1]) for s in head if s[0] == "HL"), default=0) + 1
    count = 0
    written = 0
    with open(path, "w", encoding="ascii", newline="") as fh:
        def put(seg_list):
            nonlocal written
            text = write_segments(seg_list, d, newline=True)
            fh.write(text)
            written += len(text)

        put([list(s) for s in segs[:st]] + [list(s) for s in head])
        count = len(head)
        while written < target_bytes:
            out = []
            for _ in range(200):
                mapping: dict[str, str] = {}
                for s in block:
                    s = list(s)
                    if s[0] == "HL":
                        mapping[s[1]] = str(hl_next)
                        s[1] = str(hl_next)
                        hl_next += 1
                        s[2] = mapping.get(s[2], s[2])
                    out.append(s)
            count += len(out)
            put(out)
        put([["SE", str(count + 1), segs[se][2]]] + [list(s) for s in segs[se + 1:]])
    return st + count + (len(segs) - se)  # ISA, GS; the set (ST..SE); GE, IEA
