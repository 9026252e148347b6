"""The validator's 835 balancing sums raw CLP/SVC/CAS/PLB/BPR elements (vbalance): it must
find exactly what the same checks find on the claim payment model the 835 map reads."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import CORPUS, FIXTURES, corpus_rows
from x12engine.balance import check_remittance
from x12engine.checks import run_checks
from x12engine.mapcatalog import map_for
from x12engine.mapread import MapReader
from x12engine.parser import parse
from x12engine.tokenizer import Tokenizer
from x12engine.vbalance import remittance_amounts
from x12engine.writer import write_segments


def _both(source) -> list[tuple[list, list]]:
    """(model issues, raw issues) for every 835 set of ``source``."""
    out = []
    for inter in parse(source).interchanges:
        d = inter.delimiters
        for group in inter.groups:
            for txn in group.transactions:
                if txn.set_id != "835" or txn.table is None:
                    continue
                compiled = map_for(txn.set_id, txn.guide, txn.guide_name)
                model = MapReader(compiled, inter, group, txn).read()
                raw = remittance_amounts(txn.body, list(txn.body.loops("2100")), d.component, d.repetition)
                out.append((run_checks(compiled.map.name, model), check_remittance(raw)))
    return out


def _files() -> list:
    files = sorted(FIXTURES.glob("835-*.x12"))
    files += [CORPUS / r["path"] for r in corpus_rows() if r["transaction_set"] == "835"]
    return files


def test_raw_amounts_agree_with_the_model_on_fixtures_and_corpus():
    checked = 0
    for path in _files():
        try:
            pairs = _both(path)
        except Exception:  # not X12 at all (broken corpus files): nothing to compare
            continue
        for model_issues, raw_issues in pairs:
            assert raw_issues == model_issues, path.name
            checked += 1
    assert checked >= 3


def test_an_unbalanced_claim_is_found_both_ways():
    text = (FIXTURES / "835-payment.x12").read_text().replace("CLP*PCN0001*1*215.00*172.50", "CLP*PCN0001*1*215.00*170.50")
    [(model_issues, raw_issues)] = _both(text.encode())
    assert raw_issues == model_issues
    assert {i.code for i in raw_issues} >= {"claim_out_of_balance", "payment_out_of_balance"}


# amounts as they come in real files and broken ones: empty, signed, odd decimals,
# exponent and junk the map keeps as text, a repetition, components
_AMOUNT = st.one_of(
    st.sampled_from(["", "0", "-5", ".5", "5.", "1E2", "abc", "-", "12.3.4", "10^20", "7:1", " 3", "NaN", "Infinity"]),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False).map(str),
)
# (segment id, element) of every amount the identities read, and CAS/PLB reasons
_SLOTS = [("CLP", 3), ("CLP", 4), ("SVC", 2), ("SVC", 3), ("BPR", 2), ("PLB", 4), ("PLB", 6)] + \
         [("CAS", e) for e in (2, 3, 5, 6, 8, 9)] + [("PLB", 3), ("PLB", 5)]


def _segments(path):
    t = Tokenizer(path)
    return [list(tok[0]) for tok in t], t.delimiters


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fixture=st.sampled_from(sorted(p.name for p in FIXTURES.glob("835-*.x12"))), data=st.data())
def test_raw_amounts_agree_with_the_model_under_mutation(fixture, data):
    segs, d = _segments(FIXTURES / fixture)
    for _ in range(data.draw(st.integers(1, 6))):
        sid, element = data.draw(st.sampled_from(_SLOTS))
        where = [s for s in segs if s[0] == sid]
        if not where:
            continue
        seg = data.draw(st.sampled_from(where))
        value = data.draw(_AMOUNT if element not in (2, 5, 8) or sid != "CAS" else st.sampled_from(["", "45", "CO"]))
        if sid == "PLB" and element in (3, 5):
            value = data.draw(st.sampled_from(["", "WO", "L6:X1"]))
        while len(seg) <= element:
            seg.append("")
        seg[element] = value
    text = write_segments(segs, d, newline=True)
    for model_issues, raw_issues in _both(text.encode()):
        assert raw_issues == model_issues
