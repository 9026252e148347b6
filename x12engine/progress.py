"""A one-line progress display for batch runs (files, segments, rate, ETA) on a terminal.

The ETA comes from bytes, which are known for every file up front; segments are
only known as workers report them.
"""
from __future__ import annotations

import time
from typing import Any, TextIO

from .batch import Result


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class ProgressLine:
    """Redraws one status line on ``stream`` at most every ``interval`` seconds."""

    def __init__(self, stream: TextIO, files: int, total_bytes: int, interval: float = 0.2):
        self.stream = stream
        self.files = files
        self.total_bytes = max(total_bytes, 1)
        self.interval = interval
        self.start = time.monotonic()
        self.last_draw = 0.0
        self.done = self.failed = 0
        self.done_bytes = self.done_segments = 0
        self.partial: dict[int, tuple[int, int]] = {}  # task index -> (segments, bytes) so far
        self.width = 0

    def event(self, kind: str, payload: Any) -> None:
        if kind == "progress":
            index, segments, offset = payload
            self.partial[index] = (segments, offset)
        elif kind == "done":
            r: Result = payload
            self.partial.pop(r.index, None)
            self.done += 1
            self.failed += r.status == "failed"
            self.done_bytes += r.bytes
            self.done_segments += r.segments
        self.draw()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        segments = self.done_segments + sum(s for s, _ in self.partial.values())
        done = min(self.done_bytes + sum(b for _, b in self.partial.values()), self.total_bytes)
        rate = segments / elapsed
        eta = (self.total_bytes - done) / (done / elapsed) if done else None
        parts = [f"{self.done}/{self.files} files"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        parts += [f"{segments:,} segments", f"{rate:,.0f} seg/s", f"{100 * done / self.total_bytes:3.0f}%",
                  f"ETA {_clock(eta) if eta is not None else '?'}"]
        return "  ".join(parts)

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        text = self.line()
        pad = max(self.width - len(text), 0)
        self.width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        self.draw(force=True)
        self.stream.write("\n")
        self.stream.flush()
