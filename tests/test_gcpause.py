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
