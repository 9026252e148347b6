"""x12engine: an ASC X12 5010 health-care EDI translation engine.

Data flows one way: bytes → tokens (:mod:`.tokenizer`) → loop tree (:mod:`.parser`)
→ JSON, and back through :mod:`.tree` and :mod:`.writer`.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import BuildError, Finding, GrammarError, Location, X12Error, X12SyntaxError
from .parser import Context, Reader, iter_transactions, parse
from .tokenizer import Delimiters, Tokenizer, tokenize
from .tree import Document, document_from_json, document_to_json
from .writer import to_bytes, write_document

__all__ = [
    "BuildError", "Context", "Delimiters", "Document", "Finding", "GrammarError", "Location", "Reader",
    "Tokenizer", "X12Error", "X12SyntaxError", "document_from_json", "document_to_json",
    "iter_transactions", "parse", "to_bytes", "tokenize", "write_document",
]
