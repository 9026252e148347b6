from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from x12engine import codes
from x12engine.codes import CodeTableError, clear_cache, load_table, read_table, search_path, table_names
from x12engine.errors import X12Error

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POKITDOK_SRC = SHARED / "reference" / "pokitdok" / "src"
CODES_DIR = ROOT / "maps" / "codes"

REQUIRED_TABLES = {
    "reject_reason", "follow_up_action", "certification_action", "decision_reason", "request_category",
    "certification_type", "service_type", "place_of_service", "gender", "delivery_quantity_qualifier",
    "service_unit", "coverage_level", "time_period_qualifier", "quantity_qualifier", "in_plan_network",
    "authorization_required", "insurance_type", "procedure_id_qualifier", "cas_group", "carc", "rarc",
    "claim_status_category", "claim_status", "plb_adjustment_reason", "eligibility_benefit", "relationship",
    # one per `table` value of claims_837_835_enums.tsv
    "claim_frequency", "transaction_code", "claim_filing_code", "related_causes_code", "note_reference_code",
    "ambulance_reason_code", "ambulance_condition", "admission_type", "admission_source", "claim_payment_status",
    "filing_indicator", "transaction_handling", "credit_debit_flag", "payment_method", "account_type",
    "adjudicated_procedure_code_qualifier", "contact_method_type", "contact_function",
}
DESCRIPTION_ONLY = {"carc", "rarc", "claim_status_category", "claim_status"}
# description-only lists the guides name by reference (list:NAME) for the validator; codes are the values
REFERENCE_LISTS = {"state", "country", "currency", "entity_identifier_codes"}

HEADER = "code\tenum\tdescription\tstatus\tstart\tstop\tnotes"


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    """Each test sees only the bundled tables unless it sets the path itself."""
    monkeypatch.delenv(codes.ENV_VAR, raising=False)
    clear_cache()
    yield
    clear_cache()


def write_table(directory: Path, name: str, rows: list[str], header: str = HEADER, meta: dict | None = None) -> Path:
    meta = {"table": name, "element": "XX01 (1)", "title": "Test", "list_version": "test", "source": "test"} | (meta or {})
    lines = [f"# {k}: {v}" for k, v in meta.items() if v is not None] + [header, *rows]
    path = directory / f"{name}.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# the bundled tables
# ---------------------------------------------------------------------------------------------
def test_required_tables_present():
    assert REQUIRED_TABLES <= set(table_names())


@pytest.mark.parametrize("name", sorted(p.stem for p in CODES_DIR.glob("*.tsv")))
def test_table_loads_and_is_consistent(name):
    t = load_table(name)
    assert t.name == name and t.path == CODES_DIR / f"{name}.tsv"
    assert t.element and t.title and t.list_version and t.source
    assert len(t) > 0
    assert len(set(t.codes())) == len(t.codes())
    names = [n for e in t.entries for n in ((e.enum,) if e.enum else ()) + e.aliases]
    assert len(set(names)) == len(names)
    for e in t.entries:
        assert e.code in t and t.entry(e.code) is e
        if name in DESCRIPTION_ONLY | REFERENCE_LISTS:
            assert e.enum is None and t.enum_for(e.code) is None and e.description
        else:
            assert e.enum, f"{name} {e.code} has no enum"
            assert t.enum_for(e.code) == e.enum and t.code_for(e.enum) == e.code
            assert all(t.code_for(a) == e.code for a in e.aliases)
        # every row whose provenance was in doubt records the decision taken
        if e.status in {"derived?", "proposed", "unresolved"}:
            assert re.search(r"\b(kept|renamed|merged|added)\b", e.notes), f"{name} {e.code}: no decision in notes"


def test_description_only_lists_are_marked_replaceable():
    for name in DESCRIPTION_ONLY:
        t = load_table(name)
        assert "2011-2012" in t.list_version and "X12ENGINE_CODES_PATH" in t.list_version
        assert t.enums() == ()


def test_certification_action_spot_values():
    t = load_table("certification_action")
    expected = {"A1": "certified_in_total", "A2": "certified_partial", "A3": "not_certified", "A4": "pended",
                "A6": "modified", "C": "cancelled", "CT": "contact_payer", "NA": "no_action_required"}
    assert dict(zip(t.codes(), t.enums())) == expected
    assert t.element == "HCR01 (306)"


def test_decision_reason_has_all_53():
    t = load_table("decision_reason")
    assert len(t.enums()) == 53
    assert t.enum_for("25") == "services_not_considered_due_to_other_errors"
    assert t.code_for("authorization_restrictions") == "0C"
    assert t.enum_for("1") is None  # list 886 codes are two characters


def test_follow_up_action():
    t = load_table("follow_up_action")
    assert len(t.enums()) == 8
    assert t.enum_for("C") == "correct_and_resubmit"
    assert t.describe("C") == "Please Correct and Resubmit"


def test_reject_reason():
    t = load_table("reject_reason")
    # the pairs PokitDok's rejected-278 example shows (X12 RFI 2477: HCR A3 + 25 with AAA 33)
    assert t.enum_for("15") == "required_application_data_missing"
    assert t.enum_for("33") == "input_errors"
    assert t.enum_for("46") == "invalid_provider_phone_number"
    # two PokitDok names for 72: one written, the other accepted
    assert t.enum_for("72") == "invalid_subscriber_insured_id"
    assert t.code_for("invalid_subscriber_id") == "72"
    assert "invalid_subscriber_id" not in t.enums()
    assert t.entry("72").aliases == ("invalid_subscriber_id",)


def test_service_type():
    t = load_table("service_type")
    assert t.enum_for("73") == "diagnostic_medical"
    assert t.enum_for("3") == "consultation"
    assert t.enum_for("30") == "health_benefit_plan_coverage"
    # 90 / BW / BX follow the X12 descriptions (see the table note)
    assert t.enum_for("90") == "mail_order_prescription_drug"
    assert t.enum_for("BW") == "mail_order_prescription_drug_brand_name"
    assert t.enum_for("BX") == "mail_order_prescription_drug_generic"


def test_small_decisions():
    assert load_table("claim_filing_code").enum_for("ZZ") == "mutually_defined"
    assert load_table("claim_filing_code").code_for("mutualy_defined") == "ZZ"
    assert load_table("claim_frequency").code_for("corrected") == "7"
    assert load_table("claim_frequency").code_for("adjustment") == "6"
    assert load_table("admission_source").code_for("intermediate_care_facility") == "5"
    assert set(load_table("filing_indicator").codes()) >= {"CH", "DS", "LM"}
    assert not set(load_table("filing_indicator").codes()) & {"CS", "DH", "LA"}
    assert set(load_table("delivery_quantity_qualifier").codes()) == {"DY", "FL", "HS", "MN", "VS"}
    assert load_table("service_unit").code_for("international_unit") == "F2"
    assert load_table("service_unit").code_for("minutes") == "MJ"
    assert load_table("service_unit").code_for("unit") == "UN"
    assert load_table("relationship").enum_for("18") == "self"
    assert load_table("gender").code_for("female") == "F"
    assert load_table("eligibility_benefit").enum_for("1") == "active_coverage"
    assert len(load_table("eligibility_benefit")) == 35


def test_dates_and_retired_codes():
    t = load_table("claim_status_category")
    x0 = t.entry("X0")
    assert x0.start == "1995-01-01" and x0.stop == "2003-10-16" and "retired" in x0.notes
    assert t.describe("A1").startswith("Acknowledgement/Receipt")
    assert load_table("carc").describe("18") is not None


# ---------------------------------------------------------------------------------------------
# PokitDok's documented value tables (development workspace only)
# ---------------------------------------------------------------------------------------------
def doc_values(path: Path, heading: str) -> list[str]:
    """The cells of the markdown table whose header row starts with `| heading`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(
        i for i, ln in enumerate(lines[:-1])
        if re.match(rf"\|\s*{re.escape(heading)}\s*\|", ln) and re.match(r"\|\s*:?-", lines[i + 1])
    )
    values: list[str] = []
    for ln in lines[start + 1:]:
        if not ln.strip().startswith("|"):
            break
        for cell in ln.strip().strip("|").split("|"):
            cell = re.sub(r"\s*\([A-Z]\)$", "", cell.strip().strip("'"))
            if cell and not set(cell) <= set(":-"):
                values.append(cell)
    return values


DOC_TABLES = [
    ("_authorizations.md", "certification_action Values", "certification_action"),
    ("_authorizations.md", "decision_reason Values", "decision_reason"),
    ("_authorizations.md", "follow_up_action Values", "follow_up_action"),
    ("_authorizations.md", "category Values", "request_category"),
    ("_authorizations.md", "certification_type Values", "certification_type"),
    ("_referrals.md", "certification_action Values", "certification_action"),
    ("_referrals.md", "decision_reason Values", "decision_reason"),
    ("_referrals.md", "follow_up_action Values", "follow_up_action"),
    ("_eligibility.md", "coverage_level", "coverage_level"),
    ("_eligibility.md", "time_period_qualifier Values", "time_period_qualifier"),
    ("_eligibility.md", "quantity_qualifier Values", "quantity_qualifier"),
    ("_eligibility.md", "procedure_id_qualifier", "procedure_id_qualifier"),
    ("_eligibility.md", "reject_reason", "reject_reason"),
    ("_claims.md", "claim_frequency Values", "claim_frequency"),
    ("_claims.md", "relationship Values", "relationship"),
    ("_claims.md", "filing_code Values", "claim_filing_code"),
    ("_claims.md", "admission_source Values", "admission_source"),
    ("_claims.md", "admission_type Values", "admission_type"),
    ("_claims.md", "place_of_service Values", "place_of_service"),
    ("_claims.md", "reason_code Values", "ambulance_reason_code"),
    ("_claims.md", "condition Values", "ambulance_condition"),
    ("_claims.md", "adjustment.group Values", "cas_group"),
]


def require_pokitdok() -> None:
    if not POKITDOK_SRC.is_dir():
        pytest.skip("../shared/reference is not present (it is only in the development workspace)")


@pytest.mark.parametrize(("doc", "heading", "table"), DOC_TABLES)
def test_every_documented_pokitdok_value_is_in_its_table(doc, heading, table):
    require_pokitdok()
    values = [v for v in doc_values(POKITDOK_SRC / doc, heading) if v != "reject_reason"]
    values = [v for v in values if not v.startswith(("Description", "Meaning"))]
    assert values, f"no values parsed from {doc} '{heading}'"
    t = load_table(table)
    # the reject_reason doc table has a description column: keep only snake_case cells
    names = [v for v in values if re.fullmatch(r"[a-z0-9_]+", v)]
    missing = [v for v in names if t.code_for(v) is None]
    assert not missing, f"{table} lacks PokitDok values {missing}"


def test_documented_service_type_pairs():
    require_pokitdok()
    text = (POKITDOK_SRC / "_eligibility.md").read_text(encoding="utf-8")
    pairs = dict(re.findall(r"^\|\s*([a-z0-9_]+)\s*\|\s*([A-Z0-9]{1,3})\s*\|\s*$", text, re.M))
    assert len(pairs) == 244
    t = load_table("service_type")
    repaired = {"mail_order_prescription_drug", "mail_order_prescription_drug_brand_name",
                "mail_order_prescription_drug_generic"}
    differ = {name for name, code in pairs.items() if t.code_for(name) != code}
    assert differ == repaired
    assert set(t.enums()) == set(pairs)


def test_tables_match_the_generator():
    """The committed files are exactly what tools/import_codes.py produces from ../shared."""
    reference = SHARED / "reference" / "codes"
    if not reference.is_dir():
        pytest.skip("../shared/reference/codes is not present")
    spec = importlib.util.spec_from_file_location("import_codes", ROOT / "tools" / "import_codes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    generated = module.generate(reference)
    committed = {p.stem: p.read_text(encoding="utf-8") for p in CODES_DIR.glob("*.tsv")}
    assert set(generated) == set(committed)
    stale = [name for name, text in generated.items() if committed[name] != text]
    assert not stale, f"re-run tools/import_codes.py: {stale}"


# ---------------------------------------------------------------------------------------------
# search path and errors
# ---------------------------------------------------------------------------------------------
def test_override_directory_wins(tmp_path, monkeypatch):
    bundled = load_table("carc")
    assert bundled.path.parent == CODES_DIR
    newer = tmp_path / "newer"
    newer.mkdir()
    write_table(newer, "carc", ["999\t\tA reason from a newer list\tdescription-as-value\t2024-01-01\t\t"],
                meta={"list_version": "WPC 2024"})
    monkeypatch.setenv(codes.ENV_VAR, f"{tmp_path / 'missing'}{codes.os.pathsep}{newer}")
    clear_cache()
    assert search_path() == (tmp_path / "missing", newer, CODES_DIR)
    t = load_table("carc")
    assert t.path == newer / "carc.tsv" and t.list_version == "WPC 2024"
    assert t.describe("999") == "A reason from a newer list" and "1" not in t
    assert load_table("gender").path.parent == CODES_DIR  # other tables still come from the bundle
    assert "carc" in table_names()


def test_override_with_aliases_column(tmp_path, monkeypatch):
    write_table(tmp_path, "gender", ["F\tfemale\tFemale\tderived\t\t\t\twoman", "M\tmale\tMale\tderived\t\t\t\t"],
                header=HEADER + "\taliases")
    monkeypatch.setenv(codes.ENV_VAR, str(tmp_path))
    clear_cache()
    t = load_table("gender")
    assert t.code_for("woman") == "F" and t.enums() == ("female", "male") and "U" not in t


def test_columns_are_found_by_name(tmp_path):
    path = write_table(tmp_path, "reordered", ["Female\tF\tfemale\tderived\t\t\t"],
                       header="description\tcode\tenum\tstatus\tstart\tstop\tnotes")
    assert read_table(path).code_for("female") == "F"


@pytest.mark.parametrize(
    ("rows", "header", "meta", "line", "words"),
    [
        (["A\ta\tA\tderived\t\t"], HEADER, None, 7, "columns"),
        (["A\ta\tA\tderived\t\t\t", "A\tb\tB\tderived\t\t\t"], HEADER, None, 8, "duplicate code 'A'"),
        (["A\ta\tA\tderived\t\t\t", "B\ta\tB\tderived\t\t\t"], HEADER, None, 8, "duplicate enum 'a'"),
        (["A\ta\tA\tderived\t\t\t\t", "B\tb\tB\tderived\t\t\t\ta"], HEADER + "\taliases", None, 8, "duplicate enum 'a'"),
        (["A\ta\tA\tmaybe\t\t\t"], HEADER, None, 7, "status 'maybe'"),
        (["A\ta\tA\tderived\t01/01/1995\t\t"], HEADER, None, 7, "YYYY-MM-DD"),
        (["A\tBad Name\tA\tderived\t\t\t"], HEADER, None, 7, "lower_snake_case"),
        (["A\ta\tA\tderived\t\t\t"], "code\tenum\tdescription", None, 6, "header"),
        (["A\ta\tA\tderived\t\t\t"], HEADER, {"table": "other"}, 1, "does not match"),
        (["A\ta\tA\tderived\t\t\t"], HEADER, {"source": None}, 1, "source"),
    ],
)
def test_malformed_file_names_file_and_line(tmp_path, rows, header, meta, line, words):
    path = write_table(tmp_path, "broken", rows, header=header, meta=meta)
    with pytest.raises(CodeTableError) as info:
        read_table(path)
    err = info.value
    assert isinstance(err, X12Error)
    assert err.location.source == str(path) and err.location.line == line
    assert str(path) in str(err) and f"line {line}" in str(err) and words in str(err)


def test_malformed_override_fails_on_load(tmp_path, monkeypatch):
    write_table(tmp_path, "gender", ["F\tfemale\tFemale\tderived\t\t\t", "F\tmale\tMale\tderived\t\t\t"])
    monkeypatch.setenv(codes.ENV_VAR, str(tmp_path))
    clear_cache()
    with pytest.raises(CodeTableError, match=r"gender\.tsv, line 8: duplicate code 'F'"):
        load_table("gender")


def test_unknown_and_invalid_names():
    with pytest.raises(CodeTableError, match="no code table 'no_such_table'"):
        load_table("no_such_table")
    with pytest.raises(CodeTableError, match="invalid code table name"):
        load_table("../maps/codes/carc")


def test_cache_returns_same_object():
    assert load_table("gender") is load_table("gender")
    clear_cache()
    assert load_table("gender") == load_table("gender")
