"""Compact JSON text of models, documents and JSONL records.

On a large remittance, the standard library's C encoder took a fifth of the
whole X12 → JSON conversion; orjson writes the same text about five times
faster. It is used only where its bytes are the standard encoder's compact,
ASCII-only text (``separators=(",", ":")``, ``ensure_ascii=True``): anything it
refuses (strings holding bytes that were not UTF-8, kept as surrogates; integers
beyond 64 bits; keys that are not strings; other types) and any output that is
not pure ASCII, or holds a DEL character, go to the standard encoder, which
escapes exactly as before.
Two differences remain, both in floats. A float below 1e-4 or from 1e16 up is
written ``0.00001`` / ``1e16`` where the standard encoder writes ``1e-05`` /
``1e+16`` (the same value). NaN and infinities, which the standard encoder writes
as ``NaN`` / ``Infinity`` (not JSON), orjson writes as ``null``; models never hold
them, since the number transform refuses a value no float can hold.
Without orjson installed, everything takes the standard encoder.
"""
from __future__ import annotations

import json
from typing import Any

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _orjson = None

_STANDARD = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def standard(data: Any) -> str:
    """The standard library's compact ASCII text (what ``compact`` falls back to)."""
    return _STANDARD(data)


def compact(data: Any) -> str:
    """``data`` as one line of compact, ASCII-only JSON."""
    if _orjson is not None:
        try:
            out = _orjson.dumps(data)
        except TypeError:  # orjson.JSONEncodeError: what it cannot write as the standard encoder would
            pass
        else:
            if out.isascii() and b"\x7f" not in out:  # the standard encoder escapes DEL as \u007f
                return out.decode("ascii")
    return _STANDARD(data)
