"""`x12 convert`: batches of files, one bad file among good ones, atomic outputs, re-runs, round trips."""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

import x12engine
from x12engine import Tokenizer, batch
from x12engine.atomicio import TEMP_SUFFIX, atomic_open, write_atomic
from x12engine.cli import main

from conftest import FIXTURES, ROOT

FORK = multiprocessing.get_start_method() == "fork"
MODEL_FIXTURES = sorted(p for p in FIXTURES.glob("*.x12")
                        if all(t["map"] for t in x12engine.to_models(p)["transactions"]))


def invoke(*args: str):
    return CliRunner().invoke(main, ["convert", *args], catch_exceptions=False)


def copy_fixtures(dest: Path, names=None) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for p in sorted(FIXTURES.glob("*.x12")):
        if names is None or p.name in names:
            shutil.copy(p, dest / p.name)
            out.append(dest / p.name)
    return out


def temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def x12_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="surrogateescape")


# ----------------------------------------------------------------------------
# a directory with a bad file in the middle
# ----------------------------------------------------------------------------
def test_corrupt_file_in_the_middle_is_reported_and_the_rest_convert(tmp_path):
    src = tmp_path / "drop"
    good = copy_fixtures(src)
    (src / "nested").mkdir()
    shutil.copy(FIXTURES / "835-payment.x12", src / "nested" / "835-payment.x12")
    # sorts between the fixtures: a garbage file and an interchange cut off after its ST
    (src / "276-zz-garbage.x12").write_bytes(b"\x00\x01\x02 this is not an interchange")
    cut = x12_text(FIXTURES / "837p-claims.x12")
    (src / "278-zz-truncated.x12").write_text(cut[:106] + "GS*HC*A*B*20240101*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019*00*1*20240101*1200*CH~")
    report = tmp_path / "report.json"
    res = invoke(str(src), "--to", "json", "--out", str(tmp_path / "out"), "--jobs", "2", "--report", str(report), "--quiet")
    assert res.exit_code == 1
    data = json.loads(report.read_text())
    assert data["format"] == batch.REPORT_FORMAT
    assert (data["files"], data["failed"], data["converted"]) == (len(good) + 3, 2, len(good) + 1)
    failed = {Path(r["source"]).name: r for r in data["results"] if r["status"] == "failed"}
    assert set(failed) == {"276-zz-garbage.x12", "278-zz-truncated.x12"}
    garbage = failed["276-zz-garbage.x12"]["error"]
    assert garbage["type"] == "X12SyntaxError" and "no ISA" in garbage["message"]
    assert garbage["location"]["source"].endswith("276-zz-garbage.x12") and garbage["location"]["line"] == 1
    truncated = failed["278-zz-truncated.x12"]["error"]
    assert truncated["type"] == "X12SyntaxError" and "truncated" in truncated["message"]
    assert truncated["location"]["segment_index"] == 4 and "segment 4" in truncated["where"]
    for r in failed.values():  # the summary on stderr names each failed file
        assert r["source"] in res.stderr and not Path(r["output"]).exists()
    # the others: complete outputs, equal to what the library gives for that file
    for p in good + [src / "nested" / "835-payment.x12"]:
        out = tmp_path / "out" / p.relative_to(src).parent / (p.name + ".json")
        assert json.loads(out.read_text()) == x12engine.to_models(p, name=str(p)), p.name
    assert not temps(tmp_path / "out")
    assert "Traceback" not in res.output


def test_summary_counts_on_stderr_and_nothing_on_stdout(tmp_path):
    copy_fixtures(tmp_path / "s", {"270-inquiry.x12", "278-request.x12"})
    res = invoke(str(tmp_path / "s"), "--to", "jsonl", "--out", str(tmp_path / "o"))
    assert res.exit_code == 0
    assert res.stdout == ""
    assert "2 converted, 0 up to date, 0 failed of 2 file(s)" in res.stderr


# ----------------------------------------------------------------------------
# atomic outputs
# ----------------------------------------------------------------------------
def _many_sets(path: Path, copies: int) -> int:
    """One file of many interchanges (copies of two fixtures); returns its transaction-set count."""
    parts = [x12_text(FIXTURES / "278-request.x12"), x12_text(FIXTURES / "270-inquiry.x12")]
    per = [len(x12engine.to_models(FIXTURES / n)["transactions"]) for n in ("278-request.x12", "270-inquiry.x12")]
    path.write_text("".join(parts) * copies, encoding="utf-8")
    return sum(per) * copies


def test_killing_a_run_midway_leaves_no_partial_output(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    expected = {f"big{i}.x12": _many_sets(src / f"big{i}.x12", 1500) for i in range(2)}
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "x12engine.cli", "convert", str(src), "--to", "jsonl", "--out", str(out), "--jobs", "2", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until a worker is halfway through writing
            if any(p.stat().st_size > 50_000 for p in temps(out)) if out.is_dir() else False:
                break
            if proc.poll() is not None:
                pytest.fail(f"the run ended before it could be interrupted: {proc.stderr.read()!r}")
            time.sleep(0.01)
        else:
            pytest.fail("no output was being written")
        os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers, with no chance to clean up
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert temps(out), "the kill came after the writes ended; the test proved nothing"
    for name, n in expected.items():
        final = out / f"{name}.jsonl"
        if final.exists():  # an output that exists is complete
            assert len(final.read_text().splitlines()) == n
    assert any(not (out / f"{name}.jsonl").exists() for name in expected)
    # the next run finishes the job and sweeps what the killed writers left
    res = invoke(str(src), "--to", "jsonl", "--out", str(out), "--quiet")
    assert res.exit_code == 0, res.output
    assert not temps(out)
    for name, n in expected.items():
        lines = (out / f"{name}.jsonl").read_text().splitlines()
        assert len(lines) == n and all(json.loads(ln)["transaction"] for ln in lines)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_workers_of_a_killed_parent_finish_their_file_and_exit(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    expected = {f"big{i}.x12": _many_sets(src / f"big{i}.x12", 1500) for i in range(4)}
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "x12engine.cli", "convert", str(src), "--to", "jsonl", "--out", str(out),
           "--jobs", "2", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not (out.is_dir() and temps(out)):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the run ended before its parent could be killed")
            time.sleep(0.01)
        workers = _children(proc.pid)
        assert workers
        proc.kill()  # the parent only: no chance to stop its workers
        proc.wait(30)
        deadline = time.monotonic() + 60
        while any(Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1][:3]
                  for w in workers):
            assert time.monotonic() < deadline, "orphaned workers did not exit"
            time.sleep(0.1)
    finally:
        for w in workers:
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert not temps(out)  # each worker finished the file it had, then left
    for name, n in expected.items():
        final = out / f"{name}.jsonl"
        if final.exists():
            assert len(final.read_text().splitlines()) == n


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_cleanly_with_a_report(tmp_path, stop):
    src = tmp_path / "src"
    src.mkdir()
    expected = {f"big{i}.x12": _many_sets(src / f"big{i}.x12", 1500) for i in range(3)}
    out, report = tmp_path / "out", tmp_path / "report.json"
    cmd = [sys.executable, "-m", "x12engine.cli", "convert", str(src), "--to", "jsonl", "--out", str(out),
           "--jobs", "2", "--quiet", "--report", str(report)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out.is_dir() and any(p.stat().st_size > 50_000 for p in temps(out))):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the run ended before it could be interrupted: {proc.stderr.read()!r}")
            time.sleep(0.01)
        proc.send_signal(stop)  # the parent only: it stops its workers itself
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert not temps(out)  # the stopped workers removed their temp files
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["interrupted_files"] >= 1
    for r in data["results"]:
        final = Path(r["output"])
        assert final.exists() == (r["status"] == "converted"), r
        if final.exists():
            assert len(final.read_text().splitlines()) == expected[Path(r["source"]).name]


@pytest.mark.skipif(not FORK, reason="the killing profile reaches the workers through fork")
def test_a_worker_killed_by_the_os_fails_only_its_file(tmp_path, monkeypatch):
    src = tmp_path / "src"
    copy_fixtures(src, {"278-request.x12", "278-response-certified.x12", "278-response-pended.x12"})

    def deadly(entry: dict, source: str) -> list[dict]:
        if entry["map"] == "278-request":  # as if the OOM killer struck while converting this file
            os.kill(os.getpid(), signal.SIGKILL)
        return [{"map": entry["map"]}]

    monkeypatch.setattr(batch, "resolve_profile", lambda name: deadly)  # workers fork with it
    report = tmp_path / "r.json"
    res = invoke(str(src), "--to", "jsonl", "--out", str(tmp_path / "out"), "--profile", "flat", "--jobs", "1",
                 "--report", str(report), "--quiet")
    assert res.exit_code == 1
    rows = {Path(r["source"]).name: r for r in json.loads(report.read_text())["results"]}
    assert rows["278-request.x12"]["status"] == "failed"
    assert rows["278-request.x12"]["error"]["type"] == "WorkerDied"
    assert "SIGKILL" in rows["278-request.x12"]["error"]["message"]
    assert not (tmp_path / "out" / "278-request.x12.jsonl").exists()
    for name in ("278-response-certified.x12", "278-response-pended.x12"):
        assert rows[name]["status"] == "converted"
        assert [json.loads(ln) for ln in (tmp_path / "out" / f"{name}.jsonl").read_text().splitlines()] == [
            {"map": "278-response"}]


def test_a_profile_that_does_not_apply_is_reported_with_the_file_it_met(tmp_path):
    src = tmp_path / "src"
    copy_fixtures(src, {"277-response.x12", "271-response.x12"})
    report = tmp_path / "r.json"
    res = invoke(str(src), "--to", "jsonl", "--out", str(tmp_path / "out"), "--profile", "claim-info", "--jobs", "1",
                 "--report", str(report), "--quiet")
    assert res.exit_code == 1
    rows = {Path(r["source"]).name: r for r in json.loads(report.read_text())["results"]}
    assert rows["277-response.x12"]["status"] == "converted"
    error = rows["271-response.x12"]["error"]
    assert "not to map 271" in error["message"]
    assert Path(error["location"]["source"]).name == "271-response.x12" and error["location"]["transaction"] == "0001"
    assert error["where"].startswith(error["location"]["source"])


def test_atomic_open_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "o.json"
    write_atomic(target, b"old")
    with pytest.raises(RuntimeError):
        with atomic_open(target, "w") as fh:
            fh.write("half of the new")
            raise RuntimeError("stop")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["o.json"]


# ----------------------------------------------------------------------------
# re-runs
# ----------------------------------------------------------------------------
def test_rerun_skips_up_to_date_outputs_and_force_redoes_them(tmp_path):
    src = tmp_path / "src"
    files = copy_fixtures(src, {"270-inquiry.x12", "278-request.x12", "835-payment.x12"})
    out = tmp_path / "out"
    args = [str(src), "--to", "json", "--out", str(out), "--quiet", "--report", str(tmp_path / "r.json")]
    assert invoke(*args).exit_code == 0
    stamp = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    time.sleep(0.02)

    assert invoke(*args).exit_code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert (rep["skipped"], rep["converted"]) == (3, 0)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamp

    later = time.time() + 5  # a newer source is converted again, the others stay
    os.utime(files[0], (later, later))
    assert invoke(*args).exit_code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert (rep["skipped"], rep["converted"]) == (2, 1)
    assert [Path(r["source"]).name for r in rep["results"] if r["status"] == "converted"] == [files[0].name]

    assert invoke(*args, "--force").exit_code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert (rep["skipped"], rep["converted"]) == (0, 3)
    assert all(p.stat().st_mtime_ns > stamp[p.name] for p in out.iterdir())


# ----------------------------------------------------------------------------
# round trips through the CLI
# ----------------------------------------------------------------------------
@pytest.mark.skipif(not MODEL_FIXTURES, reason="no fixture is fully covered by maps")
def test_json_to_x12_to_json_is_stable(tmp_path):
    src = tmp_path / "src"
    copy_fixtures(src, {p.name for p in MODEL_FIXTURES})
    assert invoke(str(src), "--to", "json", "--out", str(tmp_path / "j1"), "-q").exit_code == 0
    assert invoke(str(tmp_path / "j1"), "--to", "x12", "--out", str(tmp_path / "x1"), "-q").exit_code == 0
    assert invoke(str(tmp_path / "x1"), "--to", "json", "--out", str(tmp_path / "j2"), "-q").exit_code == 0
    assert invoke(str(tmp_path / "j2"), "--to", "x12", "--out", str(tmp_path / "x2"), "-q").exit_code == 0
    for p in MODEL_FIXTURES:
        first = json.loads((tmp_path / "j1" / f"{p.name}.json").read_text())
        second = json.loads((tmp_path / "j2" / f"{p.name}.json").read_text())
        assert [(t["map"], t["model"], t.get("unmapped")) for t in first["transactions"]] == \
            [(t["map"], t["model"], t.get("unmapped")) for t in second["transactions"]], p.name
        assert x12_text(tmp_path / "x1" / p.name) == x12_text(tmp_path / "x2" / p.name), p.name


def test_tree_json_back_to_x12_gives_the_same_segments(tmp_path):
    src = tmp_path / "src"
    files = copy_fixtures(src)
    assert invoke(str(src), "--to", "json", "--shape", "tree", "--out", str(tmp_path / "t"), "-q").exit_code == 0
    res = invoke(str(tmp_path / "t"), "--to", "x12", "--out", str(tmp_path / "x"), "-q")
    assert res.exit_code == 0, res.output
    for p in files:
        assert [t[0] for t in Tokenizer(tmp_path / "x" / p.name)] == [t[0] for t in Tokenizer(p)], p.name


def test_jsonl_has_one_line_per_transaction_set_or_claim(tmp_path):
    """One line per transaction set; 837 and 835 sets one line per claim (iter_models(by_claim=True))."""
    src = tmp_path / "src"
    files = copy_fixtures(src)
    n_many = _many_sets(src / "many.x12", 7)
    report = tmp_path / "r.json"
    assert invoke(str(src), "--to", "jsonl", "--out", str(tmp_path / "o"), "-q", "--report", str(report)).exit_code == 0
    rows = {Path(r["source"]).name: r for r in json.loads(report.read_text())["results"]}
    for p in files + [src / "many.x12"]:
        lines = (tmp_path / "o" / f"{p.name}.jsonl").read_text().splitlines()
        want = list(x12engine.iter_models(p, name=str(p), by_claim=True))
        assert [json.loads(ln) for ln in lines] == want, p.name
        sets = len(x12engine.to_models(p, name=str(p))["transactions"])
        assert rows[p.name]["transactions"] == sets and rows[p.name]["records"] == len(lines)
        if sum(1 for e in want if e.get("part", {}).get("kind") == "unit") > 1:
            assert len(lines) > sets
        assert rows[p.name]["segments"] == sum(1 for _ in Tokenizer(p))
    assert len((tmp_path / "o" / "many.x12.jsonl").read_text().splitlines()) == n_many


# ----------------------------------------------------------------------------
# selection and usage errors
# ----------------------------------------------------------------------------
def test_include_exclude_and_the_mirrored_tree(tmp_path):
    src = tmp_path / "src"
    copy_fixtures(src / "a", {"270-inquiry.x12", "278-request.x12"})
    copy_fixtures(src / "b" / "c", {"835-payment.x12"})
    (src / "notes.json").write_text("{}")
    (src / ".hidden.x12").write_text("garbage")
    res = invoke(str(src), "--to", "jsonl", "--out", str(tmp_path / "o"), "--include", "*.x12", "--exclude", "a/270*", "-q")
    assert res.exit_code == 0, res.output
    assert sorted(p.relative_to(tmp_path / "o").as_posix() for p in (tmp_path / "o").rglob("*.jsonl")) == [
        "a/278-request.x12.jsonl", "b/c/835-payment.x12.jsonl"]


def test_output_inside_the_source_is_not_read_back(tmp_path):
    copy_fixtures(tmp_path, {"278-request.x12"})
    assert invoke(str(tmp_path), "--to", "json", "--out", str(tmp_path / "out"), "-q").exit_code == 0
    assert invoke(str(tmp_path), "--to", "json", "--out", str(tmp_path / "out"), "-q", "--force",
                  "--include", "*").exit_code == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["278-request.x12.json"]


@pytest.mark.parametrize("extra, message", [
    (["--to", "jsonl", "--profile", "no-such-profile"], "unknown profile 'no-such-profile'"),
    (["--to", "jsonl", "--shape", "tree"], "--shape tree"),
    (["--to", "x12", "--profile", "p"], "does not apply to --to x12"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path, extra, message):
    copy_fixtures(tmp_path / "s", {"278-request.x12"})
    res = invoke(str(tmp_path / "s"), "--out", str(tmp_path / "o"), *extra)
    assert res.exit_code == 2 and message in res.stderr and "Traceback" not in res.output
    assert len(res.stderr.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_two_sources_that_would_write_the_same_output_are_a_usage_error(tmp_path):
    copy_fixtures(tmp_path / "x", {"278-request.x12"})
    copy_fixtures(tmp_path / "y", {"278-request.x12"})
    res = invoke(str(tmp_path / "x"), str(tmp_path / "y"), "--to", "json", "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "would both be written" in res.stderr


def test_help_text_for_every_command():
    runner = CliRunner()
    top = runner.invoke(main, ["--help"])
    assert top.exit_code == 0
    assert {"parse", "build", "schema", "grammars", "convert"} <= set(main.commands)
    for name, cmd in main.commands.items():
        assert name in top.output
        res = runner.invoke(main, [name, "--help"])
        assert res.exit_code == 0 and res.output.startswith("Usage:"), name
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and param.param_type_name == "option":
                    assert opt in res.output, (name, opt)
    text = runner.invoke(main, ["convert", "--help"]).output
    for word in ("--to", "--jobs", "--shape", "--profile", "--include", "--exclude", "--force", "--quiet", "--report",
                 "Exit status"):
        assert word in text


# ----------------------------------------------------------------------------
# profiles and bugs, in process
# ----------------------------------------------------------------------------
def _task(src: Path, out: Path, to: str = "jsonl", profile: str | None = None) -> batch.Task:
    return batch.Task(0, str(src), str(out), src.stat().st_size, to, "model", profile)


def test_a_profile_shapes_the_records(tmp_path):
    with pytest.raises(batch.PlanError, match="claim-info"):
        batch.resolve_profile("no-such-profile")
    src = FIXTURES / "277-not-found.x12"
    want = x12engine.to_profile(src, "claim-info")
    assert want
    res = batch.convert_one(_task(src, tmp_path / "o.jsonl", profile="claim-info"))
    assert res.status == "converted" and res.records == len(want)
    assert [json.loads(ln) for ln in (tmp_path / "o.jsonl").read_text().splitlines()] == want
    res = batch.convert_one(_task(src, tmp_path / "o.json", to="json", profile="claim-info"))
    doc = json.loads((tmp_path / "o.json").read_text())
    assert doc["format"] == "x12engine-profile/1" and doc["profile"] == "claim-info" and doc["records"] == want


def test_an_internal_error_is_reported_without_its_message(tmp_path, monkeypatch):
    def broken(entry: dict, source: str):
        raise KeyError("DOE JANE 1970-01-25")  # a bug whose message would leak data

    monkeypatch.setattr(batch, "resolve_profile", lambda name: broken)
    res = batch.convert_one(_task(FIXTURES / "278-request.x12", tmp_path / "o.jsonl", profile="any"))
    assert res.status == "failed" and res.error["type"] == "KeyError"
    assert "internal error at" in res.error["message"] and "DOE" not in json.dumps(res.to_dict())
    assert not (tmp_path / "o.jsonl").exists() and not temps(tmp_path)


# ----------------------------------------------------------------------------
# never crash: mangled input gives an output or a located error, never an exception
# ----------------------------------------------------------------------------
SAMPLE = (FIXTURES / "278-request.x12").read_bytes() + (FIXTURES / "270-inquiry.x12").read_bytes()


@st.composite
def mangled(draw) -> bytes:
    data = bytearray(SAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["cut", "insert", "delete", "replace"]))
        if kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from([b"~", b"*", b"~ZZ*1~", b"~SE*1*1~", b"\r\n"]))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mangled(), to=st.sampled_from(["json", "jsonl"]))
def test_convert_one_never_raises_on_mangled_input(tmp_path, data, to):
    src = tmp_path / "in.x12"
    src.write_bytes(data)
    out = tmp_path / f"in.x12.{to}"
    out.unlink(missing_ok=True)
    res = batch.convert_one(_task(src, out, to=to))
    assert res.status in ("converted", "failed")
    if res.status == "failed":
        assert res.error["type"] != "KeyError" and "internal error" not in res.error["message"], res.error
        assert res.error["where"].startswith(str(src)) and not out.exists()
    else:
        text = out.read_text()
        n = len(text.splitlines()) if to == "jsonl" else len(json.loads(text)["transactions"])
        assert n == res.transactions
    assert not temps(tmp_path)


# ----------------------------------------------------------------------------
# the progress display
# ----------------------------------------------------------------------------
def test_progress_line_shows_files_segments_rate_and_eta():
    import io

    from x12engine.progress import ProgressLine

    buf = io.StringIO()
    bar = ProgressLine(buf, files=2, total_bytes=1000, interval=0)
    bar.start -= 10  # ten seconds in
    bar.event("progress", (1, 5_000, 250))  # a worker halfway through the first file
    line = bar.line()
    assert line.startswith("0/2 files") and "5,000 segments" in line and "500 seg/s" in line
    assert "25%" in line and "ETA 0:00:30" in line  # 250 of 1000 bytes in 10 s
    bar.event("done", batch.Result(1, "a", "a.json", "failed", bytes=500, segments=6_000))
    line = bar.line()
    assert line.startswith("1/2 files  1 failed") and "6,000 segments" in line and "50%" in line
    bar.close()
    assert buf.getvalue().count("\r") >= 2 and buf.getvalue().endswith("\n")


def test_no_progress_display_when_stderr_is_not_a_terminal(tmp_path):
    copy_fixtures(tmp_path / "s", {"278-request.x12", "835-payment.x12"})
    res = invoke(str(tmp_path / "s"), "--to", "json", "--out", str(tmp_path / "o"))
    assert res.exit_code == 0 and "\r" not in res.stderr and "files " not in res.stderr
    quiet = invoke(str(tmp_path / "s"), "--to", "json", "--out", str(tmp_path / "o"), "--force", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_a_file_that_cannot_be_read_is_a_failure_in_the_report(tmp_path):
    src = tmp_path / "src"
    copy_fixtures(src, {"278-request.x12"})
    (src / "gone.x12").symlink_to(tmp_path / "nowhere.x12")  # listed, but there is nothing to read
    report = tmp_path / "r.json"
    res = invoke(str(src), "--to", "json", "--out", str(tmp_path / "o"), "-q", "--report", str(report))
    assert res.exit_code == 1 and "gone.x12" in res.stderr
    rows = {Path(r["source"]).name: r for r in json.loads(report.read_text())["results"]}
    assert rows["gone.x12"]["status"] == "failed" and rows["gone.x12"]["error"]["type"] == "FileNotFoundError"
    assert rows["278-request.x12"]["status"] == "converted"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
MODEL_DOC = x12engine.to_models(FIXTURES / "278-request.x12")


@st.composite
def model_docs_with_one_field_replaced(draw) -> dict:
    doc = json.loads(json.dumps(MODEL_DOC))
    model = doc["transactions"][0]["model"]
    model[draw(st.sampled_from(sorted(model)))] = draw(JSON_VALUES)
    return doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(JSON_VALUES, model_docs_with_one_field_replaced()))
def test_json_to_x12_never_raises_and_names_the_file(tmp_path, data):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(data))
    out = tmp_path / "in.x12"
    out.unlink(missing_ok=True)
    res = batch.convert_one(_task(src, out, to="x12"))
    if res.status == "failed":
        assert "internal error" not in res.error["message"], res.error
        assert res.error["where"].startswith(str(src)) and not out.exists()
    else:
        assert [t[0][0] for t in Tokenizer(out)][0] == "ISA"
    assert not temps(tmp_path)


def test_json_nested_too_deep_is_a_clear_failure(tmp_path):
    src = tmp_path / "deep.json"
    src.write_text("[" * 200_000 + "]" * 200_000)
    res = batch.convert_one(_task(src, tmp_path / "deep.x12", to="x12"))
    assert res.status == "failed" and res.error["type"] == "RecursionError"
    assert "too deeply nested" in res.error["message"] and not (tmp_path / "deep.x12").exists()


def test_sniffed_kinds_and_the_queue_keep_workers_to_their_kinds(tmp_path):
    assert batch.sniff_kind(FIXTURES / "837p-claims.x12") == "837 005010X222A1"
    assert batch.sniff_kind(FIXTURES / "835-payment.x12") == "835 005010X221A1"
    (tmp_path / "x.json").write_text("{}")
    assert batch.sniff_kind(tmp_path / "x.json") is None
    tasks = [batch.Task(i, f"{k}{i}", "o", size, "jsonl", kind=k)
             for i, (k, size) in enumerate([("A", 50), ("A", 40), ("B", 45), ("B", 10), ("C", 5)])]
    q = batch._Queue(tasks)
    assert len(q) == 5
    first = q.take(set(), set())  # the biggest file
    second = q.take(set(), {"A"})  # a kind no one else has loaded
    assert (first.source, second.source) == ("A0", "B2")
    assert q.take({"A"}, {"B"}).source == "A1"  # its own kind, though B3 is pending
    assert q.take({"A"}, {"B"}).source == "C4"  # nothing of its own left: a kind no one has
    assert q.take({"A", "C"}, {"B"}).source == "B3"  # then whatever is left
    assert not q


def test_json_that_is_not_a_model_or_tree_document_is_named_as_such(tmp_path):
    src = tmp_path / "r.json"
    src.write_text(json.dumps({"format": batch.REPORT_FORMAT, "results": []}))
    res = batch.convert_one(_task(src, tmp_path / "r.x12", to="x12"))
    assert res.status == "failed" and res.error["type"] == "BuildError"
    assert batch.REPORT_FORMAT in res.error["message"] and res.error["where"].startswith(str(src))


def test_jsonl_back_to_x12_through_the_cli(tmp_path):
    """`--to jsonl` output (one line per set, per claim for 837/835) converts back to X12 whose
    models are those lines' models."""
    src = tmp_path / "src"
    copy_fixtures(src, {"837p-claims.x12", "835-payment.x12", "278-request.x12", "271-response.x12"})
    assert invoke(str(src), "--to", "jsonl", "--out", str(tmp_path / "j"), "-q").exit_code == 0
    res = invoke(str(tmp_path / "j"), "--to", "x12", "--out", str(tmp_path / "x"), "-q")
    assert res.exit_code == 0, res.output
    for jl in sorted((tmp_path / "j").glob("*.jsonl")):
        lines = [json.loads(ln) for ln in jl.read_text().splitlines()]
        back = x12engine.to_models(tmp_path / "x" / jl.name[:-6])["transactions"]
        assert [t["model"] for t in back] == [e["model"] for e in lines], jl.name
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "records.jsonl").write_text('{"categoryCode": "A4"}\n')
    res = invoke(str(tmp_path / "bad"), "--to", "x12", "--out", str(tmp_path / "y"), "-q")
    assert res.exit_code == 1 and "not a model entry" in res.output


def test_kind_and_counts_come_from_the_tokenizer_not_fixed_columns(tmp_path):
    """An ISA with its padding trimmed (real files do this) is sniffed, and a tree → X12
    conversion reports the segments it wrote."""
    raw = (FIXTURES / "270-inquiry.x12").read_text()
    head, _, rest = raw.partition("~")
    els = head.split("*")
    trimmed = "*".join(e.strip() if i in (2, 4, 6, 8) else e for i, e in enumerate(els)) + "~" + rest
    assert len(trimmed.partition("~")[0]) < 105
    (tmp_path / "t.x12").write_text(trimmed)
    assert batch.sniff_kind(tmp_path / "t.x12") == "270 005010X279A1"
    tree = tmp_path / "t.json"
    tree.write_text(json.dumps(x12engine.document_to_json(x12engine.parse(trimmed.encode()))))
    res = batch.convert_one(batch.Task(0, str(tree), str(tmp_path / "t.out.x12"), tree.stat().st_size, "x12", "model", None))
    assert res.status == "converted"
    assert res.segments == sum(1 for _ in Tokenizer(tmp_path / "t.out.x12")) == sum(1 for _ in Tokenizer(trimmed.encode()))


def test_json_output_is_compact_unless_an_indent_is_asked_for(tmp_path):
    src = tmp_path / "in"
    copy_fixtures(src, ["835-payment.x12"])
    assert invoke(str(src), "--to", "json", "--out", str(tmp_path / "flat"), "--quiet").exit_code == 0
    assert invoke(str(src), "--to", "json", "--out", str(tmp_path / "pretty"), "--quiet", "--indent", "2").exit_code == 0
    flat = (tmp_path / "flat" / "835-payment.x12.json").read_text()
    pretty = (tmp_path / "pretty" / "835-payment.x12.json").read_text()
    assert flat == json.dumps(json.loads(flat), separators=(",", ":")) + "\n"  # one line, no padding
    assert pretty.startswith('{\n  "') and pretty.count("\n") > 100
    assert json.loads(flat) == json.loads(pretty)
    assert flat.isascii() and pretty.isascii()


def test_parse_indent_zero_prints_one_compact_line():
    src = str(FIXTURES / "837p-claims.x12")
    runner = CliRunner()
    pretty = runner.invoke(main, ["parse", src, "--quiet"])
    flat = runner.invoke(main, ["parse", src, "--quiet", "--indent", "0"])
    assert pretty.exit_code == flat.exit_code == 0
    assert pretty.output.startswith('{\n "') and flat.output.count("\n") == 1
    assert json.loads(flat.output) == json.loads(pretty.output)


# ----------------------------------------------------------------------------
# each finding is written once
# ----------------------------------------------------------------------------
def _stray_and_open(tmp_path: Path) -> Path:
    """An 835 with a stray segment inside its set, and a second set that never ends."""
    text = x12_text(FIXTURES / "835-payment.x12")
    text = text.replace("LX*", "ZZZ*STRAY~LX*", 1)
    st = text.index("ST*")
    se_end = text.index("~", text.index("SE*")) + 1
    text = text[:se_end] + text[st:text.index("SE*")] + text[se_end:]  # ST ... without SE
    path = tmp_path / "stray.x12"
    path.write_text(text, encoding="utf-8")
    return path


def _codes(findings: list[dict]) -> list[str]:
    return sorted(f["code"] for f in findings if f["severity"] == "error")


def test_a_set_finding_is_listed_under_its_set_and_a_file_finding_at_the_top(tmp_path):
    doc = x12engine.to_models(_stray_and_open(tmp_path))
    sets = [f for t in doc["transactions"] for f in t["findings"]]
    assert "unexpected_segment" in _codes(sets)
    assert "unexpected_segment" not in _codes(doc["findings"])
    assert "missing_se" in _codes(doc["findings"])  # no set entry carries it
    every = {(f["code"], f.get("segment_index")) for f in doc["findings"] + sets}
    parsed = x12engine.parse(_stray_and_open(tmp_path))
    assert {(f.code, f.location.segment_index) for f in parsed.findings} <= every


def test_parse_reports_each_finding_once_and_convert_writes_the_same_document(tmp_path):
    path = _stray_and_open(tmp_path)
    res = CliRunner().invoke(main, ["parse", str(path)], catch_exceptions=False)
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert lines and len(lines) == len(set(lines))
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    assert invoke(str(path), "--to", "json", "--out", str(out), "--quiet", "--report", str(report)).exit_code == 0
    written = json.loads((out / "stray.x12.json").read_text())
    assert written["findings"] == json.loads(res.stdout)["findings"]
    errors = [f for f in written["findings"] + [f for t in written["transactions"] for f in t["findings"]]
              if f["severity"] == "error"]
    assert len(errors) == len(lines)
    counted = json.loads(report.read_text())
    assert sum(r["findings"].get("error", 0) for r in counted["results"]) == len(errors)


def test_a_profile_document_lists_every_finding_the_same_through_parse_and_convert(tmp_path):
    text = x12_text(FIXTURES / "277-response.x12").replace("\nTRN*", "\nZZZ*STRAY~\nTRN*", 1)
    path = tmp_path / "stray.277"
    path.write_text(text, encoding="utf-8")
    parsed = CliRunner().invoke(main, ["parse", str(path), "--profile", "claim-info", "--quiet"])
    assert invoke(str(path), "--to", "json", "--profile", "claim-info", "--out", str(tmp_path / "o"), "--quiet").exit_code == 0
    converted = json.loads((tmp_path / "o" / "stray.277.json").read_text())
    assert converted["findings"] == json.loads(parsed.stdout)["findings"]
    assert "unexpected_segment" in _codes(converted["findings"])  # records carry no findings: the document lists them
