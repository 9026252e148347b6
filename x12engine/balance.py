"""835 balancing on the claim payment model (the JSON, not the loop tree).

The 835 guide requires three identities, and a remittance that breaks one
cannot be posted: per claim, charge minus every claim and service adjustment
equals the payment (CLP03 - CAS = CLP04); per service line, charge minus its
adjustments equals its payment (SVC02 - CAS = SVC03); and the claim payments
minus the provider-level adjustments equal the amount paid (sum CLP04 - sum
PLB = BPR02). Amounts the model could not read as numbers are skipped, not
guessed.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from .checks import CheckIssue, register


_AMOUNTS: dict[str, Decimal | None] = {}  # amount text → its Decimal: a remittance repeats its amounts
_AMOUNTS_KEPT = 4096


def amount(money: Any) -> Decimal | None:
    """A monetary amount object (or a bare number) as a Decimal; None when absent or unreadable."""
    if isinstance(money, dict):
        money = money.get("amount")
    if money is None or isinstance(money, bool):
        return None
    text = money if type(money) is str else str(money)
    if text in _AMOUNTS:
        return _AMOUNTS[text]
    try:
        d: Decimal | None = Decimal(text)
    except InvalidOperation:
        d = None
    if d is not None and not d.is_finite():
        d = None
    if len(_AMOUNTS) >= _AMOUNTS_KEPT:
        _AMOUNTS.clear()
    _AMOUNTS[text] = d
    return d


def _sum(values: Iterable[Any]) -> Decimal | None:
    total = Decimal(0)
    for v in values:
        d = amount(v)
        if d is None:
            return None
        total += d
    return total


def _adjustments(obj: dict) -> list:
    adj = obj.get("adjustments")
    return [a.get("amount") for a in adj if isinstance(a, dict)] if isinstance(adj, list) else []


def _off(diff: Decimal) -> str:
    return f"is off by {diff:+}"


def check_service(service: dict, path: str) -> list[CheckIssue]:
    charge, paid = amount(service.get("charge_amount")), amount(service.get("provider_payment_amount"))
    adjusted = _sum(_adjustments(service))
    if charge is None or paid is None or adjusted is None:
        return []
    diff = charge - adjusted - paid
    if diff:
        return [CheckIssue("service_out_of_balance", path,
                           f"charge minus service adjustments does not equal the payment (SVC02 - CAS - SVC03 {_off(diff)})")]
    return []


def check_claim(claim: dict, path: str) -> list[CheckIssue]:
    issues: list[CheckIssue] = []
    services = [s for s in claim.get("services") or [] if isinstance(s, dict)]
    for n, service in enumerate(services):
        issues.extend(check_service(service, f"{path}.services[{n}]"))
    charge, paid = amount(claim.get("total_charge_amount")), amount(claim.get("payment_amount"))
    adjusted = _sum(_adjustments(claim) + [a for s in services for a in _adjustments(s)])
    if charge is None or paid is None or adjusted is None:
        return issues
    diff = charge - adjusted - paid
    if diff:
        issues.append(CheckIssue("claim_out_of_balance", path,
                                 f"charge minus claim and service adjustments does not equal the payment (CLP03 - CAS - CLP04 {_off(diff)})"))
    return issues


@register("835")
def check_remittance(model: dict) -> list[CheckIssue]:
    """Every claim, every service line, and the transaction total (BPR02)."""
    if not isinstance(model, dict):
        return []
    issues: list[CheckIssue] = []
    claims = [c for c in model.get("claim_payments") or [] if isinstance(c, dict)]
    for n, claim in enumerate(claims):
        issues.extend(check_claim(claim, f"claim_payments[{n}]"))
    fin = model.get("financial_information")
    total = amount(fin.get("payment_amount")) if isinstance(fin, dict) else None
    paid = _sum(c.get("payment_amount") for c in claims)
    plb = model.get("payment_adjustments")
    provider = _sum(a.get("adjustment") for a in plb if isinstance(a, dict)) if isinstance(plb, list) else Decimal(0)
    if total is None or paid is None or provider is None:
        return issues
    diff = paid - provider - total
    if diff:
        issues.append(CheckIssue("payment_out_of_balance", "financial_information.payment_amount",
                                 f"claim payments minus provider adjustments do not equal the total payment (sum CLP04 - sum PLB - BPR02 {_off(diff)})",
                                 whole_set=True))
    return issues
