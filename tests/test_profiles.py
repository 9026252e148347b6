"""Output profiles (maps/profiles/*.x12p): the insurance-discovery (271) and claim-info (277/277CA)
records, checked against the X12 of the fixtures; the profile language's load-time errors; the corpus;
never-crash properties on mutated models."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, FIXTURES, corpus_rows, require_corpus
from x12engine import ProfileError, iter_profile, load_profile, profile_names, to_models, to_profile
from x12engine.cli import main
from x12engine.profile import _ENVELOPE, load_profile_file


def records(fixture: str, profile: str) -> list[dict]:
    return to_profile(FIXTURES / fixture, profile)


# ----------------------------------------------------------------------------
# insurance-discovery (271)
# ----------------------------------------------------------------------------
def test_bundled_profiles_are_listed_and_load():
    assert {"insurance-discovery", "claim-info"} <= set(profile_names())
    assert load_profile("insurance-discovery").maps == ("271",)
    assert load_profile("claim-info").maps == ("277", "277ca")


def test_insurance_discovery_plan_record_matches_the_271():
    recs = records("271-response.x12", "insurance-discovery")
    assert len(recs) == 1  # one EB*1, no further coverage-status EBs
    r = recs[0]
    assert list(r) == list(load_profile("insurance-discovery").field_names)
    # EB*1*FAM*30*PR*GOLD PPO 500 / DTP*291*RD8*20240101-20241231
    assert (r["coverageStatusCode"], r["coverageStatusDesc"]) == ("1", "Active Coverage")
    assert (r["coverageLevelCode"], r["coverageLevelDescription"]) == ("FAM", "Family")
    assert (r["planTypeCode"], r["planTypeDescription"]) == ("PR", "GOLD PPO 500")
    assert "PPO" in r["planType"]
    assert (r["benefitTypeCode"], r["benefitTypeDesc"]) == ("30", "Health Benefit Plan Coverage")
    assert (r["coverageStartDate"], r["coverageEndDate"]) == ("2024-01-01", "2024-12-31")
    assert r["groupNumber"] == "GRP55501"  # REF*6P
    # EB*C ... 500 (23 calendar year, in network), 350 (29 remaining), 1000 out of network
    assert r["ded($)IndivInNetwork"] == "500"
    assert r["ded($)IndivInNetworkRemaining"] == "350"
    assert r["ded($)IndivOutOfNetwork"] == "1000"
    assert r["ded($)FamilyInNetwork"] is None
    # EB*G: 3000 / 2750 remaining / 6000 out of network
    assert (r["oop($)IndivInNetwork"], r["oop($)IndivInNetworkRemaining"], r["oop($)IndivOutOfNetwork"]) == ("3000", "2750", "6000")
    # EB*A ... 0.2 in network, 0.4 out of network; EB*B*IND*98 ... 25 in network
    assert (r["coins(%)InNetwork"], r["coins(%)OutOfNetwork"]) == ("20", "40")
    assert r["copay($)"] == "25"
    assert r["copay($)Specialist"] is None
    # 2100A NM1*PR ... PI*99999, PER*IC*...*TE*8005551212*UR*WWW.EXAMPLE.COM
    assert (r["payerID1"], r["payerName1"], r["payerPhone"], r["payerWebsite"]) == (
        "99999", "ACME HEALTH PLAN", "8005551212", "WWW.EXAMPLE.COM")
    assert r["payerTPA"] is False
    # 2100C: NM1*IL*1*DOE*JANE*Q***MI*XYZ123456789, DMG*D8*19800115*F, INS*Y*18
    assert (r["sub.MemberID"], r["patientLastName"], r["patientFirstName"]) == ("XYZ123456789", "DOE", "JANE")
    assert (r["patientDOB"], r["patientGender"], r["subscriberGender"]) == ("1980-01-15", "F", "F")
    assert (r["relationshipCode"], r["relationshipDesc"]) == ("18", "Self")
    assert r["patientAddress"] == "42 ELM STREET, SPRINGFIELD, IL 62704"
    assert r["internalAccountNumber1"] == "TRACE0001"  # TRN*2 (the requester's), not TRN*1
    assert r["responseDate"] == "2024-03-01"  # BHT04
    # EB*L with 2120C NM1*P3*1*WELBY*MARCUS****XX*1112223338, PER ... TE*2175550100
    assert (r["pcpLastName"], r["pcpFirstName"], r["pcpNPI"], r["pcpPhone"]) == ("WELBY", "MARCUS", "1112223338", "2175550100")
    assert r["pcpAddress"] == "7 HARBOR ROAD, SPRINGFIELD, IL 62702"
    assert r["requestStatusCode"] is None


def test_insurance_discovery_rejections_give_one_record_with_the_request_status():
    recs = records("271-rejections.x12", "insurance-discovery")
    # three transaction sets: AAA 72, AAA 75 (then 71), AAA 42 — the first AAA of each
    assert [r["requestStatusCode"] for r in recs] == ["72", "75", "42"]
    assert recs[0]["requestStatus"] == "Invalid/Missing Subscriber/Insured ID"
    assert all(r["coverageStatusCode"] is None and r["planTypeCode"] is None for r in recs)
    assert recs[0]["sub.MemberID"] == "W000000000"


def test_insurance_discovery_one_record_per_coverage_status_benefit(tmp_path):
    # a second EB*1 (Medicare part B) and an EB*6 (inactive) go to coverage.benefits: each is a record
    text = (FIXTURES / "271-response.x12").read_text()
    text = text.replace("EB*C*IND*30***23*500*****Y~", "EB*1*IND*30*MB~EB*6*IND*30*MA~EB*C*IND*30***23*500*****Y~")
    text = text.replace("SE*42*0001~", "SE*44*0001~")
    recs = to_profile(text.encode(), "insurance-discovery")
    assert [(r["coverageStatusCode"], r["planTypeCode"]) for r in recs] == [("1", "PR"), ("1", "MB"), ("6", "MA")]
    assert recs[2]["coverageStatusDesc"] == "Inactive"
    assert recs[1]["coverageLevelCode"] == "IND"
    # the plan-wide amounts are the same on every record
    assert {r["ded($)IndivInNetwork"] for r in recs} == {"500"}


# ----------------------------------------------------------------------------
# claim-info (277 / 277CA)
# ----------------------------------------------------------------------------
NOT_FOUND = ("Acknowledgement/Not Found-The claim/encounter can not be found in the adjudication system."
             " - Claim/encounter not found")


def test_claim_info_not_found_a4_35():
    (r,) = records("277-not-found.x12", "claim-info")
    assert list(r) == list(load_profile("claim-info").field_names)
    # STC*A4:35*20140725**0*0
    assert (r["categoryCode"], r["statusCode"]) == ("A4", "35")
    assert r["categoryDescription"] == NOT_FOUND
    assert r["statusDescription"] == NOT_FOUND
    assert (r["chargeAmt"], r["paymentAmt"]) == ("0", "0")
    assert r["payerClnNo"] == "NOT APPLICABLE"  # REF*1K
    assert r["dateOfService"] == "2014-01-25"  # DTP*472*RD8
    assert (r["subID"], r["patientLastName"], r["patientFirstName"]) == ("W100000000", "DOE", "JANE")
    assert r["internalAccountNumber"] == "47635D71-B08B-47D9-9C11-4630F5"  # TRN02
    assert (r["payerID"], r["responseDate"], r["svcLine"]) == ("MOCKPAYER", "2014-07-25", 0)
    assert r["checkNumber"] is None and r["allowedAmount"] is None


def test_claim_info_claim_line_and_dependent_statuses_in_file_order():
    recs = records("277-response.x12", "claim-info")
    assert [(r["categoryCode"], r["statusCode"], r["svcLine"]) for r in recs] == [("F1", "65", 0), ("F1", "65", 1), ("A4", "35", 0)]
    claim, line, dep = recs
    # STC*F1:65*20240118**250*200*20240117**20240118*CHK000123 and REF*1K*PCN20240001, REF*EJ*PATACCT001
    assert (claim["chargeAmt"], claim["paymentAmt"]) == ("250", "200")
    assert (claim["adjudicationDate"], claim["checkDate"], claim["checkNumber"]) == ("2024-01-17", "2024-01-18", "CHK000123")
    assert (claim["payerClnNo"], claim["patientAccountNumber"]) == ("PCN20240001", "PATACCT001")
    assert claim["dateOfService"] == "2024-01-02"
    assert claim["categoryDescription"].endswith(" - Claim/line has been paid")
    # SVC*HC:99213*125*100****1 with DTP*472*D8*20240102; check data from the claim
    assert (line["procedureCd"], line["procedureCdQual"], line["chargeAmt"], line["paymentAmt"], line["svcLnQty"]) == (
        "99213", "HC", "125", "100", 1)
    assert (line["dateOfService"], line["checkNumber"], line["payerClnNo"]) == ("2024-01-02", "CHK000123", "PCN20240001")
    # the second patient: dependent SAM ROE of subscriber RICHARD ROE (W000000002), under its provider
    assert (dep["patientFirstName"], dep["patientLastName"], dep["subID"]) == ("SAM", "ROE", "W000000002")
    assert (dep["chargeAmt"], dep["paymentAmt"], dep["payerClnNo"]) == ("80", None, None)
    assert dep["billingEntityName"] == "EXAMPLE MEDICAL GROUP"
    assert {r["payerID"] for r in recs} == {"99999"}
    assert claim["payerContactPhone"] == "8005550100"


def test_claim_info_277ca_batch_provider_claim_and_line_statuses():
    recs = records("277ca-ack.x12", "claim-info")
    got = [(r["categoryCode"], r["statusCode"], r["internalAccountNumber"], r["svcLine"]) for r in recs]
    assert got == [("A1", "19", "BATCH0001", 0), ("A2", "20", "PCN0001", 0), ("A1", "19", "PROV0001", 0),
                   ("A3", "21", "PCN0002", 0), ("A3", "21", "PCN0002", 1)]
    batch, first, _, second, line = recs
    assert batch["patientLastName"] is None and batch["billingEntityName"] is None
    assert (first["payerClnNo"], first["chargeAmt"], first["dateOfService"]) == ("PAYERICN0001", "215", "2024-01-10")
    assert first["claimReceiptDate"] == "2024-01-15"  # DTP*050
    # STC*A3:21:QC ... A3:158:QC: the second composite is a reason too
    assert (second["reasonSourceCd1"], second["reasonSourceCd2"]) == ("21", "158")
    assert (line["procedureCd"], line["chargeAmt"]) == ("99392", "80")
    assert first["payerID"] == "66783"  # the information source is the payer (NM1*PR)


# ----------------------------------------------------------------------------
# API and CLI
# ----------------------------------------------------------------------------
def test_api_accepts_a_model_document_and_streams():
    doc = to_models(FIXTURES / "277-response.x12")
    from_doc = to_profile(doc, "claim-info")
    assert from_doc == to_profile(FIXTURES / "277-response.x12", "claim-info")
    assert list(iter_profile(doc["transactions"][0], load_profile("claim-info"))) == from_doc


def test_unknown_profile_and_wrong_transaction_are_clear_errors():
    with pytest.raises(ProfileError, match="no profile named 'nope'.*claim-info"):
        to_profile(FIXTURES / "277-response.x12", "nope")
    with pytest.raises(ProfileError) as exc:
        to_profile(FIXTURES / "277-response.x12", "insurance-discovery", name="in.x12")
    msg = str(exc.value)
    assert "applies to 271, not to map 277" in msg and "ST02=0001" in msg and "in.x12" in msg
    assert "DOE" not in msg and "W000000001" not in msg
    with pytest.raises(ProfileError, match="applies to 277, 277ca, not to (map 837|transaction set 837)"):
        to_profile(FIXTURES / "837p-claims.x12", "claim-info")
    # a transaction set no map reads (model null) is refused too, not skipped
    with pytest.raises(ProfileError, match="transaction set 999 with no map"):
        to_profile({"map": None, "model": None, "transaction": "999"}, "claim-info")


def test_cli_parse_with_profile(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["parse", str(FIXTURES / "277-not-found.x12"), "--profile", "claim-info", "-q"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    # the same document `x12 convert --profile --to json` writes for a file
    assert data["format"] == "x12engine-profile/1" and data["profile"] == "claim-info"
    assert data["source"].endswith("277-not-found.x12") and data["records"][0]["categoryDescription"] == NOT_FOUND
    res = runner.invoke(main, ["parse", str(FIXTURES / "271-response.x12"), "--profile", "claim-info", "-q"])
    assert res.exit_code == 2 and "applies to 277, 277ca, not to map 271" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(main, ["parse", str(FIXTURES / "271-response.x12"), "--profile", "nope"])
    assert res.exit_code == 2 and "no profile named" in res.output
    res = runner.invoke(main, ["parse", str(FIXTURES / "271-response.x12"), "--profile", "claim-info", "--shape", "tree"])
    assert res.exit_code == 2
    out = tmp_path / "o"
    res = runner.invoke(main, ["parse", str(FIXTURES / "271-response.x12"), str(FIXTURES / "271-rejected.x12"),
                               "--profile", "insurance-discovery", "--out-dir", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert len(json.loads((out / "271-rejected.x12.json").read_text())["records"]) == 1


def test_envelope_keys_a_profile_may_name_are_what_entries_carry():
    entry = to_models(FIXTURES / "271-response.x12")["transactions"][0]
    for part, keys in _ENVELOPE.items():
        assert set(keys) <= set(entry["x12"][part])
    assert set(entry["x12"]["interchange"]) - set(_ENVELOPE["interchange"]) == {"delimiters"}


# ----------------------------------------------------------------------------
# the language: features and load-time errors naming file and line
# ----------------------------------------------------------------------------
def write(tmp_path: Path, body: str, maps: str = "277") -> Path:
    p = tmp_path / "t.x12p"
    p.write_text(f"# test profile\nprofile t\nmaps {maps}\n" + body)
    return p


def test_language_scopes_parent_filters_positions_and_functions(tmp_path):
    p = write(tmp_path, """
record patient@patient.claims[]@claim.services[]@line.statuses[] where status_category_code = F1
record providers[]@provider.patients[]@patient.claims[]@claim.statuses[]
line = index(@line) | -1
cpt = ..cpt_code
pcn = @claim.patient_control_number
who = join(" ", @patient.first_name, @patient.last_name)
first_provider = /providers[1].npi
paid = if(@claim.claim_payment_amount, amount(@claim.claim_payment_amount), "none")
found = match(status_category_code, "A4", "A5")
second = nth(2, /payer.name | /payer.id)
pct = percent("0.125")
d = date(@claim.service_date, "%m/%d/%Y")
cat = code(claim_status_category, status_category_code)
desc = strip(text(claim_status_category, status_category_code), ".")
""")
    prof = load_profile_file(p)
    recs = to_profile(FIXTURES / "277-response.x12", prof)
    assert [r["line"] for r in recs] == [1, -1]
    assert recs[0]["cpt"] == "99213" and recs[1]["cpt"] is None
    assert (recs[0]["pcn"], recs[1]["pcn"]) == ("PATACCT001", "PATACCT002")
    assert (recs[0]["who"], recs[1]["who"]) == ("JANE DOE", "SAM ROE")
    assert recs[0]["first_provider"] == "1234567893"
    assert (recs[0]["paid"], recs[1]["paid"]) == ("200", "none")
    assert (recs[0]["found"], recs[1]["found"]) == (False, True)
    assert recs[0]["second"] is None  # /payer.name | /payer.id: the first alternative has one value
    assert recs[0]["pct"] == "12.5"
    assert recs[0]["d"] == "01/02/2024"
    assert recs[1]["cat"] == "A4" and recs[1]["desc"].startswith("Acknowledgement/Not Found")


@pytest.mark.parametrize("body, line, message", [
    ("record patient.claims[]\nx = tracking_id\ny = patient.bogus\n", 6, "path patient.bogus"),
    ("record patient.claims[]\nx = @nowhere.id\n", 5, "unknown scope @nowhere"),
    ("record patient.claims[]\nx = frobnicate(tracking_id)\n", 5, "unknown function frobnicate"),
    ("record patient.claims[]\nx = code(no_such_table, tracking_id)\n", 5, "no_such_table"),
    ("record patient.claims[]\nx = tracking_id\nx = tracking_id\n", 6, "defined twice"),
    ("record patient.claimz[]\nx = tracking_id\n", 4, "record source patient.claimz[]"),
    ("record patient.claims[] where bogus = 1\nx = tracking_id\n", 4, "path bogus"),
    ("record patient.claims[]\nx = total_claim_amount\n", 5, "is an object"),
    ("record patient.claims[]\nx = tracking_id |\n", 5, "cannot parse"),
    ("record patient.claims[]\nx = join(@claim, tracking_id)\n", 5, "must be a constant"),
    ("record patient.claims[]\nx = index(tracking_id)\n", 5, "index() takes a scope"),
    ("record patient.claims[]\nx = nth(1)\n", 5, "takes 2 argument"),
])
def test_profile_errors_name_file_and_line(tmp_path, body, line, message):
    p = write(tmp_path, body)
    with pytest.raises(ProfileError) as exc:
        load_profile_file(p)
    assert f"{p}:{line}" in str(exc.value)
    assert message in str(exc.value)


def test_profile_header_errors(tmp_path):
    p = write(tmp_path, "record payer\nx = name\n", maps="nosuchmap")
    with pytest.raises(ProfileError, match="no map named nosuchmap"):
        load_profile_file(p)
    p = tmp_path / "h.x12p"
    p.write_text("maps 277\nrecord payer\nx = name\n")
    with pytest.raises(ProfileError, match="profile NAME"):
        load_profile_file(p)
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_profile_file(tmp_path / "missing.x12p")


def test_a_path_needs_only_exist_in_one_of_the_maps(tmp_path):
    # claim_level_info is 277CA only, claims 277 only: one profile serves both
    p = write(tmp_path, "record patient.(claims | claim_level_info)@c.statuses[]\nx = @c.claim_id_number | @c.bill_type_id\n",
              maps="277 277ca")
    prof = load_profile_file(p)
    assert to_profile(FIXTURES / "277ca-ack.x12", prof) == [{"x": "CLEARINGHOUSE0001"}]


# ----------------------------------------------------------------------------
# the corpus
# ----------------------------------------------------------------------------
def _corpus(sets: set[str]) -> list[dict]:
    return [r for r in corpus_rows() if r["status"] == "valid-looking" and set(r["transaction_set"].split(",")) & sets]


@pytest.mark.parametrize("row", _corpus({"271", "277"}) or [None], ids=lambda r: r["path"] if r else "no-corpus")
def test_corpus_files_give_records(row):
    require_corpus()
    if row is None:
        pytest.skip("no 271/277 in the corpus")
    profile = "insurance-discovery" if "271" in row["transaction_set"] else "claim-info"
    recs = to_profile(CORPUS / row["path"], profile, name=row["path"])
    assert recs, "a valid 271/277 gives at least one record"
    names = list(load_profile(profile).field_names)
    assert all(list(r) == names for r in recs)
    assert all(not isinstance(v, (dict, list)) for r in recs for v in r.values())


# ----------------------------------------------------------------------------
# properties: any model (mutated from real ones) projects without crashing
# ----------------------------------------------------------------------------
def _models(set_id: str) -> list[dict]:
    entries = []
    files = sorted(FIXTURES.glob(f"{set_id}*.x12"))
    files += [CORPUS / r["path"] for r in _corpus({set_id})]
    for f in files:
        entries += [t for t in to_models(f)["transactions"] if t.get("model") is not None and t["transaction"] == set_id[:3]]
    return entries


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True),
                     st.text(max_size=8), st.sampled_from(["", "yes", "no", "30", "A4", "1", "2B", "F", "2024-01-02"]))
_JUNK = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.sampled_from(["amount", "code", "enum", "x"]), inner, max_size=3)),
                     max_leaves=6)


def _mutate(value, data, depth=0):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            choice = data.draw(st.integers(0, 9), label=f"op {k}")
            if choice == 0:
                continue  # drop the field
            if choice == 1:
                out[k] = data.draw(_JUNK, label=f"junk {k}")
            else:
                out[k] = _mutate(v, data, depth + 1)
        return out
    if isinstance(value, list):
        items = [_mutate(v, data, depth + 1) for v in value]
        if items and data.draw(st.booleans(), label="dup"):
            items.append(copy.deepcopy(items[0]))
        return items
    return value


def _property(profile: str, set_id: str):
    entries = _models(set_id)
    prof = load_profile(profile)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def run(data):
        entry = copy.deepcopy(data.draw(st.sampled_from(entries), label="entry"))
        entry["model"] = _mutate(entry["model"], data)
        for rec in to_profile(entry, prof):
            assert list(rec) == list(prof.field_names)
            assert all(not isinstance(v, (dict, list)) for v in rec.values())

    run()


def test_any_271_model_projects_without_crashing():
    _property("insurance-discovery", "271")


def test_any_277_model_projects_without_crashing():
    _property("claim-info", "277")
