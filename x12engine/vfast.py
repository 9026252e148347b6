"""One segment position's element checks as straight-line Python, generated once per position.

:meth:`.velements.SegmentCheck.check` is a loop that, for every element of
every segment, unpacks the element's compiled entry and dispatches on its
kind. With 100,000 segments that loop is a third of a validation. Here the
same entries are turned into the source of one function per guide position
(the element's kind, length bounds, code set and presence rules are fixed
when it is generated, so they become constants and branches that are never
taken disappear), compiled once, and kept with the check.

The generated function returns exactly what ``SegmentCheck.check`` returns,
in the same order: it recognises the same clean values inline and hands
everything else to the same slow paths (``SegmentCheck._slow``,
``_missing``, the syntax-rule checker), so problems are built by one piece of
code only. ``tests/test_vfast.py`` holds the two to each other on every
position of every bundled guide with generated segments.
"""
from __future__ import annotations

from typing import Callable

from .velements import (
    _K_CODES, _K_COMP, _K_DATE, _K_NUM, _K_PERIOD, _K_REAL, _K_TEXT, _R_C, _R_E, _R_L, _R_P, _R_R,
    IK4_TOO_MANY_ELEMENTS, ElementProblem, SegmentCheck, _add, _date_ok, _rules,
)

Check = Callable[[list, str, "str | None"], "list[ElementProblem] | None"]

_FAST: dict[int, tuple[SegmentCheck, Check]] = {}


def fast_check(chk: SegmentCheck) -> Check:
    """The generated equivalent of ``chk.check`` (made on first use, then kept)."""
    hit = _FAST.get(id(chk))
    if hit is None or hit[0] is not chk:
        hit = _FAST[id(chk)] = (chk, _generate(chk))
    return hit[1]


def _test(kind: int, mn: int, mx: int, extra, const: str, p: int) -> tuple[list[str], str] | None:
    """(statements before, condition) under which a filled value of this kind is clean, or None
    when no value of it is recognised inline."""
    if kind == _K_CODES:
        return [], f"v in {const}"
    length = f"len(v) <= {mx}" if mn <= 1 else f"{mn} <= len(v) <= {mx}"
    if kind == _K_TEXT:
        return [], f"{length} and comp_sep not in v and rsep not in v and v.isprintable()"
    if kind == _K_NUM:
        return [], f"v.isdigit() and v.isascii() and {length}"
    if kind == _K_REAL:
        d_length = f"len(d) <= {mx}" if mn <= 0 else f"{mn} <= len(d) <= {mx}"
        return ['d = v.replace(".", "", 1) if "." in v else v'], f"d.isdigit() and d.isascii() and {d_length}"
    if kind == _K_DATE:
        return [], f"date_ok(v, {mn}, {mx})"
    if kind == _K_PERIOD:
        return [], f'len(v) == 8 and {extra} < last and els[{extra}] == "D8" and date_ok(v)'
    if kind == _K_COMP:
        return [], f"{const}(v, comp_sep, rsep)"
    return None


def _composite(name: str, spec: tuple, env: dict) -> list[str]:
    """Source of ``name(v, comp_sep, rsep)``: whether a composite's components are all clean
    (:func:`.velements._comp_clean` unrolled over its components)."""
    comps, ncomp, min_parts, rules = spec
    body = [f"def {name}(v, comp_sep, rsep):", "    parts = v.split(comp_sep)", "    k = len(parts)",
            f"    if k > {ncomp} or k < {min_parts}:", "        return False"]
    for j, (required, kind, mn, mx, extra) in enumerate(comps):
        const = f"{name}_{j}"
        if kind == _K_CODES:
            env[const] = frozenset(c for c in extra if mn <= len(c) <= mx)
        length = f"len(pv) <= {mx}" if mn <= 1 else f"{mn} <= len(pv) <= {mx}"
        if kind == _K_CODES:
            pre, cond = [], f"pv in {const}"
        elif kind == _K_TEXT:
            pre, cond = [], f"{length} and rsep not in pv and pv.isprintable()"
        elif kind == _K_NUM:
            pre, cond = [], f"pv.isdigit() and pv.isascii() and {length}"
        elif kind == _K_REAL:
            d_length = f"len(d) <= {mx}" if mn <= 0 else f"{mn} <= len(d) <= {mx}"
            pre, cond = ['d = pv.replace(".", "", 1) if "." in pv else pv'], f"d.isdigit() and d.isascii() and {d_length}"
        else:
            pre, cond = [], "False"
        # components up to the last required one are there (k >= min_parts); later ones may not be
        body.append(f"    h{j + 1} = k > {j} and parts[{j}] != ''" if j >= min_parts else f"    h{j + 1} = parts[{j}] != ''")
        body.append(f"    if h{j + 1}:")
        body.append(f"        pv = parts[{j}]")
        body += [f"        {x}" for x in pre]
        body.append(f"        if not ({cond}):")
        body.append("            return False")
        if required:
            body.append("    else:")
            body.append("        return False")
    if rules is not None:
        for p in sorted({p for _, allm, _, _ in rules for p in _bits(allm)} - set(range(1, len(comps) + 1))):
            body.append(f"    h{p} = False")  # a rule naming a component the composite does not have
        conds = [_rule_expr(letter, _positions(allm, first)) for letter, allm, first, _ in rules]
        body.append(f"    return ({') and ('.join(conds)})")
    else:
        body.append("    return True")
    return body


def _bits(mask: int) -> list[int]:
    return [p for p in range(mask.bit_length()) if mask >> p & 1]


def _positions(allm: int, first: int) -> list[int]:
    """The positions of a rule's bit mask, its first position first."""
    fp = first.bit_length() - 1
    return [fp] + [p for p in _bits(allm) if p != fp]


def _rule_expr(letter: int, positions: list[int]) -> str:
    """When one syntax rule holds, over the presence flags ``h<position>``."""
    first, rest = positions[0], [p for p in positions[1:] if p != positions[0]]
    flags = [f"h{p}" for p in positions]
    if letter == _R_P:
        return f"({' and '.join(flags)}) or not ({' or '.join(flags)})"
    if letter == _R_R:
        return f"({' or '.join(flags)})"
    if letter == _R_E:
        return f"({' + '.join(flags)}) <= 1"
    others = [f"h{p}" for p in rest]
    if letter == _R_C:
        return f"not h{first} or ({' and '.join(others) or 'True'})"
    assert letter == _R_L
    return f"not h{first} or ({' or '.join(others) or 'False'})"


def _generate(chk: SegmentCheck) -> Check:
    env: dict = {"add": _add, "slow": chk._slow, "missing": chk._missing, "date_ok": _date_ok,
                 "rules": _rules, "RULES": chk.rules, "EP": ElementProblem, "TOO_MANY": IK4_TOO_MANY_ELEMENTS}
    total = chk.n
    helpers: list[str] = []
    body = [
        "def check(els, comp_sep, rep_sep):",
        "    out = None",
        "    last = len(els)",
        "    n = last",
        f"    if n > {total + 1}:",
        f"        out = [EP({total + 1}, None, None, None, TOO_MANY, f'{{els[0]}} has {{last - 1}} elements; the segment has {total}', None, False)]",
        f"        n = {total + 1}",
        '    rsep = rep_sep or "\\x00"',
    ]
    for i, (required, kind, mn, mx, extra) in enumerate(chk.fast):
        p = i + 1
        const = f"X{p}"
        if kind == _K_CODES:
            env[const] = frozenset(c for c in extra if mn <= len(c) <= mx)
        elif kind == _K_COMP:
            helpers += _composite(const, extra, env)
        test = _test(kind, mn, mx, extra, const, p)
        body.append(f"    if n > {p}:")
        body.append(f"        v = els[{p}]")
        body.append("        if v:")
        if test is None:
            body.append(f"            out = slow({i}, v, els, comp_sep, rep_sep, out)")
        else:
            pre, cond = test
            body += [f"            {s}" for s in pre]
            body.append(f"            if not ({cond}):")
            body.append(f"                out = slow({i}, v, els, comp_sep, rep_sep, out)")
        if required:
            body.append("        else:")
            body.append(f"            out = add(out, missing({i}))")
            body.append("    else:")
            body.append(f"        out = add(out, missing({i}))")
    if chk.rule_fast is not None:
        positions, checks = chk.rule_fast
        for pos, _ in positions:
            body.append(f"    h{pos} = {pos} < last and els[{pos}] != ''")
        conds = [_rule_expr(letter, _positions(allm, first)) for letter, allm, first, _ in checks]
        body.append(f"    if not (({') and ('.join(conds)})):")
        body.append("        out = rules(RULES, els, els[0], '', out)")
    body.append("    return out")
    exec(compile("\n".join(helpers + body), f"<element checks {chk.elems[0].ref[:-2] if chk.elems else 'empty'}>", "exec"), env)
    return env["check"]
