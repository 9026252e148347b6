"""835 balancing reported by the validator: stable codes, the claim's segment position, no PHI, in the 999."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from conftest import BALANCE_CODES, FIXTURES
from x12engine.ack import AckSettings, ack_999
from x12engine.cli import main
from x12engine.tokenizer import Tokenizer
from x12engine.validate import validate

PAYMENT = (FIXTURES / "835-payment.x12").read_text()
# values of the fixture that identify people or accounts: none may appear in a finding
PHI = ("PCN0001", "PAYERCLM0001", "DOE", "JOHN", "XYZ123456789", "RIVERSIDE")


def _balance(text: str) -> list:
    return [f for f in validate(text.encode()).findings if f.code in BALANCE_CODES]


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_balanced_835_fixtures_have_no_balance_findings():
    for path in FIXTURES.glob("835-*.x12"):
        assert not [f for f in validate(path).findings if f.code in BALANCE_CODES], path.name


def test_claim_payment_off_is_reported_on_its_clp():
    text = _swap(PAYMENT, "CLP*PCN0001*1*215.00*172.50", "CLP*PCN0001*1*215.00*170.50")
    found = _balance(text)
    claim = [f for f in found if f.code == "claim_out_of_balance"]
    assert len(claim) == 1
    f = claim[0]
    assert (f.severity, f.segment_id, f.ref, f.loop, f.position, f.line) == ("error", "CLP", "CLP-04", "2100", 18, 20)
    assert (f.ik3, f.ik4, f.element, f.data_element) == ("8", "I12", 4, "782")
    assert "+2.00" in f.message
    # the total no longer adds up either, and is reported on the BPR
    assert [(g.ref, g.position) for g in found if g.code == "payment_out_of_balance"] == [("BPR-02", 2)]


def test_service_line_off_is_reported_on_its_svc():
    text = _swap(PAYMENT, "SVC*HC:J3420*90.00*80.00", "SVC*HC:J3420*90.00*79.00")
    found = _balance(text)
    assert [(f.code, f.ref, f.loop, f.position) for f in found] == [("service_out_of_balance", "SVC-03", "2110", 32)]


def test_total_payment_off_is_reported_on_bpr():
    text = _swap(PAYMENT, "BPR*I*322.50", "BPR*I*325.50")
    assert [(f.code, f.ref, f.position) for f in _balance(text)] == [("payment_out_of_balance", "BPR-02", 2)]


def test_balance_findings_never_show_phi_and_go_into_the_999():
    text = _swap(PAYMENT, "CLP*PCN0001*1*215.00*172.50", "CLP*PCN0001*1*215.00*170.50")
    result = validate(text.encode())
    for f in result.findings:
        assert not any(v in f.text() for v in PHI), f.text()
    ack = [tok[0] for tok in Tokenizer(ack_999(result, AckSettings(now=dt.datetime(2026, 1, 2))).encode())]
    assert ["IK3", "CLP", "18", "2100", "8"] in ack
    assert ["IK4", "4", "782", "I12"] in ack
    assert next(s for s in ack if s[0] == "IK5")[1] == "R"


def test_cli_validate_reports_balance(tmp_path):
    bad = tmp_path / "bad.835"
    bad.write_text(_swap(PAYMENT, "SVC*HC:J3420*90.00*80.00", "SVC*HC:J3420*90.00*79.00"))
    res = CliRunner().invoke(main, ["validate", str(bad)])
    assert res.exit_code == 1
    assert "service_out_of_balance" in res.output and "SVC-03" in res.output


_CLP = [line for line in PAYMENT.splitlines() if line.startswith("CLP*")]
_SEGS = PAYMENT.splitlines()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, len(_CLP) - 1), st.integers(1, 99_999))
def test_any_claim_shift_is_found_at_that_claim(n, cents):
    """Shift one claim's payment (and BPR02 by the same amount, so only the claim identity breaks)."""
    clp = _CLP[n].rstrip("~").split("*")
    shift = Decimal(cents) / 100
    clp[4] = f"{Decimal(clp[4]) + shift:.2f}"
    text = _swap(PAYMENT, _CLP[n], "*".join(clp) + "~")
    bpr = next(line for line in _SEGS if line.startswith("BPR*")).split("*")
    bpr[2] = f"{Decimal(bpr[2]) + shift:.2f}"
    text = _swap(text, next(line for line in _SEGS if line.startswith("BPR*")), "*".join(bpr))
    found = _balance(text)
    position = next(i for i, line in enumerate(_SEGS) if line == _CLP[n]) - 1  # ST is line 3 (index 2): position 1
    assert [(f.code, f.position) for f in found] == [("claim_out_of_balance", position)]
    assert f"-{shift:.2f}" in found[0].message
