"""835 acceptance: the claim payment model both ways, balancing, fixtures and the corpus."""
from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from conftest import BALANCE_CODES, CORPUS, FIXTURES, NOW, ROOT, corpus_rows, require_corpus
from x12engine import EnvelopeSettings, parse, to_models, to_x12
from x12engine.balance import check_remittance
from x12engine.errors import BuildError
from x12engine.tree import Unexpected

EXAMPLES = ROOT.parent / "shared" / "reference" / "pokitdok" / "examples"
PHI = ("DOE", "JOHN", "ROE", "TIMMY", "XYZ123456789", "PCN0001", "PCN0002", "JANE", "W000000000")


def read(path_or_text) -> dict:
    doc = to_models(path_or_text.encode() if isinstance(path_or_text, str) else path_or_text)
    assert len(doc["transactions"]) == 1
    return doc["transactions"][0]


def codes(entry: dict) -> list[str]:
    return [f["code"] for f in entry["findings"]]


def without_positions(unmapped: list | None) -> list:
    return [{k: v for k, v in e.items() if k in ("loop", "id", "elements")} for e in unmapped or []]


# ----------------------------------------------------------------------------
# the fixtures
# ----------------------------------------------------------------------------
def test_payment_fixture_reads_every_part_of_the_remittance():
    t = read(FIXTURES / "835-payment.x12")
    assert t["map"] == "835" and not t.get("unmapped")
    assert codes(t) == []  # every element of the fixture reaches the model
    m = t["model"]
    fin = m["financial_information"]
    assert fin["payment_amount"] == {"amount": "322.50", "currency": "USD"}
    assert (fin["transaction_handling"], fin["transaction_type"], fin["payment_method"]) == (
        "remittance_information_only", "credit", "automated_clearing_house")
    assert fin["receiving_institution"] == {"routing_number_qualifier": "01", "routing_number": "999988880",
                                            "account_type": "demand_deposit", "account_number": "98765"}
    assert fin["effective_date"] == "2024-01-25" and fin["check_eft_trace_number"] == "12345678901"
    assert m["payer"]["contacts"][1] == {"function": "technical", "name": "EDI SUPPORT", "contact_methods": [
        {"type": "phone", "value": "8005553434"}, {"type": "email", "value": "EDI@EXAMPLE.COM"}]}
    assert m["payee"]["npi"] == "1234567893" and m["payee"]["tax_id"] == "371234567"
    first, second = m["claim_payments"]
    assert first["status"] == "processed_as_primary" and first["filing_indicator"] == "preferred_provider_organization"
    assert first["patient"] == {"last_name": "DOE", "first_name": "JOHN", "middle_name": "Q", "id": "XYZ123456789"}
    assert first["rendering_provider"]["npi"] == "1122334455"
    assert first["coverage_amount"]["amount"] == "192.50"
    svc = first["services"][0]
    assert (svc["adjudicated_procedure_code"], svc["adjudicated_procedure_modifier_codes"]) == ("99213", ["25"])
    assert [(a["group"], a["reason_code"], a["amount"]["amount"]) for a in svc["adjustments"]] == [
        ("contractual_obligations", "45", "12.50"), ("patient_responsibility", "2", "20.00")]
    assert svc["adjustments"][1]["reason"] == "Coinsurance Amount"
    assert svc["allowed_amount"]["amount"] == "112.50" and svc["control_number"] == "LINE0001"
    assert first["services"][1]["remarks"][0]["code"] == "N130"
    assert first["services"][1]["remarks"][0]["description"].startswith("Consult plan benefit")
    assert second["adjustments"][0]["amount"]["amount"] == "40.00" and "services" not in second
    assert m["payment_adjustments"] == [{"provider_id": "1234567893", "fiscal_period_date": "2024-12-31", "reason_code": "WO",
                                         "reason": "overpayment_recovery", "identifier": "PAYERCLM0000",
                                         "adjustment": {"amount": "10.00", "currency": "USD"}}]
    assert not BALANCE_CODES & set(codes(t))


@pytest.mark.parametrize("name", ["835-payment.x12", "835-pokitdok-example.x12", "835-institutional.x12"])
def test_fixture_round_trip_is_stable(name):
    text = (FIXTURES / name).read_text()
    first = to_models(text.encode())
    x12 = to_x12(first)
    second = to_models(x12.encode())
    assert [t["model"] for t in second["transactions"]] == [t["model"] for t in first["transactions"]]
    assert [without_positions(t.get("unmapped")) for t in second["transactions"]] == \
        [without_positions(t.get("unmapped")) for t in first["transactions"]]
    # the rebuilt interchange is the source, segment for segment (ST03 is always written)
    strip = lambda s: [seg.strip() for seg in s.split("~") if seg.strip() and not seg.strip().startswith("ST*")]  # noqa: E731
    assert strip(x12) == strip(text)
    assert to_x12(second) == x12


def test_pokitdok_example_structure_is_reproduced_from_the_fixture():
    path = EXAMPLES / "claims_04_response.json"
    if not path.is_file():
        pytest.skip("../shared/reference is not present (development workspace only)")
    example = json.loads(path.read_text())["example"]
    model = read(FIXTURES / "835-pokitdok-example.x12")["model"]
    # PokitDok's result describes one claim; the model keeps claim-level fields per claim.
    example = copy.deepcopy(example)
    example["claim_payments"][0]["patient"] = example.pop("patient")
    facility = example["claim_payments"][0].pop("facility_type")  # CLP08 is kept as its X12 code (no table)
    # PokitDok's scrubbed ids are 9 digits; BPR10 and TRN03 are 1 + the 9-digit EIN (10 characters),
    # so the fixture carries them that way and stays valid
    for fin_key, value in list(example["financial_information"].items()):
        if value == "121212123":
            example["financial_information"][fin_key] = "1121212123"
    example["payee"]["npi"] = "1234567893"  # PokitDok's placeholder NPI fails the check digit; the fixture's passes
    assert facility == "hospital_inpatient_part_a" and model["claim_payments"][0]["facility_type"] == "11"

    def compare(want, got, path=""):
        if isinstance(want, dict):
            assert isinstance(got, dict), path
            for k, v in want.items():
                assert k in got, f"{path}.{k} missing"
                if k == "reason":  # CARC text: the code list's current wording, not PokitDok's 2016 one
                    assert "duplicate claim/service" in got[k].lower()
                    continue
                compare(v, got[k], f"{path}.{k}")
        elif isinstance(want, list):
            assert isinstance(got, list) and len(got) == len(want), path
            for n, (w, g) in enumerate(zip(want, got)):
                compare(w, g, f"{path}[{n}]")
        else:
            assert got == want, path

    compare(example, model)


def test_multiple_lx_headers_keep_their_claims():
    t = read(FIXTURES / "835-institutional.x12")
    m = t["model"]
    assert [s["assigned_number"] for s in m["provider_summaries"]] == [1, 2]
    assert [c["assigned_number"] for c in m["claim_payments"]] == [1, 1, 2]
    inpatient = m["claim_payments"][0]["inpatient_adjudication"]
    assert inpatient["covered_days_or_visits"] == 3
    assert inpatient["claim"]["diagnosis_related_group"]["amount"] == "900"
    assert [r["code"] for r in inpatient["remarks"]] == ["MA01", "N20"]
    outpatient = m["claim_payments"][2]["outpatient_adjudication"]
    assert outpatient["reimbursement_rate"] == 0.8 and [r["code"] for r in outpatient["remarks"]] == ["MA01", "MA02"]
    crossover = m["claim_payments"][1]["crossover_carrier"]
    assert crossover == {"name": "SECONDARY PLAN", "payor_id": "87654"}
    assert m["claim_payments"][1]["insured"]["id"] == "INS123"
    cas = m["claim_payments"][0]["adjustments"]
    assert [(a["group"], a["reason_code"], a["amount"]["amount"], a.get("quantity")) for a in cas] == [
        ("contractual_obligations", "45", "100", None), ("contractual_obligations", "253", "4", None),
        ("patient_responsibility", "1", "50", "1")]
    assert not BALANCE_CODES & set(codes(t)) and not t.get("unmapped")


# ----------------------------------------------------------------------------
# unknown codes, balancing
# ----------------------------------------------------------------------------
def test_unknown_codes_keep_the_code_with_a_null_description_and_a_warning():
    text = (FIXTURES / "835-payment.x12").read_text().replace("CAS*CO*45*40.00~", "CAS*XX*Z99*40.00~") \
        .replace("LQ*HE*N130~", "LQ*HE*ZZ999~").replace("WO:PAYERCLM0000", "Q9:PAYERCLM0000")
    t = read(text)
    m = t["model"]
    adj = m["claim_payments"][1]["adjustments"][0]
    assert adj["group"] == {"code": "XX", "enum": None}
    assert adj["reason_code"] == "Z99" and adj["reason"] is None
    assert m["claim_payments"][0]["services"][1]["remarks"][0] == {"code": "ZZ999", "description": None}
    assert m["payment_adjustments"][0]["reason"] == {"code": "Q9", "enum": None}
    assert m["payment_adjustments"][0]["reason_code"] == "Q9"
    warnings = [f for f in t["findings"] if f["code"] == "unreadable_value"]
    assert len(warnings) == 4
    assert all("Z99" not in f["message"] and "ZZ999" not in f["message"] for f in warnings)
    assert read(to_x12(to_models(text.encode())))["model"] == m


@pytest.mark.parametrize("edit, expected, path", [
    # a claim paid 10 less: the claim and the transaction total are off
    (("CLP*PCN0002*1*200.00*160.00", "CLP*PCN0002*1*200.00*150.00"), ["claim_out_of_balance", "payment_out_of_balance"],
     "claim_payments[1]"),
    # a line charge 5 more: only the line (the claim balances on CLP03)
    (("SVC*HC:J3420*90.00*80.00", "SVC*HC:J3420*95.00*80.00"), ["service_out_of_balance"], "claim_payments[0].services[1]"),
    (("BPR*I*322.50", "BPR*I*332.50"), ["payment_out_of_balance"], "financial_information.payment_amount"),
    (("WO:PAYERCLM0000*10.00", "WO:PAYERCLM0000*12.00"), ["payment_out_of_balance"], "financial_information.payment_amount"),
])
def test_out_of_balance_is_a_warning_on_read_and_an_error_on_build(edit, expected, path):
    text = (FIXTURES / "835-payment.x12").read_text().replace(*edit)
    assert text != (FIXTURES / "835-payment.x12").read_text()
    code = expected[0]
    doc = to_models(text.encode())
    found = [f for f in doc["transactions"][0]["findings"] if f["code"] in BALANCE_CODES]
    assert [f["code"] for f in found] == expected
    assert found[0]["message"].startswith(path + ":") and found[0]["transaction"] == "0001"
    assert found[0]["severity"] == "warning"
    assert not any(p in f["message"] for f in found for p in PHI)
    with pytest.raises(BuildError) as err:
        to_x12(doc)
    assert code in str(err.value) and path in str(err.value) and not any(p in str(err.value) for p in PHI)
    rebuilt = to_x12(doc, check=False)  # the opt-out writes it anyway, unchanged
    assert read(rebuilt)["model"] == doc["transactions"][0]["model"]


def test_balance_check_sums_claim_and_service_adjustments():
    money = lambda a: {"amount": a, "currency": "USD"}  # noqa: E731
    claim = {"total_charge_amount": money("100"), "payment_amount": money("60"),
             "adjustments": [{"amount": money("10")}],
             "services": [{"charge_amount": money("100"), "provider_payment_amount": money("60"),
                           "adjustments": [{"amount": money("30")}]}]}
    model = {"financial_information": {"payment_amount": money("55")}, "claim_payments": [claim],
             "payment_adjustments": [{"adjustment": money("5")}]}
    assert [i.code for i in check_remittance(model)] == ["service_out_of_balance"]
    claim["services"][0]["adjustments"][0]["amount"] = money("40")
    claim["adjustments"] = []
    assert check_remittance(model) == []
    claim["adjustments"] = ["not an object", {"amount": money("10")}]  # the odd entry is passed over
    assert [(i.code, i.path) for i in check_remittance(model)] == [("claim_out_of_balance", "claim_payments[0]")]
    claim["adjustments"].append({"amount": money("ten")})  # one unreadable adjustment: the claim is not judged
    assert check_remittance(model) == []
    claim["adjustments"] = []
    claim["payment_amount"] = money("not a number")  # unreadable amounts are not guessed at
    assert check_remittance(model) == []


# ----------------------------------------------------------------------------
# JSON → 835
# ----------------------------------------------------------------------------
def bare_remittance() -> dict:
    money = lambda a: {"amount": a, "currency": "USD"}  # noqa: E731
    return {
        "financial_information": {"transaction_handling": "payment_accompanies_remittance_advice",
                                  "payment_amount": money("75.00"), "transaction_type": "credit",
                                  "payment_method": "check", "effective_date": "2025-03-01",
                                  "check_eft_trace_number": "CHK000123", "payer_id": "1999999999"},
        "payer": {"name": "TEST PAYER", "address": {"address_lines": ["PO BOX 1"], "city": "AUSTIN", "state": "TX",
                                                   "zipcode": "78701"},
                  "contacts": [{"function": "technical", "contact_methods": [{"type": "url", "value": "WWW.EXAMPLE.COM"}]}]},
        "payee": {"name": "TEST CLINIC", "npi": "1234567893"},
        "claim_payments": [{
            "patient_control_number": "ACCT1", "status": "processed_as_primary",
            "total_charge_amount": money("100.00"), "payment_amount": money("75.00"),
            "filing_indicator": "medicare_part_b", "control_number": "ICN1",
            "patient": {"last_name": "TESTPATIENT", "first_name": "ALEX", "id": "M123"},
            "services": [{"adjudicated_procedure_code_qualifier": "health_care", "adjudicated_procedure_code": "99214",
                          "charge_amount": money("100.00"), "provider_payment_amount": money("75.00"),
                          "service_date": "2025-02-01",
                          "adjustments": [{"group": "contractual_obligations", "reason_code": "45", "amount": money("20.00")},
                                          {"group": "patient_responsibility", "reason_code": "2", "amount": money("5.00")}],
                          "remarks": [{"code": "N130"}]}],
        }],
    }


def test_bare_json_builds_a_complete_interchange():
    x12 = to_x12(bare_remittance(), transaction="835", settings=EnvelopeSettings(now=NOW, sender_id="PAYER"))
    doc = parse(x12.encode())
    assert not doc.errors
    (_, group, txn), = list(doc.transactions())
    assert txn.set_id == "835" and group.header[0][1] == "HP"
    assert not [c for lp in [txn.body, *txn.body.loops()] for c in lp.children if isinstance(c, Unexpected)]
    segs = [s.strip() for s in x12.split("~")]
    assert "LX*1" in segs and "TRN*1*CHK000123*1999999999" in segs and "CAS*CO*45*20.00" in segs
    assert "NM1*QC*1*TESTPATIENT*ALEX****MI*M123" in segs and "LQ*HE*N130" in segs
    back = read(x12)
    assert not BALANCE_CODES & set(codes(back))
    svc = back["model"]["claim_payments"][0]["services"][0]
    assert svc["adjustments"][1]["reason"] == "Coinsurance Amount"


def test_build_errors_name_the_field_never_the_value():
    data = bare_remittance()
    data["claim_payments"][0]["status"] = "paid_in_full"
    with pytest.raises(BuildError) as err:
        to_x12(data, transaction="835")
    assert "claim_payments[0].status" in str(err.value)
    data = bare_remittance()
    data["claim_payments"][0]["payment_amount"] = {"amount": "7x5", "currency": "USD"}
    with pytest.raises(BuildError) as err:
        to_x12(data, transaction="835")
    assert "payment_amount" in str(err.value) and "7x5" not in str(err.value)
    data = bare_remittance()
    data["payer"]["name"] = "A*B"
    with pytest.raises(BuildError, match="payer.name"):
        to_x12(data, transaction="835")


# ----------------------------------------------------------------------------
# the corpus
# ----------------------------------------------------------------------------
def corpus_835(status: str | None = "valid-looking") -> list[dict]:
    return [r for r in corpus_rows() if r["transaction_set"] == "835" and (status is None or r["status"] == status)]


def raw_balance(path) -> set[str]:
    """The balance codes an 835 deserves, computed from its segments alone (independent of the model)."""
    doc = parse(path)
    out: set[str] = set()
    for _, _, txn in doc.transactions():
        comp = ":"
        segs = [tok[0] for tok in txn.segments()]
        bpr = next(Decimal(s[2]) for s in segs if s[0] == "BPR")
        paid_total, plb, claim, svc = Decimal(0), Decimal(0), None, None

        def close_service():
            if svc is not None and svc[0] - svc[1] != svc[2]:
                out.add("service_out_of_balance")

        def close_claim():
            close_service()
            if claim is not None and claim[0] - claim[1] != claim[2]:
                out.add("claim_out_of_balance")

        for s in segs:
            if s[0] == "CLP":
                close_claim()
                claim, svc = [Decimal(s[3]), Decimal(0), Decimal(s[4])], None
                paid_total += Decimal(s[4])
            elif s[0] == "SVC":
                close_service()
                svc = [Decimal(s[2]), Decimal(0), Decimal(s[3])]
            elif s[0] == "CAS":
                total = sum(Decimal(s[i]) for i in range(3, len(s), 3) if s[i])
                claim[1] += total
                if svc is not None:
                    svc[1] += total
            elif s[0] == "PLB":
                plb += sum(Decimal(s[i]) for i in range(4, len(s), 2) if s[i])
        close_claim()
        del comp
        if paid_total - plb != bpr:
            out.add("payment_out_of_balance")
    return out


def test_every_valid_looking_835_parses_and_balances_where_the_source_does():
    require_corpus()
    rows = corpus_835()
    assert len(rows) >= 10
    for row in rows:
        path = CORPUS / row["path"]
        doc = to_models(path)
        every = doc["findings"] + [f for t in doc["transactions"] for f in t["findings"]]
        assert not [f for f in every if f["severity"] == "error"], row["path"]
        for t in doc["transactions"]:
            assert t["map"] == "835" and t["model"]["claim_payments"], row["path"]
            assert not [f for f in t["findings"] if f["severity"] == "error"], row["path"]
            assert {f["code"] for f in t["findings"]} & BALANCE_CODES == raw_balance(path), row["path"]


def test_every_835_in_the_corpus_round_trips_or_fails_with_a_named_field():
    require_corpus()
    for row in corpus_835(status=None):
        first = to_models(CORPUS / row["path"])
        unreadable = any(f["code"] == "unreadable_value" and "date" in f["message"]
                         for t in first["transactions"] for f in t["findings"])
        if unreadable:  # a date that is not a date is kept as text; the typed model refuses to write it back
            with pytest.raises(BuildError, match=r"date"):
                to_x12(first, check=False)
            continue
        second = to_models(to_x12(first, check=False).encode())
        for a, b in zip(first["transactions"], second["transactions"]):
            assert b["model"] == a["model"], row["path"]
            assert without_positions(b.get("unmapped")) == without_positions(a.get("unmapped")), row["path"]
