"""The map language: errors name the map file and line; the checker catches maps that do not fit their guide."""
from __future__ import annotations

import pytest

from x12engine.mapcatalog import compile_map, load_map, map_names, maps_of
from x12engine.maplang import Binding, Block, MapError, When
from x12engine.models import model_for
from x12engine.transforms import CodeTransform

HEADER = 'map t-test "test"\ntransaction 278\nguide 005010X217\n# GS01 comes from the grammar\nmodel TestModel\nset BHT02 = 13\n'


def compile_text(tmp_path, body: str):
    path = tmp_path / "t.x12m"
    path.write_text(HEADER + body)
    return compile_map(path)


def test_bundled_maps_compile_against_their_declared_guide():
    assert {"278-request", "278-response"} <= set(map_names())
    for name in map_names():
        c = load_map(name)  # raises MapError if the map does not fit its guide
        assert c.guide.transaction == c.map.transaction and c.map.guide in c.entry.versions
    assert load_map("278-request").select_value == "13" and load_map("278-response").select_value == "11"


def test_the_catalogue_reads_headers_without_compiling():
    # the ST01 a map declares comes from its header line, the same as the compiled map's
    for name in map_names():
        assert name in maps_of(load_map(name).map.transaction)
    assert set(maps_of("278")) == {"278-request", "278-response"} and maps_of("999") == ()
    assert not {"27x-common", "837-common", "x12-common"} & set(map_names())  # fragment libraries are no maps


def _code_bindings(body):
    for stmt in body:
        if isinstance(stmt, Binding) and isinstance(stmt.fn, CodeTransform):
            yield stmt
        elif isinstance(stmt, Block):
            yield from _code_bindings(stmt.body)
        elif isinstance(stmt, When):
            yield from _code_bindings(stmt.then)
            yield from _code_bindings(stmt.otherwise)


def _enums_in_schema(node, defs, found):
    if isinstance(node, dict):
        if "$ref" in node:
            _enums_in_schema(defs[node["$ref"].split("/")[-1]], defs, found)
        if isinstance(node.get("enum"), list):  # (UnknownCode has a property named "enum")
            found.add(tuple(node["enum"]))
        for v in node.values():
            if isinstance(v, (dict, list)):
                _enums_in_schema(v, defs, found)
    elif isinstance(node, list):
        for v in node:
            _enums_in_schema(v, defs, found)


@pytest.mark.parametrize("name", map_names())
def test_every_model_enum_is_exactly_a_code_table(name):
    """The issue's rule: no enum value without a table row, no row without an enum value."""
    c = load_map(name)
    tables = {b.fn.table.name: b.fn.table for b in _code_bindings(c.map.body)}
    assert tables, "the map translates no code at all"
    schema = model_for(name).model_json_schema()
    found: set[tuple] = set()
    _enums_in_schema(schema, schema.get("$defs", {}), found)
    expected = {t.enums() for t in tables.values() if t.enums()}
    assert found == expected


def test_a_good_map_compiles(tmp_path):
    c = compile_text(tmp_path, "object payer at 2000A/2010A {\n    name = NM103 [NM102=2]\n}\n")
    assert c.select_value == "13" and c.guide.name.endswith("Request for Review")


@pytest.mark.parametrize("body, line, words", [
    ("x = NM103 [NM102=2\n", 7, "cannot parse"),
    ("object p at 2000A/2099Z {\n    x = NM103\n}\n", 7, "loop 2099Z is not inside loop 2000A"),
    ("object p at 2000A/2010A {\n    x = SV101\n}\n", 8, "segment SV1 is not in loop 2010A"),
    ("object p at 2000A/2010A {\n    x = NM140\n}\n", 8, "NM1 has 12 elements"),
    ("object p at 2000A/2010A {\n    x = NM103 as code no_such_table\n}\n", 8, "no_such_table"),
    ("object p at 2000A/2010A {\n    x = NM103 as sparkle\n}\n", 8, "unknown transform `sparkle`"),
    ("object p at 2000A/2010A {\n    x = NM103\n    x = NM104\n}\n", 9, "`x` is already bound on line 8"),
    ("use nothing_here\n", 7, "no fragment of that name"),
    ("object p at 2000A/2010A {\n    x = -02\n}\n", 8, "only valid inside"),
    ('object p at 2000A/2010A {\n    x = NM103 [NM102=""]\n}\n', 8, "a condition needs a code"),
])
def test_errors_name_the_file_and_line(tmp_path, body, line, words):
    with pytest.raises(MapError) as info:
        compile_text(tmp_path, body)
    assert f"t.x12m:{line}" in str(info.value) and words in str(info.value)


def test_missing_header_is_named(tmp_path):
    path = tmp_path / "t.x12m"
    path.write_text('map t-test "x"\ntransaction 278\n')
    with pytest.raises(MapError, match="missing `guide` declaration"):
        compile_map(path)


def test_included_files_bring_the_fragments_they_include(tmp_path):
    head = HEADER.replace("set BHT02 = 13\n", 'include "outer.x12m"\nset BHT02 = 13\n')
    body = "object payer at 2000A/2010A {\n    use payer_name\n}\n"
    (tmp_path / "t.x12m").write_text(head + body)
    (tmp_path / "inner.x12m").write_text("fragment payer_name {\n    name = NM103 [NM102=2]\n}\n")
    (tmp_path / "outer.x12m").write_text('include "inner.x12m"\n')
    c = compile_map(tmp_path / "t.x12m")  # the fragment comes from a file the included file includes
    assert "NM103" in repr(c.map.body)
    (tmp_path / "inner.x12m").write_text('include "outer.x12m"\nfragment payer_name {\n    name = NM103\n}\n')
    with pytest.raises(MapError, match="include cycle: .*outer.x12m -> inner.x12m -> outer.x12m"):
        compile_map(tmp_path / "t.x12m")
