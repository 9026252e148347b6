"""Place every segment of X12 files with one grammar and list what does not fit.

    python tools/check_grammar.py grammars/837p.x12g FILE.x12 [FILE...]

Only transaction sets whose ST01 is the grammar's are read. Exit status 1 when
any segment could not be placed. For grammar authors; users run `x12 validate`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from x12engine.errors import Location, X12Error  # noqa: E402
from x12engine.grammar import load_guide  # noqa: E402
from x12engine.parser import _Body  # noqa: E402
from x12engine.placement import PlacementTable  # noqa: E402
from x12engine.tokenizer import Tokenizer  # noqa: E402
from x12engine.tree import Loop  # noqa: E402


def _outline(loop: Loop, depth: int = 0, out: list | None = None) -> list:
    out = [] if out is None else out
    for c in loop.children:
        if type(c) is Loop:
            out.append("  " * depth + c.id)
            _outline(c, depth + 1, out)
    return out


def check(grammar: Path, files: list[Path], show_tree: bool = False) -> int:
    table = PlacementTable(load_guide(grammar))
    st01 = table.guide.transaction
    bad = 0
    for f in files:
        tz = Tokenizer(f)
        body = None
        sets = placed = 0
        try:
            for tok in tz:
                sid = tok[0][0]
                if sid == "ST":
                    body = _Body(table, Location(source=str(f)), tz.delimiters.component) if tok[0][1] == st01 else None
                    if body:
                        sets += 1
                        body.feed(tok)
                elif body is not None:
                    body.feed(tok)
                    if sid == "SE":
                        for finding in body.findings:
                            print(f"  {finding}")
                        bad += len(body.findings)
                        placed += 1
                        if show_tree:
                            print("\n".join("  " + line for line in _outline(body.root)))
                        body = None
        except X12Error as exc:
            print(f"{f}: {exc}")
            bad += 1
            continue
        print(f"{f}: {sets} transaction set(s) with ST01={st01}")
    print(f"{bad} segment(s) not placed")
    return 1 if bad else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    tree = "--tree" in args
    args = [a for a in args if a != "--tree"]
    if len(args) < 2:
        print(__doc__)
        raise SystemExit(2)
    raise SystemExit(check(Path(args[0]), [Path(a) for a in args[1:]], tree))
