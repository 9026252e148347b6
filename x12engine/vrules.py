"""Guide rules the TR3 states in prose, which the grammar cannot carry.

These are the rejections clearinghouses return most and generic syntax
validators miss: claim totals, diagnosis pointers, NPI check digits, the
patient loop of a self-insured subscriber, service line numbering. Each rule
is a function of one transaction set's loop tree that calls ``emit`` for
every violation; :data:`RULES` says which sets it applies to.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Callable

from . import vbalance
from .tree import Group, Interchange, Loop, Transaction
from .velements import ElementProblem
from .vfinding import IK3_ELEMENT_ERRORS, IK3_UNEXPECTED

Emit = Callable[..., None]
_NPI_SEGMENTS = frozenset({"NM1", "N1", "REF"})


class SetIndex:
    """One pass over a set's loop tree: every segment token (tree order), the loops by id (tree
    order) and the segments that may carry an NPI."""

    __slots__ = ("tokens", "loops", "npi")

    def __init__(self, body: Loop):
        self.tokens: list[tuple] = []
        self.loops: dict[str, list[Loop]] = {}
        self.npi: list[tuple[str, tuple]] = []  # (loop id, token)
        self._walk(body, "")

    def _walk(self, loop: Loop, loop_id: str) -> None:
        tokens, npi = self.tokens, self.npi
        for c in loop.children:
            t = type(c)
            if t is tuple:
                tokens.append(c)
                if c[0][0] in _NPI_SEGMENTS:
                    npi.append((loop_id, c))
            elif t is Loop:
                self.loops.setdefault(c.id, []).append(c)
                self._walk(c, c.id)
            else:  # Unexpected: kept in order for the structure walk
                tokens.append(c.token)

    def of(self, loop_id: str) -> list[Loop]:
        return self.loops.get(loop_id, [])

    @staticmethod
    def own(loop: Loop, sid: str) -> list[tuple]:
        """The segments with id ``sid`` directly in ``loop`` (rules ask a loop once or twice: no index kept)."""
        return [c for c in loop.children if type(c) is tuple and c[0][0] == sid]


Rule = Callable[[SetIndex, str, Emit], None]


def _el(els: list[str], n: int) -> str:
    return els[n] if n < len(els) else ""


def _money(v: str) -> Decimal | None:
    try:
        return Decimal(v) if v else None
    except InvalidOperation:
        return None


def _problem(element: int, component: int | None, de: str, message: str, code: str = "I12") -> ElementProblem:
    return ElementProblem(element, component, None, de, code, message, None, False)


# ----------------------------------------------------------------------------
# NPI (any transaction set): NM108 = XX means NM109 is an NPI
# ----------------------------------------------------------------------------
@lru_cache(maxsize=8192)  # a file names the same few providers again and again
def npi_ok(npi: str) -> bool:
    """Luhn check over the 10-digit NPI with the 80840 card-issuer prefix."""
    if len(npi) != 10 or not npi.isdigit() or not npi.isascii():
        return False
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def rule_npi(ix: SetIndex, comp: str, emit: Emit) -> None:
    for loop_id, tok in ix.npi:
        els = tok[0]
        if els[0] == "NM1" and _el(els, 8) == "XX" and _el(els, 9):
            if not npi_ok(_el(els, 9)):
                emit(tok, loop_id, "error", "npi_check_digit", "NM109 is not a valid NPI (10 digits, Luhn check digit with prefix 80840)",
                     IK3_ELEMENT_ERRORS, _problem(9, None, "67", "NPI check digit"), None)
        elif els[0] == "N1" and _el(els, 3) == "XX" and _el(els, 4) and not npi_ok(_el(els, 4)):
            emit(tok, loop_id, "error", "npi_check_digit", "N104 is not a valid NPI (10 digits, Luhn check digit with prefix 80840)",
                 IK3_ELEMENT_ERRORS, _problem(4, None, "67", "NPI check digit"), None)
        elif els[0] == "REF" and _el(els, 1) == "HPI" and _el(els, 2) and not npi_ok(_el(els, 2)):
            emit(tok, loop_id, "error", "npi_check_digit", "REF02 is not a valid NPI (10 digits, Luhn check digit with prefix 80840)",
                 IK3_ELEMENT_ERRORS, _problem(2, None, "127", "NPI check digit"), None)


# ----------------------------------------------------------------------------
# 837 claims
# ----------------------------------------------------------------------------
# line charge: (segment, element) for professional, institutional, dental lines
_LINE_CHARGE = (("SV1", 2), ("SV2", 3), ("SV3", 2))
_DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})
# diagnosis code pointer composites: SV107 (professional), SV311 (dental)
_POINTERS = (("SV1", 7), ("SV3", 11))
_CHARGE_AT = dict(_LINE_CHARGE)
_POINTER_AT = dict(_POINTERS)




def rule_claim_total(ix: SetIndex, comp: str, emit: Emit) -> None:
    """CLM02 (total claim charge) equals the sum of the service line charges."""
    for claim in ix.of("2300"):
        clm = ix.own(claim, "CLM")
        if not clm:
            continue
        total = _money(_el(clm[0][0], 2))
        if total is None:
            continue
        lines = claim.child_loops("2400")
        if not lines:
            continue
        s = Decimal(0)
        for line in lines:  # one pass over each line (a line holds one of SV1/SV2/SV3; the sum is exact)
            for c in line.children:
                if type(c) is tuple:
                    n = _CHARGE_AT.get(c[0][0])
                    if n is not None:
                        v = _money(_el(c[0], n))
                        if v is not None:
                            s += v
        if s != total:
            emit(clm[0], "2300", "error", "claim_total",
                 "CLM02 (total claim charge) does not equal the sum of the service line charges",
                 IK3_ELEMENT_ERRORS, _problem(2, None, "782", "claim total differs from the sum of line charges"), None)


def rule_diagnosis_pointers(ix: SetIndex, comp: str, emit: Emit) -> None:
    """Every diagnosis code pointer names one of the claim's HI diagnosis codes."""
    for claim in ix.of("2300"):
        count = 0
        for hi in ix.own(claim, "HI"):
            for v in hi[0][1:]:
                if v.split(comp, 1)[0] in _DIAGNOSIS_QUALIFIERS:
                    count += 1
        for line in claim.child_loops("2400"):
            for seg in line.children:  # one pass over each line (a line holds SV1 or SV3, not both)
                if type(seg) is not tuple or seg[0][0] not in _POINTER_AT:
                    continue
                sid = seg[0][0]
                n = _POINTER_AT[sid]
                ptrs = _el(seg[0], n)
                if not ptrs:
                    continue
                for k, p in enumerate(ptrs.split(comp), 1):
                    if p and (not p.isdigit() or not 1 <= int(p) <= count):
                        emit(seg, "2400", "error", "diagnosis_pointer",
                             f"{sid}{n:02d}-{k:02d} points to diagnosis {p} but the claim has {count} diagnosis code(s)",
                             IK3_ELEMENT_ERRORS, _problem(n, k, "1328", "pointer beyond the claim's diagnosis codes", "7"), None)


def rule_self_subscriber(ix: SetIndex, comp: str, emit: Emit) -> None:
    """SBR02 = 18 (the subscriber is the patient): no 2000C patient level under that subscriber."""
    for sub in ix.of("2000B"):
        sbr = ix.own(sub, "SBR")
        if not sbr or _el(sbr[0][0], 2) != "18":
            continue
        for patient in sub.child_loops("2000C"):
            hl = ix.own(patient, "HL")
            if hl:
                emit(hl[0], "2000C", "error", "patient_loop_for_self",
                     "2000C patient level present although SBR02 = 18 says the subscriber is the patient",
                     IK3_UNEXPECTED, None, None)


def rule_lx_sequence(ix: SetIndex, comp: str, emit: Emit) -> None:
    """LX01 numbers the service lines of a claim 1, 2, 3 …"""
    for claim in ix.of("2300"):
        expected = 1
        for line in claim.child_loops("2400"):
            lx = ix.own(line, "LX")
            if not lx:
                continue
            v = _el(lx[0][0], 1)
            if v != str(expected):
                emit(lx[0], "2400", "error", "lx_sequence", f"LX01 should be {expected}: service lines are numbered 1, 2, 3 … per claim",
                     IK3_ELEMENT_ERRORS, _problem(1, None, "554", "service line number out of sequence"), None)
            expected = int(v) + 1 if v.isdigit() else expected + 1


def rule_billing_zip(ix: SetIndex, comp: str, emit: Emit) -> None:
    """2010AA N403: a U.S. billing provider address carries the full nine-digit ZIP code (the 5010 837 guides)."""
    for loop in ix.of("2010AA"):
        for n4 in ix.own(loop, "N4"):
            zip_code, country = _el(n4[0], 3), _el(n4[0], 4)
            if zip_code and country in ("", "US") and not (len(zip_code) == 9 and zip_code.isdigit() and zip_code.isascii()):
                emit(n4, "2010AA", "error", "zip_not_nine_digits",
                     "N403 of the billing provider must be the full nine-digit ZIP code for a U.S. address",
                     IK3_ELEMENT_ERRORS, _problem(3, None, "116", "billing provider ZIP code is not nine digits"), None)


# ----------------------------------------------------------------------------
# rules that need the set's delimiters beyond the component separator (835 balancing)
# ----------------------------------------------------------------------------
def rule_835_balancing(ix: SetIndex, txn: Transaction, comp: str, rep: str | None, emit: Emit) -> None:
    """Claim, service line and transaction totals of an 835 balance (see :mod:`.vbalance`)."""
    vbalance.rule_balancing(txn, ix.of("2100"), comp, rep, emit)


SetRule = Callable[[SetIndex, Transaction, str, "str | None", Emit], None]

RULES: dict[str, tuple[Rule, ...]] = {
    "837": (rule_npi, rule_claim_total, rule_diagnosis_pointers, rule_self_subscriber, rule_lx_sequence, rule_billing_zip),
    "835": (rule_npi,),
    "270": (rule_npi,), "271": (rule_npi,), "276": (rule_npi,), "277": (rule_npi,), "278": (rule_npi,),
}
SET_RULES: dict[str, tuple[SetRule, ...]] = {"835": (rule_835_balancing,)}


def check(txn: Transaction, comp: str, emit: Emit, inter: Interchange | None = None, group: Group | None = None,
          index: SetIndex | None = None) -> None:
    """Run the set's guide rules (``index``: the set's :class:`SetIndex` when the caller already built it;
    ``inter``: its interchange, whose repetition separator the 835 balancing reads amounts with)."""
    rules = RULES.get(txn.set_id, ())
    set_rules = SET_RULES.get(txn.set_id, ()) if inter is not None else ()
    if not rules and not set_rules:
        return
    ix = index or SetIndex(txn.body)
    for rule in rules:
        rule(ix, comp, emit)
    for set_rule in set_rules:
        set_rule(ix, txn, comp, inter.delimiters.repetition, emit)
