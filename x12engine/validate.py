"""Implementation-guide validation: ``x12engine.validate(source)``.

One streaming pass: the parser reads the envelope and chooses each set's
guide; :mod:`.vstructure` checks the set's structure and elements against
tables compiled once per guide position; :mod:`.vrules` adds the guide's prose
rules; this module checks the envelope (control numbers, counts, versions,
duplicates) and keeps per interchange / group / set reports from which
:mod:`.ack` writes 999 and TA1 acknowledgments.
"""
from __future__ import annotations

from operator import itemgetter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from . import vrules
from .gcpause import paused_gc
from .grammar import load_envelope
from .parser import Reader
from .registry import functional_group
from .tokenizer import Delimiters, Source
from .tree import Group, Interchange, Transaction
from .velements import ElementProblem, compile_node
from .vfinding import (
    AK9_CONTROL_MISMATCH, AK9_COUNT_MISMATCH, AK9_DUPLICATE_CONTROL, AK9_NOT_SUPPORTED, AK9_TRAILER_MISSING,
    AK9_VERSION_NOT_SUPPORTED, IK5_BAD_SET_ID, IK5_CONTROL_MISMATCH, IK5_COUNT_MISMATCH,
    IK5_DUPLICATE_CONTROL, IK5_NOT_SUPPORTED, IK5_TRAILER_MISSING, TA1_BY_ISA, TA1_CONTENT, TA1_CONTROL_MISMATCH,
    TA1_DUPLICATE, TA1_EOF, TA1_GROUP_COUNT, TA1_STRUCTURE, Finding, element_ref,
)
from .vstructure import walk

__all__ = ["Finding", "ValidationResult", "validate"]


@dataclass(slots=True, eq=False)
class SetReport:
    header: list[str]  # ST elements
    trailer: list[str] | None  # SE elements
    guide: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


@dataclass(slots=True, eq=False)
class GroupReport:
    header: list[str]  # GS elements
    trailer: list[str] | None = None
    sets: list[SetReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # group-level (AK9)


@dataclass(slots=True, eq=False)
class InterchangeReport:
    header: list[str]  # ISA elements
    delimiters: Delimiters | None = None  # the interchange's own: what an acknowledgment answers in
    trailer: list[str] | None = None
    groups: list[GroupReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # interchange-level (TA1)


@dataclass(slots=True, eq=False)
class ValidationResult:
    """Every finding of one source, plus the envelope reports acknowledgments are written from."""

    file: str | None
    findings: list[Finding] = field(default_factory=list)
    interchanges: list[InterchangeReport] = field(default_factory=list)
    segments: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)


class _Validator:
    def __init__(self, source: Source, name: str | None, show_values: bool, guide):
        self.reader = Reader(source, name=name, guide=guide)
        self.reader.record_placement = True  # the walk checks the structure the reader decided
        self.name = self.reader.name
        self.show = show_values
        self.result = ValidationResult(self.name)
        self.env = load_envelope()
        self.inter_reports: dict[int, InterchangeReport] = {}
        self.group_reports: dict[int, GroupReport] = {}

    # -- findings ---------------------------------------------------------------
    def _finding(self, severity: str, code: str, message: str, *, inter: Interchange | None = None, group: Group | None = None,
                 txn_header: list[str] | None = None, tok: tuple | None = None, st_index: int | None = None,
                 loop: str | None = None, problem: ElementProblem | None = None, segment_id: str | None = None,
                 **codes: str) -> Finding:
        f = Finding(severity, code, message, file=self.name)
        if inter is not None:
            f.interchange = inter.control_number
        if group is not None:
            f.group = group.control_number
        if txn_header is not None:
            f.set_id = txn_header[1] if len(txn_header) > 1 else None
            f.transaction = txn_header[2] if len(txn_header) > 2 else None
        if tok is not None:
            f.segment_id = segment_id or tok[0][0]
            f.line = tok[3]
            f.segment_index = tok[1]
            if st_index is not None and tok[1] is not None:
                f.position = tok[1] - st_index + 1
        elif segment_id:
            f.segment_id = segment_id
        f.loop = loop or None
        if problem is not None:
            f.element, f.component, f.repetition, f.data_element = problem.element, problem.component, problem.repetition, problem.data_element
            f.ik4 = problem.code if problem.code != "7W" else None
            if self.show and problem.value is not None:
                f.value = problem.value
        if f.segment_id:
            f.ref = element_ref(f.segment_id, f.element, f.component)
        for k, v in codes.items():
            setattr(f, k, v)
        self.result.findings.append(f)
        return f

    # -- reports ------------------------------------------------------------------
    def _inter(self, inter: Interchange) -> InterchangeReport:
        r = self.inter_reports.get(id(inter))
        if r is None:
            r = self.inter_reports[id(inter)] = InterchangeReport(list(inter.header[0]), inter.delimiters)
            self.result.interchanges.append(r)
        return r

    def _group(self, inter: Interchange, group: Group) -> GroupReport:
        r = self.group_reports.get(id(group))
        if r is None:
            r = self.group_reports[id(group)] = GroupReport(list(group.header[0]))
            self._inter(inter).groups.append(r)
        return r

    # -- the pass -----------------------------------------------------------------
    def run(self) -> ValidationResult:
        with paused_gc():  # trees and findings: many new containers, no cycles
            for ctx in self.reader.transactions(keep=False):
                self._transaction(ctx.interchange, ctx.group, ctx.transaction)
        self._reader_findings()
        for inter in self.reader.document.interchanges:
            self._interchange(inter)
        self._duplicates()
        return self.result

    def _transaction(self, inter: Interchange, group: Group, txn: Transaction) -> None:
        greport = self._group(inter, group)
        st = txn.header
        report = SetReport(list(st[0]), list(txn.trailer[0]) if txn.trailer is not None else None, txn.guide)
        greport.sets.append(report)
        index = vrules.SetIndex(txn.body)  # one tree pass: loops for the rules (and the segments without a record)
        if txn.placement is not None:
            toks, places = txn.placement
        else:
            toks, places = index.tokens, None
            if all(t[1] is not None for t in toks):  # HL loops hang under their parents: back to document order
                toks.sort(key=_INDEX)
        self.result.segments += len(toks)
        st_index = st[1]
        header = st[0]
        before = len(self.result.findings)
        comp = inter.delimiters.component
        rep = inter.delimiters.repetition

        def emit(tok, loop_id, severity, code, message, ik3, problem, segment_id):
            self._finding(severity, code, message, inter=inter, group=group, txn_header=header, tok=tok, st_index=st_index,
                          loop=loop_id, problem=problem, segment_id=segment_id, ik3=ik3)

        table = txn.table
        if table is not None:
            walk(table, toks, comp, rep, emit, places)
            vrules.check(txn, comp, emit, inter, group, index)  # guide rules, 835 balancing among them
        st01 = header[1] if len(header) > 1 else ""
        gs01 = group.header[0][1] if len(group.header[0]) > 1 else ""
        expected = functional_group(st01)
        if expected and gs01 and gs01 != expected:
            self._finding("error", "gs01_mismatch", f"GS01 {gs01!r} does not match transaction set {st01} (expects {expected!r})",
                          inter=inter, group=group, txn_header=header, tok=st, st_index=st_index, ik5=IK5_BAD_SET_ID)
        gs08 = group.version
        st03 = header[3] if len(header) > 3 else ""
        if st03 and gs08 and st03 != gs08:
            self._finding("warning", "st03_gs08_mismatch", f"ST03 {st03!r} differs from GS08 {gs08!r}",
                          inter=inter, group=group, txn_header=header, tok=st, st_index=st_index)
        se = txn.trailer
        if se is not None:
            sel = se[0]
            se01 = sel[1] if len(sel) > 1 else ""
            if se01 != str(len(toks)):
                self._finding("error", "se01_count", f"SE01 says {se01 or 'nothing'} but the set has {len(toks)} segments",
                              inter=inter, group=group, txn_header=header, tok=se, st_index=st_index, ik5=IK5_COUNT_MISMATCH)
            se02 = sel[2] if len(sel) > 2 else ""
            if se02 != txn.control_number:
                self._finding("error", "se02_control", f"SE02 {se02!r} does not repeat ST02 {txn.control_number!r}",
                              inter=inter, group=group, txn_header=header, tok=se, st_index=st_index, ik5=IK5_CONTROL_MISMATCH)
        report.findings.extend(self.result.findings[before:])

    def _reader_findings(self) -> None:
        """Tokenizer and envelope-machine findings (body placement is re-checked by the walk)."""
        codes = {"missing_se": {"ik5": IK5_TRAILER_MISSING}, "missing_ge": {"ak9": AK9_TRAILER_MISSING},
                 "missing_iea": {"ta1": TA1_EOF}, "no_grammar": {"ik5": IK5_NOT_SUPPORTED},
                 "missing_gs": {"ta1": TA1_STRUCTURE}}
        for rf in self.reader.findings:
            loc = rf.location
            if rf.code == "unexpected_segment" and loc.transaction is not None and loc.loop is not None:
                continue  # body segments: reported by the walk with their 999 codes
            extra = codes.get(rf.code, {})
            if rf.code == "unexpected_segment":
                extra = {"ta1": TA1_STRUCTURE}
            f = Finding(rf.severity, rf.code, rf.message, file=self.name, interchange=loc.interchange, group=loc.group,
                        transaction=loc.transaction, line=loc.line, segment_index=loc.segment_index, segment_id=loc.segment_id,
                        loop=loc.loop, ref=loc.segment_id, **extra)
            self.result.findings.append(f)
            self._attach(f)

    def _attach(self, f: Finding) -> None:
        """Put a late finding on the report of its set or group (by control number)."""
        for ir in self.result.interchanges:
            if f.interchange is not None and (ir.header[13] if len(ir.header) > 13 else None) != f.interchange:
                continue
            for gr in ir.groups:
                if f.group is not None and (gr.header[6] if len(gr.header) > 6 else None) != f.group:
                    continue
                if f.transaction is not None:
                    for sr in gr.sets:
                        if len(sr.header) > 2 and sr.header[2] == f.transaction:
                            sr.findings.append(f)
                            return
                if f.ak9 or f.group is not None:
                    gr.findings.append(f)
                    return
            ir.findings.append(f)
            return

    def _segment(self, node_id: str, tok: tuple, inter: Interchange, group: Group | None, **codes) -> None:
        d = inter.delimiters
        # the ISA carries the separators themselves as values: never split it
        problems = compile_node(self.env.segment(node_id)).check(tok[0], d.component if node_id != "ISA" else "\x00",
                                                                 d.repetition if node_id != "ISA" else None)
        for p in problems or ():
            c = dict(codes)
            severity = "error"
            if node_id == "GS" and p.element == 8 and p.code == "7":
                # a version label no bundled guide carries: the set is still read (see version_mismatch)
                severity = "warning"
            if node_id == "ISA":
                c = {"ta1": TA1_BY_ISA.get(p.element, TA1_CONTENT)}
            elif node_id == "GS":
                c = {"ak9": AK9_NOT_SUPPORTED if p.element == 1 else AK9_VERSION_NOT_SUPPORTED if p.element == 8 else None,
                     "ta1": TA1_CONTENT}
                c = {k: v for k, v in c.items() if v}
            self._finding(severity, "envelope_element", p.message, inter=inter, group=group, tok=tok, problem=p, **c)

    def _interchange(self, inter: Interchange) -> None:
        ir = self._inter(inter)
        start = len(self.result.findings)
        isa = inter.header
        self._segment("ISA", isa, inter, None)
        isa12 = isa[0][12] if len(isa[0]) > 12 else ""
        for tok in inter.acknowledgments:
            self._segment("TA1", tok, inter, None, ta1=TA1_CONTENT)
        for group in inter.groups:
            gr = self._group(inter, group)
            gstart = len(self.result.findings)
            if group.header[1] is not None:
                self._segment("GS", group.header, inter, group)
            gs08 = group.version
            if gs08 and isa12 and not gs08.startswith(isa12):
                self._finding("error", "version_mismatch", f"GS08 {gs08!r} is not a release of ISA12 {isa12!r}",
                              inter=inter, group=group, tok=group.header, ak9=AK9_VERSION_NOT_SUPPORTED)
            if group.trailer is not None:
                ge = group.trailer
                self._segment("GE", ge, inter, group)
                ge01 = ge[0][1] if len(ge[0]) > 1 else ""
                if ge01 != str(len(gr.sets)):
                    self._finding("error", "ge01_count", f"GE01 says {ge01 or 'nothing'} but the group has {len(gr.sets)} transaction set(s)",
                                  inter=inter, group=group, tok=ge, ak9=AK9_COUNT_MISMATCH)
                ge02 = ge[0][2] if len(ge[0]) > 2 else ""
                if ge02 != group.control_number:
                    self._finding("error", "ge02_control", f"GE02 {ge02!r} does not repeat GS06 {group.control_number!r}",
                                  inter=inter, group=group, tok=ge, ak9=AK9_CONTROL_MISMATCH)
            gr.trailer = list(group.trailer[0]) if group.trailer is not None else None
            gr.findings.extend(self.result.findings[gstart:])
        if inter.trailer is not None:
            iea = inter.trailer
            gstart = len(self.result.findings)
            self._segment("IEA", iea, inter, None, ta1=TA1_CONTENT)
            iea01 = iea[0][1] if len(iea[0]) > 1 else ""
            if iea01 != str(len(inter.groups)):
                self._finding("error", "iea01_count", f"IEA01 says {iea01 or 'nothing'} but the interchange has {len(inter.groups)} group(s)",
                              inter=inter, tok=iea, ta1=TA1_GROUP_COUNT)
            iea02 = iea[0][2] if len(iea[0]) > 2 else ""
            if iea02 != inter.control_number:
                self._finding("error", "iea02_control", f"IEA02 {iea02!r} does not repeat ISA13 {inter.control_number!r}",
                              inter=inter, tok=iea, ta1=TA1_CONTROL_MISMATCH)
            ir.trailer = list(iea[0])
            ir.findings.extend(self.result.findings[gstart:])
        ir.findings[:0] = [f for f in self.result.findings[start:] if f.ta1 and f.segment_id in ("ISA", "TA1")]

    def _duplicates(self) -> None:
        seen_isa: set[str] = set()
        for inter, ir in zip(self.reader.document.interchanges, self.result.interchanges):
            if inter.control_number in seen_isa:
                ir.findings.append(self._finding("error", "duplicate_isa13", "ISA13 repeats the control number of an earlier interchange in this file",
                                                 inter=inter, tok=inter.header, ta1=TA1_DUPLICATE))
            seen_isa.add(inter.control_number)
            seen_gs: set[str] = set()
            for group, gr in zip(inter.groups, ir.groups):
                if group.control_number in seen_gs:
                    gr.findings.append(self._finding("error", "duplicate_gs06", "GS06 repeats the control number of an earlier group in this interchange",
                                                     inter=inter, group=group, tok=group.header, ak9=AK9_DUPLICATE_CONTROL))
                seen_gs.add(group.control_number)
                seen_st: set[str] = set()
                for sr in gr.sets:
                    st02 = sr.header[2] if len(sr.header) > 2 else ""
                    if st02 in seen_st:
                        sr.findings.append(self._finding("error", "duplicate_st02", "ST02 repeats the control number of an earlier set in this group",
                                                         inter=inter, group=group, txn_header=sr.header, segment_id="ST", ik5=IK5_DUPLICATE_CONTROL))
                    seen_st.add(st02)


_INDEX = itemgetter(1)


def validate(source: Source, *, name: str | None = None, show_values: bool = False, guide: "str | Path | None" = None) -> ValidationResult:
    """Validate every interchange in ``source`` against the envelope, its guides and their rules.

    Raises :class:`~x12engine.errors.X12SyntaxError` only when the bytes are
    not X12 at all; everything else is a finding. ``show_values`` copies the
    offending value into each finding (values may be PHI: off by default).
    """
    return _Validator(source, name, show_values, guide).run()
