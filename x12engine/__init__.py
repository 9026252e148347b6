"""x12engine: an ASC X12 5010 health-care EDI translation engine.

Data flows one way: bytes → tokens (:mod:`.tokenizer`) → loop tree (:mod:`.parser`)
→ semantic JSON (:mod:`.mapread`, driven by ``maps/``), and back through
:mod:`.mapbuild`, :mod:`.assemble` and :mod:`.writer`. :mod:`.convert` holds the
one-call functions.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import BuildError, Finding, GrammarError, Location, X12Error, X12SyntaxError
from .parser import Context, Reader, iter_transactions, iter_units, parse
from .tokenizer import Delimiters, Tokenizer, tokenize
from .tree import Document, document_from_json, document_to_json
from .writer import to_bytes, write_document
from .assemble import EnvelopeSettings
from .convert import iter_models, to_models, to_x12
from .models import model_for, schema_for
from .profile import ProfileError, iter_profile, load_profile, profile_names, to_profile

__all__ = [
    "BuildError", "Context", "Delimiters", "Document", "EnvelopeSettings", "Finding", "GrammarError", "Location",
    "Reader", "Tokenizer", "X12Error", "X12SyntaxError", "document_from_json", "document_to_json",
    "ProfileError", "iter_profile", "load_profile", "profile_names", "to_profile",
    "iter_models", "iter_transactions", "iter_units", "model_for", "parse", "schema_for", "to_bytes", "to_models", "to_x12",
    "tokenize", "write_document",
]
