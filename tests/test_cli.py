from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from x12engine import Tokenizer
from x12engine.cli import main

from conftest import FIXTURES


@pytest.fixture()
def runner():
    return CliRunner()


def test_help_for_every_command(runner):
    res = runner.invoke(main, ["--help"])
    assert res.exit_code == 0
    for name in main.commands:
        sub = runner.invoke(main, [name, "--help"])
        assert sub.exit_code == 0 and "Usage:" in sub.output, name


def test_parse_then_build_gives_the_same_segments(runner, tmp_path):
    src = FIXTURES / "837p-claims.x12"
    tree = tmp_path / "t.json"
    res = runner.invoke(main, ["parse", str(src), "--shape", "tree", "--out", str(tree)])
    assert res.exit_code == 0, res.output
    data = json.loads(tree.read_text())
    assert data["interchanges"][0]["groups"][0]["transactions"][0]["guide"] == "005010X222A1"
    out = tmp_path / "out.x12"
    res = runner.invoke(main, ["build", str(tree), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert [t[0] for t in Tokenizer(out)] == [t[0] for t in Tokenizer(src)]


def test_build_with_other_delimiters(runner, tmp_path):
    tree = tmp_path / "t.json"
    runner.invoke(main, ["parse", str(FIXTURES / "270-inquiry.x12"), "--shape", "tree", "--out", str(tree)])
    out = tmp_path / "o.x12"
    res = runner.invoke(main, ["build", str(tree), "--element", "|", "--segment", "\\n", "--out", str(out)])
    assert res.exit_code == 0, res.output
    tz = Tokenizer(out)
    segs = list(tz)
    assert tz.delimiters.element == "|" and tz.delimiters.segment == "\n"
    assert len(segs) == len(list(Tokenizer(FIXTURES / "270-inquiry.x12")))


def test_several_files_into_a_directory(runner, tmp_path):
    files = sorted(str(p) for p in FIXTURES.glob("*.x12"))
    res = runner.invoke(main, ["parse", *files, "--out-dir", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "out").glob("*.json"))) == len(files)


def test_bad_input_is_one_line_and_exit_2(runner, tmp_path):
    bad = tmp_path / "bad.x12"
    bad.write_bytes(b"\x00\x01 definitely not edi")
    res = runner.invoke(main, ["parse", str(bad)])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("x12: error:") and "no ISA" in lines[0]
    assert "Traceback" not in res.output


def test_bad_tree_json_is_exit_2(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "x12engine-tree/1", "nope": 1}')
    res = runner.invoke(main, ["build", str(bad)])
    assert res.exit_code == 2 and "not an x12engine tree" in res.output


def test_json_that_fits_no_model_names_the_field(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"nope": 1}')
    res = runner.invoke(main, ["build", str(bad)])
    assert res.exit_code == 2 and "nope" in res.output and "Traceback" not in res.output


def test_one_bad_file_does_not_stop_the_others(runner, tmp_path):
    bad = tmp_path / "bad.x12"
    bad.write_text("garbage")
    res = runner.invoke(main, ["parse", str(FIXTURES / "270-inquiry.x12"), str(bad), "--out-dir", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert (tmp_path / "o" / "270-inquiry.x12.json").is_file()


def test_strict_exits_1_on_unplaced_segments(runner, tmp_path):
    text = (FIXTURES / "270-inquiry.x12").read_text().replace("~", "~ZZZ*1~", 5)
    f = tmp_path / "x.x12"
    f.write_text(text)
    res = runner.invoke(main, ["parse", str(f), "--strict", "--quiet"])
    assert res.exit_code == 1


def test_grammars_command_reports_a_broken_file_with_its_line(runner, tmp_path):
    ok = runner.invoke(main, ["grammars"])
    assert ok.exit_code == 0 and "837 005010X222A1" in ok.output
    bad = tmp_path / "bad.x12g"
    bad.write_text('transaction 837 "x"\nguide X\nsegment ST @0050 R 1\nsegment QQQ @0100 R 1\n')
    res = runner.invoke(main, ["grammars", str(bad)])
    assert res.exit_code == 1 and "QQQ is not in the dictionary" in res.output
