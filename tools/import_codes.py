#!/usr/bin/env python3
"""Generate maps/codes/*.tsv, the code tables x12engine ships, from the research
tables in ../shared/reference/codes (format of the output: maps/codes/README.md).

The product never reads ../shared: this script is run by a developer and its
output is committed. Everything decided by hand lives below as data, each with
its reason, and the reason is written into the generated rows (``notes``) or the
table's ``# note:`` lines:

  * SPECS       which reference rows make which table, with its metadata;
  * DECISIONS   one decision per row the reference marked ``derived?``,
                ``proposed`` or ``unresolved`` (or that NOTES.md lists as a known
                disagreement): keep / rename / alias / drop, with the reason;
  * DEFAULTS    the decision for the many ``proposed`` / ``unresolved`` rows of a
                table that share one reason;
  * ADDED       rows the reference lacks, found by checking each table against
                the 005010 TR3 code lists in grammars/*.x12g;
  * SKIPPED     reference tables deliberately not turned into code tables.

Each table is also checked against the inline code lists of the guides in
grammars/ (``tr3``): a code a guide allows but the table lacks stops the run
unless ADDED covers it; a table code no guide lists gets a note.

Run:    python tools/import_codes.py            (writes maps/codes/*.tsv)
        python tools/import_codes.py --check    (exit 1 if the committed files differ)
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "codes"
OUT = ROOT / "maps" / "codes"
GRAMMARS = ROOT / "grammars"
sys.path.insert(0, str(ROOT))
from x12engine.grammar import is_envelope_file, load_guide_cached  # noqa: E402

COLUMNS = ("code", "enum", "description", "status", "start", "stop", "notes")
NEEDS_DECISION = {"derived?", "proposed", "unresolved"}

# Short provenance strings reused by several tables.
PD_AUTH = "PokitDok apidocs-v4 _authorizations.md (2016-2017; enum names only)"
PD_ELIG = "PokitDok apidocs-v4 _eligibility.md"
PD_CLAIMS = "PokitDok apidocs-v4 _claims.md"
PD_PAY = "PokitDok apidocs-v4 claim_payments.md"
OPENEMR = "OpenEMR edih_271_code_class.php / edih_835_code_class.php"
RECALL = "researcher recall of the 5010 TR3 code lists (not verified against a stored source)"
HIPPO = "hippo gem 0.5.5 code lists (DrBassman/hippo_eyeDoc)"
TR3 = "X12 005010 TR3 code values (inline lists in grammars/*.x12g)"
NOTE_837_INLINE = ("not in the reference tables: built for the 837 maps from the names PokitDok documents and the "
                   "codes the 837 guides list inline")
REPLACEABLE = (
    "2011-2012 vintage, out of date: to update, put a newer {name}.tsv in this format in a "
    "directory listed in X12ENGINE_CODES_PATH (no code change needed)"
)


@dataclass(frozen=True)
class Spec:
    """One output table: where its rows come from and what its header says."""

    name: str
    file: str | None  # reference TSV; None for a table built from ADDED rows only
    element: str
    title: str
    list_version: str
    source: str
    select: str | None = None  # value of the reference's `table` column (packed files)
    enum_col: str = "enum_value"
    description_only: bool = False
    tr3: tuple[tuple[str, str], ...] = ()  # (grammar file glob, element ref) whose code lists must be covered
    notes: tuple[str, ...] = ()  # extra table-level `# note:` lines
    omit_notes: tuple[str, ...] = ()  # regexes: reference note passages to remove (superseded)
    lift_notes: tuple[str, ...] = ()  # regexes: passages repeated on many rows, moved to one table note
    meta: tuple[tuple[str, str], ...] = ()  # extra '# key: value' lines (e.g. missing_code: error)
    rows_from_tr3: bool = False  # every code of the tr3 inline lists becomes a row (tables the guides define inline)


@dataclass(frozen=True)
class Decision:
    """A hand decision about one reference row (or the rows of a status, in DEFAULTS)."""

    action: str  # keep | rename | alias | drop
    reason: str
    enum: str | None = None  # rename / alias: the enum written
    aliases: tuple[str, ...] = ()  # also accepted JSON -> X12
    status: str | None = None  # new status when the decision changes the provenance
    replace_notes: bool = False  # drop the reference's own note for this row (superseded)


@dataclass(frozen=True)
class Added:
    """A row the reference lacks."""

    code: str
    enum: str
    description: str
    status: str
    notes: str


@dataclass
class Row:
    code: str
    enum: str
    description: str
    status: str
    start: str = ""
    stop: str = ""
    notes: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------------
SPECS: tuple[Spec, ...] = (
    # --- 278 authorizations / referrals -------------------------------------------------
    Spec("certification_action", "hcr01_certification_action.tsv", "HCR01 (306)",
         "Action Code (certification action)", "X12 005010 element 306, HCR01 subset of 005010X217",
         f"enum: {PD_AUTH} #certaction; codes/descriptions: {OPENEMR} HCR01",
         tr3=(("278-response", "HCR01"),)),
    Spec("decision_reason", "hcr03_decision_reason.tsv", "HCR03 (901; external code source 886)",
         "Health Care Services Review Decision Reason Code",
         "X12 external code list 886 as of PokitDok's 2016-2017 list (codes 01-29, 0A-0Z); "
         "external list: a newer decision_reason.tsv can be dropped in via X12ENGINE_CODES_PATH",
         f"enum: {PD_AUTH} #decision; codes/descriptions: {OPENEMR} HCR03 and x12.org code list 886",
         notes=("OpenEMR stores 01-09 without the leading zero; list 886 codes are two characters",),
         lift_notes=(r"53 PokitDok values <-> 53 codes of X12 external code list 886; 1:1 by description",),
         omit_notes=(r"OpenEMR stores this code without the leading zero \('\d'\) - X12 list uses 2 chars",)),
    Spec("request_category", "um01_request_category.tsv", "UM01 (1525)", "Request Category Code",
         "X12 005010 element 1525, UM01 subset of 005010X217",
         f"enum: {PD_AUTH} #category; codes/descriptions: {OPENEMR} UM01",
         tr3=(("278-*", "UM01"),)),
    Spec("certification_type", "um02_certification_type.tsv", "UM02 (1322)", "Certification Type Code",
         "X12 005010 element 1322, UM02 subset of 005010X217",
         f"enum: {PD_AUTH} #certification_type; codes/descriptions: {OPENEMR} UM02",
         tr3=(("278-*", "UM02"),)),
    Spec("reject_reason", "aaa03_reject_reason.tsv", "AAA03 (901)", "Reject Reason Code",
         "X12 005010 element 901 as used by 005010X279A1 (271) and 005010X217 (278); "
         "descriptions in the X12 901 dictionary wording",
         f"enum: {PD_ELIG} #reject-reason and examples, {PD_AUTH} examples; codes: {OPENEMR} AAA03; "
         "wording: X12 element 901 dictionary pages",
         tr3=(("271", "AAA03"),), omit_notes=(r"not in OpenEMR list - 5010 IG usage not verified",),
         notes=("names of codes PokitDok does not document (status proposed) are ours: snake_case of the X12 "
                "wording with PokitDok's shortenings (invalid_ for Invalid/Missing, _id for Identification), and "
                "the HCR03 name where AAA03 repeats an HCR03 reason",
                "PokitDok names the field reject_reason on eligibility and reason in 278 rejections[]; "
                "both use this table",)),
    Spec("follow_up_action", "aaa04_follow_up_action.tsv", "AAA04 (889)", "Follow-up Action Code",
         "X12 005010 element 889 (005010X279A1 / 005010X217)",
         f"enum: {PD_AUTH} #follow_up_action and {PD_ELIG}; codes/descriptions: {OPENEMR} AAA04",
         tr3=(("271", "AAA04"), ("278-response", "AAA04"))),
    Spec("delivery_quantity_qualifier", "eligibility_and_278_small_enums.tsv", "HSD01 (673)",
         "Quantity Qualifier (health care services delivery)",
         "X12 005010 element 673, HSD01 subset of 005010X217 / 005010X279A1",
         f"enum: {PD_AUTH} (field text and examples); codes: {OPENEMR} HSD01",
         select="delivery.quantity_qualifier", tr3=(("*", "HSD01"),)),
    Spec("service_unit", "eligibility_and_278_small_enums.tsv", "SV103 / SV204 (355)",
         "Unit or Basis for Measurement Code (278 event.services.measurement)",
         "X12 005010 element 355 (005010X217 SV103 MJ UN, SV204 DA UN) plus F2",
         f"enum: {PD_AUTH} ('Possibilities: international_unit, minutes, and unit'); codes: {OPENEMR} SV103",
         select="event.services.measurement", tr3=(("278-*", "SV103"), ("278-*", "SV204"))),
    # --- eligibility --------------------------------------------------------------------
    Spec("service_type", "service_type_codes.tsv", "EQ01 / EB03 / UM03 (1365)", "Service Type Code",
         "X12 element 1365: the 005010X279A1 list (descriptions from the hippo gem 0.5.5 lists, 2011-2012) "
         "plus later additions PokitDok documents (E10-E39, F1-F8, SMH); 28 descriptions recalled",
         f"enum+code: {PD_ELIG} #service-type; descriptions: {HIPPO}, {OPENEMR} EB03, recall",
         notes=("90 / BW / BX: PokitDok's table pairs 90 with mail_order_prescription_drug_brand_name, BW with "
                "mail_order_prescription_drug_generic and BX with mail_order_prescription_drug, contradicting X12 1365 "
                "(90 mail order, BW brand name, BX generic) and the names themselves. Rule: a name that spells an X12 "
                "description goes with that code, so a caller asking for generic gets generic; the same three names "
                "remain, so every PokitDok value still parses",
                "3-character codes (E10-E39, SMH) exceed the 005010 length of element 1365 (ID 1/2): "
                "they come from later X12 versions and a strict 5010 validator rejects them",)),
    Spec("coverage_level", "eligibility_and_278_small_enums.tsv", "EB02 (1207)", "Coverage Level Code",
         "X12 005010 element 1207, EB02 subset of 005010X279A1",
         f"enum: {PD_ELIG} #coverage-level; codes: {OPENEMR} EB02",
         select="coverage_level", tr3=(("271", "EB02"),)),
    Spec("time_period_qualifier", "eligibility_and_278_small_enums.tsv", "EB06 / HSD05 (615)",
         "Time Period Qualifier", "X12 005010 element 615 (005010X279A1 EB06 list; 278 HSD05 uses a subset)",
         f"enum: {PD_ELIG} #eligibility_time_period_qualifier; codes: {OPENEMR} EB06 (13, 32 recalled)",
         select="time_period_qualifier", tr3=(("271", "EB06"), ("*", "HSD05")),
         notes=("the 2016 authorizations doc printed these capitalised (Hour, Day, ...); the lower-case "
                "eligibility names are used everywhere",)),
    Spec("quantity_qualifier", "eligibility_and_278_small_enums.tsv", "EB09 (673)", "Quantity Qualifier",
         "X12 005010 element 673, EB09 subset of 005010X279A1",
         f"enum: {PD_ELIG} #quantity-qualifier; codes: {OPENEMR} EB09",
         select="quantity_qualifier", tr3=(("271", "EB09"),)),
    Spec("in_plan_network", "eligibility_and_278_small_enums.tsv", "EB12 (1073)",
         "Yes/No Condition or Response Code (in plan network)", "X12 005010 element 1073, EB12 subset",
         f"enum: {PD_ELIG} (examples and field text); codes: {OPENEMR} EB12",
         select="in_plan_network", tr3=(("271", "EB12"),)),
    Spec("authorization_required", "eligibility_and_278_small_enums.tsv", "EB11 (1073)",
         "Yes/No Condition or Response Code (authorization or certification required)",
         "X12 005010 element 1073, EB11 subset",
         f"enum: {PD_ELIG} #authz-req; codes: {OPENEMR} EB11",
         select="authorization_required", tr3=(("271", "EB11"),)),
    Spec("insurance_type", "eligibility_and_278_small_enums.tsv", "EB04 (1336)", "Insurance Type Code",
         "X12 005010 element 1336, the 005010X279A1 EB04 list",
         f"enum: {PD_ELIG} ('Possible values include', 9 names); codes: {OPENEMR} EB04 and grammars/271.x12g",
         select="insurance_type", tr3=(("271", "EB04"),),
         notes=("PokitDok names 9 codes and calls its list not exhaustive; the other 36 EB04 codes of "
                "005010X279A1 carry proposed names",),
         omit_notes=(r'PokitDok says "include".*$',)),
    Spec("procedure_id_qualifier", "eligibility_and_278_small_enums.tsv", "EQ02-1 / EB13-1 (235)",
         "Product/Service ID Qualifier", "X12 005010 element 235, EQ02-1/EB13-1 subset of 005010X279A1",
         f"enum: {PD_ELIG} #procedure-id-qualifier; codes: {OPENEMR} EB13",
         select="procedure_id_qualifier", tr3=(("270", "EQ02-01"), ("271", "EB13-01"))),
    Spec("gender", "eligibility_and_278_small_enums.tsv", "DMG03 (1068)", "Gender Code",
         "X12 005010 element 1068", f"enum: {PD_ELIG} and {PD_CLAIMS} examples; codes: {RECALL}",
         select="gender", tr3=(("*", "DMG03"),)),
    Spec("relationship", "eligibility_and_278_small_enums.tsv", "INS02 / SBR02 / PAT01 (1069)",
         "Individual Relationship Code",
         "X12 005010 element 1069, union of the 270/271/278/837 INS02, SBR02 and PAT01 lists",
         f"enum: {PD_CLAIMS} #relationships, 'self' from {PD_ELIG} examples; codes: {OPENEMR} INS02 "
         "(01 18 19 20 21), recall (39 40 53 G8), grammars/270.x12g (34)",
         select="relationship", tr3=(("*", "INS02"), ("*", "SBR02"), ("*", "PAT01"))),
    Spec("eligibility_benefit", "eb01_eligibility_benefit_to_coverage_field.tsv", "EB01 (1390)",
         "Eligibility or Benefit Information Code",
         "X12 005010 element 1390, EB01 list of 005010X279A1",
         f"fields: {PD_ELIG} response table; codes/descriptions: {OPENEMR} EB01",
         enum_col="", tr3=(("271", "EB01"),),
         omit_notes=(r"generic enum \(.*?\) = snake_case\(description\), e\.g\. [a-z0-9_]+",),
         notes=("enum = snake_case of the X12 description: the value written to "
                "benefit_related_entities[].eligibility_or_benefit_information; notes name the coverage "
                "field the code feeds ('target:')",)),
    # --- 837 / 835 ----------------------------------------------------------------------
    Spec("place_of_service", "place_of_service.tsv", "UM04-1 / CLM05-1 / SV105 (1331; CMS POS codes)",
         "Place of Service Code",
         "CMS Place of Service code set as of 2023 (adds 10, 27, 58 to PokitDok's ~2016 list); "
         "external list: a newer place_of_service.tsv can be dropped in via X12ENGINE_CODES_PATH",
         f"enum: {PD_CLAIMS} #place-of-service; codes/descriptions: CMS POS code set, HL7 THO "
         "CMSPlaceOfServiceCodes, OpenEMR POS",
         lift_notes=(r"used in 837P CLM05-1/SV105 and 278 UM04-1 \(qualifier B\) - authorization/referral docs use "
                     r"the same names \(e\.g\. office\)",)),
    Spec("cas_group", "cas_group_codes.tsv", "CAS01 (1033)", "Claim Adjustment Group Code",
         "X12 005010 element 1033 (835 CAS01: CO OA PI PR; 837 COB CAS01 adds CR)",
         f"enum: {PD_PAY} #adjustment_group_codes and {PD_CLAIMS} #claim-adjustment-group-codes; "
         f"codes/descriptions: {OPENEMR} CAS_GROUP",
         tr3=(("*", "CAS01"),)),
    Spec("plb_adjustment_reason", "plb_adjustment_reason.tsv", "PLB03-1 (426)", "Adjustment Reason Code",
         "X12 005010 element 426, PLB03-1 list of 005010X221A1",
         f"enum+code: {PD_PAY} #payment_adjustment_reason_codes; descriptions: recall of X12 426 "
         "(the reference left them empty)",
         tr3=(("835", "PLB03-01"),)),
    Spec("carc", "carc_claim_adjustment_reason_codes_139.tsv", "CAS02 / CAS05 / ... (1034; external code source 139)",
         "Claim Adjustment Reason Code (CARC)",
         f"WPC code list 139 from the {HIPPO}: " + REPLACEABLE.format(name="carc"),
         f"{HIPPO}; PokitDok 835 adjustments[] carry reason=<description>, reason_code=<code>",
         description_only=True),
    Spec("rarc", "rarc_remittance_advice_remark_codes_411.tsv", "LQ02 / MIA / MOA (1271; external code source 411)",
         "Remittance Advice Remark Code (RARC)",
         f"WPC code list 411 from the {HIPPO}: " + REPLACEABLE.format(name="rarc"),
         f"{HIPPO}; PokitDok 835 services[].remarks[] carry code=<code>, description=<description>",
         description_only=True),
    Spec("claim_status_category", "claim_status_category_codes_507.tsv",
         "STC01-1 / STC10-1 / STC11-1 (1271; external code source 507)", "Health Care Claim Status Category Code",
         f"WPC code list 507 from the {HIPPO}: " + REPLACEABLE.format(name="claim_status_category"),
         f"{HIPPO}; PokitDok 277 emits status_category=<description>, status_category_code=<code>",
         description_only=True),
    Spec("claim_status", "claim_status_codes_508.tsv", "STC01-2 / STC10-2 / STC11-2 (1271; external code source 508)",
         "Health Care Claim Status Code",
         f"WPC code list 508 from the {HIPPO}: " + REPLACEABLE.format(name="claim_status"),
         f"{HIPPO}; PokitDok 277 emits status_code=<description>, status_code_value=<code>",
         description_only=True),
    Spec("claim_frequency", "claims_837_835_enums.tsv", "CLM05-3 (1325; NUBC frequency code)",
         "Claim Frequency Type Code", "NUBC claim frequency codes (type-of-bill 4th digit) as used by 837",
         f"enum: {PD_CLAIMS} #claim-frequency; codes: {RECALL}", select="claim.claim_frequency"),
    Spec("transaction_code", "claims_837_835_enums.tsv", "BHT06 (640)", "Transaction Type Code",
         "X12 005010 element 640, 837 BHT06 subset", f"enum: {PD_CLAIMS} #transaction-code; codes: {OPENEMR} BHT06",
         select="transaction_code", tr3=(("837*", "BHT06"),)),
    Spec("claim_filing_code", "claims_837_835_enums.tsv", "SBR09 (1032)", "Claim Filing Indicator Code",
         "X12 005010 element 1032, 837 SBR09 list", f"enum: {PD_CLAIMS} #filing; codes: {RECALL}",
         select="subscriber.claim_filing_code", tr3=(("837*", "SBR09"),),
         omit_notes=(r"PokitDok spells it.*$",)),
    Spec("related_causes_code", "claims_837_835_enums.tsv", "CLM11-1 (1362)", "Related-Causes Code",
         "X12 005010 element 1362, 837 CLM11-1 list", f"enum+code: {PD_CLAIMS}",
         select="claim.related_causes_code", tr3=(("837*", "CLM11-01"),)),
    Spec("note_reference_code", "claims_837_835_enums.tsv", "NTE01 (363)", "Note Reference Code",
         "X12 005010 element 363, 837P/837D NTE01 list", f"enum+code: {PD_CLAIMS}",
         select="claim.note.reference_code", tr3=(("837p", "NTE01"), ("837d", "NTE01")),
         notes=("837I home-health NTE01 codes (ALG, DME, MED, NTR, ...) are not in this table: PokitDok has no "
                "names for them",)),
    Spec("ambulance_reason_code", "claims_837_835_enums.tsv", "CR104 (1317)", "Ambulance Transport Reason Code",
         "X12 005010 element 1317", f"enum+code: {PD_CLAIMS} #ambulance-reason-codes; descriptions: {RECALL}",
         select="claim.ambulance.reason_code", tr3=(("*", "CR104"),)),
    Spec("ambulance_condition", "claims_837_835_enums.tsv", "CRC03-CRC07 (1321)", "Condition Indicator (ambulance)",
         "X12 005010 element 1321, ambulance certification subset (CRC01 = 07)",
         f"enum: {PD_CLAIMS} #ambulance-applicable-conditions; codes/descriptions: {OPENEMR} CRC03",
         select="claim.ambulance.(not_)applicable_conditions", tr3=(("278-request", "CRC03"),)),
    Spec("admission_type", "claims_837_835_enums.tsv", "CL101 (1315; NUBC priority of admission)",
         "Admission Type Code", "NUBC priority (type) of admission codes as used by 837I",
         f"enum: {PD_CLAIMS} #admittype; codes: {OPENEMR} CL101", select="claim.admission_type"),
    Spec("admission_source", "claims_837_835_enums.tsv", "CL102 (1314; NUBC point of origin)",
         "Admission Source Code", "NUBC point-of-origin codes as used by 837I (7 retired by NUBC in 2010)",
         f"enum: {PD_CLAIMS} #admitsource; codes: {OPENEMR} CL102", select="claim.admission_source"),
    Spec("claim_payment_status", "claims_837_835_enums.tsv", "CLP02 (1029)", "Claim Status Code",
         "X12 005010 element 1029, CLP02 list of 005010X221A1",
         f"enum: {PD_PAY} #claim_payment_status_codes; codes: {OPENEMR} CLAIM_STATUS",
         select="835 claim_payments[].status", tr3=(("835", "CLP02"),)),
    Spec("filing_indicator", "claims_837_835_enums.tsv", "CLP06 (1032)", "Claim Filing Indicator Code",
         "X12 005010 element 1032, CLP06 list of 005010X221A1",
         f"enum: {PD_PAY} #filing_indicator_codes; codes: {RECALL}, checked against grammars/835.x12g",
         select="835 claim_payments[].filing_indicator", tr3=(("835", "CLP06"),),
         notes=("Champus / Disability / Liability Medical are CH / DS / LM (element 1032 and the 835 CLP06 list); "
                "the CS / DH / LA found in a common open-source 835 list are not 1032 codes",
                "835 enum names are spelled out (preferred_provider_organization) where the 837 claim_filing_code "
                "table uses PokitDok's short names (ppo): two tables because PokitDok documents two spellings",),
         omit_notes=(r"OpenEMR CLP06 array uses.*$",)),
    Spec("transaction_handling", "claims_837_835_enums.tsv", "BPR01 (305)", "Transaction Handling Code",
         "X12 005010 element 305, BPR01 list of 005010X221A1",
         f"enum: {PD_PAY} #transaction_type_codes; codes: {OPENEMR} BPR01",
         select="835 transaction_type / financial_information.transaction_handling", tr3=(("835", "BPR01"),),
         notes=("PokitDok's top-level transaction_type and financial_information.transaction_handling both "
                "carry BPR01 through this table",)),
    Spec("credit_debit_flag", "claims_837_835_enums.tsv", "BPR03 (478)", "Credit/Debit Flag Code",
         "X12 005010 element 478", f"enum: {PD_CLAIMS} 835 sample ('credit'); codes: {RECALL}",
         select="835 financial_information.transaction_type", tr3=(("835", "BPR03"),),
         notes=("named after the X12 element, not PokitDok's field financial_information.transaction_type, "
                "because that field name also labels the BPR01 values (transaction_handling)",),
         omit_notes=(r"doc says this field uses Transaction Type Codes.*$",)),
    Spec("payment_method", "claims_837_835_enums.tsv", "BPR04 (591)", "Payment Method Code",
         "X12 005010 element 591, BPR04 list of 005010X221A1",
         f"enum: {PD_PAY} #payment_method_codes; codes: {RECALL}",
         select="835 financial_information.payment_method", tr3=(("835", "BPR04"),)),
    Spec("account_type", "claims_837_835_enums.tsv", "BPR08 / BPR14 (569)", "Account Number Qualifier",
         "X12 005010 element 569 (BPR08 DA; BPR14 DA SG)",
         f"enum: {PD_PAY} #account_type_codes; codes: {RECALL}",
         select="835 *_institution.account_type", tr3=(("835", "BPR08"), ("835", "BPR14"))),
    Spec("adjudicated_procedure_code_qualifier", "claims_837_835_enums.tsv", "SVC01-1 (235)",
         "Product/Service ID Qualifier (835 adjudicated procedure)",
         "X12 005010 element 235, SVC01-1 list of 005010X221A1",
         f"enum: {PD_PAY} (Procedure Code Qualifiers); codes/descriptions: {OPENEMR} SV101",
         select="835 services[].adjudicated_procedure_code_qualifier", tr3=(("835", "SVC01-01"),),
         omit_notes=(r"N6/WK presence.*$",)),
    Spec("contact_method_type", "claims_837_835_enums.tsv", "PER03 / PER05 / PER07 (365)",
         "Communication Number Qualifier", "X12 005010 element 365, union of the PER03/05/07 lists of all guides",
         f"enum: {PD_PAY} #contact_method_type_codes and {PD_CLAIMS}; codes: {OPENEMR} PER03, EX recalled",
         select="contact_methods[].type", tr3=(("*", "PER03"), ("*", "PER05"), ("*", "PER07"))),
    Spec("contact_function", "claims_837_835_enums.tsv", "PER01 (366)", "Contact Function Code",
         "X12 005010 element 366, 835 PER01 list", f"enum: {PD_CLAIMS} 835 sample; codes: {RECALL}",
         select="835 payer.contacts[].function", tr3=(("835", "PER01"),),
         omit_notes=(r"only two example values seen",)),
    Spec("service_line_unit_type", "eligibility_and_278_small_enums.tsv", "SV103 / SV204 (355)",
         "Unit or Basis for Measurement Code (837 service line)",
         "X12 005010 element 355 (837P SV103 MJ UN; 837I SV204 DA UN)",
         f"enum: {PD_CLAIMS} ('Possible values include: units, days'); codes: {RECALL}",
         select="claim.service_lines.unit_type", tr3=(("837p", "SV103"), ("837i", "SV204")),
         notes=("a separate table from service_unit because PokitDok's 837 names differ (units vs unit)",),
         omit_notes=(r"MJ is 837P anesthesia minutes",)),
    Spec("drug_unit_type", None, "CTP05-1 (355)", "Unit or Basis for Measurement Code (837 drug quantity)",
         "X12 005010 element 355, CTP05-1 list of 005010X222A1 / 005010X223A2",
         f"enum: {PD_CLAIMS} #drug-units; codes: grammars/837p.x12g CTP05-01, matched by X12 description",
         tr3=(("837*", "CTP05-01"),),
         notes=("not in the reference tables: built here because PokitDok documents the names and the 837 "
                "guides fix the five codes",)),
    Spec("entity_identifier", None, "NM101 (98)", "Entity Identifier Code (271 name loops, 2120C/2120D)",
         "X12 005010 element 98, NM101 lists of 005010X279A1 (271)",
         f"enum: {PD_ELIG} benefit_related_entities example and coverage.contacts.contact_type values, "
         "else ours; codes: grammars/271.x12g NM101, matched by X12 98 description",
         tr3=(("271", "NM101"),),
         notes=("not in the reference tables: built here so 2120C/2120D entities carry enum names; "
                "descriptions are the X12 98 code names as recalled, not verified against a stored source",)),
    # --- lists the guides name by reference (list:NAME in grammars/) ---------------------------
    Spec("state", None, "N402 (156; external code source 22)", "State or Province Code",
         "USPS state, territory and military codes and Canada Post province codes, as of 2024",
         "public USPS and Canada Post code lists", description_only=True, meta=(("missing_code", "error (a complete, stable list: a code it lacks is invalid, not newer than the bundled copy)"),),
         notes=("N402 is used only for U.S. and Canadian addresses; other countries put their subdivision in N407",)),
    Spec("country", None, "N404 (26; external code source 5)", "Country Code",
         "ISO 3166-1 alpha-2 as published in pycountry 26.2.16 (ISO data of early 2026)",
         "ISO 3166-1", description_only=True, meta=(("missing_code", "error (a complete, stable list: a code it lacks is invalid, not newer than the bundled copy)"),)),
    Spec("currency", None, "CUR02 (100; external code source 63)", "Currency Code",
         "ISO 4217 alphabetic codes as published in pycountry 26.2.16 (ISO data of early 2026)",
         "ISO 4217", description_only=True, meta=(("missing_code", "error (a complete, stable list: a code it lacks is invalid, not newer than the bundled copy)"),)),
    Spec("entity_identifier_codes", None, "NM101 / N101 / STC01-3 (98)", "Entity Identifier Code (every code the guides list)",
         "X12 005010 element 98: the codes the bundled guides list inline for NM101 and N101",
         "grammars/*.x12g inline NM101 and N101 lists (entity_identifier holds the enum names the 271 map uses)", description_only=True,
         tr3=(("*", "NM101"), ("*", "N101")), rows_from_tr3=True,
         notes=("element 98 has about a thousand codes; this table holds those the HIPAA guides use, so a code "
                "it lacks (STC01-3 names any) is reported as a warning",
                "descriptions recalled from the X12 element 98 list, not verified against a stored source")),
    # --- 277CA claim acknowledgment ---------------------------------------------------
    Spec("claim_status_action", None, "STC03 (306)", "Action Code (277CA status)",
         "X12 005010 element 306, STC03 list of 005010X214",
         "enum: PokitDok apidocs-v4 _claims.md claim acknowledgment example ('accept'); codes: grammars/277ca.x12g STC03",
         tr3=(("277ca", "STC03"),),
         notes=("not in the reference tables: the 277CA guide allows two codes, WQ and U",)),
    Spec("payer_responsibility", None, "SBR01 (1138)", "Payer Responsibility Sequence Number Code",
         "X12 005010 element 1138, 837 SBR01 list", f"enum: {PD_CLAIMS} #payer-responsibility; codes: {TR3}",
         tr3=(("837*", "SBR01"),), notes=(NOTE_837_INLINE,)),
    Spec("plan_participation", None, "CLM07 (1359)", "Provider Accept Assignment Code",
         "X12 005010 element 1359, 837 CLM07 list", f"enum: {PD_CLAIMS} claim.plan_participation; codes: {TR3}",
         tr3=(("837*", "CLM07"),), notes=(NOTE_837_INLINE,)),
    Spec("direct_payment", None, "CLM08 (1073)", "Benefits Assignment Certification Indicator",
         "X12 005010 element 1073, 837 CLM08 list", f"enum: {PD_CLAIMS} claim.direct_payment; codes: {TR3}",
         tr3=(("837*", "CLM08"),), notes=(NOTE_837_INLINE,)),
    Spec("benefits_assignment", None, "OI03 (1073)", "Benefits Assignment Certification Indicator (other payer)",
         "X12 005010 element 1073, 837 OI03 list", f"enum: {PD_CLAIMS} subscriber.authorize_payment_to_billing_provider; codes: {TR3}",
         tr3=(("837*", "OI03"),), notes=(NOTE_837_INLINE,)),
    Spec("information_release", None, "CLM09 / OI06 (1363)", "Release of Information Code",
         "X12 005010 element 1363, 837 CLM09/OI06 list", f"enum: {PD_CLAIMS} claim.information_release, subscriber.release_of_information_code; codes: {TR3}",
         tr3=(("837*", "CLM09"),), notes=(NOTE_837_INLINE,)),
    Spec("spinal_condition", None, "CR208 (1342)", "Nature of Condition Code (spinal manipulation)",
         "X12 005010 element 1342, 837P CR208 list", f"enum: {PD_CLAIMS} #chiropractic-conditions; codes: {TR3}",
         tr3=(("837p", "CR208"),), notes=(NOTE_837_INLINE,)),
    Spec("dme_certification_type", None, "CR301 (1322)", "Certification Type Code (DME)",
         "X12 005010 element 1322, 837P CR301 list", f"enum: {PD_CLAIMS} claim.service_lines.dme_certification.type; codes: {TR3}",
         tr3=(("837p", "CR301"),), notes=(NOTE_837_INLINE,)),
    Spec("test_result_reference", None, "MEA01 (737)", "Measurement Reference Identification Code",
         "X12 005010 element 737, 837P MEA01 list", f"enum: {PD_CLAIMS} claim.service_lines.test_results.reference_id; codes: {TR3}",
         tr3=(("837p", "MEA01"),), notes=(NOTE_837_INLINE,)),
    Spec("test_measurement", None, "MEA02 (738)", "Measurement Qualifier",
         "X12 005010 element 738, 837P MEA02 list", f"enum: {PD_CLAIMS} claim.service_lines.test_results.measurement; codes: {TR3}",
         tr3=(("837p", "MEA02"),), notes=(NOTE_837_INLINE,)),
)

# Reference tables deliberately not turned into code tables.
SKIPPED: dict[tuple[str, str], str] = {
    ("eligibility_and_278_small_enums.tsv", "valid_request"):
        "AAA01 Y/N is a JSON boolean (true/false), not an enum: the mapping writes booleans directly",
    ("eligibility_and_278_small_enums.tsv", "second_surgical_opinion_required"):
        "HCR04 Y/N is a JSON boolean, not an enum",
}

# ----------------------------------------------------------------------------
# decisions
# ----------------------------------------------------------------------------
PROPOSED_NAME = "kept: X12 code with no PokitDok name; the name is ours (PokitDok style)"
OUR_NAME = "no PokitDok name; the name is ours (PokitDok style)"

DEFAULTS: dict[tuple[str, str], Decision] = {
    ("reject_reason", "proposed"): Decision("keep", PROPOSED_NAME),
    ("place_of_service", "proposed"): Decision(
        "keep", "kept: CMS code added after PokitDok's list; name ours, snake_case of the CMS name"),
    ("delivery_quantity_qualifier", "derived?"): Decision(
        "keep", "kept: code in the 005010 HSD01 list (DY FL HS MN VS); PokitDok's field text names visits, "
        "month, hours, units, days, matched by X12 description"),
    ("eligibility_benefit", "unresolved"): Decision(
        "keep", "kept so no EB01 code is lost: with no coverage field it appears only as "
        "benefit_related_entities[].eligibility_or_benefit_information"),
}

SERVICE_TYPE_MAIL_ORDER = (
    "re-paired by X12 description (PokitDok printed 90/..._brand_name, BW/..._generic, BX/mail_order_prescription_drug); "
    "see the table note"
)

DECISIONS: dict[tuple[str, str], Decision] = {
    # AAA03 72 appears twice in the reference (two PokitDok names); merged into one row.
    ("reject_reason", "72"): Decision(
        "alias",
        "merged the reference's two rows for 72: PokitDok documents invalid_subscriber_id and "
        "invalid_subscriber_insured_id with the same text; the _insured_ "
        "form spells X12's 'Subscriber/Insured ID' and matches 73 invalid_subscriber_insured_name, so it is written "
        "on X12 -> JSON; invalid_subscriber_id is accepted as an alias",
        enum="invalid_subscriber_insured_id", aliases=("invalid_subscriber_id",), status="derived",
        replace_notes=True),
    ("reject_reason", "41"): Decision(
        "rename",
        "renamed from authorization_access_restrictions: same X12 wording as HCR03 0C, whose PokitDok name is "
        "authorization_restrictions; the other AAA03 codes that repeat an HCR03 reason (04, 35, 49, 98, AE, E8) "
        "already reuse the HCR03 name",
        enum="authorization_restrictions", replace_notes=True),
    ("service_type", "90"): Decision("rename", SERVICE_TYPE_MAIL_ORDER, enum="mail_order_prescription_drug",
                                     status="derived", replace_notes=True),
    ("service_type", "BW"): Decision("rename", SERVICE_TYPE_MAIL_ORDER, enum="mail_order_prescription_drug_brand_name",
                                     status="derived", replace_notes=True),
    ("service_type", "BX"): Decision("rename", SERVICE_TYPE_MAIL_ORDER, enum="mail_order_prescription_drug_generic",
                                     status="derived", replace_notes=True),
    ("place_of_service", "57"): Decision(
        "keep", "kept: 57 is the only non-residential substance-abuse POS (55 is residential) and PokitDok's list "
        "predates 58 (opioid treatment), so 'ambulatory' can only mean 57", replace_notes=True),
    ("place_of_service", "54"): Decision(
        "keep", "kept PokitDok's name (CMS's label before 2015) because callers send it; the description is the "
        "current CMS label", replace_notes=True),
    ("place_of_service", "02"): Decision(
        "keep", "kept: PokitDok's telehealth predates the 2022 split; 02 is still the general telehealth code and "
        "10 (in the patient's home) has its own proposed name", replace_notes=True),
    ("delivery_quantity_qualifier", "WK"): Decision(
        "drop", "dropped WK (week): not in the 005010 HSD01 list (DY FL HS MN VS in grammars/271 and 278), so "
        "writing it would fail validation; 'week' is a delivery.time_period_qualifier value (HSD05 35)"),
    ("delivery_quantity_qualifier", "YR"): Decision(
        "drop", "dropped YR (years): not in the 005010 HSD01 list (DY FL HS MN VS) and not an element 673 code "
        "the TR3s use; 'years' is a delivery.time_period_qualifier value (HSD05 21)"),
    ("service_unit", "DA"): Decision(
        "keep", "kept: 278 SV204 allows DA; the name matches the 837 unit_type 'days'"),
    ("service_line_unit_type", "MJ"): Decision(
        "keep", "kept: 837P SV103 allows MJ (anesthesia minutes); PokitDok names only units and days"),
    ("eligibility_benefit", "2"): Decision(
        "keep", "kept: an 'Active - ...' variant, so coverage.active=true as for code 1; the distinct code survives "
        "as this enum in benefit_related_entities"),
    ("eligibility_benefit", "3"): Decision(
        "keep", "kept: an 'Active - ...' variant, so coverage.active=true as for code 1; the distinct code survives "
        "as this enum in benefit_related_entities"),
    ("eligibility_benefit", "4"): Decision(
        "keep", "kept: an 'Active - ...' variant, so coverage.active=true as for code 1; the distinct code survives "
        "as this enum in benefit_related_entities"),
    ("eligibility_benefit", "D"): Decision(
        "keep", "kept: target matched by name only; no closer PokitDok field exists"),
    ("eligibility_benefit", "S"): Decision(
        "rename", "renamed from prior_year_s_history: snake_case of 'Prior Year(s) History' without the stray _s_",
        enum="prior_years_history", status="unresolved"),
    ("eligibility_benefit", "T"): Decision(
        "rename", "renamed from card_s_reported_lost_stolen: snake_case of 'Card(s) Reported Lost/Stolen' without "
        "the stray _s_", enum="cards_reported_lost_stolen", status="unresolved"),
    ("claim_frequency", "6"): Decision(
        "keep", "kept: NUBC 6 is the adjustment of a prior claim and 7 its replacement; an 837P corrected claim is "
        "sent as 7 (CMS guidance), so adjustment -> 6 and corrected -> 7", replace_notes=True),
    ("claim_frequency", "7"): Decision(
        "keep", "kept: NUBC 7 is the replacement of a prior claim, the code 837P corrected claims use",
        replace_notes=True),
    ("claim_filing_code", "ZZ"): Decision(
        "alias", "renamed from mutualy_defined: PokitDok's value table spells it so, but its field text (default 'mutually_defined'), the "
        "claims-convert example, the 835 filing-indicator list and the eligibility qualifier list all spell "
        "mutually_defined: the correct spelling is written, the misspelling accepted as an alias",
        enum="mutually_defined", aliases=("mutualy_defined",)),
    ("admission_source", "5"): Decision(
        "alias", "kept PokitDok's documented immediate_care_facility (callers send it); 'immediate' is evidently "
        "intermediate (ICF), so intermediate_care_facility is accepted as an alias",
        aliases=("intermediate_care_facility",), replace_notes=True),
    ("credit_debit_flag", "D"): Decision(
        "keep", "kept: element 478 has exactly two codes (C credit, D debit); debit is the counterpart of the "
        "documented 'credit'", replace_notes=True),
    ("adjudicated_procedure_code_qualifier", "N6"): Decision(
        "keep", "kept: confirmed in the 005010X221 SVC01-1 list (grammars/835.x12g)"),
    ("adjudicated_procedure_code_qualifier", "WK"): Decision(
        "keep", "kept: confirmed in the 005010X221 SVC01-1 list (grammars/835.x12g)"),
    ("contact_function", "BL"): Decision(
        "keep", "kept: 835 1000A PER01 BL is the payer technical contact (grammars/835.x12g); name from the 835 sample"),
    ("contact_function", "CX"): Decision(
        "keep", "kept: 835 1000A PER01 CX is the payer business contact (grammars/835.x12g); name from the 835 sample"),
    ("cas_group", "CR"): Decision(
        "keep", "kept: PokitDok lists it for 837 COB adjustments and the 837 CAS01 lists allow it; not valid in "
        "835 CAS01 (CO OA PI PR): accept on read, never write it in an 835", replace_notes=True),
}

# Rows the reference lacks. Codes come from the TR3 lists in grammars/ (checked below).
EB04_RECALL = "code in the 005010X279A1 EB04 list (grammars/271.x12g); description recalled from X12 1336, not verified"
EB04_ADDED: tuple[tuple[str, str, str], ...] = (
    ("12", "medicare_secondary_working_aged",
     "Medicare Secondary Working Aged Beneficiary or Spouse with Employer Group Health Plan"),
    ("13", "medicare_secondary_esrd",
     "Medicare Secondary End-Stage Renal Disease Beneficiary in the Mandated Coordination Period with an "
     "Employer's Group Health Plan"),
    ("14", "medicare_secondary_no_fault", "Medicare Secondary, No-fault Insurance including Auto is Primary"),
    ("15", "medicare_secondary_workers_compensation", "Medicare Secondary Worker's Compensation"),
    ("16", "medicare_secondary_public_health_service",
     "Medicare Secondary Public Health Service (PHS) or Other Federal Agency"),
    ("41", "medicare_secondary_black_lung", "Medicare Secondary Black Lung"),
    ("42", "medicare_secondary_veterans_administration", "Medicare Secondary Veteran's Administration"),
    ("43", "medicare_secondary_disabled_lghp",
     "Medicare Secondary Disabled Beneficiary Under Age 65 with Large Group Health Plan (LGHP)"),
    ("47", "medicare_secondary_other_liability", "Medicare Secondary, Other Liability Insurance is Primary"),
    ("AP", "auto_insurance_policy", "Auto Insurance Policy"),
    ("CP", "medicare_conditionally_primary", "Medicare Conditionally Primary"),
    ("D", "disability", "Disability"),
    ("DB", "disability_benefits", "Disability Benefits"),
    ("EP", "epo", "Exclusive Provider Organization"),
    ("FF", "family_or_friends", "Family or Friends"),
    ("GP", "group_policy", "Group Policy"),
    ("HN", "hmo_medicare_risk", "HMO - Medicare Risk"),
    ("HS", "special_low_income_medicare_beneficiary", "Special Low Income Medicare Beneficiary"),
    ("IN", "indemnity", "Indemnity"),
    ("IP", "individual_policy", "Individual Policy"),
    ("LC", "long_term_care", "Long Term Care"),
    ("LD", "long_term_policy", "Long Term Policy"),
    ("LI", "life_insurance", "Life Insurance"),
    ("LT", "litigation", "Litigation"),
    ("MH", "medigap_part_a", "Medigap Part A"),
    ("MI", "medigap_part_b", "Medigap Part B"),
    ("MP", "medicare_primary", "Medicare Primary"),
    ("PE", "property_insurance_personal", "Property Insurance - Personal"),
    ("PL", "personal", "Personal"),
    ("PP", "personal_payment", "Personal Payment (Cash - No Insurance)"),
    ("QM", "qualified_medicare_beneficiary", "Qualified Medicare Beneficiary"),
    ("RP", "property_insurance_real", "Property Insurance - Real"),
    ("SP", "supplemental_policy", "Supplemental Policy"),
    ("TF", "tefra", "Tax Equity Fiscal Responsibility Act (TEFRA)"),
    ("WC", "workers_compensation", "Workers Compensation"),
    ("WU", "wrap_up_policy", "Wrap Up Policy"),
)
DRUG_UNITS = "name from PokitDok #drug-units, code from the 837 CTP05-1 list, matched by X12 355 description"


# Closed lists the guides name by reference (list:state, list:country, list:currency): public facts,
# one 'CODE<TAB>name' per line. States and provinces: USPS state, territory and military codes
# and Canada Post province codes (X12 code source 22); countries: ISO 3166-1 alpha-2 (code
# source 5); currencies: ISO 4217 alphabetic codes (code source 63), names as ISO publishes them.
STATE_CODES = """\
AL	Alabama
AK	Alaska
AZ	Arizona
AR	Arkansas
CA	California
CO	Colorado
CT	Connecticut
DE	Delaware
DC	District of Columbia
FL	Florida
GA	Georgia
HI	Hawaii
ID	Idaho
IL	Illinois
IN	Indiana
IA	Iowa
KS	Kansas
KY	Kentucky
LA	Louisiana
ME	Maine
MD	Maryland
MA	Massachusetts
MI	Michigan
MN	Minnesota
MS	Mississippi
MO	Missouri
MT	Montana
NE	Nebraska
NV	Nevada
NH	New Hampshire
NJ	New Jersey
NM	New Mexico
NY	New York
NC	North Carolina
ND	North Dakota
OH	Ohio
OK	Oklahoma
OR	Oregon
PA	Pennsylvania
RI	Rhode Island
SC	South Carolina
SD	South Dakota
TN	Tennessee
TX	Texas
UT	Utah
VT	Vermont
VA	Virginia
WA	Washington
WV	West Virginia
WI	Wisconsin
WY	Wyoming
AS	American Samoa
GU	Guam
MP	Northern Mariana Islands
PR	Puerto Rico
VI	U.S. Virgin Islands
UM	U.S. Minor Outlying Islands
FM	Federated States of Micronesia
MH	Marshall Islands
PW	Palau
AA	Armed Forces Americas
AE	Armed Forces Europe, the Middle East, Africa and Canada
AP	Armed Forces Pacific
AB	Alberta
BC	British Columbia
MB	Manitoba
NB	New Brunswick
NL	Newfoundland and Labrador
NS	Nova Scotia
NT	Northwest Territories
NU	Nunavut
ON	Ontario
PE	Prince Edward Island
QC	Quebec
SK	Saskatchewan
YT	Yukon
"""
COUNTRY_CODES = """\
AD	Andorra
AE	United Arab Emirates
AF	Afghanistan
AG	Antigua and Barbuda
AI	Anguilla
AL	Albania
AM	Armenia
AO	Angola
AQ	Antarctica
AR	Argentina
AS	American Samoa
AT	Austria
AU	Australia
AW	Aruba
AX	Åland Islands
AZ	Azerbaijan
BA	Bosnia and Herzegovina
BB	Barbados
BD	Bangladesh
BE	Belgium
BF	Burkina Faso
BG	Bulgaria
BH	Bahrain
BI	Burundi
BJ	Benin
BL	Saint Barthélemy
BM	Bermuda
BN	Brunei Darussalam
BO	Bolivia, Plurinational State of
BQ	Bonaire, Sint Eustatius and Saba
BR	Brazil
BS	Bahamas
BT	Bhutan
BV	Bouvet Island
BW	Botswana
BY	Belarus
BZ	Belize
CA	Canada
CC	Cocos (Keeling) Islands
CD	Congo, The Democratic Republic of the
CF	Central African Republic
CG	Congo
CH	Switzerland
CI	Côte d'Ivoire
CK	Cook Islands
CL	Chile
CM	Cameroon
CN	China
CO	Colombia
CR	Costa Rica
CU	Cuba
CV	Cabo Verde
CW	Curaçao
CX	Christmas Island
CY	Cyprus
CZ	Czechia
DE	Germany
DJ	Djibouti
DK	Denmark
DM	Dominica
DO	Dominican Republic
DZ	Algeria
EC	Ecuador
EE	Estonia
EG	Egypt
EH	Western Sahara
ER	Eritrea
ES	Spain
ET	Ethiopia
FI	Finland
FJ	Fiji
FK	Falkland Islands (Malvinas)
FM	Micronesia, Federated States of
FO	Faroe Islands
FR	France
GA	Gabon
GB	United Kingdom
GD	Grenada
GE	Georgia
GF	French Guiana
GG	Guernsey
GH	Ghana
GI	Gibraltar
GL	Greenland
GM	Gambia
GN	Guinea
GP	Guadeloupe
GQ	Equatorial Guinea
GR	Greece
GS	South Georgia and the South Sandwich Islands
GT	Guatemala
GU	Guam
GW	Guinea-Bissau
GY	Guyana
HK	Hong Kong
HM	Heard Island and McDonald Islands
HN	Honduras
HR	Croatia
HT	Haiti
HU	Hungary
ID	Indonesia
IE	Ireland
IL	Israel
IM	Isle of Man
IN	India
IO	British Indian Ocean Territory
IQ	Iraq
IR	Iran, Islamic Republic of
IS	Iceland
IT	Italy
JE	Jersey
JM	Jamaica
JO	Jordan
JP	Japan
KE	Kenya
KG	Kyrgyzstan
KH	Cambodia
KI	Kiribati
KM	Comoros
KN	Saint Kitts and Nevis
KP	Korea, Democratic People's Republic of
KR	Korea, Republic of
KW	Kuwait
KY	Cayman Islands
KZ	Kazakhstan
LA	Lao People's Democratic Republic
LB	Lebanon
LC	Saint Lucia
LI	Liechtenstein
LK	Sri Lanka
LR	Liberia
LS	Lesotho
LT	Lithuania
LU	Luxembourg
LV	Latvia
LY	Libya
MA	Morocco
MC	Monaco
MD	Moldova, Republic of
ME	Montenegro
MF	Saint Martin (French part)
MG	Madagascar
MH	Marshall Islands
MK	North Macedonia
ML	Mali
MM	Myanmar
MN	Mongolia
MO	Macao
MP	Northern Mariana Islands
MQ	Martinique
MR	Mauritania
MS	Montserrat
MT	Malta
MU	Mauritius
MV	Maldives
MW	Malawi
MX	Mexico
MY	Malaysia
MZ	Mozambique
NA	Namibia
NC	New Caledonia
NE	Niger
NF	Norfolk Island
NG	Nigeria
NI	Nicaragua
NL	Netherlands
NO	Norway
NP	Nepal
NR	Nauru
NU	Niue
NZ	New Zealand
OM	Oman
PA	Panama
PE	Peru
PF	French Polynesia
PG	Papua New Guinea
PH	Philippines
PK	Pakistan
PL	Poland
PM	Saint Pierre and Miquelon
PN	Pitcairn
PR	Puerto Rico
PS	Palestine, State of
PT	Portugal
PW	Palau
PY	Paraguay
QA	Qatar
RE	Réunion
RO	Romania
RS	Serbia
RU	Russian Federation
RW	Rwanda
SA	Saudi Arabia
SB	Solomon Islands
SC	Seychelles
SD	Sudan
SE	Sweden
SG	Singapore
SH	Saint Helena, Ascension and Tristan da Cunha
SI	Slovenia
SJ	Svalbard and Jan Mayen
SK	Slovakia
SL	Sierra Leone
SM	San Marino
SN	Senegal
SO	Somalia
SR	Suriname
SS	South Sudan
ST	Sao Tome and Principe
SV	El Salvador
SX	Sint Maarten (Dutch part)
SY	Syrian Arab Republic
SZ	Eswatini
TC	Turks and Caicos Islands
TD	Chad
TF	French Southern Territories
TG	Togo
TH	Thailand
TJ	Tajikistan
TK	Tokelau
TL	Timor-Leste
TM	Turkmenistan
TN	Tunisia
TO	Tonga
TR	Türkiye
TT	Trinidad and Tobago
TV	Tuvalu
TW	Taiwan, Province of China
TZ	Tanzania, United Republic of
UA	Ukraine
UG	Uganda
UM	United States Minor Outlying Islands
US	United States
UY	Uruguay
UZ	Uzbekistan
VA	Holy See (Vatican City State)
VC	Saint Vincent and the Grenadines
VE	Venezuela, Bolivarian Republic of
VG	Virgin Islands, British
VI	Virgin Islands, U.S.
VN	Viet Nam
VU	Vanuatu
WF	Wallis and Futuna
WS	Samoa
YE	Yemen
YT	Mayotte
ZA	South Africa
ZM	Zambia
ZW	Zimbabwe
"""
CURRENCY_CODES = """\
AED	UAE Dirham
AFN	Afghani
ALL	Lek
AMD	Armenian Dram
AOA	Kwanza
ARS	Argentine Peso
AUD	Australian Dollar
AWG	Aruban Florin
AZN	Azerbaijan Manat
BAM	Convertible Mark
BBD	Barbados Dollar
BDT	Taka
BHD	Bahraini Dinar
BIF	Burundi Franc
BMD	Bermudian Dollar
BND	Brunei Dollar
BOB	Boliviano
BOV	Mvdol
BRL	Brazilian Real
BSD	Bahamian Dollar
BTN	Ngultrum
BWP	Pula
BYN	Belarusian Ruble
BZD	Belize Dollar
CAD	Canadian Dollar
CDF	Congolese Franc
CHE	WIR Euro
CHF	Swiss Franc
CHW	WIR Franc
CLF	Unidad de Fomento
CLP	Chilean Peso
CNY	Yuan Renminbi
COP	Colombian Peso
COU	Unidad de Valor Real
CRC	Costa Rican Colon
CUP	Cuban Peso
CVE	Cabo Verde Escudo
CZK	Czech Koruna
DJF	Djibouti Franc
DKK	Danish Krone
DOP	Dominican Peso
DZD	Algerian Dinar
EGP	Egyptian Pound
ERN	Nakfa
ETB	Ethiopian Birr
EUR	Euro
FJD	Fiji Dollar
FKP	Falkland Islands Pound
GBP	Pound Sterling
GEL	Lari
GHS	Ghana Cedi
GIP	Gibraltar Pound
GMD	Dalasi
GNF	Guinean Franc
GTQ	Quetzal
GYD	Guyana Dollar
HKD	Hong Kong Dollar
HNL	Lempira
HTG	Gourde
HUF	Forint
IDR	Rupiah
ILS	New Israeli Sheqel
INR	Indian Rupee
IQD	Iraqi Dinar
IRR	Iranian Rial
ISK	Iceland Krona
JMD	Jamaican Dollar
JOD	Jordanian Dinar
JPY	Yen
KES	Kenyan Shilling
KGS	Som
KHR	Riel
KMF	Comorian Franc
KPW	North Korean Won
KRW	Won
KWD	Kuwaiti Dinar
KYD	Cayman Islands Dollar
KZT	Tenge
LAK	Lao Kip
LBP	Lebanese Pound
LKR	Sri Lanka Rupee
LRD	Liberian Dollar
LSL	Loti
LYD	Libyan Dinar
MAD	Moroccan Dirham
MDL	Moldovan Leu
MGA	Malagasy Ariary
MKD	Denar
MMK	Kyat
MNT	Tugrik
MOP	Pataca
MRU	Ouguiya
MUR	Mauritius Rupee
MVR	Rufiyaa
MWK	Malawi Kwacha
MXN	Mexican Peso
MXV	Mexican Unidad de Inversion (UDI)
MYR	Malaysian Ringgit
MZN	Mozambique Metical
NAD	Namibia Dollar
NGN	Naira
NIO	Cordoba Oro
NOK	Norwegian Krone
NPR	Nepalese Rupee
NZD	New Zealand Dollar
OMR	Rial Omani
PAB	Balboa
PEN	Sol
PGK	Kina
PHP	Philippine Peso
PKR	Pakistan Rupee
PLN	Zloty
PYG	Guarani
QAR	Qatari Rial
RON	Romanian Leu
RSD	Serbian Dinar
RUB	Russian Ruble
RWF	Rwanda Franc
SAR	Saudi Riyal
SBD	Solomon Islands Dollar
SCR	Seychelles Rupee
SDG	Sudanese Pound
SEK	Swedish Krona
SGD	Singapore Dollar
SHP	Saint Helena Pound
SLE	Leone
SOS	Somali Shilling
SRD	Surinam Dollar
SSP	South Sudanese Pound
STN	Dobra
SVC	El Salvador Colon
SYP	Syrian Pound
SZL	Lilangeni
THB	Baht
TJS	Somoni
TMT	Turkmenistan New Manat
TND	Tunisian Dinar
TOP	Pa’anga
TRY	Turkish Lira
TTD	Trinidad and Tobago Dollar
TWD	New Taiwan Dollar
TZS	Tanzanian Shilling
UAH	Hryvnia
UGX	Uganda Shilling
USD	US Dollar
USN	US Dollar (Next day)
UYI	Uruguay Peso en Unidades Indexadas (UI)
UYU	Peso Uruguayo
UYW	Unidad Previsional
UZS	Uzbekistan Sum
VED	Bolívar Soberano
VES	Bolívar Soberano
VND	Dong
VUV	Vatu
WST	Tala
XAD	Arab Accounting Dinar
XAF	CFA Franc BEAC
XAG	Silver
XAU	Gold
XBA	Bond Markets Unit European Composite Unit (EURCO)
XBB	Bond Markets Unit European Monetary Unit (E.M.U.-6)
XBC	Bond Markets Unit European Unit of Account 9 (E.U.A.-9)
XBD	Bond Markets Unit European Unit of Account 17 (E.U.A.-17)
XCD	East Caribbean Dollar
XCG	Caribbean Guilder
XDR	SDR (Special Drawing Right)
XOF	CFA Franc BCEAO
XPD	Palladium
XPF	CFP Franc
XPT	Platinum
XSU	Sucre
XTS	Codes specifically reserved for testing purposes
XUA	ADB Unit of Account
XXX	The codes assigned for transactions where no currency is involved
YER	Yemeni Rial
ZAR	Rand
ZMW	Zambian Kwacha
ZWG	Zimbabwe Gold
"""


# Element 98 names (recalled from the X12 dictionary) for the codes the guides list inline; a code
# without a name here is written as not described rather than guessed.
ENTITY_NAMES: dict[str, str] = {
    "03": "Dependent",
    "13": "Contracted Service Provider",
    "1I": "Preferred Provider Organization (PPO)",
    "1P": "Provider",
    "2B": "Third-Party Administrator",
    "36": "Employer",
    "40": "Receiver",
    "41": "Submitter",
    "45": "Drop-off Location",
    "71": "Attending Physician",
    "72": "Operating Physician",
    "73": "Other Physician",
    "74": "Corrected Insured",
    "77": "Service Location",
    "80": "Hospital",
    "82": "Rendering Provider",
    "85": "Billing Provider",
    "87": "Pay-to Provider",
    "AAJ": "Admitting Services",
    "ABG": "Organization",
    "AY": "Clearinghouse",
    "CA": "Carrier",
    "DD": "Assistant Surgeon",
    "DK": "Ordering Physician",
    "DN": "Referring Provider",
    "DQ": "Supervising Physician",
    "FA": "Facility",
    "FS": "Final Scheduled Destination",
    "G3": "Clinic",
    "GB": "Other Insured",
    "GG": "Intermediary",
    "GP": "Gateway Provider",
    "GW": "Group",
    "I3": "Independent Physicians Association (IPA)",
    "IL": "Insured or Subscriber",
    "LR": "Legal Representative",
    "ND": "Next Scheduled Destination",
    "OC": "Origin Carrier",
    "P3": "Primary Care Provider",
    "P4": "Prior Insurance Carrier",
    "P5": "Plan Sponsor",
    "PE": "Payee",
    "PR": "Payer",
    "PRP": "Primary Payer",
    "PW": "Pickup Address",
    "QB": "Purchase Service Provider",
    "QC": "Patient",
    "QV": "Group Practice",
    "SEP": "Secondary Payer",
    "SJ": "Service Provider",
    "TT": "Transfer To",
    "TTP": "Tertiary Payer",
    "VER": "Party Performing Verification",
    "VN": "Vendor",
    "VY": "Organization Completing Configuration Change",
    "X3": "Utilization Management Organization",
    "Y2": "Managed Care Organization",
    "ZZ": "Mutually Defined",
}


def _listed(text: str, why: str) -> tuple[Added, ...]:
    """Description-only rows from a 'CODE<TAB>name' block."""
    return tuple(Added(code, "", name, "description-as-value", why)
                 for code, name in (line.split("\t") for line in text.splitlines()))

CLAIMS_837 = "name from PokitDok _claims.md, code from the 837 guide list, matched by X12 description"

# why the entity_identifier rows were added (one sentence each, shared by the rows it explains)
_IN_271_NM101 = "added: in a 271 NM101 list (grammars/271.x12g); " + OUR_NAME
_PD_CONTACT_TYPE = "added: PokitDok lists the name among coverage.contacts.contact_type values; code matched by X12 98 description"
_PD_RELATED_ENTITY = "added: PokitDok's benefit_related_entities example prints the name; code matched by X12 98 description"


ADDED: dict[str, tuple[Added, ...]] = {
    "claim_status_action": (
        Added("WQ", "accept", "Accept", "documented", "added: PokitDok's 277CA example prints action accept for STC03 WQ"),
        Added("U", "reject", "Reject", "proposed", "added: the 277CA rejection code; " + OUR_NAME),
    ),
    "payer_responsibility": (
        Added("A", "four", "Payer Responsibility Four", "derived", CLAIMS_837),
        Added("B", "five", "Payer Responsibility Five", "derived", CLAIMS_837),
        Added("C", "six", "Payer Responsibility Six", "derived", CLAIMS_837),
        Added("D", "seven", "Payer Responsibility Seven", "derived", CLAIMS_837),
        Added("E", "eight", "Payer Responsibility Eight", "derived", CLAIMS_837),
        Added("F", "nine", "Payer Responsibility Nine", "derived", CLAIMS_837),
        Added("G", "ten", "Payer Responsibility Ten", "derived", CLAIMS_837),
        Added("H", "eleven", "Payer Responsibility Eleven", "derived", CLAIMS_837),
        Added("P", "primary", "Primary", "derived", CLAIMS_837),
        Added("S", "secondary", "Secondary", "derived", CLAIMS_837),
        Added("T", "tertiary", "Tertiary", "derived", CLAIMS_837),
        Added("U", "unknown", "Unknown", "derived", CLAIMS_837),
    ),
    "plan_participation": (
        Added("A", "assigned", "Assigned", "derived", CLAIMS_837),
        Added("B", "lab", "Assignment Accepted on Clinical Lab Services Only", "derived", CLAIMS_837),
        Added("C", "not_assigned", "Not Assigned", "proposed", "added: code from the 837 guide list; PokitDok documents this value as n/a, which is not an enum name; the name is ours from the X12 description"),
    ),
    "direct_payment": (
        Added("Y", "y", "Yes", "derived", CLAIMS_837),
        Added("N", "n", "No", "derived", CLAIMS_837),
        Added("W", "not_applicable", "Not Applicable", "proposed", "added: code from the 837 guide list; PokitDok documents this value as n/a, which is not an enum name; the name is ours from the X12 description"),
    ),
    "benefits_assignment": (
        Added("Y", "yes", "Yes", "derived", CLAIMS_837),
        Added("N", "no", "No", "derived", CLAIMS_837),
        Added("W", "not_applicable", "Not Applicable", "proposed", "added: code from the 837 guide list; PokitDok documents yes and no only; the name is ours"),
    ),
    "information_release": (
        Added("I", "informed_consent", "Informed Consent to Release Medical Information for Conditions or Diagnoses Regulated by Federal Statutes", "derived", CLAIMS_837),
        Added("Y", "signed_statement", "Yes, Provider has a Signed Statement Permitting Release of Medical Billing Data Related to a Claim", "derived", CLAIMS_837),
    ),
    "spinal_condition": (
        Added("A", "acute_condition", "Acute Condition", "derived", CLAIMS_837),
        Added("C", "chronic_condition", "Chronic Condition", "derived", CLAIMS_837),
        Added("D", "non_acute", "Non-acute", "derived", CLAIMS_837),
        Added("E", "non_life_threatening", "Non-Life Threatening", "derived", CLAIMS_837),
        Added("F", "routine", "Routine", "derived", CLAIMS_837),
        Added("G", "symptomatic", "Symptomatic", "derived", CLAIMS_837),
        Added("M", "acute_manifestation_chronic_condition", "Acute Manifestation of a Chronic Condition", "derived", CLAIMS_837),
    ),
    "dme_certification_type": (
        Added("I", "initial", "Initial", "derived", CLAIMS_837),
        Added("R", "renewal", "Renewal", "derived", CLAIMS_837),
        Added("S", "revised", "Revised", "derived", CLAIMS_837),
    ),
    "test_result_reference": (
        Added("OG", "original", "Original Starting Dosage", "derived", CLAIMS_837),
        Added("TR", "test_results", "Test Results", "derived", CLAIMS_837),
    ),
    "test_measurement": (
        Added("HT", "height", "Height", "derived", CLAIMS_837),
        Added("R1", "hemoglobin", "Hemoglobin", "derived", CLAIMS_837),
        Added("R2", "hematocrit", "Hematocrit", "derived", CLAIMS_837),
        Added("R3", "epoetin_starting_dosage", "Epoetin Starting Dosage", "derived", CLAIMS_837),
        Added("R4", "creatinine", "Creatinine", "derived", CLAIMS_837),
    ),
    "insurance_type": tuple(
        Added(code, enum, desc, "proposed",
              f"added: {EB04_RECALL}; {OUR_NAME}, with hmo/epo short forms as PokitDok uses for HM and the 837 filing codes")
        for code, enum, desc in EB04_ADDED
    ),
    "relationship": (
        Added("34", "other_adult", "Other Adult", "proposed",
              "added: the 270 dependent INS02 list allows 34 (grammars/270.x12g); " + OUR_NAME),
    ),
    "entity_identifier": (
        Added("03", "dependent", "Dependent", "proposed", _IN_271_NM101),
        Added("13", "contracted_service_provider", "Contracted Service Provider", "proposed", _IN_271_NM101),
        Added("1I", "preferred_provider_organization", "Preferred Provider Organization (PPO)", "proposed", _IN_271_NM101),
        Added("1P", "provider", "Provider", "proposed", _IN_271_NM101),
        Added("2B", "third_party_administrator", "Third-Party Administrator", "derived", _PD_CONTACT_TYPE),
        Added("36", "employer", "Employer", "proposed", _IN_271_NM101),
        Added("73", "other_physician", "Other Physician", "proposed", _IN_271_NM101),
        Added("80", "hospital", "Hospital", "proposed", _IN_271_NM101),
        Added("FA", "facility", "Facility", "proposed", _IN_271_NM101),
        Added("GP", "gateway_provider", "Gateway Provider", "proposed", _IN_271_NM101),
        Added("GW", "group", "Group", "proposed", _IN_271_NM101),
        Added("I3", "independent_physicians_association", "Independent Physicians Association (IPA)", "proposed", _IN_271_NM101),
        Added("IL", "insured_or_subscriber", "Insured or Subscriber", "proposed", _IN_271_NM101),
        Added("LR", "legal_representative", "Legal Representative", "proposed", _IN_271_NM101),
        Added("OC", "origin_carrier", "Origin Carrier", "proposed", _IN_271_NM101),
        Added("P3", "primary_care_provider", "Primary Care Provider", "derived", _PD_RELATED_ENTITY),
        Added("P4", "prior_insurance_carrier", "Prior Insurance Carrier", "proposed", _IN_271_NM101),
        Added("P5", "plan_sponsor", "Plan Sponsor", "derived", _PD_RELATED_ENTITY),
        Added("PR", "payer", "Payer", "derived", _PD_CONTACT_TYPE),
        Added("PRP", "primary_payer", "Primary Payer", "derived", _PD_CONTACT_TYPE),
        Added("SEP", "secondary_payer", "Secondary Payer", "derived", _PD_CONTACT_TYPE),
        Added("TTP", "tertiary_payer", "Tertiary Payer", "derived", _PD_CONTACT_TYPE),
        Added("VER", "party_performing_verification", "Party Performing Verification", "proposed", _IN_271_NM101),
        Added("VN", "vendor", "Vendor", "derived", _PD_CONTACT_TYPE),
        Added("VY", "organization_completing_configuration_change", "Organization Completing Configuration Change", "proposed", _IN_271_NM101),
        Added("X3", "utilization_management_organization", "Utilization Management Organization", "derived", _PD_CONTACT_TYPE),
        Added("Y2", "managed_care_organization", "Managed Care Organization", "proposed", _IN_271_NM101),
    ),
    "contact_method_type": (
        Added("ED", "edi_access_number", "Electronic Data Interchange Access Number", "proposed",
              "added: allowed in 271, 277 and 837P PER03/05/07 (grammars/); " + OUR_NAME),
        Added("WP", "work_phone", "Work Phone Number", "proposed",
              "added: allowed in 271 PER03/05/07 (grammars/271.x12g); " + OUR_NAME),
    ),
    "contact_function": (
        Added("IC", "information_contact", "Information Contact", "proposed",
              "added: the 835 1000A payer web-site PER and every other guide's contact use IC; " + OUR_NAME),
    ),
    "state": _listed(STATE_CODES, ""),
    "country": _listed(COUNTRY_CODES, ""),
    "currency": _listed(CURRENCY_CODES, ""),
    "drug_unit_type": (
        Added("F2", "international", "International Unit", "derived", DRUG_UNITS),
        Added("GR", "gram", "Gram", "derived", DRUG_UNITS),
        Added("ME", "milligram", "Milligram", "derived", DRUG_UNITS),
        Added("ML", "milliliter", "Milliliter", "derived", DRUG_UNITS),
        Added("UN", "unit", "Unit", "derived", DRUG_UNITS),
    ),
}

# Descriptions that carried label history in the reference: current label here, history in notes.
DESCRIPTION_FIXES: dict[str, dict[str, tuple[str, str]]] = {
    "place_of_service": {
        "02": ("Telehealth Provided Other than in Patient's Home", "CMS label 2017-2021: Telehealth"),
        "22": ("On Campus-Outpatient Hospital", "CMS label before 2016: Outpatient Hospital"),
        "54": ("Intermediate Care Facility/Individuals with Intellectual Disabilities",
               "CMS label before 2015: Intermediate Care Facility/Mentally Retarded"),
    },
}

# The reference left PLB descriptions empty; these are the X12 426 code names (recalled).
PLB_DESCRIPTIONS: dict[str, str] = {
    "50": "Late Charge", "51": "Interest Penalty Charge", "72": "Authorized Return",
    "90": "Early Payment Allowance", "AH": "Origination Fee", "AM": "Applied to Borrower's Account",
    "AP": "Acceleration of Benefits", "B2": "Rebate", "B3": "Recovery Allowance", "BD": "Bad Debt Adjustment",
    "BN": "Bonus", "C5": "Temporary Allowance", "CR": "Capitation Interest", "CS": "Adjustment",
    "CT": "Capitation Payment", "CV": "Capital Passthru", "CW": "Certified Registered Nurse Anesthetist Passthru",
    "DM": "Direct Medical Education Passthru", "E3": "Withholding", "FB": "Forwarding Balance",
    "FC": "Fund Allocation", "GO": "Graduate Medical Education Passthru",
    "HM": "Hemophilia Clotting Factor Supplement", "IP": "Incentive Premium Payment",
    "IR": "Internal Revenue Service Withholding", "IS": "Interim Settlement", "J1": "Nonreimbursable",
    "L3": "Penalty", "L6": "Interest Owed", "LE": "Levy", "LS": "Lump Sum", "OA": "Organ Acquisition Passthru",
    "OB": "Offset for Affiliated Providers", "PI": "Periodic Interim Payment", "PL": "Payment Final",
    "RA": "Retro-activity Adjustment", "RE": "Return on Equity", "SL": "Student Loan Repayment",
    "TL": "Third Party Liability", "WO": "Overpayment Recovery", "WU": "Unspecified Recovery",
}


# ----------------------------------------------------------------------------
# building
# ----------------------------------------------------------------------------
class ReferenceMismatch(Exception):
    """The reference and the data above disagree; the message says where."""


def read_reference(path: Path) -> list[dict[str, str]]:
    """A reference TSV as dicts; plain tab splitting (fields may start with a quote)."""
    lines = [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
    header = lines[0].split("\t")
    rows = []
    for n, ln in enumerate(lines[1:], start=2):
        fields = ln.split("\t")
        if len(fields) != len(header):
            raise ReferenceMismatch(f"{path}:{n}: {len(fields)} columns, header has {len(header)}")
        rows.append({k: v.strip() for k, v in zip(header, fields)})
    return rows


def iso_date(value: str, where: str) -> str:
    """MM/DD/YYYY (the hippo lists) -> YYYY-MM-DD."""
    if not value:
        return ""
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", value)
    if not m:
        raise ReferenceMismatch(f"{where}: date {value!r} is not MM/DD/YYYY")
    return f"{m.group(3)}-{m.group(1)}-{m.group(2)}"


def clean_note(text: str, omit: tuple[str, ...]) -> str:
    """Remove superseded passages (regexes) and tidy the '; ' separators left behind."""
    for pattern in omit:
        text = re.sub(pattern, "", text)
    return re.sub(r"\s*(;\s*)+", "; ", text).strip().strip(";").strip()


def tr3_codes(spec: Spec) -> set[str]:
    """Union of the inline code lists the guides in grammars/ give the spec's elements (read with the
    engine's own grammar loader, so the check sees exactly what the parser and validator see)."""
    codes: set[str] = set()
    for glob, ref in spec.tr3:
        files = [f for f in sorted(GRAMMARS.glob(f"{glob}.x12g")) if not is_envelope_file(f)]
        if not files:
            raise ReferenceMismatch(f"{spec.name}: no grammar matches {glob}.x12g")
        found = False
        for f in files:
            for node in load_guide_cached(f).segments():
                spec_ = node.specs.get(ref)
                if spec_ is not None and spec_.codes is not None:
                    codes.update(spec_.codes)
                    found = True
        if not found:
            raise ReferenceMismatch(f"{spec.name}: no inline code list for {ref} in {glob}.x12g")
    return codes


def reference_rows(spec: Spec, reference: Path) -> list[dict[str, str]]:
    if spec.file is None:
        return []
    rows = read_reference(reference / spec.file)
    if spec.select is not None:
        rows = [r for r in rows if r["table"] == spec.select]
        if not rows:
            raise ReferenceMismatch(f"{spec.name}: no rows with table={spec.select!r} in {spec.file}")
    return rows


def build_rows(spec: Spec, reference: Path) -> tuple[list[Row], list[str]]:
    """Rows of one table after the hand decisions; returns (rows, table notes)."""
    src = reference_rows(spec, reference)
    table_notes: list[str] = []

    # Superseded note text goes; a note every row shares describes the table, not the row.
    for pattern in spec.lift_notes:
        lifted = [m.group(0) for r in src if (m := re.search(pattern, r.get("notes", "")))]
        if not lifted:
            raise ReferenceMismatch(f"{spec.name}: lift_notes pattern {pattern!r} matches no row")
        table_notes.append(lifted[0])
    cleaned = [clean_note(r.get("notes", ""), spec.omit_notes + spec.lift_notes) for r in src]
    common = cleaned[0] if len(src) > 1 and cleaned[0] and all(n == cleaned[0] for n in cleaned) else ""
    if common:
        table_notes.append(common)

    rows: list[Row] = []
    seen: dict[str, Row] = {}
    for r, note in zip(src, cleaned):
        code = r["code"]
        where = f"{spec.file} code {code}"
        status = r["status"]
        notes = [note] if note and note != common else []
        if spec.enum_col == "":  # EB01: enum from the reference's generic-name note, target into notes
            m = re.search(r"generic enum \(.*\) = snake_case\(description\), e\.g\. ([a-z0-9_]+)$", r["notes"])
            if not m:
                raise ReferenceMismatch(f"{where}: no generic enum name in the notes")
            enum = m.group(1)
            target = r["pokitdok_json_target"] or "none"
            notes = [f"target: {target}"] + notes
        elif spec.description_only:
            enum = ""
        else:
            enum = r[spec.enum_col]
        description = r["x12_description"]
        if spec.name == "plb_adjustment_reason" and not description:
            description = PLB_DESCRIPTIONS[code]
        if "researcher recall" in r.get("source", "") and spec.name == "service_type":
            notes.append("description recalled, not verified against a stored list")
        if spec.name == "service_type" and len(code) == 3:
            notes.append("3-character code: not valid in 005010 (element 1365 is ID 1/2)")
        if spec.name in DESCRIPTION_FIXES and code in DESCRIPTION_FIXES[spec.name]:
            description, why = DESCRIPTION_FIXES[spec.name][code]
            notes.append(why)
        if spec.description_only:
            notes = [re.sub(r"\bRETIRED\b", "retired", note)] if note else []
            if r.get("last_modified"):
                notes.append(f"last modified {iso_date(r['last_modified'], where)}")
        row = Row(code, enum, description, status,
                  start=iso_date(r.get("start_date", ""), where), stop=iso_date(r.get("stop_date", ""), where),
                  notes=notes)

        decision = DECISIONS.get((spec.name, code)) or DEFAULTS.get((spec.name, status))
        if code in seen:  # a duplicate code must be merged by an alias decision
            if decision is None or decision.action != "alias":
                raise ReferenceMismatch(f"{where}: duplicate code without an alias decision")
            continue
        if decision is None:
            if status in NEEDS_DECISION:
                raise ReferenceMismatch(f"{where}: status {status!r} needs a decision (DECISIONS or DEFAULTS)")
            rows.append(row)
            seen[code] = row
            continue
        if decision.action == "drop":
            table_notes.append(decision.reason)
            continue
        if decision.replace_notes:
            row.notes = [n for n in row.notes if n != note]
        if decision.action in ("rename", "alias") and decision.enum:
            row.enum = decision.enum
        row.aliases = list(decision.aliases)
        if decision.status:
            row.status = decision.status
        row.notes.append(decision.reason)
        rows.append(row)
        seen[code] = row

    for a in ADDED.get(spec.name, ()):
        if a.code in seen:
            raise ReferenceMismatch(f"{spec.name}: added code {a.code} is already in the reference")
        row = Row(a.code, a.enum, a.description, a.status, notes=[a.notes])
        rows.append(row)
        seen[a.code] = row

    if spec.rows_from_tr3:
        for code in sorted(tr3_codes(spec) - set(seen)):
            name = ENTITY_NAMES.get(code) if spec.name == "entity_identifier" else None
            row = Row(code, "", name or "(description not bundled)", "description-as-value",
                      notes=[] if name else ["name not bundled: see X12 element 98"])
            rows.append(row)
            seen[code] = row

    # Every decision must meet its row: a stale decision would be a silent no-op.
    source_codes = {r["code"] for r in src}
    for table, code in DECISIONS:
        if table == spec.name and code not in source_codes:
            raise ReferenceMismatch(f"{spec.name}: DECISIONS has code {code}, which the reference does not")

    if spec.tr3:
        allowed = tr3_codes(spec)
        missing = sorted(allowed - set(seen))
        if missing:
            raise ReferenceMismatch(f"{spec.name}: codes the guides allow but the table lacks: {' '.join(missing)}")
        elems = ", ".join(ref for _, ref in spec.tr3)
        for row in rows:
            if row.code not in allowed:
                row.notes.append(f"not in any inline 005010 code list for {elems} in grammars/")

    check(spec, rows)
    return rows, table_notes + list(spec.notes)


def check(spec: Spec, rows: list[Row]) -> None:
    codes = Counter(r.code for r in rows)
    names = Counter(n for r in rows for n in ([r.enum] if r.enum else []) + r.aliases)
    dup = [c for c, n in codes.items() if n > 1] + [e for e, n in names.items() if n > 1]
    if dup:
        raise ReferenceMismatch(f"{spec.name}: duplicate codes or enums: {dup}")
    for r in rows:
        if not spec.description_only and not r.enum:
            raise ReferenceMismatch(f"{spec.name}: code {r.code} has no enum")
        for value in (r.code, r.enum, r.description, r.status, *r.notes, *r.aliases):
            if "\t" in value or "\n" in value:
                raise ReferenceMismatch(f"{spec.name}: code {r.code}: tab or newline in a value")


def render(spec: Spec, rows: list[Row], table_notes: list[str]) -> str:
    with_aliases = any(r.aliases for r in rows)
    meta = [
        ("table", spec.name),
        ("element", spec.element),
        ("title", spec.title),
        ("list_version", spec.list_version),
        ("source", f"{spec.source}; generated by tools/import_codes.py"
                   + (f" from reference/codes/{spec.file}" if spec.file else "")),
    ] + list(spec.meta) + [("note", n) for n in dict.fromkeys(table_notes)]
    out = [f"# {k}: {v}" for k, v in meta]
    out.append("\t".join(COLUMNS + (("aliases",) if with_aliases else ())))
    for r in rows:
        fields = [r.code, r.enum, r.description, r.status, r.start, r.stop, "; ".join(dict.fromkeys(r.notes))]
        if with_aliases:
            fields.append(",".join(r.aliases))
        out.append("\t".join(fields))
    return "\n".join(out) + "\n"


def generate(reference: Path) -> dict[str, str]:
    """Table name -> file text for every spec."""
    names = [s.name for s in SPECS]
    if len(set(names)) != len(names):
        raise ReferenceMismatch("SPECS has a table name twice")
    used = {(s.file, s.select) for s in SPECS}
    for f in sorted(reference.glob("*.tsv")):  # every reference table is used or skipped on purpose
        rows = read_reference(f)
        selects = {r["table"] for r in rows} if rows and "table" in rows[0] else {None}
        for sel in selects:
            if (f.name, sel) not in used and (f.name, sel) not in SKIPPED:
                raise ReferenceMismatch(f"{f.name}: table {sel!r} is neither in SPECS nor in SKIPPED")
    return {spec.name: render(spec, *build_rows(spec, reference)) for spec in SPECS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, default=REFERENCE, help="reference/codes directory")
    ap.add_argument("--out", type=Path, default=OUT, help="output directory (maps/codes)")
    ap.add_argument("--check", action="store_true", help="compare with the files in --out instead of writing")
    args = ap.parse_args(argv)
    if not args.reference.is_dir():
        print(f"reference directory {args.reference} not found", file=sys.stderr)
        return 2
    try:
        tables = generate(args.reference)
    except ReferenceMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stale = sorted(p.stem for p in args.out.glob("*.tsv") if p.stem not in tables) if args.out.is_dir() else []
    if args.check:
        differ = [n for n, text in tables.items()
                  if not (args.out / f"{n}.tsv").is_file()
                  or (args.out / f"{n}.tsv").read_text(encoding="utf-8") != text]
        for n in differ + stale:
            print(f"{n}.tsv differs from the generated table" if n in differ else f"{n}.tsv is not generated")
        return 1 if differ or stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for n in stale:
        print(f"warning: {n}.tsv is not generated by this script (left alone)", file=sys.stderr)
    for name, text in tables.items():
        (args.out / f"{name}.tsv").write_text(text, encoding="utf-8")
        rows = sum(1 for ln in text.splitlines() if not ln.startswith("#")) - 1
        print(f"{name}.tsv: {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
