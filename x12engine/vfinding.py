"""The validation finding: where, what, and the acknowledgment codes it implies."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# IK304 (segment syntax error) codes, 005010X231A1
IK3_UNRECOGNIZED = "1"
IK3_UNEXPECTED = "2"
IK3_REQUIRED_MISSING = "3"
IK3_LOOP_OVER_MAX = "4"
IK3_SEGMENT_OVER_MAX = "5"
IK3_NOT_IN_SET = "6"
IK3_OUT_OF_SEQUENCE = "7"
IK3_ELEMENT_ERRORS = "8"
IK3_NOT_USED = "I4"

# IK5 (transaction set) codes
IK5_NOT_SUPPORTED = "1"
IK5_TRAILER_MISSING = "2"
IK5_CONTROL_MISMATCH = "3"
IK5_COUNT_MISMATCH = "4"
IK5_SEGMENTS_IN_ERROR = "5"
IK5_BAD_SET_ID = "6"
IK5_BAD_CONTROL_NUMBER = "7"
IK5_DUPLICATE_CONTROL = "23"
IK5_CONVENTION_NOT_SUPPORTED = "I6"

# AK905 (functional group) codes
AK9_NOT_SUPPORTED = "1"
AK9_VERSION_NOT_SUPPORTED = "2"
AK9_TRAILER_MISSING = "3"
AK9_CONTROL_MISMATCH = "4"
AK9_COUNT_MISMATCH = "5"
AK9_BAD_CONTROL_NUMBER = "6"
AK9_DUPLICATE_CONTROL = "19"

# TA105 (interchange note) codes by ISA element, and the structural ones
TA1_BY_ISA = {1: "010", 2: "011", 3: "012", 4: "013", 5: "005", 6: "006", 7: "007", 8: "008",
              9: "014", 10: "015", 11: "026", 12: "017", 13: "018", 14: "019", 15: "020", 16: "027"}
TA1_CONTROL_MISMATCH = "001"
TA1_VERSION = "017"
TA1_GROUP_COUNT = "021"
TA1_STRUCTURE = "022"
TA1_EOF = "023"
TA1_CONTENT = "024"
TA1_DUPLICATE = "025"


@dataclass(slots=True)
class Finding:
    """One validation finding.

    ``ref`` names the segment element like the implementation guides do
    (``NM1-09``, ``SV1-01-2``); ``position`` is the segment's position in its
    transaction set (ST = 1, the 999's IK302); ``segment_index`` its position
    in the file. ``ik3``/``ik4``/``ik5``/``ak9``/``ta1`` are the acknowledgment
    codes a 999 or TA1 reports it with. ``value`` is only filled when the
    caller asked to see values (they may be PHI).
    """

    severity: str  # error | warning
    code: str  # stable machine code, e.g. element_too_long
    message: str
    file: str | None = None
    interchange: str | None = None  # ISA13
    group: str | None = None  # GS06
    transaction: str | None = None  # ST02
    set_id: str | None = None  # ST01
    line: int | None = None
    segment_index: int | None = None
    position: int | None = None
    segment_id: str | None = None
    loop: str | None = None
    ref: str | None = None
    element: int | None = None
    component: int | None = None
    repetition: int | None = None
    data_element: str | None = None
    ik3: str | None = None
    ik4: str | None = None
    ik5: str | None = None
    ak9: str | None = None
    ta1: str | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def text(self) -> str:
        """One line: file, line, segment position, loop, reference, code, message."""
        parts = [self.file or "-"]
        parts.append(f"line {self.line}" if self.line is not None else "line -")
        if self.position is not None:
            parts.append(f"seg {self.position}")
        elif self.segment_index is not None:
            parts.append(f"file seg {self.segment_index}")
        parts.append(f"loop {self.loop}" if self.loop else "loop -")
        parts.append(self.ref or self.segment_id or "-")
        parts.append(f"{self.severity} {self.code}")
        msg = self.message
        if self.value is not None:
            msg += f" [value {self.value!r}]"
        parts.append(msg)
        return ": ".join(parts)

    __str__ = text


def element_ref(segment_id: str, element: int | None, component: int | None = None) -> str:
    """``NM1-09``, ``SV1-01-2``: the reference style of the guides' error reports."""
    if element is None:
        return segment_id
    ref = f"{segment_id}-{element:02d}"
    if component is not None:
        ref += f"-{component}"
    return ref
