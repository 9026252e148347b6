"""The collector pause: state restored, and what grew meanwhile is not rescanned as young."""
from __future__ import annotations

import gc

from x12engine.gcpause import paused_gc


def test_collection_resumes_only_if_it_was_on():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_grew_during_the_pause_is_not_left_young():
    gc.collect()
    with paused_gc():
        grown = [{"n": [i]} for i in range(50_000)]
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    # handed to the oldest generation unscanned (else a young collection scans them all
    # and they land in the middle one)
    assert id(grown) in oldest and id(grown[-1]) in oldest
    assert grown[-1]["n"] == [49_999]


def test_cycles_made_during_the_pause_are_still_collected():
    class Node:
        pass

    with paused_gc():
        a, b = Node(), Node()
        a.other, b.other = b, a
    del a, b
    assert gc.collect() >= 2


def test_streaming_a_large_set_draws_no_collections_of_its_tree():
    """Reader.transactions() places segments with the collector paused: the loops and
    indexes it adds hold no cycle, and with collection on, a 50k-segment set drew a
    dozen middle and one full collection, each rescanning every segment read so far."""
    import collections

    from conftest import FIXTURES, grow
    from x12engine.parser import Reader

    text = grow(FIXTURES / "837p-claims.x12", 50_000).encode()
    list(Reader(text).transactions())  # grammar and tables load outside the count
    seen: collections.Counter = collections.Counter()

    def count(phase, info):
        if phase == "start":
            seen[info["generation"]] += 1

    gc.collect()
    gc.callbacks.append(count)
    try:
        for _ in Reader(text).transactions():
            pass
    finally:
        gc.callbacks.remove(count)
    assert seen[2] == 0 and seen[1] <= 2, dict(seen)
