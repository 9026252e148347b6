"""Named value transforms used by maps (`as date`, `as code gender`, ...).

Each transform converts one X12 element (plus, for some, qualifier elements
named as arguments) to a JSON value and back. Reading never raises on a bad
value: it keeps the raw text and reports a warning, because an inbound file
with a malformed date must still convert. Writing raises ``ValueError`` with a
message that names no value; the builder adds the field path.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from .codes import load_table


class ReadIssue(Exception):
    """A value that does not fit its transform on read; ``fallback`` (default: the raw text) is kept."""

    def __init__(self, message: str, fallback: Any = None, *, null: bool = False):
        super().__init__(message)
        self.message = message
        self.fallback = fallback
        self.null = null  # keep null instead (a description the code list does not have)

    def kept(self, raw: str) -> Any:
        """What the model holds instead: null, the fallback (an unknown-code object) or the raw text."""
        if self.null:
            return None
        return self.fallback if self.fallback is not None else raw


_DATES: dict[str, str] = {}  # CCYYMMDD → ISO: a file repeats its few dates thousands of times
_DATES_KEPT = 4096


def _date_read(raw: str) -> str:
    got = _DATES.get(raw)
    if got is not None:
        return got
    if len(raw) == 8 and raw.isdigit():
        try:
            got = _dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
        except ValueError:
            pass
        else:
            if len(_DATES) >= _DATES_KEPT:
                _DATES.clear()
            _DATES[raw] = got
            return got
    raise ReadIssue("is not a CCYYMMDD date")


def _date_write(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return value.strftime("%Y%m%d")
    s = str(value)
    try:
        return _dt.date.fromisoformat(s).strftime("%Y%m%d")
    except ValueError:
        raise ValueError("is not an ISO 8601 date (YYYY-MM-DD)") from None


def _time_read(raw: str) -> str:
    if raw.isdigit() and len(raw) in (4, 6):
        h, m = int(raw[:2]), int(raw[2:4])
        s = int(raw[4:6]) if len(raw) == 6 else None
        if h < 24 and m < 60 and (s is None or s < 60):
            return f"{raw[:2]}:{raw[2:4]}" + (f":{raw[4:6]}" if s is not None else "")
    if len(raw) > 6 and raw[:6].isdigit():  # HHMMSSDD: keep the decimal seconds
        return f"{raw[:2]}:{raw[2:4]}:{raw[4:6]}.{raw[6:]}"
    raise ReadIssue("is not an HHMM[SS[D..]] time")


_TIME_TEXT = re.compile(r"(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?")


def _time_write(value: Any) -> str:
    if isinstance(value, _dt.time):
        return value.strftime("%H%M%S" if value.second else "%H%M")
    s = str(value)
    m = _TIME_TEXT.fullmatch(s)
    if not m:
        raise ValueError("is not a time (HH:MM or HH:MM:SS)")
    return "".join(p for p in m.groups() if p)


def _number_read(raw: str) -> int | float:
    # the usual forms without Decimal: the same values (Decimal's float is float(str(d)))
    if len(raw) <= 18 and raw.isascii():
        if raw.isdigit():
            return int(raw)
        head, dot, tail = raw.partition(".")
        if dot and head.isdigit() and tail.isdigit():
            return float(raw)
    try:
        d = Decimal(raw)
    except InvalidOperation:
        raise ReadIssue("is not a number") from None
    if not d.is_finite():
        raise ReadIssue("is not a number")
    if d == d.to_integral_value() and "." not in raw:
        return int(d)
    f = float(d)
    if not math.isfinite(f):  # beyond a float: JSON has no number for it (and orjson would write null)
        raise ReadIssue("is out of range for a number")
    return f


# A reader's usual case as an expression over ``raw`` that the map compiler writes inline
# before the call (``mapgen._convert``): the value, or None when the reader must run.
# Each sits here, beside the reader it shortens; tests/test_transforms.py holds them to it.
INLINE_READS: dict[Callable[[str], Any], tuple[str, dict[str, Any]]] = {
    _date_read: ("DATES.get(raw)", {"DATES": _DATES}),  # a date seen before: the reader's own cache
    _number_read: ("int(raw) if raw.isdigit() and raw.isascii() and len(raw) <= 18 else None", {}),  # a plain count
}


def _number_write(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError("is a boolean, not a number")
    if isinstance(value, int):
        return str(value)
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("is not a number") from None
    if not d.is_finite():
        raise ValueError("is not a finite number")
    if d == d.to_integral_value():
        return str(int(d))
    text = format(d.normalize(), "f")
    return text


def _bool_read(raw: str) -> bool:
    if raw == "Y":
        return True
    if raw == "N":
        return False
    raise ReadIssue("is not Y or N")


def _bool_write(value: Any) -> str:
    if value is True or value == "true":  # the strings are a map's `default true` / `fill true`
        return "Y"
    if value is False or value == "false":
        return "N"
    raise ValueError("is not a boolean")


def _flag_write(value: Any) -> str:
    """Indicators whose only code is Y (SV109, PAT09): false is the element's absence."""
    return "Y" if _bool_write(value) == "Y" else ""


def _icd_read(raw: str) -> str:
    """X12 sends diagnosis codes without the decimal point; PokitDok shows it (R10.9)."""
    if "." in raw or len(raw) <= 3:
        return raw
    return raw[:3] + "." + raw[3:]


def _icd_write(value: Any) -> str:
    return str(value).replace(".", "")


def _text_write(value: Any) -> str:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, (int, float, Decimal)):
        return _number_write(value)
    return str(value)


# ----------------------------------------------------------------------------
# transform objects
# ----------------------------------------------------------------------------
class Transform:
    """One element (plus qualifier arguments) ↔ one or two JSON values."""

    arity = 1  # JSON targets
    table_arg = False  # first argument is a code-table name

    def __init__(self, args: tuple = ()):
        self.args = args

    @property
    def qualifiers(self) -> tuple:
        """Element references among the arguments (read and written alongside); computed
        once (the reader asks for every value it converts)."""
        q = self.__dict__.get("_qualifiers")
        if q is None:
            q = self.__dict__["_qualifiers"] = tuple(a for a in self.args if not isinstance(a, str))
        return q

    def read(self, raw: str, quals: list[str]) -> Any:
        return raw

    def write(self, values: tuple, index: int) -> tuple[str, list[str]]:
        return _text_write(values[0]), []



class _Simple(Transform):
    def __init__(self, args: tuple, name: str, reader: Callable, writer: Callable):
        super().__init__(args)
        self.name = name
        self._reader, self._writer = reader, writer

    def read(self, raw, quals):
        return self._reader(raw)

    def write(self, values, index):
        return self._writer(values[0]), []



class CodeTransform(Transform):
    """A code through a table: known codes become enum names, unknown ones ``{"code": .., "enum": null}``."""

    table_arg = True

    def __init__(self, args: tuple):
        super().__init__(args)
        if not args or not isinstance(args[0], str):
            raise ValueError("`as code` needs a table name")
        self.table = load_table(args[0])

    def read(self, raw, quals):
        enum = self.table.enum_for(raw)
        if enum is None:
            raise ReadIssue(f"is not in code table {self.table.name}", {"code": raw, "enum": None})
        return enum

    def write(self, values, index):
        v = values[0]
        if isinstance(v, dict):
            code = v.get("code")
            if not isinstance(code, str) or not code:
                raise ValueError(f"an unknown-code object needs a non-empty \"code\" ({self.table.name})")
            return code, []
        code = self.table.code_for(str(v))
        if code is None:
            raise ValueError(f"is not a {self.table.name} value (see maps/codes/{self.table.name}.tsv)")
        return code, []



class PeriodTransform(Transform):
    """DTP-style dates: D8 → (date, None); RD8 → (start, end). Needs the format qualifier element."""

    arity = 2

    def read(self, raw, quals):
        fmt = quals[0] if quals else "D8"
        if fmt == "RD8" and "-" in raw:
            a, b = raw.split("-", 1)
            return (_date_read(a), _date_read(b))
        if fmt == "RD8" and len(raw) == 8:  # a range senders cut to its start: the date is all there is
            return (_date_read(raw), None)
        if fmt == "D8":
            return (_date_read(raw), None)
        raise ReadIssue(f"has a date format qualifier this map does not read ({fmt})")

    def write(self, values, index):
        start, end = values
        if start is None:
            raise ValueError("has an end date without a start date")
        a = _date_write(start)
        if end is None:  # an RD8 whose ends coincide stays RD8: a re-read must give back both dates
            return a, ["D8"]
        return f"{a}-{_date_write(end)}", ["RD8"]



class DescribedTransform(Transform):
    """A code and its description from a description-only table (507/508, CARC): ``(code, description)``.

    Reading keeps an unknown code with a null description (and a warning), so a
    newer code list is never needed to convert a file. Building writes the code;
    the description is derived data, used only to find the code when none is given.
    """

    arity = 2
    table_arg = True
    keep_null = True  # the description target is written as null, not left out, when the code is unknown

    def __init__(self, args: tuple):
        super().__init__(args)
        if not args or not isinstance(args[0], str):
            raise ValueError("`as described` needs a table name")
        self.table = load_table(args[0])
        self._by_description: dict[str, str] = {}
        for e in self.table.entries:
            if e.description:
                self._by_description.setdefault(e.description, e.code)

    def read(self, raw, quals):
        if quals and quals[0]:
            # `as described claim_status STC01-04`: a code list qualifier (RX: NCPDP reject codes)
            # says the code is from another list; kept as sent, with no description to give
            return (raw, None)
        if raw not in self.table:
            raise ReadIssue(f"is not in code table {self.table.name}", (raw, None))
        return (raw, self.table.describe(raw))

    def write(self, values, index):
        code, description = values
        if code is not None and str(code) != "":
            return str(code), []  # a qualifier argument is written by the field bound to it
        found = self._by_description.get(str(description))
        if found is None:
            raise ValueError(f"has no code and its description is not in code table {self.table.name}")
        return found, []



class DescriptionTransform(DescribedTransform):
    """`as description TABLE`: only the text half of `described`, for an element whose code
    another field already carries (CARC/RARC in element lists). Writes nothing."""

    arity = 1
    keep_null = False

    def read(self, raw, quals):
        text = self.table.describe(raw) if raw in self.table else None
        if not text:
            raise ReadIssue(f"is not in code table {self.table.name}; its description is left null", null=True)
        return text

    def write(self, values, index):
        if not isinstance(values[0], str):
            raise ValueError("must be text")
        return None, []


AMOUNT_PATTERN = r"-?(\d+(\.\d*)?|\.\d+)"  # an X12 R amount as text; the Money model uses it too
_AMOUNT = re.compile(AMOUNT_PATTERN)


def is_amount(raw: str) -> bool:
    """``AMOUNT_PATTERN`` without the regex engine (isdecimal is ``\\d``): [-] digits [. digits*] | [-] . digits."""
    head, dot, tail = (raw[1:] if raw[:1] == "-" else raw).partition(".")
    return (head.isdecimal() and (not tail or tail.isdecimal())) or (not head and bool(dot) and tail.isdecimal())


class MoneyTransform(Transform):
    """An X12 amount (R) as PokitDok's monetary amount object ``{"amount": "60.00", "currency": "USD"}``.

    The amount stays the X12 text, so a round trip writes the same digits; X12 amounts are in the
    currency the transaction names (CUR, USD when absent), so the object always says USD.
    """

    CURRENCY = "USD"

    def read(self, raw, quals):
        if not is_amount(raw):
            raise ReadIssue("is not an amount", {"amount": raw, "currency": self.CURRENCY})
        return {"amount": raw, "currency": self.CURRENCY}

    def write(self, values, index):
        v = values[0]
        if not isinstance(v, dict) or "amount" not in v:
            raise ValueError('must be a monetary amount object {"amount": "12.50", "currency": "USD"}')
        if v.get("currency") not in (None, self.CURRENCY):
            raise ValueError("has a currency other than USD; X12 amounts carry no currency of their own")
        amount = v["amount"]
        if isinstance(amount, bool) or not isinstance(amount, (str, int, float, Decimal)):
            raise ValueError("amount must be a decimal number or its text")
        text = amount.strip() if isinstance(amount, str) else _number_write(amount)
        if not _AMOUNT.fullmatch(text):
            raise ValueError("amount is not a decimal number")
        return text, []


def make(name: str | None, args: tuple) -> Transform:
    if name is None:
        return Transform(args)
    if name == "code":
        return CodeTransform(args)
    if name == "period":
        return PeriodTransform(args)
    if name == "description":
        return DescriptionTransform(args)
    if name == "described":
        return DescribedTransform(args)
    if name == "money":
        return MoneyTransform(args)
    simple = {
        "date": (_date_read, _date_write),
        "time": (_time_read, _time_write),
        "number": (_number_read, _number_write),
        "decimal": (_number_read, _number_write),  # amounts: the same JSON numbers; the name documents intent
        "bool": (_bool_read, _bool_write),
        "flag": (_bool_read, _flag_write),
        "icd": (_icd_read, _icd_write),
    }
    if name not in simple:
        raise ValueError(f"unknown transform `{name}` (known: code, period, description, described, money, {', '.join(simple)})")
    return _Simple(args, name, *simple[name])

