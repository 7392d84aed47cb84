"""A dependency-free progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """Call :meth:`update` with (done, total); :meth:`close` ends the line."""

    def __init__(self, label: str, *, unit: str = "", width: int = 30, stream=None):
        self.label, self.unit, self.width = label, unit, width
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.drawn = False
        self.last = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        if not self.stream.isatty():
            return
        share = done / total if total else 1.0
        filled = int(self.width * share)
        elapsed = now - self.started
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {share:6.1%} "
            f"{done:,}/{total:,} {self.unit} {elapsed:5.1f}s"
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
