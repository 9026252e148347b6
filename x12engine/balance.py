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


_MISS = object()
_ZERO = Decimal(0)


def amount(money: Any) -> Decimal | None:
    """A monetary amount object (or a bare number) as a Decimal; None when absent or unreadable."""
    # the usual shape, {"amount": "12.50", ...} with the text seen before: two lookups
    text = money.get("amount") if type(money) is dict else money
    if type(text) is str:
        d = _AMOUNTS.get(text, _MISS)
        if d is not _MISS:
            return d
    return _read_amount(money)


def _read_amount(money: Any) -> Decimal | None:
    """``amount`` past its cache: text not seen before, or an amount of another shape."""
    if isinstance(money, dict):
        money = money.get("amount")
    if money is None or isinstance(money, bool):
        return None
    text = money if type(money) is str else str(money)
    try:
        d = Decimal(text)
    except InvalidOperation:
        d = None
    if d is not None and not d.is_finite():
        d = None
    if len(_AMOUNTS) >= _AMOUNTS_KEPT:
        _AMOUNTS.clear()
    _AMOUNTS[text] = d
    return d


def _sum(items: Iterable[Any], field: str | None = None) -> Decimal | None:
    """The sum of amounts (with ``field``: of that field of each object, other items passed
    over); None when one is unreadable."""
    total = _ZERO
    known = _AMOUNTS.get
    for money in items:
        if field is not None:
            if type(money) is not dict and not isinstance(money, dict):
                continue
            money = money.get(field)
        # amount() inlined: no call per item
        text = money.get("amount") if type(money) is dict else money
        d = known(text, _MISS) if type(text) is str else _MISS
        if d is _MISS:
            d = _read_amount(money)
        if d is None:
            return None
        total += d
    return total


def _adjusted(obj: dict) -> Decimal | None:
    """The sum of an object's ``adjustments[].amount`` (0 without any); None when one is unreadable."""
    adj = obj.get("adjustments")
    if not adj or not isinstance(adj, list):
        return _ZERO
    return _sum(adj, "amount")  # over the objects themselves: no list of amounts built


def _off(diff: Decimal) -> str:
    return f"is off by {diff:+}"


def _check_claim(claim: dict, n: int, issues: list[CheckIssue]) -> None:
    """Claim ``n``'s service lines and the claim itself; paths are written only for an
    issue, since most claims balance."""
    adjusted = _adjusted(claim)  # claim and service adjustments together
    services = claim.get("services")
    if services:
        k = 0
        for service in services:
            if not isinstance(service, dict):
                continue
            own = _adjusted(service)
            charge, paid = amount(service.get("charge_amount")), amount(service.get("provider_payment_amount"))
            if charge is not None and paid is not None and own is not None and (diff := charge - own - paid):
                issues.append(CheckIssue("service_out_of_balance", f"claim_payments[{n}].services[{k}]",
                                         f"charge minus service adjustments does not equal the payment (SVC02 - CAS - SVC03 {_off(diff)})"))
            adjusted = None if adjusted is None or own is None else adjusted + own
            k += 1
    charge, paid = amount(claim.get("total_charge_amount")), amount(claim.get("payment_amount"))
    if charge is not None and paid is not None and adjusted is not None and (diff := charge - adjusted - paid):
        issues.append(CheckIssue("claim_out_of_balance", f"claim_payments[{n}]",
                                 f"charge minus claim and service adjustments does not equal the payment (CLP03 - CAS - CLP04 {_off(diff)})"))


@register("835")
def check_remittance(model: dict) -> list[CheckIssue]:
    """Every claim, every service line, and the transaction total (BPR02)."""
    if not isinstance(model, dict):
        return []
    issues: list[CheckIssue] = []
    claims = [c for c in model.get("claim_payments") or [] if isinstance(c, dict)]
    for n, claim in enumerate(claims):
        _check_claim(claim, n, issues)
    fin = model.get("financial_information")
    total = amount(fin.get("payment_amount")) if isinstance(fin, dict) else None
    paid = _sum(claims, "payment_amount")
    plb = model.get("payment_adjustments")
    provider = _sum(plb, "adjustment") if isinstance(plb, list) else _ZERO
    if total is None or paid is None or provider is None:
        return issues
    diff = paid - provider - total
    if diff:
        issues.append(CheckIssue("payment_out_of_balance", "financial_information.payment_amount",
                                 f"claim payments minus provider adjustments do not equal the total payment (sum CLP04 - sum PLB - BPR02 {_off(diff)})",
                                 whole_set=True))
    return issues
