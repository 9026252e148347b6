"""Reading one declarative file (grammar, map, profile) with its lark parser.

The three languages fail the same way and should say so the same way: a
syntax error names the file, line, column and the offending line's text; an
error a transformer raises while compiling keeps its own message, located by
the transformer itself.
"""
from __future__ import annotations

from typing import Any

from lark import Lark, Transformer
from lark.exceptions import UnexpectedInput, VisitError

from .errors import Location, X12Error


def parse_and_transform(parser: Lark, transformer: Transformer, text: str, source: str, error: type[X12Error]) -> Any:
    """``transformer`` applied to ``parser``'s tree of ``text``; every failure is an ``error``."""
    try:
        tree = parser.parse(text)
    except UnexpectedInput as exc:
        line = getattr(exc, "line", None)
        col = getattr(exc, "column", None)
        lines = text.splitlines()
        snippet = lines[line - 1].strip() if line and 0 < line <= len(lines) else ""
        raise error(f"cannot parse `{snippet}` at column {col}", Location(source=f"{source}:{line}")) from None
    try:
        return transformer.transform(tree)
    except VisitError as exc:  # a transformer callback refused the content
        if isinstance(exc.orig_exc, error):
            raise exc.orig_exc from None
        raise error(f"cannot read: {exc.orig_exc}", Location(source=source)) from None
