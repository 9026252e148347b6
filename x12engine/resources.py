"""Locate the data directories (grammars/, maps/) in a checkout or an installed wheel.

The repository keeps grammars and maps at its top level so they read as
first-class artefacts; the wheel carries them inside the package.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"x12engine data directory {name!r} not found next to {_PKG}")


def grammars_dir() -> Path:
    return data_dir("grammars")


def maps_dir() -> Path:
    return data_dir("maps")
