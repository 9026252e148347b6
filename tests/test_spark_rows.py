"""The row-level work of x12engine.spark, without Spark: never crashes, never drops a file.

These run everywhere (no pyspark needed): ``convert_file`` and ``write_rows`` are what
the executors run inside ``mapInArrow``.
"""
from __future__ import annotations

import json
import sys

from hypothesis import HealthCheck, given, settings, strategies as st

import x12engine
from conftest import FIXTURES
from x12engine.spark import ROW_COLUMNS, convert_file, pick, write_rows

SOURCES = {name: (FIXTURES / name).read_bytes() for name in ("835-payment.x12", "837p-claims.x12", "278-response-pended.x12")}


def test_import_does_not_need_pyspark():
    import subprocess

    code = "import sys, x12engine, x12engine.spark; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_pick_paths():
    model = {"a": {"b": [{"c": 1}, {"c": True}]}, "d": "x", "e": {"f": 2}}
    assert pick(model, "a.b[0].c") == "1"
    assert pick(model, "a.b[1].c") == "true"
    assert pick(model, "a.b[5].c") is None
    assert pick(model, "e") == '{"f":2}'
    assert pick(model, "d.nope") is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SOURCES)), cut=st.floats(min_value=0, max_value=1.05),
       junk=st.binary(max_size=20), at=st.floats(min_value=0, max_value=1))
def test_mangled_files_give_rows_never_exceptions(name, cut, junk, at):
    raw = SOURCES[name]
    at = int(at * len(raw))  # positions inside the file (a cut past its end leaves it whole)
    data = raw[:at] + junk + raw[at:]
    cut = int(cut * len(data))
    data = data[: max(cut, 1)] if cut < len(data) else data
    rows = list(convert_file(data, "f.x12", columns={"p": "payer.name"}))
    assert rows, "every file yields at least one row"
    assert all(set(r) == {n for n, _ in ROW_COLUMNS} | {"p"} for r in rows)
    errors = [i for i, r in enumerate(rows) if r["error"] is not None]
    assert errors in ([], [len(rows) - 1]), "an error row, if any, is the file's last"
    if errors:
        where = json.loads(rows[-1]["error_location"])
        assert where["source"] == "f.x12"
    # rows before an error are exactly what the library streams before it fails
    good = [r for r in rows if r["error"] is None]
    lib = []
    try:
        lib.extend(x12engine.iter_models(data, name="f.x12", by_claim=True))
    except x12engine.X12Error:
        pass
    assert [r["model"] for r in good] == [None if e["model"] is None else json.dumps(e["model"], separators=(",", ":"), ensure_ascii=False)
                                          for e in lib]


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.binary(max_size=300).map(lambda b: SOURCES["835-payment.x12"][:106] + b)))  # past the ISA check too
def test_arbitrary_bytes_never_raise(data):
    rows = list(convert_file(data, None))
    assert rows and (rows[-1]["error"] is not None or all(r["transaction"] for r in rows))


def test_write_rows_round_trip_and_grouping(tmp_path):
    rows = []
    for name, raw in SOURCES.items():
        rows += [r for r in convert_file(raw, name, by_claim=False) if r["model"] is not None]
    results = list(write_rows(rows, tmp_path, lambda k: f"{k}.out", key="path"))
    assert [r["error"] for r in results] == [None] * len(results)
    assert sorted(r["key"] for r in results) == sorted({r["path"] for r in rows})
    for r in results:
        back = x12engine.to_models((tmp_path / f"{r['key']}.out").read_bytes())
        assert [t["model"] for t in back["transactions"]] == \
               [json.loads(x["model"]) for x in rows if x["path"] == r["key"]]  # key order may differ
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{r['key']}.out" for r in results)


def test_interchanges_split_at_max_sets_with_distinct_control_numbers(tmp_path):
    raw = (FIXTURES / "278-request.x12").read_bytes()
    row = next(convert_file(raw, "a"))
    (result,) = write_rows([row] * 5, tmp_path, lambda k: "all.x12", max_sets=2)
    assert result["sets"] == 5 and result["interchanges"] == 3
    doc = x12engine.parse((tmp_path / "all.x12").read_bytes())
    numbers = [i.control_number for i in doc.interchanges]
    assert len(numbers) == 3 and len(set(numbers)) == 3
    assert not [f for f in doc.findings if f.severity == "error"]


def test_file_uris_become_local_paths(tmp_path):
    from x12engine.spark import _local_path

    p = tmp_path / "with space.x12"
    p.write_bytes((FIXTURES / "278-request.x12").read_bytes())
    assert _local_path(p.as_uri()) == str(p)
    assert _local_path("file:" + str(p).replace(" ", "%20")) == str(p)
    assert _local_path(str(p)) == str(p)


def test_write_rows_reports_bad_rows_and_writes_the_rest(tmp_path):
    good = next(convert_file((FIXTURES / "278-request.x12").read_bytes(), "a"))
    bad = dict(good, model=json.dumps(dict(json.loads(good["model"]), no_such_field="ZZSECRET")))
    rows = [good, bad, dict(good, model=None), good]
    results = list(write_rows(rows, tmp_path, lambda k: "out.x12"))
    ok = [r for r in results if r["error"] is None]
    failed = {r["source_row"]: r["error"] for r in results if r["error"] is not None}
    assert len(ok) == 1 and ok[0]["sets"] == 2
    assert sorted(failed) == [1, 2] and "no_such_field" in failed[1] and "ZZSECRET" not in failed[1]
    assert [p.name for p in tmp_path.iterdir()] == ["out.x12"]
