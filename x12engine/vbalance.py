"""835 balancing as validation findings, summed from the segments themselves.

The three remittance identities (:mod:`.balance`) are X12 facts about CLP, SVC,
CAS, PLB and BPR elements, so the validator does not read the set through its
map (a whole claim payment model per set, most of an 835's validation time):
it collects the few amounts each identity needs straight from the loop tree,
in the shape :mod:`.balance` checks, and lets those same functions do the
arithmetic and word the messages. What the map would read is what is
collected: the first segment of its id in the loop with the element filled
(first repetition), and one CAS or PLB adjustment per group whose reason is
filled; the differential test (``tests/test_vbalance_raw.py``) holds the two
to each other. Each issue is then pointed at the segment it is about: the
claim's CLP (``claim_payments[n]`` is the n-th 2100 loop), the service line's
SVC (``services[m]`` the m-th 2110 loop of that claim) or the BPR for the
transaction total. Messages carry amounts only, never names or ids.
"""
from __future__ import annotations

import re
from typing import Callable

from .balance import check_remittance
from .checks import CheckIssue
from .grammar import value_at
from .tree import Loop, Transaction
from .velements import ElementProblem
from .vfinding import IK3_ELEMENT_ERRORS

Emit = Callable[..., None]

_PATH = re.compile(r"^claim_payments\[(\d+)\](?:\.services\[(\d+)\])?")
# balance issue code -> (segment id, element the identity ends in); CLP04, SVC03 and BPR02 are data element 782
_TARGET = {"claim_out_of_balance": ("CLP", 4), "service_out_of_balance": ("SVC", 3), "payment_out_of_balance": ("BPR", 2)}
# first element of each adjustment group: CAS02/03/04 ... CAS17/18/19 (reason, amount, quantity), PLB03/04 ... PLB13/14
_CAS = range(2, 20, 3)
_PLB = range(3, 15, 2)


def _first(loop: Loop, sid: str) -> tuple | None:
    for c in loop.children:
        if type(c) is tuple and c[0][0] == sid:
            return c
    return None


class _Amounts:
    """Reads amounts out of one loop's own segments as the 835 map does."""

    __slots__ = ("comp", "rep")

    def __init__(self, comp: str, rep: str | None):
        self.comp, self.rep = comp, rep

    def scalar(self, loop: Loop, sid: str, element: int, out: dict, key: str) -> None:
        """``out[key]`` = element of the first ``sid`` in the loop where it is filled (absent when none is)."""
        for c in loop.children:
            if type(c) is tuple and c[0][0] == sid:
                v = value_at(c[0], element, None, self.comp, self.rep)
                if v:
                    out[key] = v
                    return

    def groups(self, loop: Loop, sid: str, slots: range, key: str) -> list[dict]:
        """One item per element group whose first element is filled; ``key`` = the group's amount (next element)."""
        items: list[dict] = []
        rep = self.rep
        for c in loop.children:
            if type(c) is tuple and c[0][0] == sid:
                els = c[0]
                n = len(els)
                for e in slots:  # value_at(els, e, None, ...) inlined: first repetition of a simple element
                    if e >= n:
                        break
                    v = els[e]
                    if not v or (rep and v.split(rep, 1)[0] == ""):
                        continue
                    amount = els[e + 1] if e + 1 < n else ""
                    if rep and rep in amount:
                        amount = amount.split(rep, 1)[0]
                    items.append({key: amount} if amount else {})
        return items


def remittance_amounts(body: Loop, claims: list[Loop], comp: str, rep: str | None) -> dict:
    """The part of the 835 claim payment model :func:`.balance.check_remittance` reads (amounts as X12 text)."""
    a = _Amounts(comp, rep)
    model: dict = {}
    fin: dict = {}
    a.scalar(body, "BPR", 2, fin, "payment_amount")
    model["financial_information"] = fin
    out = []
    for claim in claims:
        item: dict = {}
        a.scalar(claim, "CLP", 3, item, "total_charge_amount")
        a.scalar(claim, "CLP", 4, item, "payment_amount")
        adj = a.groups(claim, "CAS", _CAS, "amount")
        if adj:
            item["adjustments"] = adj
        services = []
        for line in claim.child_loops("2110"):
            svc: dict = {}
            a.scalar(line, "SVC", 2, svc, "charge_amount")
            a.scalar(line, "SVC", 3, svc, "provider_payment_amount")
            adj = a.groups(line, "CAS", _CAS, "amount")
            if adj:
                svc["adjustments"] = adj
            services.append(svc)
        if services:
            item["services"] = services
        out.append(item)
    if out:
        model["claim_payments"] = out
    plb = a.groups(body, "PLB", _PLB, "adjustment")
    if plb:
        model["payment_adjustments"] = plb
    return model


def _locate(txn: Transaction, claims: list[Loop], issue: CheckIssue) -> tuple[tuple | None, str, str]:
    """(token, loop id, segment id) an issue is about (``claims``: the set's 2100 loops in
    order); the token is None when the tree has no such loop."""
    sid, _ = _TARGET.get(issue.code, ("BPR", 2))
    m = _PATH.match(issue.path)
    if m is None:
        return _first(txn.body, "BPR"), "", "BPR"
    n = int(m.group(1))
    if n >= len(claims):
        return None, "2100", sid
    claim = claims[n]
    if m.group(2) is None:
        return _first(claim, "CLP"), "2100", "CLP"
    lines = claim.child_loops("2110")
    k = int(m.group(2))
    if k >= len(lines):
        return None, "2110", sid
    return _first(lines[k], "SVC"), "2110", "SVC"


def rule_balancing(txn: Transaction, claims: list[Loop], comp: str, rep: str | None, emit: Emit) -> None:
    """Claim, service line and transaction totals of an 835 balance (``claims``: the set's 2100 loops in tree order)."""
    for issue in check_remittance(remittance_amounts(txn.body, claims, comp, rep)):
        tok, loop_id, sid = _locate(txn, claims, issue)
        if tok is None:  # no such loop in the tree (cannot happen for amounts read from it): the set's total
            tok, loop_id, sid = _first(txn.body, "BPR") or txn.header, "", "BPR"
        element = _TARGET[issue.code][1] if issue.code in _TARGET and _TARGET[issue.code][0] == sid else None
        problem = ElementProblem(element, None, None, "782", "I12", "amounts do not balance", None, False) if element else None
        emit(tok, loop_id, "error", issue.code, issue.describe(), IK3_ELEMENT_ERRORS, problem, None)
