"""Element checks for one segment position, compiled once per guide position.

A :class:`SegmentCheck` is built the first time a guide position is met and
kept for the process: every element's usage, type, length bounds, codes,
repetition count, components and the dictionary's syntax rules are resolved
to plain tuples, so checking a segment is a loop over its elements with no
name lookups. Nothing is allocated for a clean segment.

Problems come back as :class:`ElementProblem` tuples carrying the 999 IK403
code; :mod:`.validate` turns them into findings with a location.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from .grammar import CompositeDef, DataElement, Dictionary, SegmentDef, SegmentNode, load_dictionary

# IK403 (data element syntax error) codes, 005010X231A1
IK4_REQUIRED = "1"
IK4_CONDITIONAL = "2"
IK4_TOO_MANY_ELEMENTS = "3"
IK4_TOO_SHORT = "4"
IK4_TOO_LONG = "5"
IK4_BAD_CHAR = "6"
IK4_BAD_CODE = "7"
IK4_NOT_IN_LIST = "7W"  # a code missing from a bundled external list: reported as a warning, never acknowledged as an error
IK4_BAD_DATE = "8"
IK4_BAD_TIME = "9"
IK4_EXCLUSION = "10"
IK4_TOO_MANY_REPEATS = "12"
IK4_TOO_MANY_COMPONENTS = "13"
IK4_NOT_USED = "I10"

# data elements whose values identify a person (names, ids, dates of birth,
# addresses, phone numbers): never shown unless asked for; codes (type ID) are
# never PHI and are shown so a bad code can be fixed.
_PHI_ELEMENTS = frozenset(
    {"67", "93", "1035", "1036", "1037", "1038", "1039", "166", "19", "116", "127", "364", "1251", "373", "1028", "352", "933"}
)


class ElementProblem(NamedTuple):
    """One element-level problem: where in the segment, which 999 code, what."""

    element: int  # 1-based
    component: int | None
    repetition: int | None
    data_element: str | None  # dictionary number, for IK402
    code: str  # IK403
    message: str
    value: str | None  # the offending value (the caller decides whether to show it)
    shown: bool  # value is a code and may be printed


@dataclass(frozen=True, slots=True)
class _Comp:
    seq: int
    ref: str  # SV101-01
    usage: str  # R S N
    de: DataElement | None
    codes: frozenset[str] | None
    table: object | None  # CodeTable


@dataclass(frozen=True, slots=True)
class _Elem:
    pos: int
    ref: str  # NM109
    usage: str
    de: DataElement | None
    codes: frozenset[str] | None
    table: object | None
    repeat: int
    comps: tuple[_Comp, ...] | None  # composite components, None for a simple element
    comp_rules: tuple[tuple[str, tuple[int, ...]], ...]
    list_qualifier: int  # component index (0-based) of a Code List Qualifier Code (1270), else -1
    qualifier_pos: int  # for DTP03-like date/time periods: position of the format qualifier (1250), else 0


# fast-path kinds, decided once at compile time: the clean value of each kind is
# recognised inline; anything else (and every kind _K_OTHER) goes to the full check
_K_TEXT, _K_CODES, _K_OTHER, _K_NUM, _K_REAL, _K_DATE, _K_PERIOD, _K_COMP = range(8)
# syntax rule letters as ints for the bit-mask test
_R_P, _R_R, _R_E, _R_C, _R_L = range(5)
_LETTER = {"P": _R_P, "R": _R_R, "E": _R_E, "C": _R_C, "L": _R_L}


def _value_kind(de: DataElement | None, codes, table) -> tuple[int, object]:
    """The fast kind of one simple value and what its test needs (codes to look up)."""
    if de is None:
        return _K_OTHER, None
    t = de.type
    if t in ("AN", "ID"):
        if codes is not None:
            return _K_CODES, codes
        if table is not None:
            return _K_CODES, frozenset(table.codes())  # a miss is re-checked (error or warning) by the full check
        return _K_TEXT, None
    # numbers and dates are checked by their form alone (see _simple): a code list on them changes nothing
    if t[0] == "N":
        return _K_NUM, None
    if t == "R":
        return _K_REAL, None
    if t == "DT":
        return _K_DATE, None
    return _K_OTHER, None


def compile_rules(rules: tuple[tuple[str, tuple[int, ...]], ...]) -> tuple | None:
    """Syntax rules as bit masks over positions: ((position, bit) ..., (letter, all, first, rest) ...)."""
    if not rules:
        return None
    positions = sorted({p for _, pos in rules for p in pos})
    checks = []
    for letter, pos in rules:
        bits = [1 << p for p in pos]
        checks.append((_LETTER[letter], sum(set(bits)), bits[0], sum(set(bits[1:]) - {bits[0]})))
    return tuple((p, 1 << p) for p in positions), tuple(checks)


def rules_hold(mask: int, checks: tuple) -> bool:
    """Whether every rule holds for the present positions in ``mask`` (the clean case; problems come from _rules)."""
    for letter, allm, first, rest in checks:
        m = mask & allm
        if letter == _R_P:
            if m and m != allm:
                return False
        elif letter == _R_R:
            if not m:
                return False
        elif letter == _R_E:
            if m & (m - 1):
                return False
        elif mask & first:
            if letter == _R_C:
                if mask & rest != rest:
                    return False
            elif not mask & rest:
                return False
    return True


class SegmentCheck:
    """Compiled element checks for one guide position (or a dictionary segment)."""

    __slots__ = ("elems", "rules", "n", "fast", "rule_fast")

    def __init__(self, elems: tuple[_Elem, ...], rules: tuple[tuple[str, tuple[int, ...]], ...]):
        self.elems = elems
        self.rules = rules
        self.n = len(elems)
        self.rule_fast = compile_rules(rules)
        # (required, kind, min, max, extra) per element: the clean cases recognised inline
        self.fast = tuple(_fast_entry(e) for e in elems)

    def check(self, els: list[str], comp_sep: str, rep_sep: str | None) -> list[ElementProblem] | None:
        """Problems of one segment (``els[0]`` is the id), or None when it is clean."""
        out: list[ElementProblem] | None = None
        n = len(els) - 1
        if n > self.n:
            out = [ElementProblem(self.n + 1, None, None, None, IK4_TOO_MANY_ELEMENTS,
                                  f"{els[0]} has {n} elements; the segment has {self.n}", None, False)]
            n = self.n
        fast = self.fast
        rsep = rep_sep or "\x00"  # no repetition separator: NUL, which no clean value holds
        for i in range(n):
            v = els[i + 1]
            required, kind, mn, mx, extra = fast[i]
            if not v:
                if required:
                    out = _add(out, self._missing(i))
                continue
            if kind == _K_CODES:
                if v in extra and mn <= len(v) <= mx:
                    continue
            elif kind == _K_TEXT:
                if mn <= len(v) <= mx and comp_sep not in v and rsep not in v and v.isprintable():
                    continue
            elif kind == _K_COMP:
                if _comp_clean(v.split(comp_sep), extra, rsep):
                    continue
            elif kind == _K_REAL:
                d = v.replace(".", "", 1) if "." in v else v
                if d.isdigit() and d.isascii() and mn <= len(d) <= mx:
                    continue
            elif kind == _K_NUM:
                if v.isdigit() and v.isascii() and mn <= len(v) <= mx:
                    continue
            elif kind == _K_PERIOD:
                if len(v) == 8 and extra < len(els) and els[extra] == "D8" and _date_ok(v):
                    continue
            elif kind == _K_DATE:
                if _date_ok(v, mn, mx):
                    continue
            out = self._slow(i, v, els, comp_sep, rep_sep, out)
        if n < self.n:
            for i in range(n, self.n):  # elements after the last one present
                if fast[i][0]:
                    out = _add(out, self._missing(i))
        rf = self.rule_fast
        if rf is not None:
            mask = 0
            last = len(els)
            for p, bit in rf[0]:
                if p < last and els[p]:
                    mask |= bit
            if not rules_hold(mask, rf[1]):
                out = _rules(self.rules, els, els[0], "", out)
        return out

    def _missing(self, i: int) -> ElementProblem:
        e = self.elems[i]
        return ElementProblem(e.pos, None, None, _num(e), IK4_REQUIRED, f"required element {e.ref} is missing", None, False)

    def _slow(self, i: int, v: str, els: list[str], comp_sep: str, rep_sep: str | None, out: list | None) -> list | None:
        e = self.elems[i]
        if e.usage == "N":
            return _add(out, ElementProblem(e.pos, None, None, _num(e), IK4_NOT_USED, f"element {e.ref} is not used in this guide but is present", v, False))
        if rep_sep is not None and rep_sep in v:
            reps = v.split(rep_sep)
            if len(reps) > e.repeat:
                out = _add(out, ElementProblem(e.pos, None, None, _num(e), IK4_TOO_MANY_REPEATS,
                                               f"{e.ref} repeats {len(reps)} times; at most {e.repeat} allowed", None, False))
            for r, rv in enumerate(reps, 1):
                if rv:
                    out = _value(e, rv, comp_sep, els, r if len(reps) > 1 else None, out)
            return out
        return _value(e, v, comp_sep, els, None, out)


def _num(e: _Elem | _Comp) -> str | None:
    return e.de.number if e.de is not None else None


def _add(out: list | None, p: ElementProblem) -> list:
    if out is None:
        return [p]
    out.append(p)
    return out


def _fast_entry(e: _Elem) -> tuple:
    """(required, kind, min, max, extra) of one element for :meth:`SegmentCheck.check`."""
    required = e.usage == "R"
    if e.usage == "N" or e.repeat != 1:
        return required, _K_OTHER, 0, 0, None
    if e.comps is not None:
        if e.list_qualifier >= 0 and any(c.table is not None for c in e.comps):
            return required, _K_OTHER, 0, 0, None
        comps = []
        min_parts = 0
        for j, c in enumerate(e.comps):
            kind, extra = _value_kind(c.de, c.codes, c.table)
            if c.usage == "N" or kind == _K_DATE:
                kind = _K_OTHER
            if c.usage == "R":
                min_parts = j + 1
            de = c.de
            comps.append((c.usage == "R", kind, de.min if de else 0, de.max if de else 0, extra))
        rules = compile_rules(e.comp_rules)
        return required, _K_COMP, 0, 0, (tuple(comps), len(comps), min_parts, rules[1] if rules else None)
    de = e.de
    if e.qualifier_pos:
        if e.codes is None and e.table is None and de is not None and de.type == "AN" and de.min <= 8 <= de.max:
            return required, _K_PERIOD, 0, 0, e.qualifier_pos
        return required, _K_OTHER, 0, 0, None
    kind, extra = _value_kind(de, e.codes, e.table)
    return required, kind, de.min if de else 0, de.max if de else 0, extra


def _comp_clean(parts: list[str], spec: tuple, rsep: str) -> bool:
    """Whether a composite's components are all clean (the common case), without building problems."""
    comps, ncomp, min_parts, rules = spec
    np_ = len(parts)
    if np_ > ncomp or np_ < min_parts:
        return False
    mask = 0
    bit = 2
    for j in range(np_):
        pv = parts[j]
        required, kind, mn, mx, extra = comps[j]
        if not pv:
            if required:
                return False
        elif kind == _K_CODES:
            if not (pv in extra and mn <= len(pv) <= mx):
                return False
        elif kind == _K_TEXT:
            if not (mn <= len(pv) <= mx and rsep not in pv and pv.isprintable()):
                return False
        elif kind == _K_REAL:
            d = pv.replace(".", "", 1) if "." in pv else pv
            if not (d.isdigit() and d.isascii() and mn <= len(d) <= mx):
                return False
        elif kind == _K_NUM:
            if not (pv.isdigit() and pv.isascii() and mn <= len(pv) <= mx):
                return False
        else:
            return False
        if pv:
            mask |= bit
        bit <<= 1
    return rules is None or rules_hold(mask, rules)


def _value(e: _Elem, v: str, comp_sep: str, els: list[str], rep: int | None, out: list | None) -> list | None:
    if e.comps is None:
        if comp_sep in v and e.de is not None and e.de.type != "AN":
            return _add(out, ElementProblem(e.pos, None, rep, _num(e), IK4_TOO_MANY_COMPONENTS,
                                            f"{e.ref} is a simple element but has components", v, False))
        p = _simple(e.de, e.codes, e.table, v, e.ref)
        if p is None and e.qualifier_pos:
            why = period_problem(_at(els, e.qualifier_pos), v)
            if why is not None:
                p = IK4_BAD_DATE, f"{e.ref} {why}"
        if p is not None:
            code, msg = p
            return _add(out, ElementProblem(e.pos, None, rep, _num(e), code, msg, v, _shown(e.de)))
        return out
    parts = v.split(comp_sep)
    comps = e.comps
    if len(parts) > len(comps):
        out = _add(out, ElementProblem(e.pos, len(comps) + 1, rep, None, IK4_TOO_MANY_COMPONENTS,
                                       f"{e.ref} has {len(parts)} components; the composite has {len(comps)}", None, False))
        parts = parts[: len(comps)]
    for j, c in enumerate(comps):
        pv = parts[j] if j < len(parts) else ""
        if not pv:
            if c.usage == "R":
                out = _add(out, ElementProblem(e.pos, c.seq, rep, _num(c), IK4_REQUIRED, f"required component {c.ref} is missing", None, False))
            continue
        if c.usage == "N":
            out = _add(out, ElementProblem(e.pos, c.seq, rep, _num(c), IK4_NOT_USED, f"component {c.ref} is not used in this guide but is present", pv, False))
            continue
        # a filled Code List Qualifier (1270) names another code source: the bundled list does not apply
        table = c.table if e.list_qualifier < 0 or e.list_qualifier >= len(parts) or not parts[e.list_qualifier] else None
        p = _simple(c.de, c.codes, table, pv, c.ref)
        if p is not None:
            out = _add(out, ElementProblem(e.pos, c.seq, rep, _num(c), p[0], p[1], pv, _shown(c.de)))
    if e.comp_rules:
        out = _rules(e.comp_rules, [""] + parts, e.ref, "-", out, e.pos)
    return out


def _shown(de: DataElement | None) -> bool:
    return de is not None and de.type == "ID" and de.number not in _PHI_ELEMENTS


def _at(els: list[str], pos: int) -> str:
    return els[pos] if pos < len(els) else ""


# ----------------------------------------------------------------------------
# one value
# ----------------------------------------------------------------------------
def _simple(de: DataElement | None, codes, table, v: str, ref: str) -> tuple[str, str] | None:
    if de is None:
        return None
    t = de.type
    if t == "AN" or t == "ID":
        n = len(v)
        if n < de.min:
            return IK4_TOO_SHORT, f"{ref} is {n} characters; at least {de.min} required"
        if n > de.max:
            return IK4_TOO_LONG, f"{ref} is {n} characters; at most {de.max} allowed"
        if not v.isprintable():
            return IK4_BAD_CHAR, f"{ref} holds a control character"
        if codes is not None:
            if v not in codes:
                return IK4_BAD_CODE, _code_msg(ref, v, de)
        elif table is not None and v not in table:
            shown = f" {v!r}" if _shown(de) else ""
            if _closed(table):  # a complete, stable list (states, countries, currencies): the code is invalid
                return IK4_BAD_CODE, f"{ref} code{shown} is not in the {table.name} list ({table.title})"
            # an external list (CARC, RARC, 507/508 ...) changes every few months and the
            # bundled copy is older than the files it meets: a miss is a warning, not a reject
            return IK4_NOT_IN_LIST, f"{ref} code{shown} is not in the bundled {table.name} list (a newer list can go in X12ENGINE_CODES_PATH)"
        return None
    if t[0] == "N":
        digits = v[1:] if v[0] == "-" else v
        if not digits.isdigit() or not digits.isascii():
            return IK4_BAD_CHAR, f"{ref} must be a whole number"
        return _numlen(len(digits), de, ref)
    if t[0] == "R":
        digits = v[1:] if v[0] == "-" else v
        if "." in digits:
            a, _, b = digits.partition(".")
            digits = a + b
            if not (a or b):
                return IK4_BAD_CHAR, f"{ref} must be a decimal number"
        if not digits.isdigit() or not digits.isascii():
            return IK4_BAD_CHAR, f"{ref} must be a decimal number"
        return _numlen(len(digits), de, ref)
    if t == "DT":
        if not _date_ok(v, de.min, de.max):
            return IK4_BAD_DATE, f"{ref} is not a valid date ({'YYMMDD' if de.max == 6 else 'CCYYMMDD'})"
        return None
    if t == "TM":
        if not _time_ok(v, de.min, de.max):
            return IK4_BAD_TIME, f"{ref} is not a valid time (HHMM[SS[D..]])"
        return None
    # element 1251 and friends: AN in the dictionary, format given by a qualifier
    return None


def _closed(table) -> bool:
    """A table whose ``# missing_code: error`` line says a code it lacks is invalid (maps/codes/README.md)."""
    return table.meta.get("missing_code", ("warning",))[0].split(" ", 1)[0] == "error"


def _numlen(n: int, de: DataElement, ref: str) -> tuple[str, str] | None:
    if n < de.min:
        return IK4_TOO_SHORT, f"{ref} has {n} digits; at least {de.min} required"
    if n > de.max:
        return IK4_TOO_LONG, f"{ref} has {n} digits; at most {de.max} allowed"
    return None


def _code_msg(ref: str, v: str, de: DataElement) -> str:
    if de.type == "ID" and de.number not in _PHI_ELEMENTS:
        return f"{ref} code {v!r} is not valid here"
    return f"{ref} holds a code that is not valid here"


@lru_cache(maxsize=4096)
def _date_ok(v: str, mn: int = 8, mx: int = 8) -> bool:
    if not (v.isdigit() and v.isascii()) or len(v) not in (6, 8) or not (mn <= len(v) <= mx):
        return False
    if len(v) == 6:
        y, m, d = 2000 + int(v[:2]), int(v[2:4]), int(v[4:6])
    else:
        y, m, d = int(v[:4]), int(v[4:6]), int(v[6:8])
    try:
        _dt.date(y, m, d)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def _time_ok(v: str, mn: int = 4, mx: int = 8) -> bool:
    if not (v.isdigit() and v.isascii()) or not (mn <= len(v) <= mx) or len(v) < 4 or len(v) == 5:
        return False
    if int(v[:2]) > 23 or int(v[2:4]) > 59:
        return False
    return len(v) < 6 or int(v[4:6]) <= 59


def period_problem(qualifier: str, v: str) -> str | None:
    """Why a date/time period value does not fit its format qualifier (D8, RD8, DT, TM ...), or None."""
    if qualifier == "D8":
        return None if len(v) == 8 and _date_ok(v) else "is not a CCYYMMDD date"
    if qualifier == "RD8":
        a, sep, b = v.partition("-")
        if not sep or len(a) != 8 or len(b) != 8 or not _date_ok(a) or not _date_ok(b):
            return "is not a CCYYMMDD-CCYYMMDD date range"
        if b < a:
            return "is a date range that ends before it starts"
        return None
    if qualifier == "DT":
        return None if len(v) == 12 and _date_ok(v[:8]) and _time_ok(v[8:]) else "is not a CCYYMMDDHHMM date and time"
    if qualifier == "TM":
        return None if _time_ok(v) else "is not an HHMM time"
    return None


# ----------------------------------------------------------------------------
# syntax rules (P R C E L) over element or component positions
# ----------------------------------------------------------------------------
def parse_rule(rule: str) -> tuple[str, tuple[int, ...]]:
    """``P0809`` → ("P", (8, 9)); ``L102030`` → ("L", (10, 20, 30))."""
    digits = rule[1:]
    return rule[0].upper(), tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2))


def _rules(rules, els: list[str], ref: str, sep: str, out: list | None, elem: int | None = None) -> list | None:
    n = len(els)
    for letter, pos in rules:
        if letter != "R" and (pos[0] >= n or not els[pos[0]]) and letter in "CL":
            continue  # conditional rules hold when their first element is absent
        present = [p < n and els[p] != "" for p in pos]
        bad: int | None = None
        code = IK4_CONDITIONAL
        if letter == "P":
            if any(present) and not all(present):
                bad = pos[present.index(False)]
                why = "all or none of {} must be present"
        elif letter == "R":
            if not any(present):
                bad = pos[0]
                why = "at least one of {} is required"
        elif letter == "E":
            if sum(present) > 1:
                bad = pos[[i for i, p in enumerate(present) if p][1]]
                code = IK4_EXCLUSION
                why = "only one of {} may be present"
        elif letter == "C":
            if present[0] and not all(present[1:]):
                bad = pos[1 + present[1:].index(False)]
                why = "when the first of {} is present the others are required"
        elif letter == "L":
            if present[0] and not any(present[1:]):
                bad = pos[1]
                why = "when the first of {} is present at least one of the others is required"
        if bad is not None:
            names = ", ".join(f"{ref}{sep}{p:02d}" for p in pos)
            if elem is None:
                out = _add(out, ElementProblem(bad, None, None, None, code, f"syntax rule {letter}: " + why.format(names), None, False))
            else:
                out = _add(out, ElementProblem(elem, bad, None, None, code, f"syntax rule {letter}: " + why.format(names), None, False))
    return out


# ----------------------------------------------------------------------------
# compilation
# ----------------------------------------------------------------------------
def _usage(req: str) -> str:
    return "R" if req == "M" else "S"


def _table(name: str | None):
    if name is None:
        return None
    from .codes import CodeTableError, load_table

    try:
        return load_table(name)
    except CodeTableError:
        return None  # no bundled table for this list: its codes cannot be checked


def compile_node(node: SegmentNode, d: Dictionary | None = None) -> SegmentCheck:
    """The checks for one guide (or envelope) position; compiled once, kept on the node."""
    if node.check is None:
        node.check = _compile(node.definition, node.specs, d or load_dictionary())
    return node.check


def compile_definition(seg: SegmentDef, d: Dictionary | None = None) -> SegmentCheck:
    """Checks from the base standard alone (a segment no guide position describes)."""
    return _compile(seg, {}, d or load_dictionary())


def _compile(seg: SegmentDef | None, specs: dict, d: Dictionary) -> SegmentCheck:
    if seg is None:
        return SegmentCheck((), ())
    elems: list[_Elem] = []
    members = {m.seq: m for m in seg.members}
    for seq in range(1, max(members, default=0) + 1):
        m = members.get(seq)
        ref = f"{seg.id}{seq:02d}"
        if m is None:  # a gap the standard leaves: nothing may be sent there
            elems.append(_Elem(seq, ref, "N", None, None, None, 1, None, (), -1, 0))
            continue
        spec = specs.get(ref)
        usage = spec.usage if spec is not None else _usage(m.req)
        composite: CompositeDef | None = d.composites.get(m.ref)
        comps = None
        comp_rules: tuple = ()
        list_qualifier = -1
        de = None
        if composite is not None:
            clist = []
            for cm in composite.members:
                cref = f"{ref}-{cm.seq:02d}"
                cs = specs.get(cref)
                clist.append(_Comp(
                    cm.seq, cref, cs.usage if cs is not None else _usage(cm.req), d.elements.get(cm.ref),
                    cs.codes if cs is not None else None, _table(cs.code_list) if cs is not None else None,
                ))
            comps = tuple(clist)
            list_qualifier = next((i for i, cm in enumerate(composite.members) if cm.ref == "1270"), -1)
            comp_rules = tuple(parse_rule(r) for r in composite.rules)
        else:
            de = d.elements.get(m.ref)
        qualifier_pos = 0
        if m.ref == "1251":
            prev = members.get(seq - 1)
            if prev is not None and prev.ref == "1250":
                qualifier_pos = seq - 1
        elems.append(_Elem(
            seq, ref, usage, de, spec.codes if spec is not None else None, _table(spec.code_list) if spec is not None else None,
            m.repeat, comps, comp_rules, list_qualifier, qualifier_pos,
        ))
    return SegmentCheck(tuple(elems), tuple(parse_rule(r) for r in seg.rules))
