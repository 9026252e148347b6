"""Atomic output files: a reader of OUT sees the old file, the whole new one, or nothing.

Data goes to a hidden temp file in OUT's directory (same file system, so the
rename is atomic) and replaces OUT only once it is complete. An exception
removes the temp file; a process killed outright leaves it behind under a
recognisable name, which :func:`remove_stale_temps` sweeps later. That holds
against interrupted and killed processes; surviving a power loss as well needs
``fsync=True`` (about 10 ms a file here, so batch runs do not ask for it).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

TEMP_SUFFIX = ".part"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would have given the file


def temp_prefix(out: Path) -> str:
    return f".{out.name}."


@contextlib.contextmanager
def atomic_open(out: Path, mode: str = "w", *, encoding: str | None = "utf-8", errors: str | None = None,
                newline: str | None = None, fsync: bool = False) -> Iterator[IO]:
    """Open a temp file next to ``out``; on a clean exit it becomes ``out``."""
    out = Path(out)
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=temp_prefix(out), suffix=TEMP_SUFFIX)
    try:
        os.fchmod(fd, _FILE_MODE)
        kw = {} if binary else {"encoding": encoding, "errors": errors, "newline": newline}
        with os.fdopen(fd, mode, **kw) as fh:
            yield fh
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(out: Path, data: bytes) -> None:
    """Write all of ``data`` to ``out`` atomically."""
    with atomic_open(out, "wb") as fh:
        fh.write(data)


def remove_stale_temps(out: Path) -> int:
    """Remove temp files a killed writer of ``out`` left behind; returns how many."""
    out = Path(out)
    n = 0
    if not out.parent.is_dir():
        return 0
    for p in out.parent.glob(f"{_glob_escape(temp_prefix(out))}*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            p.unlink()
            n += 1
    return n


def _glob_escape(s: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in s)
