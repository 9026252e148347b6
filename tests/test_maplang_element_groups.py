"""Map language features added for the 835: element lists with a step or several ranges,
relative element refs (+N), `$field` loop-step conditions, idempotent placement, and the
money / description transforms."""
from __future__ import annotations

import pytest

from x12engine.mapcatalog import compile_map
from x12engine.maplang import MapError, parse_ref
from x12engine.transforms import ReadIssue, make

HEADER = 'map t835\ntransaction 835\nguide 005010X221A1\n# GS01 comes from the grammar\nmodel T\n'


def write(tmp_path, body: str):
    p = tmp_path / "t.x12m"
    p.write_text(HEADER + body)
    return p


def test_relative_refs_parse():
    assert (parse_ref("+1").offset, parse_ref("+1").component, parse_ref("+1").segment) == (1, None, None)
    assert (parse_ref("+2-02").offset, parse_ref("+2-02").component) == (2, 2)


def test_step_and_ranges_compile_to_slots(tmp_path):
    c = compile_map(write(tmp_path, "list plb each PLB03..PLB14 step 2 {\n  a = -01\n  b = +1\n}\n"))
    assert c.map.body[0].slots == (3, 5, 7, 9, 11, 13)
    body = "object o at 2000/2100 {\n  list r each MIA05 | MIA20..MIA23 {\n    code = +0\n  }\n}\n"
    c = compile_map(write(tmp_path, body))
    assert c.map.body[0].body[0].slots == (5, 20, 21, 22, 23)


@pytest.mark.parametrize("body, message", [
    ("list x each PLB03..CAS14 step 2 {\n  a = +0\n}\n", "one segment"),
    ("list x each PLB14..PLB03 step 2 {\n  a = +0\n}\n", "backwards"),
    ("list x each PLB05 | PLB03..PLB04 {\n  a = +0\n}\n", "in order"),
    ("x = BPR02 [BPR01=$y]\n", "loop step"),
    ("a = +1\n", "element list"),
])
def test_bad_element_lists_fail_on_load_naming_the_line(tmp_path, body, message):
    with pytest.raises(MapError, match=message) as err:
        compile_map(write(tmp_path, body))
    assert "t.x12m" in str(err.value)


def test_money_keeps_the_digits_and_refuses_what_is_not_an_amount():
    fn = make("money", ())
    assert fn.read("60.0", []) == {"amount": "60.0", "currency": "USD"}
    assert fn.write(({"amount": "60.0", "currency": "USD"},), 0) == ("60.0", [])
    assert fn.write(({"amount": 12.5},), 0) == ("12.5", [])
    with pytest.raises(ReadIssue) as issue:
        fn.read("12,50", [])
    assert issue.value.kept("12,50") == {"amount": "12,50", "currency": "USD"}
    for bad in ({"amount": "1e5"}, {"amount": "12.50", "currency": "EUR"}, "12.50", {"amount": True}):
        with pytest.raises(ValueError):
            fn.write((bad,), 0)


def test_description_reads_the_code_list_text_and_writes_nothing():
    fn = make("description", ("carc",))
    assert fn.read("2", []) == "Coinsurance Amount"
    with pytest.raises(ReadIssue) as issue:
        fn.read("ZZZ9", [])
    assert issue.value.kept("ZZZ9") is None
    assert fn.write(("Coinsurance Amount",), 0) == (None, [])


def test_items_share_a_segment_only_when_its_own_elements_agree():
    """CAS: items of one group code fill one segment's triples; another group starts a new CAS."""
    from x12engine import to_models, to_x12

    money = lambda a: {"amount": a, "currency": "USD"}  # noqa: E731
    adj = [{"group": "contractual_obligations", "reason_code": "45", "amount": money("1")},
           {"group": "contractual_obligations", "reason_code": "253", "amount": money("2"), "quantity": "3"},
           {"group": "patient_responsibility", "reason_code": "2", "amount": money("4")}]
    model = {"financial_information": {"transaction_handling": "remittance_information_only", "payment_amount": money("3"),
                                       "transaction_type": "credit", "payment_method": "check",
                                       "check_eft_trace_number": "T1", "payer_id": "1"},
             "payer": {"name": "P"}, "payee": {"name": "Q", "npi": "1234567893"},
             "claim_payments": [{"assigned_number": 7, "patient_control_number": "C", "status": "denied",
                                 "total_charge_amount": money("10"), "payment_amount": money("3"),
                                 "filing_indicator": "medicaid", "control_number": "X", "adjustments": adj}]}
    x12 = to_x12(model, transaction="835")
    segs = [s.strip() for s in x12.split("~")]
    assert "CAS*CO*45*1**253*2*3" in segs and "CAS*PR*2*4" in segs and "LX*7" in segs
    back = to_models(x12.encode())["transactions"][0]["model"]["claim_payments"][0]
    assert [(a["reason_code"], a.get("quantity")) for a in back["adjustments"]] == [("45", None), ("253", "3"), ("2", None)]
    assert back["assigned_number"] == 7


def test_a_code_and_its_enum_on_one_element_write_it_once_and_must_agree():
    from x12engine import to_x12
    from x12engine.errors import BuildError

    money = lambda a: {"amount": a, "currency": "USD"}  # noqa: E731
    model = {"financial_information": {"transaction_handling": "remittance_information_only", "payment_amount": money("-5"),
                                       "transaction_type": "credit", "payment_method": "check",
                                       "check_eft_trace_number": "T1", "payer_id": "1"},
             "payer": {"name": "P"}, "payee": {"name": "Q", "npi": "1234567893"},
             "claim_payments": [],
             "payment_adjustments": [{"provider_id": "1", "fiscal_period_date": "2025-12-31", "reason_code": "WO",
                                      "reason": "overpayment_recovery", "adjustment": money("5")}]}
    assert "PLB*1*20251231*WO*5~" in to_x12(model, transaction="835", check=False)
    model["payment_adjustments"][0]["reason"] = "late_charge"
    with pytest.raises(BuildError, match=r"payment_adjustments\[0\].reason"):
        to_x12(model, transaction="835", check=False)
