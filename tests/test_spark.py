"""x12engine.spark on a local Spark session, checked against the non-Spark API.

Skipped (with the reason) when pyspark/pyarrow or Java are missing; CI installs the
``spark`` extra. One session serves the whole module.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import FIXTURES

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install -e '.[spark]')")


def _java_ok() -> bool:
    java = shutil.which("java") or (os.environ.get("JAVA_HOME") and str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    if not java:
        return False
    try:
        return subprocess.run([java, "-version"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


if not _java_ok():
    pytest.skip("no working Java runtime (Spark needs one on PATH or in JAVA_HOME)", allow_module_level=True)

import x12engine  # noqa: E402
from x12engine.errors import X12Error  # noqa: E402
from x12engine.spark import ROW_COLUMNS, local_session, write_x12, x12_to_rows  # noqa: E402
from x12engine.validate import validate  # noqa: E402

CLAIM_FILES = ["835-payment.x12", "835-institutional.x12", "835-pokitdok-example.x12",
               "837p-claims.x12", "837i-inpatient.x12", "837d-basic.x12"]


@pytest.fixture(scope="module")
def spark():
    session = local_session("local[2]", app="x12engine-tests")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def indir(tmp_path_factory) -> Path:
    """Mixed 835/837 fixtures, a file cut off after its first claim payment, and one that is not X12."""
    d = tmp_path_factory.mktemp("x12in")
    for name in CLAIM_FILES:
        shutil.copy(FIXTURES / name, d / name)
    raw = (FIXTURES / "835-payment.x12").read_bytes()
    cut = raw.index(b"CLP*", raw.index(b"CLP*") + 1)  # the second claim payment's start
    (d / "835-truncated.x12").write_bytes(raw[:cut + 20])
    (d / "not-x12.x12").write_bytes(b"this is a scanned remittance letter, not an interchange\n")
    return d


def expected(path: Path, name: str, by_claim: bool = True) -> tuple[list[dict], X12Error | None]:
    """What the library itself makes of a file: its entries, and the error that ended it."""
    out: list[dict] = []
    try:
        for e in x12engine.iter_models(path.read_bytes(), name=name, by_claim=by_claim):
            out.append(e)
    except X12Error as exc:
        return out, exc
    return out, None


def by_path(rows) -> dict[str, list]:
    """Rows by file name, in the order produced (one task streams one file's rows in order)."""
    out: dict[str, list] = {}
    for r in rows:
        out.setdefault(r["path"].rsplit("/", 1)[-1], []).append(r)
    return out


@pytest.fixture(scope="module")
def binary_rows(spark, indir):
    df = spark.read.format("binaryFile").load(str(indir))
    return x12_to_rows(df, columns={"payer_name": "payer.name", "first_pcn": "claim_payments[0].patient_control_number"}).collect()


def test_rows_match_the_library_file_by_file(binary_rows, indir):
    got = by_path(binary_rows)
    assert set(got) == {p.name for p in indir.iterdir()}
    assert list(binary_rows[0].asDict())[:len(ROW_COLUMNS)] == [n for n, _ in ROW_COLUMNS]
    for p in sorted(indir.iterdir()):
        entries, error = expected(p, p.name)
        rows = got[p.name]
        assert len(rows) == len(entries) + (error is not None), p.name
        for row, e in zip(rows, entries):
            env = e["x12"]
            assert row["path"].endswith("/" + p.name)
            assert row["interchange_control_number"] == env["interchange"]["control_number"]
            assert row["group_control_number"] == env["group"]["control_number"]
            assert row["transaction_control_number"] == env["transaction"]["control_number"]
            assert row["transaction"] == e["transaction"] and row["guide"] == e["guide"] and row["map"] == e["map"]
            assert row["part_kind"] == (e.get("part") or {}).get("kind")
            assert row["part_index"] == (e.get("part") or {}).get("index", 0)
            assert (json.loads(row["model"]) if row["model"] is not None else None) == e["model"]
            assert json.loads(row["envelope"]) == env
            assert (json.loads(row["unmapped"]) if row["unmapped"] else None) == e.get("unmapped")
            # findings carry the reading source name: the Spark path instead of the bare name
            assert [(f["code"], f["severity"]) for f in json.loads(row["findings"])] == \
                   [(f["code"], f["severity"]) for f in e["findings"]]
            assert row["error"] is None
            model = e["model"] or {}
            assert row["payer_name"] == (model.get("payer") or {}).get("name")
            cps = model.get("claim_payments") or []
            assert row["first_pcn"] == (cps[0].get("patient_control_number") if cps else None)


def test_expected_mix_of_claims(binary_rows):
    kinds = Counter((r["transaction"], r["part_kind"]) for r in binary_rows if r["error"] is None)
    # payment, institutional, pokitdok, and the truncated file's first claim payment (closed before the cut)
    assert kinds[("835", "unit")] == 2 + 3 + 1 + 1
    assert kinds[("837", "unit")] == 2 + 1 + 2


def test_corrupt_files_carry_their_error_and_no_data(binary_rows, indir):
    got = by_path(binary_rows)
    for name, where_key in (("835-truncated.x12", "segment_index"), ("not-x12.x12", "offset")):
        errors = [r for r in got[name] if r["error"] is not None]
        assert len(errors) == 1 and got[name][-1]["error"] is not None
        assert len(got[name]) == len(expected(indir / name, name)[0]) + 1
        row = errors[0]
        _, exc = expected(indir / name, name)
        assert row["error"].startswith("X12SyntaxError: ") and exc.message in row["error"]
        where = json.loads(row["error_location"])
        assert where_key in where and where["source"].endswith(name)
        assert row["model"] is None and row["map"] is None
    # the truncated file's text holds names, ids and addresses: none of it may reach the error
    raw = (indir / "835-truncated.x12").read_text()
    values = {v for seg in raw.split("~") for v in seg.strip().split("*")[1:] if len(v) >= 5 and not v.isdigit()}
    text = got["835-truncated.x12"][-1]["error"] + got["835-truncated.x12"][-1]["error_location"]
    assert values and not [v for v in values if v in text]


def test_text_and_path_inputs_give_the_same_rows(spark, indir, binary_rows):
    def key(rows):
        return sorted((r["path"].rsplit("/", 1)[-1], r["transaction_control_number"] or "", r["part_kind"] or "",
                       r["part_index"] or 0, r["model"] or "", (r["error"] or "").replace(r["path"], "")) for r in rows)

    text = spark.read.text(str(indir), wholetext=True)
    assert key(x12_to_rows(text).collect()) == key(binary_rows)
    paths = spark.createDataFrame([(p.as_uri(),) for p in sorted(indir.iterdir())], "path string")
    assert key(x12_to_rows(paths).collect()) == key(binary_rows)


def test_missing_path_is_an_error_row(spark, indir):
    df = spark.createDataFrame([(str(indir / "gone.x12"),)], "path string")
    (row,) = x12_to_rows(df).collect()
    assert row["error"].startswith("X12Error: ") and "cannot open" in row["error"]


def test_whole_sets_and_validation_findings(spark, indir):
    df = spark.read.format("binaryFile").load(str(indir / "835-payment.x12"))
    rows = x12_to_rows(df, by_claim=False, validate=True).collect()
    entries, _ = expected(indir / "835-payment.x12", "835-payment.x12", by_claim=False)
    assert len(rows) == len(entries) and all(r["part_kind"] is None for r in rows)
    found = [f for r in rows for f in json.loads(r["findings"]) if f.get("origin") == "validation"]
    want = validate((indir / "835-payment.x12").read_bytes()).findings
    assert sorted(f["code"] for f in found) == sorted(f.code for f in want)


def test_model_rows_back_to_x12_files_per_source(spark, indir, tmp_path):
    files = spark.read.format("binaryFile").load(str(indir))
    rows = x12_to_rows(files, by_claim=False).where("model is not null")
    results = write_x12(rows, tmp_path / "x12", key="path")
    written = [r for r in results if r["error"] is None]
    assert not [r for r in results if r["error"] is not None]
    with_models = {p.name for p in indir.iterdir() if any(e["model"] is not None for e in expected(p, p.name, False)[0])}
    by_key = {r["key"].rsplit("/", 1)[-1]: Path(r["file"]) for r in written}
    for name, out in by_key.items():
        source, _ = expected(indir / name, name, by_claim=False)
        back = x12engine.to_models(out.read_bytes())
        assert [t["model"] for t in back["transactions"]] == [e["model"] for e in source if e["model"] is not None]
        assert all(f["severity"] != "error" for f in back["findings"])
    assert set(by_key) == with_models and len(written) == len(with_models)
    assert not [p for p in (tmp_path / "x12").iterdir() if p.name.endswith(".tmp")]


def test_claim_rows_back_to_x12_per_partition(spark, indir, tmp_path):
    files = spark.read.format("binaryFile").load(str(indir))
    rows = x12_to_rows(files).where("model is not null and part_kind = 'unit'").cache()
    canon = lambda m: json.dumps(m, sort_keys=True)  # noqa: E731  (a rebuilt model may order keys differently)
    want = sorted(canon(json.loads(r["model"])) for r in rows.collect())
    # one claim payment per set: each holds the payment's total, so the balance check is off
    results = write_x12(rows, tmp_path / "parts", check=False, partitions=2)
    assert all(r["error"] is None for r in results)
    assert sum(r["sets"] for r in results) == len(want)
    assert all(Path(r["file"]).name.startswith("part-") for r in results)
    back = [canon(e["model"]) for r in results for e in x12engine.iter_models(Path(r["file"]).read_bytes())]
    # compared as JSON values: a rebuilt amount may read back as 215 where the source said 215.00
    assert [json.loads(x) for x in sorted(back)] == [json.loads(x) for x in want]


def test_rows_that_cannot_be_built_are_reported_not_written(spark, tmp_path):
    good = x12engine.to_models((FIXTURES / "278-request.x12").read_bytes())["transactions"][0]
    bad = json.loads(json.dumps(good["model"]))
    bad["event"]["certification_type"] = "ZZSECRETVALUE"
    data = [("a", "278-request", json.dumps(good["model"])), ("a", "278-request", json.dumps(bad)),
            ("a", "278-request", "{not json"), ("a", None, None)]
    df = spark.createDataFrame(data, "path string, map string, model string").coalesce(1)
    settings = x12engine.EnvelopeSettings(sender_id="SPARKSENDER", usage="P", interchange_control_number=70)
    results = write_x12(df, tmp_path / "w", key="path", settings=settings)
    ok = [r for r in results if r["error"] is None]
    failed = sorted((r["source_row"], r["error"]) for r in results if r["error"] is not None)
    assert len(ok) == 1 and ok[0]["sets"] == 1
    assert [n for n, _ in failed] == [1, 2, 3]
    assert "event.certification_type" in failed[0][1] and "ZZSECRETVALUE" not in failed[0][1]
    assert "not JSON" in failed[1][1] and "no model" in failed[2][1]
    back = x12engine.to_models(Path(ok[0]["file"]).read_bytes())
    assert [t["model"] for t in back["transactions"]] == [good["model"]]
    (inter,) = x12engine.parse(Path(ok[0]["file"]).read_bytes()).interchanges
    assert inter.control_number == "000000070"
    assert [inter.header[0][i].strip() for i in (6, 15)] == ["SPARKSENDER", "P"]
