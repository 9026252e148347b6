"""Place every segment of X12 files with one grammar and list what does not fit.

    python tools/check_grammar.py grammars/837p.x12g FILE.x12 [FILE...] [--tree]

Sets whose ST01 is the grammar's are read with it whatever their version says.
Exit status 1 when any segment could not be placed. For grammar authors; users
run `x12 parse --strict`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from x12engine import X12Error, parse  # noqa: E402
from x12engine.tree import Loop  # noqa: E402


def _outline(loop: Loop, depth: int = 0) -> list[str]:
    out = []
    for c in loop.children:
        if type(c) is Loop:
            out.append("  " * depth + c.id)
            out.extend(_outline(c, depth + 1))
    return out


def check(grammar: Path, files: list[Path], show_tree: bool = False) -> int:
    bad = 0
    for f in files:
        try:
            doc = parse(f, guide=grammar)
        except X12Error as exc:
            print(f"{f}: {exc}")
            bad += 1
            continue
        sets = [t for _, _, t in doc.transactions() if t.guide is not None and t.set_id == doc_st01(grammar)]
        for t in sets:
            for finding in t.findings:
                print(f"  {finding}")
                bad += 1
            if show_tree:
                print("\n".join("  " + line for line in _outline(t.body)))
        print(f"{f}: {len(sets)} transaction set(s) read with {grammar.name}")
    print(f"{bad} segment(s) not placed")
    return 1 if bad else 0


def doc_st01(grammar: Path) -> str:
    from x12engine.registry import entry_for

    return entry_for(grammar).transaction


if __name__ == "__main__":
    args = sys.argv[1:]
    tree = "--tree" in args
    args = [a for a in args if a != "--tree"]
    if len(args) < 2:
        print(__doc__)
        raise SystemExit(2)
    raise SystemExit(check(Path(args[0]), [Path(a) for a in args[1:]], tree))
