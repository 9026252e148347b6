"""Typed errors.

Every error that reaches a user names *where* (file, interchange/group/transaction
control numbers, segment position, line, byte offset, loop, element) and *what*.
Messages never carry element values: those may be PHI.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Location:
    """Where something happened in an X12 stream; every field optional."""

    source: str | None = None
    interchange: str | None = None  # ISA13
    group: str | None = None  # GS06
    transaction: str | None = None  # ST02
    segment_index: int | None = None  # 1-based position in the file
    line: int | None = None  # 1-based
    offset: int | None = None  # byte offset of the segment's first byte
    segment_id: str | None = None
    loop: str | None = None
    element: str | None = None  # e.g. NM1-09 or SV1-01-2

    def describe(self) -> str:
        parts: list[str] = []
        if self.source:
            parts.append(self.source)
        if self.interchange is not None:
            parts.append(f"ISA13={self.interchange}")
        if self.group is not None:
            parts.append(f"GS06={self.group}")
        if self.transaction is not None:
            parts.append(f"ST02={self.transaction}")
        if self.segment_index is not None:
            parts.append(f"segment {self.segment_index}")
        if self.segment_id:
            parts.append(self.segment_id)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.loop:
            parts.append(f"loop {self.loop}")
        if self.element:
            parts.append(self.element)
        return ", ".join(parts)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


class X12Error(Exception):
    """Base of every error x12engine raises on purpose."""

    def __init__(self, message: str, location: Location | None = None, code: str | None = None):
        self.message = message
        self.location = location or Location()
        self.code = code
        where = self.location.describe()
        super().__init__(f"{where}: {message}" if where else message)


class X12SyntaxError(X12Error):
    """The bytes are not X12: no ISA, bad delimiters, truncated interchange, garbage."""


class GrammarError(X12Error):
    """A grammar file is malformed or inconsistent."""


class BuildError(X12Error):
    """A tree or model cannot be written as X12."""


@dataclass(slots=True)
class Finding:
    """A non-fatal problem met while reading: kept, reported, never dropped."""

    severity: str  # "error" | "warning"
    code: str  # short machine code, e.g. "unexpected_segment"
    message: str
    location: Location = field(default_factory=Location)

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            **self.location.to_dict(),
        }

    def __str__(self) -> str:
        where = self.location.describe()
        return f"{self.severity}: {where}: {self.message}" if where else f"{self.severity}: {self.message}"
