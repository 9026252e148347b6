"""grammars/envelope.x12g: the interchange control structure as a grammar file."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from x12engine import GrammarError, Tokenizer, parse
from x12engine.cli import main
from x12engine.grammar import (
    MANY, Envelope, LoopNode, SegmentNode, guide_files, is_envelope_file, load_envelope, load_guide,
)
from x12engine.parser import control_segments
from x12engine.registry import candidates, entries, entry_for
from x12engine.resources import grammars_dir
from x12engine.tokenizer import _ISA_SPAN

from conftest import FIXTURES, isa

ENVELOPE = grammars_dir() / "envelope.x12g"

# the functional group each transaction set travels in (GS01 for ST01)
GS01_FOR = {"270": "HS", "271": "HB", "276": "HR", "277": "HN", "278": "HI", "835": "HP", "837": "HC", "999": "FA",
            "834": "BE", "820": "RA"}


@pytest.fixture(scope="module")
def env() -> Envelope:
    return load_envelope()


def test_the_envelope_file_loads(env):
    assert env.version == "00501"
    assert env.source_file == "envelope.x12g"
    assert load_envelope() is env  # loaded once per process
    again = load_envelope(ENVELOPE)
    assert [s.id for s in again.segments()] == [s.id for s in env.segments()]


def test_isa_specs_match_what_the_tokenizer_requires(env):
    isa_node = env.segment("ISA")
    refs = [f"ISA{n:02d}" for n in range(1, 17)]
    assert sorted(isa_node.specs) == refs
    assert len(isa_node.definition.members) == 16
    for ref in refs:
        spec = isa_node.specs[ref]
        assert spec.usage == "R", ref
        assert spec.data_element.min == spec.data_element.max, f"{ref} is not fixed width"
    # "ISA" + 16 separators + the 16 fixed widths + the terminator
    width = 3 + 16 + sum(isa_node.specs[r].data_element.max for r in refs) + 1
    assert width == _ISA_SPAN == 106
    # the delimiters the tokenizer takes from the ISA are one character wide
    assert isa_node.specs["ISA11"].data_element.max == 1
    assert isa_node.specs["ISA16"].data_element.max == 1


def test_a_conforming_isa_fits_the_specs(env):
    tok = next(iter(Tokenizer((isa() + "IEA*0*000000001~").encode())))
    specs = env.segment("ISA").specs
    assert len(tok[0]) == 17
    for n, value in enumerate(tok[0][1:], 1):
        spec = specs[f"ISA{n:02d}"]
        assert len(value) == spec.data_element.max, spec.ref
        if spec.codes is not None:
            assert value in spec.codes, spec.ref


def test_fixed_codes(env):
    assert env.spec("ISA01").codes == {"00", "03"}
    assert env.spec("ISA03").codes == {"00", "01"}
    assert env.spec("ISA05").codes == env.spec("ISA07").codes >= {"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"}
    assert env.spec("ISA12").codes == {"00501"}
    assert env.spec("ISA14").codes == {"0", "1"}
    assert env.spec("ISA15").codes == {"I", "P", "T"}
    assert env.spec("ISA11").codes is None and env.spec("ISA16").codes is None  # delimiters, not codes
    assert env.spec("GS07").codes == {"X"}
    assert env.spec("TA104").codes == {"A", "E", "R"}


def test_structure_nests_gs_inside_isa_and_st_inside_gs(env):
    def only_loop(loop: LoopNode) -> LoopNode:
        inner = [c for c in loop.children if isinstance(c, LoopNode)]
        assert len(inner) == 1
        return inner[0]

    def own(loop: LoopNode) -> list[str]:
        return [c.id for c in loop.children if isinstance(c, SegmentNode)]

    isa_loop = env.root
    gs_loop = only_loop(isa_loop)
    st_loop = only_loop(gs_loop)
    assert (isa_loop.id, gs_loop.id, st_loop.id) == ("ISA_LOOP", "GS_LOOP", "ST_LOOP")
    assert own(isa_loop) == ["ISA", "TA1", "IEA"]
    assert own(gs_loop) == ["GS", "GE"]
    assert own(st_loop) == ["ST", "SE"]
    assert not [c for c in st_loop.children if isinstance(c, LoopNode)]  # the body is the guide's
    assert gs_loop.parent is isa_loop and st_loop.parent is gs_loop
    # order: ISA, TA1s, groups, IEA; repeats
    assert [c.id for c in isa_loop.children] == ["ISA", "TA1", "GS_LOOP", "IEA"]
    assert env.segment("TA1").usage == "S" and env.segment("TA1").max_use == MANY
    assert isa_loop.repeat == gs_loop.repeat == st_loop.repeat == MANY
    assert gs_loop.usage == "S" and st_loop.usage == "R"
    assert [lp.id for lp in env.loops()] == ["ISA_LOOP", "GS_LOOP", "ST_LOOP"]


def test_the_parser_closes_sets_on_the_envelope_control_segments(env):
    assert env.control_segments() == control_segments() == {"ISA", "IEA", "GS", "GE", "ST", "SE"}


def test_codes_cover_every_guide_and_fixture(env):
    st01, gs01, gs08 = env.spec("ST01").codes, env.spec("GS01").codes, env.spec("GS08").codes
    assert set(GS01_FOR.values()) <= gs01
    for e in entries():
        assert e.transaction in st01, e.path.name
        assert e.guide in gs08, e.path.name
    for path in sorted(FIXTURES.glob("*.x12")):
        for _, group, t in parse(path).transactions():
            assert group.header[0][1] == GS01_FOR[t.set_id], path.name
            assert group.header[0][1] in gs01 and group.version in gs08 and t.set_id in st01, path.name


def test_the_registry_never_offers_the_envelope():
    assert is_envelope_file(ENVELOPE)
    assert ENVELOPE not in guide_files()
    assert all(not is_envelope_file(p) for p in guide_files())
    assert all(e.path.name != "envelope.x12g" for e in entries())
    for st01 in ("", "ISA", "GS", "00501"):
        assert candidates(st01, "00501") == ([], False)
    with pytest.raises(GrammarError, match="envelope"):
        entry_for(ENVELOPE)
    with pytest.raises(GrammarError, match="envelope"):
        parse((isa() + "IEA*0*000000001~").encode(), guide=ENVELOPE)


def test_envelope_and_guide_files_are_kept_apart(tmp_path):
    with pytest.raises(GrammarError, match="load_envelope"):
        load_guide(ENVELOPE)
    mixed = tmp_path / "mixed.x12g"
    mixed.write_text(ENVELOPE.read_text().replace("envelope 00501", "transaction 837\nenvelope 00501"))
    with pytest.raises(GrammarError, match="do not belong in an envelope"):
        load_envelope(mixed)


def test_envelope_structure_errors_name_the_file(tmp_path):
    flat = tmp_path / "flat.x12g"
    flat.write_text('envelope 00501\nsegment ISA @0100 R 1\nsegment IEA @0700 R 1\n')
    with pytest.raises(GrammarError, match="one loop") as exc:
        load_envelope(flat)
    assert "flat.x12g" in str(exc.value)
    no_gs = tmp_path / "no_gs.x12g"
    no_gs.write_text('envelope 00501\nloop ISA_LOOP "x" R 1 {\n segment ISA @0100 R 1\n segment IEA @0700 R 1\n}\n')
    with pytest.raises(GrammarError, match="no GS loop") as exc:
        load_envelope(no_gs)
    assert "no_gs.x12g:2" in str(exc.value)
    bad_spec = tmp_path / "bad.x12g"
    bad_spec.write_text(ENVELOPE.read_text().replace("ISA16 R", "ISA17 R"))
    with pytest.raises(GrammarError, match="no element 17"):
        load_envelope(bad_spec)


def test_x12_grammars_checks_the_envelope():
    runner = CliRunner()
    res = runner.invoke(main, ["grammars", str(ENVELOPE)])
    assert res.exit_code == 0, res.output
    assert "envelope 00501" in res.output and "3 loops, 7 segment positions" in res.output
    every = runner.invoke(main, ["grammars"])
    assert every.exit_code == 0, every.output
    assert "envelope.x12g: envelope 00501" in every.output
