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

from types import CodeType
from typing import Callable

from .velements import (
    _K_CODES, _K_COMP, _K_DATE, _K_NUM, _K_PERIOD, _K_REAL, _K_TEXT, _R_C, _R_E, _R_L, _R_P, _R_R,
    IK4_TOO_MANY_ELEMENTS, ElementProblem, SegmentCheck, _add, _date_ok, _rules,
)

Check = Callable[[list, str, "str | None"], "list[ElementProblem] | None"]

_FAST: dict[int, tuple[SegmentCheck, Check]] = {}
_CODE: dict[str, CodeType] = {}  # generated source -> its compiled code (constants come in through the namespace)


def fast_check(chk: SegmentCheck) -> Check:
    """The generated equivalent of ``chk.check`` (made on first use, then kept)."""
    hit = _FAST.get(id(chk))
    if hit is None or hit[0] is not chk:
        hit = _FAST[id(chk)] = (chk, _generate(chk))
    return hit[1]


def _clean(kind: int, mn: int, mx: int, v: str, const: str, in_composite: bool = False) -> str | None:
    """The condition under which a filled value ``v`` of this kind is clean, or None when no value of
    it is recognised inline (the same tests as ``SegmentCheck.check`` and ``_comp_clean``)."""
    length = f"len({v}) <= {mx}" if mn <= 1 else f"{mn} <= len({v}) <= {mx}"
    if kind == _K_CODES:
        return f"{v} in {const}"
    if kind == _K_TEXT:
        seps = "rsep not in {v}" if in_composite else "comp_sep not in {v} and rsep not in {v}"
        return f"{length} and {seps.format(v=v)} and {v}.isprintable()"
    if kind == _K_NUM:
        return f"{v}.isdigit() and {v}.isascii() and {length}"
    if kind == _K_REAL:
        d_length = "len(d) <= {mx}" if mn <= 0 else f"{mn} <= len(d) <= {mx}"
        return (f'(d := {v}.replace(".", "", 1) if "." in {v} else {v}).isdigit() and d.isascii() and '
                + d_length.format(mx=mx))
    if in_composite:
        return None
    if kind == _K_DATE:
        return f"date_ok({v}, {mn}, {mx})"
    if kind == _K_COMP:
        return f"{const}({v}, comp_sep, rsep)"
    return None


def _bits(mask: int) -> list[int]:
    return [p for p in range(mask.bit_length()) if mask >> p & 1]


def _positions(allm: int, first: int) -> list[int]:
    """The positions of a rule's bit mask, its first position first."""
    fp = first.bit_length() - 1
    return [fp] + [p for p in _bits(allm) if p != fp]


def _rule_expr(letter: int, positions: list[int]) -> str:
    """When one syntax rule holds, over the presence flags ``h<position>``."""
    first, rest = positions[0], positions[1:]
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


def _presence(rules: tuple, have: int, value: str) -> list[str]:
    """``h<p> = …`` for every position the rules name (``have``: how many positions ``value`` may hold)."""
    out = []
    for p in sorted({p for _, allm, _, _ in rules for p in _bits(allm)}):
        out.append(f"    h{p} = {value.format(p=p)}" if p <= have else f"    h{p} = False")
    return out


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
        cond = _clean(kind, mn, mx, "pv", const, in_composite=True) or "False"
        # components up to the last required one are there (k >= min_parts); later ones may not be
        there = f"(pv := parts[{j}])" if j < min_parts else f"k > {j} and (pv := parts[{j}])"
        if required:
            body.append(f"    if not {there} or not ({cond}):")
        else:
            body.append(f"    if {there} and not ({cond}):")
        body.append("        return False")
    if rules is not None:
        body += _presence(rules, len(comps), "k > {p} - 1 and parts[{p} - 1] != ''")
        body.append(f"    return ({') and ('.join(_rule_expr(letter, _positions(allm, first)) for letter, allm, first, _ in rules)})")
    else:
        body.append("    return True")
    return body


def _generate(chk: SegmentCheck) -> Check:
    env: dict = {"add": _add, "slow": chk._slow, "missing": chk._missing, "date_ok": _date_ok,
                 "rules": _rules, "RULES": chk.rules, "EP": ElementProblem, "TOO_MANY": IK4_TOO_MANY_ELEMENTS}
    total = chk.n
    helpers: list[str] = []
    composites: dict[tuple, str] = {}  # one helper per distinct composite spec (HI01 … HI12 share one)
    body = [
        "def check(els, comp_sep, rep_sep):",
        "    out = None",
        "    last = n = len(els)",
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
            const = composites.get(extra)
            if const is None:
                const = composites[extra] = f"C{len(composites) + 1}"
                helpers += _composite(const, extra, env)
        elif kind == _K_PERIOD:
            env[const] = extra
        cond = _clean(kind, mn, mx, "v", const)
        if kind == _K_PERIOD:
            cond = f'len(v) == 8 and {extra} < last and els[{extra}] == "D8" and date_ok(v)'
        slow = f"out = slow({i}, v, els, comp_sep, rep_sep, out)"
        if required:
            body.append(f"    if n > {p} and (v := els[{p}]):")
            body.append(f"        if not ({cond}):" if cond else f"        {slow}")
            if cond:
                body.append(f"            {slow}")
            body.append("    else:")
            body.append(f"        out = add(out, missing({i}))")
        else:
            body.append(f"    if n > {p} and (v := els[{p}])" + (f" and not ({cond}):" if cond else ":"))
            body.append(f"        {slow}")
    if chk.rule_fast is not None:
        positions, checks = chk.rule_fast
        body += _presence(checks, 10**6, "{p} < last and els[{p}] != ''")
        body.append(f"    if not (({') and ('.join(_rule_expr(letter, _positions(allm, first)) for letter, allm, first, _ in checks)})):")
        body.append("        out = rules(RULES, els, els[0], '', out)")
    body.append("    return out")
    source = "\n".join(helpers + body)
    code = _CODE.get(source)
    if code is None:  # positions of the same shape (kinds, bounds, presence) share their source: compiled once
        code = _CODE[source] = compile(source, "<generated element checks>", "exec")
    exec(code, env)
    return env["check"]
