#!/usr/bin/env python3
"""Build grammars/dictionary/x12_005010.x12g, the X12 005010 base-standard
dictionary (data elements, composites, segments) used by all guide files.

Sources of the facts below:
  * data element types and min/max lengths: pyx12's ``map/dataele.xml``
    (the installed pyx12 package), with the overrides in ELEMENT_OVERRIDES
    for elements that file lacks or names only by id (ISA's I-elements);
  * segment and composite element lists, requirement designators (M/O/X),
    element repeat counts and syntax rules: the 005010 base standard as
    recorded in kputnam/stupidedi (versions/005010/segment_defs, element_defs),
    cross-checked against the element lists of pyx12's 5010 maps (and its
    4010 maps for segments only they carry). Where stupidedi has no
    definition (UM, HCR, CR5, CR6) or an evident slip, the entry is marked
    ``# unverified`` or ``# corrected`` below.

Run:  python tools/build_dictionary.py
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "grammars" / "dictionary" / "x12_005010.x12g"


def pyx12_map_dir() -> Path:
    import pyx12  # noqa: PLC0415

    return Path(pyx12.__file__).resolve().parent / "map"


# Elements missing from pyx12's dataele.xml or carried there under a placeholder name.
ELEMENT_OVERRIDES: dict[str, tuple[str, int, int, str]] = {
    "I01": ("ID", 2, 2, "Authorization Information Qualifier"),
    "I02": ("AN", 10, 10, "Authorization Information"),
    "I03": ("ID", 2, 2, "Security Information Qualifier"),
    "I04": ("AN", 10, 10, "Security Information"),
    "I05": ("ID", 2, 2, "Interchange ID Qualifier"),
    "I06": ("AN", 15, 15, "Interchange Sender ID"),
    "I07": ("AN", 15, 15, "Interchange Receiver ID"),
    "I08": ("DT", 6, 6, "Interchange Date"),
    "I09": ("TM", 4, 4, "Interchange Time"),
    "I10": ("ID", 1, 1, "Interchange Control Standards Identifier"),
    "I11": ("ID", 5, 5, "Interchange Control Version Number"),
    "I12": ("N0", 9, 9, "Interchange Control Number"),
    "I13": ("ID", 1, 1, "Acknowledgment Requested"),
    "I14": ("ID", 1, 1, "Interchange Usage Indicator"),
    "I15": ("AN", 1, 1, "Component Element Separator"),
    "I16": ("N0", 1, 5, "Number of Included Functional Groups"),
    "I17": ("ID", 1, 1, "Interchange Acknowledgment Code"),
    "I18": ("ID", 3, 3, "Interchange Note Code"),
    "I65": ("AN", 1, 1, "Repetition Separator"),
}

# Composites: id -> (name, members, rules).  Members: "ELEM REQ" separated by ", ".
COMPOSITES: dict[str, tuple[str, str, str]] = {
    "C001": ("Composite Unit of Measure",
             "355 M, 1018 O, 649 O, 355 O, 1018 O, 649 O, 355 O, 1018 O, 649 O, "
             "355 O, 1018 O, 649 O, 355 O, 1018 O, 649 O", ""),
    "C002": ("Actions Indicated", "704 M, 704 O, 704 O, 704 O, 704 O", ""),
    "C003": ("Composite Medical Procedure Identifier",
             "235 M, 234 M, 1339 O, 1339 O, 1339 O, 1339 O, 352 O, 234 O", ""),
    "C004": ("Composite Diagnosis Code Pointer", "1328 M, 1328 O, 1328 O, 1328 O", ""),
    "C005": ("Tooth Surface", "1369 M, 1369 O, 1369 O, 1369 O, 1369 O", ""),
    "C006": ("Oral Cavity Designation", "1361 M, 1361 O, 1361 O, 1361 O, 1361 O", ""),
    "C022": ("Health Care Code Information",
             "1270 M, 1271 M, 1250 X, 1251 X, 782 O, 380 O, 799 O, 1271 X, 1073 X", "P0304 E0809"),
    "C023": ("Health Care Service Location Information", "1331 M, 1332 O, 1325 O", ""),
    "C024": ("Related Causes Information", "1362 M, 1362 O, 1362 O, 156 O, 26 O", ""),
    "C030": ("Position in Segment", "722 M, 1528 O, 1686 O", ""),
    "C035": ("Provider Specialty Information", "1222 M, 559 O, 1073 O", ""),
    "C040": ("Reference Identifier", "128 M, 127 M, 128 X, 127 X, 128 X, 127 X", "P0304 P0506"),
    "C042": ("Adjustment Identifier", "426 M, 127 O", ""),
    "C043": ("Health Care Claim Status", "1271 M, 1271 M, 98 O, 1270 O", ""),
    "C052": ("Medicare Status Code", "1218 M, 1701 O, 1701 O, 1701 O", ""),  # unverified
    "C056": ("Composite Race or Ethnicity Information", "1109 O, 1270 X, 1271 X", "P0203"),  # corrected: rule added
    "C998": ("Context Identification", "9999 M, 9998 O", ""),
    "C999": ("Reference in Segment", "725 M, 725 O", ""),  # corrected: 02 is optional
}

# Segments: id -> (name, members, rules).  "1365 X*99" = repeat 99.
SEGMENTS: dict[str, tuple[str, str, str]] = {
    # ---- envelope -----------------------------------------------------------
    "ISA": ("Interchange Control Header",
            "I01 M, I02 M, I03 M, I04 M, I05 M, I06 M, I05 M, I07 M, I08 M, I09 M, "
            "I65 M, I11 M, I12 M, I13 M, I14 M, I15 M", ""),
    "IEA": ("Interchange Control Trailer", "I16 M, I12 M", ""),
    "TA1": ("Interchange Acknowledgment", "I12 M, I08 M, I09 M, I17 M, I18 M", ""),
    "GS": ("Functional Group Header", "479 M, 142 M, 124 M, 373 M, 337 M, 28 M, 455 M, 480 M", ""),
    "GE": ("Functional Group Trailer", "97 M, 28 M", ""),
    "ST": ("Transaction Set Header", "143 M, 329 M, 1705 O", ""),
    "SE": ("Transaction Set Trailer", "96 M, 329 M", ""),
    # ---- transaction segments -------------------------------------------------
    "AAA": ("Request Validation", "1073 M, 559 O, 901 O, 889 O", ""),
    "AK1": ("Functional Group Response Header", "479 M, 28 M, 480 O", ""),
    "AK2": ("Transaction Set Response Header", "143 M, 329 M, 1705 O", ""),
    "AK9": ("Functional Group Response Trailer",
            "715 M, 97 M, 123 M, 2 M, 716 O, 716 O, 716 O, 716 O, 716 O", ""),
    "AMT": ("Monetary Amount Information", "522 M, 782 M, 478 O", ""),
    "BHT": ("Beginning of Hierarchical Transaction", "1005 M, 353 M, 127 O, 373 O, 337 O, 640 O", ""),
    "BPR": ("Financial Information",
            "305 M, 782 M, 478 M, 591 M, 812 O, 506 X, 507 X, 569 X, 508 X, 509 O, 510 O, "
            "506 X, 507 X, 569 O, 508 X, 373 O, 1048 O, 506 X, 507 X, 569 O, 508 X",
            "P0607 C0809 P1213 C1415 P1819 C2021"),
    "CAS": ("Claims Adjustment",
            "1033 M, 1034 M, 782 M, 380 O, " + ", ".join(["1034 X, 782 X, 380 X"] * 5),
            "L050607 C0605 C0705 L080910 C0908 C1008 L111213 C1211 C1311 "
            "L141516 C1514 C1614 L171819 C1817 C1917"),
    "CL1": ("Claim Codes", "1315 O, 1314 O, 1352 O, 1345 O", ""),
    "CLM": ("Health Claim",
            "1028 M, 782 O, 1032 O, 1343 O, C023 O, 1073 O, 1359 O, 1073 O, 1363 O, 1351 O, "
            "C024 O, 1366 O, 1073 O, 1338 O, 1073 O, 1360 O, 1029 O, 1073 O, 1383 O, 1514 O", ""),
    "CLP": ("Claim Level Data",
            "1028 M, 1029 M, 782 M, 782 M, 782 O, 1032 O, 127 O, 1331 O, 1325 O, 1352 O, "
            "1354 O, 380 O, 954 O, 1073 O", ""),
    "CN1": ("Contract Information", "1166 M, 782 O, 332 O, 127 O, 338 O, 799 O", ""),
    "CR1": ("Ambulance Certification",
            "355 X, 81 X, 1316 O, 1317 O, 355 X, 380 X, 166 O, 166 O, 352 O, 352 O", "P0102 P0506"),
    "CR2": ("Chiropractic Certification",
            "609 X, 380 X, 1367 X, 1367 O, 355 X, 380 X, 380 O, 1342 O, 1073 O, 352 O, 352 O, 1073 O",
            "P0102 C0403 P0506"),
    "CR3": ("Durable Medical Equipment Certification", "1322 O, 355 X, 380 X, 1335 O, 352 O", "P0203"),
    # CR5 and CR6: stupidedi has no element list; elements from pyx12's 4010 278 map. unverified
    "CR5": ("Oxygen Therapy Certification",
            "1322 O, 380 O, 1348 O, 1348 O, 352 O, 380 O, 380 O, 380 O, 352 O, 380 O, 380 O, "
            "1349 O, 1350 O, 1350 O, 1350 O, 380 O, 1382 O, 1348 O", ""),
    "CR6": ("Home Health Care Certification",
            "923 M, 373 M, 1250 X, 1251 X, 373 O, 1073 M, 1073 M, 1322 M, 373 O, 235 X, 1137 X, "
            "373 O, 373 O, 373 O, 1250 X, 1251 X, 1384 O, 373 O, 373 O, 373 O, 373 O",
            "P0304 P1011 P1516"),
    "CRC": ("Conditions Indicator", "1136 M, 1073 M, 1321 M, 1321 O, 1321 O, 1321 O, 1321 O", ""),
    "CTP": ("Pricing Information",
            "687 O, 236 X, 212 X, 380 X, C001 X, 648 O, 649 X, 782 O, 639 O, 499 O, 289 O",
            "P0405 C0607 C0902 C1002 C1103"),
    "CTX": ("Context", "C998 M*10, 721 O, 719 O, 447 O, C030 O, C999 O", ""),
    "CUR": ("Currency",
            "98 M, 100 M, 280 O, 98 O, 100 O, 669 O, 374 X, 373 O, 337 O, "
            + ", ".join(["374 X, 373 X, 337 X"] * 4),
            "C0807 C0907 L101112 C1110 C1210 L131415 C1413 C1513 L161718 C1716 C1816 "
            "L192021 C2019 C2119"),
    "DMG": ("Demographic Information",
            "1250 X, 1251 X, 1068 O, 1067 O, C056 X*10, 1066 O, 26 O, 659 O, 380 O, 1270 X, 1271 X",
            "P0102 P1011 C1105"),
    "DN1": ("Orthodontic Information", "380 O, 380 O, 1073 O, 352 O", ""),
    "DN2": ("Tooth Summary", "127 M, 1368 O, 380 O, 1250 X, 1251 X, 1270 M", "P0405"),  # corrected: rule added
    "DTM": ("Date/Time Reference", "374 M, 373 X, 337 X, 623 O, 1250 X, 1251 X",
            "R020305 C0403 P0506"),  # corrected: rules added
    "DTP": ("Date or Time Period", "374 M, 1250 M, 1251 M", ""),
    "EB": ("Eligibility or Benefit Information",
           "1390 M, 1207 O, 1365 O*99, 1336 O, 1204 O, 615 O, 782 O, 954 O, 673 X, 380 X, "
           "1073 O, 1073 O, C003 O, C004 O", "P0910"),
    "EQ": ("Eligibility or Benefit Inquiry", "1365 X*99, C003 X, 1207 O, 1336 O, C004 O", "R0102"),
    "FRM": ("Supporting Documentation", "350 M, 1073 X, 127 X, 373 X, 332 X", "R02030405"),
    "HCP": ("Health Care Pricing",
            "1473 X, 782 O, 782 O, 127 O, 118 O, 127 O, 782 O, 234 O, 235 X, 234 X, 355 X, 380 X, "
            "901 X, 1526 O, 1527 O", "R0113 P0910 P1112"),
    "HCR": ("Health Care Services Review", "306 M, 127 O, 901 O, 1073 O", ""),  # unverified (stupidedi todo)
    "HI": ("Health Care Information Codes", "C022 M" + ", C022 O" * 11, ""),
    "HL": ("Hierarchical Level", "628 M, 734 O, 735 M, 736 O", ""),
    "HSD": ("Health Care Services Delivery",
            "673 X, 380 X, 355 O, 1167 O, 615 X, 616 O, 678 O, 679 O", "P0102 C0605"),
    "III": ("Information",
            "1270 X, 1271 X, 1136 O, 933 O, 380 O, C001 O, 752 O, 752 O, 752 O", "P0102 L030405"),
    "IK3": ("Implementation Data Segment Note", "721 M, 719 M, 447 O, 620 O", ""),
    "IK4": ("Implementation Data Element Note", "C030 M, 725 O, 621 M, 724 O", ""),
    "IK5": ("Implementation Transaction Set Response Trailer",
            "717 M, 618 O, 618 O, 618 O, 618 O, 618 O", ""),
    "INS": ("Insured Benefit",
            "1073 M, 1069 M, 875 O, 1203 O, 1216 O, C052 O, 1219 O, 584 O, 1220 O, 1073 O, "
            "1250 X, 1251 X, 1165 O, 19 O, 156 O, 26 O, 1470 O", "P1112"),
    "K3": ("File Information", "449 M, 1333 O, C001 O", ""),
    "LE": ("Loop Trailer", "447 M", ""),
    "LIN": ("Item Identification",
            "350 O, 235 M, 234 M, " + ", ".join(["235 X, 234 X"] * 14),
            " ".join(f"P{a:02d}{a + 1:02d}" for a in range(4, 31, 2))),
    "LQ": ("Industry Code Identification", "1270 O, 1271 X", "C0102"),
    "LS": ("Loop Header", "447 M", ""),
    "LX": ("Transaction Set Line Number", "554 M", ""),
    "MEA": ("Measurements",
            "737 O, 738 O, 739 X, C001 X, 740 X, 741 X, 935 O, 936 X, 752 O, 1373 O, 1270 X, 1271 X",
            "R03050608 E0412 L050412 L060412 L07030506 E0803 P1112"),  # corrected: MEA10 is 1373 (stupidedi: 753)
    "MIA": ("Medicare Inpatient Adjudication",
            "380 M, 782 O, 380 O, 782 O, 127 O, " + ", ".join(["782 O"] * 9) + ", 380 O, "
            + ", ".join(["782 O"] * 4) + ", " + ", ".join(["127 O"] * 4) + ", 782 O", ""),
    "MOA": ("Medicare Outpatient Adjudication",
            "954 O, 782 O, 127 O, 127 O, 127 O, 127 O, 127 O, 782 O, 782 O", ""),
    "MPI": ("Military Personnel Information",
            "1201 M, 584 M, 1595 M, 353 O, 1596 O, 1250 X, 1251 X", "P0607"),  # corrected: 01-03 M
    "MSG": ("Message Text", "933 M, 934 X, 1470 O", "C0302"),
    "N1": ("Party Identification", "98 M, 93 X, 66 X, 67 X, 706 O, 98 O", "R0203 P0304"),
    "N2": ("Additional Name Information", "93 M, 93 O", ""),
    "N3": ("Party Location", "166 M, 166 O", ""),
    "N4": ("Geographic Location", "19 O, 156 X, 116 O, 26 X, 309 X, 310 O, 1715 X", "E0207 C0605 C0704"),
    "NM1": ("Individual or Organizational Name",
            "98 M, 1065 M, 1035 X, 1036 O, 1037 O, 1038 O, 1039 O, 66 X, 67 X, 706 X, 98 O, 1035 O",
            "P0809 C1110 C1203"),
    "NTE": ("Note/Special Instruction", "363 O, 352 M", ""),
    "OI": ("Other Health Insurance Information", "1032 O, 1383 O, 1073 O, 1351 O, 1360 O, 1363 O", ""),
    "PAT": ("Patient Information",
            "1069 O, 1384 O, 584 O, 1220 O, 1250 X, 1251 X, 355 X, 81 X, 1073 O", "P0506 P0708"),
    "PER": ("Administrative Communications Contact",
            "366 M, 93 O, 365 X, 364 X, 365 X, 364 X, 365 X, 364 X, 443 O", "P0304 P0506 P0708"),
    "PLB": ("Provider Level Adjustment",
            "127 M, 373 M, C042 M, 782 M, " + ", ".join(["C042 X, 782 X"] * 5),
            "P0506 P0708 P0910 P1112 P1314"),  # corrected: stupidedi has P0508 for P0506
    "PRV": ("Provider Information", "1221 M, 128 X, 127 X, 156 O, C035 O, 1223 O", "P0203"),
    "PS1": ("Purchase Service", "127 M, 782 M, 156 O", ""),
    "PWK": ("Paperwork", "755 M, 756 O, 757 O, 98 O, 66 X, 67 X, 352 O, C002 O, 1525 O", "P0506"),
    "QTY": ("Quantity Information", "673 M, 380 X, C001 O, 61 X", "R0204 E0204"),
    "RDM": ("Remittance Delivery Method", "756 M, 93 O, 364 O, C040 O, C040 O", ""),
    "REF": ("Reference Information", "128 M, 127 X, 352 X, C040 O", "R0203"),
    "SBR": ("Subscriber Information",
            "1138 M, 1069 O, 127 O, 93 O, 1336 O, 1143 O, 1073 O, 584 O, 1032 O", ""),
    "STC": ("Status Information",
            "C043 M, 373 O, 306 O, 782 O, 782 O, 373 O, 591 O, 373 O, 429 O, C043 O, C043 O, 933 O", ""),
    "SV1": ("Professional Service",
            "C003 M, 782 O, 355 X, 380 X, 1331 O, 1365 O, C004 O, 782 O, 1073 O, 1340 O, 1073 O, "
            "1073 O, 1364 O, 1341 O, 1327 O, 1334 O, 127 O, 116 O, 782 O, 1337 O, 1360 O", "P0304"),
    "SV2": ("Institutional Service",
            "234 X, C003 X, 782 X, 355 X, 380 X, 1371 O, 782 O, 1073 O, 1345 O, 1337 O",
            "R0102 P0405"),  # corrected: rules added
    "SV3": ("Dental Service",
            "C003 M, 782 O, 1331 O, C006 O, 1358 O, 380 O, 352 O, 1327 O, 1360 O, 1073 O, C004 O", ""),
    "SV5": ("Durable Medical Equipment Service", "C003 M, 355 M, 380 X, 782 X, 782 O, 594 O, 923 O",
            "R0405 C0605"),
    "SVC": ("Service Payment Information", "C003 M, 782 M, 782 O, 234 O, 380 O, C003 O, 380 O", ""),
    "SVD": ("Service Line Adjustment", "67 M, 782 M, C003 O, 234 O, 380 O, 554 O", ""),  # corrected: 02 M
    "TOO": ("Tooth Identification", "1270 X, 1271 X, C005 O", "P0102"),  # corrected: rule added
    "TRN": ("Trace", "481 M, 127 M, 509 O, 127 O", ""),
    "TS2": ("Transaction Supplemental Statistics",
            "782 O, 782 O, 782 O, 782 O, 782 O, 782 O, 380 O, 782 O, 782 O, 380 O, 380 O, 380 O, "
            "380 O, 380 O, 782 O, 380 O, 782 O, 782 O, 782 O", ""),
    "TS3": ("Transaction Statistics",
            "127 M, 1331 M, 373 M, 380 M, 782 M, " + ", ".join(["782 O"] * 17) + ", 380 O, 782 O", ""),
    "UM": ("Health Care Services Review Information",
           "1525 M, 1322 M, 1365 O, C023 O, C024 O, 1338 O, 1213 O, 923 O, 1363 O, 1514 O", ""),  # unverified
}


def parse_members(spec: str) -> list[tuple[str, str, int]]:
    out = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        ref, req = part.split()
        rep = 1
        if "*" in req:
            req, r = req.split("*")
            rep = int(r)
        out.append((ref, req, rep))
    return out


def load_elements() -> dict[str, tuple[str, int, int, str]]:
    tree = ET.parse(pyx12_map_dir() / "dataele.xml")
    elems: dict[str, tuple[str, int, int, str]] = {}
    for de in tree.getroot().iter("data_ele"):
        num = de.get("ele_num")
        elems[num] = (de.get("data_type"), int(de.get("min_len")), int(de.get("max_len")), de.get("name"))
    elems.update(ELEMENT_OVERRIDES)
    return elems


def q(s: str) -> str:
    return '"' + s.replace('"', "'") + '"'


def main() -> int:
    elems = load_elements()
    used: set[str] = set()
    for _name, members, _rules in list(COMPOSITES.values()) + list(SEGMENTS.values()):
        for ref, _req, _rep in parse_members(members):
            if ref in COMPOSITES:
                continue
            used.add(ref)
    for cid, (_n, members, _r) in COMPOSITES.items():
        for ref, _req, _rep in parse_members(members):
            used.add(ref)
    missing = sorted(u for u in used if u not in elems)
    if missing:
        print("elements without a definition:", " ".join(missing), file=sys.stderr)
        return 1

    import pyx12  # noqa: PLC0415

    lines = [
        "# X12 005010 base-standard dictionary: data elements, composites, segments.",
        "# GENERATED by tools/build_dictionary.py -- edit that script, not this file.",
        f"# Element types/lengths: pyx12 {pyx12.__version__} map/dataele.xml (+ overrides for ISA/TA1 I-elements).",
        "# Segment/composite element lists, requirements (M/O/X), repeats, syntax rules:",
        "#   005010 base standard as recorded by kputnam/stupidedi (versions/005010),",
        "#   cross-checked against pyx12's 5010 maps (4010 maps for CR5/CR6/UM/HCR).",
        "# Covers 270/271 X279A1, 276/277 X212, 277CA X214, 278 X217, 837P/I/D X222A1/X223A2/X224A2,",
        "# 835 X221A1, 999 X231A1 and the ISA/IEA/GS/GE/ST/SE/TA1 envelope.",
        "",
    ]
    def sort_key(n: str):
        return (0, n, 0) if n.startswith("I") else (1, "", int(n))
    for num in sorted(used, key=sort_key):
        t, lo, hi, name = elems[num]
        lines.append(f"element {num} {t} {lo}/{hi} {q(name)}")
    lines.append("")
    for cid in sorted(COMPOSITES):
        name, members, rules = COMPOSITES[cid]
        lines.append(f"composite {cid} {q(name)} {{")
        for i, (ref, req, rep) in enumerate(parse_members(members), 1):
            lines.append(f"    {i:02d} {ref} {req}" + (f" repeat {rep}" if rep != 1 else ""))
        for r in rules.split():
            lines.append(f"    rule {r}")
        lines.append("}")
    lines.append("")
    for sid in sorted(SEGMENTS):
        name, members, rules = SEGMENTS[sid]
        lines.append(f"define {sid} {q(name)} {{")
        for i, (ref, req, rep) in enumerate(parse_members(members), 1):
            lines.append(f"    {i:02d} {ref} {req}" + (f" repeat {rep}" if rep != 1 else ""))
        for r in rules.split():
            lines.append(f"    rule {r}")
        lines.append("}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(used)} elements, {len(COMPOSITES)} composites, {len(SEGMENTS)} segments")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
