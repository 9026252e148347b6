"""Hypothesis: generated balanced remittances survive JSON → 835 → JSON; unbalanced ones are flagged.

Amounts are whole cents so the generator can make every claim, line and the
transaction total add up exactly; an imbalance is then one cent or more moved
in a single amount.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from x12engine import EnvelopeSettings, to_models, to_x12
from x12engine.codes import load_table
from x12engine.errors import BuildError
from conftest import NOW

BALANCE = {"claim_out_of_balance", "service_out_of_balance", "payment_out_of_balance"}
IDS = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=3, max_size=12)
NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=12)
CENTS = st.integers(0, 500_00)
GROUPS = ["contractual_obligations", "other_adjustments", "payor_initiated_reductions", "patient_responsibility"]
REASONS = ["1", "2", "3", "45", "96", "97"]
CARC = load_table("carc")


def money(cents: int) -> dict:
    return {"amount": str(Decimal(cents) / 100), "currency": "USD"}


@st.composite
def adjustments(draw, max_size: int = 4) -> list[dict]:
    items = draw(st.lists(st.tuples(st.sampled_from(GROUPS), st.sampled_from(REASONS), CENTS), max_size=max_size))
    items.sort(key=lambda t: GROUPS.index(t[0]))  # CAS groups one segment per group code, in order
    return [{"group": g, "reason_code": r, "amount": money(c)} for g, r, c in items]


def total(items: list[dict]) -> int:
    return sum(int(Decimal(a["amount"]["amount"]) * 100) for a in items)


@st.composite
def services(draw) -> list[dict]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        adj = draw(adjustments())
        paid = draw(CENTS)
        svc = {"adjudicated_procedure_code_qualifier": "health_care",
               "adjudicated_procedure_code": draw(st.sampled_from(["99213", "99214", "J3420", "80053"])),
               "charge_amount": money(paid + total(adj)), "provider_payment_amount": money(paid), "adjustments": adj}
        if not adj:
            del svc["adjustments"]
        out.append(svc)
    return out


@st.composite
def remittances(draw) -> dict:
    claims = []
    headers = sorted(draw(st.sets(st.integers(1, 99), min_size=1, max_size=2)))
    for n in range(draw(st.integers(1, 4))):
        lines = draw(services())
        adj = draw(adjustments(max_size=2))
        paid = draw(CENTS)
        line_adj = sum(total(s.get("adjustments", [])) for s in lines)
        claim = {"assigned_number": headers[n % len(headers)],
                 "patient_control_number": draw(IDS), "status": draw(st.sampled_from(["processed_as_primary", "denied"])),
                 "total_charge_amount": money(paid + total(adj) + line_adj), "payment_amount": money(paid),
                 "filing_indicator": draw(st.sampled_from(["medicare_part_b", "preferred_provider_organization"])),
                 "control_number": draw(IDS), "patient": {"last_name": draw(NAMES), "first_name": draw(NAMES)}}
        if adj:
            claim["adjustments"] = adj
        if lines:
            claim["services"] = lines
        claims.append(claim)
    claims.sort(key=lambda c: c["assigned_number"])  # claims are read back header by header
    plb = draw(st.lists(st.tuples(st.sampled_from(["WO", "L6", "FB", "CS"]), st.integers(-100_00, 100_00)), max_size=3))
    paid_total = sum(int(Decimal(c["payment_amount"]["amount"]) * 100) for c in claims) - sum(c for _, c in plb)
    model = {
        "financial_information": {"transaction_handling": "remittance_information_only", "payment_amount": money(paid_total),
                                  "transaction_type": "credit", "payment_method": "non_payment_data",
                                  "check_eft_trace_number": draw(IDS), "payer_id": "1999999999",
                                  "effective_date": "2025-06-30"},
        "payer": {"name": draw(NAMES)},
        "payee": {"name": draw(NAMES), "npi": "1234567893"},
        "provider_summaries": [{"assigned_number": h} for h in headers],
        "claim_payments": claims,
    }
    if plb:
        model["payment_adjustments"] = [{"provider_id": "1234567893", "fiscal_period_date": "2025-12-31", "reason_code": r,
                                         "adjustment": money(c)} for r, c in plb]
    return model


def expected_after_read(model: dict) -> dict:
    """What reading adds: CARC descriptions, PLB reason enums and the derived transaction type."""
    import copy

    out = copy.deepcopy(model)
    out["transaction_type"] = model["financial_information"]["transaction_handling"]
    for claim in out["claim_payments"]:
        for a in claim.get("adjustments", []) + [a for s in claim.get("services", []) for a in s.get("adjustments", [])]:
            a["reason"] = CARC.entry(a["reason_code"]).description
    plb = load_table("plb_adjustment_reason")
    for a in out.get("payment_adjustments", []):
        a["reason"] = plb.enum_for(a["reason_code"])
    return out


def build(model: dict, check: bool = True) -> str:
    return to_x12(model, transaction="835", settings=EnvelopeSettings(now=NOW), check=check)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(remittances())
def test_balanced_remittances_survive_json_x12_json(model):
    x12 = build(model)
    (t,) = to_models(x12.encode())["transactions"]
    assert not {f["code"] for f in t["findings"]} & BALANCE, t["findings"]
    got = t["model"]
    got.pop("meta", None)
    assert got == expected_after_read(model)
    assert build(got) == x12  # and the read model writes the same interchange again


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(remittances(), st.data())
def test_unbalanced_remittances_are_flagged(model, data):
    claims = model["claim_payments"]
    targets = [("claim", n) for n in range(len(claims))] + \
              [("service", (n, k)) for n, c in enumerate(claims) for k in range(len(c.get("services", [])))] + [("total", None)]
    kind, where = data.draw(st.sampled_from(targets))
    delta = data.draw(st.integers(1, 1000).map(lambda c: c * data.draw(st.sampled_from([1, -1]))))

    def shift(m: dict) -> None:
        m["amount"] = str(Decimal(m["amount"]) + Decimal(delta) / 100)

    if kind == "claim":
        shift(claims[where]["total_charge_amount"])
        expected = "claim_out_of_balance"
    elif kind == "service":
        shift(claims[where[0]]["services"][where[1]]["charge_amount"])
        expected = "service_out_of_balance"
    else:
        shift(model["financial_information"]["payment_amount"])
        expected = "payment_out_of_balance"
    with pytest.raises(BuildError, match=expected):
        build(model)
    (t,) = to_models(build(model, check=False).encode())["transactions"]
    assert expected in {f["code"] for f in t["findings"]}
