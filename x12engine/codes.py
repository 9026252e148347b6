"""Versioned code tables: X12 code <-> PokitDok-style enum name <-> description.

The tables are data files (``maps/codes/<name>.tsv``, format in
``maps/codes/README.md``) so a code list can be updated without touching code:
a user drops a newer ``carc.tsv`` into a directory named by the environment
variable ``X12ENGINE_CODES_PATH`` and it wins over the bundled file.

Every malformed file fails on load with a :class:`CodeTableError` naming the
file and line, never half-way through converting a user's document.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .errors import Location, X12Error
from .resources import maps_dir

ENV_VAR = "X12ENGINE_CODES_PATH"

#: Columns every table has, in the order the bundled files use.
COLUMNS: tuple[str, ...] = ("code", "enum", "description", "status", "start", "stop", "notes")
#: Optional extra column: comma-separated names also accepted for JSON -> X12.
OPTIONAL_COLUMNS: tuple[str, ...] = ("aliases",)
#: Metadata keys every table must carry exactly once.
REQUIRED_META: tuple[str, ...] = ("table", "element", "title", "list_version", "source")
#: Provenance values of the ``status`` column (see maps/codes/README.md).
STATUSES: frozenset[str] = frozenset(
    {"documented", "derived", "derived?", "proposed", "unresolved", "description-as-value"}
)

_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_ENUM_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CodeTableError(X12Error):
    """A code table is missing or malformed (bad column count, duplicate code or enum...)."""


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One code of a table; ``enum`` is None for description-only lists (CARC, RARC, 507, 508)."""

    code: str
    enum: str | None
    description: str
    status: str
    aliases: tuple[str, ...] = ()
    start: str | None = None  # ISO date the code became valid, when the list records it
    stop: str | None = None  # ISO date the code was retired, when the list records it
    notes: str = ""


@dataclass(frozen=True, slots=True)
class CodeTable:
    """A loaded table with lookups both ways; enum lookups accept aliases."""

    name: str
    element: str
    title: str
    list_version: str
    source: str
    path: Path
    entries: tuple[CodeEntry, ...]
    meta: Mapping[str, tuple[str, ...]] = field(repr=False, compare=False)
    _by_code: Mapping[str, CodeEntry] = field(repr=False, compare=False)
    _by_enum: Mapping[str, CodeEntry] = field(repr=False, compare=False)

    def entry(self, code: str) -> CodeEntry | None:
        """The row for an X12 code, or None when the list does not have it."""
        return self._by_code.get(code)

    def enum_for(self, code: str) -> str | None:
        """X12 -> JSON: the enum name; None when unknown or the list is description-only."""
        e = self._by_code.get(code)
        return e.enum if e is not None else None

    def enum_by_code(self) -> dict[str, str]:
        """Code → enum name for every code that has one (``enum_for`` as one dict, for
        readers that look up many values)."""
        return {c: e.enum for c, e in self._by_code.items() if e.enum is not None}

    def description_by_code(self) -> dict[str, str]:
        """code -> description, for the codes that have one (what ``describe`` answers, as one
        dict for readers that look up many values)."""
        return {c: e.description for c, e in self._by_code.items() if e.description}

    def code_for(self, enum: str) -> str | None:
        """JSON -> X12: the code for an enum name or one of its aliases; None when unknown."""
        e = self._by_enum.get(enum)
        return e.code if e is not None else None

    def describe(self, code: str) -> str | None:
        """The code list's description; None when unknown or the list has no text for it."""
        e = self._by_code.get(code)
        return (e.description or None) if e is not None else None

    def enums(self) -> tuple[str, ...]:
        """Enum names in file order (aliases excluded)."""
        return tuple(e.enum for e in self.entries if e.enum is not None)

    def codes(self) -> tuple[str, ...]:
        """Codes in file order."""
        return tuple(e.code for e in self.entries)

    def notes(self) -> tuple[str, ...]:
        """The table-level ``# note:`` lines (decisions, caveats)."""
        return self.meta.get("note", ())

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self.entries)


def search_path() -> tuple[Path, ...]:
    """Directories searched in order: each entry of $X12ENGINE_CODES_PATH, then the bundled maps/codes."""
    dirs = [Path(p).expanduser() for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    dirs.append(maps_dir() / "codes")
    return tuple(dirs)


def table_names() -> tuple[str, ...]:
    """Every table name found on the search path, sorted."""
    names: set[str] = set()
    for d in search_path():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.tsv") if _NAME_RE.match(p.stem))
    return tuple(sorted(names))


def find_table(name: str) -> Path:
    """The file that would be loaded for ``name``: the first hit on the search path."""
    if not _NAME_RE.match(name):
        raise CodeTableError(f"invalid code table name {name!r} (expected lower_snake_case)")
    dirs = search_path()
    for d in dirs:
        candidate = d / f"{name}.tsv"
        if candidate.is_file():
            return candidate
    raise CodeTableError(f"no code table {name!r} in {', '.join(str(d) for d in dirs)}")


_CACHE: dict[tuple[str, tuple[Path, ...]], CodeTable] = {}


def load_table(name: str) -> CodeTable:
    """Load (once per process and search path) the table called ``name``."""
    key = (name, search_path())
    table = _CACHE.get(key)
    if table is None:
        table = read_table(find_table(name))
        _CACHE[key] = table
    return table


def clear_cache() -> None:
    """Forget loaded tables, e.g. after replacing a file on disk."""
    _CACHE.clear()


def read_table(path: Path) -> CodeTable:
    """Parse and check one table file; raises CodeTableError naming file and line."""
    path = Path(path)
    source = str(path)

    def fail(message: str, line: int | None) -> CodeTableError:
        return CodeTableError(message, Location(source=source, line=line))

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 ({exc.reason})", None) from None
    except OSError as exc:
        raise fail(f"cannot read ({exc.strerror})", None) from None

    meta: dict[str, list[str]] = {}
    meta_lines: dict[str, int] = {}
    header: list[str] | None = None
    header_line = 0
    entries: list[CodeEntry] = []
    by_code: dict[str, CodeEntry] = {}
    by_enum: dict[str, CodeEntry] = {}
    code_lines: dict[str, int] = {}
    enum_lines: dict[str, int] = {}

    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue
        if header is None:
            if line.startswith("#"):
                body = line[1:].strip()
                key, sep, value = body.partition(":")
                key = key.strip()
                if not sep or not key:
                    raise fail("metadata line must read '# key: value'", lineno)
                if key in meta and key in REQUIRED_META:
                    raise fail(f"metadata {key!r} given twice (first on line {meta_lines[key]})", lineno)
                meta.setdefault(key, []).append(value.strip())
                meta_lines.setdefault(key, lineno)
                continue
            header = line.split("\t")
            header_line = lineno
            missing = [c for c in COLUMNS if c not in header]
            unknown = [c for c in header if c not in COLUMNS and c not in OPTIONAL_COLUMNS]
            if missing or unknown or len(set(header)) != len(header):
                raise fail(
                    f"header must name the columns {', '.join(COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)});"
                    f" missing {missing or 'none'}, unknown {unknown or 'none'}",
                    lineno,
                )
            continue
        if line.startswith("#"):
            continue  # comment among the rows
        fields = line.split("\t")
        if len(fields) != len(header):
            raise fail(f"{len(fields)} columns, the header on line {header_line} has {len(header)}", lineno)
        row = dict(zip(header, (f.strip() for f in fields)))
        code = row["code"]
        if not code:
            raise fail("empty code", lineno)
        if code in by_code:
            raise fail(f"duplicate code {code!r} (first on line {code_lines[code]})", lineno)
        status = row["status"]
        if status not in STATUSES:
            raise fail(f"status {status!r} for code {code!r} is not one of {', '.join(sorted(STATUSES))}", lineno)
        for col in ("start", "stop"):
            if row[col] and not _DATE_RE.match(row[col]):
                raise fail(f"{col} {row[col]!r} for code {code!r} is not a YYYY-MM-DD date", lineno)
        enum = row["enum"] or None
        aliases = tuple(a.strip() for a in row.get("aliases", "").split(",") if a.strip())
        if aliases and enum is None:
            raise fail(f"code {code!r} has aliases but no enum", lineno)
        for name in ((enum,) if enum else ()) + aliases:
            if not _ENUM_RE.match(name):
                raise fail(f"enum {name!r} for code {code!r} is not lower_snake_case", lineno)
            if name in by_enum:
                raise fail(
                    f"duplicate enum {name!r} for code {code!r}"
                    f" (already code {by_enum[name].code!r} on line {enum_lines[name]})",
                    lineno,
                )
        entry = CodeEntry(
            code=code,
            enum=enum,
            description=row["description"],
            status=status,
            aliases=aliases,
            start=row["start"] or None,
            stop=row["stop"] or None,
            notes=row["notes"],
        )
        entries.append(entry)
        by_code[code] = entry
        code_lines[code] = lineno
        for name in ((enum,) if enum else ()) + aliases:
            by_enum[name] = entry
            enum_lines[name] = lineno

    if header is None:
        raise fail("no header row (expected after the '# key: value' metadata lines)", None)
    for key in REQUIRED_META:
        if not meta.get(key) or not meta[key][0]:
            raise fail(f"missing metadata line '# {key}: ...'", 1)
    if meta["table"][0] != path.stem:
        raise fail(f"'# table: {meta['table'][0]}' does not match the file name {path.name!r}", meta_lines["table"])

    return CodeTable(
        name=meta["table"][0],
        element=meta["element"][0],
        title=meta["title"][0],
        list_version=meta["list_version"][0],
        source=meta["source"][0],
        path=path,
        entries=tuple(entries),
        meta=MappingProxyType({k: tuple(v) for k, v in meta.items()}),
        _by_code=MappingProxyType(by_code),
        _by_enum=MappingProxyType(by_enum),
    )
