"""The JSON of a conversion does not depend on Python's string-hash seed.

Iterating a set of strings gives a different order per process; a model built
that way differs between two runs on the same file (the 271 summary did).
"""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import FIXTURES

_DUMP = """
import json, sys
from pathlib import Path
from x12engine import to_models
for path in sorted(Path(sys.argv[1]).glob("*.x12")):
    print(path.name, json.dumps(to_models(path), default=str))
"""


def _run(seed: str) -> list[str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    done = subprocess.run([sys.executable, "-c", _DUMP, str(FIXTURES)], env=env, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_models_are_the_same_whatever_the_hash_seed():
    first, second = _run("1"), _run("2")
    assert len(first) == len(list(FIXTURES.glob("*.x12"))) > 20
    differ = [a.split(" ", 1)[0] for a, b in zip(first, second) if a != b]
    assert differ == []
