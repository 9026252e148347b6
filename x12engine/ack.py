"""Acknowledgments from a validation result: 999 (005010X231A1) and TA1.

Each input interchange gets one acknowledgment interchange back (sender and
receiver swapped); for a 999 it holds one functional group (GS01 FA) with one
999 per acknowledged functional group. The 999 reports each set (AK2), each
segment in error (IK3 with its position in the set and loop id) and each
element in error (IK4 with element:component:repetition and the data element
number), then IK5 and AK9 with the received and accepted counts. Copies of bad
values (IK404) are never written: they may be PHI.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from .errors import X12Error
from .tokenizer import Delimiters
from .registry import functional_group
from .validate import GroupReport, InterchangeReport, SetReport, ValidationResult
from .vfinding import IK5_SEGMENTS_IN_ERROR, Finding
from .writer import write_segments

GUIDE_999 = "005010X231A1"
_LOOP_ID_MAX = 4  # element 447 (IK303, loop identifier) is AN 1/4 in 005010
# the 999 guide's AK101 codes (005010X231A1; no FA: acknowledgments are not acknowledged)
_AK101 = frozenset({"BE", "HB", "HC", "HI", "HN", "HP", "HR", "HS", "RA"})


class AckError(X12Error):
    """The input holds nothing a 999 may acknowledge."""


@dataclass(slots=True)
class AckSettings:
    """Envelope choices for the acknowledgment interchange."""

    control_number: int = 1
    usage: str | None = None  # ISA15; default: the acknowledged interchange's
    now: _dt.datetime | None = None
    delimiters: Delimiters | None = None  # default: the acknowledged interchange's
    newline: bool = True


def _el(els: list[str] | None, n: int) -> str:
    return els[n] if els is not None and n < len(els) else ""


def _isa(ir: InterchangeReport, s: AckSettings, d: Delimiters, ctl: int, when: _dt.datetime) -> list[str]:
    h = ir.header
    return ["ISA", "00", "", "00", "", _el(h, 7).strip() or "ZZ", _el(h, 8).strip(), _el(h, 5).strip() or "ZZ", _el(h, 6).strip(),
            when.strftime("%y%m%d"), when.strftime("%H%M"), d.repetition or "U", "00501", f"{ctl:09d}", "0",
            s.usage or _el(h, 15).strip() or "P", d.component]


def _delims(ir: InterchangeReport, s: AckSettings) -> Delimiters:
    """The settings' delimiters, else those of the interchange answered: its sender reads them."""
    return s.delimiters or ir.delimiters or Delimiters()


def _ik3_groups(findings: list[Finding]) -> list[tuple[tuple, list[Finding]]]:
    """Segment-level findings by (position, segment id, IK304), in order of position."""
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:
        if f.severity != "error" or not f.ik3 or f.position is None:
            continue
        key = (f.position, f.segment_id or "", f.ik3, f.loop or "")
        groups.setdefault(key, []).append(f)
    return sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2] != "8"))


def set_segments(sr: SetReport, comp: str) -> tuple[list[list[str]], bool]:
    """AK2 … IK5 for one transaction set; the flag says whether it was accepted."""
    out = [["AK2", _el(sr.header, 1), _el(sr.header, 2)] + ([_el(sr.header, 3)] if _el(sr.header, 3) else [])]
    errors = [f for f in sr.findings if f.severity == "error"]
    seg_errors = False
    for (position, sid, ik3, loop), fs in _ik3_groups(errors):
        seg_errors = True
        ik3seg = ["IK3", sid, str(position), loop if 0 < len(loop) <= _LOOP_ID_MAX else "", ik3]
        out.append(ik3seg)
        for f in fs:
            if not f.ik4 or f.element is None:
                continue
            pos = str(f.element)
            if f.component is not None or f.repetition is not None:
                pos += comp + (str(f.component) if f.component is not None else "")
            if f.repetition is not None:
                pos += comp + str(f.repetition)
            out.append(["IK4", pos, f.data_element or "", f.ik4])
    codes: list[str] = []
    for f in errors:
        if f.ik5 and f.ik5 not in codes:
            codes.append(f.ik5)
    if seg_errors and IK5_SEGMENTS_IN_ERROR not in codes:
        codes.append(IK5_SEGMENTS_IN_ERROR)
    accepted = not errors
    warned = any(f.severity == "warning" and (f.ik3 or f.ik5) for f in sr.findings)
    out.append(["IK5", "A" if accepted and not warned else "E" if accepted else "R", *codes[:5]])
    return out, accepted


def group_999(gr: GroupReport, comp: str, control: str) -> list[list[str]]:
    """ST … SE of the 999 acknowledging one functional group."""
    gs01 = _el(gr.header, 1)
    if gs01 not in _AK101:  # an unknown functional id cannot be echoed: name the group its sets belong to
        gs01 = next((g for g in (functional_group(_el(sr.header, 1)) for sr in gr.sets) if g), gs01)
    body: list[list[str]] = [["ST", "999", control, GUIDE_999],
                             ["AK1", gs01, _el(gr.header, 6), _el(gr.header, 8)]]
    accepted = 0
    for sr in gr.sets:
        segs, ok = set_segments(sr, comp)
        body.extend(segs)
        accepted += ok
    received = len(gr.sets)
    ge01 = _el(gr.trailer, 1)
    included = ge01 if ge01.isdigit() else str(received)
    group_codes: list[str] = []
    for f in gr.findings:
        if f.severity == "error" and f.ak9 and f.ak9 not in group_codes:
            group_codes.append(f.ak9)
    if group_codes or accepted == 0:
        ak901 = "R"
    elif accepted == received:
        ak901 = "A"
    else:
        ak901 = "P"
    body.append(["AK9", ak901, included, str(received), str(accepted), *group_codes[:5]])
    body.append(["SE", str(len(body) + 1), control])
    return body


def acknowledgeable(gr: GroupReport) -> bool:
    """Whether a 999 may acknowledge this group: the 005010X231A1 AK101 list (BE HB HC HI HN HP HR HS RA)
    has no FA, so groups of acknowledgments (999s, 997s) are never acknowledged."""
    gs01 = _el(gr.header, 1)
    if gs01 == "FA":
        return False
    return bool(gs01 in _AK101 or not gr.sets or any(_el(sr.header, 1) not in ("999", "997") for sr in gr.sets))


def ack_999(result: ValidationResult, settings: AckSettings | None = None) -> str:
    """999 acknowledgments for every functional group of ``result``, one interchange per input interchange.

    Groups of acknowledgments (GS01 FA) are left out: the 999 guide does not
    acknowledge them. Raises :class:`AckError` when nothing is left to acknowledge.
    """
    s = settings or AckSettings()
    when = s.now or _dt.datetime.now()
    texts: list[str] = []
    ctl = s.control_number
    skipped = 0
    for ir in result.interchanges:
        groups = [gr for gr in ir.groups if acknowledgeable(gr)]
        skipped += len(ir.groups) - len(groups)
        if not groups:
            continue
        d = _delims(ir, s)
        segs: list[list[str]] = [_isa(ir, s, d, ctl, when)]
        first = groups[0].header
        sender = _el(first, 3) if len(_el(first, 3)) >= 2 else _el(ir.header, 8).strip()
        receiver = _el(first, 2) if len(_el(first, 2)) >= 2 else _el(ir.header, 6).strip()
        segs.append(["GS", "FA", sender, receiver, when.strftime("%Y%m%d"),
                     when.strftime("%H%M"), str(ctl), "X", GUIDE_999])
        for n, gr in enumerate(groups, 1):
            segs.extend(group_999(gr, d.component, f"{n:04d}"))
        segs.append(["GE", str(len(groups)), str(ctl)])
        segs.append(["IEA", "1", f"{ctl:09d}"])
        texts.append(write_segments(segs, d, newline=s.newline))
        ctl += 1
    if not texts:
        why = (f"its {skipped} functional group(s) hold acknowledgments (GS01 FA), which the 999 guide "
               f"005010X231A1 does not acknowledge (AK101 has no FA); a TA1 (--type TA1) still answers the interchange"
               if skipped else "it holds no functional group")
        raise AckError(f"nothing to acknowledge with a 999: {why}")
    return "".join(texts)


def ta1_segment(ir: InterchangeReport) -> list[str]:
    """The TA1 answering one interchange: accepted (000) or the first interchange-level problem."""
    errors = [f for f in ir.findings if f.severity == "error" and f.ta1]
    note = errors[0].ta1 if errors else "000"
    code = "R" if errors else "A"
    return ["TA1", _el(ir.header, 13), _el(ir.header, 9), _el(ir.header, 10), code, note]


def ack_ta1(result: ValidationResult, settings: AckSettings | None = None) -> str:
    """One interchange per input interchange holding its TA1 (accepted ones included)."""
    s = settings or AckSettings()
    when = s.now or _dt.datetime.now()
    texts: list[str] = []
    ctl = s.control_number
    for ir in result.interchanges:
        d = _delims(ir, s)
        texts.append(write_segments([_isa(ir, s, d, ctl, when), ta1_segment(ir), ["IEA", "0", f"{ctl:09d}"]], d, newline=s.newline))
        ctl += 1
    return "".join(texts)
