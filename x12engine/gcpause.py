"""Pausing Python's cyclic garbage collector while a large acyclic structure grows.

Token lists, loop trees and models hold no reference cycles, but while ~100k
young containers are created the collector rescans them again and again (a
fifth to two fifths of the time). Reference counting still frees everything;
collection resumes when the block ends, and only if it was on before.

When it resumes, what was allocated meanwhile would all be young: the next
allocation would scan every one of those objects for cycles they do not have.
``gc.freeze()`` + ``gc.unfreeze()`` moves them to the oldest generation
instead, without a scan (they are looked at in the next full collection, as
any long-lived object is).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
