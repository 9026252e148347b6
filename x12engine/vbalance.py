"""835 balancing as validation findings.

:mod:`.balance` checks the remittance identities on the 835 *model* (claim,
service line and transaction totals); a validator needs them as findings on
segments. This module reads the set with its map, runs the registered model
checks and points each issue back at the segment it is about: the claim's CLP
(``claim_payments[n]`` is the n-th 2100 loop), the service line's SVC
(``services[m]`` the m-th 2110 loop of that claim) or the BPR for the
transaction total. Messages carry amounts only (from :mod:`.balance`), never
names or ids.
"""
from __future__ import annotations

import re
from typing import Callable

from . import balance  # noqa: F401  (registers the 835 checks)
from .checks import CheckIssue, run_checks
from .errors import X12Error
from .mapcatalog import map_for
from .mapread import MapReader
from .tree import Group, Interchange, Loop, Transaction
from .velements import ElementProblem
from .vfinding import IK3_ELEMENT_ERRORS

Emit = Callable[..., None]

_PATH = re.compile(r"^claim_payments\[(\d+)\](?:\.services\[(\d+)\])?")
# balance issue code -> (segment id, element the identity ends in); CLP04, SVC03 and BPR02 are data element 782
_TARGET = {"claim_out_of_balance": ("CLP", 4), "service_out_of_balance": ("SVC", 3), "payment_out_of_balance": ("BPR", 2)}


def _first(loop: Loop, sid: str) -> tuple | None:
    for c in loop.children:
        if type(c) is tuple and c[0][0] == sid:
            return c
    return None


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


def rule_balancing(inter: Interchange, group: Group, txn: Transaction, emit: Emit) -> None:
    """Claim, service line and transaction totals of an 835 balance (see :mod:`.balance`)."""
    compiled = map_for(txn.set_id, txn.guide, txn.guide_name)
    if compiled is None:
        return
    try:
        model = MapReader(compiled, inter, group, txn).read()
    except X12Error as e:  # the map cannot read this set: structure findings already say why
        emit(txn.header, "", "warning", "balance_not_checked",
             f"835 balancing was not checked: the set could not be read as a remittance ({type(e).__name__})", None, None, "ST")
        return
    claims: list[Loop] | None = None
    for issue in run_checks(compiled.map.name, model):
        if claims is None:  # listed once per set, however many claims are out of balance
            claims = list(txn.body.loops("2100"))
        tok, loop_id, sid = _locate(txn, claims, issue)
        if tok is None:  # no such loop in the tree (cannot happen for a model read from it): the set's total
            tok, loop_id, sid = _first(txn.body, "BPR") or txn.header, "", "BPR"
        element = _TARGET[issue.code][1] if issue.code in _TARGET and _TARGET[issue.code][0] == sid else None
        problem = ElementProblem(element, None, None, "782", "I12", "amounts do not balance", None, False) if element else None
        emit(tok, loop_id, "error", issue.code, issue.describe(), IK3_ELEMENT_ERRORS, problem, None)
