"""The disk cache makes loading faster, never different: a changed text misses it,
a damaged entry is derived again, and `off` turns it off."""
from __future__ import annotations


import pytest

from x12engine import diskcache
from x12engine.grammar import load_guide, parse_file
from x12engine.resources import grammars_dir


@pytest.fixture
def cache_in(tmp_path, monkeypatch):
    monkeypatch.setenv("X12ENGINE_CACHE_DIR", str(tmp_path / "c"))
    diskcache.cache_dir.cache_clear()
    yield tmp_path / "c"
    diskcache.cache_dir.cache_clear()


def test_hit_miss_and_damage(cache_in):
    calls = []

    def derive(v):
        calls.append(v)
        return {"value": v}

    assert diskcache.cached("t", "text-a", b"s", lambda: derive(1)) == {"value": 1}
    assert diskcache.cached("t", "text-a", b"s", lambda: derive(2)) == {"value": 1}  # hit
    assert diskcache.cached("t", "text-b", b"s", lambda: derive(3)) == {"value": 3}  # other text
    assert diskcache.cached("t", "text-a", b"other code", lambda: derive(4)) == {"value": 4}  # other code
    assert calls == [1, 3, 4]
    for f in cache_in.iterdir():
        f.write_bytes(b"\x80garbage")
    assert diskcache.cached("t", "text-a", b"s", lambda: derive(5)) == {"value": 5}
    assert diskcache.cached("t", "text-a", b"s", lambda: derive(6)) == {"value": 5}  # rewritten


def test_off_and_unwritable(tmp_path, monkeypatch):
    monkeypatch.setenv("X12ENGINE_CACHE_DIR", "off")
    diskcache.cache_dir.cache_clear()
    try:
        assert diskcache.cache_dir() is None
        n = []
        diskcache.cached("t", "x", b"", lambda: n.append(1))
        diskcache.cached("t", "x", b"", lambda: n.append(1))
        assert n == [1, 1]
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        monkeypatch.setenv("X12ENGINE_CACHE_DIR", str(blocker / "sub"))
        diskcache.cache_dir.cache_clear()
        assert diskcache.cached("t", "x", b"", lambda: 7) == 7
    finally:
        diskcache.cache_dir.cache_clear()


def test_cached_guide_equals_parsed_guide(cache_in, tmp_path):
    src = grammars_dir() / "270.x12g"
    first = parse_file(src)  # parsed, stored
    again = parse_file(src)  # from the cache
    assert repr(first) == repr(again) and len(first) > 5
    load_guide(src)
    before = len(list(cache_in.iterdir()))
    edited = tmp_path / "270.x12g"
    edited.write_text(src.read_text() + "\n# edited\n")
    assert load_guide(edited).transaction == "270"
    assert len(list(cache_in.iterdir())) == before + 1  # the edited text is an entry of its own


def test_generated_map_code_is_compiled_once_then_loaded(cache_in, monkeypatch):
    """mapgen's compiled lists come back from the cache as the same code, not compiled again."""
    import builtins

    from x12engine import mapgen

    text = "def run(R, loop, out, scope):\n    out['x'] = R\n    return None\n"
    first = mapgen._code(text, "<map list test>")
    compiled = []
    real = builtins.compile
    monkeypatch.setattr(mapgen, "compile", lambda *a, **k: compiled.append(a) or real(*a, **k), raising=False)
    again = mapgen._code(text, "<map list test>")
    assert compiled == [] and again == first  # loaded, equal code object
    ns: dict = {}
    exec(again, ns)
    out: dict = {}
    ns["run"](7, None, out, None)
    assert out == {"x": 7}
    other = mapgen._code(text.replace("'x'", "'y'"), "<map list test>")
    assert len(compiled) == 1 and other != first  # another text is compiled
    for f in cache_in.iterdir():
        f.write_bytes(b"\x80garbage")
    assert mapgen._code(text, "<map list test>") == first  # a damaged entry: compiled afresh
