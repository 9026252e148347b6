"""A disk cache for what is slow to derive from text and never changes with it:
grammar and map files parsed by lark (seconds for the largest guides, per process).

An entry's key is a hash of the text it was derived from plus the code that
derives it (the caller passes those), so editing a grammar, a map or the engine
simply misses the cache. Anything wrong with the cache (unwritable directory,
a truncated or foreign file) falls back to deriving the value again: the cache
can make loading faster, never different.

``X12ENGINE_CACHE_DIR`` names the directory (default: ``$XDG_CACHE_HOME/x12engine``
or ``~/.cache/x12engine``); ``X12ENGINE_CACHE_DIR=off`` turns the cache off.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from functools import cache
from pathlib import Path
from typing import Any, Callable

from .atomicio import write_atomic

_FORMAT = b"x12engine-cache/1\0"


@cache
def cache_dir() -> Path | None:
    env = os.environ.get("X12ENGINE_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "x12engine"


@cache
def code_hash(*files: str) -> bytes:
    """Hash of the source files whose change must invalidate entries."""
    h = hashlib.sha256()
    for f in files:
        h.update(Path(f).read_bytes())
    return h.digest()


def cached(kind: str, text: str, salt: bytes, derive: Callable[[], Any]) -> Any:
    """``derive()``, or its earlier result for the same kind, text and salt."""
    directory = cache_dir()
    if directory is None:
        return derive()
    key = hashlib.sha256(_FORMAT + kind.encode() + b"\0" + salt + text.encode("utf-8", "surrogateescape")).hexdigest()
    path = directory / f"{kind}-{key[:40]}.pickle"
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # missing, unreadable, truncated or stale format: derive again
        pass
    value = derive()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # a read-only home, a full disk, an unpicklable value: run without the cache
        pass
    return value
